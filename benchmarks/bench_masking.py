"""Speed of the masked hierarchical losses, measured in one run.

    python benchmarks/bench_masking.py                 # CPU, B = 512, D = 128, 2 views, L = 2, 3, 4
    python benchmarks/bench_masking.py --device cuda

One `GHMLCLoss` call (relevance scores, GMM, Hungarian matching, path term and every level) and one `AHMLCLoss` call
(attention heads and every level) against `L` plain `supcon_loss` calls on the normalized projections, one per level
(labels = the level's label), forward and forward+backward, median over `--repeats` interleaved runs. Prints the
ratios loss_time / plain_time (target for G-HMLC: <= 2).
"""
import argparse
import torch
import torch.nn.functional as F
from _timing import interleaved, medians, device_name
from hmlc_nb.losses import supcon_loss
from hmlc_nb.masking import GHMLCLoss, AHMLCLoss, level_masks, TorchGMM


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
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    name = device_name(dev, a.threads)
    print(f"device: {name}; B={a.batch} V={a.views} D={a.dim}; median of {a.repeats} interleaved runs")
    print(f"{'L':>2s} {'pass':8s} {'L x supcon ms':>13s} {'G-HMLC ms':>10s} {'ratio':>6s} {'(masks ms)':>10s} "
          f"{'A-HMLC ms':>10s} {'ratio':>6s}")
    for L in a.levels:
        z, labels = make_batch(a.batch, a.views, a.dim, L, dev)
        g_loss = GHMLCLoss(L).to(dev)
        a_loss = AHMLCLoss(a.dim, L).to(dev)
        g_loss(z, labels)                                           # first GMM fit; later calls warm-start
        gmm = TorchGMM(L, n_iter=10, seed=0, warm_start=True)
        for backward in (False, True):
            zz = z.clone().requires_grad_(backward)
            fns = {'plain': lambda: sum(supcon_loss(F.normalize(zz, dim=-1), labels=labels[:, h]) for h in range(L)),
                   'G': lambda: g_loss(zz, labels),
                   'A': lambda: a_loss(zz, labels)}
            t = medians(interleaved(fns, a.repeats, warmup=2, device=dev, backward=backward))
            tm = medians(interleaved({'m': lambda: level_masks(zz, labels, gmm=gmm).sum()}, a.repeats, warmup=2, device=dev))['m']
            print(f"{L:2d} {'fwd+bwd' if backward else 'fwd':8s} {t['plain']*1e3:13.1f} {t['G']*1e3:10.1f} "
                  f"{t['G']/t['plain']:6.2f} {tm*1e3:10.1f} {t['A']*1e3:10.1f} {t['A']/t['plain']:6.2f}")
    print("ratio = loss time / time of L plain supcon_loss calls (G-HMLC includes its masks and the path term)")


if __name__ == '__main__': main()
