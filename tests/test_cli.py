"""Whole-process tests of the command line: a 1-epoch `hmlc_train`, exact resume after SIGTERM and after kill -9,
a corrupted checkpoint that falls back to the previous one, and a run folder that is never overwritten.

Every run is tiny (640 digits, no validation split, batch 64, width 8: 10 steps per epoch) and single-threaded, so that two runs of the
same config are bit-identical on CPU; every process has a time limit.
"""
import json, os, shutil, signal, subprocess, sys, time
from pathlib import Path
import pytest, torch

from hmlc_nb.checkpoint import list_checkpoints, load_checkpoint

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', MPLBACKEND='Agg', PYTHONUNBUFFERED='1')
TINY = ['--n_train', '640', '--n_test', '256', '--batch_size', '64', '--width', '8', '--progress', 'false',
        '--method', 'ghmlc', '--epochs', '4', '--val_frac', '0']

def cli(*args):
    return [sys.executable, '-m', 'hmlc_nb.cli', *map(str, args)]

def run(*args, timeout=120):
    r = subprocess.run(cli(*args), cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=timeout)
    return r

def start(*args):
    return subprocess.Popen(cli(*args), cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def final_state(out):
    ck = list_checkpoints(out)
    assert ck, f"no checkpoint in {out}"
    return load_checkpoint(ck[-1])

def same_weights(a, b):
    for part in ('model', 'criterion', 'optimizer'):
        pa, pb = a[part], b[part]
        if part == 'optimizer': pa, pb = pa['state'], pb['state']
        flat_a = {k: v for k, v in _flatten(pa)}; flat_b = {k: v for k, v in _flatten(pb)}
        assert flat_a.keys() == flat_b.keys(), part
        for k in flat_a:
            va, vb = flat_a[k], flat_b[k]
            if isinstance(va, torch.Tensor): assert torch.equal(va, vb), f"{part}: {k} differs"
            else: assert va == vb, f"{part}: {k} differs"

def _flatten(d, pre=''):
    if isinstance(d, dict):
        for k, v in d.items(): yield from _flatten(v, f'{pre}/{k}')
    elif isinstance(d, (list, tuple)):
        for i, v in enumerate(d): yield from _flatten(v, f'{pre}/{i}')
    else: yield pre, d

def wait_for(pred, timeout=90, what='condition'):
    t = time.time()
    while time.time() - t < timeout:
        if pred(): return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")

def has_ckpt(out, epoch):
    return any(p.name.endswith(f'_e{epoch:04d}.pt') and p.with_name(p.name + '.sha256').exists() for p in list_checkpoints(out))

@pytest.fixture(scope='module')
def ref(tmp_path_factory):
    "An uninterrupted run (no evaluation): the weights every interrupted-and-resumed run must end with."
    out = tmp_path_factory.mktemp('ref') / 'run'
    r = run('train', '--out', out, '--no-eval', *TINY)
    assert r.returncode == 0, r.stderr
    st = final_state(out)
    assert st['global_step'] == 40 and st['complete']
    return out, st

# one epoch on 512 digits (10% held out) with a narrow network and short probes: a full run in seconds
ONE_EPOCH = ['--epochs', '1', '--n_train', '512', '--n_test', '256', '--batch_size', '128', '--width', '8',
             '--progress', 'false', '--probe-epochs', '5', '--tsne-points', '100']

@pytest.mark.timeout(150)
def test_train_one_epoch_cli(tmp_path):
    "hmlc_train from the command line: trains 1 epoch, evaluates, writes results, checkpoint, log and figure."
    out = tmp_path / 'one'
    r = run('train', '--out', out, '--preset', 'digits', '--method', 'hmce', *ONE_EPOCH, '--table', 'val', timeout=140)
    assert r.returncode == 0, r.stderr
    res = json.loads((out / 'results.json').read_text())
    assert res['method'] == 'hmce' and res['preset'] == 'digits' and res['epochs'] == 1 and res['device'] == 'cpu'
    assert res['level_names'] == ['category', 'class']
    for key in ('linear_acc', 'knn_acc', 'silhouette'): assert set(res[key]) == {'category', 'class'}
    assert 0 <= res['path_acc'] <= 1 and res['embedding_variance'] > 0 and res['seconds'] > 0
    assert 'encoder' in res and 'projection' in res
    assert (out / 'tsne.png').stat().st_size > 0 and (out / 'log.csv').exists()
    # the default validation split: 10% of the 512 training digits, stratified by leaf; 461 train in 3 steps of 128
    assert (res['n_train'], res['n_val'], res['config']['val_frac']) == (461, 51, 0.1)
    assert json.loads((out / 'config.json').read_text())['val_frac'] == 0.1
    assert set(res['val']['linear_acc']) == {'category', 'class'} and 0 <= res['val']['path_acc'] <= 1
    assert res['val']['linear_acc'] != res['linear_acc']  # scored on other samples than the test keys
    assert [p.name for p in list_checkpoints(out)] == ['ckpt_s00000003_e0001.pt']
    assert 'lin category' in r.stdout and 'validation (probes trained' in r.stdout  # the printed tables
    # feature identification: HMCE has no masks of its own, so they are fitted after training; no trajectory, no masks.png
    assert res['masks']['source'] == 'fitted' and sum(res['masks']['dims'].values()) == res['masks']['D']
    for sel in (res['selectivity'], res['val']['selectivity']): assert set(sel['own_gap']) == {'category', 'class'}
    assert res['mask_trajectory'] is None and res['mask_health'] is None and not (out / 'masks.png').exists()

@pytest.mark.timeout(150)
def test_ghmlc_one_epoch_writes_masks(tmp_path):
    "A 1-epoch G-HMLC run with mask options: masks.png, its trajectory, health and selectivity on test and validation."
    out = tmp_path / 'g'
    r = run('train', '--out', out, '--method', 'ghmlc', *ONE_EPOCH, '--min-share', '0.25', '--ema', '0.5', '--table', 'all',
            timeout=140)
    assert r.returncode == 0, r.stderr
    res = json.loads((out / 'results.json').read_text())
    assert (out / 'masks.png').stat().st_size > 0 and (out / 'tsne.png').exists()
    assert res['config']['min_share'] == 0.25 and res['config']['ema'] == 0.5
    assert res['masks']['source'] == 'learned' and min(res['masks']['dims'].values()) >= 32  # ceil(0.25 * 128)
    assert res['mask_trajectory']['epoch'] == [1] and res['mask_trajectory']['method'] == 'ghmlc'
    assert res['mask_health']['D'] == 128 and 'ok' in res['mask_health']
    for sel in (res['selectivity'], res['val']['selectivity']):
        assert set(sel) >= {'acc_all', 'acc_own', 'acc_other', 'own_gap', 'other_gap'}
        assert set(sel['other_gap']) == {'category', 'class'}
    assert 'sel own-gap category' in r.stdout and 'sel other-gap class' in r.stdout

@pytest.mark.timeout(120)
def test_refuses_to_overwrite(ref):
    "A folder that holds a run is left untouched without --resume/--overwrite."
    out, _ = ref
    before = {p.name: p.stat().st_mtime_ns for p in (out / 'checkpoints').iterdir()}
    r = run('train', '--out', out, '--no-eval', *TINY)
    assert r.returncode == 2 and 'already holds a run' in r.stderr and '--resume' in r.stderr
    assert {p.name: p.stat().st_mtime_ns for p in (out / 'checkpoints').iterdir()} == before
    r = run('train', '--out', out, '--no-eval', '--resume', '--overwrite', *TINY)
    assert r.returncode == 2 and 'not both' in r.stderr

@pytest.mark.timeout(180)
def test_sigterm_checkpoint_and_resume(ref, tmp_path):
    "SIGTERM mid-run: a final checkpoint, exit 143; --resume then ends with the uninterrupted run's weights."
    out = tmp_path / 'term'
    p = start('train', '--out', out, '--no-eval', *TINY)
    try:
        wait_for(lambda: has_ckpt(out, 1) or p.poll() is not None, what='the first checkpoint')
        assert p.poll() is None, p.communicate()[1]
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None: p.kill()
    assert p.returncode == 143, err
    assert 'SIGTERM' in err and 'checkpoint written' in err
    st = final_state(out)
    assert st['reason'] == 'SIGTERM' and 10 <= st['global_step'] < 40
    r = run('train', '--out', out, '--no-eval', '--resume', *TINY)
    assert r.returncode == 0, r.stderr
    assert 'Resuming' in r.stderr
    same_weights(final_state(out), ref[1])

@pytest.mark.timeout(180)
def test_kill9_mid_epoch_and_resume(ref, tmp_path):
    "kill -9 mid-epoch loses at most the work since the last checkpoint; --resume ends with the same weights."
    out = tmp_path / 'kill'
    p = start('train', '--out', out, '--no-eval', '--save_every', '1', *TINY)
    try:
        wait_for(lambda: has_ckpt(out, 1) or p.poll() is not None, what='the first checkpoint')
        time.sleep(0.2)
        assert p.poll() is None
        p.send_signal(signal.SIGKILL)
        p.communicate(timeout=30)
    finally:
        if p.poll() is None: p.kill()
    assert p.returncode == -signal.SIGKILL
    last = final_state(out)
    assert last['global_step'] < 40 and last['reason'] == 'epoch'   # killed before the end, no final checkpoint
    assert not list((out / 'checkpoints').glob('*.tmp'))             # nothing half-written is left as a checkpoint
    r = run('train', '--out', out, '--no-eval', '--resume', *TINY)
    assert r.returncode == 0, r.stderr
    assert f"global step {last['global_step']}" in r.stderr
    same_weights(final_state(out), ref[1])

@pytest.mark.timeout(150)
def test_corrupted_checkpoint_falls_back(ref, tmp_path):
    "A corrupted newest checkpoint is detected on --resume; the previous one is used and the run ends the same."
    out = tmp_path / 'corrupt'
    shutil.copytree(ref[0], out)
    newest = list_checkpoints(out)[-1]
    data = bytearray(newest.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the middle: only the checksum can tell
    newest.write_bytes(bytes(data))
    r = run('train', '--out', out, '--no-eval', '--resume', *TINY)
    assert r.returncode == 0, r.stderr
    assert 'is corrupted' in r.stderr and 'Falling back to the previous checkpoint' in r.stderr
    assert not list(out.rglob('*.corrupt'))  # the damaged copy is kept while the run lasts, removed once it finishes
    same_weights(final_state(out), ref[1])

@pytest.mark.timeout(60)
def test_console_scripts_help():
    "The console scripts (when installed) and `python -m hmlc_nb.cli` answer --help."
    exe = Path(sys.executable).parent / 'hmlc_compare'
    cmd = [str(exe), '--help'] if exe.exists() else cli('compare', '--help')
    r = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=50)
    assert r.returncode == 0 and '--methods' in r.stdout and '--seeds' in r.stdout
