#!/usr/bin/env bash
# Copies the Apache Kafka broker jars (plus a log4j2 SLF4J binding) from Maven Central into
# .cache/kafka/libs. Idempotent: a marker file records the version that is already there.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

marker="$KAFKA_LIBS_DIR/.fetched"
want="kafka_2.13-$KAFKA_VERSION $(sha256sum "$KAFKA_SCRIPT_DIR/pom.xml" | cut -c1-16)"

mkdir -p "$KAFKA_CACHE_DIR"
exec 8>"$KAFKA_CACHE_DIR/fetch.lock"
flock 8   # parallel callers wait for one download instead of racing on the same files

if [[ -f "$marker" && "$(cat "$marker")" == "$want" ]]; then
  exit 0
fi

command -v mvn >/dev/null || die "mvn not found (needs Maven 3.6+ and Java 17)"
log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS_DIR"
started=$SECONDS
tmp="$KAFKA_CACHE_DIR/libs.tmp"
rm -rf "$tmp"
# -q leaves only errors; keep them (and Maven's stray colour codes) out of sight unless it fails.
if ! mvn -q -B -Dstyle.color=never -f "$KAFKA_SCRIPT_DIR/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
  cat "$tmp.log" >&2
  die "Maven could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION (see above)"
fi
rm -f "$tmp.log"

core="$tmp/kafka_2.13-$KAFKA_VERSION.jar"
[[ -f "$core" ]] || die "missing $core after download"
# Entry names are stored uncompressed in a jar, so grep works where unzip/jar are not installed.
if command -v unzip >/dev/null; then classes="$(unzip -Z1 "$core")"; else classes="$(grep -aoE '[A-Za-z0-9/$_]+\.class' "$core")"; fi
for cls in kafka/Kafka.class kafka/tools/StorageTool.class; do
  grep -qxF "$cls" <<<"$classes" || die "$cls not found in $core"
done

rm -rf "$KAFKA_LIBS_DIR"
mv "$tmp" "$KAFKA_LIBS_DIR"
printf '%s\n' "$want" >"$marker"
log "fetched $(ls "$KAFKA_LIBS_DIR"/*.jar | wc -l) jars in $((SECONDS - started))s"
