/**
 * NSS key log text (the `SSLKEYLOGFILE` format; shared/spec/ctap-v1.md §3):
 * a whole-text parser, a streaming decoder over byte chunks, and the writer.
 *
 * ```
 * line    = label SP client_random_hex SP secret_hex [CR] LF
 *         | "#" comment | blank
 * label   CLIENT_RANDOM                                   secret 48 bytes (TLS <= 1.2 master secret)
 *         CLIENT_HANDSHAKE_TRAFFIC_SECRET, SERVER_HANDSHAKE_TRAFFIC_SECRET,
 *         CLIENT_TRAFFIC_SECRET_0, SERVER_TRAFFIC_SECRET_0, EXPORTER_SECRET,
 *         CLIENT_EARLY_TRAFFIC_SECRET, EARLY_EXPORTER_SECRET   secret 32 or 48 bytes (TLS 1.3)
 * client_random  32 bytes, as 64 hex digits (either case)
 * ```
 *
 * Fields may be separated by any run of spaces or tabs; a UTF-8 BOM before
 * the first line is ignored. A line with another label of the same shape
 * (e.g. OpenSSL's `CLIENT_TRAFFIC_SECRET_1`) is delivered and counted as
 * unknown; its secret may be 1..128 bytes. Anything else is a malformed line:
 * counted and reported, never thrown.
 *
 * Secrets must never reach logs: a problem names the line number and, when
 * the first field has the shape of a label (capitals, digits and at least one
 * underscore, which no hex string has), that label; never any hex field.
 */
import { fromHex, toHex } from "../bytes/hex.ts";
import type { DecodeProblem } from "./ctap_record.ts";
import { concatBytes } from "../bytes/concat.ts";

export interface KeyLogEntry {
  label: string;
  /** 32 bytes. */
  clientRandom: Uint8Array;
  secret: Uint8Array;
}

export type KeyLogProblem = DecodeProblem & { line: number };

export interface KeyLogStats {
  /** Entries delivered, unknown labels included. */
  entries: number;
  malformed: number;
  unknownLabels: number;
}

/** Known labels and the secret sizes each may have. */
export const KEYLOG_LABELS: ReadonlyMap<string, readonly number[]> = new Map([
  ["CLIENT_RANDOM", [48]],
  ["CLIENT_HANDSHAKE_TRAFFIC_SECRET", [32, 48]],
  ["SERVER_HANDSHAKE_TRAFFIC_SECRET", [32, 48]],
  ["CLIENT_TRAFFIC_SECRET_0", [32, 48]],
  ["SERVER_TRAFFIC_SECRET_0", [32, 48]],
  ["EXPORTER_SECRET", [32, 48]],
  ["CLIENT_EARLY_TRAFFIC_SECRET", [32, 48]],
  ["EARLY_EXPORTER_SECRET", [32, 48]],
]);

/** Longest line the streaming decoder holds; a longer one is malformed. */
export const MAX_KEYLOG_LINE = 64 * 1024;
const MAX_UNKNOWN_SECRET = 128;

const LABEL_RE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/;
const HEX_RE = /^[0-9A-Fa-f]*$/;
const SEP_RE = /[ \t]+/;

/** Parses one line (without its LF); the state shared by both parsers. */
class LineParser {
  readonly stats: KeyLogStats = { entries: 0, malformed: 0, unknownLabels: 0 };

  constructor(
    private readonly onEntry: (e: KeyLogEntry) => void,
    private readonly onProblem: (p: KeyLogProblem) => void,
  ) {}

  malformed(line: number, offset: number, detail: string): void {
    this.stats.malformed++;
    this.onProblem({ kind: "malformed", offset, line, detail: `line ${line}: ${detail}` });
  }

  line(text: string, line: number, offset: number): void {
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    text = text.trim();
    if (text === "" || text[0] === "#") return;
    const f = text.split(SEP_RE);
    const isLabel = LABEL_RE.test(f[0]) && f[0].length <= 64;
    const what = isLabel ? f[0] : `line with a first field of ${f[0].length} characters`;
    if (!isLabel) {
      this.malformed(line, offset, `${what} is not a key log entry`);
      return;
    }
    if (f.length !== 3) {
      this.malformed(line, offset, `${what} has ${f.length} fields, expected 3`);
      return;
    }
    const known = KEYLOG_LABELS.get(f[0]);
    const [, cr, sec] = f;
    if (cr.length !== 64 || !HEX_RE.test(cr)) {
      this.malformed(
        line,
        offset,
        `${what} client random is ${cr.length} characters, expected 64 hex digits`,
      );
      return;
    }
    if (sec.length % 2 !== 0 || !HEX_RE.test(sec)) {
      this.malformed(line, offset, `${what} secret is not hex of even length`);
      return;
    }
    const n = sec.length / 2;
    if (known !== undefined ? !known.includes(n) : n < 1 || n > MAX_UNKNOWN_SECRET) {
      const want = known !== undefined ? known.join(" or ") : `1..${MAX_UNKNOWN_SECRET}`;
      this.malformed(line, offset, `${what} secret is ${n} bytes, expected ${want}`);
      return;
    }
    if (known === undefined) this.stats.unknownLabels++;
    this.stats.entries++;
    this.onEntry({ label: f[0], clientRandom: fromHex(cr), secret: fromHex(sec) });
  }
}

/**
 * Parses a whole key log. Problem offsets are character offsets of the line
 * in `text`.
 */
export function parseKeyLog(
  text: string,
  onEntry: (e: KeyLogEntry) => void,
  onProblem: (p: KeyLogProblem) => void,
): KeyLogStats {
  const p = new LineParser(onEntry, onProblem);
  let start = 0;
  let line = 1;
  while (start < text.length) {
    let nl = text.indexOf("\n", start);
    if (nl < 0) nl = text.length;
    p.line(text.slice(start, nl), line++, start);
    start = nl + 1;
  }
  return p.stats;
}

/**
 * The streaming form of `parseKeyLog` over UTF-8 byte chunks: holds at most
 * one incomplete line (up to `MAX_KEYLOG_LINE` bytes). Problem offsets are
 * byte offsets in the object.
 */
export class KeyLogDecoder {
  private readonly p: LineParser;
  private readonly utf8 = new TextDecoder();
  private parts: Uint8Array[] = [];
  private partLen = 0;
  private overlong = false;
  private line = 1;
  private lineStart = 0;
  private base = 0;

  constructor(onEntry: (e: KeyLogEntry) => void, onProblem: (p: KeyLogProblem) => void) {
    this.p = new LineParser(onEntry, onProblem);
  }

  get stats(): KeyLogStats {
    return this.p.stats;
  }

  push(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(10, pos);
      if (nl < 0) {
        this.hold(chunk.subarray(pos));
        break;
      }
      if (this.partLen === 0 && !this.overlong && nl - pos <= MAX_KEYLOG_LINE) {
        this.p.line(this.utf8.decode(chunk.subarray(pos, nl)), this.line++, this.lineStart);
      } else {
        this.hold(chunk.subarray(pos, nl));
        this.endLine();
      }
      pos = nl + 1;
      this.lineStart = this.base + pos;
    }
    this.base += chunk.length;
  }

  finish(): KeyLogStats {
    if (this.partLen > 0 || this.overlong) this.endLine();
    return this.p.stats;
  }

  private hold(bytes: Uint8Array): void {
    if (this.overlong || bytes.length === 0) return;
    if (this.partLen + bytes.length > MAX_KEYLOG_LINE) {
      this.overlong = true;
      this.parts = [];
      this.partLen = 0;
      return;
    }
    this.parts.push(bytes.slice());
    this.partLen += bytes.length;
  }

  private endLine(): void {
    const line = this.line++;
    if (this.overlong) {
      this.overlong = false;
      this.p.malformed(line, this.lineStart, `line longer than ${MAX_KEYLOG_LINE} bytes`);
      return;
    }
    let bytes: Uint8Array;
    if (this.parts.length === 1) bytes = this.parts[0];
    else bytes = concatBytes(this.parts);
    this.parts = [];
    this.partLen = 0;
    this.p.line(this.utf8.decode(bytes), line, this.lineStart);
  }
}

/** One key log line, without its line feed. */
export function formatKeyLogLine(e: KeyLogEntry): string {
  return `${e.label} ${toHex(e.clientRandom)} ${toHex(e.secret)}`;
}
