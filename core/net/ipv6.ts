/**
 * IPv6 headers (RFC 8200 §3) and the extension header chain (RFC 8200 §4:
 * hop-by-hop options 0, routing 43, fragment 44, destination options 60;
 * authentication header 51, RFC 4302 §2).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version| Traffic Class |           Flow Label                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Payload Length        |  Next Header  |   Hop Limit   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                                                               |
 * +                   Source Address (128 bits)                   +
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                                                               |
 * +                Destination Address (128 bits)                 +
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Hop-by-hop / routing / destination options (length in 8-octet units, not
 * counting the first 8), and AH (length in 4-octet units, minus 2):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Next Header  |  Hdr Ext Len  |          ...                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * Fragment (RFC 8200 §4.5):
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Identification                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * Views (`src`, `dst`) are zero-copy `subarray`s of the packet: valid as long
 * as its buffer is not reused.
 */
import { type ByteReader, DecodeError } from "../bytes/cursor.ts";

export const IPV6_HEADER_LENGTH = 40;
export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;

export interface Ipv6Header {
  /** Always 6. */
  version: number;
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  /** The Next Header field of the fixed header. */
  nextHeader: number;
  hopLimit: number;
  src: Uint8Array;
  dst: Uint8Array;
  /**
   * The protocol after the extension headers: 6, 17, 58, 59, 50 (ESP) or the
   * first unknown one; after a fragment header with a non-zero offset, the
   * fragment's Next Header (its bytes are not that protocol's header).
   */
  protocol: number;
  /** Absolute offset of the bytes of `protocol`. */
  payloadOffset: number;
  /** Absolute end of the packet: start + 40 + payload length. */
  payloadEnd: number;
  hasFragmentHeader: boolean;
  /** A fragment header is present with M set or a non-zero offset. */
  isFragment: boolean;
  /** In 8-byte units, as on the wire; 0 without a fragment header. */
  fragmentOffset: number;
  mf: boolean;
  fragmentId: number;
}

const EMPTY = new Uint8Array(0);

export function newIpv6Header(): Ipv6Header {
  return {
    version: 6,
    trafficClass: 0,
    flowLabel: 0,
    payloadLength: 0,
    nextHeader: 0,
    hopLimit: 0,
    src: EMPTY,
    dst: EMPTY,
    protocol: 0,
    payloadOffset: 0,
    payloadEnd: 0,
    hasFragmentHeader: false,
    isFragment: false,
    fragmentOffset: 0,
    mf: false,
    fragmentId: 0,
  };
}

/**
 * Decodes the IPv6 header at `r.pos` of a packet that ends at `end` and walks
 * its extension headers, leaving `r.pos` at the upper-layer bytes
 * (`payloadOffset`). Fills and returns `out`.
 */
export function decodeIpv6(
  r: ByteReader,
  out: Ipv6Header = newIpv6Header(),
  end: number = r.end,
): Ipv6Header {
  const start = r.pos;
  if (end > r.end) end = r.end;
  if (end - start < 40) {
    throw new DecodeError(`IPv6 header: ${end - start} bytes < 40 at offset ${start}`, start);
  }
  const w0 = r.u32be("IPv6 version/class/flow");
  if (w0 >>> 28 !== 6) throw new DecodeError(`IPv6 version ${w0 >>> 28} != 6`, start);
  out.version = 6;
  out.trafficClass = (w0 >>> 20) & 0xff;
  out.flowLabel = w0 & 0xfffff;
  const plen = r.u16be("IPv6 payload length");
  let next = r.u8("IPv6 next header");
  out.payloadLength = plen;
  out.nextHeader = next;
  out.hopLimit = r.u8("IPv6 hop limit");
  out.src = r.bytes(16, "IPv6 source");
  out.dst = r.bytes(16, "IPv6 destination");
  if (plen === 0 && next === IPPROTO_HOPOPTS) {
    out.payloadEnd = end; // a jumbogram (RFC 2675): the link layer bounds it
  } else if (plen > end - start - 40) {
    throw new DecodeError(
      `IPv6 payload length ${plen} > ${end - start - 40} bytes available`,
      start + 4,
    );
  } else {
    out.payloadEnd = start + 40 + plen;
  }
  out.hasFragmentHeader = false;
  out.isFragment = false;
  out.fragmentOffset = 0;
  out.mf = false;
  out.fragmentId = 0;
  const limit = out.payloadEnd;
  let pos = r.pos;
  for (;;) {
    if (
      next === IPPROTO_HOPOPTS || next === IPPROTO_ROUTING || next === IPPROTO_DSTOPTS ||
      next === IPPROTO_AH
    ) {
      if (limit - pos < 8) {
        throw new DecodeError(`IPv6 extension header ${next}: ${limit - pos} bytes < 8`, pos);
      }
      const nh = r.u8("IPv6 extension next header");
      const hlen = r.u8("IPv6 extension length");
      const len = next === IPPROTO_AH ? (hlen + 2) * 4 : (hlen + 1) * 8;
      if (len > limit - pos) {
        throw new DecodeError(
          `IPv6 extension header ${next} length ${len} > ${limit - pos} bytes left`,
          pos + 1,
        );
      }
      r.skip(len - 2, "IPv6 extension header");
      next = nh;
    } else if (next === IPPROTO_FRAGMENT) {
      if (limit - pos < 8) {
        throw new DecodeError(`IPv6 fragment header: ${limit - pos} bytes < 8`, pos);
      }
      const nh = r.u8("IPv6 fragment next header");
      r.skip(1, "IPv6 fragment reserved");
      const fo = r.u16be("IPv6 fragment offset");
      out.fragmentId = r.u32be("IPv6 fragment identification");
      out.hasFragmentHeader = true;
      out.fragmentOffset = fo >>> 3;
      out.mf = (fo & 1) !== 0;
      out.isFragment = out.mf || out.fragmentOffset !== 0;
      next = nh;
      if (out.fragmentOffset !== 0) {
        pos = r.pos;
        break;
      }
    } else {
      break;
    }
    pos = r.pos;
  }
  out.protocol = next;
  out.payloadOffset = pos;
  return out;
}

/** What `encodeIpv6Header` writes; omitted fields are zero, hop limit 64. */
export interface Ipv6Fields {
  trafficClass?: number;
  flowLabel?: number;
  /** Bytes after the fixed header. */
  payloadLength: number;
  nextHeader: number;
  hopLimit?: number;
  src: Uint8Array;
  dst: Uint8Array;
}

/** Writes a fixed IPv6 header into `buf` at `off`; returns the offset after it. */
export function encodeIpv6Header(buf: Uint8Array, off: number, f: Ipv6Fields): number {
  if (off < 0 || off + 40 > buf.length) {
    throw new RangeError(
      `encodeIpv6Header: 40 bytes at ${off} overflow a ${buf.length}-byte buffer`,
    );
  }
  if (f.payloadLength < 0 || f.payloadLength > 0xffff) {
    throw new RangeError(`encodeIpv6Header: payload length ${f.payloadLength} > 65535`);
  }
  if (f.src.length !== 16 || f.dst.length !== 16) {
    throw new RangeError(`encodeIpv6Header: address lengths ${f.src.length}/${f.dst.length} != 16`);
  }
  const tc = (f.trafficClass ?? 0) & 0xff;
  const fl = (f.flowLabel ?? 0) & 0xfffff;
  buf[off] = 0x60 | (tc >>> 4);
  buf[off + 1] = ((tc & 0x0f) << 4) | (fl >>> 16);
  buf[off + 2] = (fl >>> 8) & 0xff;
  buf[off + 3] = fl & 0xff;
  buf[off + 4] = f.payloadLength >>> 8;
  buf[off + 5] = f.payloadLength & 0xff;
  buf[off + 6] = f.nextHeader;
  buf[off + 7] = f.hopLimit ?? 64;
  buf.set(f.src, off + 8);
  buf.set(f.dst, off + 24);
  return off + 40;
}
