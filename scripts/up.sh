#!/usr/bin/env bash
# One command to set up and run cibq on one machine: installs what is missing, makes sure a
# Redis answers (starting a local one under .cibq/ if none does), writes a starter cibq.yaml if
# there is none, and runs producer, worker and reporter in one process (`cibq up`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
config=${CIBQ_CONFIG:-cibq.yaml}
if [ ! -f "$config" ]; then
  mkdir -p .cibq
  cat > "$config" <<YAML
# Starter configuration written by scripts/up.sh: every push and patch on the node runs the smoke
# adapter, which builds nothing. See deploy/cibq.yaml.example and the README for real adapters.
db: .cibq/cibq.db
report_dir: .cibq/reports
default_adapter: smoke
adapters:
  smoke:
    command: $PWD/adapters/smoke.mjs
filters:
  - !Or [ !BranchCreated, !BranchUpdated, !TagCreated, !PatchCreated, !PatchUpdated ]
YAML
  echo "up: wrote a starter $config (smoke adapter, reports in .cibq/reports); edit it for your node" >&2
fi
mkdir -p .cibq/reports
redis_url=${REDIS_URL:-redis://127.0.0.1:6379}
hostport=${redis_url#*://}; hostport=${hostport#*@}; hostport=${hostport%%/*}
host=${hostport%%:*}; port=${hostport##*:}; [ "$port" = "$host" ] && port=6379
if ! (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
  mkdir -p .cibq/redis
  echo "up: no Redis at $host:$port; starting one with its data in .cibq/redis" >&2
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --dir "$PWD/.cibq/redis" \
    --appendonly yes --maxmemory-policy noeviction --logfile "$PWD/.cibq/redis/redis.log"
  sleep 0.5
fi
exec bin/cibq up --config "$config" "$@"
