/**
 * IPv4 headers (RFC 791 §3.1; DSCP/ECN per RFC 2474 and RFC 3168).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |   DSCP    |ECN|          Total Length         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Identification        |Flags|      Fragment Offset    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       Source Address                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Destination Address                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Options                    |    Padding    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Flags: bit 0 reserved, bit 1 DF (don't fragment), bit 2 MF (more fragments)
 * ```
 *
 * Views (`src`, `dst`, `options`) are zero-copy `subarray`s of the packet:
 * valid as long as its buffer is not reused.
 */
import { type ByteReader, DecodeError } from "../bytes/cursor.ts";
import { internetChecksum } from "./checksum.ts";

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export interface Ipv4Header {
  /** Always 4. */
  version: number;
  /** Header length in bytes (IHL × 4), 20..60. */
  headerLength: number;
  dscp: number;
  ecn: number;
  totalLength: number;
  id: number;
  df: boolean;
  mf: boolean;
  /** Fragment offset in 8-byte units, as on the wire. */
  fragmentOffset: number;
  ttl: number;
  protocol: number;
  checksum: number;
  src: Uint8Array;
  dst: Uint8Array;
  /** The options bytes (empty when IHL is 5). */
  options: Uint8Array;
  /** MF set or a non-zero fragment offset. */
  isFragment: boolean;
  /** Absolute offset of the payload (after the options). */
  payloadOffset: number;
  /** Absolute end of the payload: start + total length (link padding excluded). */
  payloadEnd: number;
}

const EMPTY = new Uint8Array(0);

export function newIpv4Header(): Ipv4Header {
  return {
    version: 4,
    headerLength: 20,
    dscp: 0,
    ecn: 0,
    totalLength: 0,
    id: 0,
    df: false,
    mf: false,
    fragmentOffset: 0,
    ttl: 0,
    protocol: 0,
    checksum: 0,
    src: EMPTY,
    dst: EMPTY,
    options: EMPTY,
    isFragment: false,
    payloadOffset: 0,
    payloadEnd: 0,
  };
}

/**
 * Decodes the IPv4 header at `r.pos` of a packet that ends at `end`, leaving
 * `r.pos` at the payload. The checksum is not verified (see
 * `ipv4HeaderChecksumOk`). Fills and returns `out`.
 */
export function decodeIpv4(
  r: ByteReader,
  out: Ipv4Header = newIpv4Header(),
  end: number = r.end,
): Ipv4Header {
  const start = r.pos;
  if (end > r.end) end = r.end;
  if (end - start < 20) {
    throw new DecodeError(`IPv4 header: ${end - start} bytes < 20 at offset ${start}`, start);
  }
  const b0 = r.u8("IPv4 version/IHL");
  if (b0 >> 4 !== 4) throw new DecodeError(`IPv4 version ${b0 >> 4} != 4`, start);
  const hl = (b0 & 0x0f) * 4;
  if (hl < 20) throw new DecodeError(`IPv4 header length ${hl} < 20`, start);
  const tos = r.u8("IPv4 DSCP/ECN");
  const total = r.u16be("IPv4 total length");
  if (total < hl) {
    throw new DecodeError(`IPv4 total length ${total} < header length ${hl}`, start + 2);
  }
  if (total > end - start) {
    throw new DecodeError(
      `IPv4 total length ${total} > ${end - start} bytes available`,
      start + 2,
    );
  }
  out.version = 4;
  out.headerLength = hl;
  out.dscp = tos >> 2;
  out.ecn = tos & 3;
  out.totalLength = total;
  out.id = r.u16be("IPv4 identification");
  const frag = r.u16be("IPv4 flags/fragment offset");
  out.df = (frag & 0x4000) !== 0;
  out.mf = (frag & 0x2000) !== 0;
  out.fragmentOffset = frag & 0x1fff;
  out.isFragment = out.mf || out.fragmentOffset !== 0;
  out.ttl = r.u8("IPv4 TTL");
  out.protocol = r.u8("IPv4 protocol");
  out.checksum = r.u16be("IPv4 header checksum");
  out.src = r.bytes(4, "IPv4 source");
  out.dst = r.bytes(4, "IPv4 destination");
  out.options = hl > 20 ? r.bytes(hl - 20, "IPv4 options") : EMPTY;
  out.payloadOffset = start + hl;
  out.payloadEnd = start + total;
  return out;
}

/** True when the IPv4 header at `buf[off]` carries a correct header checksum. */
export function ipv4HeaderChecksumOk(buf: Uint8Array, off: number, headerLength: number): boolean {
  return internetChecksum(buf, off, off + headerLength) === 0;
}

/** What `encodeIpv4Header` writes; omitted fields are zero/false, TTL 64. */
export interface Ipv4Fields {
  dscp?: number;
  ecn?: number;
  /** Header + payload length in bytes. */
  totalLength: number;
  id?: number;
  df?: boolean;
  mf?: boolean;
  /** In 8-byte units. */
  fragmentOffset?: number;
  ttl?: number;
  protocol: number;
  src: Uint8Array;
  dst: Uint8Array;
  /** Options, a multiple of 4 bytes, at most 40. */
  options?: Uint8Array;
}

/**
 * Writes an IPv4 header with its checksum into `buf` at `off`; returns the
 * offset after it (where the payload goes).
 */
export function encodeIpv4Header(buf: Uint8Array, off: number, f: Ipv4Fields): number {
  const optLen = f.options ? f.options.length : 0;
  if (optLen % 4 !== 0 || optLen > 40) {
    throw new RangeError(`encodeIpv4Header: options length ${optLen} not a multiple of 4 <= 40`);
  }
  const hl = 20 + optLen;
  if (off < 0 || off + hl > buf.length) {
    throw new RangeError(
      `encodeIpv4Header: ${hl} bytes at ${off} overflow a ${buf.length}-byte buffer`,
    );
  }
  if (f.totalLength < hl || f.totalLength > 0xffff) {
    throw new RangeError(`encodeIpv4Header: total length ${f.totalLength} out of ${hl}..65535`);
  }
  if (f.src.length !== 4 || f.dst.length !== 4) {
    throw new RangeError(`encodeIpv4Header: address lengths ${f.src.length}/${f.dst.length} != 4`);
  }
  const frag = (f.df ? 0x4000 : 0) | (f.mf ? 0x2000 : 0) | ((f.fragmentOffset ?? 0) & 0x1fff);
  const id = f.id ?? 0;
  buf[off] = 0x40 | (hl >> 2);
  buf[off + 1] = (((f.dscp ?? 0) & 0x3f) << 2) | ((f.ecn ?? 0) & 3);
  buf[off + 2] = f.totalLength >>> 8;
  buf[off + 3] = f.totalLength & 0xff;
  buf[off + 4] = (id >>> 8) & 0xff;
  buf[off + 5] = id & 0xff;
  buf[off + 6] = frag >>> 8;
  buf[off + 7] = frag & 0xff;
  buf[off + 8] = f.ttl ?? 64;
  buf[off + 9] = f.protocol;
  buf[off + 10] = 0;
  buf[off + 11] = 0;
  buf.set(f.src, off + 12);
  buf.set(f.dst, off + 16);
  if (f.options) buf.set(f.options, off + 20);
  const ck = internetChecksum(buf, off, off + hl);
  buf[off + 10] = ck >>> 8;
  buf[off + 11] = ck & 0xff;
  return off + hl;
}
