/**
 * Ethernet II frames (IEEE 802.3 §3.2.6 type interpretation) with IEEE 802.1Q
 * VLAN tags, stacked (QinQ, IEEE 802.1ad, TPID 0x88a8; legacy 0x9100).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  Destination MAC address                      |
 * +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                               |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                     Source MAC address                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   TPID 0x8100 / 0x88a8 (opt.) | PCP |D|       VLAN id         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          EtherType            |   Payload ...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * Views (`dst`, `src`) are zero-copy `subarray`s of the frame: valid as long
 * as the frame's buffer is not reused.
 */
import { type ByteReader, DecodeError } from "../bytes/cursor.ts";

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_QINQ = 0x88a8;
export const ETHERTYPE_QINQ_LEGACY = 0x9100;
export const ETHERTYPE_IPV6 = 0x86dd;

/** Bytes of an untagged Ethernet II header. */
export const ETHERNET_HEADER_LENGTH = 14;

export interface EthernetHeader {
  dst: Uint8Array;
  src: Uint8Array;
  /** VLAN ids (low 12 bits of each tag's TCI), outermost first; empty if untagged. */
  vlans: number[];
  /** The EtherType after the tags (a value below 0x0600 is an 802.3 length). */
  etherType: number;
  /** Absolute offset of the payload in the frame. */
  payloadOffset: number;
}

const EMPTY = new Uint8Array(0);

export function newEthernetHeader(): EthernetHeader {
  return { dst: EMPTY, src: EMPTY, vlans: [], etherType: 0, payloadOffset: 0 };
}

/** True for the TPIDs that introduce a VLAN tag. */
export function isVlanTpid(etherType: number): boolean {
  return etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ ||
    etherType === ETHERTYPE_QINQ_LEGACY;
}

/**
 * Decodes the Ethernet header at `r.pos` of a frame that ends at `end`,
 * walking any VLAN tags, and leaves `r.pos` at the payload. Fills and
 * returns `out`.
 */
export function decodeEthernet(
  r: ByteReader,
  out: EthernetHeader = newEthernetHeader(),
  end: number = r.end,
): EthernetHeader {
  const start = r.pos;
  if (end > r.end) end = r.end;
  if (end - start < 14) {
    throw new DecodeError(`Ethernet header: ${end - start} bytes < 14 at offset ${start}`, start);
  }
  out.dst = r.bytes(6, "Ethernet destination");
  out.src = r.bytes(6, "Ethernet source");
  out.vlans.length = 0;
  let type = r.u16be("EtherType");
  while (isVlanTpid(type)) {
    if (end - r.pos < 4) {
      throw new DecodeError(`802.1Q tag: ${end - r.pos} bytes < 4 at offset ${r.pos}`, r.pos);
    }
    out.vlans.push(r.u16be("802.1Q tag control") & 0x0fff);
    type = r.u16be("EtherType after 802.1Q tag");
  }
  out.etherType = type;
  out.payloadOffset = r.pos;
  return out;
}

/**
 * Writes an Ethernet header (with the given VLAN tags, TPID 0x8100, outermost
 * first) into `buf` at `off`; returns the offset after it.
 */
export function encodeEthernet(
  buf: Uint8Array,
  off: number,
  dst: Uint8Array,
  src: Uint8Array,
  etherType: number,
  vlans?: readonly number[],
): number {
  const n = ETHERNET_HEADER_LENGTH + (vlans ? 4 * vlans.length : 0);
  if (off < 0 || off + n > buf.length) {
    throw new RangeError(
      `encodeEthernet: ${n} bytes at ${off} overflow a ${buf.length}-byte buffer`,
    );
  }
  if (dst.length !== 6 || src.length !== 6) {
    throw new RangeError(`encodeEthernet: MAC lengths ${dst.length}/${src.length} != 6`);
  }
  buf.set(dst, off);
  buf.set(src, off + 6);
  off += 12;
  if (vlans) {
    for (const id of vlans) {
      if (id < 0 || id > 0xfff) throw new RangeError(`encodeEthernet: VLAN id ${id} > 4095`);
      buf[off] = 0x81;
      buf[off + 1] = 0x00;
      buf[off + 2] = id >>> 8;
      buf[off + 3] = id & 0xff;
      off += 4;
    }
  }
  buf[off] = etherType >>> 8;
  buf[off + 1] = etherType & 0xff;
  return off + 2;
}
