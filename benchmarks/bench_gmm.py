"""TorchGMM vs scikit-learn's GaussianMixture: one fit on 128 points in R^H (H = 2..4 components), the problem
G-HMLC solves at every training step. Prints the median time of each and the ratio sklearn / torch (> 1: torch
is faster), measured in one run. Usage: python benchmarks/bench_gmm.py [--device cuda] [--repeats 50]"""
import argparse, time, warnings
import numpy as np, torch
from sklearn.mixture import GaussianMixture
from hmlc_nb.masking import TorchGMM

def median_time(f, repeats, sync=lambda: None):
    f(); sync()                                           # warm-up
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter(); f(); sync(); ts.append(time.perf_counter() - t0)
    return float(np.median(ts))

def data(H, kind, seed=0, n=128):
    g = torch.Generator().manual_seed(seed)
    if kind == 'blobs':                                   # well separated clusters
        c = torch.randn(H, H, generator=g) * 10
        return c[torch.arange(n) % H] + torch.randn(n, H, generator=g) * .5
    # 'relevance': what level_masks clusters: eta squared points in [0, 1]^H, overlapping groups
    lab = torch.arange(n) % H
    x = torch.rand(n, H, generator=g) * .3
    x[torch.arange(n), lab] += .5
    return x.clamp(0, 1)

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--device', default='cpu'); ap.add_argument('--repeats', type=int, default=50)
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads (sklearn/numpy use theirs)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    sync = (lambda: torch.cuda.synchronize()) if dev.type == 'cuda' else (lambda: None)
    print(f"device: {torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'cpu'}, torch threads {a.threads}, "
          f"repeats {a.repeats}; n_iter/max_iter 100, tol 1e-3, diagonal covariances, same data for both")
    print(f"{'data':10s} {'H':>2s} {'sklearn ms':>11s} {'torch ms':>9s} {'ratio':>6s}  iters sk/torch")
    warnings.filterwarnings('ignore')
    for kind in ('blobs', 'relevance'):
        for H in (2, 3, 4):
            x = data(H, kind); xn = x.numpy().astype(np.float64); xt = x.to(dev)
            sk = GaussianMixture(H, covariance_type='diag', tol=1e-3, max_iter=100, random_state=0)
            tg = TorchGMM(H, covariance_type='diag', tol=1e-3, n_iter=100, seed=0)
            t_sk = median_time(lambda: sk.fit(xn), a.repeats)
            t_tg = median_time(lambda: tg.fit(xt), a.repeats, sync)
            print(f"{kind:10s} {H:2d} {t_sk*1e3:11.2f} {t_tg*1e3:9.2f} {t_sk/t_tg:6.1f}  {sk.n_iter_}/{tg.n_iter_}")
    # the G-HMLC setting: 10 EM iterations, warm-started from the previous step
    H = 2; x = data(H, 'relevance').to(dev)
    tw = TorchGMM(H, n_iter=10, seed=0, warm_start=True).fit(x)
    skw = GaussianMixture(H, covariance_type='diag', max_iter=10, random_state=0, warm_start=True).fit(x.cpu().numpy())
    t_sk = median_time(lambda: skw.fit(x.cpu().numpy()), a.repeats)
    t_tg = median_time(lambda: tw.fit(x), a.repeats, sync)
    print(f"{'warm, 10 it':10s} {H:2d} {t_sk*1e3:11.2f} {t_tg*1e3:9.2f} {t_sk/t_tg:6.1f}  {skw.n_iter_}/{tw.n_iter_}")

if __name__ == '__main__': main()
