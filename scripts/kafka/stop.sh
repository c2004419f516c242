#!/usr/bin/env bash
# Stops the dev/test broker started by start.sh: SIGTERM (controlled shutdown), SIGKILL after
# KAFKA_STOP_TIMEOUT (30) seconds. `stop.sh --kill` sends SIGKILL right away (crash simulation).
# Idempotent: does nothing when no broker is running. Data stays; start.sh reuses it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

sig=TERM
case "${1:-}" in
  "") ;;
  --kill) sig=KILL ;;
  *) die "usage: stop.sh [--kill]" ;;
esac
take_broker_lock
stop_broker "$sig"
