/**
 * The TLS key store: secrets from NSS key logs (shared/spec/ctap-v1.md §3),
 * grouped per session by client random.
 *
 * ```
 * key log label                      SessionKeys field
 * CLIENT_RANDOM                      masterSecret     (TLS <= 1.2, RFC 5246 §8.1)
 * CLIENT_EARLY_TRAFFIC_SECRET        clientEarly      (TLS 1.3, RFC 8446 §7.1)
 * CLIENT_HANDSHAKE_TRAFFIC_SECRET    clientHandshake
 * SERVER_HANDSHAKE_TRAFFIC_SECRET    serverHandshake
 * CLIENT_TRAFFIC_SECRET_0            clientTraffic0
 * SERVER_TRAFFIC_SECRET_0            serverTraffic0
 * EXPORTER_SECRET                    exporter
 * EARLY_EXPORTER_SECRET              earlyExporter
 * ```
 *
 * Other labels (e.g. OpenSSL's CLIENT_TRAFFIC_SECRET_1, which the session
 * derives itself) are counted and dropped. Memory is bounded by `maxEntries`
 * sessions; the oldest (first stored) session is evicted first. Plain data:
 * nothing here logs, and no message carries a secret.
 */
import { toHex } from "../bytes/hex.ts";
import { KEYLOG_LABELS, parseKeyLog } from "../format/keylog.ts";

export interface SessionKeys {
  masterSecret?: Uint8Array;
  clientEarly?: Uint8Array;
  clientHandshake?: Uint8Array;
  serverHandshake?: Uint8Array;
  clientTraffic0?: Uint8Array;
  serverTraffic0?: Uint8Array;
  exporter?: Uint8Array;
  earlyExporter?: Uint8Array;
}

/** Key log label → SessionKeys field. */
export const KEY_FIELDS: ReadonlyMap<string, keyof SessionKeys> = new Map(
  [
    ["CLIENT_RANDOM", "masterSecret"],
    ["CLIENT_EARLY_TRAFFIC_SECRET", "clientEarly"],
    ["CLIENT_HANDSHAKE_TRAFFIC_SECRET", "clientHandshake"],
    ["SERVER_HANDSHAKE_TRAFFIC_SECRET", "serverHandshake"],
    ["CLIENT_TRAFFIC_SECRET_0", "clientTraffic0"],
    ["SERVER_TRAFFIC_SECRET_0", "serverTraffic0"],
    ["EXPORTER_SECRET", "exporter"],
    ["EARLY_EXPORTER_SECRET", "earlyExporter"],
  ] as const,
);

/** The key log lines of one session's keys, in the table's order. */
export function sessionSecrets(
  clientRandom: Uint8Array,
  keys: SessionKeys,
): { label: string; clientRandom: Uint8Array; secret: Uint8Array }[] {
  const out: { label: string; clientRandom: Uint8Array; secret: Uint8Array }[] = [];
  for (const [label, field] of KEY_FIELDS) {
    const secret = keys[field];
    if (secret !== undefined) out.push({ label, clientRandom, secret });
  }
  return out;
}

export interface KeyStoreStats {
  /** Entries stored (a repeated entry counts again). */
  entries: number;
  /** Lines that are not key log entries, and add() calls with a bad client random or secret size. */
  malformed: number;
  /** Entries with a label this store does not keep. */
  unknownLabels: number;
  /** Sessions dropped to stay within maxEntries. */
  evictions: number;
}

export const DEFAULT_MAX_KEY_ENTRIES = 1_000_000;

export class KeyStore {
  readonly stats: KeyStoreStats = { entries: 0, malformed: 0, unknownLabels: 0, evictions: 0 };
  readonly maxEntries: number;
  private readonly sessions = new Map<string, SessionKeys>();

  constructor(opts: { maxEntries?: number } = {}) {
    const max = opts.maxEntries ?? DEFAULT_MAX_KEY_ENTRIES;
    if (!(Number.isInteger(max) && max >= 1)) {
      throw new RangeError(`KeyStore: maxEntries ${max} is not a positive integer`);
    }
    this.maxEntries = max;
  }

  /** Sessions held. */
  get size(): number {
    return this.sessions.size;
  }

  /** Stores one secret; false when the label is unknown or the entry malformed. */
  add(label: string, clientRandom: Uint8Array, secret: Uint8Array): boolean {
    const field = KEY_FIELDS.get(label);
    if (field === undefined) {
      this.stats.unknownLabels++;
      return false;
    }
    if (clientRandom.length !== 32 || !KEYLOG_LABELS.get(label)!.includes(secret.length)) {
      this.stats.malformed++;
      return false;
    }
    const id = toHex(clientRandom);
    let keys = this.sessions.get(id);
    if (keys === undefined) {
      if (this.sessions.size >= this.maxEntries) {
        const oldest = this.sessions.keys().next().value as string;
        this.sessions.delete(oldest);
        this.stats.evictions++;
      }
      keys = {};
      this.sessions.set(id, keys);
    }
    keys[field] = secret.slice();
    this.stats.entries++;
    return true;
  }

  /** Parses key log text and stores its entries; malformed lines are counted. */
  addText(text: string): void {
    parseKeyLog(
      text,
      (e) => this.add(e.label, e.clientRandom, e.secret),
      () => this.stats.malformed++,
    );
  }

  /** The secrets known for a client random, or null. The object is shared: do not modify it. */
  lookup(clientRandom: Uint8Array): SessionKeys | null {
    if (clientRandom.length !== 32) return null;
    return this.sessions.get(toHex(clientRandom)) ?? null;
  }
}
