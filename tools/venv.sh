#!/usr/bin/env bash
# Creates .venv in the checkout (if missing) and installs hmlc_nb into it, editable.
# Usage: bash tools/venv.sh [extra]   e.g. `bash tools/venv.sh dev` for the test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
spec="."
[ $# -gt 0 ] && spec=".[$1]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec"
