/**
 * Logging: one line per event, as text (`level msg key=value`) or JSON
 * (`--log-format json`), written through a sink the platform provides
 * (stderr in main.ts). Values pass through `redact` so a field named like a
 * secret never reaches a log.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
const SECRET_FIELD = /secret|password|credential|token|key_?material|access_?key|master/i;

function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in fields) out[k] = SECRET_FIELD.test(k) ? "[redacted]" : fields[k];
  return out;
}

export function createLogger(
  sink: (line: string) => void,
  opts: { format?: "text" | "json"; level?: LogLevel; now?: () => Date } = {},
): Logger {
  const min = RANK[opts.level ?? "info"];
  const now = opts.now ?? (() => new Date());
  const line = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}) => {
    if (RANK[level] < min) return;
    const f = redact(fields);
    if (opts.format === "json") {
      sink(JSON.stringify({ ts: now().toISOString(), level, msg, ...f }));
    } else {
      let s = `${now().toISOString()} ${level.padEnd(5)} ${msg}`;
      for (const k in f) {
        const v = f[k];
        const text = typeof v === "string" ? v : JSON.stringify(v);
        s += ` ${k}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
      }
      sink(s);
    }
  };
  return {
    debug: (m, f) => line("debug", m, f),
    info: (m, f) => line("info", m, f),
    warn: (m, f) => line("warn", m, f),
    error: (m, f) => line("error", m, f),
  };
}

/** A logger that drops everything (tests, library use). */
export const silentLogger: Logger = createLogger(() => {}, { level: "error" });
