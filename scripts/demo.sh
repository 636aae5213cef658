#!/usr/bin/env bash
# `npm run demo`: installs what is missing (scripts/setup.sh; CIBQ_NO_SETUP=1 skips it), then runs
# the demo (scripts/demo.ts) on the project's own Node 24.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${CIBQ_NO_SETUP:-}" = "1" ] || bash scripts/setup.sh
exec node_modules/node/bin/node --disable-warning=ExperimentalWarning scripts/demo.ts "$@"
