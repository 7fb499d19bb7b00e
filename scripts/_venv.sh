# Sourced by the scripts: create the virtual environment in .venv if needed and install the
# package with its test dependencies. Set GIS_VENV to use another folder.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${GIS_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "creating virtual environment in $VENV" >&2
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.gis-installed"
if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
  "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
  "$VENV/bin/python" -m pip install --quiet -e "$ROOT[dev]" >&2
  touch "$stamp"
fi
"$ROOT/scripts/vendor"
export PATH="$VENV/bin:$PATH"
cd "$ROOT"
