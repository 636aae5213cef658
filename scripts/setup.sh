#!/usr/bin/env bash
# Installs what cibq needs on a fresh Debian machine: git and redis-server (and, with --test,
# Chromium, systemd, ssh-keygen and bubblewrap for the tests, redis-sentinel, openssl and iproute2
# for the fault suite's failover, TLS and network-separation tests) from Debian's packages, then the
# npm dependencies, which include the Node 24 that runs cibq (this works even where the system's
# node is older).
set -euo pipefail
cd "$(dirname "$0")/.."
want=(git redis-server)
if [ "${1:-}" = "--test" ]; then want+=(chromium systemd openssh-client bubblewrap redis-sentinel openssl iproute2); fi
missing=()
for pkg in "${want[@]}"; do
  case $pkg in
    redis-server) command -v redis-server >/dev/null || missing+=("$pkg") ;;
    chromium) [ -x /usr/bin/chromium ] || missing+=("$pkg") ;;
    systemd) command -v systemd-analyze >/dev/null || missing+=("$pkg") ;;
    openssh-client) command -v ssh-keygen >/dev/null || missing+=("$pkg") ;;
    bubblewrap) command -v bwrap >/dev/null || missing+=("$pkg") ;;
    redis-sentinel) command -v redis-sentinel >/dev/null || missing+=("$pkg") ;;
    iproute2) command -v ip >/dev/null || missing+=("$pkg") ;;
    *) command -v "$pkg" >/dev/null || missing+=("$pkg") ;;
  esac
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v npm >/dev/null; then
  echo "setup: npm is required (Node.js 20 or newer); install nodejs and npm first" >&2
  exit 1
fi
if [ ! -x node_modules/node/bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # The lock file pins every version and lists the optional native packages of every platform
  # (test/deploy/package-lock.test.ts), so this leaves package-lock.json as it is; `npm ci` works too.
  npm install --no-audit --no-fund
fi
echo "setup: ready ($(node_modules/node/bin/node --version), $(redis-server --version | cut -d' ' -f3))" >&2
