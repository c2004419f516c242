#!/usr/bin/env bash
# Runs every test tier: unit tests (fakes) and integration tests (real PostgreSQL, a real Kafka broker
# started by scripts/kafka, real algorithm workers). `bash scripts/test.sh unit` runs unit tests only.
set -euo pipefail
cd "$(dirname "$0")/.."

tier="${1:-all}"
bash scripts/setup-system.sh
files=$(find test/unit -name '*.test.ts' | sort)
if [[ "$tier" != unit ]]; then
  files="$files $(find test/int -name '*.int.test.ts' | sort)"
  if [[ -z "${KAFKA_BOOTSTRAP_INFO:-}" ]]; then
    # One broker for the whole run; test files read its addresses from the environment.
    info=$(bash scripts/kafka/start.sh | tail -n 1)
    export KAFKA_BOOTSTRAP_INFO="$info"
    started_kafka=1
  fi
fi

status=0
# Integration files each get their own database, so two run at once on this 2-core machine.
node --import tsx --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-timeout=600000 $files || status=$?

if [[ "${started_kafka:-0}" == 1 && -z "${KEEP_KAFKA:-}" ]]; then
  bash scripts/kafka/stop.sh >/dev/null 2>&1 || true
fi
exit $status
