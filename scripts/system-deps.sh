#!/usr/bin/env bash
# Debian packages the project needs: headers to build mysqlclient, and for the tests, the MariaDB
# and Redis servers they run against (scripts/services.sh starts them), Chromium (pages) and
# espeak-ng (speech synthesis for benchmarks/tests) and festival with its English voices (the held-out
# voices of benchmarks/call_ranking.py). Installs only what is missing.
set -euo pipefail
want=(pkg-config libmariadb-dev build-essential)
if [ "${1:-}" = "--test" ]; then
  want+=(mariadb-server redis-server nginx openssl chromium espeak-ng festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts)
fi
missing=()
for pkg in "${want[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
  echo "Please install these Debian packages: ${missing[*]}" >&2
  exit 1
fi
SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo sudo)
echo "Installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
