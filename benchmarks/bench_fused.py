"""The masked losses with all their SupCon terms fused into one batched pass, against the per-term loop, in one run.

    python benchmarks/bench_fused.py --threads 1 --clock cpu          # CPU, B = 512, V = 2, D = 128, L = 2 and 3

One `GHMLCLoss` call (default mask reading: relevance scores, GMM masks, every level and the path term) and one
`AHMLCLoss` call (attention heads, every level and the path term), forward + backward, each with the fused terms
(`_levels_and_path_fused`, what the losses run) and with the per-term loop (`_levels_and_path_loop`, one SupCon call
per term, as before), against one `supcon_loss` call on the normalized projections (full-path labels). All
candidates of one L are timed interleaved in this process; medians. Prints each loss's ratio to one SupCon call.
"""
import argparse
import torch
import torch.nn.functional as F
from _timing import interleaved, medians, header, resolve_clock
from bench_masking import make_batch
import hmlc_nb.masking as mk
from hmlc_nb.losses import supcon_loss


def looped(loss):
    "`loss` run through the per-term loop (the fused path switched off for this call)."
    def f(z, labels):
        orig, mk._fusable = mk._fusable, (lambda *a: False)
        try: return loss(z, labels)
        finally: mk._fusable = orig
    return f


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--batch', type=int, default=512)
    ap.add_argument('--dim', type=int, default=128)
    ap.add_argument('--views', type=int, default=2)
    ap.add_argument('--levels', type=int, nargs='+', default=[2, 3])
    ap.add_argument('--repeats', type=int, default=15)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--clock', choices=['auto', 'wall', 'cpu'], default='auto')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    clock = resolve_clock(a.clock, dev)
    header('bench_fused', dev, clock, a.threads, B=a.batch, V=a.views, D=a.dim, repeats=a.repeats, timed='forward+backward')
    print(f"{'L':>2s} {'supcon ms':>9s} {'G loop':>14s} {'G fused':>14s} {'A loop':>14s} {'A fused':>14s}")
    for L in a.levels:
        z, labels = make_batch(a.batch, a.views, a.dim, L, dev)
        torch.manual_seed(0)
        g, gl = mk.GHMLCLoss(L).to(dev), mk.GHMLCLoss(L).to(dev)
        torch.manual_seed(0); am = mk.AHMLCLoss(a.dim, L).to(dev)
        for loss in (g, gl, am):
            loss.set_progress(0.5); loss(z, labels)            # first GMM fit / EMA state; later calls warm-start
        zz = z.clone().requires_grad_()
        fns = {'supcon': lambda: supcon_loss(F.normalize(zz, dim=-1), labels=labels),
               'G loop': lambda: looped(gl)(zz, labels), 'G fused': lambda: g(zz, labels),
               'A loop': lambda: looped(am)(zz, labels), 'A fused': lambda: am(zz, labels)}
        t = medians(interleaved(fns, a.repeats, warmup=2, device=dev, backward=True, clock=clock))
        print(f"{L:2d} {t['supcon']*1e3:9.1f} " + ' '.join(f"{t[n]/t['supcon']:7.2f} ({t[n]*1e3:4.0f})"
                                                         for n in ('G loop', 'G fused', 'A loop', 'A fused')))
    print("each column: ratio = loss time / time of one supcon_loss call, (loss ms); loop: one SupCon call per term, "
          "fused: all terms in one batched pass")


if __name__ == '__main__': main()
