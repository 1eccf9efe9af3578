#!/usr/bin/env bash
# Create benchmarks/.peers: a venv (gitignored) with streamdantic installed editable plus the
# benchmark-only peers. The main .venv and the runtime dependencies are never touched.
#
#   bash benchmarks/setup_peers.sh
#   benchmarks/.peers/bin/python benchmarks/bench_parser.py
#
# PYTHON selects the interpreter (default: python3.11, the main venv's base interpreter).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
venv="$here/.peers"
python="${PYTHON:-python3.11}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check)

"${pip[@]}" install -e "$root" -r "$here/requirements-peers.txt"
"${pip[@]}" install --no-deps -r "$here/requirements-peers-nodeps.txt"

echo
echo "== versions in $venv =="
"$venv/bin/python" - <<'PY'
from importlib.metadata import PackageNotFoundError, version
import platform

print("python", platform.python_version())
for name in ("streamdantic", "jiter", "pydantic", "pydantic-core", "ijson",
             "partial-json-parser", "langchain-core", "instructor", "openai"):
    try:
        print(f"{name:22} {version(name)}")
    except PackageNotFoundError:
        print(f"{name:22} (not installed)")
PY
echo
echo "== pip check (instructor's jiter<0.15 pin is expected to be reported) =="
"${pip[@]}" check || true
