/**
 * The contracts between the engine and everything platform-bound: sources
 * (object stores), sinks (where `stitcher pack` writes) and exporters (where
 * packets go). Built-in and third-party plugins implement these; `main.ts`
 * wires them. DESIGN §3.
 */

/** One object in a bucket; `key` is bucket-relative (prefix included). */
export interface ObjectInfo {
  key: string;
  size: number;
  /** Last-modified time, Unix milliseconds, when the store reports it. */
  mtimeMs?: number;
}

export interface Source {
  /** Lists objects under `prefix` in key order, after `startAfter` when given. */
  list(
    prefix: string,
    opts?: { startAfter?: string; signal?: AbortSignal },
  ): AsyncIterable<ObjectInfo>;
  /**
   * Lists the immediate sub-folders of `prefix` ("delimiter" listing), each as
   * a full prefix ending in "/". Optional: without it, origin and time
   * pruning fall back to filtering a full listing. (An addition to DESIGN §3:
   * pruning by origin before listing hours needs the origins first.)
   */
  listFolders?(prefix: string, opts?: { signal?: AbortSignal }): AsyncIterable<string>;
  /**
   * Streams one object's bytes (still compressed if its key ends in `.gz`),
   * from byte `start` on when given (a ranged read, to resume a download).
   */
  open(
    key: string,
    opts?: { signal?: AbortSignal; start?: number },
  ): Promise<ReadableStream<Uint8Array>>;
}

/** Why a source call failed; `retryable` says whether trying again can help. */
export type SourceErrorKind =
  | "auth"
  | "no_bucket"
  | "not_found"
  | "throttled"
  | "server"
  | "network"
  | "timeout"
  | "other";

/**
 * The error sources throw. Messages name the provider, bucket and key, never
 * a credential.
 */
export class SourceError extends Error {
  constructor(
    message: string,
    readonly kind: SourceErrorKind,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SourceError";
  }
}

/** Where `stitcher pack` writes objects. */
export interface Sink {
  put(key: string, body: Uint8Array): Promise<void>;
}

/** Flow metadata carried by every synthesized packet (null for passed-through PACKET records). */
export interface FlowMeta {
  origin: string;
  /** Flow id as the CTAP flow key (see `flowKey` in core/format/ctap.ts). */
  flow: number | string;
  user: string;
  site: string;
  serverName: string;
  decrypted: boolean;
}

/**
 * One outgoing packet. Exporters receive these in batches, in time order.
 *
 * Lifetime: the engine reuses both the `OutPacket` objects and the arena that
 * `data` points into once `write()` has returned (or its promise resolved).
 * An exporter that keeps a packet longer copies `data.subarray(offset,
 * offset + length)`. This is what lets the hot path run without a per-packet
 * allocation.
 */
export interface OutPacket {
  /** The arena holding the frame; the frame is `data[offset, offset + length)`. */
  data: Uint8Array;
  offset: number;
  length: number;
  /** Length on the wire (>= length when the capture was truncated). */
  origLength: number;
  /** Capture time, exact: seconds and nanoseconds since the Unix epoch. */
  tsSec: number;
  tsNsec: number;
  /** pcap link type of the frame: 1 Ethernet, 101 raw IP. */
  linkType: number;
  meta: FlowMeta | null;
}

/** A TLS session secret, handed to exporters in transparent mode. */
export interface SessionSecret {
  /** NSS key log label, e.g. `CLIENT_RANDOM`, `CLIENT_TRAFFIC_SECRET_0`. */
  label: string;
  clientRandom: Uint8Array;
  secret: Uint8Array;
}

export interface Exporter {
  /**
   * Bytes the exporter's transport adds around each frame (VXLAN: 50). The
   * synthesizer cuts TCP segments so that frame + overhead fits `--mtu`.
   */
  readonly overhead?: number;
  /** Receives packets in time order; backpressure by returning a promise. */
  write(batch: readonly OutPacket[]): void | Promise<void>;
  /** Transparent mode: secrets, delivered before the first packet they decrypt. */
  secrets?(batch: readonly SessionSecret[]): void | Promise<void>;
  flush(): Promise<void>;
  /** write() is never called after close(). */
  close(): Promise<void>;
}

/** A flag a plugin adds to the command line (shown in --help under its name). */
export interface PluginFlag {
  name: string;
  short?: string;
  type: "string" | "boolean";
  multiple?: boolean;
  valueName?: string;
  help: string;
}

/** What the engine hands a plugin: no package imports needed inside plugins. */
export interface PluginContext {
  /** Writes one log line (level and message); never pass secrets. */
  log(
    level: "debug" | "info" | "warn" | "error",
    msg: string,
    fields?: Record<string, unknown>,
  ): void;
  /** Opens a file for buffered writing, or stdout for "-". */
  openOutput(path: string): Promise<OutputStream>;
}

/** A byte sink with a position, for file exporters. */
export interface OutputStream {
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export interface ExporterPlugin {
  name: string;
  description: string;
  flags: PluginFlag[];
  /** Returns an Exporter, or null when this plugin's flags are not set. */
  create(
    values: Record<string, string | boolean | string[] | undefined>,
    ctx: PluginContext,
  ): Exporter | null | Promise<Exporter | null>;
}
