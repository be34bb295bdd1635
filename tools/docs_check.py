"""Docs check without Quarto: build the documentation pages the way nbdev does, render them, look at them.

Run it as `bash tools/docs_check.sh` (too slow for the default tests). For every notebook in nbs/*.ipynb:

1. execute it with nbconvert (kernel cwd nbs/, IN_TEST=1, one thread, a timeout per cell), skipping the cells
   nbdev_test skips (`#| eval: false`, cells flagged with settings.ini's `tst_flags`, e.g. `#| slow`, `#| cuda`);
2. process it with nbdev's doc processors (`nbdev.processors.FilterDefaults`, what `nbdev_proc_nbs` applies for
   `_proc/`): front matter from the `# Title` / `> summary` cells, `#| hide` and export cells removed, nbdev
   directives removed, `show_doc` cells added for undocumented exports and executed, links added;
3. render it to HTML with nbconvert, doing the little of Quarto's work the check needs: the title block from
   the front matter, `echo`/`output`/`include` cell options, directive lines hidden, a sidebar from
   nbs/sidebar.yml, page names without the number prefix (00_hierarchy.ipynb -> hierarchy.html);
4. open every page in headless Chromium (Debian's chromium + chromium-driver, driven over the W3C WebDriver
   protocol with the standard library) and check that it shows its title, one heading per `show_doc` entry of
   its notebook, and its figures (every <img> loaded with naturalWidth > 0, at least as many as the
   notebook's image outputs); save screenshots (the home page as docs_check/index.png).

Prints a table, one row per page, and exits 1 when a page fails (or when a notebook is missing from the
sidebar, or nbs/index.ipynb is missing). Outputs go to docs_check/ (git-ignored). Executed notebooks are
cached by content (notebook, package sources, settings.ini, this script): `--force` re-runs them.
"""
from __future__ import annotations
import argparse, base64, fnmatch, hashlib, html, json, os, re, shutil, signal, socket, subprocess, sys, time
import urllib.parse, urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'
CHROME_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync',
               '--disable-dev-shm-usage', '--hide-scrollbars', '--window-size=1280,1600']

# ---------------------------------------------------------------------------------------------- notebooks

def page_name(nb: Path) -> str:
    "Quarto's output name: the notebook stem without its number prefix (`00_hierarchy` -> `hierarchy`)."
    return re.sub(r'^\d+[a-zA-Z]*_', '', nb.stem)

def find_notebooks(patterns=()) -> list[Path]:
    "nbs/*.ipynb, skipping names that start with `_` or `.` (as nbdev does); `patterns` filters by fnmatch."
    nbs = [p for p in sorted(NBS.glob('*.ipynb')) if not p.name.startswith(('_', '.'))]
    if patterns:
        nbs = [p for p in nbs if any(fnmatch.fnmatch(p.name, q) or fnmatch.fnmatch(p.stem, q) or p.stem == q
                                     or page_name(p) == q for q in patterns)]
    return nbs

def _sidebar_items(contents, out):
    "Flatten Quarto sidebar `contents` (files, globs, sections, `auto`) into `(section, entry)` pairs."
    if isinstance(contents, str): contents = [contents]
    for it in contents or []:
        if isinstance(it, str): out.append((None, it))
        elif isinstance(it, dict):
            if 'section' in it:
                sub = []
                _sidebar_items(it.get('contents', []), sub)
                out.extend((it['section'], e) for _, e in sub)
            elif 'auto' in it: out.append((None, it['auto'] if isinstance(it['auto'], str) else '*.ipynb'))
            elif 'href' in it or 'file' in it: out.append((None, it.get('href') or it.get('file')))
    return out

def read_sidebar(path: Path | None = None):
    "Ordered `(section, notebook Path)` of nbs/sidebar.yml with globs expanded, and the listed files that are missing."
    import yaml
    path = path or NBS/'sidebar.yml'
    if not path.exists(): return [], [], f'{path} is missing'
    d = yaml.safe_load(path.read_text()) or {}
    sb = (d.get('website') or {}).get('sidebar')
    if isinstance(sb, list): sb = sb[0] if sb else {}
    items = _sidebar_items((sb or {}).get('contents', []), [])
    order, missing, seen = [], [], set()
    for sec, e in items:
        if any(c in e for c in '*?['):
            hits = sorted(p for p in NBS.glob(e.lstrip('/')) if p.suffix == '.ipynb' and not p.name.startswith(('_', '.')))
        else: hits = [NBS/e] if (NBS/e).exists() else []
        if not hits and not any(c in e for c in '*?['): missing.append(e)
        for p in hits:
            if p not in seen: seen.add(p); order.append((sec, p))
    return order, missing, None

# ------------------------------------------------------------------------------ static checks (no kernel)
# Cheap checks on the committed notebook (what Quarto renders: `nbdev_docs` runs `quarto render --no-execute`,
# so the site shows the outputs saved in the notebook). tests/test_docs.py runs them by default.

def _src(c) -> str: return c['source'] if isinstance(c['source'], str) else ''.join(c['source'])

def _md_outputs(c):
    "The markdown outputs of a code cell (show_doc tables, `Markdown(...)` displays)."
    for o in c.get('outputs', []):
        md = o.get('data', {}).get('text/markdown')
        if md is not None: yield md if isinstance(md, str) else ''.join(md)

def _cell_label(i, c) -> str:
    first = next((l.strip() for l in _src(c).splitlines() if l.strip() and not l.lstrip().startswith('#|')), '')
    return f'cell {i} `{first[:50]}`'

_re_yaml_key = re.compile(r'^\s*(jupyter|jupytext|kernelspec|text_representation|format_name|format_version|'
                          r'jupytext_version|display_name|language|name|title|description|output-file)\s*:', re.M)

def yaml_headings(nb) -> list[str]:
    "Stray YAML / jupytext front matter: Quarto renders a markdown `---` block as a rule and a heading of YAML."
    res, first = [], True
    for i, c in enumerate(nb['cells']):
        s = _src(c)
        if not s.strip(): continue
        if c['cell_type'] in ('markdown', 'raw') and re.search(r'^\s*(jupytext|kernelspec)\s*:', s, re.M):
            res.append(f'{_cell_label(i, c)}: jupytext/kernel front matter in a {c["cell_type"]} cell')
        elif c['cell_type'] == 'markdown' and s.lstrip().startswith('---') and _re_yaml_key.search(s):
            res.append(f'{_cell_label(i, c)}: YAML front matter in a markdown cell (renders as a heading)')
        elif c['cell_type'] == 'markdown' and re.search(r'^\s*\w[\w-]*\s*:\s*\S.*\n\s*(---+|===+)\s*$', s, re.M):
            res.append(f'{_cell_label(i, c)}: a `key: value` line above `---` (renders as a heading)')
        elif c['cell_type'] == 'raw' and s.lstrip().startswith('---') and not first:
            res.append(f'{_cell_label(i, c)}: a second front-matter cell (only the first is front matter)')
        first = False
    return res

def design_refs(nb) -> list[str]:
    "References to the team's design notes (the repository must stand on its own)."
    res = []
    for i, c in enumerate(nb['cells']):
        for t in [_src(c), *_md_outputs(c)]:
            if re.search(r'design\.md', t, re.I): res.append(f'{_cell_label(i, c)}: mentions DESIGN.md'); break
    return res

_re_url = re.compile(r'\w+://\S+')
_re_issue = re.compile(r'(?<![\w&/\'"#\\])#\d{1,4}(?![\w-])|\b(?:issues?|pull requests?|PRs?)\s*#?\d+\b'
                       r'|\bissues?\s+(?:\d+\s*(?:,|and|&)\s*)+\d+\b', re.I)

def issue_refs(nb) -> list[str]:
    "Issue numbers (`#16`, `issue 17`) in prose, code or markdown outputs (URLs are left alone)."
    res = []
    for i, c in enumerate(nb['cells']):
        texts = [_src(c)] + list(_md_outputs(c))
        if c['cell_type'] == 'code':  # `#| directive` lines are not prose
            texts[0] = '\n'.join(l for l in texts[0].splitlines() if not l.lstrip().startswith('#|'))
        hits = []
        for t in texts: hits += [m.group(0) for m in _re_issue.finditer(_re_url.sub(' ', t))]
        if hits: res.append(f'{_cell_label(i, c)}: issue reference ' + ', '.join(repr(h) for h in dict.fromkeys(hits)))
    return res

_re_md_link = re.compile(r'!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)')
_re_html_link = re.compile(r'<(?:a|img)\b[^>]*?\b(?:href|src)\s*=\s*["\']([^"\']+)["\']', re.I)

def site_url() -> str:
    "The site's address (`doc_host` + `doc_baseurl` of settings.ini): links to it are internal links."
    import configparser
    cp = configparser.ConfigParser(interpolation=None); cp.read(ROOT/'settings.ini')
    d = cp['DEFAULT'] if cp.has_section('DEFAULT') or cp.defaults() else {}
    return (d.get('doc_host', '') + d.get('doc_baseurl', '')).rstrip('/')

def page_of(target: str, pages: dict, site: str = ''):
    """The notebook an internal link points to: `(notebook name or None, anchor, is_internal)`.
    `pages` maps page file names (`hierarchy.html`) and notebook names to notebook names."""
    t = target.strip()
    if site and t.startswith(site + '/'): t = t[len(site) + 1:]
    elif re.match(r'^[a-zA-Z][\w+.-]*:', t) or t.startswith('//'): return None, '', False  # external, mailto:
    path, _, anchor = t.partition('#')
    path = path.split('?')[0]
    if path.startswith('./'): path = path[2:]
    if not path: return '', anchor, True  # same page
    return pages.get(path) or pages.get(path.lower()), anchor, True

def all_pages() -> dict:
    "Page file name (and notebook file name) -> notebook file name, for every notebook nbdev would render."
    pages = {}
    for p in find_notebooks():
        pages[page_name(p) + '.html'] = pages[page_name(p).lower() + '.html'] = pages[p.name] = p.name
    return pages

def dead_links(nb, pages: dict | None = None) -> list[str]:
    "Links (markdown and markdown outputs) to notebooks, pages or files of nbs/ that do not exist."
    pages = all_pages() if pages is None else pages
    site, res = site_url(), []
    for i, c in enumerate(nb['cells']):
        texts = ([_src(c)] if c['cell_type'] == 'markdown' else []) + list(_md_outputs(c))
        bad = []
        for t in texts:
            t = re.sub(r'```.*?```|`[^`\n]*`', ' ', t, flags=re.S)  # code is not a link
            for target in _re_md_link.findall(t) + _re_html_link.findall(t):
                nbname, anchor, internal = page_of(target, pages, site)
                if not internal or nbname is not None: continue  # external, another page, or this page
                path = target[len(site) + 1:] if site and target.startswith(site + '/') else target
                path = path.split('#')[0].split('?')[0]
                if not path.endswith(('.html', '.ipynb')) and (NBS/path).exists(): continue  # a file (figure, result)
                bad.append(target)
        # a notebook named in prose (`05_train`, nbs/05_train.ipynb) that no longer exists: a dead reference
        stems = {Path(n).stem for n in pages.values()}
        for t in texts:
            for m in re.finditer(r'(?<![\w/.-])(?:nbs/)?(\d{2}[a-z]?_[A-Za-z0-9_]+)(\.ipynb)?(?![\w-])', t):
                if (m.group(2) or '`' + m.group(0) + '`' in t) and m.group(1) not in stems: bad.append(m.group(0))
        if bad: res.append(f'{_cell_label(i, c)}: dead link ' + ', '.join(dict.fromkeys(bad)))
    return res

def _exported_defs(nb):
    "`(cell index, ast node, patched class or None)` for the public defs of `#| export`/`#| exports` cells."
    import ast
    for i, c in enumerate(nb['cells']):
        if c['cell_type'] != 'code' or not {'export', 'exports'} & _directives(c).keys(): continue
        try: tree = ast.parse('\n'.join(l for l in _src(c).splitlines() if not l.lstrip().startswith(('%', '!'))))
        except SyntaxError: continue
        for n in tree.body:
            if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or n.name.startswith('_'): continue
            patched = any(re.match(r'patch', ast.unparse(d)) for d in getattr(n, 'decorator_list', []))
            a0 = n.args.args[0] if patched and not isinstance(n, ast.ClassDef) and n.args.args else None
            cls = ast.unparse(a0.annotation) if a0 is not None and a0.annotation else None
            yield i, n, cls

def _undocumented(nb):
    "Public functions, classes and `@patch` methods of `#| export`/`#| exports` cells that have no docstring."
    import ast
    return [f'{cls}.{n.name}' if cls else n.name for _, n, cls in _exported_defs(nb) if not ast.get_docstring(n)]

def nonetype_params(nb) -> list[str]:
    "Parameters with a `None` default and no annotation: nbdev's show_doc gives them the type `NoneType`."
    import ast
    res = []
    for _, n, cls in _exported_defs(nb):
        fns = [n] if not isinstance(n, ast.ClassDef) else [f for f in n.body if isinstance(f, ast.FunctionDef) and f.name == '__init__']
        for f in fns:
            a = f.args
            pos = a.posonlyargs + a.args
            pairs = list(zip(pos[len(pos) - len(a.defaults):], a.defaults)) + list(zip(a.kwonlyargs, a.kw_defaults))
            for arg, d in pairs:
                if d is not None and isinstance(d, ast.Constant) and d.value is None and arg.annotation is None:
                    res.append(f"{cls + '.' if cls else ''}{n.name}({arg.arg}=None)")
    return res

def _top_level_draws(src: str) -> bool:
    "Does the cell draw at top level (calls to `plt.*`, `.plot(`, `.imshow(`, `*_figure(`, `plot_*(`, `show_*(`), not only inside defs?"
    import ast
    try: tree = ast.parse('\n'.join(l for l in src.splitlines() if not l.lstrip().startswith(('%', '!', '#|'))))
    except SyntaxError: return False
    class V(ast.NodeVisitor):
        hit = False
        def visit_FunctionDef(self, n): pass
        visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = visit_FunctionDef
        def visit_Call(self, n):
            name = ast.unparse(n.func)
            last = name.split('.')[-1]
            if (name.startswith(('plt.', 'matplotlib.')) and last not in ('close', 'rcParams', 'rc', 'ioff', 'switch_backend', 'style', 'use')) \
               or last in ('plot', 'imshow', 'scatter', 'hist', 'bar', 'barh', 'matshow', 'subplots', 'figure', 'savefig') \
               or re.match(r'(plot|draw)_\w+$|show_(?!doc$)\w+$|\w+_(figure|plot)$', last):
                self.hit = True
            self.generic_visit(n)
    v = V(); v.visit(tree)
    return v.hit

def blank_figures(nb) -> list[str]:
    "Code cells that draw (see `_top_level_draws`) but have no image output: the page shows nothing there."
    res = []
    for i, c in enumerate(nb['cells']):
        if c['cell_type'] != 'code': continue
        d = _directives(c)
        opt = lambda k: str((d.get(k + ':') or d.get(k) or [''])[0]).lower()
        if opt('eval') == 'false' or opt('output') == 'false' or opt('include') == 'false' or {'hide', 'export', 'exports'} & d.keys(): continue
        if not _top_level_draws(_src(c)): continue
        if not any(k in o.get('data', {}) for o in c.get('outputs', []) for k in ('image/png', 'image/jpeg', 'image/svg+xml', 'image/gif')):
            res.append(f'{_cell_label(i, c)}: draws a figure but has no image output')
    return res

STATIC_CHECKS = {'yaml heading': yaml_headings, 'DESIGN.md': design_refs, 'issue number': issue_refs,
                 'dead link': dead_links, 'no docstring': lambda nb: [f'exported without docstring: {n}' for n in _undocumented(nb)]}
RENDER_STATIC_CHECKS = {'NoneType': lambda nb: [f'`NoneType` shown as the type of {p} (annotate it)' for p in nonetype_params(nb)]}

def static_problems(nb_path: Path, checks=None) -> list[str]:
    "The cheap checks on a committed notebook, each problem naming the notebook, the cell and the problem."
    import nbformat
    if not nb_path.exists(): return []  # renamed or removed meanwhile
    nb = nbformat.read(nb_path, as_version=4)
    res = []
    for name, f in (checks or STATIC_CHECKS).items():
        res += [f'{nb_path.name}: {p}' for p in f(nb)]
    return res

# ------------------------------------------------------------------------------------------- README.md
# `settings.ini` has `readme_nb = index.ipynb`: README.md is made from the home page. `nbdev_readme` (which
# `nbdev_docs` runs) needs Quarto; this makes the same README without it, and tests/test_docs.py checks that
# README.md is what it makes.

README_HEADER = '<!-- Generated from nbs/index.ipynb by `bash tools/docs_check.sh --readme`: edit the notebook, not this file. -->\n\n'

def _readme_links(t: str, pages: dict) -> str:
    "Links of the home page as they work on GitHub: pages -> their notebooks in nbs/, files -> nbs/<file>."
    def sub(m):
        whole, target = m.group(0), m.group(1)
        nbname, anchor, internal = page_of(target, pages, site_url())
        if not internal or nbname == '': return whole
        new = f'nbs/{nbname}' if nbname else (f'nbs/{target}' if (NBS/target.split('#')[0]).exists() else target)
        return whole.replace(f']({target}', f']({new}', 1)
    return _re_md_link.sub(sub, t)

def readme_markdown(nb, pages: dict | None = None) -> str:
    """README.md from the executed home page: its markdown cells, its visible code, and the markdown its cells
    display (tables rendered from result files, the notebook lists). Plain-text outputs are left out: they hold
    numbers that differ from machine to machine, and the README must not change with them."""
    pages = all_pages() if pages is None else pages
    parts = []
    for c in nb['cells']:
        src = _src(c)
        if c['cell_type'] == 'markdown': parts.append(_readme_links(src.strip(), pages)); continue
        if c['cell_type'] != 'code': continue
        lines, opts = src.splitlines(), {}
        while lines and _re_dir.match(lines[0]):
            k, v = _re_dir.match(lines.pop(0)).groups(); opts[k] = v.strip('"\'')
        while lines and re.match(r'^\s*#\s*\|\s*(hide|export|exports)\s*$', lines[0]): opts[lines.pop(0).split('|')[1].strip()] = 'true'
        if opts.get('hide') == 'true' or opts.get('include') == 'false' or not src.strip(): continue
        code = '\n'.join(lines).strip('\n')
        if opts.get('echo') != 'false' and code: parts.append(f'```python\n{code}\n```')
        if opts.get('output') != 'false':
            parts += [_readme_links(md.strip(), pages) for md in _md_outputs(c)]
    return README_HEADER + '\n\n'.join(p for p in parts if p) + '\n'

def execute_notebook(nb_path: Path, cell_timeout: int = 600):
    "Run a notebook as the docs are built (cwd nbs/, IN_TEST=1, tst_flags cells skipped); the executed notebook."
    import nbformat
    nb = nbformat.read(nb_path, as_version=4)
    os.environ.setdefault('IN_TEST', '1')
    _SkippingExecutor.make(_skip_flags(), timeout=cell_timeout, kernel_name='python3', startup_timeout=120).preprocess(
        nb, {'metadata': {'path': str(NBS)}})
    return nb

def build_readme() -> str:
    "README.md's text, from nbs/index.ipynb executed now."
    return readme_markdown(execute_notebook(NBS/'index.ipynb'))

# ------------------------------------------------------------------------------------ worker: build a page

def _directives(cell):
    from nbdev.process import extract_directives
    return extract_directives(cell, remove=False) if cell.get('cell_type') == 'code' else {}

def _skip_flags():
    from nbdev.config import get_config
    return set(get_config().get('tst_flags', '').split())

class _SkippingExecutor:
    "nbconvert's ExecutePreprocessor that skips the cells nbdev_test skips."
    @staticmethod
    def make(skip, **kw):
        from nbconvert.preprocessors import ExecutePreprocessor
        class Exec(ExecutePreprocessor):
            def preprocess_cell(self, cell, resources, index):
                if cell.cell_type != 'code' or not cell.source.strip(): return cell, resources
                d = _directives(cell)
                if d.get('eval:', [''])[0].lower() == 'false' or skip & d.keys() or 'nbdev_export(' in cell.source:
                    cell.outputs = []
                    return cell, resources
                return super().preprocess_cell(cell, resources, index)
        return Exec(**kw)

_re_pandoc_link = re.compile(r'\[([^\]\n]*)\]\(([^)\s]*)\)\{([^}\n]*)\}')

def _pandoc_links(md: str) -> str:
    "Pandoc's `[text](url){attrs}` (nbdev's source links) as an HTML link, which is what Quarto makes of it."
    return _re_pandoc_link.sub(lambda m: f'<a href="{html.escape(m.group(2))}" {m.group(3)}>{m.group(1)}</a>', md)

_ANSI = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')
_re_dir = re.compile(r'^\s*#\s*\|\s*([\w-]+)\s*:\s*(.*?)\s*$')

def _quarto_like(nb, sidebar_html):
    "The part of Quarto's rendering the check needs: title block, cell options, directive lines hidden."
    import yaml, nbformat
    fm, cells = {}, []
    for c in nb.cells:
        src = c.source if isinstance(c.source, str) else ''.join(c.source)
        if c.cell_type == 'raw' and src.strip().startswith('---') and not fm:
            fm = yaml.safe_load(src.strip().strip('-')) or {}
            continue
        if c.cell_type == 'markdown': c.source = _pandoc_links(src)
        for o in c.get('outputs', []):
            md = o.get('data', {}).get('text/markdown')
            if md is not None: o['data']['text/markdown'] = _pandoc_links(md if isinstance(md, str) else ''.join(md))
        if c.cell_type == 'code':
            lines, opts = src.splitlines(), {}
            while lines and _re_dir.match(lines[0]):
                k, v = _re_dir.match(lines.pop(0)).groups(); opts[k] = v.strip('"\'')
            if opts.get('include') == 'false': continue
            c.source = '\n'.join(lines).strip('\n')
            if opts.get('echo') == 'false': c.source = ''
            if opts.get('output') == 'false': c.outputs = []
            if not c.source and not c.outputs: continue
            c.metadata.setdefault('tags', [])
            if not c.source: c.metadata['tags'].append('docs-no-input')
        cells.append(c)
    title, desc = str(fm.get('title', '') or ''), str(fm.get('description', '') or '')
    head = f'<header id="title-block-header"><h1 class="title">{html.escape(title)}</h1>'
    if desc: head += '<p class="description">' + re.sub(r'`([^`]+)`', r'<code>\1</code>', html.escape(desc)) + '</p>'
    nb.cells = [nbformat.v4.new_markdown_cell(head + '</header>')] + cells
    nb.metadata['title'] = title
    return nb, fm

_PAGE_CSS = """<style>
body{display:flex} #docs-sidebar{width:210px;min-width:210px;padding:16px 8px;border-right:1px solid #ddd;
font:14px sans-serif;position:sticky;top:0;height:100vh;overflow:auto;box-sizing:border-box}
#docs-sidebar a{display:block;padding:3px 6px;color:#2a6ebb;text-decoration:none}
#docs-sidebar a.active{font-weight:bold;background:#eef3fb;border-radius:4px}
#docs-sidebar .sec{margin-top:10px;font-weight:bold;color:#555;padding:3px 6px}
#docs-sidebar .site{font-size:18px;font-weight:bold;padding:3px 6px 10px}
#TOC{width:220px;min-width:220px;padding:16px 8px;border-left:1px solid #ddd;font:13px sans-serif;position:sticky;
top:0;height:100vh;overflow:auto;box-sizing:border-box} #TOC h2{font-size:14px;margin:0 0 6px}
#TOC ul{list-style:none;padding-left:0;margin:0} #TOC ul ul{padding-left:12px} #TOC a{color:#555;text-decoration:none;
display:block;padding:2px 0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
main{flex:1;min-width:0} h1.title{margin-top:8px} p.description{color:#555;font-size:1.1em}
.docs-no-input .jp-InputArea, .docs-no-input .jp-Cell-inputWrapper{display:none}
</style>"""

MATHJAX_DIRS = [Path('/usr/share/javascript/mathjax'), Path('/usr/share/mathjax')]
MATHJAX_CONFIG = 'TeX-AMS_CHTML-full,Safe'  # what nbconvert's template (and Jupyter) loads, from a local copy

def mathjax_dir() -> Path | None:
    "Debian's/Ubuntu's MathJax 2 (package libjs-mathjax): equations render without a CDN."
    return next((d for d in MATHJAX_DIRS if (d/'MathJax.js').exists()), None)

def pandoc_id(text: str) -> str:
    "Pandoc's (so Quarto's) identifier of a heading: what nbdev's doc links (`page.html#hierarchy.paths`) point to."
    t = re.sub(r'[^\w\s.-]', '', html.unescape(re.sub(r'<[^>]+>', '', text)).replace('\u00b6', ''), flags=re.U)
    t = re.sub(r'\s+', '-', t.strip()).lower()
    t = re.sub(r'^[^a-z]+', '', t)
    return t or 'section'

def _pandoc_ids(body: str) -> str:
    "Heading ids as pandoc makes them (lower case, hyphens; duplicates get -1, -2), and the links to them."
    seen, renamed = {}, {}
    def sub(m):
        lvl, old, inner = m.group(1), m.group(2), m.group(3)
        new = pandoc_id(re.sub(r'<a class="anchor-link".*?</a>', '', inner))
        if new in seen: seen[new] += 1; new = f'{new}-{seen[new]}'
        else: seen[new] = 0
        renamed[old] = new
        inner = inner.replace(f'href="#{old}"', f'href="#{new}"')
        return f'<h{lvl} id="{new}">{inner}</h{lvl}>'
    body = re.sub(r'<h([1-6]) id="([^"]*)">(.*?)</h\1>', sub, body, flags=re.S)
    return re.sub(r'href="#([^"]*)"', lambda m: f'href="#{renamed.get(html.unescape(m.group(1)), m.group(1))}"', body)

def _toc_html(body: str) -> str:
    "Quarto's table of contents ('On this page'): the page's h2 and h3 headings (toc-depth 3), title excluded."
    items = []
    for m in re.finditer(r'<h([23]) id="([^"]*)">(.*?)</h\1>', body, flags=re.S):
        text = html.unescape(re.sub(r'<[^>]+>', '', re.sub(r'<a class="anchor-link".*?</a>', '', m.group(3)))).strip()
        if text: items.append((int(m.group(1)), m.group(2), text))
    if not items: return ''
    h, cur = ['<nav id="TOC" role="doc-toc"><h2>On this page</h2><ul>'], 2
    for lvl, hid, text in items:
        if lvl > cur: h.append('<ul>')
        elif lvl < cur: h.append('</ul>')
        cur = lvl
        h.append(f'<li><a href="#{html.escape(hid)}" title="{html.escape(text)}">{html.escape(text)}</a></li>')
    if cur == 3: h.append('</ul>')
    return ''.join(h) + '</ul></nav>'

def _site_links(body: str, pages: dict, site: str) -> str:
    "Links as Quarto writes them: to a notebook -> its page; to the site's own address -> relative."
    def sub(m):
        href = html.unescape(m.group(2))
        nbname, anchor, internal = page_of(href, pages, site)
        if internal and nbname:
            href = page_name(Path(nbname)) + '.html' + (f'#{anchor}' if anchor else '')
        return f'{m.group(1)}"{html.escape(href)}"'
    return re.sub(r'(<a\b[^>]*?\bhref=)"([^"]*)"', sub, body)

def _render_html(proc_path: Path, out_html: Path, sidebar_html: str, pages: dict | None = None):
    import nbformat
    from nbconvert import HTMLExporter
    nb = nbformat.read(proc_path, as_version=4)
    nb, fm = _quarto_like(nb, sidebar_html)
    mj = mathjax_dir()
    if mj and not (out_html.parent/'mathjax').exists(): (out_html.parent/'mathjax').symlink_to(mj)
    exp = HTMLExporter(embed_images=True, mathjax_url=f'mathjax/MathJax.js?config={MATHJAX_CONFIG}' if mj else '',
                       require_js_url='', exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exp.from_notebook_node(nb, resources={'metadata': {'name': fm.get('title', proc_path.stem), 'path': str(NBS)}})
    body = _site_links(_pandoc_ids(body), all_pages() if pages is None else pages, site_url())
    # Cells with the tag get a class so that their (empty) input area is hidden, as Quarto's echo: false does.
    body = body.replace('<head>', '<head><meta charset="utf-8">', 1)
    body = body.replace('</head>', _PAGE_CSS + '</head>', 1)
    body = re.sub(r'(<body[^>]*>)', r'\1' + sidebar_html.replace('\\', r'\\') + '<main>', body, count=1)
    toc = _toc_html(body)
    body = body.replace('</body>', '</main>' + toc.replace('\\', r'\\') + '</body>', 1)
    # tag -> class (nbconvert's lab template writes cell tags as `celltag_<tag>` classes)
    body = body.replace('celltag_docs-no-input', 'celltag_docs-no-input docs-no-input')
    out_html.write_text(body, encoding='utf-8')
    return fm

def n_math(nb) -> int:
    "Equations (`$...$`, `$$...$$`, `\\(...\\)`, `\\[...\\]`) in the markdown cells: the page must typeset them."
    n = 0
    for c in nb['cells']:
        if c['cell_type'] != 'markdown': continue
        t = re.sub(r'```.*?```|`[^`\n]*`', ' ', _src(c), flags=re.S)
        n += len(re.findall(r'\$\$.+?\$\$|(?<![\\$])\$(?!\s)[^$\n]+?(?<![\s\\])\$|\\\(.+?\\\)|\\\[.+?\\\]', t, flags=re.S))
    return n

def api_order(names: list[str]) -> list[str]:
    "API entries in reading order: each documented once, a class before its methods."
    res, first = [], {}
    for i, n in enumerate(names):
        if n in first: res.append(f'API entry {n} shown twice')
        first.setdefault(n, i)
    for i, n in enumerate(names):
        cls = n.rsplit('.', 1)[0] if '.' in n else None
        if cls and cls in first and first[cls] > i: res.append(f'API entry {n} comes before its class {cls}')
    return res

def _show_doc_names(nb):
    "What each `show_doc(...)` call in the processed notebook documents, as a string (`name=` wins)."
    import ast
    names = []
    for c in nb.cells:
        if c.cell_type != 'code': continue
        src = c.source if isinstance(c.source, str) else ''.join(c.source)
        try: tree = ast.parse('\n'.join(l for l in src.splitlines() if not l.lstrip().startswith('#|')))
        except SyntaxError: continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, 'id', None) == 'show_doc' and node.args:
                kw = {k.arg: k.value for k in node.keywords}
                if 'name' in kw and isinstance(kw['name'], ast.Constant): names.append(str(kw['name'].value))
                else: names.append(ast.unparse(node.args[0]))
    return names

def _n_images(nb):
    "Image outputs (png/jpeg/gif/svg) of the processed notebook: figures the page must show."
    n = 0
    for c in nb.cells:
        for o in c.get('outputs', []):
            if any(k in o.get('data', {}) for k in ('image/png', 'image/jpeg', 'image/gif', 'image/svg+xml')): n += 1
    return n

def showdoc_problems(nb) -> list[str]:
    """What nbdev's show_doc renders badly, read from the processed notebook's show_doc outputs: raw backticks in
    the parameter list (a docments comment is shown verbatim in the signature block, so `` `x` `` stays `` `x` ``),
    and `NoneType` as the type of a parameter whose default is None and which has no annotation."""
    res = []
    for c in nb['cells']:
        for md in _md_outputs(c):
            m = re.search(r'^#+\s+(.+)$', md, re.M)
            if not m or '```' not in md: continue
            name = m.group(1).strip()
            block = re.search(r'```\w*\n(.*?)```', md, re.S)
            if not block: continue
            params = [l.strip() for l in block.group(1).splitlines() if l.strip()]
            pname = lambda l: 'the return value' if l.startswith(')') else re.split(r'[:=,(]', l)[0]
            ticks = [pname(l) for l in params if '`' in l]
            if ticks: res.append(f'{name}: raw backticks in the parameter list ({", ".join(ticks[:4])}): drop the backticks from their comments')
            nt = [pname(l) for l in params if re.search(r':\s*NoneType\b', l)]
            if nt: res.append(f'{name}: `NoneType` shown as the type of {", ".join(nt[:4])}: annotate (e.g. `int|None=None`)')
    return res

def worker(nb_path: Path, out: Path, cell_timeout: int, run_flags: set, inplace: bool = False):
    """Execute and nbdev-process one notebook; write its facts to out/meta/<name>.json.
    `inplace`: also save the executed notebook over `nb_path` (the deploy workflow does this before `nbdev_docs`,
    because Quarto renders notebooks without running them)."""
    import nbformat
    from execnb.nbio import read_nb, write_nb
    from nbdev.processors import FilterDefaults
    from nbdev.process import NBProcessor
    from nbdev.frontmatter import FrontmatterProc
    name = page_name(nb_path)
    meta = dict(notebook=nb_path.name, page=name + '.html', ok=False, error=None)
    t0 = time.time()
    try:
        # 1. execute (as nbdev_test would: skip_exec front matter, eval: false, tst_flags)
        fmnb = NBProcessor(nb_path, procs=FrontmatterProc, process=True).nb
        skip_exec = str(getattr(fmnb, 'frontmatter_', {}).get('skip_exec', 'false')).lower() in ('true', '1', 'yes')
        nb = nbformat.read(nb_path, as_version=4)
        skip = _skip_flags() - run_flags
        meta['static'] = static_problems(nb_path)
        meta['n_math'] = n_math(nb)
        errors = []
        meta['skipped_cells'] = sum(1 for c in nb.cells if c.cell_type == 'code' and skip & _directives(c).keys())
        if not skip_exec:
            ex = _SkippingExecutor.make(skip, timeout=cell_timeout, kernel_name='python3', startup_timeout=120)
            try: ex.preprocess(nb, {'metadata': {'path': str(NBS)}})
            except Exception as e:
                print(_ANSI.sub('', str(e)), flush=True)  # the whole traceback, in docs_check/meta/<page>.log
                msg = _ANSI.sub('', str(e)).strip().splitlines()
                tail = [l for l in msg if l.strip()][-3:]
                # the page is still built (it shows the cells run so far and the error), so that it can be looked at
                errors.append(f'execution failed ({nb_path.name}; traceback in docs_check/meta/{name}.log): '
                              f'{type(e).__name__}: ' + ' | '.join(tail)[:500])
        exec_path = out/'exec'/nb_path.name
        nbformat.write(nb, exec_path)
        if inplace: nbformat.write(nb, nb_path)
        meta['blank_figures'] = blank_figures(nb)
        meta['exec_s'] = round(time.time() - t0, 1)
        # 2. nbdev's doc processors, as nbdev_proc_nbs runs them (serve_drv: IN_TEST=1)
        t1 = time.time()
        os.environ['IN_TEST'] = '1'
        pnb = read_nb(exec_path)
        try: FilterDefaults()(pnb)
        except Exception as e:
            lines = str(e).splitlines()
            m = re.search(r'in cell (\d+)', lines[0]) if lines else None
            src = [l for l in lines[1:] if l.strip()]
            where = f'cell {m.group(1)} `{src[0][:60]}`' if m and src else (lines[0] if lines else '')
            cause = f'{type(e.__cause__).__name__}: {e.__cause__}' if e.__cause__ else type(e).__name__
            hint = ''
            if any(re.match(r'\s*(import|from)\s', l) for l in src) and len(src) > 1:
                hint = (' (nbdev runs cells that mix imports with other code when it builds the docs, without '
                        'the cells before them: put the import in a cell of its own)')
            errors.append(f'nbdev doc processing failed in {where}: {cause}'[:400] + hint)
            # build the page without executing show_doc cells (no API entries), so that it can be looked at
            from nbdev.processors import exec_show_docs
            pnb = read_nb(exec_path)
            fd = FilterDefaults()
            NBProcessor(nb=pnb, procs=[p for p in fd.procs() if p is not exec_show_docs]).process()
        proc_path = out/'_proc'/nb_path.name
        write_nb(pnb, proc_path)
        meta['proc_s'] = round(time.time() - t1, 1)
        pnb2 = nbformat.read(proc_path, as_version=4)
        meta['show_doc'] = _show_doc_names(pnb2)
        meta['n_images'] = _n_images(pnb2)
        meta['api_order'] = api_order(meta['show_doc'])
        meta['show_doc_problems'] = showdoc_problems(pnb2)
        if errors: meta['error'] = '; '.join(errors)
        fm = getattr(pnb, 'frontmatter_', {}) or {}
        meta['title'] = str(fm.get('title', '') or '')
        meta['description'] = str(fm.get('description', '') or '')
        meta['ok'] = True
    except Exception as e:
        meta['error'] = str(e) or type(e).__name__
    meta['build_s'] = round(time.time() - t0, 1)
    (out/'meta'/(name + '.json')).write_text(json.dumps(meta, indent=1))
    return meta

# ----------------------------------------------------------------------------------------------- browser

_CHROMES = ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable')

def ensure_chromium():
    """A Chromium/Chrome with its chromedriver (GitHub's Ubuntu runners have Chrome and chromedriver), and MathJax
    (libjs-mathjax, for the equations); Debian's chromium, chromium-driver and libjs-mathjax are installed with apt-get
    when missing."""
    chrome = next((shutil.which(c) for c in _CHROMES if shutil.which(c)), None)
    driver = shutil.which('chromedriver') or (os.environ.get('CHROMEWEBDRIVER') and shutil.which('chromedriver', path=os.environ['CHROMEWEBDRIVER']))
    need = ([] if chrome and driver else ['chromium', 'chromium-driver']) + ([] if mathjax_dir() else ['libjs-mathjax', 'fonts-mathjax'])
    if need:
        print(f'== installing {" ".join(need)} with apt-get', flush=True)
        sudo = [] if os.geteuid() == 0 else ['sudo']
        env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
        subprocess.run(sudo + ['apt-get', 'update', '-qq'], check=True, env=env)
        subprocess.run(sudo + ['apt-get', 'install', '-y', '-qq'] + need, check=True, env=env)
        chrome = next((shutil.which(c) for c in _CHROMES if shutil.which(c)), None)
        driver = shutil.which('chromedriver')
    return chrome, driver

class Browser:
    "Headless Chromium through chromedriver's W3C WebDriver HTTP API (no third-party client needed)."
    def __init__(self, profile: Path):
        chrome, driver = ensure_chromium()
        with socket.socket() as s: s.bind(('127.0.0.1', 0)); self.port = s.getsockname()[1]
        self.log = open(profile.parent/'chromedriver.log', 'w')
        self.proc = subprocess.Popen([driver, f'--port={self.port}'], stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f'http://127.0.0.1:{self.port}'
        for _ in range(100):
            try: self._req('GET', '/status'); break
            except Exception: time.sleep(0.1)
        if profile.exists(): shutil.rmtree(profile)
        profile.mkdir(parents=True)
        caps = {'capabilities': {'alwaysMatch': {'browserName': 'chrome', 'pageLoadStrategy': 'normal',
                'timeouts': {'pageLoad': 60000, 'script': 30000},
                'goog:chromeOptions': {'binary': chrome, 'args': CHROME_ARGS + [f'--user-data-dir={profile}']}}}}
        self.sid = self._req('POST', '/session', caps)['sessionId']

    def _req(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(req, timeout=120) as r: res = json.loads(r.read() or b'{}')
        except urllib.error.HTTPError as e:
            err = json.loads(e.read() or b'{}').get('value', {})
            raise RuntimeError(f"webdriver {path}: {err.get('error')}: {str(err.get('message', ''))[:300]}") from None
        return res.get('value', res)

    def cmd(self, method, path, body=None): return self._req(method, f'/session/{self.sid}{path}', body)
    def get(self, url): return self.cmd('POST', '/url', {'url': url})
    def js(self, script, *args): return self.cmd('POST', '/execute/sync', {'script': script, 'args': list(args)})
    def js_async(self, script, *args): return self.cmd('POST', '/execute/async', {'script': script, 'args': list(args)})
    def window(self, w, h): return self.cmd('POST', '/window/rect', {'width': w, 'height': h})
    def screenshot(self, path: Path): path.write_bytes(base64.b64decode(self.cmd('GET', '/screenshot')))
    def cdp(self, cmd, **params): return self.cmd('POST', '/goog/cdp/execute', {'cmd': cmd, 'params': params})

    def full_screenshot(self, path: Path, width: int, height: int):
        "The whole page, however tall (Chrome's DevTools capture beyond the viewport; no height cap)."
        r = self.cdp('Page.captureScreenshot', format='png', captureBeyondViewport=True,
                     clip={'x': 0, 'y': 0, 'width': width, 'height': height, 'scale': 1})
        path.write_bytes(base64.b64decode(r['data']))

    def close(self):
        try: self.cmd('DELETE', '')
        except Exception: pass
        self.proc.terminate()
        try: self.proc.wait(10)
        except subprocess.TimeoutExpired: self.proc.kill()
        self.log.close()

# What the page shows: title, headings, images, equations, tables, links, table of contents (waiting until every
# <img> has loaded and MathJax has typeset the page).
_JS_FACTS = """
const done = arguments[arguments.length - 1];
const main = document.querySelector('main');
const imgs = Array.from(document.querySelectorAll('main img'));
const imgsReady = Promise.all(imgs.map(i => i.complete ? null : new Promise(r => {i.onload = i.onerror = r;})));
const mathReady = new Promise(r => {
  if (window.MathJax && window.MathJax.Hub) { window.MathJax.Hub.Queue(() => r(true)); setTimeout(() => r(false), 60000); }
  else r(null);
});
Promise.all([imgsReady, mathReady]).then(([_, mj]) => {
  const txt = e => (e.textContent || '').replace(/\\u00b6/g, '').replace(/\\s+/g, ' ').trim();
  const visible = e => e.getBoundingClientRect().height > 0;
  const h1 = document.querySelector('main h1.title');
  // text outside code, scripts and typeset math: raw TeX left there was not rendered
  const raw = [];
  const w = document.createTreeWalker(main, NodeFilter.SHOW_TEXT, {acceptNode: n => {
    const p = n.parentElement;
    return p.closest('pre, code, script, style, .MathJax, .MathJax_CHTML, .MathJax_Display, .MathJax_Preview, .MJX_Assistive_MathML, .jp-OutputArea-output pre')
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT; }});
  while (w.nextNode()) {
    const t = w.currentNode.nodeValue;
    const m = t.match(/\\$\\$[^$]+\\$\\$|\\$[^$\\n]*\\\\[a-zA-Z]+[^$\\n]*\\$|\\\\\\(|\\\\\\[/);
    if (m) raw.push(m[0].slice(0, 60));
  }
  const cellTxt = c => { const k = c.cloneNode(true); k.querySelectorAll('code, pre').forEach(x => x.remove()); return txt(k); };
  const cells = Array.from(document.querySelectorAll('main table td, main table th'));
  done({
    doc_title: document.title,
    h1: h1 ? txt(h1) : null,
    h1_visible: h1 ? visible(h1) : false,
    headings: Array.from(document.querySelectorAll('main h1, main h2, main h3, main h4, main h5')).filter(visible).map(txt),
    imgs: imgs.map(i => ({ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth,
                          src: (i.getAttribute('src') || '').slice(0, 40)})),
    svgs: document.querySelectorAll('main .jp-RenderedSVG svg, main .jp-OutputArea svg').length,
    tracebacks: Array.from(document.querySelectorAll('main .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"] pre'))
                   .map(txt).filter(t => /Traceback|Error:/.test(t)).length,
    mathjax: mj,
    math: document.querySelectorAll('main .MathJax_CHTML, main .MathJax_SVG, main .MathJax, main mjx-container').length,
    math_errors: document.querySelectorAll('main .MathJax_Error, main .merror, main [data-mjx-error]').length,
    raw_tex: raw.slice(0, 5),
    table_backticks: cells.map(cellTxt).filter(t => t.includes('`')).slice(0, 5),
    nonetype: cells.map(txt).concat(Array.from(document.querySelectorAll('main .jp-RenderedMarkdown pre')).map(txt))
                   .filter(t => /\\bNoneType\\b/.test(t)).length,
    yaml_headings: Array.from(document.querySelectorAll('main h1, main h2, main h3')).filter(visible).map(txt)
                   .filter(t => /^(jupyter|jupytext|kernelspec|title|description|format)\\s*:|jupytext/i.test(t)),
    design: /design\\.md/i.test(main.innerText),
    links: Array.from(new Set(Array.from(document.querySelectorAll('main a[href]')).map(a => a.getAttribute('href')))),
    toc: document.querySelectorAll('#TOC a').length,
    h2: Array.from(document.querySelectorAll('main h2')).filter(visible).length,
    height: Math.max(document.documentElement.scrollHeight, document.body.scrollHeight),
  });
});
"""

def _matches(name: str, headings: list[str]) -> bool:
    "A show_doc entry is shown when a visible heading names it (nbdev prints `Class.method` or the bare name)."
    cands = {name, name.split('.')[-1], '.'.join(name.split('.')[-2:])}
    return any(h in cands or h.split('(')[0].strip() in cands for h in headings)

_ids_cache: dict = {}

def _ids(page: Path) -> set:
    if page not in _ids_cache: _ids_cache[page] = set(re.findall(r'\bid="([^"]+)"', page.read_text(encoding='utf-8'))) if page.exists() else set()
    return _ids_cache[page]

def link_problems(links: list, meta: dict, site: Path, pages: dict, built: set) -> list[str]:
    "Dead internal links of a rendered page: a page no notebook makes, a heading id the target page lacks, a missing file."
    bad, base = [], site_url()
    for href in links:
        nbname, anchor, internal = page_of(href, pages, base)
        if not internal: continue
        if nbname is None:
            path = href.split('#')[0].split('?')[0]
            if (NBS/path).exists(): continue  # a file of nbs/ (figure, result), which Quarto copies
            bad.append(f'{href} (no such page or file)'); continue
        target = meta['page'] if nbname == '' else page_name(Path(nbname)) + '.html'
        if anchor and target in built and urllib.parse.unquote(anchor) not in _ids(site/target):
            bad.append(f'{href} (no heading #{anchor} on {target})')
    return bad

def check_page(br: Browser, meta: dict, site: Path, shots: Path, pages: dict | None = None, built: set = frozenset()) -> dict:
    "Open one page, check what it shows, take a full-height screenshot and one of the first screen."
    url = (site/meta['page']).resolve().as_uri()
    br.window(1280, 900)
    br.get(url)
    f = br.js_async(_JS_FACTS)
    problems = []
    want = meta.get('title', '')
    if not want: problems.append('no title (first markdown cell must be `# Title`)')
    elif f['h1'] != want or not f['h1_visible']: problems.append(f'title not shown (page h1: {f["h1"]!r})')
    if want and f['doc_title'] != want: problems.append(f'<title> is {f["doc_title"]!r}')
    missing = [n for n in meta.get('show_doc', []) if not _matches(n, f['headings'])]
    if missing: problems.append('show_doc not shown: ' + ', '.join(missing[:6]) + (' ...' if len(missing) > 6 else ''))
    problems += meta.get('api_order', [])
    problems += meta.get('show_doc_problems', [])
    bad = [i for i in f['imgs'] if not i['ok']]
    if bad: problems.append(f'{len(bad)} image(s) did not load: ' + ', '.join(i['src'] for i in bad[:3]))
    n_fig = sum(i['ok'] for i in f['imgs']) + f['svgs']
    if n_fig < meta.get('n_images', 0): problems.append(f'{n_fig} figure(s) shown, notebook has {meta["n_images"]}')
    problems += [re.sub(r'^[^:]+\.ipynb: ', '', p) for p in meta.get('static', [])]
    problems += meta.get('blank_figures', [])
    if f['tracebacks']: problems.append(f'{f["tracebacks"]} traceback(s) on the page')
    if meta.get('n_math'):
        if f['mathjax'] is None: problems.append(f'{meta["n_math"]} equation(s) and no MathJax (install libjs-mathjax)')
        elif not f['math']: problems.append(f'{meta["n_math"]} equation(s) in the notebook, none typeset')
    if f['math_errors']: problems.append(f'{f["math_errors"]} equation(s) MathJax could not typeset')
    if f['raw_tex']: problems.append('TeX left untypeset: ' + ', '.join(repr(t) for t in f['raw_tex'][:3]))
    if f['table_backticks']: problems.append('raw backticks in a table: ' + ', '.join(repr(t[:50]) for t in f['table_backticks'][:3]))
    if f['nonetype'] and not any('NoneType' in p for p in problems): problems.append(f'`NoneType` shown as a parameter type ({f["nonetype"]} table cell(s))')
    if f['yaml_headings']: problems.append('front matter rendered as a heading: ' + ', '.join(repr(t[:50]) for t in f['yaml_headings'][:3]))
    if f['design'] and not any('DESIGN.md' in p for p in problems): problems.append('the page mentions DESIGN.md')
    if f['h2'] and not f['toc']: problems.append('no table of contents')
    dead = link_problems(f['links'], meta, site, all_pages() if pages is None else pages, built)
    if dead: problems.append('dead link(s): ' + ', '.join(dead[:6]) + (' ...' if len(dead) > 6 else ''))
    shots.mkdir(parents=True, exist_ok=True)
    stem = meta['page'][:-5]
    br.screenshot(shots/(stem + '.top.png'))  # what a reader's first screen shows (1280x900)
    try: br.full_screenshot(shots/(stem + '.png'), 1280, int(f['height']))
    except Exception as e: problems.append(f'full-height screenshot failed: {e}'[:200])
    return dict(shown_docs=len(meta.get('show_doc', [])) - len(missing), figures=n_fig, problems=list(dict.fromkeys(problems)),
                height=int(f['height']), math=f['math'], toc=f['toc'])

# --------------------------------------------------------------------------------------------------- main

def _sidebar_html(order, titles, current=None):
    h = ['<nav id="docs-sidebar"><div class="site">hmlc_nb</div>']
    last = None
    for sec, p in order:
        if sec != last and sec: h.append(f'<div class="sec">{html.escape(sec)}</div>')
        last = sec
        cls = ' class="active"' if p.name == current else ''
        h.append(f'<a href="{page_name(p)}.html"{cls}>{html.escape(titles.get(p.name) or p.stem)}</a>')
    return ''.join(h) + '</nav>'

def _cache_key(nb: Path, flags) -> str:
    h = hashlib.sha1()
    for p in [nb, Path(__file__).resolve(), ROOT/'settings.ini', *sorted((ROOT/'hmlc_nb').rglob('*.py'))]:
        if p.exists(): h.update(str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p.name).encode()); h.update(p.read_bytes())
    h.update(' '.join(sorted(flags)).encode())
    return h.hexdigest()

def _title_of(nb: Path) -> str:
    "The `# Title` of a notebook (for sidebar links), without running anything."
    try:
        for c in json.loads(nb.read_text())['cells']:
            m = re.match(r'\s*#\s+(.+)', ''.join(c['source'])) if c['cell_type'] == 'markdown' else None
            if m: return m.group(1).strip()
    except Exception: return ''
    return ''

def _fmt_table(rows):
    cols = ['page', 'notebook', 'title', 'show_doc', 'figures', 'build s', 'result']
    data = [[str(r.get(c, '')) for c in cols] for r in rows]
    w = [min(max([len(c)] + [len(d[i]) for d in data]), 48 if c in ('title',) else 200) for i, c in enumerate(cols)]
    line = lambda vals: '  '.join((v if len(v) <= w[i] or i == len(cols) - 1 else v[:w[i] - 1] + '…').ljust(w[i])
                                  for i, v in enumerate(vals)).rstrip()
    return '\n'.join([line(cols), line(['-' * x for x in w])] + [line(d) for d in data])

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('notebooks', nargs='*', help='only these notebooks (names, stems or globs; default: all nbs/*.ipynb)')
    ap.add_argument('--out', default=str(ROOT/'docs_check'), help='output folder (default docs_check/)')
    ap.add_argument('--cell-timeout', type=int, default=600, help='seconds per executed cell (default 600)')
    ap.add_argument('--nb-timeout', type=int, default=1800, help='seconds per notebook, all steps (default 1800)')
    ap.add_argument('--flags', default='', help='test flags to run anyway, e.g. "slow" (default: skip tst_flags cells)')
    ap.add_argument('--force', action='store_true', help='re-execute notebooks even when cached')
    ap.add_argument('--inplace', action='store_true',
                    help='execute the notebooks and save them with their outputs in nbs/, then stop (for the deploy '
                         'workflow: Quarto renders notebooks without running them); no browser')
    ap.add_argument('--readme', action='store_true', help='write README.md from nbs/index.ipynb (executed), then stop')
    ap.add_argument('--worker', help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    out = Path(a.out).resolve()
    flags = set(a.flags.split())
    for d in ('exec', '_proc', 'site', 'meta', 'cache', 'shots'): (out/d).mkdir(parents=True, exist_ok=True)
    if a.readme:
        (ROOT/'README.md').write_text(build_readme(), encoding='utf-8')
        print('wrote README.md from nbs/index.ipynb'); return 0
    if a.worker:  # one notebook, in its own process (fresh kernel state, killable on timeout)
        m = worker(Path(a.worker), out, a.cell_timeout, flags, a.inplace)
        return 0 if m['ok'] else 1

    os.chdir(ROOT)
    all_nbs = find_notebooks()
    nbs = find_notebooks(a.notebooks) if a.notebooks else all_nbs
    if not nbs: print('no notebooks match', a.notebooks); return 1
    order, listed_missing, sb_err = read_sidebar()
    in_sidebar = {p for _, p in order}
    titles = {p.name: _title_of(p) for p in all_nbs}
    full_order = order + [(None, p) for p in all_nbs if p not in in_sidebar]
    rank = {p: i for i, (_, p) in enumerate(full_order)}
    nbs = sorted(nbs, key=lambda p: rank.get(p, 10**6))
    site_problems = []
    if sb_err: site_problems.append(sb_err)
    names = {}
    for p in all_nbs: names.setdefault(page_name(p), []).append(p.name)

    env = dict(os.environ, IN_TEST='1', OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', OPENBLAS_NUM_THREADS='1',
               NUMEXPR_NUM_THREADS='1', PYTHONUNBUFFERED='1', PYDEVD_DISABLE_FILE_VALIDATION='1')
    env.pop('MPLBACKEND', None)  # the kernel's inline backend makes the figures
    env['PATH'] = str(Path(sys.executable).parent) + os.pathsep + env.get('PATH', '')
    rows, metas = [], []
    print(f'== building {len(nbs)} page(s) in {out} (execute, nbdev-process, render)', flush=True)
    for nb in nbs:
        name = page_name(nb)
        key = _cache_key(nb, flags)
        cfile, mfile = out/'cache'/(name + '.key'), out/'meta'/(name + '.json')
        cached = (not a.force and not a.inplace and cfile.exists() and cfile.read_text() == key and mfile.exists()
                  and json.loads(mfile.read_text()).get('ok') and (out/'_proc'/nb.name).exists())
        if cached:
            meta = json.loads(mfile.read_text())
            meta['cached'] = True
        else:
            if cfile.exists(): cfile.unlink()
            print(f'-- {nb.name}', flush=True)
            cmd = [sys.executable, str(Path(__file__).resolve()), '--worker', str(nb), '--out', str(out),
                   '--cell-timeout', str(a.cell_timeout), '--flags', a.flags] + (['--inplace'] if a.inplace else [])
            t0 = time.time()
            p = subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            try: log, _ = p.communicate(timeout=a.nb_timeout)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL); log, _ = p.communicate()
                meta = dict(notebook=nb.name, page=name + '.html', ok=False,
                            error=f'timed out after {a.nb_timeout}s (--nb-timeout)', build_s=round(time.time() - t0, 1))
                mfile.write_text(json.dumps(meta))
            (out/'meta'/(name + '.log')).write_text(log or '')
            meta = json.loads(mfile.read_text()) if mfile.exists() else dict(
                notebook=nb.name, page=name + '.html', ok=False, error='worker died: ' + (log or '')[-300:])
            if meta.get('ok'): cfile.write_text(key)
        metas.append(meta)

    # HTML for every page that built, with the sidebar titles the front matter gives
    for m in metas:
        if m.get('ok') and m.get('title'): titles[m['notebook']] = m['title']
    for m in metas:
        if not m.get('ok'): continue
        try: _render_html(out/'_proc'/m['notebook'], out/'site'/m['page'], _sidebar_html(full_order, titles, m['notebook']))
        except Exception as e: m.update(ok=False, error=f'nbconvert HTML failed: {type(e).__name__}: {e}'[:400])
    problems_by_page = {}
    ok_metas = [m for m in metas if m.get('ok')]
    if a.inplace:
        bad = [f"{m['notebook']}: {m.get('error')}" for m in metas if not m.get('ok') or m.get('error')]
        print('\n'.join(['executed and saved with outputs: ' + ', '.join(m['notebook'] for m in ok_metas)] + bad))
        return 1 if bad else 0
    pages = all_pages()
    # anchors are checked on pages built with their API entries (a page whose nbdev processing failed lacks them)
    built = {m['page'] for m in ok_metas if 'nbdev doc processing failed' not in (m.get('error') or '')}
    if ok_metas:
        print(f'== opening {len(ok_metas)} page(s) in headless Chromium', flush=True)
        br = Browser(out/'chromium-profile')
        try:
            for m in ok_metas:
                try: problems_by_page[m['page']] = check_page(br, m, out/'site', out/'shots', pages, built)
                except Exception as e: problems_by_page[m['page']] = dict(problems=[f'browser: {e}'])
            index = next((m for m in ok_metas if m['notebook'] == 'index.ipynb'), None)
            if index and (out/'shots'/'index.png').exists(): shutil.copy(out/'shots'/'index.png', out/'index.png')
        finally: br.close()

    failed = False
    for m in metas:
        r = problems_by_page.get(m['page'], {})
        probs = ([m['error']] if m.get('error') else []) + r.get('problems', [])
        if not m.get('ok'):  # the page did not build: still report what the notebook's source shows
            probs += [re.sub(r'^[^:]+\.ipynb: ', '', p) for p in static_problems(NBS/m['notebook'], {**STATIC_CHECKS, **RENDER_STATIC_CHECKS})]
        p = Path(NBS/m['notebook'])
        if p not in in_sidebar and not sb_err: probs.append('not in nbs/sidebar.yml')
        if len(names.get(page_name(p), [])) > 1: probs.append('page name clash: ' + ', '.join(names[page_name(p)]))
        failed |= bool(probs)
        n_sd = len(m.get('show_doc', []))
        rows.append(dict(page=m['page'], notebook=m['notebook'], title=m.get('title', ''),
                         show_doc=f"{r.get('shown_docs', '-')}/{n_sd}" if m.get('ok') else '-',
                         figures=f"{r.get('figures', '-')}/{m.get('n_images', '-')}" if m.get('ok') else '-',
                         **{'build s': ('cached' if m.get('cached') else m.get('build_s', ''))},
                         result='ok' if not probs else f'FAIL: {len(probs)} problem(s)', _probs=probs))
    print()
    print(_fmt_table(rows))
    print('\n(show_doc: entries shown / show_doc entries in the notebook; figures: images shown / image outputs)')
    print('\nproblems, one per line:')
    for r in rows:
        for q in r['_probs']: print(f"  {r['page']} ({r['notebook']}): {q}")
    if not (NBS/'index.ipynb').exists(): site_problems.append('nbs/index.ipynb is missing: the site has no home page')
    if listed_missing: print('sidebar entries with no notebook yet: ' + ', '.join(listed_missing))
    if (out/'index.png').exists() and (NBS/'index.ipynb').exists():
        print(f'home page screenshot: {(out/"index.png").relative_to(ROOT) if out.is_relative_to(ROOT) else out/"index.png"}')
    print(f'pages: {out/"site"}  screenshots (full height <page>.png, first screen <page>.top.png): {out/"shots"}')
    for s in site_problems: print('FAIL: ' + s)
    failed |= bool(site_problems)
    print('docs check: ' + ('FAILED' if failed else 'passed'))
    return 1 if failed else 0

if __name__ == '__main__': sys.exit(main())
