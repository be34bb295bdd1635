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
import urllib.request
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
    if desc: head += f'<p class="description">{html.escape(desc)}</p>'
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
main{flex:1;min-width:0} h1.title{margin-top:8px} p.description{color:#555;font-size:1.1em}
.docs-no-input .jp-InputArea, .docs-no-input .jp-Cell-inputWrapper{display:none}
</style>"""

def _render_html(proc_path: Path, out_html: Path, sidebar_html: str):
    import nbformat
    from nbconvert import HTMLExporter
    nb = nbformat.read(proc_path, as_version=4)
    nb, fm = _quarto_like(nb, sidebar_html)
    exp = HTMLExporter(embed_images=True, mathjax_url='', require_js_url='', exclude_input_prompt=True,
                       exclude_output_prompt=True)
    body, _ = exp.from_notebook_node(nb, resources={'metadata': {'name': fm.get('title', proc_path.stem), 'path': str(NBS)}})
    # Cells with the tag get a class so that their (empty) input area is hidden, as Quarto's echo: false does.
    body = body.replace('<head>', '<head><meta charset="utf-8">', 1)
    body = body.replace('</head>', _PAGE_CSS + '</head>', 1)
    body = re.sub(r'(<body[^>]*>)', r'\1' + sidebar_html.replace('\\', r'\\') + '<main>', body, count=1)
    body = body.replace('</body>', '</main></body>', 1)
    # tag -> class (nbconvert's lab template writes cell tags as `celltag_<tag>` classes)
    body = body.replace('celltag_docs-no-input', 'celltag_docs-no-input docs-no-input')
    out_html.write_text(body, encoding='utf-8')
    return fm

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

def _undocumented(nb):
    "Public functions and classes of `#| export`/`#| exports` cells that have no docstring."
    import ast
    res = []
    for c in nb.cells:
        if c.cell_type != 'code' or not {'export', 'exports'} & _directives(c).keys(): continue
        try: tree = ast.parse('\n'.join(l for l in c.source.splitlines() if not l.lstrip().startswith(('%', '!'))))
        except SyntaxError: continue
        for n in tree.body:
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not n.name.startswith('_') \
               and not ast.get_docstring(n):
                # a fastcore @patch function is a method of the class its `self` is annotated with
                patched = any('patch' in ast.unparse(d) for d in getattr(n, 'decorator_list', []))
                a0 = n.args.args[0] if patched and not isinstance(n, ast.ClassDef) and n.args.args else None
                res.append(f'{ast.unparse(a0.annotation)}.{n.name}' if a0 is not None and a0.annotation else n.name)
    return res

def _n_images(nb):
    "Image outputs (png/jpeg/gif/svg) of the processed notebook: figures the page must show."
    n = 0
    for c in nb.cells:
        for o in c.get('outputs', []):
            if any(k in o.get('data', {}) for k in ('image/png', 'image/jpeg', 'image/gif', 'image/svg+xml')): n += 1
    return n

def worker(nb_path: Path, out: Path, cell_timeout: int, run_flags: set):
    "Execute and nbdev-process one notebook; write its facts to out/meta/<name>.json."
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
        meta['undocumented'] = _undocumented(nb)
        meta['draws'] = any(c.cell_type == 'code' and re.search(r'\bplt\.\w+\(|\.plot\(|_figure\(|\.imshow\(', c.source)
                            and not (_skip_flags() - run_flags) & _directives(c).keys() for c in nb.cells)
        meta['skipped_cells'] = sum(1 for c in nb.cells if c.cell_type == 'code' and skip & _directives(c).keys())
        if not skip_exec:
            ex = _SkippingExecutor.make(skip, timeout=cell_timeout, kernel_name='python3', startup_timeout=120)
            try: ex.preprocess(nb, {'metadata': {'path': str(NBS)}})
            except Exception as e:
                print(_ANSI.sub('', str(e)), flush=True)  # the whole traceback, in docs_check/meta/<page>.log
                msg = _ANSI.sub('', str(e)).strip().splitlines()
                tail = [l for l in msg if l.strip()][-3:]
                raise RuntimeError(f'execution failed ({nb_path.name}; traceback in docs_check/meta/{name}.log): '
                                   f'{type(e).__name__}: ' + ' | '.join(tail)[:500]) from None
        exec_path = out/'exec'/nb_path.name
        nbformat.write(nb, exec_path)
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
            raise RuntimeError(f'nbdev doc processing failed in {where}: {cause}'[:400] + hint) from None
        proc_path = out/'_proc'/nb_path.name
        write_nb(pnb, proc_path)
        meta['proc_s'] = round(time.time() - t1, 1)
        pnb2 = nbformat.read(proc_path, as_version=4)
        meta['show_doc'] = _show_doc_names(pnb2)
        meta['n_images'] = _n_images(pnb2)
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

def ensure_chromium():
    "Debian's chromium and chromium-driver; installed with apt-get when missing."
    need = [p for p in ('chromium', 'chromedriver') if not shutil.which(p)]
    if need:
        print(f'== installing chromium chromium-driver with apt-get (missing: {", ".join(need)})', flush=True)
        sudo = [] if os.geteuid() == 0 else ['sudo']
        env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
        subprocess.run(sudo + ['apt-get', 'update', '-qq'], check=True, env=env)
        subprocess.run(sudo + ['apt-get', 'install', '-y', '-qq', 'chromium', 'chromium-driver'], check=True, env=env)
    return shutil.which('chromium'), shutil.which('chromedriver')

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

    def close(self):
        try: self.cmd('DELETE', '')
        except Exception: pass
        self.proc.terminate()
        try: self.proc.wait(10)
        except subprocess.TimeoutExpired: self.proc.kill()
        self.log.close()

# What the page shows: its title, its headings, its images (waiting until every <img> has finished loading).
_JS_FACTS = """
const done = arguments[arguments.length - 1];
const imgs = Array.from(document.querySelectorAll('main img'));
Promise.all(imgs.map(i => i.complete ? null : new Promise(r => {i.onload = i.onerror = r;}))).then(() => {
  const txt = e => (e.textContent || '').replace(/\\u00b6/g, '').replace(/\\s+/g, ' ').trim();
  const h1 = document.querySelector('main h1.title');
  done({
    doc_title: document.title,
    h1: h1 ? txt(h1) : null,
    h1_visible: h1 ? h1.getBoundingClientRect().height > 0 : false,
    headings: Array.from(document.querySelectorAll('main h1, main h2, main h3, main h4, main h5'))
                   .filter(h => h.getBoundingClientRect().height > 0).map(txt),
    imgs: imgs.map(i => ({ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth,
                          src: (i.getAttribute('src') || '').slice(0, 40)})),
    svgs: document.querySelectorAll('main .jp-RenderedSVG svg, main .jp-OutputArea svg').length,
    tracebacks: Array.from(document.querySelectorAll('main .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"] pre'))
                   .map(txt).filter(t => /Traceback|Error:/.test(t)).length,
    height: document.documentElement.scrollHeight,
  });
});
"""

def _matches(name: str, headings: list[str]) -> bool:
    "A show_doc entry is shown when a visible heading names it (nbdev prints `Class.method` or the bare name)."
    cands = {name, name.split('.')[-1], '.'.join(name.split('.')[-2:])}
    return any(h in cands or h.split('(')[0].strip() in cands for h in headings)

def check_page(br: Browser, meta: dict, site: Path, shots: Path) -> dict:
    url = (site/meta['page']).resolve().as_uri()
    br.window(1280, 1600)
    br.get(url)
    f = br.js_async(_JS_FACTS)
    problems = []
    want = meta.get('title', '')
    if not want: problems.append('no title (first markdown cell must be `# Title`)')
    elif f['h1'] != want or not f['h1_visible']: problems.append(f'title not shown (page h1: {f["h1"]!r})')
    if want and f['doc_title'] != want: problems.append(f'<title> is {f["doc_title"]!r}')
    missing = [n for n in meta.get('show_doc', []) if not _matches(n, f['headings'])]
    if missing: problems.append('show_doc not shown: ' + ', '.join(missing[:6]) + (' ...' if len(missing) > 6 else ''))
    bad = [i for i in f['imgs'] if not i['ok']]
    if bad: problems.append(f'{len(bad)} image(s) did not load: ' + ', '.join(i['src'] for i in bad[:3]))
    n_fig = sum(i['ok'] for i in f['imgs']) + f['svgs']
    if n_fig < meta.get('n_images', 0): problems.append(f'{n_fig} figure(s) shown, notebook has {meta["n_images"]}')
    if meta.get('undocumented'): problems.append('exported without docstring: ' + ', '.join(meta['undocumented'][:6]))
    if f['tracebacks']: problems.append(f'{f["tracebacks"]} traceback(s) on the page')
    br.window(1280, max(800, min(int(f['height']) + 40, 8000)))
    shots.mkdir(parents=True, exist_ok=True)
    br.screenshot(shots/(meta['page'][:-5] + '.png'))
    return dict(shown_docs=len(meta.get('show_doc', [])) - len(missing), figures=n_fig, problems=problems)

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
    ap.add_argument('--worker', help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    out = Path(a.out).resolve()
    flags = set(a.flags.split())
    for d in ('exec', '_proc', 'site', 'meta', 'cache', 'shots'): (out/d).mkdir(parents=True, exist_ok=True)
    if a.worker:  # one notebook, in its own process (fresh kernel state, killable on timeout)
        m = worker(Path(a.worker), out, a.cell_timeout, flags)
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
        cached = (not a.force and cfile.exists() and cfile.read_text() == key and mfile.exists()
                  and json.loads(mfile.read_text()).get('ok') and (out/'_proc'/nb.name).exists())
        if cached:
            meta = json.loads(mfile.read_text())
            meta['cached'] = True
        else:
            if cfile.exists(): cfile.unlink()
            print(f'-- {nb.name}', flush=True)
            cmd = [sys.executable, str(Path(__file__).resolve()), '--worker', str(nb), '--out', str(out),
                   '--cell-timeout', str(a.cell_timeout), '--flags', a.flags]
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
    if ok_metas:
        print(f'== opening {len(ok_metas)} page(s) in headless Chromium', flush=True)
        br = Browser(out/'chromium-profile')
        try:
            for m in ok_metas:
                try: problems_by_page[m['page']] = check_page(br, m, out/'site', out/'shots')
                except Exception as e: problems_by_page[m['page']] = dict(problems=[f'browser: {e}'])
            index = next((m for m in ok_metas if m['notebook'] == 'index.ipynb'), None)
            if index and (out/'shots'/'index.png').exists(): shutil.copy(out/'shots'/'index.png', out/'index.png')
        finally: br.close()

    failed = False
    for m in metas:
        r = problems_by_page.get(m['page'], {})
        probs = ([m['error']] if m.get('error') else []) + r.get('problems', [])
        p = Path(NBS/m['notebook'])
        if p not in in_sidebar and not sb_err: probs.append('not in nbs/sidebar.yml')
        if len(names.get(page_name(p), [])) > 1: probs.append('page name clash: ' + ', '.join(names[page_name(p)]))
        failed |= bool(probs)
        n_sd = len(m.get('show_doc', []))
        rows.append(dict(page=m['page'], notebook=m['notebook'], title=m.get('title', ''),
                         show_doc=f"{r.get('shown_docs', '-')}/{n_sd}" if m.get('ok') else '-',
                         figures=f"{r.get('figures', '-')}/{m.get('n_images', '-')}" if m.get('ok') else '-',
                         **{'build s': ('cached' if m.get('cached') else m.get('build_s', ''))},
                         result='ok' if not probs else 'FAIL: ' + '; '.join(probs)))
    print()
    print(_fmt_table(rows))
    print('\n(show_doc: entries shown / show_doc entries in the notebook; figures: images shown / image outputs)')
    for m in metas:
        if m.get('ok') and m.get('draws') and not m.get('n_images'):
            print(f"note: {m['notebook']} draws figures but its page shows none (plt.close? matplotlib.use('Agg')?): "
                  'a reader may rather look at one')
    if not (NBS/'index.ipynb').exists(): site_problems.append('nbs/index.ipynb is missing: the site has no home page')
    if listed_missing: print('sidebar entries with no notebook yet: ' + ', '.join(listed_missing))
    if (out/'index.png').exists() and (NBS/'index.ipynb').exists():
        print(f'home page screenshot: {(out/"index.png").relative_to(ROOT) if out.is_relative_to(ROOT) else out/"index.png"}')
    print(f'pages: {out/"site"}  screenshots: {out/"shots"}')
    for s in site_problems: print('FAIL: ' + s)
    failed |= bool(site_problems)
    print('docs check: ' + ('FAILED' if failed else 'passed'))
    return 1 if failed else 0

if __name__ == '__main__': sys.exit(main())
