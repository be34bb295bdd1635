#!/usr/bin/env bash
# Docs check without Quarto (slow: it executes every notebook; not part of tools/test.sh).
# Executes and nbdev-processes every nbs/*.ipynb, renders it to HTML with nbconvert, opens the pages in
# headless Chromium (apt-get installs chromium + chromium-driver if missing) and checks titles, show_doc
# entries and figures; screenshots in docs_check/ (home page: docs_check/index.png).
# Usage: bash tools/docs_check.sh [notebook ...] [--force] [--flags "slow"] [--cell-timeout S] [--nb-timeout S]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash tools/venv.sh dev
exec nice -n 5 .venv/bin/python tools/docs_check.py "$@"
