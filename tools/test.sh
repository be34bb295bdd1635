#!/usr/bin/env bash
# The whole test suite, as CI runs it. Creates .venv in the checkout if needed.
#   1. nbdev_export + nbdev_clean must change no file: the package and the notebooks agree.
#   2. nbdev_test runs every notebook (cells flagged slow/cuda are skipped; add --flags "slow cuda").
#   3. pytest runs the tests that need whole processes (command line, kill and resume, DDP).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/venv.sh dev
export PATH="$PWD/.venv/bin:$PATH"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" MPLBACKEND=Agg
snapshot() { git status --porcelain --untracked-files=all -- hmlc_nb nbs; git diff -- hmlc_nb nbs | sha1sum; }
before=$(snapshot)
nbdev_export
nbdev_clean
after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "FAIL: nbdev_export/nbdev_clean changed files: the package and the notebooks disagree."
  echo "Run nbdev_export and nbdev_clean, then commit the result."
  git status --porcelain -- hmlc_nb nbs
  exit 1
fi
echo "== nbdev_test"
nbdev_test --n_workers 2 --timing
echo "== pytest"
python -m pytest -q tests "$@"
