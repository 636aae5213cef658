#!/usr/bin/env bash
# One command to set up and run cibq on one machine: installs what is missing, makes sure a
# Redis answers (starting a local one under .cibq/ if none does), writes a starter cibq.yaml if
# there is none, and runs producer, worker and reporter in one process (`cibq up`).
# A Redis this script started is stopped again when `cibq up` stops (Ctrl-C or SIGTERM); its data
# stays in .cibq/redis for the next start. CIBQ_NO_SETUP=1 skips the installation step.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${CIBQ_NO_SETUP:-}" = "1" ] || bash scripts/setup.sh
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
answers() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

redis_pid=""
stop_redis() {
  [ -n "$redis_pid" ] || return 0
  echo "up: stopping the Redis it started on port $port (its data stays in .cibq/redis)" >&2
  kill -TERM "$redis_pid" 2>/dev/null || true
  while kill -0 "$redis_pid" 2>/dev/null; do sleep 0.1; done
}
trap stop_redis EXIT
if ! answers; then
  mkdir -p .cibq/redis
  echo "up: no Redis at $host:$port; starting one with its data in .cibq/redis (stopped again when up stops)" >&2
  # In a session of its own, so that Ctrl-C reaches cibq (which still needs Redis to finish its
  # runs) and not Redis; this script stops it once cibq has stopped.
  setsid redis-server --bind 127.0.0.1 --port "$port" --dir "$PWD/.cibq/redis" --appendonly yes \
    --maxmemory-policy noeviction --logfile "$PWD/.cibq/redis/redis.log" </dev/null &
  redis_pid=$!
  for _ in $(seq 100); do answers && break; kill -0 "$redis_pid" 2>/dev/null || break; sleep 0.05; done
  if ! answers; then
    echo "up: the Redis it started does not answer on $host:$port; see .cibq/redis/redis.log" >&2
    exit 1
  fi
fi

# Ctrl-C at the terminal reaches cibq directly (same process group): the script only waits for
# it. A SIGTERM sent to the script is passed on.
bin/cibq up --config "$config" "$@" &
cibq_pid=$!
trap ':' INT
trap 'kill -TERM "$cibq_pid" 2>/dev/null || true' TERM
status=0
while kill -0 "$cibq_pid" 2>/dev/null; do
  wait "$cibq_pid" && status=0 || status=$?
done
exit "$status"
