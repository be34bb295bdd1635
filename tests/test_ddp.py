"""A DDP step with gathered embeddings equals one process on the concatenated batch (CPU, gloo, 2 processes)."""
import os, socket, tempfile
import pytest, torch
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

from hmlc_nb.distributed import GatheredLoss, setup_distributed, cleanup_distributed, get_world_size
from hmlc_nb.losses import supcon_loss, hmlc_loss
from hmlc_nb.masking import GHMLCLoss, AHMLCLoss

WORLD = 2

def _port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _losses():
    "name -> a function that makes the loss (a callable or a module) `f(z [B,V,D], labels [B,3])`."
    return {'supcon': lambda: (lambda z, y: supcon_loss(F.normalize(z, dim=-1), y[:, -1], temperature=0.1)),
            'hmce': lambda: (lambda z, y: hmlc_loss(F.normalize(z, dim=-1), y, 'hmce', temperature=0.1)),
            'ghmlc': lambda: GHMLCLoss(3, temperature=0.1, min_dims=2),
            'ahmlc': lambda: AHMLCLoss(8, 3, temperature=0.1)}

def _data(n=8):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 2, 10, generator=g)
    y = torch.stack([torch.randint(0, 2, (n,), generator=g), torch.randint(0, 3, (n,), generator=g)], 1)
    return x, torch.cat([y, torch.arange(n)[:, None]], 1)  # [coarse, fine, instance id]

def _model():
    torch.manual_seed(0)
    return torch.nn.Linear(10, 8)

def _step(model, loss_fn, x, y):
    loss = loss_fn(model(x), y)
    loss.backward()
    grads = [p.grad.detach().clone() for p in model.parameters()]
    if isinstance(loss_fn, torch.nn.Module):
        grads += [p.grad.detach().clone() for p in loss_fn.parameters() if p.grad is not None]
    return loss.detach(), grads

def _worker(rank, port, out, splits):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(WORLD))
    torch.set_num_threads(1)
    setup_distributed('gloo')
    assert get_world_size() == WORLD
    x, y = _data()
    lo, hi = splits[rank], splits[rank + 1]
    res = {}
    for name, make in _losses().items():
        torch.manual_seed(0)
        loss_mod = make()
        model = DDP(_model())
        loss, grads = _step(model, GatheredLoss(loss_mod), x[lo:hi], y[lo:hi])
        if isinstance(loss_mod, torch.nn.Module) and list(loss_mod.parameters()):
            # loss-module parameters (attention heads) see the global batch: average them as DDP would
            for p in loss_mod.parameters(): torch.distributed.all_reduce(p.grad); p.grad /= WORLD
            grads = grads[:2] + [p.grad.detach().clone() for p in loss_mod.parameters()]
        res[name] = {'loss': loss, 'grads': grads}
    if rank == 0: torch.save(res, out)
    cleanup_distributed()

@pytest.mark.timeout(180)
@pytest.mark.parametrize('splits', [(0, 4, 8), (0, 3, 8)], ids=['even', 'uneven'])
def test_ddp_step_equals_single_process(splits, tmp_path):
    out = str(tmp_path / 'rank0.pt')
    mp.start_processes(_worker, args=(_port(), out, splits), nprocs=WORLD, join=True, start_method='spawn')
    got = torch.load(out)
    x, y = _data()
    assert set(got) == set(_losses())
    for name, make in _losses().items():
        torch.manual_seed(0)
        loss_mod = make()  # same initialisation order as in the workers (heads first)
        ref_loss, ref_grads = _step(_model(), loss_mod, x, y)
        assert torch.allclose(got[name]['loss'], ref_loss, atol=1e-5), (name, got[name]['loss'], ref_loss)
        assert len(got[name]['grads']) == len(ref_grads), name
        for g, r in zip(got[name]['grads'], ref_grads):
            assert torch.allclose(g, r, atol=1e-5), (name, (g - r).abs().max())
