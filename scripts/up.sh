#!/usr/bin/env bash
# One command to set up and run cibq on one machine: installs what is missing, makes sure a
# Redis answers (starting a local one under .cibq/ if none does), writes cibq.yaml from the
# example if there is none, and runs producer, worker and reporter in one process (`cibq up`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
config=${CIBQ_CONFIG:-cibq.yaml}
if [ ! -f "$config" ]; then
  cp deploy/cibq.yaml.example "$config"
  echo "up: wrote $config from deploy/cibq.yaml.example; edit its adapters and filters for your node" >&2
fi
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
