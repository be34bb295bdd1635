"""Your own hierarchy from the command line: `hmlc_train` / `hmlc_compare` on a folder tree, a CSV file and an `.npz`
file written by the tests (no downloads), `--levels`, `--config` reruns, TensorBoard logging, and every bad input as
a clean error (exit code 2, the file or field and the fix named, no run folder written).

Every run is tiny (32 images of 10x8 pixels, 4 leaves, one epoch, batch 8, width 8) and runs in this process on the CPU.
"""
import json, os, shutil, subprocess, sys
from pathlib import Path
import numpy as np
import pytest, torch
from PIL import Image

from hmlc_nb.cli import train_main, compare_main

ROOT = Path(__file__).resolve().parents[1]
LEAVES = (('animal', 'cat'), ('animal', 'dog'), ('vehicle', 'bus'), ('vehicle', 'car'))
TINY = ['--epochs', '1', '--batch_size', '8', '--width', '8', '--proj_dim', '16', '--n_train', '0', '--n_test', '0',
        '--val_frac', '0', '--test_frac', '0.25', '--device', 'cpu', '--progress', 'false', '--threads', '1',
        '--probe-epochs', '5', '--tsne-points', '16']

@pytest.fixture(autouse=True)
def _threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)

def write_tree(root, n=8, size=(10, 8), mode='RGB', leaves=LEAVES):
    "A folder tree with `n` images per leaf, each a plain colour (leaf, image index)."
    for i, parts in enumerate(leaves):
        d = Path(root, *parts); d.mkdir(parents=True, exist_ok=True)
        for k in range(n):
            colour = (40 * i, 20 * k, 100) if mode == 'RGB' else 40 * i + 5 * k
            Image.new(mode, size, colour).save(d / f'{k}.png')
    return Path(root)

def tree_files(root):
    return sorted(p for p in Path(root).rglob('*.png'))

def write_csv(path, rows, head='path,kingdom,kind'):
    Path(path).write_text(head + '\n' + ''.join(','.join(map(str, r)) + '\n' for r in rows))
    return Path(path)

def results(out):
    return json.loads((Path(out) / 'results.json').read_text())

def train(capsys, *args):
    rc = train_main([str(a) for a in args])
    return rc, capsys.readouterr()

# ----------------------------------------------------------------------------------------------------- the three sources

@pytest.mark.timeout(120)
def test_folder_one_epoch(tmp_path, capsys):
    "A folder tree: image size and channels from the data, a stratified seeded test split, label paths from the folders."
    tree = write_tree(tmp_path / 'tree')
    rc, io = train(capsys, '--out', tmp_path / 'run', '--dataset', 'folder', '--data_root', tree, '--method', 'hmce', *TINY)
    assert rc == 0, io.err
    res = results(tmp_path / 'run')
    assert res['level_names'] == ['coarse', 'fine'] and res['dataset'] == 'folder'
    assert (res['config']['img_size'], res['config']['in_channels']) == (8, 3)     # the smaller side, RGB
    assert (res['n_train'], res['n_test']) == (24, 8)
    assert set(res['linear_acc']) == {'coarse', 'fine'}
    emb = torch.load(tmp_path / 'run' / 'embeddings.pt', weights_only=True)
    # the test set holds 2 of each leaf's 8 images: every leaf (a folder) appears twice
    assert torch.unique(emb['paths'], dim=0, return_counts=True)[1].tolist() == [2, 2, 2, 2]

@pytest.mark.timeout(120)
def test_folder_paths_match_files(tmp_path):
    "The datasets the command line trains on: each sample's label path is the folders of its file, its pixels the file's."
    from hmlc_nb.cli import config_from_args, add_config_options, _common_options
    from hmlc_nb.data import make_datasets
    import argparse
    tree = write_tree(tmp_path / 'tree', mode='L')
    p = argparse.ArgumentParser(); _common_options(p); add_config_options(p)
    cfg = config_from_args(p.parse_args(['--out', 'x', '--dataset', 'folder', '--data_root', str(tree), '--test_frac', '0.25', '--batch_size', '8']))
    assert (cfg.in_channels, cfg.img_size) == (1, 8)                                  # gray images: one channel
    tr, te = make_datasets(cfg)
    for ds in (tr, te):
        for i in range(len(ds)):
            f = ds.samples[i]
            names = [ds.hierarchy.names[k][int(v)] for k, v in enumerate(ds.targets[i])]
            assert names == list(f.parts[-3:-1])
            leaf, k = [l[1] for l in LEAVES].index(f.parent.name), int(f.stem)
            assert int(ds.data[i][0, 3, 3]) == 40 * leaf + 5 * k

@pytest.mark.timeout(120)
def test_split_folders(tmp_path, capsys):
    "train/ val/ test/ folders are the splits as they are (val replaces val_frac)."
    for s, n in (('train', 6), ('val', 2), ('test', 3)): write_tree(tmp_path / 'data' / s, n=n)
    rc, io = train(capsys, '--out', tmp_path / 'run', '--dataset', 'folder', '--data_root', tmp_path / 'data',
                   '--method', 'supcon', *TINY, '--val_frac', '0.1')
    assert rc == 0, io.err
    res = results(tmp_path / 'run')
    assert (res['n_train'], res['n_val'], res['n_test']) == (24, 8, 12) and 'val' in res

@pytest.mark.timeout(180)
def test_csv_compare_with_levels(tmp_path, capsys):
    "A CSV file (ids and names, a split column) with hmlc_compare; --levels reorders the levels for every run."
    tree = write_tree(tmp_path / 'imgs')
    rows = [(f.relative_to(tmp_path).as_posix(), ['animal', 'vehicle'].index(f.parts[-3]), f.parent.name,
             'test' if int(f.stem) < 2 else 'train') for f in tree_files(tree)]
    csv = write_csv(tmp_path / 'labels.csv', rows, 'path,kingdom,kind,split')
    rc = compare_main(['--out', str(tmp_path / 'cmp'), '--dataset', 'csv', '--data_root', str(csv), '--methods', 'supcon,hmce',
                       '--levels', 'kind,kingdom', *TINY])
    io = capsys.readouterr()
    assert rc == 0, io.err
    runs = json.loads((tmp_path / 'cmp' / 'results.json').read_text())
    assert [r['method'] for r in runs] == ['supcon', 'hmce']
    for r in runs:
        assert r['level_names'] == ['kind', 'kingdom'] and (r['n_train'], r['n_test']) == (24, 8)
    assert 'kind' in io.out and 'kingdom' in io.out

@pytest.mark.timeout(120)
def test_arrays_features_mlp(tmp_path, capsys):
    "Feature vectors [N, F] in an .npz: the MLP encoder and F inputs are taken from the data; names and level names kept."
    rng = np.random.RandomState(0)
    y = np.array([[a, b] for a, b in LEAVES for _ in range(8)])
    x = (rng.randn(32, 6) + 3 * (np.arange(32)[:, None] // 8 == np.arange(6)[None] % 4)).astype(np.float32)
    np.savez(tmp_path / 'feats.npz', x=x, y=y, level_names=np.array(['kingdom', 'kind']))
    rc, io = train(capsys, '--out', tmp_path / 'run', '--dataset', 'arrays', '--data_root', tmp_path / 'feats.npz', '--method', 'ghmlc', *TINY)
    assert rc == 0, io.err
    res = results(tmp_path / 'run')
    assert (res['config']['encoder'], res['config']['in_channels'], res['level_names']) == ('mlp', 6, ['kingdom', 'kind'])

@pytest.mark.timeout(120)
def test_arrays_images(tmp_path, capsys):
    "Images [N, C, H, W] in an .npz (two channels here, float in [0, 1]) with a split array: channels and size from the data."
    x = np.random.RandomState(0).rand(32, 2, 12, 12).astype(np.float32)
    y = np.repeat(np.array([[0, 0], [0, 1], [1, 2], [1, 3]]), 8, axis=0)
    split = np.array(['test' if i % 8 == 0 else 'train' for i in range(32)])
    np.savez(tmp_path / 'imgs.npz', x=x, y=y, split=split)
    rc, io = train(capsys, '--out', tmp_path / 'run', '--dataset', 'arrays', '--data_root', tmp_path / 'imgs.npz', '--method', 'hmce',
                   *TINY, '--no-eval')
    assert rc == 0, io.err
    cfg = json.loads((tmp_path / 'run' / 'config.json').read_text())
    assert (cfg['in_channels'], cfg['img_size'], cfg['encoder']) == (2, 12, 'small_cnn')

# ------------------------------------------------------------------------------------------------- re-runnable configs

@pytest.mark.timeout(150)
def test_config_rerun(tmp_path, capsys):
    "--config RUN repeats a run (the same settings, here another seed); a YAML file of some fields works as well."
    tree = write_tree(tmp_path / 'tree')
    rc, io = train(capsys, '--out', tmp_path / 'a', '--dataset', 'folder', '--data_root', tree, '--method', 'hmce', *TINY,
                   '--img_size', '6', '--no-eval')
    assert rc == 0, io.err
    rc, io = train(capsys, '--config', tmp_path / 'a', '--out', tmp_path / 'b', '--seed', '1', '--no-eval')
    assert rc == 0, io.err
    a, b = (json.loads((tmp_path / r / 'config.json').read_text()) for r in 'ab')
    assert b.pop('seed') == 1 and a.pop('seed') == 0 and a == b and a['img_size'] == 6
    yaml = pytest.importorskip('yaml')
    (tmp_path / 'c.yaml').write_text(yaml.safe_dump(dict(dataset='folder', data_root=str(tree), method='supcon', epochs=1,
                                                         batch_size=8, width=8)))
    rc, io = train(capsys, '--config', tmp_path / 'c.yaml', '--out', tmp_path / 'c', '--no-eval', '--progress', 'false')
    assert rc == 0, io.err
    c = json.loads((tmp_path / 'c' / 'config.json').read_text())
    assert (c['method'], c['width'], c['img_size'], c['in_channels'], c['lr']) == ('supcon', 8, 8, 3, 2e-3)  # lr: the preset's
    assert (c['n_train'], c['n_test']) == (0, 0)

# --------------------------------------------------------------------------------------------------------- TensorBoard

@pytest.mark.timeout(150)
def test_tensorboard(tmp_path, capsys):
    "--tensorboard: per-step loss, lr and mask sizes per level, and the per-level accuracies at the end."
    pytest.importorskip('tensorboard')
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    tree = write_tree(tmp_path / 'tree')
    rc, io = train(capsys, '--out', tmp_path / 'run', '--dataset', 'folder', '--data_root', tree, '--method', 'ghmlc', *TINY,
                   '--tensorboard')
    assert rc == 0, io.err
    tags, losses = set(), []
    for f in (tmp_path / 'run' / 'tensorboard').iterdir():                           # training, then results: two event files
        ea = EventAccumulator(str(f)); ea.Reload(); tags |= set(ea.Tags()['scalars'])
        if 'train/loss' in ea.Tags()['scalars']: losses += ea.Scalars('train/loss')
    assert {'train/loss', 'train/lr', 'train/dims_coarse', 'train/dims_fine', 'epoch/loss'} <= tags, tags
    assert {'results/encoder/linear/coarse', 'results/encoder/linear/fine'} <= tags, tags
    assert [e.step for e in losses] == [1, 2, 3]                                     # 24 training images / batch 8

def test_tensorboard_missing(tmp_path, capsys, monkeypatch):
    "--tensorboard without the package: a clean error before anything is written."
    monkeypatch.setitem(sys.modules, 'torch.utils.tensorboard', None)               # import fails as if not installed
    tree = write_tree(tmp_path / 'tree')
    rc, io = train(capsys, '--out', tmp_path / 'run', '--dataset', 'folder', '--data_root', tree, *TINY, '--tensorboard')
    assert rc == 2 and 'pip install tensorboard' in io.err and not (tmp_path / 'run').exists()

# ------------------------------------------------------------------------------------------------------------ bad input

def _bad_uneven(t):
    (write_tree(t / 'd', n=2) / 'animal' / 'dog' / 'puppy').mkdir(); return ['--dataset', 'folder', '--data_root', t / 'd']
def _bad_empty(t):
    (write_tree(t / 'd', n=2) / 'animal' / 'cow').mkdir(); return ['--dataset', 'folder', '--data_root', t / 'd']
def _bad_not_image(t):
    (write_tree(t / 'd', n=2) / 'vehicle' / 'car' / 'notes.txt').write_text('x'); return ['--dataset', 'folder', '--data_root', t / 'd']
def _bad_unreadable(t):
    d = write_tree(t / 'd', n=2)
    for k in range(7): (d / 'animal' / 'cat' / f'z{k}.png').write_bytes(b'\x89PNG broken')
    return ['--dataset', 'folder', '--data_root', d]
def _bad_truncated(t):
    d = write_tree(t / 'd', n=2)
    Image.new('RGB', (64, 64), (1, 2, 3)).save(d / 'animal' / 'cat' / 'big.jpg', quality=95)
    b = (d / 'animal' / 'cat' / 'big.jpg').read_bytes(); (d / 'animal' / 'cat' / 'big.jpg').write_bytes(b[:len(b) // 2])
    return ['--dataset', 'folder', '--data_root', d]
def _bad_csv_column(t):
    d = write_tree(t / 'd', n=2)
    return ['--dataset', 'csv', '--data_root', write_csv(t / 'l.csv', [(f.relative_to(t).as_posix(), f.parent.name) for f in tree_files(d)], 'file,kind')]
def _bad_csv_parents(t):
    d = write_tree(t / 'd', n=2)
    rows = [(f.relative_to(t).as_posix(), f.parts[-3], 'car' if f.parent.name == 'cat' else f.parent.name) for f in tree_files(d)]
    return ['--dataset', 'csv', '--data_root', write_csv(t / 'l.csv', rows)]
def _bad_csv_missing_file(t):
    d = write_tree(t / 'd', n=2)
    rows = [(f.relative_to(t).as_posix(), f.parts[-3], f.parent.name) for f in tree_files(d)] + [('d/animal/cat/gone.png', 'animal', 'cat')]
    return ['--dataset', 'csv', '--data_root', write_csv(t / 'l.csv', rows)]
def _bad_npz_lengths(t):
    np.savez(t / 'a.npz', x=np.zeros((10, 4), np.float32), y=np.zeros((9, 2), int)); return ['--dataset', 'arrays', '--data_root', t / 'a.npz']
def _bad_levels(t):
    return ['--dataset', 'folder', '--data_root', write_tree(t / 'd', n=2), '--levels', 'fine,genus']
def _bad_config_field(t):
    (t / 'c.json').write_text(json.dumps(dict(dataset='folder', epocs=3))); return ['--config', t / 'c.json']
def _bad_batch(t):
    return ['--dataset', 'folder', '--data_root', write_tree(t / 'd', n=2)]  # 6 training images, batch 8
def _bad_root(t):
    return ['--dataset', 'csv', '--data_root', t / 'nowhere.csv']

BAD = [  # (case, what the error must say)
    (_bad_uneven, ['uneven depth', 'puppy']),
    (_bad_empty, ['class folder(s) hold no images', 'cow', 'remove the folder']),
    (_bad_not_image, ['not images', 'notes.txt', 'Remove them']),
    (_bad_unreadable, ['7 image(s) cannot be read', 'z0.png', 'and 2 more', 'Replace or delete']),
    (_bad_truncated, ['1 image(s) cannot be read', 'big.jpg']),
    (_bad_csv_column, ["has no column 'path'", 'l.csv', "name the column of the image files 'path'"]),
    (_bad_csv_parents, ["Label 'car'", 'l.csv', '--shared_labels true']),
    (_bad_csv_missing_file, ['1 file(s) of column', 'gone.png']),
    (_bad_npz_lengths, ['different lengths (x 10, y 9)', 'a.npz']),
    (_bad_levels, ["unknown level 'genus'", "['coarse', 'fine']", '`levels`']),
    (_bad_config_field, ['unknown field(s) `epocs` (did you mean `epochs`?)', 'c.json']),
    (_bad_root, ['nowhere.csv', 'does not exist']),
    (_bad_batch, ['`batch_size` (8) is larger than the training set', '(6 samples', 'smaller --batch_size']),
]

@pytest.mark.parametrize('case,says', BAD, ids=[c.__name__[5:] for c, _ in BAD])
def test_bad_input(tmp_path, capsys, case, says):
    "Each bad input: exit code 2, one line naming the file or field and the fix, no traceback, no run folder."
    args = case(tmp_path)
    rc, io = train(capsys, '--out', tmp_path / 'run', *args, *TINY)
    assert rc == 2, io.err
    for s in says: assert s in io.err, (s, io.err)
    assert 'Traceback' not in io.err and not (tmp_path / 'run').exists()

def test_shared_labels_accepts_product(tmp_path, capsys):
    "The label under two parents is accepted with --shared_labels true (a product hierarchy)."
    args = _bad_csv_parents(tmp_path)
    rc, io = train(capsys, '--out', tmp_path / 'run', *args, *TINY, '--shared_labels', 'true', '--no-eval', '--batch_size', '2')
    assert rc == 0, io.err

@pytest.mark.timeout(120)
def test_console_script_folder(tmp_path):
    "The same as a user runs it: python -m hmlc_nb.cli train on a folder tree, in a fresh process."
    tree = write_tree(tmp_path / 'tree')
    env = dict(os.environ, OMP_NUM_THREADS='1', MPLBACKEND='Agg')
    r = subprocess.run([sys.executable, '-m', 'hmlc_nb.cli', 'train', '--out', str(tmp_path / 'run'), '--dataset', 'folder',
                        '--data_root', str(tree), '--method', 'supcon', *TINY, '--no-eval'],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=110)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / 'run' / 'config.json').read_text())['dataset'] == 'folder'

@pytest.mark.timeout(120)
def test_folder_too_large_for_memory(tmp_path, capsys, monkeypatch):
    "A tree larger than MAX_IN_MEMORY is read from its files at every step (the DataLoader path), with the same results files."
    import hmlc_nb.owndata as od, hmlc_nb.images as hi
    monkeypatch.setattr(od, 'MAX_IN_MEMORY', 0)
    tree = write_tree(tmp_path / 'tree')
    rc, io = train(capsys, '--out', tmp_path / 'run', '--dataset', 'folder', '--data_root', tree, '--method', 'supcon', *TINY)
    assert rc == 0, io.err
    res = results(tmp_path / 'run')
    assert (res['n_train'], res['n_test']) == (24, 8) and set(res['linear_acc']) == {'coarse', 'fine'}
    assert not any(k[0] == 'load' and str(tree) in k[1][0][0] for k in hi._IMAGE_CACHE)     # never decoded into memory
