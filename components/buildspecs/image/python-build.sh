#!/bin/sh
# The python builder's build stage: the package manager (PACKAGE_MANAGER, else the lockfile, else pip) goes into the
# build stage's Python, the app's runtime dependencies into the virtual environment /opt/venv, which the final image
# takes whole; then BUILD_COMMAND, inside that environment.
set -eu

pm="${PACKAGE_MANAGER:-}"
if [ -z "$pm" ]; then
  if [ -f uv.lock ]; then
    pm=uv
  elif [ -f poetry.lock ]; then
    pm=poetry
  elif [ -f Pipfile ]; then
    pm=pipenv
  else
    pm=pip
  fi
fi
case "$pm" in
  pip | poetry | uv | pipenv) ;;
  *)
    echo "Slipway: PACKAGE_MANAGER must be one of pip, poetry, uv, pipenv, got '$pm'" >&2
    exit 1
    ;;
esac
echo "Slipway: installing dependencies with $pm"
if [ "$pm" != pip ]; then pip install "$pm"; fi
python -m venv /opt/venv
export VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"

case "$pm" in
  pip)
    if [ -f requirements.txt ]; then
      pip install -r requirements.txt
    elif [ -f pyproject.toml ] || [ -f setup.py ]; then
      pip install .
    else
      echo "Slipway: no requirements.txt, pyproject.toml or setup.py; no dependencies installed"
    fi
    ;;
  poetry)
    poetry install --only main --no-root --no-interaction
    ;;
  uv)
    if [ -f uv.lock ]; then
      uv sync --frozen --no-dev
    elif [ -f pyproject.toml ]; then
      uv sync --no-dev
    else
      uv pip install -r requirements.txt
    fi
    ;;
  pipenv)
    if [ ! -f Pipfile.lock ]; then pipenv lock; fi
    pipenv requirements >../requirements.txt
    pip install -r ../requirements.txt
    rm -f ../requirements.txt
    ;;
esac

if [ -n "${BUILD_COMMAND:-}" ]; then
  echo "Slipway: running $BUILD_COMMAND"
  sh -c "$BUILD_COMMAND"
fi
