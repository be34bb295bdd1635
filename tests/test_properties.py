"""Property-based tests (hypothesis): random shapes and label trees never crash the hierarchy or the losses
with anything other than a ValueError that names the problem, and valid inputs give finite losses."""
import math
import pytest, torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st, HealthCheck

from hmlc_nb.hierarchy import Hierarchy, tree_distance, prefix_ids
from hmlc_nb.losses import supcon_loss, hmlc_loss, with_instance_ids
from hmlc_nb.masking import GHMLCLoss, AHMLCLoss, level_masks

SETTINGS = dict(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

@st.composite
def trees(draw, max_levels=4):
    "Random label paths of a true tree: each level's label determined by its parent (labels numbered globally)."
    L = draw(st.integers(1, max_levels))
    n = draw(st.integers(1, 20))
    rows, next_id = [], [0] * L
    children = [{} for _ in range(L)]
    for _ in range(n):
        path, parent = [], None
        for h in range(L):
            kids = children[h].setdefault(parent, [])
            if kids and draw(st.booleans()): lab = draw(st.sampled_from(kids))
            else: lab = next_id[h]; next_id[h] += 1; kids.append(lab)
            path.append(lab); parent = lab
        rows.append(path)
    return rows

@settings(**SETTINGS)
@given(trees())
def test_tree_roundtrip(rows):
    h = Hierarchy.from_paths(rows)
    p = torch.tensor(rows)
    ids = h.leaf_ids(p)
    assert torch.equal(h.paths(ids), p)
    assert h.n_levels == len(rows[0]) and h.n_leaves == len({tuple(r) for r in rows})
    d = h.tree_distance(p[:, None], p[None])
    assert torch.equal(d.diagonal(), torch.zeros(len(rows), dtype=torch.long)) and torch.equal(d, d.T)
    assert int(d.max()) <= h.n_levels
    assert torch.equal(prefix_ids(p)[:, -1] == prefix_ids(p)[:, -1][:, None], d == 0)

@settings(**SETTINGS)
@given(st.lists(st.lists(st.integers(-2, 5), min_size=0, max_size=4), min_size=0, max_size=8), st.booleans())
def test_hierarchy_random_rows_only_valueerror(rows, shared):
    try: h = Hierarchy.from_paths(rows, shared_labels=shared)
    except ValueError as e: assert str(e)
    else: assert h.n_leaves >= 1

@st.composite
def batches(draw):
    B = draw(st.integers(1, 12)); V = draw(st.integers(1, 4)); D = draw(st.integers(2, 16)); L = draw(st.integers(2, 4))
    k = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**16))
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(B, V, D, generator=g)
    labels = torch.randint(0, k, (B, L), generator=g)
    return z, labels

@settings(**SETTINGS)
@given(batches(), st.sampled_from(['hmc', 'hce', 'hmce']), st.sampled_from([torch.float32, torch.bfloat16, torch.float16]))
def test_losses_finite_on_valid_inputs(batch, loss_type, dtype):
    z, labels = batch
    f = F.normalize(z, dim=-1).to(dtype)
    for loss in (supcon_loss(f, labels[:, -1], temperature=0.05), supcon_loss(f, temperature=0.05),
                 hmlc_loss(f, labels, loss_type, temperature=0.05), hmlc_loss(f, with_instance_ids(labels), loss_type, temperature=0.05)):
        assert torch.isfinite(loss), loss
    L, D = labels.shape[1], z.shape[-1]
    if D >= L:
        assert torch.isfinite(GHMLCLoss(L, temperature=0.05, min_dims=1)(z.to(dtype), labels))
    assert torch.isfinite(AHMLCLoss(D, L, temperature=0.05)(z, labels))

@settings(**SETTINGS)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=4), st.lists(st.integers(0, 6), min_size=0, max_size=3))
def test_losses_bad_shapes_only_valueerror(zshape, lshape):
    z = torch.randn(*zshape)
    labels = torch.randint(0, 3, tuple(lshape)) if lshape else torch.tensor(1)
    for call in (lambda: supcon_loss(z, labels), lambda: hmlc_loss(z, labels),
                 lambda: GHMLCLoss(2)(z, labels), lambda: AHMLCLoss(max(zshape[-1], 1), 2)(z, labels)):
        try: out = call()
        except ValueError as e: assert str(e)
        else: assert torch.isfinite(out)
