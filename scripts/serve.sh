#!/usr/bin/env bash
# Serve one app under gunicorn on 127.0.0.1 with the shared settings: serve.sh flask|django [port]
set -o errexit -o nounset -o pipefail

app=${1:?usage: serve.sh flask|django [port]}
case "$app" in
  flask) target=flask_app.wsgi:app; default_port=8001 ;;
  django) target=django_app.wsgi:application; default_port=8002 ;;
  *) echo "unknown app '$app': choose flask or django" >&2; exit 2 ;;
esac
port=${2:-${PORT:-$default_port}}

cd "$(dirname "$0")/.."
export GUNICORN_BIND="127.0.0.1:${port}"
# A run from this script is a local run: Django may use its local-only key unless one is given.
export DJANGO_ENV="${DJANGO_ENV:-local}"
echo "$app: http://127.0.0.1:${port} (model variant ${MLAPI_MODEL_VARIANT:-light}; Ctrl-C stops it)"
exec .venv/bin/gunicorn -c gunicorn.conf.py "$target"
