#!/usr/bin/env bash
# Builds benchmarks/.venv-plspm: the PyPI `plspm` package (GoogleCloudPlatform's plspm-python),
# which needs pandas < 3, in its own virtualenv so the project's .venv (pandas 3) is untouched.
# Used by benchmarks/bench_plspm.py and benchmarks/plspm/reference_outputs.py.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
venv="$here/.venv-plspm"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  "plspm==0.5.7" "pandas==2.3.3" "numpy==2.4.6" "scipy==1.17.1" "statsmodels==0.15.0" \
  "scikit-learn==1.9.1" "patsy==1.0.3" "formulaic==1.2.2"
"$venv/bin/python" -c "import importlib.metadata as m; print('plspm', m.version('plspm'), 'pandas', m.version('pandas'))"
