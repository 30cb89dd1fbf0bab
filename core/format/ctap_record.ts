/**
 * The decoded shapes of CTAP v1 records (shared/spec/ctap-v1.md §2), shared
 * by the decoder, the encoder, `stitcher pack` and the stitcher.
 *
 * Times are exact (seconds, nanoseconds) pairs: see core/bytes/nanos.ts.
 * Byte offsets and counts are numbers; a u64 above 2^53 makes the record
 * malformed. Flow ids are `FlowKey`s (see `flowKey`).
 * `payload`/`data`/IP views point into the decoder's input chunks and stay
 * valid for as long as the record is held.
 */

export const REC_FLOW_OPEN = 1;
export const REC_DATA = 2;
export const REC_FLOW_CLOSE = 3;
export const REC_PACKET = 4;
export const REC_END = 127;

export const CLOSE_FIN = 1;
export const CLOSE_RST = 2;
export const CLOSE_TIMEOUT = 3;

/** Header TLV tags (§2 Header). */
export const HDR_ORIGIN = 1;
export const HDR_WRITER = 2;
export const HDR_START = 3;
export const HDR_END = 4;

/** FLOW_OPEN metadata TLV tags. */
export const META_USER = 1;
export const META_SITE = 2;
export const META_SERVER_NAME = 3;

/** Largest record body the spec allows (16 MiB). */
export const MAX_BODY = 16 * 1024 * 1024;

/**
 * A u64 flow id as a Map key: a number when it is exact (< 2^53), else a
 * 16-digit hex string. Equal ids always give equal keys.
 */
export type FlowKey = number | string;

export function flowKey(lo: number, hi: number): FlowKey {
  if (hi < 0x200000) return hi * 4294967296 + lo;
  return hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");
}

/** The [lo, hi] halves of a FlowKey, for encoding. */
export function flowKeyParts(key: FlowKey): [number, number] {
  if (typeof key === "number") return [key % 4294967296, Math.floor(key / 4294967296)];
  return [parseInt(key.slice(8), 16), parseInt(key.slice(0, 8), 16)];
}

export interface CtapHeader {
  version: number;
  flags: number;
  origin: string;
  writer: string;
  startSec: number;
  startNsec: number;
  endSec: number;
  endNsec: number;
}

export interface FlowOpenRecord {
  type: typeof REC_FLOW_OPEN;
  flow: FlowKey;
  sec: number;
  nsec: number;
  ipVersion: 4 | 6;
  ipProto: number;
  clientPort: number;
  serverPort: number;
  clientIp: Uint8Array;
  serverIp: Uint8Array;
  user: string;
  site: string;
  serverName: string;
}

export interface DataRecord {
  type: typeof REC_DATA;
  flow: FlowKey;
  sec: number;
  nsec: number;
  /** 0 client to server, 1 server to client. */
  dir: 0 | 1;
  offset: number;
  payload: Uint8Array;
}

export interface FlowCloseRecord {
  type: typeof REC_FLOW_CLOSE;
  flow: FlowKey;
  sec: number;
  nsec: number;
  dir: 0 | 1;
  kind: number;
  finalOffset: number;
}

export interface PacketRecord {
  type: typeof REC_PACKET;
  sec: number;
  nsec: number;
  linkType: number;
  origLen: number;
  data: Uint8Array;
}

export interface EndRecord {
  type: typeof REC_END;
  recordCount: number;
  payloadBytes: number;
}

export type CtapRecord =
  | FlowOpenRecord
  | DataRecord
  | FlowCloseRecord
  | PacketRecord
  | EndRecord;

/** Something wrong in an object: counted and reported, never fatal. */
export interface DecodeProblem {
  /** Short machine-readable reason, e.g. `bad_crc`, `truncated`, `bad_magic`. */
  kind: string;
  /** Byte offset in the (decompressed) object. */
  offset: number;
  /** What and which value, e.g. `record type 2 CRC 0x1234abcd != 0xdeadbeef`. */
  detail: string;
}
