"""Hostile settings from the command line and from config files: every value is checked for its field's type (a config
file's "false" is no truthy string, a null no number), options the method does not read are refused (or, in
`hmlc_compare`, left to the methods that read them), and a collapsed embedding does not crash the evaluation.

Every case runs `python -m hmlc_nb.cli` in this process (`cli` of `test_hostile.py`) on its tiny budget, except the
one that crashed the interpreter (a subprocess). A refusal exits 2 without a traceback, before anything is written.
"""
import json
from pathlib import Path
import pytest, torch

from test_hostile import cli, cli_proc, clean_error, snapshot, trained, S, EVAL

@pytest.fixture(autouse=True)
def _threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)

def refused(r, out, *words):
    "A clean error naming the words, and no run folder written."
    clean_error(r, *words)
    assert not Path(out).exists(), r

def write_config(path, d):
    Path(path).write_text(json.dumps(d))
    return path

# ------------------------------------------------------------------------------ typed config files
@pytest.mark.parametrize('field,value', [
    ('progress', 'false'), ('compile', 'false'), ('channels_last', 'false'), ('fast_path', 'false'), ('progress', 'no'),
    ('prefix_until', '0.5'), ('crop_min', None), ('momentum', None), ('data_root', 5), ('preset', ['digits']),
    ('sub_size', 2.5), ('epochs', '1'), ('lr', True), ('levels', 0), ('mask_freeze', 1), ('tensorboard', 'true'),
])
def test_config_file_wrong_type(tmp_path, field, value):
    "A value of the wrong type in a --config file: a clean error naming the field and the file, nothing trained."
    cfg = write_config(tmp_path / 'cfg.json', {field: value})
    r = cli('train', '--out', tmp_path / 'run', '--config', cfg, *S, '--no-eval')
    refused(r, tmp_path / 'run', field, 'cfg.json')

def test_config_file_wrong_type_compare(tmp_path):
    cfg = write_config(tmp_path / 'cfg.json', {'progress': 'false'})
    r = cli('compare', '--out', tmp_path / 'c', '--config', cfg, '--methods', 'supcon,hmce', *S, '--no-eval')
    refused(r, tmp_path / 'c', 'progress', 'cfg.json', 'without quotes')
    # JSON booleans and numbers are read as before
    cfg = write_config(tmp_path / 'cfg.json', {'progress': False, 'channels_last': False, 'lr': 0.002, 'method': 'hmce'})
    r = cli('train', '--out', tmp_path / 'run', '--config', cfg, *S, '--no-eval')
    assert r.code == 0, r
    saved = json.loads((tmp_path / 'run' / 'config.json').read_text())
    assert (saved['progress'], saved['channels_last'], saved['method']) == (False, False, 'hmce')

# ------------------------------------------------------------------------- options the method ignores
@pytest.mark.parametrize('args,field', [
    (['--method', 'supcon', '--level_weights', 'foo=10'], 'level_weights'),
    (['--method', 'ahmlc', '--level_weights', 'category=2'], 'level_weights'),
    (['--method', 'supcon', '--level_weights', 'category=2'], 'level_weights'),
    (['--method', 'ghmlc', '--mask_temperature', '0.5'], 'mask_temperature'),
    (['--mask_temperature', '0.5'], 'mask_temperature'),                          # the preset's method, ghmlc
    (['--method', 'ghmlc', '--entropy_weight', '0'], 'entropy_weight'),
    (['--method', 'hmce', '--cpcc_weight', '2'], 'cpcc_weight'),
    (['--method', 'hmce', '--ema', '0.5'], 'ema'),
    (['--method', 'ce', '--temperature', '0.5'], 'temperature'),
    (['--method', 'supcon', '--min_dims', '2'], 'min_dims'),
    (['--imbalance_order', 'group'], 'imbalance_order'),
    (['--method', 'ghmlc', '--level_weights', 'category=3,category=1'], 'level_weights'),
])
def test_train_refuses_unread_option(tmp_path, args, field):
    "An option the method does not read (config.json would record it as applied): refused by name, nothing written."
    r = cli('train', '--out', tmp_path / 'run', *S, *args, '--no-eval')
    refused(r, tmp_path / 'run', field)

def test_unread_option_in_config_file(tmp_path):
    cfg = write_config(tmp_path / 'cfg.json', {'method': 'supcon', 'level_weights': 'foo=10'})
    r = cli('train', '--out', tmp_path / 'run', '--config', cfg, *S, '--no-eval')
    refused(r, tmp_path / 'run', 'level_weights', 'supcon')

def test_overwrite_with_unread_option_keeps_old_run(tmp_path):
    "The digits preset sets level_weights for every method: supcon trains with them; a user's value is refused, the run kept."
    out = tmp_path / 'run'
    assert cli('train', '--out', out, *S, '--method', 'supcon', '--no-eval').code == 0
    before = snapshot(out)
    r = cli('train', '--out', out, '--overwrite', *S, '--method', 'supcon', '--level_weights', 'category=2', '--no-eval')
    clean_error(r, 'level_weights', 'supcon')
    assert snapshot(out) == before

def test_compare_options_go_to_the_methods_that_read_them(tmp_path):
    "hmlc_compare: one set of options for several methods; each run records only the options its method reads."
    out = tmp_path / 'c'
    with pytest.warns(UserWarning, match="method 'supcon' does not read `level_weights`, `mask_temperature`"):
        r = cli('compare', '--out', out, '--methods', 'ghmlc,ahmlc,supcon', '--level_weights', 'category=2',
                '--mask_temperature', '0.5', *S, '--no-eval')
    assert r.code == 0, r
    saved = {m: json.loads((out / 'seed0' / m / 'config.json').read_text()) for m in ('ghmlc', 'ahmlc', 'supcon')}
    assert (saved['ghmlc']['level_weights'], saved['ghmlc']['mask_temperature']) == ('category=2', 1.0)
    assert (saved['ahmlc']['level_weights'], saved['ahmlc']['mask_temperature']) == ('category=3', 0.5)   # the preset's
    assert (saved['supcon']['level_weights'], saved['supcon']['mask_temperature']) == ('category=3', 1.0)

def test_compare_one_level_without_masked_methods(tmp_path):
    "--levels class with supcon and hmce: ghmlc (the preset's method) was not asked for, so nothing refuses it; with ghmlc: refused."
    r = cli('compare', '--out', tmp_path / 'c', '--methods', 'supcon,hmce', '--levels', 'class', *S, '--no-eval')
    assert r.code == 0, r
    assert 'ghmlc' not in r.err
    r = cli('compare', '--out', tmp_path / 'c2', '--methods', 'supcon,ghmlc', '--levels', 'class', *S, '--no-eval')
    refused(r, tmp_path / 'c2', 'levels', 'ghmlc')

def test_compare_refuses_before_training_any(tmp_path):
    "A malformed option: refused before the first method trains."
    r = cli('compare', '--out', tmp_path / 'c', '--methods', 'supcon,ghmlc', '--level_weights', 'category=3,category=1', *S, '--no-eval')
    refused(r, tmp_path / 'c', 'level_weights', 'more than once')

# ------------------------------------------------------------------------------- collapsed embeddings
def test_identical_embeddings_do_not_crash(tmp_path):
    "--method ce --feat_dim 1: the embeddings collapse to one point; the t-SNE crashed the interpreter (exit 139)."
    out = tmp_path / 'run'
    p = cli_proc('train', '--out', out, *S, '--method', 'ce', '--feat_dim', '1', *EVAL, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    assert (out / 'results.json').is_file() and (out / 'tsne.png').is_file()

# ------------------------------------------------------- settings refused before the data is read or a folder cleared
@pytest.mark.parametrize('args,field', [
    (['--method', 'ghmlc', '--min_dims', '100'], 'min_dims'),
    (['--method', 'ghmlc', '--proj_dim', '4'], 'min_dims'),
    (['--method', 'ahmlc', '--proj_dim', '1'], 'proj_dim'),
    (['--method', 'cpcc', '--levels', 'class'], 'levels'),
    (['--method', 'ghmlc', '--level_weights', 'category=nan'], 'level_weights'),
])
def test_overwrite_with_bad_loss_setting_keeps_old_run(tmp_path, args, field):
    "Settings the loss would refuse: refused before --overwrite clears the old run."
    out = tmp_path / 'run'
    assert cli('train', '--out', out, *S, '--method', 'hmce', '--no-eval').code == 0
    before = snapshot(out)
    r = cli('train', '--out', out, '--overwrite', *S, *args, '--no-eval')
    clean_error(r, field)
    assert snapshot(out) == before

def test_compare_overwrite_with_bad_loss_setting_keeps_old_comparison(tmp_path):
    "hmlc_compare --overwrite --methods supcon,ghmlc --min_dims 100: refused before the old comparison is deleted or supcon trains."
    out = tmp_path / 'c'
    assert cli('compare', '--out', out, '--methods', 'supcon', *S, '--no-eval').code == 0
    before = snapshot(out)
    r = cli('compare', '--out', out, '--overwrite', '--methods', 'supcon,ghmlc', '--min_dims', '100', *S, '--no-eval')
    clean_error(r, 'min_dims')
    assert snapshot(out) == before

def test_one_dimensional_projection_is_evaluated(tmp_path):
    "--proj_dim 1 (allowed for supcon): the t-SNE of 1-D projections failed after training (sklearn's PCA start needs 2 columns)."
    out = tmp_path / 'run'
    r = cli('train', '--out', out, *S, '--method', 'supcon', '--proj_dim', '1', *EVAL)
    assert r.code == 0, r
    assert (out / 'results.json').is_file() and (out / 'tsne.png').is_file()

# ------------------------------------------------------------------------- a curriculum checked before training
@pytest.mark.parametrize('method', ['ahmlc', 'ghmlc'])
def test_prefix_until_trains(tmp_path, method):
    "`--prefix_until` passes the check before training (its throwaway loss is told the first step's share) and is applied."
    r = cli('train', '--out', tmp_path / 'run', '--method', method, '--prefix_until', '0.5', *S, '--no-eval')
    assert r.code == 0, r
    assert json.loads((tmp_path / 'run' / 'config.json').read_text())['prefix_until'] == 0.5
