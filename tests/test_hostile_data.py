"""Hostile own data and built-in dataset files, from the command line: the readers keep labels as the user wrote them,
refuse ambiguous layouts with a message naming the file and the fix (never a flag that would make the wrong reading
train), and check the built-in datasets' files before reading them.

Every case is tiny (the folder tree, CSV file and .npz file of `test_own_data.py`: 32 images of 10x8 pixels, 4 leaves)
and runs `python -m hmlc_nb.cli` in this process (`cli` of `test_hostile.py`): a refusal exits 2 without a traceback
and, for own data, before the run folder exists.
"""
import argparse, json, os, pickle
from pathlib import Path
import numpy as np
import pytest, torch
from PIL import Image

from test_hostile import cli, clean_error, trained, S
from test_own_data import LEAVES, TINY, write_tree, tree_files, write_csv

@pytest.fixture(autouse=True)
def _threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)

def train(t, *args):
    "hmlc_train into `t/run` on the tiny budget."
    return cli('train', '--out', t / 'run', *args, *TINY, '--no-eval')

def refused(r, t, *words, advice_free=True):
    "A clean error naming the words, no run folder, and no advice to pass --shared_labels (it would train on the misreading)."
    clean_error(r, *words)
    assert not (t / 'run').exists(), r
    if advice_free: assert 'shared_labels' not in r.err, r

def datasets(*args):
    "The (train, test) datasets the command line builds for `args`."
    from hmlc_nb.cli import config_from_args, add_config_options, _common_options
    from hmlc_nb.data import make_datasets
    p = argparse.ArgumentParser(); _common_options(p); add_config_options(p)
    cfg = config_from_args(p.parse_args(['--out', 'x', '--val_frac', '0', *map(str, args)]))
    return cfg, make_datasets(cfg)

def csv_rows(t, n=8, label=lambda f: (f.parts[-3], f.parent.name), extra=lambda f: ()):
    "Rows (path, *labels, *extra) of the tiny tree under `t/d`."
    d = write_tree(t / 'd', n=n)
    return [(f.relative_to(t).as_posix(), *label(f), *extra(f)) for f in tree_files(d)]

# ------------------------------------------------------------------------------------------------------- CSV files
def test_csv_labels_as_written(tmp_path):
    "Labels `01` and `1` are two classes (the strings the user wrote), not one."
    kind = {'cat': '1', 'dog': '01', 'bus': '2', 'car': '02'}
    csv = write_csv(tmp_path / 'l.csv', csv_rows(tmp_path, label=lambda f: (f.parts[-3], kind[f.parent.name])))
    cfg, (tr, te) = datasets('--dataset', 'csv', '--data_root', csv, '--test_frac', '0.25', '--batch_size', '8')
    assert tr.hierarchy.names[1] == ['1', '2', '01', '02'] and tr.hierarchy.n_leaves == 4
    for i in range(len(tr)): assert tr.hierarchy.names[1][int(tr.targets[i, 1])] == kind[tr.samples[i].parent.name]

def test_csv_duplicate_rows(tmp_path):
    "A file listed twice with the same labels: refused, naming the file, its lines and the CSV file."
    rows = csv_rows(tmp_path); rows.append(rows[3])
    r = train(tmp_path, '--dataset', 'csv', '--data_root', write_csv(tmp_path / 'l.csv', rows))
    refused(r, tmp_path, 'duplicate row', 'l.csv', rows[3][0], 'lines 5, 34')

def test_csv_one_file_two_labels(tmp_path):
    "One path under two label paths: refused (it would sit in train and test under both)."
    rows = csv_rows(tmp_path); rows.append((rows[0][0], 'vehicle', 'bus'))
    r = train(tmp_path, '--dataset', 'csv', '--data_root', write_csv(tmp_path / 'l.csv', rows))
    refused(r, tmp_path, 'listed again with other labels', 'l.csv', rows[0][0])

def test_csv_same_file_two_spellings(tmp_path):
    "The same file through two spellings of its path (`d/./x.png`) is the same file: refused."
    rows = csv_rows(tmp_path); p = rows[0][0]; rows.append((p.replace('/', '/./', 1), *rows[0][1:]))
    r = train(tmp_path, '--dataset', 'csv', '--data_root', write_csv(tmp_path / 'l.csv', rows))
    refused(r, tmp_path, 'duplicate row', 'l.csv')

@pytest.mark.parametrize('marker', ['NaN', 'nan', 'N/A', 'null', 'None'])
def test_csv_missing_value(tmp_path, marker):
    "A missing-value marker (pandas writes NaN) in a label cell: refused, naming the line, column and value."
    rows = csv_rows(tmp_path); rows[2] = (rows[2][0], rows[2][1], marker)
    r = train(tmp_path, '--dataset', 'csv', '--data_root', write_csv(tmp_path / 'l.csv', rows))
    refused(r, tmp_path, 'missing value', marker, "4, 'kind'", 'l.csv')

@pytest.mark.parametrize('col', ['Split', 'SPLIT'])
def test_csv_split_column_any_case(tmp_path, col):
    "A split column written `Split` gives the splits (never a level), with or without --shared_labels."
    rows = csv_rows(tmp_path, extra=lambda f: ('test' if int(f.stem) < 2 else 'train',))
    csv = write_csv(tmp_path / 'l.csv', rows, f'path,kingdom,kind,{col}')
    for extra in ([], ['--shared_labels', 'true']):
        cfg, (tr, te) = datasets('--dataset', 'csv', '--data_root', csv, '--batch_size', '8', *extra)
        assert tr.hierarchy.level_names == ['kingdom', 'kind'] and (len(tr), len(te)) == (24, 8)
        assert all(int(f.stem) < 2 for f in te.samples)
    r = train(tmp_path, '--dataset', 'csv', '--data_root', csv)
    assert r.code == 0, r

def test_csv_split_column_twice(tmp_path):
    "Two columns naming the split (`split` and `Split`): refused."
    rows = csv_rows(tmp_path, extra=lambda f: ('train', 'train'))
    r = train(tmp_path, '--dataset', 'csv', '--data_root', write_csv(tmp_path / 'l.csv', rows, 'path,kingdom,kind,split,Split'))
    refused(r, tmp_path, 'split', 'Split', 'keep one')

@pytest.mark.parametrize('shared', [[], ['--shared_labels', 'true']])
def test_csv_split_values_in_a_level(tmp_path, shared):
    "A column `fold` holding train/test is no level: refused (naming the column 'split' is the fix), even with --shared_labels."
    rows = csv_rows(tmp_path, label=lambda f: ('Train' if int(f.stem) > 1 else 'Test', f.parts[-3], f.parent.name))
    r = train(tmp_path, '--dataset', 'csv', '--data_root', write_csv(tmp_path / 'l.csv', rows, 'path,fold,kingdom,kind'), *shared)
    refused(r, tmp_path, "level 'fold'", 'split names', "name the column 'split'")

@pytest.mark.parametrize('where', ['first', 'last'])
def test_csv_id_column(tmp_path, where):
    "An id column (a different value in every row) is no level: refused first or last, even with --shared_labels true."
    ids = {f: f'img{i}' for i, f in enumerate(tree_files(write_tree(tmp_path / 'd', n=8)))}
    lab = (lambda f: (ids[f], f.parts[-3], f.parent.name)) if where == 'first' else (lambda f: (f.parts[-3], f.parent.name, ids[f]))
    head = 'path,id,kingdom,kind' if where == 'first' else 'path,kingdom,kind,id'
    csv = write_csv(tmp_path / 'l.csv', csv_rows(tmp_path, label=lab), head)
    r = train(tmp_path, '--dataset', 'csv', '--data_root', csv, '--shared_labels', 'true')
    refused(r, tmp_path, "level 'id'", 'an id', "remove the column 'id'", '--levels kingdom,kind', advice_free=False)
    r = train(tmp_path, '--dataset', 'csv', '--data_root', csv, '--levels', 'kingdom,kind', '--shared_labels', 'true')
    assert r.code == 0, r                                              # --levels leaves it out: trains on the two levels

def test_csv_constant_level(tmp_path):
    "A level with one value for every sample (a free 100 %): refused, naming the level and how to leave it out."
    csv = write_csv(tmp_path / 'l.csv', csv_rows(tmp_path, label=lambda f: ('photo', f.parts[-3], f.parent.name)), 'path,domain,kingdom,kind')
    r = train(tmp_path, '--dataset', 'csv', '--data_root', csv)
    refused(r, tmp_path, "level 'domain'", "one label ('photo')", '--levels kingdom,kind')

def test_csv_class_only_in_test(tmp_path):
    "A class whose samples are all in the test split: refused (it would be scored, never trained), naming it."
    rows = csv_rows(tmp_path, extra=lambda f: ('test' if f.parent.name == 'car' or int(f.stem) < 2 else 'train',))
    r = train(tmp_path, '--dataset', 'csv', '--data_root', write_csv(tmp_path / 'l.csv', rows, 'path,kingdom,kind,split'))
    refused(r, tmp_path, 'test split holds 1 label', "'car'", 'no training sample')

def test_seeded_split_single_sample_class(tmp_path):
    "A leaf with one sample that the seeded test draw takes: refused rather than scored without ever being trained on."
    from hmlc_nb.splits import val_split
    d = write_tree(tmp_path / 'd', n=9)
    for f in sorted((d / 'vehicle' / 'car').iterdir())[1:]: f.unlink()     # 9 + 9 + 9 images and one car, the last sample
    leaves = torch.tensor([[0, 0]] * 9 + [[0, 1]] * 9 + [[1, 2]] * 9 + [[1, 3]])
    seed = next(s for s in range(100) if 27 in val_split(leaves, 0.25, s)[1].tolist())  # a draw that tests the car
    r = train(tmp_path, '--dataset', 'folder', '--data_root', d, '--data_seed', seed)
    refused(r, tmp_path, "level 'fine'", "'car'", 'no training sample', 'test_frac')

# ----------------------------------------------------------------------------------------------------- folder trees
@pytest.mark.parametrize('names', [('Train', 'Test'), ('TRAIN', 'test')])
def test_folder_split_folders_any_case(tmp_path, names):
    "Train/ and Test/ folders are the splits, not a level (also with --shared_labels true, which used to train on them)."
    write_tree(tmp_path / 'd' / names[0], n=6); write_tree(tmp_path / 'd' / names[1], n=2)
    for extra in ([], ['--shared_labels', 'true']):
        cfg, (tr, te) = datasets('--dataset', 'folder', '--data_root', tmp_path / 'd', '--batch_size', '8', *extra)
        assert tr.hierarchy.level_names == ['coarse', 'fine'] and tr.hierarchy.names[0] == ['animal', 'vehicle']
        assert (len(tr), len(te)) == (24, 8) and {f.parts[-4] for f in te.samples} == {names[1]}

def test_folder_split_folders_beside_classes(tmp_path):
    "train/ and test/ beside a class folder: refused (which reading is meant is not clear), naming the folders."
    write_tree(tmp_path / 'd' / 'train'); write_tree(tmp_path / 'd' / 'Test', n=2); write_tree(tmp_path / 'd' / 'extra', leaves=(('a', 'b'),))
    r = train(tmp_path, '--dataset', 'folder', '--data_root', tmp_path / 'd')
    refused(r, tmp_path, 'split folders', "'extra'", 'not both')

def test_folder_split_folders_deeper(tmp_path):
    "Split folders below the classes (root/animal/cat/train/...) are no level: refused, saying where they go."
    for a, b in LEAVES:
        for s, n in (('train', 6), ('test', 2)): write_tree(tmp_path / 'd' / a / b / s, n=n, leaves=(('x',),))
    r = train(tmp_path, '--dataset', 'folder', '--data_root', tmp_path / 'd', '--shared_labels', 'true')
    refused(r, tmp_path, 'split names', 'root/train/<tree>')

def test_folder_symlinked_class(tmp_path):
    "A class folder that is a symlink is followed (its images are read), not silently dropped."
    d = write_tree(tmp_path / 'd'); store = tmp_path / 'store'
    (d / 'animal' / 'cat').rename(store); (d / 'animal' / 'cat').symlink_to(store, target_is_directory=True)
    cfg, (tr, te) = datasets('--dataset', 'folder', '--data_root', d, '--test_frac', '0.25', '--batch_size', '8')
    assert len(tr) + len(te) == 32 and 'cat' in tr.hierarchy.names[1]
    assert sum(f.parent.name == 'cat' for f in tr.samples + te.samples) == 8

def test_folder_symlink_loop(tmp_path):
    "A link back up the tree: refused, naming it (not an endless walk or a silent drop)."
    d = write_tree(tmp_path / 'd'); (d / 'animal' / 'cat' / 'loop').symlink_to(d, target_is_directory=True)
    r = train(tmp_path, '--dataset', 'folder', '--data_root', d)
    refused(r, tmp_path, 'links back', 'loop')

def test_folder_same_folder_twice(tmp_path):
    "Two class folders that are the same folder (a link): refused, its images would get two label paths."
    d = write_tree(tmp_path / 'd'); (d / 'vehicle' / 'tram').symlink_to(d / 'vehicle' / 'car', target_is_directory=True)
    r = train(tmp_path, '--dataset', 'folder', '--data_root', d)
    refused(r, tmp_path, 'the same folder', 'tram')

def test_folder_16bit_png(tmp_path):
    "16-bit gray PNGs are scaled to 8 bits (not clipped to a constant): each image's level survives."
    d = tmp_path / 'd'
    for i, (a, b) in enumerate(LEAVES):
        (d / a / b).mkdir(parents=True)
        for k in range(8): Image.fromarray(np.full((8, 10), 4000 * (i + 1) + 1000 * k, np.uint16)).save(d / a / b / f'{k}.png')
    assert Image.open(d / 'animal' / 'cat' / '0.png').mode.startswith('I')
    cfg, (tr, te) = datasets('--dataset', 'folder', '--data_root', d, '--test_frac', '0.25', '--batch_size', '8')
    assert cfg.in_channels == 1
    for ds in (tr, te):
        for i in range(len(ds)):
            leaf, k = [b for _, b in LEAVES].index(ds.samples[i].parent.name), int(ds.samples[i].stem)
            assert int(ds.data[i][0, 3, 3]) == round((4000 * (leaf + 1) + 1000 * k) * 255 / 65535)

def test_folder_one_thumbnail(tmp_path):
    "One 1x1 thumbnail does not set img_size to 1 for every image: the median shorter side (8) is used."
    d = write_tree(tmp_path / 'd'); Image.new('RGB', (1, 1), (5, 5, 5)).save(d / 'animal' / 'cat' / 'thumb.png')
    r = train(tmp_path, '--dataset', 'folder', '--data_root', d)
    assert r.code == 0, r
    assert json.loads((tmp_path / 'run' / 'config.json').read_text())['img_size'] == 8

def test_folder_decompression_bomb(tmp_path, monkeypatch):
    "An image over Pillow's decompression-bomb limit: a clean error naming the file (not a traceback)."
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 1000)                 # the tiny images are 80 pixels, the bomb 4096
    d = write_tree(tmp_path / 'd'); Image.new('RGB', (64, 64)).save(d / 'animal' / 'dog' / 'huge.png')
    r = train(tmp_path, '--dataset', 'folder', '--data_root', d)
    refused(r, tmp_path, 'huge.png', 'decompression bomb', 'MAX_IMAGE_PIXELS')

# ---------------------------------------------------------------------------------------------------------- arrays
def test_npz_channels_last(tmp_path):
    "Images saved [N, H, W, 3]: refused with the transpose to use (not 12 channels of 12x3 pixels)."
    x = np.random.RandomState(0).randint(0, 256, (32, 12, 12, 3)).astype(np.uint8)
    np.savez(tmp_path / 'a.npz', x=x, y=np.repeat(np.array([[0, 0], [0, 1], [1, 2], [1, 3]]), 8, axis=0))
    r = train(tmp_path, '--dataset', 'arrays', '--data_root', tmp_path / 'a.npz')
    refused(r, tmp_path, 'a.npz', 'channels last', 'np.transpose(x, (0, 3, 1, 2))')

def test_npz_duplicate_level_names(tmp_path):
    "level_names naming a level twice: refused (one level would be kept and reported twice)."
    np.savez(tmp_path / 'a.npz', x=np.random.RandomState(0).randn(32, 6).astype(np.float32),
             y=np.array([[a, b] for a, b in LEAVES for _ in range(8)]), level_names=np.array(['kind', 'kind']))
    r = train(tmp_path, '--dataset', 'arrays', '--data_root', tmp_path / 'a.npz')
    refused(r, tmp_path, 'a.npz', 'level_names', "repeats ['kind']")

@pytest.mark.parametrize('row,value,says', [
    pytest.param(5, 'nan', 'missing label', id='nan'),                 # a table's missing value saved as text
    pytest.param(0, 'cat ', 'spaces around them', id='spaces')])       # 'cat ' beside 'cat': not a class of its own
def test_npz_bad_string_label(tmp_path, row, value, says):
    "A string label the package would misread (a 'nan' text, a label padded with spaces): refused, naming the row."
    y = np.array([[a, b] for a, b in LEAVES for _ in range(8)]); y[row, 1] = value
    np.savez(tmp_path / 'a.npz', x=np.random.RandomState(0).randn(32, 6).astype(np.float32), y=y)
    r = train(tmp_path, '--dataset', 'arrays', '--data_root', tmp_path / 'a.npz')
    refused(r, tmp_path, 'a.npz', says, f"({row}, 1, {value!r})")

# ------------------------------------------------------------------------------------------------ built-in datasets
def _fake_mnist(root):
    from test_hostile import _fake_mnist as fm
    return fm(root, 40, 40)

def test_mnist_small_digit_scales(tmp_path):
    "--dataset mnist --img_size 32: the small digit scales with the image (5 px, as 32 of the paper's 192), not 32 px over all of it."
    _fake_mnist(tmp_path / 'data')
    cfg, (tr, te) = datasets('--dataset', 'mnist', '--data_root', tmp_path / 'data', '--img_size', '32', '--n_train', '40',
                             '--n_test', '20', '--batch_size', '8')
    assert tr.plan['sub_size'] == 5 and te.plan['sub_size'] == 5

def test_mnist_sub_size_not_below_image(tmp_path, size=32):
    "A small digit as large as the image (it would cover the large one): a clean error naming sub_size, nothing trained."
    _fake_mnist(tmp_path / 'data')
    cfg = tmp_path / 'c.json'; cfg.write_text(json.dumps(dict(dataset='mnist', data_root=str(tmp_path / 'data'), img_size=32, sub_size=size)))
    r = cli('train', '--config', cfg, '--out', tmp_path / 'run', *S, '--n_train', '40', '--n_test', '20', '--batch_size', '8', '--no-eval')
    clean_error(r, 'sub_size')
    assert not trained(tmp_path / 'run')

def test_sub_size_fraction(tmp_path):
    "sub_size 2.5 in a config file: a clean error naming sub_size (not silently 2 pixels)."
    cfg = tmp_path / 'c.json'; cfg.write_text(json.dumps(dict(sub_size=2.5)))
    r = cli('train', '--config', cfg, '--out', tmp_path / 'run', *S, '--no-eval')
    clean_error(r, 'sub_size')
    assert not trained(tmp_path / 'run')

def _tiny_cifar(root):
    "Tiny pickles in CIFAR-100's official layout (2 superclasses, 4 classes, 16 train and 8 test images)."
    base = root / 'cifar-100-python'; base.mkdir(parents=True)
    with open(base / 'meta', 'wb') as f:
        pickle.dump({'fine_label_names': ['apple', 'pear', 'bus', 'train'], 'coarse_label_names': ['fruit', 'vehicles']}, f, protocol=2)
    rng = np.random.RandomState(0)
    for split, m in (('train', 16), ('test', 8)):
        fine = [i % 4 for i in range(m)]
        with open(base / split, 'wb') as f:
            pickle.dump({'fine_labels': fine, 'coarse_labels': [c // 2 for c in fine], 'filenames': [f'{i}.png' for i in range(m)],
                         'data': rng.randint(0, 256, (m, 3072)).astype(np.uint8)}, f, protocol=2)
    return base

def test_cifar_extracted_files_checked(tmp_path):
    "CIFAR-100 files that are not the published ones: refused naming the file and its MD5, before they are unpickled."
    base = _tiny_cifar(tmp_path / 'data')
    r = cli('train', '--out', tmp_path / 'run', '--dataset', 'cifar100', '--data_root', tmp_path / 'data', *S,
            '--n_train', '16', '--n_test', '8', '--batch_size', '8', '--no-eval', '--encoder', 'small_cnn', '--in_channels', '3')
    clean_error(r, 'MD5', str(base / 'meta'))
    assert not trained(tmp_path / 'run')

def test_cifar_api_pinned_md5(tmp_path):
    "The API checks each extracted file against the published MD5s; with the files' own MD5s it reads them."
    from hmlc_nb.official import CIFAR100Hierarchical, ChecksumError, _md5
    base = _tiny_cifar(tmp_path)
    with pytest.raises(ChecksumError, match='meta'): CIFAR100Hierarchical(tmp_path)
    md5 = {n: _md5(base / n) for n in ('train', 'test', 'meta')}
    assert len(CIFAR100Hierarchical(tmp_path, md5=md5)) == 16
    with pytest.raises(ChecksumError, match="'test'|test' has MD5"): CIFAR100Hierarchical(tmp_path, train=False, md5={**md5, 'test': '0' * 32})

# ------------------------------------------------------------------------------------------------- more of our own
def test_csv_unicode_digit_label(tmp_path):
    "A label written with a non-ASCII digit ('²') is a name, not an id (int() of it used to fail)."
    csv = write_csv(tmp_path / 'l.csv', csv_rows(tmp_path, label=lambda f: (f.parts[-3], {'cat': '²'}.get(f.parent.name, f.parent.name))))
    cfg, (tr, te) = datasets('--dataset', 'csv', '--data_root', csv, '--test_frac', '0.25', '--batch_size', '8')
    assert '²' in tr.hierarchy.names[1]

@pytest.mark.parametrize('names', [('training', 'testing'), ('Train', 'Validation')])
def test_folder_split_words_as_a_level(tmp_path, names):
    "Folders named training/ and testing/ (not the split names read) are no level: refused, saying how to name them."
    write_tree(tmp_path / 'd' / names[0], n=6); write_tree(tmp_path / 'd' / names[1], n=2)
    r = train(tmp_path, '--dataset', 'folder', '--data_root', tmp_path / 'd', '--shared_labels', 'true')
    refused(r, tmp_path, 'split names', 'train/, test/')

def test_npz_negative_ids(tmp_path):
    "y holding -1 (often 'no label'): refused, naming the rows (not a class of its own)."
    y = np.array([[i // 16, i // 8] for i in range(32)]); y[[3, 20], 1] = -1
    np.savez(tmp_path / 'a.npz', x=np.random.RandomState(0).randn(32, 6).astype(np.float32), y=y)
    r = train(tmp_path, '--dataset', 'arrays', '--data_root', tmp_path / 'a.npz')
    refused(r, tmp_path, 'a.npz', 'negative ids', "'3', '20'")

def test_npz_split_values_in_y(tmp_path):
    "A column of y holding 'train'/'test' is a split saved in the wrong place: refused, naming the array 'split'."
    y = np.array([[a, b, 'test' if i % 4 == 0 else 'train'] for i, (a, b) in enumerate([l for l in LEAVES for _ in range(8)])])
    np.savez(tmp_path / 'a.npz', x=np.random.RandomState(0).randn(32, 6).astype(np.float32), y=y)
    r = train(tmp_path, '--dataset', 'arrays', '--data_root', tmp_path / 'a.npz', '--shared_labels', 'true')
    refused(r, tmp_path, 'split names', "the array 'split'")

def test_folder_a_sample_per_class(tmp_path):
    "A finest level with one image per class folder (an id, nothing to learn or test): refused."
    d = write_tree(tmp_path / 'd', n=1, leaves=[('a', f'c{i}') for i in range(8)] + [('b', f'd{i}') for i in range(8)])
    r = train(tmp_path, '--dataset', 'folder', '--data_root', d, '--batch_size', '2')
    refused(r, tmp_path, "level 'fine'", 'an id')

@pytest.mark.skipif(not hasattr(os, 'mkfifo'), reason="no named pipes here")
def test_folder_pipe_named_png(tmp_path):
    "A named pipe called x.png in a class folder (not a file): refused, naming it (it was silently skipped)."
    d = write_tree(tmp_path / 'd'); os.mkfifo(d / 'animal' / 'cat' / 'pipe.png')
    r = train(tmp_path, '--dataset', 'folder', '--data_root', d)
    refused(r, tmp_path, 'pipe.png', 'no files')

@pytest.mark.parametrize('source', ['csv', 'folder'])
def test_levels_fine_first(tmp_path, source):
    "Levels given fine first (each kind in one kingdom): the message says to put the coarse one first, not --shared_labels."
    if source == 'csv':
        data = write_csv(tmp_path / 'l.csv', csv_rows(tmp_path, label=lambda f: (f.parent.name, f.parts[-3])), 'path,kind,kingdom')
        says = "put the column 'kingdom' before 'kind'"
    else:
        data = write_tree(tmp_path / 'd', leaves=[(b, a) for a, b in LEAVES])
        says = 'nest the folders the other way round'
    r = train(tmp_path, '--dataset', source, '--data_root', data)
    refused(r, tmp_path, 'coarse first', says)

