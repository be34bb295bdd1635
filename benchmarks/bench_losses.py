"""Speed of `hmlc_nb.losses` against the reference algorithms, measured in one run.

    python benchmarks/bench_losses.py                 # CPU, 2 threads, B = 512 and 2048
    python benchmarks/bench_losses.py --device cuda   # on a GPU
    python benchmarks/bench_losses.py --threads 1 --clock cpu   # CPU time: robust when other jobs share the cores

Compares, forward and forward+backward, median over `--repeats` interleaved runs:
- `hmlc_loss` (HMCE) vs `reference_hmlc`, the reference HMLC algorithm (per-row mask stacking, one SupCon call per
  level with tiled [BV, BV] masks), labels L = 4: a 4 -> 20 -> 100 class tree plus an instance-id column;
- `supcon_loss` vs pytorch-metric-learning's `SupConLoss` and vs `reference_supcon` (the SupContrast algorithm),
  on the 100 fine classes.
Prints the ratio of median times reference / ours (> 1: ours is faster) and, as a check on a shared machine where
other processes steal cores, the ratio of the fastest runs.
"""
import argparse, statistics
import torch
import torch.nn.functional as F
from _timing import CLOCKS, interleaved, device_name
import sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'tests'))
from oracles import reference_hmlc, reference_supcon  # the test oracles (tests/oracles.py)
from hmlc_nb.losses import hmlc_loss, supcon_loss, positive_mask, with_instance_ids


def make_batch(B, V, D, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    coarse = torch.randint(0, 4, (B,), generator=g)
    mid = coarse * 5 + torch.randint(0, 5, (B,), generator=g)
    fine = mid * 5 + torch.randint(0, 5, (B,), generator=g)
    labels = with_instance_ids(torch.stack([coarse, mid, fine], 1))  # L = 4
    feats = F.normalize(torch.randn(B, V, D, generator=g), dim=-1)
    return feats.to(device), labels.to(device)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cpu')
    p.add_argument('--threads', type=int, default=2, help='torch CPU threads')
    p.add_argument('--sizes', type=int, nargs='+', default=[512, 2048])
    p.add_argument('--views', type=int, default=2)
    p.add_argument('--dim', type=int, default=128)
    p.add_argument('--repeats', type=int, default=7)
    p.add_argument('--temperature', type=float, default=0.07)
    p.add_argument('--clock', choices=list(CLOCKS), default='wall',
                   help="'wall' (default) or 'cpu': process CPU time, robust on a shared machine with --threads 1")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    from pytorch_metric_learning.losses import SupConLoss as PMLSupConLoss
    pml = PMLSupConLoss(temperature=a.temperature)
    name = device_name(device, a.threads)
    print(f'# bench_losses  device: {name}  torch {torch.__version__}  V={a.views} D={a.dim} '
          f'T={a.temperature} repeats={a.repeats} clock={a.clock}')
    print(f"{'B':>5} {'pass':>8} {'comparison':<34} {'ours ms':>9} {'ref ms':>9} {'ratio':>7} {'min ratio':>9}")
    for B in a.sizes:
        feats, labels = make_batch(B, a.views, a.dim, device)
        fine = labels[:, 2]
        flat_fine = fine.repeat(a.views)
        for backward in (False, True):
            f = feats.clone().requires_grad_(backward)
            fns = {
                'hmlc_loss': lambda: hmlc_loss(f, labels, 'hmce', a.temperature),
                'reference HMLC': lambda: reference_hmlc(f, labels, 'hmce', a.temperature),
                'supcon_loss': lambda: supcon_loss(f, fine, temperature=a.temperature, base_temperature=a.temperature),
                'PML SupConLoss': lambda: pml(f.transpose(0, 1).reshape(-1, a.dim), flat_fine),
                'reference SupCon': lambda: reference_supcon(f, positive_mask(fine), a.temperature, a.temperature),
            }
            with torch.set_grad_enabled(backward):
                t = interleaved(fns, a.repeats, device=device, backward=backward, clock=a.clock)
            pas = 'fwd+bwd' if backward else 'forward'
            med = {k: statistics.median(v) for k, v in t.items()}
            best = {k: min(v) for k, v in t.items()}
            for ours, ref in [('hmlc_loss', 'reference HMLC'), ('supcon_loss', 'PML SupConLoss'),
                              ('supcon_loss', 'reference SupCon')]:
                print(f'{B:>5} {pas:>8} {ours + " vs " + ref:<34} {1e3 * med[ours]:>9.2f} {1e3 * med[ref]:>9.2f} '
                      f'{med[ref] / med[ours]:>6.1f}x {best[ref] / best[ours]:>8.1f}x', flush=True)


if __name__ == '__main__':
    main()
