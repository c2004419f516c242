#!/usr/bin/env bash
# Runs every test tier:
#   unit         test/unit/*.test.ts            fakes only
#   integration  test/int/*.int.test.ts         real PostgreSQL, Kafka broker, algorithm workers
#   fault        test/fault/*.fault.test.ts     kills/pauses the broker, PostgreSQL, Beacon, workers;
#                                               run one file at a time, after the others, since they
#                                               disturb the shared broker
# `bash scripts/test.sh unit` runs the unit tier only (lint, boundaries, fakes: no system packages).
#
# A hung test fails instead of holding the run: each test may take TEST_TIMEOUT_MS (unit 60 s,
# integration 5 min, fault 10 min by default), and --test-force-exit ends a file whose tests are all
# done even if something left a handle open.
set -euo pipefail
cd "$(dirname "$0")/.."

tier="${1:-all}"

run() {
  local timeout=$1
  shift
  node --import tsx --test --test-force-exit --test-timeout="${TEST_TIMEOUT_MS:-$timeout}" "$@"
}

# Lint (Biome) and module boundaries (dependency-cruiser) are part of the unit tier.
lint() {
  npx --no-install biome lint
  npx --no-install depcruise src --config .dependency-cruiser.cjs
}

if [[ "$tier" == unit ]]; then
  lint
  run 60000 $(find test/unit -name '*.test.ts' | sort)
  exit
fi

bash scripts/setup-system.sh

if [[ -z "${KAFKA_BOOTSTRAP_INFO:-}" ]]; then
  # One broker for the whole run; test files read its addresses from the environment.
  info=$(bash scripts/kafka/start.sh | tail -n 1)
  export KAFKA_BOOTSTRAP_INFO="$info"
  trap '[[ -z "${KEEP_KAFKA:-}" ]] && bash scripts/kafka/stop.sh >/dev/null 2>&1 || true' EXIT
fi

status=0
lint || status=$?
# Each integration file has its own database, so two run at once on this 2-core machine.
run 300000 --test-concurrency="${TEST_CONCURRENCY:-2}" $(find test/unit -name '*.test.ts' | sort) $(find test/int -name '*.int.test.ts' | sort) || status=$?
fault_files=$(find test/fault -name '*.fault.test.ts' 2>/dev/null | sort)
if [[ -n "$fault_files" ]]; then
  run 600000 --test-concurrency=1 $fault_files || status=$?
fi
exit $status
