/**
 * Object keys of a capture bucket (shared/spec/ctap-v1.md §1, §4): parsing,
 * formatting, and the listing prefixes that prune a run by time and origin.
 *
 * ```
 * [prefix/]data/<origin>/<YYYY>/<MM>/<DD>/<HH>/<start>-<end>-<writer>-<seq>.ctap[.gz]
 * [prefix/]keys/<origin>/<YYYY>/<MM>/<DD>/<HH>/<start>-<end>-<writer>-<seq>.keys[.gz]
 *   origin  [A-Za-z0-9._-]{1,64}, not "." or ".." (they would climb a local folder)
 *   HH      the UTC hour that contains start
 *   start, end  Unix ms, 13 digits, start <= end; records have start <= t < end
 *   writer  [a-z0-9]{1,16}      seq  10 digits
 * ```
 *
 * A non-empty `prefix` is used as a folder: `"cap"` and `"cap/"` both mean
 * keys under `cap/`.
 *
 * Window rule. A run selects the records with S <= t < E. An object lives in
 * the hour folder of its start but holds records up to its end, so one that
 * started in the hour before S can still hold records at or after S. Objects
 * are assumed to span at most `lookbackMs` (one hour by default; writers roll
 * far sooner). The folders listed are therefore the hours from
 * floor_hour(S - lookbackMs) to floor_hour(E - 1), and the caller keeps the
 * objects whose [startMs, endMs) overlaps [S, E) (`overlapsWindow`).
 * `hourPrefixes` covers those hours exactly with the fewest prefixes: a run
 * of hours that fills a whole UTC day, month or year is listed as that
 * day's, month's or year's folder, so a long window costs a few dozen LIST
 * calls, not one per hour.
 */

export type ObjectKind = "data" | "keys";

export interface ObjectKey {
  kind: ObjectKind;
  origin: string;
  year: number;
  month: number;
  day: number;
  hour: number;
  startMs: number;
  endMs: number;
  writer: string;
  seq: number;
  gz: boolean;
  ext: "ctap" | "keys";
}

export interface ObjectKeyFields {
  kind: ObjectKind;
  origin: string;
  startMs: number;
  endMs: number;
  writer: string;
  seq: number;
  gz?: boolean;
}

export const HOUR_MS = 3_600_000;

const ORIGIN_RE = /^[A-Za-z0-9._-]{1,64}$/;
const WRITER_RE = /^[a-z0-9]{1,16}$/;
const KEY_RE =
  /^(data|keys)\/([A-Za-z0-9._-]{1,64})\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/(\d{13})-(\d{13})-([a-z0-9]{1,16})-(\d{10})\.(ctap|keys)(\.gz)?$/;
const MAX_MS = 9_999_999_999_999;

/** `prefix` as a folder: "" stays "", anything else ends in exactly one "/". */
export function normalizePrefix(prefix: string): string {
  if (prefix === "") return "";
  return prefix.endsWith("/") ? prefix : prefix + "/";
}

export function isValidOrigin(origin: string): boolean {
  return ORIGIN_RE.test(origin) && origin !== "." && origin !== "..";
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/** `base + "YYYY/MM/DD/HH/"` for the UTC hour containing `ms`. */
export function hourFolder(base: string, ms: number): string {
  const d = new Date(ms);
  return `${base}${pad(d.getUTCFullYear(), 4)}/${pad(d.getUTCMonth() + 1, 2)}/` +
    `${pad(d.getUTCDate(), 2)}/${pad(d.getUTCHours(), 2)}/`;
}

/** The parts of `key`, or null when it does not follow the §1 layout. */
export function parseObjectKey(key: string, prefix = ""): ObjectKey | null {
  const p = normalizePrefix(prefix);
  if (!key.startsWith(p)) return null;
  const m = KEY_RE.exec(key.slice(p.length));
  if (m === null) return null;
  const kind = m[1] as ObjectKind;
  const ext = m[11] as "ctap" | "keys";
  if ((kind === "data") !== (ext === "ctap")) return null;
  const origin = m[2];
  if (origin === "." || origin === "..") return null;
  const startMs = Number(m[7]);
  const endMs = Number(m[8]);
  if (startMs > endMs) return null;
  const year = Number(m[3]), month = Number(m[4]), day = Number(m[5]), hour = Number(m[6]);
  const s = new Date(startMs);
  if (
    s.getUTCFullYear() !== year || s.getUTCMonth() + 1 !== month || s.getUTCDate() !== day ||
    s.getUTCHours() !== hour
  ) return null;
  return {
    kind,
    origin,
    year,
    month,
    day,
    hour,
    startMs,
    endMs,
    writer: m[9],
    seq: Number(m[10]),
    gz: m[12] !== undefined,
    ext,
  };
}

/** The key for `k`; throws a RangeError on a field the layout cannot hold. */
export function formatObjectKey(k: ObjectKeyFields, prefix = ""): string {
  if (!isValidOrigin(k.origin)) throw new RangeError(`bad origin ${JSON.stringify(k.origin)}`);
  if (!WRITER_RE.test(k.writer)) throw new RangeError(`bad writer ${JSON.stringify(k.writer)}`);
  for (const [name, v] of [["startMs", k.startMs], ["endMs", k.endMs]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > MAX_MS) throw new RangeError(`bad ${name} ${v}`);
  }
  if (k.startMs > k.endMs) throw new RangeError(`startMs ${k.startMs} > endMs ${k.endMs}`);
  if (!Number.isInteger(k.seq) || k.seq < 0 || k.seq > 9_999_999_999) {
    throw new RangeError(`bad seq ${k.seq}`);
  }
  const base = `${normalizePrefix(prefix)}${k.kind}/${k.origin}/`;
  const ext = k.kind === "data" ? ".ctap" : ".keys";
  return `${hourFolder(base, k.startMs)}${pad(k.startMs, 13)}-${pad(k.endMs, 13)}-${k.writer}-` +
    `${pad(k.seq, 10)}${ext}${k.gz ? ".gz" : ""}`;
}

/** Whether an object's records [startMs, endMs) can fall in the window [S, E); null is open. */
export function overlapsWindow(
  k: { startMs: number; endMs: number },
  startMs: number | null,
  endMs: number | null,
): boolean {
  return (startMs === null || k.endMs > startMs) && (endMs === null || k.startMs < endMs);
}

/** A raw capture archive (§4): `.pcap` or `.pcapng`, optionally `.gz`. */
export function isCaptureArchiveKey(key: string): boolean {
  return /\.pcap(ng)?(\.gz)?$/i.test(key);
}

/** A key log object (§4): `*.keys`, `*.keylog` or `*.txt`, optionally `.gz`, under `keys/`. */
export function isKeylogKey(key: string, prefix = ""): boolean {
  const p = normalizePrefix(prefix) + "keys/";
  return key.startsWith(p) && /\.(keys|keylog|txt)(\.gz)?$/i.test(key);
}

function floorHour(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

/**
 * Prefixes under `base` (which ends in "/") that cover exactly the UTC hour
 * folders from floor_hour(startMs) to floor_hour(endMs - 1), coarsened to day,
 * month and year folders where whole ones fit. Empty when endMs <= startMs.
 */
export function hourPrefixes(base: string, startMs: number, endMs: number): string[] {
  const out: string[] = [];
  if (!(endMs > startMs)) return out;
  let t = floorHour(startMs);
  const stop = floorHour(endMs - 1) + HOUR_MS; // first hour not wanted
  while (t < stop) {
    const d = new Date(t);
    const y = d.getUTCFullYear(), mo = d.getUTCMonth(), day = d.getUTCDate();
    const yyyy = pad(y, 4), mm = pad(mo + 1, 2), dd = pad(day, 2);
    if (d.getUTCHours() === 0) {
      if (day === 1) {
        if (mo === 0) {
          const next = Date.UTC(y + 1, 0, 1);
          if (next <= stop) {
            out.push(`${base}${yyyy}/`);
            t = next;
            continue;
          }
        }
        const next = Date.UTC(y, mo + 1, 1);
        if (next <= stop) {
          out.push(`${base}${yyyy}/${mm}/`);
          t = next;
          continue;
        }
      }
      const next = Date.UTC(y, mo, day + 1);
      if (next <= stop) {
        out.push(`${base}${yyyy}/${mm}/${dd}/`);
        t = next;
        continue;
      }
    }
    out.push(`${base}${yyyy}/${mm}/${dd}/${pad(d.getUTCHours(), 2)}/`);
    t += HOUR_MS;
  }
  return out;
}

/**
 * The prefixes to list for `kind` objects in the window [startMs, endMs)
 * (module doc: Window rule). With `origins` null the origins are not known
 * yet: the answer is the `kind/` folder itself, to be listed with a "/"
 * delimiter to discover them (then call again with the matching ones). An
 * open bound (null) gives each origin's whole folder.
 */
export function listingPrefixes(
  kind: ObjectKind,
  origins: readonly string[] | null,
  startMs: number | null,
  endMs: number | null,
  prefix = "",
  lookbackMs = HOUR_MS,
): string[] {
  const root = `${normalizePrefix(prefix)}${kind}/`;
  if (origins === null) return [root];
  const out: string[] = [];
  for (const origin of origins) {
    const base = `${root}${origin}/`;
    if (startMs === null || endMs === null) out.push(base);
    else out.push(...hourPrefixes(base, startMs - lookbackMs, endMs));
  }
  return out;
}

/**
 * A shell-style glob as an anchored RegExp: `*` any run, `?` one character,
 * `[abc]`, `[a-z]`, `[!abc]` or `[^abc]` one of (or none of) a set. Case
 * sensitive. A `[` without its `]` is literal.
 */
export function globToRegExp(glob: string): RegExp {
  let re = "^";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      let j = i + 1;
      if (glob[j] === "!" || glob[j] === "^") j++;
      if (glob[j] === "]") j++;
      while (j < glob.length && glob[j] !== "]") j++;
      if (j >= glob.length) {
        re += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, j);
      let neg = "";
      if (body[0] === "!" || body[0] === "^") {
        neg = "^";
        body = body.slice(1);
      }
      re += "[" + neg + body.replace(/[\\\]\[^]/g, "\\$&") + "]";
      i = j;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(re + "$", "s");
}

const globCache = new Map<string, RegExp>();

/** Whether `name` matches one of `globs` (none: false). */
export function matchesAnyGlob(name: string, globs: readonly string[]): boolean {
  for (const g of globs) {
    let re = globCache.get(g);
    if (re === undefined) {
      re = globToRegExp(g);
      if (globCache.size > 1000) globCache.clear();
      globCache.set(g, re);
    }
    if (re.test(name)) return true;
  }
  return false;
}
