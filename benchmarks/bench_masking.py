"""Speed of the masked hierarchical losses, measured in one run.

    python benchmarks/bench_masking.py                 # CPU, B = 512, D = 128, 2 views, L = 2, 3, 4
    python benchmarks/bench_masking.py --device cuda

One `GHMLCLoss` call (relevance scores, masks, path term and every level) for each mask reading, and one `AHMLCLoss`
call (attention heads and every level) for each of its readings, against `L` plain `supcon_loss` calls on the
normalized projections, one per level (labels = the level's label), forward and forward+backward, median over
`--repeats` interleaved runs (all candidates of one L in the same run). Prints the ratio loss_time / plain_time
per reading (the bar: <= 2).
"""
import argparse
import torch
import torch.nn.functional as F
from _timing import interleaved, medians, device_name
from hmlc_nb.losses import supcon_loss
from hmlc_nb.masking import GHMLCLoss, AHMLCLoss

# the mask readings of nbs/03_masking.ipynb (constructor arguments; the defaults are the first of each)
G_READINGS = {
    'G default': {},
    'G sample': dict(mask_mode='sample'),
    'G sample 5 it': dict(mask_mode='sample', gmm_iters=5),
    'G nested': dict(relevance='increment', mask_mode='normalized'),
    'G nested+ema': dict(relevance='increment', mask_mode='argmax', ema=0.9, hysteresis=0.1, min_share=1 / 8),
}
A_READINGS = {
    'A default': {},
    'A anneal+entropy': dict(mask_temperature_end=0.1, entropy_weight=0.1),
}


def make_batch(B, V, D, L, device, seed=0):
    "Projections and label paths of a 4 -> 20 -> 100 ... class tree (each level 5x finer)."
    g = torch.Generator().manual_seed(seed)
    leaf = torch.randint(0, 4 * 5 ** (L - 1), (B,), generator=g)
    labels = torch.stack([leaf // 5 ** (L - 1 - h) for h in range(L)], 1)
    z = torch.randn(B, V, D, generator=g)
    return z.to(device), labels.to(device)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--batch', type=int, default=512)
    ap.add_argument('--dim', type=int, default=128)
    ap.add_argument('--views', type=int, default=2)
    ap.add_argument('--levels', type=int, nargs='+', default=[2, 3, 4])
    ap.add_argument('--repeats', type=int, default=15)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--clock', choices=['wall', 'cpu'], default='wall', help="'cpu': process CPU time (a busy machine does not inflate it)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    print(f"device: {device_name(dev, a.threads)}; B={a.batch} V={a.views} D={a.dim}; {a.clock} clock, median of {a.repeats} interleaved runs")
    names = list(G_READINGS) + list(A_READINGS)
    print(f"{'L':>2s} {'pass':8s} {'L x supcon ms':>13s} " + ' '.join(f'{n:>16s}' for n in names))
    for L in a.levels:
        z, labels = make_batch(a.batch, a.views, a.dim, L, dev)
        losses = {n: GHMLCLoss(L, **kw).to(dev) for n, kw in G_READINGS.items()}
        losses.update({n: AHMLCLoss(a.dim, L, **kw).to(dev) for n, kw in A_READINGS.items()})
        for loss in losses.values():
            loss.set_progress(0.5)
            loss(z, labels)                                         # first GMM fit / EMA state; later calls warm-start
        for backward in (False, True):
            zz = z.clone().requires_grad_(backward)
            fns = {'plain': lambda: sum(supcon_loss(F.normalize(zz, dim=-1), labels=labels[:, h]) for h in range(L))}
            fns.update({n: (lambda f=f: f(zz, labels)) for n, f in losses.items()})
            t = medians(interleaved(fns, a.repeats, warmup=2, device=dev, backward=backward, clock=a.clock))
            print(f"{L:2d} {'fwd+bwd' if backward else 'fwd':8s} {t['plain']*1e3:13.1f} "
                  + ' '.join(f"{t[n]/t['plain']:9.2f} ({t[n]*1e3:4.0f})" for n in names))
    print("each column: ratio = loss time / time of L plain supcon_loss calls, (loss ms); G-HMLC includes its masks and the path term")


if __name__ == '__main__': main()
