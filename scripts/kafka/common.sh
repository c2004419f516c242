# Shared settings for scripts/kafka/*.sh. Sourced, never executed.
# Every value can be overridden from the environment; the defaults give a loopback-only,
# single-node KRaft broker whose files all live under .cache/kafka at the repo root.

KAFKA_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$KAFKA_SCRIPT_DIR/../.." && pwd)"

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
KAFKA_CACHE_DIR="${KAFKA_CACHE_DIR:-$REPO_ROOT/.cache/kafka}"
[[ "$KAFKA_CACHE_DIR" == /* ]] || KAFKA_CACHE_DIR="$PWD/$KAFKA_CACHE_DIR"   # start.sh cds later
KAFKA_LIBS_DIR="$KAFKA_CACHE_DIR/libs"
KAFKA_CERTS_DIR="$KAFKA_CACHE_DIR/certs"
KAFKA_RUN_DIR="$KAFKA_CACHE_DIR/run"
KAFKA_DATA_DIR="$KAFKA_RUN_DIR/data"
KAFKA_PID_FILE="$KAFKA_RUN_DIR/kafka.pid"
KAFKA_LOG_FILE="$KAFKA_RUN_DIR/server.log"

KAFKA_HOST=127.0.0.1
KAFKA_PLAINTEXT_PORT="${KAFKA_PLAINTEXT_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_SASL_PLAINTEXT_PORT="${KAFKA_SASL_PLAINTEXT_PORT:-19094}"
KAFKA_SASL_SSL_PORT="${KAFKA_SASL_SSL_PORT:-19095}"
KAFKA_TOPIC="${KAFKA_TOPIC:-insights}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"   # seconds until the broker must answer

log() { printf '[kafka] %s\n' "$*" >&2; }
die() { printf '[kafka] ERROR: %s\n' "$*" >&2; exit 1; }

# True when the pid file names a live process that is our broker (guards against pid reuse).
broker_pid() {
  [[ -f "$KAFKA_PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$KAFKA_PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  local cmdline
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  [[ "$cmdline" == *" kafka.Kafka "* ]] || return 1
  printf '%s\n' "$pid"
}

# Process state letter from /proc (R, S, T for SIGSTOPped, Z, ...).
proc_state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true; }

# Alive and not a zombie left behind by a SIGKILL whose parent has not reaped it yet.
alive() { kill -0 "$1" 2>/dev/null && [[ "$(proc_state "$1")" != Z ]]; }

port_open() { (exec 3<>"/dev/tcp/$KAFKA_HOST/$1") 2>/dev/null; }

# Stops the broker named by the pid file. $1: TERM (controlled shutdown, SIGKILL after
# KAFKA_STOP_TIMEOUT seconds) or KILL (crash-like, no shutdown hooks). Idempotent.
stop_broker() {
  local sig="${1:-TERM}" pid waited=0 timeout="${KAFKA_STOP_TIMEOUT:-30}"
  if ! pid="$(broker_pid)"; then
    rm -f "$KAFKA_PID_FILE"
    return 0
  fi
  log "stopping broker pid $pid (SIG$sig)"
  kill -"$sig" "$pid" 2>/dev/null || true
  kill -CONT "$pid" 2>/dev/null || true   # a SIGSTOPped JVM only acts on SIGTERM once continued
  while alive "$pid"; do
    if (( waited >= timeout * 10 )); then
      log "broker pid $pid still alive after ${timeout}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      timeout=$((timeout + 5))
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$KAFKA_PID_FILE"
  log "broker stopped after $((waited / 10)).$((waited % 10))s"
}

# Serialises start/stop across processes (parallel test files may all call start.sh).
# The lock fd (9) must not leak into the broker JVM, or the lock would be held forever.
take_broker_lock() {
  mkdir -p "$KAFKA_CACHE_DIR"
  exec 9>"$KAFKA_CACHE_DIR/broker.lock"
  flock -w "${KAFKA_LOCK_TIMEOUT:-900}" 9 || die "timed out waiting for $KAFKA_CACHE_DIR/broker.lock"
}
