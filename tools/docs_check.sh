#!/usr/bin/env bash
# Docs check without Quarto (slow: it executes every notebook; not part of tools/test.sh, whose pytest runs only the
# cheap static checks of tests/test_docs.py). Executes and nbdev-processes every nbs/*.ipynb, renders it to HTML as
# nbdev + Quarto would (MathJax from Debian's libjs-mathjax, a table of contents, pandoc heading ids), opens the pages
# in headless Chromium (apt-get installs chromium, chromium-driver and libjs-mathjax if missing) and fails, naming
# the page, on: a missing title, API entry or figure, API entries out of reading order, a figure cell that shows
# nothing, untypeset equations, stray YAML/jupytext front matter, DESIGN.md or issue-number references, dead internal
# links and anchors, exports without a docstring, raw backticks or `NoneType` in parameter lists, tracebacks.
# Full-height screenshots in docs_check/shots/<page>.png, first screens in docs_check/shots/<page>.top.png.
# Usage: HMLC_DOCS_CHECK=1 bash tools/docs_check.sh [notebook ...] [--force] [--flags "slow"] [--cell-timeout S] [--nb-timeout S]
#        bash tools/docs_check.sh --readme     # write README.md from nbs/index.ipynb
#        bash tools/docs_check.sh --inplace    # execute the notebooks and save their outputs (the deploy workflow)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash tools/venv.sh dev
exec nice -n 5 .venv/bin/python tools/docs_check.py "$@"
