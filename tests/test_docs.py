"""Docs: the sidebar orders every page; the docs check's pieces work. The full check (executes every notebook,
renders it, opens it in headless Chromium) is slow: `bash tools/docs_check.sh`, or here with HMLC_DOCS_CHECK=1."""
import importlib.util, json, os, subprocess, sys
from pathlib import Path
import nbformat, pytest, yaml

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location('docs_check', ROOT/'tools'/'docs_check.py')
dc = importlib.util.module_from_spec(spec); spec.loader.exec_module(dc)

MODULES = ['index', '00_hierarchy', '01_data', '02_losses', '03_masking', '04_models', '05_train', '06_eval',
           '07_cli', '08_levels']

def test_sidebar_format_and_order():
    d = yaml.safe_load((ROOT/'nbs'/'sidebar.yml').read_text())
    contents = d['website']['sidebar']['contents']  # nbdev's sidebar.yml format
    files = [c for c in contents if isinstance(c, str)]
    assert [f[:-len('.ipynb')] for f in files if f[:-len('.ipynb')] in MODULES] == MODULES
    assert files[0] == 'index.ipynb'
    sections = [c for c in contents if isinstance(c, dict)]
    assert sections and sections[-1]['section'] == 'Experiments' and sections[-1]['contents'] == '1*.ipynb'

def test_every_notebook_is_in_the_sidebar():
    order, _, err = dc.read_sidebar()
    assert err is None
    listed = {p for _, p in order}
    missing = [p.name for p in dc.find_notebooks() if p not in listed]
    assert not missing, f'add {missing} to nbs/sidebar.yml (the order of the docs pages)'

def test_page_names_are_unique():
    names = {}
    for p in dc.find_notebooks(): names.setdefault(dc.page_name(p), []).append(p.name)
    assert not {k: v for k, v in names.items() if len(v) > 1}, names
    assert dc.page_name(Path('00_hierarchy.ipynb')) == 'hierarchy'
    assert dc.page_name(Path('04a_distributed.ipynb')) == 'distributed'
    assert dc.page_name(Path('index.ipynb')) == 'index'

def test_sidebar_globs(tmp_path, monkeypatch):
    for n in ['index', '00_a', '10_mnist', '11_cifar', '_hidden']: (tmp_path/f'{n}.ipynb').write_text('{}')
    (tmp_path/'sidebar.yml').write_text(yaml.dump({'website': {'sidebar': {'contents': [
        'index.ipynb', '00_a.ipynb', '01_b.ipynb', {'section': 'Experiments', 'contents': '1*.ipynb'}]}}}))
    monkeypatch.setattr(dc, 'NBS', tmp_path)
    order, missing, err = dc.read_sidebar(tmp_path/'sidebar.yml')
    assert err is None and missing == ['01_b.ipynb']
    assert [(s, p.name) for s, p in order] == [(None, 'index.ipynb'), (None, '00_a.ipynb'),
                                               ('Experiments', '10_mnist.ipynb'), ('Experiments', '11_cifar.ipynb')]
    assert [p.name for p in dc.find_notebooks()] == ['00_a.ipynb', '10_mnist.ipynb', '11_cifar.ipynb', 'index.ipynb']

def test_quarto_like_and_show_doc_names():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_raw_cell('---\ndescription: One line.\ntitle: My page\n---'),
        nbformat.v4.new_code_cell('#| echo: false\n#| output: asis\nshow_doc(Foo.bar)',
                                  outputs=[nbformat.v4.new_output('display_data', {'text/markdown': '### Foo.bar\n\n[source](x.py#L1){target="_blank"}'})]),
        nbformat.v4.new_code_cell('#| include: false\nsecret = 1'),
        nbformat.v4.new_code_cell('#| eval: false\nx = 1'),
        nbformat.v4.new_code_cell('show_doc(baz, name="Baz")')])
    assert dc._show_doc_names(nb) == ['Foo.bar', 'Baz']
    nb, fm = dc._quarto_like(nb, '')
    assert fm == {'title': 'My page', 'description': 'One line.'} and nb.metadata.title == 'My page'
    assert 'class="title">My page</h1>' in nb.cells[0].source
    srcs = [c.source for c in nb.cells[1:]]
    assert srcs == ['', 'x = 1', 'show_doc(baz, name="Baz")']  # echo: false hides, include: false drops, directives go
    assert 'docs-no-input' in nb.cells[1].metadata.tags
    assert '<a href="x.py#L1" target="_blank">source</a>' in nb.cells[1].outputs[0]['data']['text/markdown']

def test_heading_matching():
    assert dc._matches('Hierarchy.paths', ['Hierarchy.paths'])
    assert dc._matches('hmlc_nb.losses.supcon_loss', ['supcon_loss'])
    assert not dc._matches('supcon_loss', ['hmlc_loss', 'Hierarchy'])

@pytest.mark.skipif(os.environ.get('HMLC_DOCS_CHECK') != '1', reason='slow: set HMLC_DOCS_CHECK=1 (or run bash tools/docs_check.sh)')
def test_docs_check_full():
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'docs_check.py')], cwd=ROOT, capture_output=True, text=True)
    print(r.stdout[-5000:], r.stderr[-2000:])
    assert r.returncode == 0, r.stdout[-3000:]
    assert (ROOT/'docs_check'/'index.png').exists()

def test_undocumented_exports():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell('#| export\ndef a(x): "doc"; return x\ndef b(x): return x\ndef _c(x): return x\nclass D: pass'),
        nbformat.v4.new_code_cell('def e(x): return x')])
    assert dc._undocumented(nb) == ['b', 'D']
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('#| export\n@patch\ndef fwd(self:Loss, x): return x')])
    assert dc._undocumented(nb) == ['Loss.fwd']
