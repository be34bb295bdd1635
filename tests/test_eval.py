"Feature-identification and evaluation-argument checks the command line relies on (fast; the notebooks 06_eval and 06_identification hold the rest)."
from pathlib import Path
import pytest, torch
from hmlc_nb.evaluate import check_eval_args, linear_eval
from hmlc_nb.identification import mask_health, mask_trajectory, masks_figure, masks_for, selectivity

RESULTS = Path(__file__).parent.parent / 'nbs' / 'results'


def _planted(n, seed, D=10, k=5, n0=3, n1=4):
    "Product hierarchy: dims 0..k-1 carry level 0, the rest level 1."
    g, gc = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(7)
    p = torch.stack([torch.randint(0, n0, (n,), generator=g), torch.randint(0, n1, (n,), generator=g)], 1)
    c0, c1 = 2 * torch.randn(n0, k, generator=gc), 2 * torch.randn(n1, D - k, generator=gc)
    return torch.cat([c0[p[:, 0]], c1[p[:, 1]]], 1) + 0.5 * torch.randn(n, D, generator=g), p


@pytest.mark.parametrize('kw, name', [(dict(probe_epochs=0), 'probe_epochs'), (dict(tsne_points=0), 'tsne_points'),
                                      (dict(tsne_points=-1), 'tsne_points'), (dict(n_test=1), 'n_test'),
                                      (dict(n_train=0), 'n_train')])
def test_check_eval_args_names_the_setting(kw, name):
    with pytest.raises(ValueError, match=f'`{name}`'): check_eval_args(**kw)


def test_check_eval_args_accepts_defaults():
    check_eval_args(probe_epochs=None, tsne_points=1000, n_test=2000, n_train=10000)


@pytest.mark.parametrize('bad', [float('nan'), float('inf')])
def test_linear_eval_refuses_non_finite(bad):
    x, p = _planted(60, 0)
    xb = x.clone(); xb[0, 0] = bad
    with pytest.raises(ValueError, match='`test_x` holds 1 NaN/Inf'): linear_eval(x, p, xb, p, [3, 4], epochs=2)


def test_selectivity_exact_and_swapped_masks():
    (ztr, ptr), (zte, pte) = _planted(400, 0), _planted(200, 1)
    exact = torch.zeros(2, 10, dtype=torch.bool); exact[0, :5] = True; exact[1, 5:] = True
    s = selectivity(ztr, ptr, zte, pte, exact, epochs=60)
    assert s['own_ok'] == [True, True] and s['other_ok'] == [True, True], s
    sw = selectivity(ztr, ptr, zte, pte, exact.flip(0), epochs=60)
    assert sw['own_ok'] == [False, False] and sw['other_ok'] == [False, False], sw
    assert torch.equal(masks_for(None, zte, pte), exact)


def test_mask_trajectory_of_logged_runs(tmp_path):
    g = mask_trajectory(RESULTS / 'digits_seeds_curriculum' / 'seed0' / 'ghmlc')
    a = mask_trajectory(RESULTS / 'digits_seeds' / 'seed0' / 'ahmlc' / 'log.csv')
    assert (g['method'], a['method']) == ('ghmlc', 'ahmlc') and len(a['entropy']) == len(a['epoch'])
    h = mask_health(a, 128)
    assert set(h) >= {'final_entropy', 'entropy_ok', 'min_final_dims', 'dims_ok', 'ok'}
    masks_figure({'g': g, 'a': a}, tmp_path / 'masks.png', D=128)
    assert (tmp_path / 'masks.png').stat().st_size > 1000
    with pytest.raises(ValueError, match='no mask statistics'): mask_trajectory([dict(epoch=1, loss=1.0)])
