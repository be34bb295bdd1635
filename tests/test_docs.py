"""Docs: the sidebar orders every page; the cheap (static) docs checks pass on every notebook; README.md is made
from nbs/index.ipynb; the docs check's pieces work.

The full check (executes every notebook, renders it with MathJax and a table of contents, opens it in headless
Chromium, screenshots) is slow: `HMLC_DOCS_CHECK=1 bash tools/docs_check.sh`, or here with HMLC_DOCS_CHECK=1."""
import importlib.util, json, os, subprocess, sys
from pathlib import Path
import nbformat, pytest, yaml
from nbformat.v4 import new_notebook, new_markdown_cell as md, new_code_cell as code, new_raw_cell as raw, new_output

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location('docs_check', ROOT/'tools'/'docs_check.py')
dc = importlib.util.module_from_spec(spec); spec.loader.exec_module(dc)

# The module notebooks the layout promises, and every notebook there is now (a missing one is skipped).
EXPECTED = ['index', '00_hierarchy', '01_data', '01a_augment', '01b_imbalance', '01c_splits', '01d_images', '01e_synthetic',
            '01f_official', '01g_owndata', '02_losses', '03_masking', '03a_mixtures', '03b_relevance', '03c_maskers', '04_models', '04a_distributed', '04b_settings',
            '05_config', '05a_checkpoint', '05b_train', '06_eval', '06_figures', '06_identification', '06a_pipeline', '07_cli', '08_levels',
            '10_digits', '11_cifar100', '12_modelnet40', '13_ablations']
NOTEBOOKS = sorted(set(EXPECTED) | {p.stem for p in dc.find_notebooks()})

def _nb(*cells): return new_notebook(cells=list(cells))

# ------------------------------------------------------------------------------------- static, every notebook

@pytest.mark.parametrize('name', NOTEBOOKS)
def test_static_docs_checks(name):
    "No stray front matter, no DESIGN.md, no issue numbers, no dead links between notebooks, every export documented."
    p = ROOT/'nbs'/f'{name}.ipynb'
    if not p.exists(): pytest.skip(f'{p.name} does not exist (yet)')
    probs = dc.static_problems(p)
    assert not probs, f'{p.name}: {len(probs)} docs problem(s):\n' + '\n'.join(probs)

def test_sidebar_format_and_order():
    d = yaml.safe_load((ROOT/'nbs'/'sidebar.yml').read_text())
    contents = d['website']['sidebar']['contents']  # nbdev's sidebar.yml format
    assert contents[0] == 'index.ipynb'
    assert [(c['section'], c['contents']) for c in contents[1:]] == [('Modules', '0*.ipynb'), ('Experiments', '1*.ipynb')]
    order, missing, err = dc.read_sidebar()
    assert err is None and not missing
    names = [p.stem for _, p in order]
    assert names[0] == 'index' and names[1:] == sorted(names[1:])  # module notebooks in number order, then experiments
    assert [n for n in names if n[0] == '0'][:2] == ['00_hierarchy', '01_data']

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

# ---------------------------------------------------------------------------------------------- README.md

def test_readme_says_the_commands():
    t = (ROOT/'README.md').read_text()
    assert 'bash tools/test.sh' in t  # .ci/run runs it: the README must say so
    assert 'hmlc_compare --preset digits' in t and 'pip install git+' in t and 'pip install -e' in t
    assert 'DESIGN.md' not in t and not dc._re_issue.search(dc._re_url.sub(' ', t))

def test_readme_is_made_from_index():
    "README.md is nbs/index.ipynb (executed) as markdown: edit the notebook, then `bash tools/docs_check.sh --readme`."
    want = dc.build_readme()
    have = (ROOT/'README.md').read_text()
    assert have == want, 'README.md differs from nbs/index.ipynb: run `bash tools/docs_check.sh --readme` and commit'

def test_readme_markdown():
    nb = _nb(md('# T\n\n> s'), code('#| hide\nimport x'), code('#| echo: false\nshow()', outputs=[
                 new_output('display_data', {'text/markdown': '| a |\n|---|\n| [hier](hierarchy.html#x) |', 'text/plain': 'M'})]),
             code('y = 1\ny', outputs=[new_output('execute_result', {'text/plain': '1'}, execution_count=1)]),
             md('see [losses](losses.html), [f](results/digits_seeds/results.json), [out](https://x.org/a.html)'))
    pages = {'hierarchy.html': '00_hierarchy.ipynb', 'losses.html': '02_losses.ipynb'}
    t = dc.readme_markdown(nb, pages)
    assert t.startswith(dc.README_HEADER) and '# T\n\n> s' in t and 'import x' not in t and 'show()' not in t
    assert '| [hier](nbs/00_hierarchy.ipynb) |' in t and '```python\ny = 1\ny\n```' in t
    assert '[losses](nbs/02_losses.ipynb)' in t and '(nbs/results/digits_seeds/results.json)' in t and '(https://x.org/a.html)' in t
    assert '\n1\n' not in t  # plain outputs (numbers that vary by machine) are left out

# ------------------------------------------------------------------------------------------ the checks work

def test_yaml_headings():
    assert dc.yaml_headings(_nb(md('---\njupyter:\n  jupytext:\n    format_name: percent\n---'), md('# T')))
    assert dc.yaml_headings(_nb(md('title: x\n---\n')))  # setext heading made of YAML
    assert dc.yaml_headings(_nb(raw('---\ntitle: a\n---'), md('# T'), raw('---\ntitle: b\n---')))
    assert not dc.yaml_headings(_nb(raw('---\nskip_exec: true\n---'), md('# T\n\n> s\n\n---\n\nA rule above.')))

def test_design_and_issue_refs():
    assert dc.design_refs(_nb(md('as DESIGN.md says'))) and dc.design_refs(_nb(code('x = 1  # design.md')))
    assert not dc.design_refs(_nb(md('the design of the loss')))
    for bad in ['fixed in #16', 'see issue 17', '(Issue #3)', 'issues 3 and 4', 'PR 12 added it']:
        assert dc.issue_refs(_nb(md(bad))), bad
    for ok in ['#| export\nx = 1', "plt.plot(x, color='#1f77b4')", "c = '#333'", 'https://github.com/a/b/issues/16',
               '# 16 dims', 'x[#0-based]', 'an issue with 3 levels', '## 2. Results']:
        assert not dc.issue_refs(_nb(code(ok) if ok.startswith(('#|', 'plt', 'c =', 'x[', '# ')) else md(ok))), ok

def test_dead_links(tmp_path, monkeypatch):
    for n in ['index', '00_hierarchy', '02_losses']: nbformat.write(_nb(md(f'# {n}')), tmp_path/f'{n}.ipynb')
    (tmp_path/'results').mkdir(); (tmp_path/'results'/'a.json').write_text('{}')
    monkeypatch.setattr(dc, 'NBS', tmp_path)
    nb = _nb(md('[h](hierarchy.html) [l](losses.html#supcon_loss) [n](00_hierarchy.ipynb) [r](results/a.json) '
                '[x](#here) [e](https://example.org/gone.html) [s](https://hmlc-nb.github.io/hmlc_nb/losses.html#x)'))
    assert dc.dead_links(nb) == []
    probs = dc.dead_links(_nb(md('[t](train.html) [m](05_train.ipynb) [r](results/b.json) `[c](code.html)`'),
                              code('show_doc(f)', outputs=[new_output('display_data', {'text/markdown': '[g](https://hmlc-nb.github.io/hmlc_nb/gone.html#a)'})])))
    assert len(probs) == 2 and 'train.html' in probs[0] and '05_train.ipynb' in probs[0] and 'results/b.json' in probs[0]
    assert 'gone.html' in probs[1] and 'code.html' not in ' '.join(probs)
    probs = dc.dead_links(_nb(md('`00_hierarchy` and nbs/02_losses.ipynb are there; `05_train` and nbs/07_cli.ipynb are not')))
    assert len(probs) == 1 and probs[0].endswith('dead link 05_train, nbs/07_cli.ipynb')

def test_blank_figures():
    draw = 'fig, ax = plt.subplots()\nax.plot([1, 2])'
    png = new_output('display_data', {'image/png': 'iVBORw0KGgo=', 'text/plain': '<Figure>'})
    assert dc.blank_figures(_nb(code(draw)))  # draws, shows nothing
    assert dc.blank_figures(_nb(code('fig = tsne_figure(z, y)\nfig.savefig("a.png"); plt.close(fig)')))
    assert not dc.blank_figures(_nb(code(draw, outputs=[png])))
    assert not dc.blank_figures(_nb(code('#| export\ndef plot_it(x):\n    plt.plot(x)')))  # only defines
    assert not dc.blank_figures(_nb(code('#| eval: false\n' + draw), code('#| hide\nimport matplotlib; matplotlib.use("Agg")'),
                                    code('show_doc(plot_it)')))

def test_undocumented_exports():
    nb = _nb(code('#| export\ndef a(x): "doc"; return x\ndef b(x): return x\ndef _c(x): return x\nclass D: pass'),
             code('def e(x): return x'))
    assert dc._undocumented(nb) == ['b', 'D']
    assert dc._undocumented(_nb(code('#| export\n@patch\ndef fwd(self:Loss, x): return x'))) == ['Loss.fwd']
    assert dc._undocumented(_nb(code('#| exports\n@patch\ndef fwd(self:Loss, x):\n    "doc"\n    return x'))) == []

def test_api_order():
    assert dc.api_order(['A', 'A.f', 'g', 'B', 'B.h']) == []
    assert dc.api_order(['A.f', 'A', 'A.f']) == ['API entry A.f shown twice', 'API entry A.f comes before its class A']
    assert dc.api_order(['Other.f']) == []  # a class documented on another page

def test_showdoc_problems():
    out = lambda t: code('show_doc(f)', outputs=[new_output('display_data', {'text/markdown': t})])
    good = '### f\n\n```python\n\ndef f(\n    x:int, # the count\n    y:int|None=None, # or nothing\n)->int: # the result\n```\n\n*Doc with `code`.*'
    bad = '### g\n\n```python\n\ndef g(\n    z:Tensor, # projections `[B, D]`\n    w:NoneType=None, # weights\n)->Tensor: # `[B]`\n```'
    assert dc.showdoc_problems(_nb(out(good))) == []
    p = dc.showdoc_problems(_nb(out(bad)))
    assert len(p) == 2 and 'z, the return value' in p[0] and 'NoneType' in p[1] and 'w' in p[1]

def test_math_toc_ids():
    assert dc.n_math(_nb(md('a $x^2$ and $$\\sum_i w_i$$ and \\(y\\), not `$HOME` nor $5 and $6'))) == 3
    assert dc.pandoc_id('TorchGMM.fit') == 'torchgmm.fit' and dc.pandoc_id('2. The G-HMLC loss!') == 'the-g-hmlc-loss'
    body = ('<h1 id="T">T<a class="anchor-link" href="#T">\u00b6</a></h1><h2 id="Hard-masks">Hard masks<a class="anchor-link" '
            'href="#Hard-masks">\u00b6</a></h2><h3 id="GHMLCLoss.forward">GHMLCLoss.forward</h3><p><a href="#Hard-masks">x</a></p>')
    b = dc._pandoc_ids(body)
    assert 'id="hard-masks"' in b and 'href="#hard-masks"' in b and 'id="ghmlcloss.forward"' in b
    toc = dc._toc_html(b)
    assert 'id="TOC"' in toc and 'href="#hard-masks"' in toc and 'href="#ghmlcloss.forward"' in toc and '#t"' not in toc

def test_quarto_like_and_show_doc_names():
    nb = _nb(raw('---\ndescription: One line.\ntitle: My page\n---'),
             code('#| echo: false\n#| output: asis\nshow_doc(Foo.bar)',
                  outputs=[new_output('display_data', {'text/markdown': '### Foo.bar\n\n[source](x.py#L1){target="_blank"}'})]),
             code('#| include: false\nsecret = 1'), code('#| eval: false\nx = 1'), code('show_doc(baz, name="Baz")'))
    assert dc._show_doc_names(nb) == ['Foo.bar', 'Baz']
    nb, fm = dc._quarto_like(nb, '')
    assert fm == {'title': 'My page', 'description': 'One line.'} and nb.metadata.title == 'My page'
    assert 'class="title">My page</h1>' in nb.cells[0].source
    srcs = [c.source for c in nb.cells[1:]]
    assert srcs == ['', 'x = 1', 'show_doc(baz, name="Baz")']  # echo: false hides, include: false drops, directives go
    assert 'docs-no-input' in nb.cells[1].metadata.tags
    assert '<a href="x.py#L1" target="_blank">source</a>' in nb.cells[1].outputs[0]['data']['text/markdown']

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

def test_heading_matching():
    assert dc._matches('Hierarchy.paths', ['Hierarchy.paths'])
    assert dc._matches('hmlc_nb.losses.supcon_loss', ['supcon_loss'])
    assert not dc._matches('supcon_loss', ['hmlc_loss', 'Hierarchy'])

# ------------------------------------------------------------------------------------------------ slow: all

@pytest.mark.skipif(os.environ.get('HMLC_DOCS_CHECK') != '1', reason='slow: set HMLC_DOCS_CHECK=1 (or run bash tools/docs_check.sh)')
def test_docs_check_full():
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'docs_check.py')], cwd=ROOT, capture_output=True, text=True)
    print(r.stdout[-5000:], r.stderr[-2000:])
    assert r.returncode == 0, r.stdout[-3000:]
    assert (ROOT/'docs_check'/'index.png').exists()
