import sys, json, time, torch
from hmlc_nb.train import Trainer, get_config
from hmlc_nb import evaluate as ev
method, seed, frac, epochs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
extra = dict(a.split('=') for a in sys.argv[5:])
torch.set_num_threads(1)
if extra.pop('maskpos', None) == 'prefix':
    import hmlc_nb.masking as M
    _orig = M.level_masks
    M.level_masks = lambda *a, **k: _orig(*a, **{**k, 'positives': 'prefix'})
    extra_tag = 'maskpos=prefix'
else: extra_tag = ''
cfg = get_config('digits', method=method, seed=seed, epochs=epochs, progress=False, positives='label', path_weight=1.0)
def cb(tr, ev_):
    if ev_ != "step" or not hasattr(tr.criterion, "masked"): return
    tot = tr.cfg.epochs * tr.batches.n_batches
    m = tr.criterion.masked
    want = 'prefix' if tr.global_step < frac * tot else 'label'
    if m.positives != want: m.positives = want
t0 = time.time()
tr = Trainer(cfg, None, callbacks=[cb])
if hasattr(tr.criterion, "masked"): tr.criterion.masked.positives = "prefix" if frac > 0 else "label"
for k, v in extra.items():
    if k == 'lw': tr.criterion.masked.level_weights.copy_(torch.tensor([float(a) for a in v.split(',')]))
    else: setattr(tr.criterion.masked, k, type(getattr(tr.criterion.masked, k))(v))
tr.fit()
m = ev.evaluate_model(tr.model, tr.train_ds, tr.test_ds, tr.hierarchy, device=tr.device, seed=seed)
out = dict(method=method, seed=seed, frac=frac, epochs=epochs, extra=dict(extra, tag=extra_tag), secs=round(time.time()-t0,1),
           lin={k: round(v*100,1) for k,v in m['encoder']['linear'].items()},
           sil={k: round(v,3) for k,v in m['projection']['silhouette'].items()},
           stats=[{k: v for k, v in h.items() if k.startswith('dims')} for h in tr.history][::3])
print(json.dumps(out)); open('/work/exp/curr.jsonl','a').write(json.dumps(out)+'\n')
