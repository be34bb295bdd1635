"""TorchGMM vs scikit-learn's GaussianMixture: one fit on 128 points in R^H (H = 2..4 components), the problem
G-HMLC solves at every training step. Prints the median time of each (runs interleaved) and the ratio sklearn / torch
(> 1: torch is faster), measured in one run. Usage: python benchmarks/bench_gmm.py [--device cuda] [--repeats 50]"""
import argparse, warnings
import numpy as np, torch
from sklearn.mixture import GaussianMixture
from hmlc_nb.mixtures import TorchGMM
from hmlc_nb.masking import level_relevance
from _timing import interleaved, medians, device_name

def median_times(fns, repeats, device):
    "Median seconds of each zero-arg callable in `fns`, runs interleaved after one warm-up (fair under a changing load)."
    return list(medians(interleaved(fns, repeats, device=device)).values())

def data(H, kind, seed=0, n=128):
    g = torch.Generator().manual_seed(seed)
    if kind == 'blobs':                                   # well separated clusters
        c = torch.randn(H, H, generator=g) * 10
        return c[torch.arange(n) % H] + torch.randn(n, H, generator=g) * .5
    # 'relevance': what level_masks clusters: eta squared of 128 dimensions of a synthetic batch (256 samples, 2 views)
    # whose dimensions carry the label of one level with random strength, so the clusters overlap
    B, L = 256, H
    labels = torch.stack([torch.randint(0, 4 * 3 ** h, (B,), generator=g) for h in range(L)], 1)
    z = torch.randn(B, 2, n, generator=g)
    lvl = torch.arange(n) % L
    z += torch.rand(n, generator=g) * labels[:, lvl][:, None].float() / labels.float().std(0)[lvl]
    return level_relevance(z, labels)

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--device', default='cpu'); ap.add_argument('--repeats', type=int, default=30)
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads (sklearn/numpy use theirs)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    print(f"device: {device_name(dev, a.threads)}, "
          f"repeats {a.repeats}; n_iter/max_iter 100, tol 1e-3, diagonal covariances, same data for both")
    print(f"{'data':10s} {'H':>2s} {'sklearn ms':>11s} {'torch ms':>9s} {'ratio':>6s}  mean iters sk/torch")
    print("(ms per fit; cold rows: mean over 4 data sets; warm rows: the next step's fit from the previous one)")
    warnings.filterwarnings('ignore')
    for kind in ('blobs', 'relevance'):
        for H in (2, 3, 4):                               # one timed run = fits on 4 data sets (seeds 0-3)
            xs = [data(H, kind, seed=s) for s in range(4)]
            xns, xts = [x.numpy().astype(np.float64) for x in xs], [x.to(dev) for x in xs]
            sk = GaussianMixture(H, covariance_type='diag', tol=1e-3, max_iter=100, random_state=0)
            tg = TorchGMM(H, covariance_type='diag', tol=1e-3, n_iter=100, seed=0)
            its = {'sk': [], 'torch': []}
            def sk_fits():
                for x in xns: its['sk'].append(sk.fit(x).n_iter_)
            def tg_fits():
                for x in xts: its['torch'].append(tg.fit(x).n_iter_)
            t_sk, t_tg = median_times({'sk': sk_fits, 'torch': tg_fits}, a.repeats, dev)
            print(f"{kind:10s} {H:2d} {t_sk/4*1e3:11.2f} {t_tg/4*1e3:9.2f} {t_sk/t_tg:6.1f}  "
                  f"{np.mean(its['sk']):.1f}/{np.mean(its['torch']):.1f}")
    # the G-HMLC setting: at most 10 EM iterations, warm-started from the previous step's fit; successive steps
    # alternate between the relevance points of two batches (seeds 0 and 1)
    for H in (2, 3, 4):
        xs = [data(H, 'relevance', seed=s) for s in (0, 1)]
        xns, xts = [x.numpy().astype(np.float64) for x in xs], [x.to(dev) for x in xs]
        tw = TorchGMM(H, n_iter=10, seed=0, warm_start=True).fit(xts[0])
        skw = GaussianMixture(H, covariance_type='diag', max_iter=10, random_state=0, warm_start=True).fit(xns[0])
        step = {'sk': 0, 'torch': 0}
        def sk_step(): step['sk'] += 1; skw.fit(xns[step['sk'] % 2])
        def tg_step(): step['torch'] += 1; tw.fit(xts[step['torch'] % 2])
        t_sk, t_tg = median_times({'sk': sk_step, 'torch': tg_step}, a.repeats, dev)
        print(f"{'warm <=10':10s} {H:2d} {t_sk*1e3:11.2f} {t_tg*1e3:9.2f} {t_sk/t_tg:6.1f}  {skw.n_iter_}/{tw.n_iter_}")

if __name__ == '__main__': main()
