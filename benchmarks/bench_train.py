"""Training speed of CIFAR ResNet-18 with each method against the backbone-only limit, measured in one run.

    python benchmarks/bench_train.py                    # CPU: batch 32, 1 thread, CPU-time clock (a few minutes at most)
    python benchmarks/bench_train.py --device cuda      # GPU: batch 512, bf16 autocast, channels_last, wall clock
    python benchmarks/bench_train.py --device cuda --compile --batch 256
    python benchmarks/bench_train.py --device cuda --epoch-methods dot ghmlc ahmlc --serial-too   # the prefetch's gain

Model: `create_model('resnet18', in_channels=3)` + projection head (the `cifar100-resnet18` preset's), 32x32 RGB,
2 views per image, SGD with momentum; autocast and channels_last as `Trainer` sets them (`--amp auto`: bf16 on a GPU,
none on a CPU). Data: a CIFAR-100-sized fake set (random uint8 images, labels of a 20 -> 100 tree) in memory.

1. One training step (forward, loss, backward, optimizer step) on a fixed batch of augmented views, for each method
   (`make_criterion`, the losses `Trainer` uses) against the *limit*: the same step whose loss is only a dot product
   of the projections with a fixed vector (the backbone's own forward+backward and the optimizer). Ratio = step time /
   limit step time (target on a GPU: G-HMLC and A-HMLC within 1.15x of SupCon, the `x supcon` column).
2. The whole epoch loop: `Trainer.fit` (hmlc_nb.train) on the in-memory set, with its on-device fast path (batched
   `GPUAugment` crops, colour, flips), checkpoints off, for `--epoch-methods`; 'dot' is the `Trainer` with the
   dot-product loss, which isolates the loop's own cost. Images/second (views: 2 per sample, as `Trainer` logs them)
   against the limit's images/second (target on a GPU: >= 85%). The `Trainer` draws the next batch while the step
   runs (on CUDA on a side stream); `--serial-too` also times each epoch method with `prefetch=False` ('name:serial').
Times: medians of interleaved runs (`--clock auto`: process CPU time on a CPU, with 1 torch thread, so other processes
on the machine do not count; wall time on a GPU, synchronized).
"""
import argparse, warnings
import torch
import torch.nn as nn
import torch.nn.functional as F
import copy
from _timing import CLOCKS, interleaved, medians, header, resolve_clock, time_call
from hmlc_nb.hierarchy import Hierarchy
from hmlc_nb.models import create_model
from hmlc_nb.config import get_config
from hmlc_nb.augment import make_augment
from hmlc_nb.train import make_criterion, make_optimizer, Trainer

METHODS = ('supcon', 'hmce', 'ghmlc', 'ahmlc', 'simclr')


class FakeCIFAR(torch.utils.data.Dataset):
    "CIFAR-100-sized in-memory data for the fast path: random uint8 images `.data` `[N, 3, S, S]`, paths `.targets` `[N, 2]`."
    def __init__(self, n, size=32, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.hierarchy = Hierarchy.from_parents([f // 5 for f in range(100)])      # 20 coarse x 5 fine classes
        leaf = torch.randint(0, self.hierarchy.n_leaves, (n,), generator=g)
        self.targets = self.hierarchy.leaf_paths[leaf]
        self.data = torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8, generator=g)
    def __len__(self): return len(self.data)
    def __getitem__(self, i): return self.data[i].float() / 255, self.targets[i]


class DotLoss(nn.Module):
    "The limit's loss: a dot product of the normalized projections with a fixed vector, so gradients reach every weight.\n\n    Normalized as every contrastive loss normalizes them: a dot product with raw projections has no minimum, and its\n    steps drive the weights to infinity within a few dozen steps at batch 512."
    def __init__(self, dim, seed=0):
        super().__init__()
        self.register_buffer('w', torch.randn(dim, generator=torch.Generator().manual_seed(seed)) / dim ** 0.5)
    def forward(self, feats, z, paths): return (F.normalize(z, dim=-1) * self.w).sum() / z.shape[0]
    def stats(self): return {}


def bench_config(a, method='supcon'):
    "The `cifar100-resnet18` preset at the benchmark's sizes (lr small: random data, no warm-up; speed is unaffected)."
    return get_config('cifar100-resnet18', method=method, device=a.device, batch_size=a.batch, n_train=0, n_test=0,
                      epochs=1, warmup_epochs=0.0, lr=0.01, amp=a.amp, channels_last=a.channels_last,
                      compile=a.compile, augment='crop', num_workers=0, progress=False, seed=0,
                      deterministic=a.deterministic)


def amp_dtype(cfg, dev):
    amp = cfg.amp if cfg.amp != 'auto' else ('bf16' if dev.type == 'cuda' else 'none')
    return dict(bf16=torch.bfloat16, fp16=torch.float16).get(amp)


def step_fns(a, dev, ds):
    "One training step per method and for the limit: each its own copy of one initial model and its own optimizer."
    cfg = bench_config(a)
    model0 = create_model(cfg.encoder, cfg.in_channels, proj_dim=cfg.proj_dim,
                          channels_last=cfg.channels_last).to(dev)
    x = make_augment(cfg)(ds.data[:a.batch].to(dev))                  # [B, V, 3, 32, 32] augmented views
    paths = ds.targets[:a.batch].to(dev)
    dt = amp_dtype(cfg, dev)
    crits = {'limit': DotLoss(model0.proj_dim)}
    for m in a.methods: crits[m] = make_criterion(cfg.replace(method=m), ds.hierarchy, model0.feat_dim, model0.proj_dim)

    def make(crit):
        crit, model = crit.to(dev), copy.deepcopy(model0)                # a method's steps never move another's weights
        fwd = torch.compile(model) if cfg.compile else model
        model.train()
        opt = make_optimizer(cfg, list(model.parameters()) + list(crit.parameters()))
        def step():
            with torch.autocast(dev.type, dtype=dt or torch.float32, enabled=dt is not None):
                feats, z = fwd(x)
            loss = crit(feats.float(), z.float(), paths)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return step
    fns = {k: make(c) for k, c in crits.items()}
    aug, xb = make_augment(cfg), ds.data[:a.batch].to(dev)
    fns['augment'] = lambda: aug(xb)                                  # the fast path's batched augmentation alone
    return fns, dt


def quiet(*args, **kw): pass


def epoch_times(a, dev, clock, train, test):
    "Seconds per `Trainer` epoch of each of `--epoch-methods`, epochs interleaved across the trainers: {name: [s]}."
    trainers = {}
    for m in a.epoch_methods:
        for prefetch in ((True, False) if a.serial_too else (True,)):
            cfg = bench_config(a, 'supcon' if m == 'dot' else m)
            crit = DotLoss(cfg.proj_dim) if m == 'dot' else None
            trainers[m if prefetch else f'{m}:serial'] = Trainer(cfg, data=(train, test), criterion=crit, log=quiet,
                                                                  prefetch=prefetch)
    times = {m: [] for m in trainers}
    for r in range(a.epoch_warmup + a.epoch_repeats):
        for m, tr in trainers.items():
            tr.cfg = tr.cfg.replace(epochs=tr.epoch + 1)                 # fit() runs exactly one more epoch
            t = time_call(tr.fit, dev, clock=clock)
            if r >= a.epoch_warmup: times[m].append(t)
    return times, {m: tr.batches.n_batches for m, tr in trainers.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    ap.add_argument('--clock', choices=['auto', *CLOCKS], default='auto', help="'auto': cpu time on CPU, wall on GPU")
    ap.add_argument('--batch', type=int, default=None, help='samples per step (2 views each); default 32 CPU, 512 GPU')
    ap.add_argument('--methods', nargs='+', default=list(METHODS), choices=METHODS)
    ap.add_argument('--repeats', type=int, default=None, help='timed steps per method; default 3 CPU, 20 GPU')
    ap.add_argument('--warmup', type=int, default=None, help='untimed steps per method first; default 1 CPU, 5 GPU')
    ap.add_argument('--epoch-methods', nargs='*', default=None, choices=['dot', *METHODS],
                    help="methods whose Trainer epochs are timed; default CPU: dot ghmlc, GPU: dot and all")
    ap.add_argument('--epoch-steps', type=int, default=None, help='steps per epoch; default 2 CPU, 40 GPU')
    ap.add_argument('--epoch-repeats', type=int, default=None, help='timed epochs per method; default 2 CPU, 3 GPU')
    ap.add_argument('--epoch-warmup', type=int, default=1, help='untimed epochs per method first')
    ap.add_argument('--serial-too', action='store_true',
                    help="also time each epoch method with Trainer(prefetch=False) (row 'name:serial'): the next batch "
                         "drawn after the step, not while it runs")
    ap.add_argument('--amp', choices=['auto', 'bf16', 'none'], default='auto', help="'auto': bf16 on a GPU, none on a CPU")
    ap.add_argument('--channels-last', action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument('--compile', action='store_true', help='torch.compile the model (step and Trainer)')
    ap.add_argument('--cudnn-benchmark', action='store_true',
                    help='set torch.backends.cudnn.benchmark (the package leaves it off)')
    ap.add_argument('--deterministic', choices=['auto', 'on', 'off'], default='auto',
                    help="Trainer's deterministic kernels ('auto', the package default: on for CPU, off for CUDA)")
    a = ap.parse_args()
    dev = torch.device(a.device)
    gpu = dev.type != 'cpu'
    for k, cpu_v, gpu_v in [('batch', 32, 512), ('repeats', 3, 20), ('warmup', 1, 5), ('epoch_steps', 2, 40),
                            ('epoch_repeats', 2, 3), ('epoch_methods', ['dot', 'ghmlc'], ['dot', *METHODS])]:
        if getattr(a, k) is None: setattr(a, k, gpu_v if gpu else cpu_v)
    torch.set_num_threads(a.threads)
    if a.cudnn_benchmark: torch.backends.cudnn.benchmark = True
    warnings.filterwarnings('ignore', message='.*deterministic.*')
    clock = resolve_clock(a.clock, dev)
    cfg = bench_config(a)
    dt = amp_dtype(cfg, dev)
    header('bench_train', dev, clock, a.threads, model='resnet18', img='3x32x32', views=cfg.n_views, batch=a.batch,
           amp=str(dt).replace('torch.', '') if dt else 'none', channels_last=a.channels_last, compile=a.compile,
           deterministic=a.deterministic, cudnn_benchmark=a.cudnn_benchmark)

    train, test = FakeCIFAR(a.batch * a.epoch_steps, seed=0), FakeCIFAR(a.batch, seed=1)
    fns, _ = step_fns(a, dev, train)
    t = medians(interleaved(fns, a.repeats, a.warmup, dev, clock=clock))
    t_aug = t.pop('augment')
    lim = t['limit']
    views = a.batch * cfg.n_views
    print(f"\n1. one training step (fwd + loss + bwd + SGD step), median of {a.repeats} interleaved steps "
          f"after {a.warmup} warm-up")
    print(f"{'method':8s} {'ms/step':>9s} {'x limit':>8s} {'x supcon':>9s} {'img/s':>8s}")
    for k, v in t.items():
        rs = f"{v / t['supcon']:9.3f}" if 'supcon' in t else f"{'-':>9s}"
        print(f"{k:8s} {1e3 * v:9.1f} {v / lim:8.3f} {rs} {views / v:8.1f}")
    print("x limit = step time / the dot-product step's time; x supcon = step time / the supcon step's time; "
          "img/s = views per second")
    print(f"batched augmentation of one batch (GPUAugment, part of the epoch loop, not of the step): "
          f"{1e3 * t_aug:.1f} ms = {t_aug / lim:.1%} of the limit step")

    if a.epoch_methods:
        times, nb = epoch_times(a, dev, clock, train, test)
        print(f"\n2. the whole epoch loop: Trainer.fit, {a.epoch_steps} steps of {a.batch} samples per epoch, median "
              f"of {a.epoch_repeats} interleaved epochs after {a.epoch_warmup} warm-up")
        print(f"{'method':12s} {'s/epoch':>8s} {'img/s':>8s} {'of limit':>9s} {'of own step':>12s} {'loop ms/step':>13s}")
        for m, ts in medians(times).items():
            ips = nb[m] * views / ts
            base = m.split(':')[0]
            own = t.get('limit' if base == 'dot' else base)
            own_s = f"{nb[m] * own / ts:12.1%} {1e3 * (ts / nb[m] - own):13.1f}" if own else f"{'-':>12s} {'-':>13s}"
            print(f"{m:12s} {ts:8.2f} {ips:8.1f} {ips * lim / views:9.1%} {own_s}")
        print(f"img/s = views per second of the epoch; of limit = img/s / the limit step's img/s ({views / lim:.1f}); "
              f"of own step = the same method's isolated step throughput share ('dot': the limit step); loop ms/step = "
              f"epoch time per step minus that step's time (augmentation, bookkeeping, deterministic kernels)")


if __name__ == '__main__': main()
