/**
 * UDP headers (RFC 768).
 *
 * ```
 *  0      7 8     15 16    23 24    31
 * +--------+--------+--------+--------+
 * |     Source      |   Destination   |
 * |      Port       |      Port       |
 * +--------+--------+--------+--------+
 * |                 |                 |
 * |     Length      |    Checksum     |
 * +--------+--------+--------+--------+
 * |          data octets ...
 * +---------------- ...
 * ```
 *
 * `payload` is a zero-copy `subarray` of the datagram: valid as long as its
 * buffer is not reused.
 */
import { type ByteReader, DecodeError } from "../bytes/cursor.ts";
import { foldChecksum, sumWords } from "./checksum.ts";

export const UDP_HEADER_LENGTH = 8;

export interface UdpHeader {
  srcPort: number;
  dstPort: number;
  /** Header + data length in bytes, as on the wire. */
  length: number;
  /** 0 when the sender computed none (IPv4 only). */
  checksum: number;
  /** Absolute offset of the payload. */
  payloadOffset: number;
  /** The data, bounded by `length`. */
  payload: Uint8Array;
}

const EMPTY = new Uint8Array(0);

export function newUdpHeader(): UdpHeader {
  return { srcPort: 0, dstPort: 0, length: 0, checksum: 0, payloadOffset: 0, payload: EMPTY };
}

/**
 * Decodes the UDP datagram at `r.pos` that ends at `end` (the IP payload
 * end), leaving `r.pos` after its data. A length of 0 with at least 65536
 * bytes available is an IPv6 jumbogram (RFC 2675 §4) and takes them all.
 * Fills and returns `out`.
 */
export function decodeUdp(
  r: ByteReader,
  out: UdpHeader = newUdpHeader(),
  end: number = r.end,
): UdpHeader {
  const start = r.pos;
  if (end > r.end) end = r.end;
  if (end - start < 8) {
    throw new DecodeError(`UDP header: ${end - start} bytes < 8 at offset ${start}`, start);
  }
  out.srcPort = r.u16be("UDP source port");
  out.dstPort = r.u16be("UDP destination port");
  const len = r.u16be("UDP length");
  out.checksum = r.u16be("UDP checksum");
  out.length = len;
  let dataEnd: number;
  if (len === 0 && end - start > 0xffff) {
    dataEnd = end;
  } else if (len < 8) {
    throw new DecodeError(`UDP length ${len} < 8`, start + 4);
  } else if (len > end - start) {
    throw new DecodeError(`UDP length ${len} > ${end - start} bytes available`, start + 4);
  } else {
    dataEnd = start + len;
  }
  out.payloadOffset = start + 8;
  out.payload = r.bytes(dataEnd - start - 8, "UDP payload");
  return out;
}

/**
 * Writes a UDP header into `buf` at `off`; returns the offset after it.
 * `length` counts the header and data.
 */
export function encodeUdpHeader(
  buf: Uint8Array,
  off: number,
  srcPort: number,
  dstPort: number,
  length: number,
  checksum = 0,
): number {
  if (off < 0 || off + 8 > buf.length) {
    throw new RangeError(`encodeUdpHeader: 8 bytes at ${off} overflow a ${buf.length}-byte buffer`);
  }
  if (length < 8 || length > 0xffff) {
    throw new RangeError(`encodeUdpHeader: length ${length} out of 8..65535`);
  }
  buf[off] = srcPort >>> 8;
  buf[off + 1] = srcPort & 0xff;
  buf[off + 2] = dstPort >>> 8;
  buf[off + 3] = dstPort & 0xff;
  buf[off + 4] = length >>> 8;
  buf[off + 5] = length & 0xff;
  buf[off + 6] = checksum >>> 8;
  buf[off + 7] = checksum & 0xff;
  return off + 8;
}

/**
 * Computes and stores the checksum of the UDP datagram `buf[off, end)` given
 * the pseudo-header partial sum; a computed 0 is sent as 0xffff (RFC 768).
 * Returns the checksum.
 */
export function fillUdpChecksum(
  buf: Uint8Array,
  off: number,
  end: number,
  pseudoSum: number,
): number {
  buf[off + 6] = 0;
  buf[off + 7] = 0;
  const ck = foldChecksum(sumWords(buf, off, end, pseudoSum)) || 0xffff;
  buf[off + 6] = ck >>> 8;
  buf[off + 7] = ck & 0xff;
  return ck;
}
