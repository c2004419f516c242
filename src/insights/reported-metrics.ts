// Validation and merging of inference metrics that algorithm code reports during one execution
// (POST .../v1/insights). Pure functions: the worker pool keeps the per-call state.
//
// Decisions (Algorithmia documents the limits, not the edge cases):
// - Accepted shapes: the wire format every official client sends, an array of
//   {"insight_key", "insight_value"} objects, and a plain {key: value} object as a convenience.
// - Values: finite numbers and booleans keep their type. Strings that hold a decimal number become
//   numbers, because the Java client stringifies every value. Any other string, null, object or
//   array is refused: Insights metrics are numeric, and a sink downstream (Datadog, New Relic)
//   would drop them anyway.
// - A key reported twice in one execution keeps the last value (a gauge, not a counter).
// - Limits count the union of keys reported during the execution: at most 25 keys, and the JSON
//   text of the merged metrics object at most 25 KiB.
// - A broken rule refuses the whole report call (nothing of it is merged) and leaves what earlier
//   calls of the same execution reported untouched.

export type MetricValue = number | boolean;
export type ReportedMetrics = Record<string, MetricValue>;
export type MergeResult = { ok: true; metrics: ReportedMetrics } | { ok: false; message: string };

export const MAX_METRICS_PER_EXECUTION = 25;
export const MAX_METRICS_JSON_BYTES = 25 * 1024;
export const MAX_METRIC_KEY_LENGTH = 255;

// Operational fields of the Insights payload: a user metric with one of these names would
// overwrite them in the flat Kafka message. `time` and `session_id` are emitted although the
// documentation lists only `timestamp`, so all of them are refused.
export const RESERVED_METRIC_NAMES: readonly string[] = Object.freeze([
  'request_id',
  'session_id',
  'time',
  'timestamp',
  'duration_milliseconds',
  'algorithm_owner',
  'algorithm_name',
  'algorithm_version',
  'parent_request_id',
]);

const NUMERIC_STRING = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

type Entries = Array<[string, unknown]>;

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !Buffer.isBuffer(x);
}

function toEntries(report: unknown): Entries | string {
  if (Array.isArray(report)) {
    const entries: Entries = [];
    for (const [i, item] of report.entries()) {
      if (!isPlainObject(item) || !('insight_key' in item) || !('insight_value' in item)) {
        return `insights[${i}] must be an object with "insight_key" and "insight_value"`;
      }
      if (typeof item.insight_key !== 'string') return `insights[${i}].insight_key must be a string`;
      entries.push([item.insight_key, item.insight_value]);
    }
    return entries;
  }
  if (isPlainObject(report)) return Object.entries(report);
  return 'insights must be a JSON array of {"insight_key", "insight_value"} objects (or a JSON object of key/value pairs)';
}

function checkKey(key: string): string | undefined {
  if (key.length === 0) return 'an insight key must be a non-empty string';
  if (key.length > MAX_METRIC_KEY_LENGTH) {
    return `insight key "${key.slice(0, 40)}..." is longer than ${MAX_METRIC_KEY_LENGTH} characters`;
  }
  if (RESERVED_METRIC_NAMES.includes(key)) {
    return `insight key "${key}" is reserved (reserved names: ${RESERVED_METRIC_NAMES.join(', ')})`;
  }
  return undefined;
}

function toValue(key: string, value: unknown): MetricValue | string {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    return Number.isFinite(value) ? value : `insight "${key}" must be a finite number`;
  }
  // The Java client sends every value as a string: "3" and "true" keep their meaning.
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  if (typeof value === 'string' && NUMERIC_STRING.test(value.trim())) {
    const n = Number(value.trim());
    if (Number.isFinite(n)) return n;
  }
  const shown = JSON.stringify(value) ?? String(value);
  return `insight "${key}" must be a number or a boolean (got ${shown.slice(0, 60)})`;
}

export function mergeReportedMetrics(current: ReportedMetrics, report: unknown): MergeResult {
  const entries = toEntries(report);
  if (typeof entries === 'string') return { ok: false, message: entries };

  // A Map (then Object.fromEntries) so a key such as "__proto__" stays an ordinary own property.
  const merged = new Map<string, MetricValue>(Object.entries(current));
  for (const [key, raw] of entries) {
    const keyError = checkKey(key);
    if (keyError) return { ok: false, message: keyError };
    const value = toValue(key, raw);
    if (typeof value === 'string') return { ok: false, message: value };
    merged.set(key, value);
  }

  if (merged.size > MAX_METRICS_PER_EXECUTION) {
    return {
      ok: false,
      message: `at most ${MAX_METRICS_PER_EXECUTION} insight metrics may be reported per execution (this report would make ${merged.size})`,
    };
  }
  const metrics: ReportedMetrics = Object.fromEntries(merged);
  const size = Buffer.byteLength(JSON.stringify(metrics));
  if (size > MAX_METRICS_JSON_BYTES) {
    return {
      ok: false,
      message: `insight metrics of one execution may total at most ${MAX_METRICS_JSON_BYTES} bytes of JSON (this report would make ${size})`,
    };
  }
  return { ok: true, metrics };
}
