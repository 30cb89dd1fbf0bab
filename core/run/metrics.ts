/**
 * Prometheus metrics (DESIGN §2, "metrics registry"): metric families whose
 * values are read at scrape time by collector callbacks, rendered in the text
 * exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format).
 *
 * Nothing here counts: the run's counters live in `RunReport`, and
 * `registerRunMetrics` only reads them when a scraper asks, so the hot path
 * pays nothing for metrics. The HTTP server and the process gauges (which
 * need runtime APIs) are in plugins/http.
 */
import type { RunReport } from "./report.ts";

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type MetricType = "counter" | "gauge";

export interface Sample {
  labels?: Readonly<Record<string, string>>;
  value: number;
}

/** What a collector returns: the value of an unlabeled metric, or labeled samples. */
export type Collected = number | readonly Sample[];

interface Family {
  name: string;
  type: MetricType;
  help: string;
  collect: () => Collected;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Metric families in the order they were added; rendered in that order. */
export class MetricsRegistry {
  private readonly families: Family[] = [];
  private readonly names = new Set<string>();

  /** A counter: its name ends in `_total` (Prometheus naming conventions). */
  counter(name: string, help: string, collect: () => Collected): this {
    if (!name.endsWith("_total")) {
      throw new Error(`Cannot add counter ${name}: a counter's name ends in _total`);
    }
    return this.add({ name, type: "counter", help, collect });
  }

  gauge(name: string, help: string, collect: () => Collected): this {
    return this.add({ name, type: "gauge", help, collect });
  }

  private add(f: Family): this {
    if (!METRIC_NAME.test(f.name)) {
      throw new Error(`Cannot add metric '${f.name}': not a metric name [a-zA-Z_:][a-zA-Z0-9_:]*`);
    }
    if (this.names.has(f.name)) throw new Error(`Cannot add metric ${f.name}: added twice`);
    this.names.add(f.name);
    this.families.push(f);
    return this;
  }

  /** The exposition text: `# HELP` and `# TYPE` once per family, then its samples. */
  render(): string {
    let out = "";
    for (const f of this.families) {
      out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
      const c = f.collect();
      if (typeof c === "number") {
        out += `${f.name} ${formatValue(c)}\n`;
        continue;
      }
      for (const s of c) {
        out += `${f.name}${formatLabels(f.name, s.labels)} ${formatValue(s.value)}\n`;
      }
    }
    return out;
  }
}

// Exposition format 0.0.4: in HELP text `\` and line feed are escaped as `\\`
// and `\n`; in label values `\`, `"` and line feed as `\\`, `\"` and `\n`.
function escapeHelp(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

export function escapeLabelValue(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatLabels(metric: string, labels: Sample["labels"]): string {
  if (labels === undefined) return "";
  const parts: string[] = [];
  for (const k in labels) {
    if (!LABEL_NAME.test(k) || k.startsWith("__")) {
      throw new Error(`Cannot render ${metric}: '${k}' is not a label name`);
    }
    parts.push(`${k}="${escapeLabelValue(labels[k])}"`);
  }
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** Values as Go's ParseFloat reads them: `NaN`, `+Inf`, `-Inf`, or a decimal. */
function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/**
 * A report map key (a reason or kind name chosen by the code, never input
 * data) as a label value, reduced to `[A-Za-z0-9_.:-]` and 64 characters all
 * the same, so that no label can ever carry anything else.
 */
export function reasonLabel(key: string): string {
  return key.replace(/[^A-Za-z0-9_.:-]/g, "_").slice(0, 64) || "unknown";
}

/** One sample per key of `map` (sorted, keys passed through `reasonLabel`; clashes summed). */
function mapSamples(
  map: Readonly<Record<string, number>>,
  label: string,
  keep: (key: string) => boolean = () => true,
): Sample[] {
  const sums = new Map<string, number>();
  for (const k in map) {
    if (!keep(k)) continue;
    const v = reasonLabel(k);
    sums.set(v, (sums.get(v) ?? 0) + map[k]);
  }
  return [...sums.keys()].sort().map((v) => ({ labels: { [label]: v }, value: sums.get(v)! }));
}

function fixedSamples(label: string, pairs: [string, number][]): Sample[] {
  return pairs.map(([v, value]) => ({ labels: { [label]: v }, value }));
}

/** Where a run is; `/healthz` reports it and `stitcher_run_phase` shows it. */
export type RunPhase = "starting" | "listing" | "stitching" | "done" | "failed";
export const RUN_PHASES: readonly RunPhase[] = [
  "starting",
  "listing",
  "stitching",
  "done",
  "failed",
];

/** The report's TLS flow total; the other non-byte keys of `decryption` are flow results. */
const TLS_FLOWS_KEY = "tls_flows";
const isTlsResult = (k: string) => k !== TLS_FLOWS_KEY && !k.endsWith("_bytes");

/**
 * Adds the `stitcher_*` metrics, each read from `report` when scraped, and
 * `stitcher_run_phase` when `phase` is given.
 */
export function registerRunMetrics(
  reg: MetricsRegistry,
  report: RunReport,
  phase?: () => RunPhase,
): MetricsRegistry {
  const r = report;
  reg.gauge("stitcher_up", "1 while the stitcher serves metrics", () => 1);
  reg.gauge(
    "stitcher_run_start_time_seconds",
    "when the run started, Unix seconds",
    () => r.startedAt.getTime() / 1000,
  );
  if (phase !== undefined) {
    reg.gauge(
      "stitcher_run_phase",
      "1 for the phase the run is in (starting, listing, stitching, done, failed), else 0",
      () => {
        const now = phase();
        return RUN_PHASES.map((p) => ({ labels: { phase: p }, value: p === now ? 1 : 0 }));
      },
    );
  }
  reg.counter(
    "stitcher_objects_total",
    "objects by state: listed, read (damaged and truncated ones included), damaged, truncated, " +
      "failed (not delivered by the store after its retries)",
    () =>
      fixedSamples("state", [
        ["listed", r.objects.listed],
        ["read", r.objects.read],
        ["damaged", r.objects.damaged],
        ["truncated", r.objects.truncated],
        ["failed", r.objects.failed],
      ]),
  );
  reg.counter(
    "stitcher_objects_skipped_total",
    "objects listed but not read, by reason",
    () => mapSamples(r.objects.skipped, "reason"),
  );
  reg.counter(
    "stitcher_object_bytes_read_total",
    "bytes read from objects as stored (compressed)",
    () => r.objects.bytesRead,
  );
  reg.counter("stitcher_records_total", "records decoded", () => r.records.total);
  reg.counter(
    "stitcher_records_rejected_total",
    "records skipped, by reason",
    () =>
      fixedSamples("reason", [
        ["bad_crc", r.records.badCrc],
        ["malformed", r.records.malformed],
        ["unknown_type", r.records.unknownType],
        ["outside_window", r.records.outsideWindow],
      ]),
  );
  reg.counter(
    "stitcher_late_records_total",
    "records for a flow that had already ended",
    () => r.flows.lateRecords,
  );
  reg.counter(
    "stitcher_flows_total",
    "flow events: opened, midstream (start not captured), closed by FIN, RST or timeout, " +
      "orphaned (no FLOW_OPEN)",
    () =>
      fixedSamples("event", [
        ["opened", r.flows.opened],
        ["midstream", r.flows.midstream],
        ["closed_fin", r.flows.closedFin],
        ["closed_rst", r.flows.closedRst],
        ["closed_timeout", r.flows.closedTimeout],
        ["orphaned", r.flows.orphaned],
      ]),
  );
  reg.gauge(
    "stitcher_flows_open_at_end",
    "flows still open when the input ended (set when the run ends)",
    () => r.flows.openAtEnd,
  );
  reg.counter(
    "stitcher_orphaned_bytes_total",
    "payload bytes of orphaned flows",
    () => r.flows.orphanedBytes,
  );
  reg.counter(
    "stitcher_packets_total",
    "packets by kind: out (written), synthesized, passed_through, filtered",
    () =>
      fixedSamples("kind", [
        ["out", r.packets.out],
        ["synthesized", r.packets.synthesized],
        ["passed_through", r.packets.passedThrough],
        ["filtered", r.packets.filtered],
      ]),
  );
  reg.counter("stitcher_payload_bytes_total", "TCP payload bytes exported", () => r.bytes.payload);
  reg.counter("stitcher_frame_bytes_total", "frame bytes written", () => r.bytes.frames);
  reg.counter(
    "stitcher_duplicate_bytes_total",
    "payload bytes dropped as duplicates",
    () => r.bytes.duplicate,
  );
  reg.counter(
    "stitcher_overlap_bytes_total",
    "payload bytes trimmed as overlaps",
    () => r.bytes.overlap,
  );
  reg.counter("stitcher_gaps_total", "holes in reassembled streams", () => r.gaps.count);
  reg.counter("stitcher_gap_bytes_total", "bytes missing in those holes", () => r.gaps.bytes);
  reg.counter("stitcher_key_objects_total", "keys objects read", () => r.keys.objects);
  reg.counter(
    "stitcher_keys_total",
    "key log entries by result: loaded, malformed, unknown_label " +
      "(loaded and unknown_label are set when the run ends)",
    () =>
      fixedSamples("result", [
        ["loaded", r.keys.entries],
        ["malformed", r.keys.malformed],
        ["unknown_label", r.keys.unknownLabels],
      ]),
  );
  reg.counter(
    "stitcher_tls_flows_detected_total",
    "TLS flows found (the report's decryption.tls_flows)",
    () => r.decryption[TLS_FLOWS_KEY] ?? 0,
  );
  reg.counter(
    "stitcher_tls_flows_total",
    "TLS flow results, the report's decryption counts (decrypted, not_tls, dropped, " +
      "undecryptable_<reason>, ...); a flow may count under two results, so do not sum them",
    () => mapSamples(r.decryption, "result", isTlsResult),
  );
  reg.counter(
    "stitcher_tls_plaintext_bytes_total",
    "application plaintext bytes decrypted",
    () => r.decryption.plaintext_bytes ?? 0,
  );
  reg.counter(
    "stitcher_problems_total",
    "input problems by kind (the report's errors)",
    () => mapSamples(r.errors, "kind"),
  );
  return reg;
}
