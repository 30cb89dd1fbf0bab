/**
 * Test helper: a strict parser of the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format),
 * written from the spec and not from core/run/metrics.ts, so tests read the
 * metrics as a scraper would. Throws on anything the format does not allow,
 * and on a HELP or TYPE line given twice for a metric, a sample before its
 * TYPE, or a family whose samples are not together.
 */

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromText {
  help: Map<string, string>;
  type: Map<string, string>;
  /** Metric names in the order their TYPE lines came. */
  order: string[];
  samples: PromSample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const COMMENT = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`);
const SAMPLE = new RegExp(`^(${NAME})(\\{.*\\})? (\\S+)( -?\\d+)?$`);

function unescape(s: string, quote: boolean): string {
  return s.replace(/\\(.)/g, (all, c: string) => {
    if (c === "\\") return "\\";
    if (c === "n") return "\n";
    if (c === '"' && quote) return '"';
    return all;
  });
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"(,|$)/y;
  let i = 0;
  while (i < text.length) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (m === null) throw new Error(`bad labels at ${i} in: ${line}`);
    if (m[1] in labels) throw new Error(`label ${m[1]} twice in: ${line}`);
    labels[m[1]] = unescape(m[2], true);
    i = re.lastIndex;
  }
  return labels;
}

function parseValue(s: string, line: string): number {
  if (s === "NaN") return NaN;
  if (s === "+Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`bad value in: ${line}`);
  return Number(s);
}

export function parsePromText(text: string): PromText {
  if (text !== "" && !text.endsWith("\n")) {
    throw new Error("exposition text must end in a line feed");
  }
  const out: PromText = { help: new Map(), type: new Map(), order: [], samples: [] };
  const closed = new Set<string>();
  let current: string | null = null;
  for (const line of text.split("\n").slice(0, -1)) {
    if (line.startsWith("#")) {
      const m = COMMENT.exec(line);
      if (m === null) continue; // other comments are allowed
      const [, kind, name, rest] = m;
      const map = kind === "HELP" ? out.help : out.type;
      if (map.has(name)) throw new Error(`${kind} for ${name} given twice`);
      if (kind === "TYPE") {
        if (!/^(counter|gauge|histogram|summary|untyped)$/.test(rest)) {
          throw new Error(`bad type in: ${line}`);
        }
        if (out.samples.some((s) => s.name === name)) {
          throw new Error(`TYPE for ${name} after its samples`);
        }
        out.order.push(name);
      }
      map.set(name, kind === "HELP" ? unescape(rest, false) : rest);
      continue;
    }
    if (line.trim() === "") continue;
    const m = SAMPLE.exec(line);
    if (m === null) throw new Error(`not a sample line: ${line}`);
    const name = m[1];
    if (!out.type.has(name)) throw new Error(`sample before the TYPE of ${name}: ${line}`);
    if (name !== current) {
      if (closed.has(name)) throw new Error(`samples of ${name} are not together`);
      if (current !== null) closed.add(current);
      current = name;
    }
    const labels = m[2] === undefined ? {} : parseLabels(m[2].slice(1, -1), line);
    out.samples.push({ name, labels, value: parseValue(m[3], line) });
  }
  return out;
}

/** The value of the one sample of `name` whose labels include `labels`; throws unless exactly one. */
export function promValue(
  p: PromText,
  name: string,
  labels: Record<string, string> = {},
): number {
  const found = p.samples.filter((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
  if (found.length !== 1) {
    throw new Error(
      `${found.length} samples of ${name}${JSON.stringify(labels)}; have: ${
        p.samples.filter((s) => s.name === name).map((s) => JSON.stringify(s.labels)).join(" ")
      }`,
    );
  }
  return found[0].value;
}
