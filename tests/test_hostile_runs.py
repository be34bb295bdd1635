"""Hostile cases of the run folder and the command-line pipeline (second campaign): every setting, the data and the
loss are checked before a run folder is cleared; a run folder belongs to the command that wrote it (its record
`.hmlc_run.json`), and `--overwrite` deletes exactly what that record lists; `--out` inside the data is refused;
a resumed run never keeps results of another model, other data or settings a file asked for.

The outcomes are those of `test_hostile.py` (whose runners and budget are reused): a clean error naming the problem,
files the package did not write kept byte-identical, or a correct result. TensorBoard is replaced by a stand-in
writer (the package need not be installed): what matters here is which files land in `tensorboard/`.
"""
import json, shutil, sys, types
from pathlib import Path
import pytest
from PIL import Image

from test_hostile import cli, clean_error, robust, snapshot, S, EVAL, TB, _in_tmp, done_compare  # noqa: F401 (_in_tmp: autouse fixture; done_compare: the finished comparison its tests copy)

MANIFEST = '.hmlc_run.json'

# ---------------------------------------------------------------------------------------------- helpers
class _FakeWriter:
    "A stand-in for torch's SummaryWriter: one event file per writer, created at once, as the real one does."
    n = 0
    def __init__(self, log_dir):
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        _FakeWriter.n += 1
        self.f = Path(log_dir) / f'events.out.tfevents.{_FakeWriter.n}.fake'
        self.f.write_text('')
    def add_scalar(self, tag, value, step):
        with open(self.f, 'a') as fh: fh.write(f'{tag} {value} {step}\n')
    def close(self): pass

@pytest.fixture(autouse=True, scope='module')
def _fake_tensorboard():
    mod = types.ModuleType('torch.utils.tensorboard'); mod.SummaryWriter = _FakeWriter
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(sys.modules, 'torch.utils.tensorboard', mod)
        yield

def _copy(src, tmp_path, name):
    dst = tmp_path / name
    shutil.copytree(src, dst, symlinks=True)
    return dst

def write_tree(root, n=8, size=(10, 8)):
    "A folder tree coarse/fine/<k>.png of 4 leaves, 8 plain-colour images each."
    for i, parts in enumerate((('animal', 'cat'), ('animal', 'dog'), ('vehicle', 'bus'), ('vehicle', 'car'))):
        d = Path(root, *parts); d.mkdir(parents=True, exist_ok=True)
        for k in range(n): Image.new('RGB', size, (40 * i, 20 * k, 100)).save(d / f'{k}.png')
    return Path(root)

OWN = ['--epochs', '1', '--batch_size', '8', '--width', '8', '--proj_dim', '16', '--n_train', '0', '--n_test', '0',
       '--val_frac', '0', '--test_frac', '0.25', '--progress', 'false', '--threads', '1']

# --------------------------------------------------------------------------------- finished runs (made once)
@pytest.fixture(scope='module')
def train_run(tmp_path_factory):
    "A finished 1-epoch hmlc_train run of hmce, evaluated."
    out = tmp_path_factory.mktemp('tr') / 'run'
    r = cli('train', '--out', out, *S, '--method', 'hmce', *EVAL)
    assert r.code == 0, r
    return out

@pytest.fixture(scope='module')
def ghmlc_tb_run(tmp_path_factory):
    "A finished 1-epoch G-HMLC run with --tensorboard: masks.png and event files."
    out = tmp_path_factory.mktemp('tb') / 'run'
    r = cli('train', '--out', out, *S, '--method', 'ghmlc', *EVAL, '--tensorboard')
    assert r.code == 0, r
    assert (out / 'masks.png').is_file() and list((out / 'tensorboard').iterdir())
    return out

# ======================================================================================================
# every setting, the data and the loss checked before the folder is cleared
# ======================================================================================================
_BAD = [('levels-unknown', ['--method', 'hmce', '--levels', 'foo'], 'levels'),
        ('level-weights-unknown-level', ['--method', 'ghmlc', '--level_weights', 'foo=2'], 'level_weights'),
        ('coarse-sizes-too-few', ['--coarse_sizes', '1,1'], 'coarse_sizes'),
        ('imbalance-huge', ['--imbalance', '1e9'], 'imbalance'),
        ('batch-above-train-split', ['--batch_size', '512'], 'batch_size'),
        ('val-frac-leaves-too-few', ['--val_frac', '0.99'], 'batch_size'),
        ('ghmlc-min-dims-above-D', ['--method', 'ghmlc', '--min_dims', '100'], 'min_dims'),
        ('ghmlc-proj-dim-4', ['--method', 'ghmlc', '--proj_dim', '4'], 'proj_dim')]

@pytest.mark.parametrize('bad,word', [pytest.param(b, w, id=i) for i, b, w in _BAD])
def test_overwrite_refused_setting_keeps_old_run(train_run, tmp_path, bad, word):
    "hmlc_train --overwrite with a setting the data or the loss refuses: a clean error, the old run byte-identical."
    run = _copy(train_run, tmp_path, 'run')
    before = snapshot(run)
    r = cli('train', '--out', run, '--overwrite', *S, *EVAL, *bad)
    clean_error(r, *([word] if word else []))
    assert snapshot(run) == before, r

def test_compare_overwrite_refused_second_method_keeps_old(done_compare, tmp_path):
    "hmlc_compare --overwrite whose second method's loss refuses the settings: nothing deleted, nothing trained."
    c = _copy(done_compare, tmp_path, 'c')
    before = snapshot(c)
    r = cli('compare', '--out', c, '--overwrite', '--methods', 'supcon,ghmlc', *S, *EVAL, '--min_dims', '100')
    clean_error(r, 'min_dims')
    assert snapshot(c) == before, r
    assert 'supcon seed 0 ...' not in r.err, r

# ======================================================================================================
# the run folder belongs to the command that wrote it
# ======================================================================================================
@pytest.mark.parametrize('name,content', [pytest.param('config.json', '{"mine": 1}', id='user-config-json'),
                                          pytest.param('log.csv', 'a,b\n1,2\n', id='user-log-csv')])
def test_overwrite_keeps_user_lookalike(tmp_path, name, content):
    "A user's file that merely shares a run file's name is not a run: --overwrite refuses and keeps it."
    out = tmp_path / 'mine'; out.mkdir(); (out / name).write_text(content)
    r = cli('train', '--out', out, '--overwrite', *S, '--no-eval')
    clean_error(r, name)
    assert 'holds a run' not in r.err, r
    assert (out / name).read_text() == content and not (out / 'checkpoints').exists()

def test_overwrite_keeps_user_file_in_checkpoints(train_run, tmp_path):
    "--overwrite deletes the run's checkpoints, not a user's file beside them."
    run = _copy(train_run, tmp_path, 'run')
    (run / 'checkpoints' / 'README.txt').write_text('keep me')
    r = cli('train', '--out', run, '--overwrite', *S, '--method', 'hmce', '--no-eval')
    assert r.code == 0, r
    assert (run / 'checkpoints' / 'README.txt').read_text() == 'keep me'

def test_overwrite_tensorboard_keeps_user_subfolder(ghmlc_tb_run, tmp_path):
    "--overwrite --tensorboard: the old run's event files go, a user's subfolder of tensorboard/ stays."
    run = _copy(ghmlc_tb_run, tmp_path, 'run')
    old = sorted(p.name for p in (run / 'tensorboard').iterdir())
    (run / 'tensorboard' / 'mine').mkdir(); (run / 'tensorboard' / 'mine' / 'notes.txt').write_text('x')
    r = cli('train', '--out', run, '--overwrite', *S, '--method', 'ghmlc', *EVAL, '--tensorboard')
    assert r.code == 0, r
    assert (run / 'tensorboard' / 'mine' / 'notes.txt').read_text() == 'x'
    assert not set(old) & {p.name for p in (run / 'tensorboard').iterdir()}, "the old event files were kept"

def test_overwrite_symlinked_tensorboard_refused(ghmlc_tb_run, tmp_path):
    "A tensorboard/ that is a symbolic link: refused, naming it, before the old run is deleted; the link's target kept."
    run = _copy(ghmlc_tb_run, tmp_path, 'run')
    elsewhere = tmp_path / 'elsewhere'; shutil.move(str(run / 'tensorboard'), elsewhere)
    (run / 'tensorboard').symlink_to(elsewhere)
    before, target = snapshot(run), snapshot(elsewhere)
    r = cli('train', '--out', run, '--overwrite', *S, '--method', 'ghmlc', *EVAL, '--tensorboard')
    clean_error(r, 'tensorboard', 'link')
    assert 'rmtree' not in r.err, r
    assert snapshot(run) == before and snapshot(elsewhere) == target

@pytest.mark.parametrize('flag', ['--overwrite', '--resume'])
def test_compare_into_train_run_refused(train_run, tmp_path, flag):
    "hmlc_compare --overwrite/--resume on an hmlc_train run folder: refused naming the folder and the tool; nothing rewritten."
    run = _copy(train_run, tmp_path, 'run')
    before = snapshot(run)
    r = cli('compare', '--out', run, flag, '--methods', 'supcon,hmce', *S, *EVAL)
    clean_error(r, str(run), 'hmlc_train')
    assert snapshot(run) == before

def test_train_into_comparison_refused(done_compare, tmp_path):
    "hmlc_train --overwrite on a comparison's folder: refused naming hmlc_compare; the comparison byte-identical."
    c = _copy(done_compare, tmp_path, 'c')
    before = snapshot(c)
    r = cli('train', '--out', c, '--overwrite', *S, *EVAL)
    clean_error(r, str(c), 'hmlc_compare')
    assert snapshot(c) == before

@pytest.mark.parametrize('name', ['table.txt', 'accuracy.png'])
def test_compare_keeps_user_table(tmp_path, name):
    "A user's table.txt (accuracy.png) in --out: refused without flags, and --resume (which the old refusal advised) keeps it too."
    out = tmp_path / 'c'; out.mkdir(); (out / name).write_bytes(b'my own table')
    r1 = cli('compare', '--out', out, '--methods', 'supcon', *S, *EVAL)
    clean_error(r1, name)
    assert '--resume' not in r1.err, r1
    r2 = cli('compare', '--out', out, '--resume', '--methods', 'supcon', *S, *EVAL)
    clean_error(r2, name)
    assert (out / name).read_bytes() == b'my own table'

def test_legacy_run_without_record(train_run, tmp_path):
    "A run of an earlier version (no record): --overwrite refuses (the user deletes it), --resume adopts and continues it."
    run = _copy(train_run, tmp_path, 'run'); (run / MANIFEST).unlink()
    before = snapshot(run)
    r = cli('train', '--out', run, '--overwrite', *S, '--method', 'hmce', *EVAL)
    clean_error(r, 'delete')
    assert snapshot(run) == before
    r = cli('train', '--out', run, '--resume', *S, '--epochs', '2', '--method', 'hmce', '--no-eval')
    assert r.code == 0, r
    assert 'results.json' not in json.loads((run / MANIFEST).read_text())['files'] and not (run / 'results.json').exists()

def test_overwrite_no_eval_leaves_nothing_stale(ghmlc_tb_run, tmp_path):
    "--overwrite --no-eval: no masks.png, results, embeddings, figure or event file of the old run is left."
    run = _copy(ghmlc_tb_run, tmp_path, 'run')
    r = cli('train', '--out', run, '--overwrite', *S, '--method', 'ghmlc', '--no-eval')
    assert r.code == 0, r
    left = [n for n in ('masks.png', 'results.json', 'embeddings.pt', 'tsne.png', 'tensorboard') if (run / n).exists()]
    assert not left, f"stale files of the old run: {left}"

# ======================================================================================================
# --out inside the data
# ======================================================================================================
@pytest.mark.parametrize('where', ['same', 'inside'])
def test_out_in_folder_data_root_refused(tmp_path, where):
    "--out equal to, or inside, a folder-tree --data_root: refused naming data_root; the tree unchanged."
    tree = write_tree(tmp_path / 'tree')
    before, before_all = snapshot(tree), list(tree.rglob('*'))
    out = tree if where == 'same' else tree / 'animal' / 'run'
    r = cli('train', '--out', out, '--dataset', 'folder', '--data_root', tree, *OWN, '--no-eval')
    clean_error(r, 'data_root')
    assert snapshot(tree) == before and sorted(tree.rglob('*')) == sorted(before_all), "the run wrote into the data"

# ======================================================================================================
# resume
# ======================================================================================================
def test_compare_resume_more_epochs_trains(done_compare, tmp_path):
    "hmlc_compare --resume --epochs 3 on a 1-epoch comparison: every run continues to 3 epochs (no 'results found')."
    c = _copy(done_compare, tmp_path, 'c')
    r = cli('compare', '--out', c, '--resume', '--methods', 'supcon,hmce', *S, *EVAL, '--epochs', '3')
    assert r.code == 0, r
    assert 'results found' not in r.err, r
    for m in ('supcon', 'hmce'): assert json.loads((c / 'seed0' / m / 'results.json').read_text())['epochs'] == 3
    assert [x['epochs'] for x in json.loads((c / 'results.json').read_text())] == [3, 3]

def test_train_resume_no_eval_drops_stale_results(train_run, tmp_path):
    "hmlc_train --resume --epochs 3 --no-eval: no epoch-1 results, embeddings or figure beside the epoch-3 model."
    run = _copy(train_run, tmp_path, 'run')
    r = cli('train', '--out', run, '--resume', *S, '--epochs', '3', '--method', 'hmce', '--no-eval')
    assert r.code == 0, r
    left = [n for n in ('results.json', 'embeddings.pt', 'tsne.png') if (run / n).exists()]
    assert not left, f"stale evaluation beside the new model: {left}"

def test_compare_resume_does_not_take_stale_results(done_compare, tmp_path):
    "A run folder of a comparison resumed further by hmlc_train --no-eval: compare --resume re-evaluates it."
    c = _copy(done_compare, tmp_path, 'c')
    r = cli('train', '--out', c / 'seed0' / 'hmce', '--resume', *S, '--epochs', '2', '--method', 'hmce', '--no-eval')
    assert r.code == 0, r
    r = cli('compare', '--out', c, '--resume', '--methods', 'supcon,hmce', *S, *EVAL, '--epochs', '2')
    assert r.code == 0, r
    assert json.loads((c / 'seed0' / 'hmce' / 'results.json').read_text())['epochs'] == 2

def test_resume_other_data_refused(tmp_path):
    "--resume --data_root other.csv: refused naming data_root, the run unchanged (a resume continues on its own data)."
    tree = write_tree(tmp_path / 'tree')
    rows = sorted(tree.rglob('*.png'))
    def csv(name, keep):
        lines = ['path,kingdom,kind'] + [f"{p},{p.parent.parent.name},{p.parent.name}" for p in keep]
        (tmp_path / name).write_text('\n'.join(lines) + '\n'); return tmp_path / name
    a, b = csv('a.csv', rows), csv('b.csv', [p for p in rows if not p.name.startswith(('6', '7'))])
    out = tmp_path / 'run'
    r = cli('train', '--out', out, '--dataset', 'csv', '--data_root', a, *OWN, '--no-eval')
    assert r.code == 0, r
    before = snapshot(out)
    r = cli('train', '--out', out, '--resume', '--data_root', b, '--epochs', '2', '--progress', 'false', '--threads', '1', '--no-eval')
    clean_error(r, 'data_root')
    assert snapshot(out) == before

def test_resume_config_file_differs_refused(train_run, tmp_path):
    "--resume --config cfg.json whose settings differ from the run's: refused naming the field and the file."
    run = _copy(train_run, tmp_path, 'run')
    cfg = tmp_path / 'cfg.json'; cfg.write_text('{"lr": 0.05, "temperature": 0.5}')
    before = snapshot(run)
    r = cli('train', '--out', run, '--resume', '--config', cfg, '--epochs', '2', '--threads', '1', '--no-eval')
    clean_error(r, 'lr', 'temperature', 'cfg.json')
    assert snapshot(run) == before

def test_resume_config_file_epochs_applied(train_run, tmp_path):
    "--resume --config cfg.json with what a resume may change (epochs): applied, not ignored."
    run = _copy(train_run, tmp_path, 'run')
    cfg = tmp_path / 'cfg.json'; cfg.write_text('{"epochs": 2, "progress": false}')
    r = cli('train', '--out', run, '--resume', '--config', cfg, '--threads', '1', '--no-eval')
    assert r.code == 0, r
    assert json.loads((run / 'log.json').read_text())[-1]['epoch'] == 2

# ======================================================================================================
# hmlc_compare's own messages
# ======================================================================================================
def test_compare_one_level_without_ghmlc(tmp_path):
    "--methods supcon,hmce --levels class: G-HMLC, which needs two levels, was not asked for; the comparison runs."
    r = cli('compare', '--out', tmp_path / 'c', '--methods', 'supcon,hmce', *S, '--levels', 'class', '--no-eval')
    assert r.code == 0, r
    assert 'ghmlc' not in r.err, r

def test_compare_names_its_dataset(tmp_path):
    "hmlc_compare on a folder tree says so (not 'on digits', the preset's name)."
    tree = write_tree(tmp_path / 'tree')
    r = cli('compare', '--out', tmp_path / 'c', '--methods', 'supcon', '--dataset', 'folder', '--data_root', tree, *OWN, '--no-eval')
    assert r.code == 0, r
    first = next(l for l in r.err.splitlines() if 'CPU threads' in l)
    assert "on folder '" in first and 'on digits' not in first, r

# ======================================================================================================
# more run-folder cases: damaged records, links, folders where files belong
# ======================================================================================================
def test_train_resume_on_comparison_refused(done_compare, tmp_path):
    "hmlc_train --resume on a comparison's top folder: refused naming hmlc_compare; nothing rewritten."
    c = _copy(done_compare, tmp_path, 'c')
    before = snapshot(c)
    r = cli('train', '--out', c, '--resume', *S, '--no-eval')
    clean_error(r, 'hmlc_compare')
    assert snapshot(c) == before

@pytest.mark.parametrize('record', [pytest.param(b'{"tool": "hmlc_train", ', id='truncated'),
                                    pytest.param(b'{"tool": "hmlc_train", "files": ["../../outside.txt"]}', id='outside-path'),
                                    pytest.param(b'{"tool": "hmlc_train", "files": ["/etc/passwd"]}', id='absolute-path'),
                                    pytest.param(b'{"tool": "someone", "files": []}', id='unknown-tool'),
                                    pytest.param(b'[1, 2]', id='a-list')])
def test_damaged_record_refused(train_run, tmp_path, record):
    "A damaged or tampered record: --overwrite refuses naming it and deletes nothing (inside or outside the folder)."
    run = _copy(train_run, tmp_path, 'run'); (run / MANIFEST).write_bytes(record)
    (tmp_path / 'outside.txt').write_text('mine')
    before = snapshot(run)
    r = cli('train', '--out', run, '--overwrite', *S, '--method', 'hmce', '--no-eval')
    clean_error(r, MANIFEST)
    assert snapshot(run) == before and (tmp_path / 'outside.txt').read_text() == 'mine'

def test_overwrite_symlinked_checkpoints_refused(train_run, tmp_path):
    "checkpoints/ replaced by a link to a folder of the user's: --overwrite refuses; neither the link's target nor the run is touched."
    run = _copy(train_run, tmp_path, 'run')
    mine = tmp_path / 'my_ckpts'; shutil.move(str(run / 'checkpoints'), mine); (run / 'checkpoints').symlink_to(mine)
    before, target = snapshot(run), snapshot(mine)
    r = cli('train', '--out', run, '--overwrite', *S, '--method', 'hmce', '--no-eval')
    clean_error(r, 'checkpoints', 'link')
    assert snapshot(run) == before and snapshot(mine) == target

def test_recorded_file_now_a_folder_refused(train_run, tmp_path):
    "A recorded file (log.csv) that is now a folder of the user's: refused before training, naming it; the folder kept."
    run = _copy(train_run, tmp_path, 'run')
    (run / 'log.csv').unlink(); (run / 'log.csv').mkdir(); (run / 'log.csv' / 'mine.txt').write_text('x')
    before = snapshot(run)
    r = cli('train', '--out', run, '--overwrite', *S, '--method', 'hmce', '--no-eval')
    clean_error(r, 'log.csv')
    assert snapshot(run) == before and not r.out.strip(), r

def test_compare_overwrite_keeps_user_run_lookalike(tmp_path):
    "seed0/hmce/config.json of the user's (no record): hmlc_compare refuses with and without --overwrite, and keeps it."
    c = tmp_path / 'c'; (c / 'seed0' / 'hmce').mkdir(parents=True); (c / 'seed0' / 'hmce' / 'config.json').write_text('{"mine": 1}')
    for flag in ([], ['--overwrite']):
        r = cli('compare', '--out', c, *flag, '--methods', 'supcon,hmce', *S, '--no-eval')
        clean_error(r, 'config.json')
    assert (c / 'seed0' / 'hmce' / 'config.json').read_text() == '{"mine": 1}'
    assert not (c / 'seed0' / 'supcon').exists(), "a run trained before the refusal"

def test_compare_overwrite_symlinked_run_folder_refused(done_compare, tmp_path):
    "A comparison's run folder replaced by a link to the user's folder: --overwrite refuses; the target is untouched."
    c = _copy(done_compare, tmp_path, 'c')
    mine = tmp_path / 'mine'; shutil.move(str(c / 'seed0' / 'hmce'), mine); (c / 'seed0' / 'hmce').symlink_to(mine)
    before, target = snapshot(c), snapshot(mine)
    r = cli('compare', '--out', c, '--overwrite', '--methods', 'supcon,hmce', *S, '--no-eval')
    clean_error(r, 'link')
    assert snapshot(c) == before and snapshot(mine) == target

def test_compare_out_in_folder_data_root_refused(tmp_path):
    "hmlc_compare --out inside a folder-tree --data_root: refused; nothing written into the data."
    tree = write_tree(tmp_path / 'tree')
    before = list(tree.rglob('*'))
    r = cli('compare', '--out', tree / 'cmp', '--methods', 'supcon', '--dataset', 'folder', '--data_root', tree, *OWN, '--no-eval')
    clean_error(r, 'data_root')
    assert sorted(tree.rglob('*')) == sorted(before)

def test_refused_new_run_leaves_no_folder(tmp_path):
    "A new run refused by the data or the loss (G-HMLC's min_dims) leaves no empty run folder behind."
    r = cli('train', '--out', tmp_path / 'new', *S, '--method', 'ghmlc', '--min_dims', '100', '--no-eval')
    clean_error(r, 'min_dims')
    assert not (tmp_path / 'new').exists()

def test_resume_grown_tree_refused_moved_tree_allowed(tmp_path):
    "--resume after images were added to the folder tree: refused naming data_root; the same tree moved elsewhere resumes."
    tree = write_tree(tmp_path / 'tree')
    out = tmp_path / 'run'
    r = cli('train', '--out', out, '--dataset', 'folder', '--data_root', tree, *OWN, '--no-eval')
    assert r.code == 0, r
    moved = tmp_path / 'moved'; shutil.copytree(tree, moved)
    for k in (8, 9): Image.new('RGB', (10, 8), (0, 0, k)).save(tree / 'animal' / 'cat' / f'{k}.png')
    before = snapshot(out)
    r = cli('train', '--out', out, '--resume', '--data_root', tree, '--epochs', '2', '--threads', '1', '--no-eval')
    clean_error(r, 'data_root')
    assert snapshot(out) == before
    r = cli('train', '--out', out, '--resume', '--data_root', moved, '--epochs', '2', '--threads', '1', '--no-eval')
    assert r.code == 0, r
    assert json.loads((out / 'log.json').read_text())[-1]['epoch'] == 2

def test_user_file_named_like_a_checkpoint_kept(train_run, tmp_path):
    "A user's file in checkpoints/ named like a checkpoint (not in the record): resume refuses naming it, instead of loading or pruning it."
    run = _copy(train_run, tmp_path, 'run')
    real = sorted((run / 'checkpoints').glob('ckpt_*.pt'))[-1]
    mine = run / 'checkpoints' / 'ckpt_s00000001_e0001.pt'; mine.write_bytes(real.read_bytes())
    r = cli('train', '--out', run, '--resume', *S, '--epochs', '3', '--method', 'hmce', '--no-eval')
    clean_error(r, 'ckpt_s00000001_e0001.pt')
    assert mine.read_bytes() == real.read_bytes()
