"""Two-stage runs from the command line: `--init_from` (a finished run folder or a checkpoint, `{seed}` replaced by the
run's seed) and `--freeze_encoder`. Every refusal exits 2 without a traceback, names the flag, and writes nothing;
a second stage on a frozen encoder keeps the first stage's encoder, and `--resume` continues it from its own checkpoint.
"""
import json
from pathlib import Path
import pytest, torch

from test_hostile import cli, clean_error, snapshot, S, EVAL

@pytest.fixture(autouse=True)
def _threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)

@pytest.fixture(scope='module')
def stage1(tmp_path_factory):
    "A finished first stage (SupCon, the tiny budget of test_hostile, 2 epochs), trained once for the module."
    out = tmp_path_factory.mktemp('two_stage') / 'stage1'
    r = cli('train', '--out', out, '--method', 'supcon', *S, '--epochs', '2', '--no-eval')
    assert r.code == 0, r
    return out

def refused(r, out, *words):
    "A clean error naming the words, and no run folder written."
    clean_error(r, *words)
    assert not Path(out).exists(), r

def test_freeze_without_init(tmp_path):
    r = cli('train', '--out', tmp_path / 'run', '--method', 'ghmlc', *S, '--freeze_encoder', 'true', '--no-eval')
    refused(r, tmp_path / 'run', 'freeze_encoder', 'init_from')

@pytest.mark.parametrize('what', ['missing', 'no_checkpoint', 'seed_missing'])
def test_init_from_missing(tmp_path, stage1, what):
    src = dict(missing=tmp_path / 'nothing', no_checkpoint=tmp_path, seed_missing=str(stage1.parent / 'stage{seed}'))[what]
    r = cli('train', '--out', tmp_path / 'run', '--method', 'ghmlc', *S, '--init_from', src, '--no-eval')
    refused(r, tmp_path / 'run', 'init_from')

@pytest.mark.parametrize('args,field', [(['--width', '16'], 'width'), (['--proj_dim', '64'], 'proj_dim'),
                                        (['--data_seed', '3'], 'data_seed'), (['--n_train', '640'], 'n_train'),
                                        (['--val_frac', '0.2'], 'val_frac')])
def test_init_from_other_model_or_data(tmp_path, stage1, args, field):
    "A checkpoint of another architecture or of other training data (or another validation split) is refused, naming both."
    r = cli('train', '--out', tmp_path / 'run', '--method', 'ghmlc', *S, *args, '--init_from', stage1, '--no-eval')
    refused(r, tmp_path / 'run', 'init_from', field)

def test_init_from_unfinished_run(tmp_path, stage1):
    "A run folder whose newest checkpoint does not end its run is refused; the checkpoint file itself is taken."
    r = cli('train', '--out', tmp_path / 'run', '--method', 'ghmlc', *S, '--epochs', '2', '--init_from', stage1,
            '--freeze_encoder', 'true', '--no-eval')
    assert r.code == 0, r
    half = tmp_path / 'half'
    (half / 'checkpoints').mkdir(parents=True)
    ck = sorted((stage1 / 'checkpoints').glob('ckpt_*.pt'))[0]  # the first epoch's, of 2
    for f in (ck, ck.with_name(ck.name + '.sha256')): (half / 'checkpoints' / f.name).write_bytes(f.read_bytes())
    refused(cli('train', '--out', tmp_path / 'run2', '--method', 'ghmlc', *S, '--init_from', half, '--no-eval'),
            tmp_path / 'run2', 'init_from', 'not finished')
    r = cli('train', '--out', tmp_path / 'run3', '--method', 'ghmlc', *S, '--init_from', half / 'checkpoints' / ck.name, '--no-eval')
    assert r.code == 0, r

def test_refusal_keeps_old_run(tmp_path, stage1):
    "--overwrite with a bad --init_from: refused before the recorded run is touched."
    out = tmp_path / 'run'
    assert cli('train', '--out', out, '--method', 'ghmlc', *S, '--no-eval').code == 0
    before = snapshot(out)
    r = cli('train', '--out', out, '--overwrite', '--method', 'ghmlc', *S, '--width', '16', '--init_from', stage1, '--no-eval')
    clean_error(r, 'init_from', 'width')
    assert snapshot(out) == before

def test_frozen_second_stage_and_resume(tmp_path, stage1):
    "The encoder's features are stage 1's (same encoder probe), config and results record init_from, --resume continues."
    out = tmp_path / 'run'
    r = cli('train', '--out', out, '--method', 'ghmlc', *S, '--epochs', '2', '--init_from', stage1, '--freeze_encoder', 'true', *EVAL)
    assert r.code == 0, r
    res = json.loads((out / 'results.json').read_text())
    assert res['config']['init_from'] == str(stage1) and res['config']['freeze_encoder'] is True
    assert json.loads((out / 'config.json').read_text())['init_from'] == str(stage1)
    st1 = torch.load(sorted((stage1 / 'checkpoints').glob('*.pt'))[-1], weights_only=True)['model']
    st2 = torch.load(sorted((out / 'checkpoints').glob('*.pt'))[-1], weights_only=True)['model']
    assert all(torch.equal(st1[k], st2[k]) for k in st1 if k.startswith('encoder.'))
    assert any(not torch.equal(st1[k], st2[k]) for k in st1 if k.startswith('head.'))
    # --resume with more epochs: from the run's own checkpoint (the encoder still stage 1's)
    r = cli('train', '--out', out, '--resume', '--epochs', '3', '--threads', '1', '--progress', 'false', '--no-eval')
    assert r.code == 0 and 'Resuming' in r.err, r
    st3 = torch.load(sorted((out / 'checkpoints').glob('*.pt'))[-1], weights_only=True)
    assert st3['epoch'] == 3 and st3['config']['init_from'] == str(stage1)
    assert all(torch.equal(st1[k], st3['model'][k]) for k in st1 if k.startswith('encoder.'))

def test_compare_seed_placeholder(tmp_path, stage1):
    "hmlc_compare: '{seed}' gives every seed its own first stage; a missing one is refused before any run trains."
    root = tmp_path / 'stage1s'
    for s in (0, 1):
        (root / f'seed{s}').mkdir(parents=True)
        for f in stage1.rglob('*'):
            if f.is_file() and 'checkpoints' in f.parts:
                dst = root / f'seed{s}' / f.relative_to(stage1); dst.parent.mkdir(parents=True, exist_ok=True); dst.write_bytes(f.read_bytes())
    refused(cli('compare', '--out', tmp_path / 'cmp', '--methods', 'ghmlc', '--seeds', '0,2', *S,
                '--init_from', str(root / 'seed{seed}'), '--freeze_encoder', 'true', '--no-eval'), tmp_path / 'cmp', 'init_from', 'seed2')
    r = cli('compare', '--out', tmp_path / 'cmp', '--methods', 'ghmlc,ghmlc_random', '--seeds', '0,1', *S,
            '--init_from', str(root / 'seed{seed}'), '--freeze_encoder', 'true', '--no-eval')
    assert r.code == 0, r
