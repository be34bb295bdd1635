"""Hostile inputs and faults: every case names its expected outcome.

(a) a clean error: nonzero exit code, the message names the flag, file or problem, and no Python traceback;
(b) data preserved: files the package did not write are still there, byte-identical, and a failed command
    leaves an earlier run as it was;
(c) a correct result.

The command-line cases call `hmlc_nb.cli.main` in this process (a subprocess costs seconds of imports per
case): an exception escaping `main` is what a user would see as a traceback, so the runner prints it to the
captured stderr exactly as Python would. Every run is tiny (512 digits, batch 128, width 8, 1 epoch, one
thread), so a case that should fail before training but does not still costs only seconds.
Cases that need a second process (the run-folder lock) use a subprocess.

It runs with the default test suite (about half a minute); HMLC_HOSTILE_FAST=1 leaves out the cases that start a second process.
"""
import contextlib, hashlib, io, json, math, os, re, shutil, signal, subprocess, sys, time, traceback
from pathlib import Path
import pytest


import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', MPLBACKEND='Agg', PYTHONUNBUFFERED='1')
TB = 'Traceback (most recent call last)'
IS_ROOT = hasattr(os, 'geteuid') and os.geteuid() == 0

# The cheap budget of every command-line case: 4 steps of 128 digits, a width-8 CNN, one thread, no bar.
S = ['--n_train', '512', '--n_test', '256', '--epochs', '1', '--threads', '1', '--progress', 'false',
     '--batch_size', '128', '--width', '8']
EVAL = ['--probe-epochs', '2', '--tsne-points', '50']  # evaluation, kept small
LOCK_NAME = '.hmlc.lock'  # the run-folder lock: a file in the run folder holding the owner's pid
# Cases that start a second Python process or wait for one: HMLC_HOSTILE_FAST=1 leaves them out.
expensive = pytest.mark.skipif(os.environ.get('HMLC_HOSTILE_FAST') == '1', reason="expensive case (HMLC_HOSTILE_FAST=1)")

def _lock_name():
    for mod in ('hmlc_nb.checkpoint', 'hmlc_nb.train'):
        try: return getattr(__import__(mod, fromlist=['x']), 'LOCK_FILE', None) or LOCK_NAME
        except ImportError: continue
    return LOCK_NAME

def _import(name, *modules):
    "A public name that may move between modules during the refactoring (config / checkpoint / train / data)."
    for m in modules:
        try:
            mod = __import__(m, fromlist=['x'])
            if hasattr(mod, name): return getattr(mod, name)
        except ImportError: pass
    raise ImportError(f"{name} not found in {modules}")

# ---------------------------------------------------------------------------------------------- runners
class R:
    def __init__(self, code, out, err, seconds): self.code, self.out, self.err, self.seconds = code, out, err, seconds
    def __repr__(self): return f"exit {self.code}\n--- stdout\n{self.out[-3000:]}\n--- stderr\n{self.err[-5000:]}"

def cli(cmd, *args):
    "`python -m hmlc_nb.cli cmd args` in this process: exit code, stdout, stderr (an escaping exception is printed as Python does)."
    from hmlc_nb import cli as _cli
    out, err = io.StringIO(), io.StringIO()
    t0 = time.time()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try: code = _cli.main([cmd, *map(str, args)] if cmd else [*map(str, args)])
        except SystemExit as e: code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except KeyboardInterrupt: raise
        except BaseException:
            traceback.print_exc(file=err); code = 1
    return R(code, out.getvalue(), err.getvalue(), time.time() - t0)

def cli_proc(*args, timeout=300):
    return subprocess.run([sys.executable, '-m', 'hmlc_nb.cli', *map(str, args)], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=timeout)

def _word(w):
    "A regex for a flag or field name: `batch_size` also matches `batch-size`; `a|b`: either name."
    alts = [re.escape(a).replace('_', '[_-]').replace(r'\-', '[_-]') for a in str(w).split('|')]
    return re.compile('|'.join(alts), re.I)

def clean_error(r, *words):
    "Outcome (a): nonzero exit, no traceback, the message names every word."
    assert TB not in r.err, f"traceback instead of a clean error:\n{r}"
    assert r.code not in (0, None), f"exit code 0: the bad input was accepted:\n{r}"
    for w in words: assert _word(str(w)).search(r.err), f"the error does not name {w!r}:\n{r}"

def robust(r, *words):
    "Either a correct run (exit 0) or a clean error naming the words; never a traceback."
    assert TB not in r.err, f"traceback:\n{r}"
    if r.code != 0:
        for w in words: assert _word(str(w)).search(r.err), f"the error does not name {w!r}:\n{r}"

def snapshot(folder):
    "SHA-256 of every file under `folder` (relative path -> digest)."
    folder = Path(folder)
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob('*')) if p.is_file()}

def trained(out):
    "True when a checkpoint (or its folder) was written under `out`."
    return (Path(out) / 'checkpoints').exists()

@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    "Every case runs in its own folder (so `--out ''` or a relative path never writes into the repository)."
    monkeypatch.chdir(tmp_path)
    yield
    for p in tmp_path.rglob('*'):  # read-only folders made by a case: writable again for pytest's cleanup
        try:
            if p.is_dir() and not p.is_symlink(): p.chmod(0o755)
        except OSError: pass

# ------------------------------------------------------------------------- finished runs (made once)
@pytest.fixture(scope='module')
def done_run(tmp_path_factory):
    "A finished 3-epoch hmlc_train run with evaluation (results.json, log.json, embeddings.pt, tsne.png, 2 checkpoints)."
    out = tmp_path_factory.mktemp('done') / 'run'
    r = cli('train', '--out', out, *S, '--epochs', '3', '--method', 'hmce', *EVAL)
    assert r.code == 0, r
    for n in ('results.json', 'log.json', 'embeddings.pt', 'tsne.png', 'config.json'): assert (out / n).is_file(), n
    return out

@pytest.fixture
def run_copy(done_run, tmp_path):
    "A private copy of the finished run."
    dst = tmp_path / 'run'
    shutil.copytree(done_run, dst)
    return dst

@pytest.fixture(scope='module')
def done_compare(tmp_path_factory):
    "A finished hmlc_compare of supcon and hmce (one seed) with evaluation."
    out = tmp_path_factory.mktemp('cmp') / 'c'
    r = cli('compare', '--out', out, '--methods', 'supcon,hmce', *S, *EVAL)
    assert r.code == 0, r
    assert (out / 'results.json').is_file() and (out / 'seed0' / 'hmce' / 'results.json').is_file()
    return out

@pytest.fixture
def compare_copy(done_compare, tmp_path):
    dst = tmp_path / 'c'
    shutil.copytree(done_compare, dst)
    return dst

# ======================================================================================================
# (a) command-line values rejected with a clean error, before any training
# ======================================================================================================
NAN, INF = 'nan', 'inf'
_T = [  # id, extra args (they come after S, so they override it), words the message must name, needs evaluation
    ('threads-neg', ['--threads', '-3'], ['threads'], False),
    ('tsne-points-neg', ['--tsne-points', '-10'], ['tsne'], True),
    ('tsne-points-zero', ['--tsne-points', '0'], ['tsne'], True),
    ('probe-epochs-zero', ['--probe-epochs', '0'], ['probe'], True),
    ('probe-epochs-neg', ['--probe-epochs', '-1'], ['probe'], True),
    ('n-test-1', ['--n_test', '1'], ['n_test'], True),
    ('n-test-neg', ['--n_test', '-1'], ['n_test'], False),
    ('epochs-zero', ['--epochs', '0'], ['epochs'], False),
    ('epochs-neg', ['--epochs', '-1'], ['epochs'], False),
    ('epochs-float', ['--epochs', '1.5'], ['epochs'], False),
    ('epochs-nan', ['--epochs', NAN], ['epochs'], False),
    ('epochs-text', ['--epochs', 'abc'], ['epochs'], False),
    ('batch-zero', ['--batch_size', '0'], ['batch_size'], False),
    ('batch-one', ['--batch_size', '1'], ['batch_size'], False),
    ('batch-neg', ['--batch_size', '-5'], ['batch_size'], False),
    ('batch-huge', ['--batch_size', str(10**12)], ['batch_size'], False),
    ('lr-zero', ['--lr', '0'], ['lr'], False),
    ('lr-neg', ['--lr', '-1'], ['lr'], False),
    ('lr-nan', ['--lr', NAN], ['lr'], False),
    ('lr-inf', ['--lr', INF], ['lr'], False),
    ('lr-overflow', ['--lr', '1e999'], ['lr'], False),
    ('lr-text', ['--lr', 'fast'], ['lr'], False),
    ('temperature-zero', ['--temperature', '0'], ['temperature'], False),
    ('temperature-neg', ['--temperature', '-0.1'], ['temperature'], False),
    ('temperature-nan', ['--temperature', NAN], ['temperature'], False),
    ('temperature-inf', ['--temperature', INF], ['temperature'], False),
    ('base-temperature-zero', ['--base_temperature', '0'], ['base_temperature'], False),
    ('base-temperature-nan', ['--base_temperature', NAN], ['base_temperature'], False),
    ('base-temperature-inf', ['--base_temperature', INF], ['base_temperature'], False),
    ('weight-decay-neg', ['--weight_decay', '-1'], ['weight_decay'], False),
    ('weight-decay-nan', ['--weight_decay', NAN], ['weight_decay'], False),
    ('momentum-one', ['--momentum', '1'], ['momentum'], False),
    ('momentum-neg', ['--momentum', '-0.1'], ['momentum'], False),
    ('momentum-nan', ['--momentum', NAN], ['momentum'], False),
    ('warmup-neg', ['--warmup_epochs', '-1'], ['warmup_epochs'], False),
    ('warmup-gt-epochs', ['--warmup_epochs', '5'], ['warmup_epochs'], False),
    ('warmup-nan', ['--warmup_epochs', NAN], ['warmup_epochs'], False),
    ('n-train-neg', ['--n_train', '-1'], ['n_train'], False),
    ('n-train-lt-batch', ['--n_train', '100'], ['n_train'], False),
    ('width-zero', ['--width', '0'], ['width'], False),
    ('proj-dim-zero', ['--proj_dim', '0'], ['proj_dim'], False),
    ('feat-dim-zero', ['--feat_dim', '0'], ['feat_dim'], False),
    ('proj-hidden-zero', ['--proj_hidden', '0'], ['proj_hidden'], False),
    ('img-size-zero', ['--img_size', '0'], ['img_size'], False),
    ('img-size-4', ['--img_size', '4'], ['image_size|img_size'], False),
    ('n-views-zero', ['--n_views', '0'], ['n_views'], False),
    ('n-points-zero', ['--n_points', '0'], ['n_points'], False),
    ('seed-neg', ['--seed', '-1'], ['seed'], False),
    ('seed-2pow64', ['--seed', str(2**64)], ['seed'], False),
    ('seed-huge', ['--seed', str(10**30)], ['seed'], False),
    ('data-seed-neg', ['--data_seed', '-1'], ['data_seed'], False),
    ('data-seed-2pow64', ['--data_seed', str(2**64)], ['data_seed'], False),
    ('keep-last-zero', ['--keep_last', '0'], ['keep_last'], False),
    ('save-every-zero', ['--save_every', '0'], ['save_every'], False),
    ('grad-clip-neg', ['--grad_clip', '-1'], ['grad_clip'], False),
    ('grad-clip-nan', ['--grad_clip', NAN], ['grad_clip'], False),
    ('prefix-until-2', ['--prefix_until', '2'], ['prefix_until'], False),
    ('prefix-until-nan', ['--prefix_until', NAN], ['prefix_until'], False),
    ('crop-min-zero', ['--crop_min', '0'], ['crop_min'], False),
    ('crop-min-nan', ['--crop_min', NAN], ['crop_min'], False),
    ('hflip-2', ['--hflip', '2'], ['hflip'], False),
    ('path-weight-neg', ['--path_weight', '-1'], ['path_weight'], False),
    ('path-weight-nan', ['--path_weight', NAN], ['path_weight'], False),
    ('path-weight-inf', ['--path_weight', INF], ['path_weight'], False),
    ('min-lr-ratio-2', ['--min_lr_ratio', '2'], ['min_lr_ratio'], False),
    ('cpcc-weight-neg', ['--cpcc_weight', '-1'], ['cpcc_weight'], False),
    ('num-workers-neg', ['--num_workers', '-1'], ['num_workers'], False),
    ('max-shift-neg', ['--max_shift', '-1'], ['max_shift'], False),
    ('sub-size-zero', ['--sub_size', '0'], ['sub_size'], False),
    ('sub-size-gt-img', ['--sub_size', '999'], ['sub_size'], False),
    ('method-unknown', ['--method', 'ghmcl'], ['method'], False),
    ('preset-unknown', ['--preset', 'imagenet'], ['preset'], False),
    ('optimizer-unknown', ['--optimizer', 'adam'], ['optimizer'], False),
    ('amp-unknown', ['--amp', 'fp8'], ['amp'], False),
    ('device-mps', ['--device', 'mps'], ['device'], False),
    ('device-tpu', ['--device', 'tpu'], ['device'], False),
    ('encoder-unknown', ['--encoder', 'vit'], ['encoder'], False),
    ('dataset-unknown', ['--dataset', 'imagenet'], ['dataset'], False),
    ('augment-unknown', ['--augment', 'mixup'], ['augment'], False),
    ('positives-unknown', ['--positives', 'sibling'], ['positives'], False),
    ('mask-positives-unknown', ['--mask_positives', 'all'], ['mask_positives'], False),
    ('layer-penalty-unknown', ['--layer_penalty', 'cube'], ['layer_penalty'], False),
    ('cpcc-metric-unknown', ['--cpcc_metric', 'l1'], ['cpcc_metric'], False),
    ('deterministic-unknown', ['--deterministic', 'maybe'], ['deterministic'], False),
    ('in-channels-3-digits', ['--in_channels', '3'], ['in_channels'], False),
    ('in-channels-zero', ['--in_channels', '0'], ['in_channels'], False),
    ('progress-not-bool', ['--progress', 'maybe'], ['progress'], False),
    ('unknown-flag-levels', ['--levels', '3'], ['levels'], False),
    ('resume-and-overwrite', ['--resume', '--overwrite'], ['resume', 'overwrite'], False),
]

@pytest.mark.parametrize('args,words,needs_eval', [pytest.param(a, w, e, id=f'train-{i}') for i, a, w, e in _T])
def test_train_rejects(tmp_path, args, words, needs_eval):
    "hmlc_train refuses the value with a clean error naming it, before training (no checkpoint written)."
    out = tmp_path / 'run'
    r = cli('train', '--out', out, *S, *(EVAL if needs_eval else ['--no-eval']), *args)
    clean_error(r, *words)
    assert not trained(out), f"the error came after training:\n{r}"

@pytest.mark.skipif(torch.cuda.is_available(), reason="asks for CUDA where there is none")
def test_train_rejects_cuda_without_cuda(tmp_path):
    "--device cuda on a machine without CUDA: a clean error naming the device."
    r = cli('train', '--out', tmp_path / 'run', *S, '--no-eval', '--device', 'cuda')
    clean_error(r, 'device')

@expensive
@pytest.mark.timeout(120)
def test_real_process_no_traceback(tmp_path):
    "The same check in a real process: `--in_channels 3` on 1-channel digits exits with a clean error, no traceback."
    r = cli_proc('train', '--out', tmp_path / 'run', *S, '--no-eval', '--in_channels', '3', timeout=110)
    assert TB not in r.stderr, r.stderr
    assert r.returncode not in (0, None) and _word('in_channels').search(r.stderr), r.stderr

def test_train_seed_beyond_int64_range(tmp_path):
    "A seed that fits 64 bits but overflows the epoch generator (seed * 100003): a run or a clean error naming the seed."
    out = tmp_path / 'run'
    r = cli('train', '--out', out, *S, '--no-eval', '--seed', str(2**62))
    robust(r, 'seed')

_C = [  # id, args, words
    ('methods-empty', ['--methods', ''], ['methods']),
    ('methods-commas', ['--methods', ',,'], ['methods']),
    ('methods-unknown', ['--methods', 'supcon,foo'], ['methods', 'foo']),
    ('methods-duplicate', ['--methods', 'supcon,supcon'], ['methods', 'supcon']),
    ('seeds-duplicate', ['--methods', 'supcon', '--seeds', '0,0'], ['seeds']),
    ('seeds-neg', ['--methods', 'supcon', '--seeds', '-1'], ['seed']),
    ('seeds-text', ['--methods', 'supcon', '--seeds', 'a,b'], ['seeds']),
    ('seeds-empty', ['--methods', 'supcon', '--seeds', ''], ['seeds']),
    ('seeds-2pow64', ['--methods', 'supcon', '--seeds', str(2**64)], ['seed']),
    ('table-unknown', ['--methods', 'supcon', '--table', 'wide'], ['table']),
    ('preset-unknown', ['--methods', 'supcon', '--preset', 'imagenet'], ['preset']),
    ('threads-neg', ['--methods', 'supcon', '--threads', '-3'], ['threads']),
    ('lr-neg', ['--methods', 'supcon', '--lr', '-1'], ['lr']),
    ('n-test-1', ['--methods', 'supcon', '--n_test', '1', *EVAL], ['n_test']),
    ('tsne-points-neg', ['--methods', 'supcon', '--tsne-points', '-10'], ['tsne']),
    ('probe-epochs-zero', ['--methods', 'supcon', '--probe-epochs', '0'], ['probe']),
    ('resume-and-overwrite', ['--methods', 'supcon', '--resume', '--overwrite'], ['resume', 'overwrite']),
]

@pytest.mark.parametrize('args,words', [pytest.param(a, w, id=f'compare-{i}') for i, a, w in _C])
def test_compare_rejects(tmp_path, args, words):
    "hmlc_compare refuses the value with a clean error naming it, before any run trains."
    out = tmp_path / 'c'
    no_eval = [] if any(a in args for a in ('--tsne-points', '--probe-epochs', '--n_test')) else ['--no-eval']
    r = cli('compare', '--out', out, *S, *no_eval, *args)
    clean_error(r, *words)
    assert not list(out.glob('seed*/*/checkpoints')), f"a run trained before the error:\n{r}"

def test_compare_method_abbreviation(tmp_path):
    "`hmlc_compare --method supcon` (argparse reads it as --methods): runs exactly supcon, a correct result."
    r = cli('compare', '--out', tmp_path / 'c', '--method', 'supcon', *S, '--no-eval')
    assert r.code == 0 and TB not in r.err, r
    assert [x['method'] for x in json.loads((tmp_path / 'c' / 'results.json').read_text())] == ['supcon']

@pytest.mark.parametrize('argv', [pytest.param([], id='cli-no-command'), pytest.param(['fit'], id='cli-unknown-command')])
def test_cli_bad_command(argv):
    r = cli(None, *argv)
    clean_error(r, 'usage')

# ------------------------------------------------------------------------------------ --out problems
def test_out_empty(tmp_path):
    "--out '': a clean error naming --out (not a run written into the working folder)."
    r = cli('train', '--out', '', *S, '--no-eval')
    clean_error(r, 'out')
    assert not (tmp_path / 'checkpoints').exists()

def test_compare_out_empty(tmp_path):
    r = cli('compare', '--out', '', '--methods', 'supcon', *S, '--no-eval')
    clean_error(r, 'out')
    assert not (tmp_path / 'seed0').exists()

def test_out_under_a_file(tmp_path):
    "--out below a regular file: a clean error naming the path."
    (tmp_path / 'f').write_text('mine')
    r = cli('train', '--out', tmp_path / 'f' / 'run', *S, '--no-eval')
    clean_error(r, str(tmp_path / 'f'))
    assert (tmp_path / 'f').read_text() == 'mine'

def test_compare_out_under_a_file(tmp_path):
    (tmp_path / 'f').write_text('mine')
    r = cli('compare', '--out', tmp_path / 'f' / 'c', '--methods', 'supcon', *S, '--no-eval')
    clean_error(r, str(tmp_path / 'f'))
    assert (tmp_path / 'f').read_text() == 'mine'

def test_out_is_a_file(tmp_path):
    (tmp_path / 'f').write_text('mine')
    r = cli('train', '--out', tmp_path / 'f', *S, '--no-eval')
    clean_error(r, str(tmp_path / 'f'))
    assert (tmp_path / 'f').read_text() == 'mine'

def test_out_not_writable_sysfs():
    "--out where nothing may be created (sysfs refuses even root): a clean error naming the path."
    r = cli('train', '--out', '/sys/hmlc_hostile_run', *S, '--no-eval')
    clean_error(r, '/sys/hmlc_hostile_run')

@pytest.mark.skipif(IS_ROOT, reason="root ignores folder permissions")
def test_out_read_only_folder(tmp_path):
    ro = tmp_path / 'ro'; ro.mkdir(); ro.chmod(0o555)
    r = cli('train', '--out', ro / 'run', *S, '--no-eval')
    clean_error(r, str(ro))

# ======================================================================================================
# (b) data preserved
# ======================================================================================================
def test_issue1_compare_overwrite_keeps_user_seed_folder(tmp_path):
    "hmlc_compare --overwrite deletes only the comparison it made: a user's `seed_bank/` survives, byte-identical."
    c = tmp_path / 'c'
    (c / 'seed_bank').mkdir(parents=True); (c / 'seed_bank' / 'data.csv').write_text('x\n')
    (c / 'seeds').mkdir(); (c / 'seeds' / 'list.txt').write_text('1 2 3\n')
    mine = snapshot(c)
    r1 = cli('compare', '--out', c, '--methods', 'supcon', *S, '--no-eval')
    r2 = cli('compare', '--out', c, '--methods', 'supcon', *S, '--no-eval', '--overwrite')
    after = snapshot(c)
    assert all(after.get(k) == v for k, v in mine.items()), f"user files lost: {set(mine) - set(after)}\n{r1}\n{r2}"
    assert r1.code == 0, r1
    assert r2.code == 0, r2

def test_issue2_resume_without_checkpoints_refuses(run_copy):
    "--resume on a finished run whose checkpoints/ was deleted: refuse, and keep results, logs, embeddings, figure."
    shutil.rmtree(run_copy / 'checkpoints')
    before = snapshot(run_copy)
    r = cli('train', '--out', run_copy, '--resume', *S, '--epochs', '3', '--method', 'hmce', *EVAL)
    clean_error(r, 'checkpoint')
    assert snapshot(run_copy) == before

def test_resume_epochs_below_trained_refuses(run_copy):
    "--resume --epochs 1 on a 3-epoch run: refuse naming `epochs`; the run stays as it was."
    before = snapshot(run_copy)
    r = cli('train', '--out', run_copy, '--resume', *S, '--epochs', '1', '--method', 'hmce', *EVAL)
    clean_error(r, 'epochs')
    assert snapshot(run_copy) == before

@pytest.mark.parametrize('content', [
    pytest.param(b'{"lr": 0.1, ', id='config-truncated'),
    pytest.param(b'\x00\xff garbage', id='config-binary'),
    pytest.param(b'[1, 2, 3]', id='config-list'),
    pytest.param(b'{"lr": "fast", "method": "hmce"}', id='config-bad-value'),
    pytest.param(b'', id='config-empty')])
def test_resume_garbage_config(run_copy, content):
    "A damaged config.json on --resume: a clean error naming config.json; nothing in the run changes."
    (run_copy / 'config.json').write_bytes(content)
    before = snapshot(run_copy)
    r = cli('train', '--out', run_copy, '--resume', *S, '--epochs', '3', '--method', 'hmce', *EVAL)
    clean_error(r, 'config.json')
    assert snapshot(run_copy) == before

def test_resume_config_is_a_directory(run_copy):
    "config.json is a folder: a clean error naming it (not IsADirectoryError at the end of training)."
    (run_copy / 'config.json').unlink(); (run_copy / 'config.json').mkdir()
    before = snapshot(run_copy)
    r = cli('train', '--out', run_copy, '--resume', *S, '--epochs', '3', '--method', 'hmce', *EVAL)
    clean_error(r, 'config.json')
    assert snapshot(run_copy) == before

def test_resume_checkpoints_is_a_file(run_copy):
    "checkpoints is a regular file: a clean error naming it; the file is kept."
    shutil.rmtree(run_copy / 'checkpoints'); (run_copy / 'checkpoints').write_text('mine')
    before = snapshot(run_copy)
    r = cli('train', '--out', run_copy, '--resume', *S, '--epochs', '3', '--method', 'hmce', *EVAL)
    clean_error(r, 'checkpoints')
    assert snapshot(run_copy) == before

def test_overwrite_keeps_user_files(run_copy):
    "--overwrite replaces the run's files only: a user's notes in the folder survive."
    (run_copy / 'notes.txt').write_text('my notes')
    (run_copy / 'data').mkdir(); (run_copy / 'data' / 'x.csv').write_text('1,2')
    r = cli('train', '--out', run_copy, '--overwrite', *S, '--no-eval', '--method', 'hmce')
    assert r.code == 0, r
    assert (run_copy / 'notes.txt').read_text() == 'my notes' and (run_copy / 'data' / 'x.csv').read_text() == '1,2'

@pytest.mark.parametrize('bad', [pytest.param(['--n_test', '1'], id='overwrite-n-test-1'),
                                 pytest.param(['--tsne-points', '-10'], id='overwrite-tsne-neg'),
                                 pytest.param(['--probe-epochs', '0'], id='overwrite-probe-zero')])
def test_overwrite_with_bad_setting_keeps_old_run(run_copy, bad):
    "--overwrite with a setting that cannot work: refused before anything is deleted."
    before = snapshot(run_copy)
    r = cli('train', '--out', run_copy, '--overwrite', *S, '--method', 'hmce', *EVAL, *bad)
    clean_error(r)
    assert snapshot(run_copy) == before

def test_no_flag_on_finished_run_refuses(run_copy):
    before = snapshot(run_copy)
    r = cli('train', '--out', run_copy, *S, '--no-eval')
    clean_error(r, 'resume', 'overwrite')
    assert snapshot(run_copy) == before

def test_user_files_in_new_out_kept(tmp_path):
    "A new run in a folder that holds only the user's files: it runs, and the files stay."
    out = tmp_path / 'run'; out.mkdir(); (out / 'readme.md').write_text('mine')
    r = cli('train', '--out', out, *S, '--no-eval')
    assert r.code == 0, r
    assert (out / 'readme.md').read_text() == 'mine'

def test_user_file_in_checkpoints_kept(run_copy):
    "A user's file inside checkpoints/ is not pruned by a resumed run."
    (run_copy / 'checkpoints' / 'README.txt').write_text('keep me')
    r = cli('train', '--out', run_copy, '--resume', *S, '--epochs', '4', '--method', 'hmce', '--no-eval')
    assert r.code == 0, r
    assert (run_copy / 'checkpoints' / 'README.txt').read_text() == 'keep me'

def test_compare_overwrite_with_bad_setting_keeps_old(compare_copy):
    "hmlc_compare --overwrite with a setting refused later (--n_test 1): the old comparison is not deleted first."
    before = snapshot(compare_copy)
    r = cli('compare', '--out', compare_copy, '--methods', 'supcon,hmce', *S, *EVAL, '--n_test', '1', '--overwrite')
    clean_error(r, 'n_test')
    assert snapshot(compare_copy) == before

# ------------------------------------------------------------------------------------ issue 5: compare --resume
def test_issue5_compare_resume_damaged_run_results(compare_copy):
    "One damaged per-run results.json: the error names it, and the top-level results.json is not rewritten."
    bad = compare_copy / 'seed0' / 'hmce' / 'results.json'
    bad.write_text('{"method": "hmce", ')
    top = (compare_copy / 'results.json').read_bytes()
    r = cli('compare', '--out', compare_copy, '--methods', 'supcon,hmce', *S, *EVAL, '--resume')
    clean_error(r, 'seed0', 'hmce', 'results.json')
    assert (compare_copy / 'results.json').read_bytes() == top

def test_compare_resume_run_results_not_a_dict(compare_copy):
    (compare_copy / 'seed0' / 'supcon' / 'results.json').write_text('[1, 2]')
    top = (compare_copy / 'results.json').read_bytes()
    r = cli('compare', '--out', compare_copy, '--methods', 'supcon,hmce', *S, *EVAL, '--resume')
    clean_error(r, 'supcon', 'results.json')
    assert (compare_copy / 'results.json').read_bytes() == top

@pytest.mark.parametrize('change,field', [pytest.param(['--lr', '0.05'], 'lr', id='resume-changed-lr'),
                                          pytest.param(['--temperature', '0.5'], 'temperature', id='resume-changed-temperature'),
                                          pytest.param(['--width', '16'], 'width', id='resume-changed-width')])
def test_issue5_compare_resume_changed_settings_refuses(compare_copy, change, field):
    "Finished runs are not skipped silently under changed settings: refuse, naming the changed field."
    before = snapshot(compare_copy)
    r = cli('compare', '--out', compare_copy, '--methods', 'supcon,hmce', *S, *EVAL, '--resume', *change)
    clean_error(r, field)
    assert snapshot(compare_copy) == before

# ------------------------------------------------------------------------------------ issue 3: the run-folder lock
def _wait(pred, timeout, what):
    t = time.time()
    while time.time() - t < timeout:
        if pred(): return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")

@expensive
@pytest.mark.timeout(300)
def test_issue3_second_run_on_same_out_refused(tmp_path):
    "While a run trains in `out`, a second run there (--overwrite or --resume) is refused and deletes nothing."
    out = tmp_path / 'run'
    p = subprocess.Popen([sys.executable, '-m', 'hmlc_nb.cli', 'train', '--out', str(out), *S, '--epochs', '400',
                          '--no-eval'], cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait(lambda: (out / 'checkpoints').is_dir() or p.poll() is not None, 240, "the first run's first checkpoint")
        assert p.poll() is None, p.communicate()
        r2 = cli('train', '--out', out, *S, '--epochs', '2', '--no-eval', '--resume')
        r1 = cli('train', '--out', out, *S, '--epochs', '2', '--no-eval', '--overwrite')
        still = p.poll() is None
    finally:
        if p.poll() is None: p.send_signal(signal.SIGTERM)
        try: p.communicate(timeout=60)
        except subprocess.TimeoutExpired: p.kill(); p.communicate()
    assert still, "the first run died while the second was started"
    clean_error(r1, 'run'); clean_error(r2, 'run')
    for r in (r1, r2): assert re.search(r'lock|another|running|in use', r.err, re.I), r

def test_lock_released_on_exit(tmp_path):
    "A run that ended (normally or with an error) leaves no lock behind: the next run in that folder proceeds."
    out = tmp_path / 'run'
    assert cli('train', '--out', out, *S, '--no-eval').code == 0
    r = cli('train', '--out', out, *S, '--no-eval', '--resume', '--epochs', '2')
    assert r.code == 0, r
    bad = cli('train', '--out', out, *S, '--no-eval', '--resume', '--epochs', '2', '--lr', '0.5')  # refused by config
    assert bad.code != 0
    r = cli('train', '--out', out, *S, '--no-eval', '--overwrite')
    assert r.code == 0, r

def _dead_pid():
    p = subprocess.Popen([sys.executable, '-c', 'pass']); p.wait()
    return p.pid

def test_stale_lock_of_dead_process_taken_over(tmp_path):
    "A lock file left by a process that no longer exists is detected as stale and taken over."
    out = tmp_path / 'run'
    assert cli('train', '--out', out, *S, '--no-eval').code == 0
    (out / _lock_name()).write_text(f"{_dead_pid()}\n")
    r = cli('train', '--out', out, *S, '--no-eval', '--resume', '--epochs', '2')
    assert r.code == 0, r
    assert json.loads((out / 'log.json').read_text())[-1]['epoch'] == 2

def test_stale_lock_compare(tmp_path):
    c = tmp_path / 'c'
    c.mkdir(); (c / _lock_name()).write_text(f"{_dead_pid()}\n")
    r = cli('compare', '--out', c, '--methods', 'supcon', *S, '--no-eval')
    assert r.code == 0, r

# ------------------------------------------------------------------------------------ checkpoints
def _flip(path, at=0.6):
    b = bytearray(path.read_bytes()); i = int(len(b) * at); b[i] ^= 0xFF; path.write_bytes(bytes(b))

def _fake_ckpt(path):
    save_checkpoint = _import('save_checkpoint', 'hmlc_nb.checkpoint', 'hmlc_nb.train')
    save_checkpoint(dict(model={'w': torch.arange(4096.)}, config={}, epoch=1), path)
    return path

@pytest.mark.parametrize('at', [pytest.param(0.5, id='ckpt-flip-middle'), pytest.param(0.75, id='ckpt-flip-late')])
def test_flipped_checkpoint_without_side_file_not_loaded(tmp_path, at):
    "A checkpoint with a flipped byte and no .sha256 side file: `load_checkpoint` raises CheckpointError (no silent load)."
    load_checkpoint = _import('load_checkpoint', 'hmlc_nb.checkpoint', 'hmlc_nb.train')
    CheckpointError = _import('CheckpointError', 'hmlc_nb.checkpoint', 'hmlc_nb.train')
    p = _fake_ckpt(tmp_path / 'ckpt_s00000001_e0001.pt')
    p.with_name(p.name + '.sha256').unlink()
    b = bytearray(p.read_bytes())
    i = b.find(torch.arange(4096.).numpy().tobytes()[int(4 * 4096 * at):int(4 * 4096 * at) + 8])
    assert i > 0
    b[i] ^= 0x01; p.write_bytes(bytes(b))
    with pytest.raises(CheckpointError, match=re.escape(p.name)): load_checkpoint(p)

def test_truncated_checkpoint_without_side_file(tmp_path):
    load_checkpoint = _import('load_checkpoint', 'hmlc_nb.checkpoint', 'hmlc_nb.train')
    CheckpointError = _import('CheckpointError', 'hmlc_nb.checkpoint', 'hmlc_nb.train')
    p = _fake_ckpt(tmp_path / 'ckpt_s00000001_e0001.pt')
    p.with_name(p.name + '.sha256').unlink()
    p.write_bytes(p.read_bytes()[:len(p.read_bytes()) // 2])
    with pytest.raises(CheckpointError, match=re.escape(p.name)): load_checkpoint(p)

def test_not_a_checkpoint_file(tmp_path):
    load_checkpoint = _import('load_checkpoint', 'hmlc_nb.checkpoint', 'hmlc_nb.train')
    CheckpointError = _import('CheckpointError', 'hmlc_nb.checkpoint', 'hmlc_nb.train')
    p = tmp_path / 'x.pt'; torch.save([1, 2, 3], p)
    with pytest.raises(CheckpointError, match='x.pt'): load_checkpoint(p)

def test_resume_flipped_latest_without_side_file(run_copy):
    "--resume with the newest checkpoint damaged and its .sha256 gone: it is not loaded silently (warning naming it, fallback)."
    ck = sorted((run_copy / 'checkpoints').glob('ckpt_*.pt'))
    assert len(ck) == 2
    ck[-1].with_name(ck[-1].name + '.sha256').unlink()
    b = bytearray(ck[-1].read_bytes()); b[len(b) // 2] ^= 0x01; ck[-1].write_bytes(bytes(b))
    r = cli('train', '--out', run_copy, '--resume', *S, '--epochs', '3', '--method', 'hmce', '--no-eval')
    robust(r, ck[-1].name)
    assert ck[-1].name in r.err, f"the damaged checkpoint was loaded without a word:\n{r}"

def test_resume_checkpoint_is_a_directory(run_copy):
    "A folder named like the newest checkpoint: skipped or refused cleanly, never a traceback."
    ck = sorted((run_copy / 'checkpoints').glob('ckpt_*.pt'))
    ck[-1].unlink(); ck[-1].mkdir()
    r = cli('train', '--out', run_copy, '--resume', *S, '--epochs', '3', '--method', 'hmce', '--no-eval')
    robust(r, ck[-1].name)

def test_stale_tmp_and_corrupt_files_cleaned(run_copy):
    "After a resumed run finishes, no `.tmp` files of dead writers and no `.corrupt` copies remain in the run folder."
    ckd = run_copy / 'checkpoints'
    pid = _dead_pid()
    junk = [ckd / f'.ckpt_s00000099_e0009.pt.{pid}.tmp', run_copy / f'.log.json.{pid}.tmp',
            run_copy / f'.results.json.{pid}.tmp', ckd / 'ckpt_s00000002_e0001.pt.corrupt',
            ckd / 'ckpt_s00000002_e0001.pt.sha256.corrupt']
    for j in junk: j.write_bytes(b'partial')
    r = cli('train', '--out', run_copy, '--resume', *S, '--epochs', '4', '--method', 'hmce', '--no-eval')
    assert r.code == 0, r
    left = [p.name for p in run_copy.rglob('*') if p.name.endswith(('.tmp', '.corrupt'))]
    assert not left, f"left behind: {left}"

# ------------------------------------------------------------------------------------ issue 4: divergence
@pytest.mark.parametrize('method', ['ghmlc', 'ahmlc', 'hmce', 'supcon'])
def test_issue4_divergence_is_nonfinite_loss_error(tmp_path, method):
    "lr 1e12 with SGD and no warm-up: the package's NonFiniteLossError message (step, statistics, checkpoint), no scipy error."
    r = cli('train', '--out', tmp_path / 'run', *S, '--no-eval', '--method', method, '--optimizer', 'sgd',
            '--warmup_epochs', '0', '--lr', '1e12', '--epochs', '2')
    clean_error(r, 'step', 'statistics', 'checkpoint')
    assert 'invalid numeric entries' not in r.err, r
    assert r.code == 3, r

# ======================================================================================================
# Python API: hierarchy, trainer data, losses, mixture, evaluation, datasets
# ======================================================================================================
from hmlc_nb.hierarchy import Hierarchy

@pytest.mark.parametrize('parents', [
    pytest.param([0, None], id='parents-none'),
    pytest.param([0, 1.5], id='parents-float'),
    pytest.param({'a': 'b', 'b': 'a'}, id='parents-cycle'),
    pytest.param({'a': 'a'}, id='parents-self'),
    pytest.param([True, False], id='parents-bool'),
    pytest.param([0, float('nan')], id='parents-nan'),
    pytest.param({'a': None, 'b': 'x'}, id='parents-dict-none'),
    pytest.param({None: 'x', 'b': 'x'}, id='parents-none-name')])
def test_from_parents_rejects(parents):
    with pytest.raises(ValueError): Hierarchy.from_parents(parents)

@pytest.mark.parametrize('d', [
    pytest.param(None, id='dict-none'),
    pytest.param([], id='dict-list'),
    pytest.param({}, id='dict-empty'),
    pytest.param('leaf_paths', id='dict-str'),
    pytest.param({'leaf_paths': 'abc', 'names': 5}, id='dict-garbage-values'),
    pytest.param({'leaf_paths': [[0, 0]], 'names': [['a'], ['x']], 'level_names': 7}, id='dict-level-names-int'),
    pytest.param({'leaf_paths': [[0.5]], 'names': [['a']]}, id='dict-float-ids'),
    pytest.param({'leaf_paths': [[0, 1]], 'names': [['a'], ['x']]}, id='dict-id-out-of-range'),
    pytest.param({'leaf_paths': [[0]], 'names': 'a'}, id='dict-names-str')])
def test_from_dict_rejects(d):
    with pytest.raises(ValueError): Hierarchy.from_dict(d)

@pytest.mark.parametrize('paths', [
    pytest.param([[float('nan'), 'a'], [float('nan'), 'b']], id='paths-nan'),
    pytest.param([[None, 'a'], ['x', 'b']], id='paths-none')])
def test_from_paths_rejects(paths):
    with pytest.raises(ValueError): Hierarchy.from_paths(paths)

class _TinyData(torch.utils.data.Dataset):
    "A tensor dataset with a 2-level tree (2 coarse x 2 fine each) and the given label paths."
    def __init__(self, targets, n=256):
        g = torch.Generator().manual_seed(0)
        self.hierarchy = Hierarchy.from_parents([0, 0, 1, 1])
        self.data = torch.randint(0, 256, (n, 1, 32, 32), dtype=torch.uint8, generator=g)
        self.targets = torch.as_tensor(targets, dtype=torch.long)
    def __len__(self): return len(self.data)
    def __getitem__(self, i): return self.data[i].float() / 255, self.targets[i]

def _good_targets(n=256):
    fine = torch.arange(n) % 4
    return torch.stack([fine // 2, fine], 1)

@pytest.mark.parametrize('edit', [
    pytest.param(lambda t: t.__setitem__((5, 1), 99), id='trainer-label-out-of-range'),
    pytest.param(lambda t: t.__setitem__((5, 0), -1), id='trainer-label-negative'),
    pytest.param(lambda t: t.__setitem__((5, slice(None)), torch.tensor([1, 0])), id='trainer-path-not-in-tree'),
    pytest.param('cols', id='trainer-label-wrong-levels')])
def test_trainer_data_labels_outside_hierarchy(edit):
    "Labels that do not fit the dataset's hierarchy, passed via Trainer(data=...): a ValueError before training."
    Trainer = _import('Trainer', 'hmlc_nb.train')
    get_config = _import('get_config', 'hmlc_nb.config', 'hmlc_nb.train')
    t = _good_targets()
    if edit == 'cols': t = torch.cat([t, t[:, :1]], 1)
    else: edit(t)
    tr, te = _TinyData(t), _TinyData(_good_targets())
    cfg = get_config('digits', method='hmce', epochs=1, n_train=256, n_test=256, batch_size=128, width=8, progress=False,
                     device='cpu')
    with pytest.raises(ValueError): Trainer(cfg, None, data=(tr, te), log=lambda *a: None).fit()

def _batch(B=16, V=2, D=16, zero_row=0):
    g = torch.Generator().manual_seed(0)
    z = torch.randn(B, V, D, generator=g)
    z[zero_row] = 0.0
    fine = torch.arange(B) % 4
    return z.requires_grad_(True), torch.stack([fine // 2, fine], 1)

@pytest.mark.parametrize('which', ['ghmlc', 'ahmlc'])
def test_single_zero_embedding_finite(which):
    "One all-zero embedding in the batch: finite loss and finite gradients."
    from hmlc_nb.masking import GHMLCLoss, AHMLCLoss
    crit = GHMLCLoss(2, temperature=0.1, base_temperature=0.1) if which == 'ghmlc' else AHMLCLoss(16, 2, temperature=0.1, base_temperature=0.1)
    z, y = _batch()
    loss = crit(z, y)
    assert torch.isfinite(loss), loss
    loss.backward()
    assert torch.isfinite(z.grad).all()
    for p in crit.parameters():
        if p.grad is not None: assert torch.isfinite(p.grad).all()

@pytest.mark.parametrize('bad', [pytest.param(float('nan'), id='gmm-nan'), pytest.param(float('inf'), id='gmm-inf')])
def test_torchgmm_nonfinite_input(bad):
    "TorchGMM.fit on a non-finite value: a ValueError that says so (not NaN parameters or a linear-algebra error)."
    from hmlc_nb.mixtures import TorchGMM
    x = torch.randn(64, 4, generator=torch.Generator().manual_seed(0)); x[3, 1] = bad
    with pytest.raises(ValueError, match=r'(?i)nan|finite|inf'): TorchGMM(2, seed=0).fit(x)

@pytest.mark.parametrize('T', [pytest.param(float('inf'), id='supcon-temp-inf'), pytest.param(0.0, id='supcon-temp-zero'),
                               pytest.param(float('nan'), id='supcon-temp-nan'), pytest.param(-0.1, id='supcon-temp-neg')])
def test_supcon_bad_temperature(T):
    from hmlc_nb.losses import supcon_loss
    z, y = _batch()
    with pytest.raises(ValueError, match='temperature'):
        supcon_loss(torch.nn.functional.normalize(z, dim=-1), y[:, 1], temperature=T)

@pytest.mark.parametrize('which', ['ghmlc', 'ahmlc'])
@pytest.mark.parametrize('T', [pytest.param(float('inf'), id='temp-inf'), pytest.param(float('nan'), id='temp-nan')])
def test_masked_loss_bad_temperature(which, T):
    from hmlc_nb.masking import GHMLCLoss, AHMLCLoss
    with pytest.raises(ValueError, match='temperature'):
        crit = GHMLCLoss(2, temperature=T) if which == 'ghmlc' else AHMLCLoss(16, 2, temperature=T)
        z, y = _batch(); crit(z, y)

def _feats(n=64, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    fine = torch.arange(n) % 4
    return torch.randn(n, d, generator=g), torch.stack([fine // 2, fine], 1)

@pytest.mark.parametrize('where,bad', [pytest.param('train_x', float('nan'), id='linear-nan-train'),
                                       pytest.param('test_x', float('nan'), id='linear-nan-test'),
                                       pytest.param('train_x', float('inf'), id='linear-inf-train')])
def test_linear_eval_nonfinite(where, bad):
    from hmlc_nb.evaluate import linear_eval
    (trx, trp), (tex, tep) = _feats(), _feats(seed=1)
    (trx if where == 'train_x' else tex)[3, 2] = bad
    with pytest.raises(ValueError, match=where): linear_eval(trx, trp, tex, tep, [2, 4], epochs=2)

def test_knn_eval_nonfinite():
    from hmlc_nb.evaluate import knn_eval
    (trx, trp), (tex, tep) = _feats(), _feats(seed=1)
    trx[0, 0] = float('nan')
    with pytest.raises(ValueError, match='train_x'): knn_eval(trx, trp, tex, tep, k=5)

# ------------------------------------------------------------------------------------ datasets on disk
def _png(path, size=8, value=128):
    from PIL import Image
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size, size, 3), value, np.uint8)).save(path)

def _image_folder():
    from hmlc_nb.owndata import HierarchicalImageFolder
    return HierarchicalImageFolder

def test_image_folder_empty_class(tmp_path):
    "A leaf class folder without images: a ValueError naming that folder (not a class with no samples)."
    _png(tmp_path / 'root' / 'animal' / 'cat' / '0.png'); _png(tmp_path / 'root' / 'animal' / 'dog' / '0.png')
    (tmp_path / 'root' / 'plant' / 'fern').mkdir(parents=True)
    with pytest.raises(ValueError, match='fern'): _image_folder()(tmp_path / 'root')

@pytest.mark.parametrize('damage', [pytest.param('truncate', id='image-truncated'), pytest.param('garbage', id='image-garbage'),
                                    pytest.param('empty', id='image-empty')])
def test_image_folder_damaged_image(tmp_path, damage):
    "A damaged image file: reading it raises an error whose message names the file."
    root = tmp_path / 'root'
    _png(root / 'a' / 'x' / '0.png', size=64); _png(root / 'a' / 'y' / '0.png', size=64)
    bad = root / 'a' / 'y' / '0.png'
    data = bad.read_bytes()
    bad.write_bytes({'truncate': data[:len(data) // 2], 'garbage': b'not a png at all' * 10, 'empty': b''}[damage])
    ds = _image_folder()(root)
    i = [str(s) for s in ds.samples].index(str(bad))
    with pytest.raises((ValueError, OSError), match=re.escape(str(bad))): ds[i]

@pytest.mark.skipif(IS_ROOT, reason="root reads any file")
def test_image_folder_unreadable(tmp_path):
    root = tmp_path / 'root'
    _png(root / 'a' / 'x' / '0.png'); _png(root / 'a' / 'y' / '0.png')
    (root / 'a' / 'y' / '0.png').chmod(0)
    with pytest.raises((ValueError, OSError), match='0.png'): _image_folder()(root)[1]

def _idx(path, arr):
    "Write `arr` (uint8) as an idx file."
    arr = np.asarray(arr, np.uint8)
    head = bytes([0, 0, 8, arr.ndim]) + b''.join(int(d).to_bytes(4, 'big') for d in arr.shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(head + arr.tobytes())

def _fake_mnist(root, n_img, n_lab):
    raw = root / 'MNIST' / 'raw'
    rng = np.random.RandomState(0)
    for split, ni, nl in (('train', n_img, n_lab), ('t10k', 20, 20)):
        _idx(raw / f'{split}-images-idx3-ubyte', rng.randint(0, 256, (ni, 28, 28)))
        _idx(raw / f'{split}-labels-idx1-ubyte', np.arange(nl) % 10)
    return raw

@pytest.mark.parametrize('n_img,n_lab', [pytest.param(30, 20, id='mnist-more-images'), pytest.param(20, 30, id='mnist-fewer-images')])
def test_mnist_images_labels_mismatch(tmp_path, n_img, n_lab):
    "MNIST files whose image and label counts differ: a ValueError naming the files, not an IndexError or a silent mix-up."
    from hmlc_nb.official import HierarchicalMNIST
    _fake_mnist(tmp_path, n_img, n_lab)
    with pytest.raises(ValueError, match='train-'):
        ds = HierarchicalMNIST(tmp_path, train=True, image_size=32, sub_size=8, n_samples=40)
        ds.compose(list(range(len(ds))))

def _offline(monkeypatch):
    "No network: every download raises URLError, as on a machine without a connection."
    import urllib.error
    import hmlc_nb.official as d
    def no_net(*a, **k): raise urllib.error.URLError('[Errno -3] Temporary failure in name resolution')
    monkeypatch.setattr(d, '_download', no_net)
    try:
        import torchvision.datasets.utils as tu
        monkeypatch.setattr(tu, 'download_url', no_net)
    except ImportError: pass

def test_mnist_missing_offline_api(tmp_path, monkeypatch):
    "HierarchicalMNIST(download=True) without network: a clear error (FileNotFoundError/ValueError/ConnectionError) naming the folder."
    _offline(monkeypatch)
    from hmlc_nb.official import HierarchicalMNIST
    with pytest.raises((ValueError, FileNotFoundError, ConnectionError), match=re.escape(str(tmp_path / 'none'))):
        HierarchicalMNIST(tmp_path / 'none', download=True, image_size=32, sub_size=8)

def test_cifar_missing_offline_api(tmp_path, monkeypatch):
    _offline(monkeypatch)
    from hmlc_nb.official import CIFAR100Hierarchical
    with pytest.raises((ValueError, FileNotFoundError, ConnectionError), match=re.escape(str(tmp_path / 'none'))):
        CIFAR100Hierarchical(tmp_path / 'none', download=True)

@pytest.mark.parametrize('preset', [pytest.param('mnist-paper', id='cli-mnist-offline'),
                                    pytest.param('cifar100-resnet18', id='cli-cifar100-offline')])
def test_missing_dataset_offline_cli(tmp_path, monkeypatch, preset):
    "hmlc_train on a missing dataset without network: a clean error naming --data_root's folder, no URLError traceback."
    _offline(monkeypatch)
    root = tmp_path / 'nodata'
    r = cli('train', '--out', tmp_path / 'run', '--preset', preset, *S, '--no-eval', '--data_root', root,
            '--encoder', 'small_cnn', '--img_size', '32', '--sub_size', '8', '--num_workers', '0', '--warmup_epochs', '0')
    clean_error(r, str(root))
    assert 'URLError' not in r.err

def test_mnist_truncated_idx_cli(tmp_path):
    "A truncated MNIST file under --data_root: a clean error naming the file."
    raw = _fake_mnist(tmp_path / 'data', 20, 20)
    f = raw / 'train-images-idx3-ubyte'; f.write_bytes(f.read_bytes()[:1000])
    r = cli('train', '--out', tmp_path / 'run', '--preset', 'mnist-paper', *S, '--n_train', '0', '--n_test', '0',
            '--batch_size', '8', '--no-eval', '--data_root', tmp_path / 'data', '--img_size', '32', '--sub_size', '8',
            '--num_workers', '0', '--warmup_epochs', '0')
    clean_error(r, 'train-images-idx3-ubyte')
