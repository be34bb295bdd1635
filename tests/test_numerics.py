"""bf16/fp16 at temperature 0.05 stay finite on adversarial inputs: identical embeddings, orthogonal embeddings,
one class per batch, huge raw projections. Values and gradients."""
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

@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
@pytest.mark.parametrize('kind', ['identical', 'orthogonal', 'one_class', 'huge', 'random'])
@pytest.mark.parametrize('name', sorted(LOSSES))
def test_low_precision_finite(name, kind, dtype):
    z, y = _inputs(kind)
    z = z.to(dtype).requires_grad_()
    loss = LOSSES[name](z, y)
    assert torch.isfinite(loss), (name, kind, dtype, loss)
    loss.backward()
    assert torch.isfinite(z.grad).all(), (name, kind, dtype)

@pytest.mark.parametrize('name', sorted(LOSSES))
def test_low_precision_close_to_float32(name):
    "On ordinary inputs, bf16 inputs give nearly the float32 loss (the losses compute in float32)."
    z, y = _inputs('random')
    torch.manual_seed(0); ref = LOSSES[name](z, y)
    torch.manual_seed(0); low = LOSSES[name](z.to(torch.bfloat16), y)
    assert abs(low.float().item() - ref.item()) < 0.05 * abs(ref.item()) + 1e-3, (name, low, ref)
