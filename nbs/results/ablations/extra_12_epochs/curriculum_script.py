"Single G-HMLC runs with a curriculum switched by a callback (the records in runs.jsonl); usage: method seed frac epochs [maskpos=prefix] [attr=value ...]."
import sys, json, time, torch
from pathlib import Path
from hmlc_nb.config import get_config
from hmlc_nb.train import Trainer
from hmlc_nb.levels import LossOnZ
from hmlc_nb import evaluate as ev
method, seed, frac, epochs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
extra = dict(a.split('=') for a in sys.argv[5:])
torch.set_num_threads(1)
maskpos = extra.pop('maskpos', None)  # 'prefix': the masks' relevance scores read the prefix groups throughout
extra_tag = f'maskpos={maskpos}' if maskpos else ''
cfg = get_config('digits', method=method, seed=seed, epochs=epochs, progress=False, positives='label', path_weight=1.0,
                 prefix_until=0.0, mask_positives=maskpos, val_frac=0.0)  # as recorded: the callback switches; no validation split
def cb(tr, ev_):
    if ev_ != "step" or not isinstance(tr.criterion.loss, LossOnZ): return
    tot = tr.cfg.epochs * tr.batches.n_batches
    m = tr.criterion.loss.loss
    want = 'prefix' if tr.global_step < frac * tot else 'label'
    if m.positives != want: m.positives = want
t0 = time.time()
tr = Trainer(cfg, None, callbacks=[cb])
if isinstance(tr.criterion.loss, LossOnZ): tr.criterion.loss.loss.positives = "prefix" if frac > 0 else "label"
for k, v in extra.items():
    if k == 'lw': tr.criterion.loss.loss.level_weights.copy_(torch.tensor([float(a) for a in v.split(',')]))
    else: setattr(tr.criterion.loss.loss, k, type(getattr(tr.criterion.loss.loss, k))(v))
tr.fit()
m = ev.evaluate_model(tr.model, tr.train_ds, tr.test_ds, tr.hierarchy, device=tr.device, seed=seed)
out = dict(method=method, seed=seed, frac=frac, epochs=epochs, extra=dict(extra, tag=extra_tag), secs=round(time.time()-t0,1),
           lin={k: round(v*100,1) for k,v in m['encoder']['linear'].items()},
           sil={k: round(v,3) for k,v in m['projection']['silhouette'].items()},
           stats=[{k: v for k, v in h.items() if k.startswith('dims')} for h in tr.history][::3])
print(json.dumps(out)); open(Path(__file__).parent / 'runs.jsonl', 'a').write(json.dumps(out)+'\n')
