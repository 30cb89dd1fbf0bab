/**
 * TCP headers (RFC 9293 §3.1) and their options: MSS (RFC 9293 §3.2), window
 * scale and timestamps (RFC 7323), SACK-permitted and SACK (RFC 2018).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source Port          |       Destination Port        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Sequence Number                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Acknowledgment Number                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Data |       |N|C|E|U|A|P|R|S|F|                               |
 * | Offset| Rsrvd |S|W|C|R|C|S|S|Y|I|            Window             |
 * |       |       | |R|E|G|K|H|T|N|N|                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Checksum            |         Urgent Pointer        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                           [Options]                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Options: kind 0 end, 1 no-op, else kind | length (incl. both) | data:
 * 2 MSS (4), 3 window scale (3), 4 SACK-permitted (2),
 * 5 SACK (2 + 8n: left/right edge pairs), 8 timestamps (10: TSval, TSecr)
 * ```
 *
 * Sequence and acknowledgment numbers are u32 numbers (0..2^32-1). `payload`
 * is a zero-copy `subarray` of the segment: valid as long as its buffer is
 * not reused.
 */
import { type ByteReader, DecodeError } from "../bytes/cursor.ts";
import { foldChecksum, sumWords } from "./checksum.ts";

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;
export const ECE = 0x40;
export const CWR = 0x80;
/** The NS bit (RFC 3540, historic), the low bit of byte 12. */
export const NS = 0x100;

export const TCP_HEADER_LENGTH = 20;

export interface TcpHeader {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Header length in bytes (data offset × 4), 20..60. */
  headerLength: number;
  /** FIN..CWR, plus NS (0x100). */
  flags: number;
  window: number;
  checksum: number;
  urgent: number;
  /** MSS option value, or -1 when absent. */
  mss: number;
  /** Window scale shift count, or -1 when absent. */
  windowScale: number;
  sackPermitted: boolean;
  /** SACK blocks as flat [left0, right0, left1, right1, ...]; empty when absent. */
  sackBlocks: number[];
  hasTimestamps: boolean;
  tsVal: number;
  tsEcr: number;
  /** Absolute offset of the payload. */
  payloadOffset: number;
  payload: Uint8Array;
}

const EMPTY = new Uint8Array(0);

export function newTcpHeader(): TcpHeader {
  return {
    srcPort: 0,
    dstPort: 0,
    seq: 0,
    ack: 0,
    headerLength: 20,
    flags: 0,
    window: 0,
    checksum: 0,
    urgent: 0,
    mss: -1,
    windowScale: -1,
    sackPermitted: false,
    sackBlocks: [],
    hasTimestamps: false,
    tsVal: 0,
    tsEcr: 0,
    payloadOffset: 0,
    payload: EMPTY,
  };
}

/**
 * Decodes the TCP segment at `r.pos` that ends at `end` (the IP payload end),
 * leaving `r.pos` at `end`. Malformed option lengths throw. Fills and
 * returns `out`.
 */
export function decodeTcp(
  r: ByteReader,
  out: TcpHeader = newTcpHeader(),
  end: number = r.end,
): TcpHeader {
  const start = r.pos;
  if (end > r.end) end = r.end;
  if (end - start < 20) {
    throw new DecodeError(`TCP header: ${end - start} bytes < 20 at offset ${start}`, start);
  }
  out.srcPort = r.u16be("TCP source port");
  out.dstPort = r.u16be("TCP destination port");
  out.seq = r.u32be("TCP sequence number");
  out.ack = r.u32be("TCP acknowledgment number");
  const b12 = r.u8("TCP data offset");
  const hl = (b12 >> 4) * 4;
  if (hl < 20) throw new DecodeError(`TCP data offset ${hl} < 20`, start + 12);
  if (hl > end - start) {
    throw new DecodeError(`TCP data offset ${hl} > ${end - start} bytes in segment`, start + 12);
  }
  out.headerLength = hl;
  out.flags = ((b12 & 1) << 8) | r.u8("TCP flags");
  out.window = r.u16be("TCP window");
  out.checksum = r.u16be("TCP checksum");
  out.urgent = r.u16be("TCP urgent pointer");
  out.mss = -1;
  out.windowScale = -1;
  out.sackPermitted = false;
  out.sackBlocks.length = 0;
  out.hasTimestamps = false;
  out.tsVal = 0;
  out.tsEcr = 0;
  const optEnd = start + hl;
  while (r.pos < optEnd) {
    const at = r.pos;
    const kind = r.u8("TCP option kind");
    if (kind === 0) break;
    if (kind === 1) continue;
    if (optEnd - r.pos < 1) {
      throw new DecodeError(`TCP option ${kind} at offset ${at} has no length byte`, at);
    }
    const len = r.u8("TCP option length");
    if (len < 2) throw new DecodeError(`TCP option ${kind} length ${len} < 2`, at + 1);
    if (len > optEnd - at) {
      throw new DecodeError(
        `TCP option ${kind} length ${len} > ${optEnd - at} bytes of options left`,
        at + 1,
      );
    }
    switch (kind) {
      case 2:
        if (len !== 4) throw new DecodeError(`TCP MSS option length ${len} != 4`, at + 1);
        out.mss = r.u16be("TCP MSS");
        break;
      case 3:
        if (len !== 3) throw new DecodeError(`TCP window scale option length ${len} != 3`, at + 1);
        out.windowScale = r.u8("TCP window scale");
        break;
      case 4:
        if (len !== 2) {
          throw new DecodeError(`TCP SACK-permitted option length ${len} != 2`, at + 1);
        }
        out.sackPermitted = true;
        break;
      case 5:
        if ((len - 2) % 8 !== 0 || len === 2) {
          throw new DecodeError(`TCP SACK option length ${len} is not 2 + 8n`, at + 1);
        }
        for (let k = 2; k < len; k += 8) {
          out.sackBlocks.push(r.u32be("TCP SACK left edge"), r.u32be("TCP SACK right edge"));
        }
        break;
      case 8:
        if (len !== 10) throw new DecodeError(`TCP timestamps option length ${len} != 10`, at + 1);
        out.hasTimestamps = true;
        out.tsVal = r.u32be("TCP TSval");
        out.tsEcr = r.u32be("TCP TSecr");
        break;
      default:
        r.skip(len - 2, "TCP option data");
    }
  }
  r.pos = optEnd;
  out.payloadOffset = optEnd;
  out.payload = r.bytes(end - optEnd, "TCP payload");
  return out;
}

/** What `encodeTcpHeader` writes; omitted options are left out. */
export interface TcpFields {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  urgent?: number;
  /** MSS option (SYN segments). */
  mss?: number;
  /** Window scale option shift count (SYN segments). */
  windowScale?: number;
  sackPermitted?: boolean;
  /** Timestamps option, when both are given. */
  tsVal?: number;
  tsEcr?: number;
}

/** The header length `encodeTcpHeader` will write for `f`. */
export function tcpHeaderLength(f: TcpFields): number {
  let n = 0;
  if (f.mss !== undefined) n += 4;
  if (f.windowScale !== undefined) n += 3;
  if (f.sackPermitted) n += 2;
  if (f.tsVal !== undefined && f.tsEcr !== undefined) n += 10;
  return 20 + ((n + 3) & ~3);
}

/**
 * Writes a TCP header (checksum 0; see `fillTcpChecksum`) with the options in
 * `f`, padded with no-ops to a multiple of 4, into `buf` at `off`; returns the
 * offset after it (where the payload goes).
 */
export function encodeTcpHeader(buf: Uint8Array, off: number, f: TcpFields): number {
  const hl = tcpHeaderLength(f);
  if (off < 0 || off + hl > buf.length) {
    throw new RangeError(
      `encodeTcpHeader: ${hl} bytes at ${off} overflow a ${buf.length}-byte buffer`,
    );
  }
  const seq = f.seq >>> 0;
  const ack = f.ack >>> 0;
  const urg = f.urgent ?? 0;
  buf[off] = f.srcPort >>> 8;
  buf[off + 1] = f.srcPort & 0xff;
  buf[off + 2] = f.dstPort >>> 8;
  buf[off + 3] = f.dstPort & 0xff;
  buf[off + 4] = seq >>> 24;
  buf[off + 5] = (seq >>> 16) & 0xff;
  buf[off + 6] = (seq >>> 8) & 0xff;
  buf[off + 7] = seq & 0xff;
  buf[off + 8] = ack >>> 24;
  buf[off + 9] = (ack >>> 16) & 0xff;
  buf[off + 10] = (ack >>> 8) & 0xff;
  buf[off + 11] = ack & 0xff;
  buf[off + 12] = ((hl >> 2) << 4) | ((f.flags >> 8) & 1);
  buf[off + 13] = f.flags & 0xff;
  buf[off + 14] = (f.window >>> 8) & 0xff;
  buf[off + 15] = f.window & 0xff;
  buf[off + 16] = 0;
  buf[off + 17] = 0;
  buf[off + 18] = (urg >>> 8) & 0xff;
  buf[off + 19] = urg & 0xff;
  let p = off + 20;
  if (f.mss !== undefined) {
    buf[p] = 2;
    buf[p + 1] = 4;
    buf[p + 2] = (f.mss >>> 8) & 0xff;
    buf[p + 3] = f.mss & 0xff;
    p += 4;
  }
  if (f.sackPermitted) {
    buf[p] = 4;
    buf[p + 1] = 2;
    p += 2;
  }
  if (f.tsVal !== undefined && f.tsEcr !== undefined) {
    const v = f.tsVal >>> 0;
    const e = f.tsEcr >>> 0;
    buf[p] = 8;
    buf[p + 1] = 10;
    buf[p + 2] = v >>> 24;
    buf[p + 3] = (v >>> 16) & 0xff;
    buf[p + 4] = (v >>> 8) & 0xff;
    buf[p + 5] = v & 0xff;
    buf[p + 6] = e >>> 24;
    buf[p + 7] = (e >>> 16) & 0xff;
    buf[p + 8] = (e >>> 8) & 0xff;
    buf[p + 9] = e & 0xff;
    p += 10;
  }
  if (f.windowScale !== undefined) {
    buf[p] = 3;
    buf[p + 1] = 3;
    buf[p + 2] = f.windowScale;
    p += 3;
  }
  while (p < off + hl) buf[p++] = 1;
  return p;
}

/**
 * Computes and stores the checksum of the TCP segment `buf[off, end)` given
 * the pseudo-header partial sum (`pseudoHeaderSumV4/V6(src, dst, 6, end - off)`).
 * Returns the checksum.
 */
export function fillTcpChecksum(
  buf: Uint8Array,
  off: number,
  end: number,
  pseudoSum: number,
): number {
  buf[off + 16] = 0;
  buf[off + 17] = 0;
  const ck = foldChecksum(sumWords(buf, off, end, pseudoSum));
  buf[off + 16] = ck >>> 8;
  buf[off + 17] = ck & 0xff;
  return ck;
}
