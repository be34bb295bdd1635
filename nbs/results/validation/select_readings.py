# Validation selection of readings: trains on train-minus-val (val_frac 0.1, data_seed fixed), scores on the validation split only.
# Usage: python select_readings.py TAG {hmce,ghmlc,ahmlc,ghmlc+hmce} JSON_KWARGS EPOCHS SEED  (appends one record to readings.jsonl)
import sys, json, time, torch, torch.nn.functional as F
from hmlc_nb.config import get_config
from hmlc_nb.train import Trainer
from hmlc_nb.levels import LossOnZ
from hmlc_nb.masking import GHMLCLoss, AHMLCLoss
import hmlc_nb.evaluate as ev
torch.set_num_threads(1)
tag, kind, kw, epochs, seed = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
swap = len(sys.argv) > 6 and sys.argv[6] == 'swap'
cfg = get_config('digits', epochs=epochs, seed=seed, progress=False, method='hmce' if kind == 'hmce' else 'supcon')
T = cfg.temperature
crit = None
if kind == 'ghmlc': crit = LossOnZ(GHMLCLoss(2, temperature=T, base_temperature=T, **kw))
if kind == 'ghmlc+hmce':
    from hmlc_nb.losses import hmlc_loss, with_instance_ids
    hw = kw.pop('hmce_weight', 1.0)
    class Plus(torch.nn.Module):
        def __init__(s):
            super().__init__(); s.loss = GHMLCLoss(2, temperature=T, base_temperature=T, **kw)
        def forward(s, feats, z, paths):
            return s.loss(z, paths) + hw * hmlc_loss(F.normalize(z.float(), dim=-1), with_instance_ids(paths), 'hmce', temperature=T, base_temperature=T)
        def stats(s): return {k: float(v) for k, v in s.loss.last_stats.items() if k != 'loss'}
    crit = Plus()
if kind == 'ahmlc': crit = LossOnZ(AHMLCLoss(cfg.proj_dim, 2, temperature=T, base_temperature=T, **kw))
t0 = time.time()
from hmlc_nb.data import make_datasets
trn, val, te = make_datasets(cfg, with_val=True)
if swap:
    for s in (trn, val): s.targets = s.targets.flip(1)
tr = Trainer(cfg, data=(trn, val), criterion=crit, log=lambda *a: None).fit()
ftr, ztr, ptr = ev.extract_features(tr.model, trn); fva, zva, pva = ev.extract_features(tr.model, val)
nc = [int(ptr[:, h].max()) + 1 for h in range(2)]
r = dict(tag=tag, kind=kind, kw=kw, epochs=epochs, seed=seed, swap=swap, secs=round(time.time() - t0), n_train=len(trn), n_val=len(val))
r['lin'] = ev.linear_eval(ftr, ptr, fva, pva, nc, epochs=50, leaf=False)['acc']
zn_tr, zn_va = F.normalize(ztr, dim=1), F.normalize(zva, dim=1)
r['sil'] = [float(v) for v in ev.silhouette_per_level(zn_va, pva)]
try:
    m = ev.masks_for(tr.criterion, ztr, ptr)
    if callable(m) or not isinstance(m, torch.Tensor): m = ev.masks_for(tr.criterion if kind=='ahmlc' else None, ztr, ptr)
    s = ev.selectivity(ztr, ptr, zva, pva, m, n_classes=nc, epochs=50)
    r['sel'] = {k: s[k] for k in ('acc_all', 'acc_own', 'acc_other', 'n_own')}
except Exception as e: r['sel'] = repr(e)
r['hist_last'] = {k: v for k, v in tr.history[-1].items() if k.startswith(('dims', 'mask', 'share'))}
r['dims_traj'] = [[h.get(f'dims_{l}') for l in range(2)] for h in tr.history]
r.update(split='validation (val_frac 0.1 of the training data, data_seed 0)', date=time.strftime('%Y-%m-%d'),
         device=f'{__import__("os").cpu_count()}-core CPU, {torch.get_num_threads()} thread' if not torch.cuda.is_available() else torch.cuda.get_device_name())
print(json.dumps(r)); open(__import__('pathlib').Path(__file__).with_name('readings.jsonl'), 'a').write(json.dumps(r) + '\n')
