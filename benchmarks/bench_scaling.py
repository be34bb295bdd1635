"""How the hierarchical losses grow with the batch size B, measured in one run.

    python benchmarks/bench_scaling.py                         # CPU: 1 thread, CPU-time clock, B = 256 .. 2048
    python benchmarks/bench_scaling.py --sizes 256 512 1024    # cap the sizes (a slow or busy CPU)
    python benchmarks/bench_scaling.py --device cuda           # GPU: wall clock, B = 256 .. 2048

Forward+backward of one call of each loss, median of `--repeats` interleaved runs, V views of D dimensions, labels
from a 4 -> 20 -> 100 class tree:
- `supcon_loss` on the fine labels (= the full path in a tree): the plain SupCon every other loss is compared with;
- `hmlc_loss` (HMCE) on [coarse, mid, fine, instance id] (L = 4, the way its authors run it);
- `reference_hmlc` (the test oracle in tests/oracles.py), the reference HMLC algorithm step by step (a Python loop
  stacking one mask row per sample, tiled [BV, BV] masks, one SupCon per level) on the same labels: the naive loop
  the others are compared with;
- `GHMLCLoss(3)` (relevance scores, warm-started GMM, Hungarian matching, 3 masked levels + the path term) and
  `AHMLCLoss(D, 3)` (attention heads, 3 soft-masked levels), defaults, on raw projections and [coarse, mid, fine].
The reference is skipped at a size where its time extrapolated from the previous size (x `--ref-growth` per
doubling) would exceed `--ref-budget` seconds per call; the table says so.

Prints the times, each loss's ratio to SupCon and to the reference (loss time / baseline time: > 1 is slower), and
the growth per doubling of B, t(B) / t(B/2): 4 is quadratic (the [BV, BV] similarity matrix dominates), 2 linear.
"""
import argparse, math, sys
from pathlib import Path
import torch
import torch.nn.functional as F
from _timing import CLOCKS, interleaved, medians, header, resolve_clock
from bench_losses import make_batch
from hmlc_nb.losses import hmlc_loss, supcon_loss
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'tests'))
from oracles import reference_hmlc  # the test oracle (tests/oracles.py)
from hmlc_nb.masking import GHMLCLoss, AHMLCLoss

LOSSES = ('supcon', 'hmlc', 'reference', 'G-HMLC', 'A-HMLC')


def loss_fns(B, V, D, T, device, seed=0):
    "Zero-arg callables returning each loss on one batch (leaf tensors with gradients, fresh loss modules)."
    feats, labels = make_batch(B, V, D, device, seed)            # labels [B, 4]: coarse, mid, fine, instance id
    paths, fine = labels[:, :3], labels[:, 2]
    f = feats.clone().requires_grad_()
    z = torch.randn(B, V, D, generator=torch.Generator().manual_seed(seed + 1)).to(device).requires_grad_()
    g_loss = GHMLCLoss(3, temperature=T, base_temperature=T).to(device)
    a_loss = AHMLCLoss(D, 3, temperature=T, base_temperature=T).to(device)
    return {'supcon': lambda: supcon_loss(f, fine, temperature=T, base_temperature=T),
            'hmlc': lambda: hmlc_loss(f, labels, 'hmce', T, T),
            'reference': lambda: reference_hmlc(f, labels, 'hmce', T, T),
            'G-HMLC': lambda: g_loss(z, paths),
            'A-HMLC': lambda: a_loss(z, paths)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    ap.add_argument('--clock', choices=['auto', *CLOCKS], default='auto', help="'auto': cpu time on CPU, wall on GPU")
    ap.add_argument('--sizes', type=int, nargs='+', default=[256, 512, 1024, 2048])
    ap.add_argument('--views', type=int, default=2)
    ap.add_argument('--dim', type=int, default=128)
    ap.add_argument('--temperature', type=float, default=0.1)
    ap.add_argument('--repeats', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--ref-budget', type=float, default=5.0, help='seconds per reference call above which it is skipped')
    ap.add_argument('--ref-growth', type=float, default=4.0, help='assumed growth of the reference per doubling of B')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    clock = resolve_clock(a.clock, dev)
    header('bench_scaling', dev, clock, a.threads, V=a.views, D=a.dim, T=a.temperature, repeats=a.repeats,
           warmup=a.warmup, timed='forward+backward')
    cols = ' '.join(f'{k + " ms":>12s}' for k in LOSSES)
    print(f"\n{'B':>5s} {cols}")
    rows, prev_ref, prev_B = {}, None, None
    for B in sorted(a.sizes):
        fns = loss_fns(B, a.views, a.dim, a.temperature, dev)
        skip = None
        if prev_ref is not None:
            guess = prev_ref * a.ref_growth ** math.log2(B / prev_B)
            if guess > a.ref_budget: skip = guess
        elif prev_B is not None: skip = float('inf')                  # skipped at the previous size: skip on
        if skip is not None: del fns['reference']
        t = medians(interleaved(fns, a.repeats, a.warmup, dev, backward=True, clock=clock))
        rows[B] = t
        prev_ref, prev_B = t.get('reference'), B
        cells = [f"{1e3 * t[k]:12.2f}" if k in t else f"{'skipped':>12s}" for k in LOSSES]
        print(f"{B:5d} {' '.join(cells)}" + (f"   (reference predicted {skip:.1f} s > --ref-budget {a.ref_budget} s)"
                                              if skip is not None and math.isfinite(skip) else ''), flush=True)

    print("\nratio = loss time / baseline time (> 1: slower than the baseline)")
    print(f"{'B':>5s} {'hmlc/supcon':>12s} {'G/supcon':>9s} {'A/supcon':>9s} {'hmlc/ref':>9s} {'G/ref':>7s} {'A/ref':>7s}")
    for B, t in rows.items():
        r = lambda k, base: f"{t[k] / t[base]:.2f}" if base in t else '-'
        print(f"{B:5d} {r('hmlc', 'supcon'):>12s} {r('G-HMLC', 'supcon'):>9s} {r('A-HMLC', 'supcon'):>9s} "
              f"{r('hmlc', 'reference'):>9s} {r('G-HMLC', 'reference'):>7s} {r('A-HMLC', 'reference'):>7s}")

    print("\ngrowth per doubling of B: t(B) / t(B/2) (4: quadratic, 2: linear)")
    print(f"{'B':>5s} " + ' '.join(f'{k:>10s}' for k in LOSSES))
    sizes = list(rows)
    for lo, hi in zip(sizes[:-1], sizes[1:]):
        steps = math.log2(hi / lo)                                    # per doubling, also when sizes skip a power
        cells = [f"{(rows[hi][k] / rows[lo][k]) ** (1 / steps):10.2f}" if k in rows[hi] and k in rows[lo]
                 else f"{'-':>10s}" for k in LOSSES]
        print(f"{hi:5d} " + ' '.join(cells))


if __name__ == '__main__': main()
