#!/usr/bin/env bash
# Install the Debian packages the tests and benchmarks use, only those that are missing.
set -o errexit -o nounset -o pipefail

# command-name:debian-package
wanted=(wrk:wrk taskset:util-linux setarch:util-linux pgrep:procps chromium:chromium
  chromedriver:chromium-driver nginx:nginx valgrind:valgrind gcc:gcc
  kubectl:kubernetes-client)
missing=()
for pair in "${wanted[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair##*:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
