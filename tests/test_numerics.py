"""bf16/fp16 at temperature 0.05 stay finite on adversarial inputs: identical embeddings, orthogonal embeddings,
one class per batch, huge raw projections, a row of zeros. Values and gradients, for every mask reading."""
import pytest, torch
import torch.nn.functional as F
from hmlc_nb.losses import supcon_loss, hmlc_loss, with_instance_ids
from hmlc_nb.masking import GHMLCLoss, AHMLCLoss

B, V, D, L = 32, 2, 64, 2
T = 0.05

def _inputs(kind):
    g = torch.Generator().manual_seed(0)
    if kind == 'identical': z = torch.ones(B, V, D)
    elif kind == 'orthogonal': z = torch.eye(D)[:B * V].reshape(B, V, D)
    elif kind == 'huge': z = torch.randn(B, V, D, generator=g) * 1e4
    else: z = torch.randn(B, V, D, generator=g)
    if kind == 'zero_row': z[3] = 0
    labels = torch.randint(0, 3, (B, L), generator=g)
    if kind == 'one_class': labels = torch.zeros(B, L, dtype=torch.long)
    return z, labels

LOSSES = {
    'supcon': lambda z, y: supcon_loss(F.normalize(z.float(), dim=-1).to(z.dtype), y[:, -1], temperature=T),
    'simclr': lambda z, y: supcon_loss(F.normalize(z.float(), dim=-1).to(z.dtype), temperature=T),
    'hmce': lambda z, y: hmlc_loss(F.normalize(z.float(), dim=-1).to(z.dtype), with_instance_ids(y), 'hmce', temperature=T),
    'ghmlc': lambda z, y: GHMLCLoss(L, temperature=T)(z, y),
    'ahmlc': lambda z, y: AHMLCLoss(D, L, temperature=T)(z, y),
}
PRE_NORMALIZED = {'supcon', 'simclr', 'hmce'}  # here the test normalizes, not the loss
def _with_progress(loss, frac=0.5): loss.set_progress(frac); return loss
READINGS = {  # the other mask readings of 03_masking
    'ghmlc_sample': lambda z, y: GHMLCLoss(L, temperature=T, mask_mode='sample')(z, y),
    'ghmlc_nested': lambda z, y: GHMLCLoss(L, temperature=T, relevance='increment', mask_mode='normalized', ema=.9,
                                           hysteresis=.1, min_share=1/8, positives='prefix', path_weight=.1)(z, y),
    'ahmlc_anneal_entropy': lambda z, y: _with_progress(AHMLCLoss(D, L, temperature=T, mask_temperature_end=.05, entropy_weight=.1))(z, y),
}

@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
@pytest.mark.parametrize('kind', ['identical', 'orthogonal', 'one_class', 'huge', 'random', 'zero_row'])
@pytest.mark.parametrize('name', sorted(LOSSES) + sorted(READINGS))
def test_low_precision_finite(name, kind, dtype):
    z, y = _inputs(kind)
    z = z.to(dtype).requires_grad_()
    loss = {**LOSSES, **READINGS}[name](z, y)
    assert torch.isfinite(loss), (name, kind, dtype, loss)
    loss.backward()
    if kind == 'zero_row' and name in PRE_NORMALIZED: return   # F.normalize's gradient at a zero row (1/1e-12) is the caller's
    assert torch.isfinite(z.grad).all(), (name, kind, dtype)

@pytest.mark.parametrize('name', sorted(LOSSES))
def test_low_precision_close_to_float32(name):
    "On ordinary inputs, bf16 inputs give nearly the float32 loss (the losses compute in float32)."
    z, y = _inputs('random')
    torch.manual_seed(0); ref = LOSSES[name](z, y)
    torch.manual_seed(0); low = LOSSES[name](z.to(torch.bfloat16), y)
    assert abs(low.float().item() - ref.item()) < 0.05 * abs(ref.item()) + 1e-3, (name, low, ref)

@pytest.mark.parametrize('name', sorted(LOSSES) + sorted(READINGS))
def test_zero_row_float32(name):
    "A projection row of zeros (a dead sample) gives a finite loss and finite gradients in float32 too."
    z, y = _inputs('zero_row')
    z = z.requires_grad_()
    loss = {**LOSSES, **READINGS}[name](z, y)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(z.grad).all(), name
