/**
 * One captured frame, walked from its link layer through IP to TCP or UDP,
 * into a reusable `ParsedPacket` (no allocation per packet beyond the
 * cursor and the views). Link types (tcpdump.org/linktypes.html):
 *
 * ```
 *   0 NULL   BSD loopback: 4-byte address family in the capturing host's byte order
 *   1 ETHERNET  see ethernet.ts (802.1Q / QinQ tags are walked)
 *  12, 14, 101 RAW, 228 IPV4, 229 IPV6   the IP header first; version from its first nibble
 * 108 LOOP   as NULL, family in network byte order
 * 113 LINUX_SLL (16 bytes):
 *   | packet type u16 | ARPHRD u16 | addr len u16 | addr (8) | protocol u16 |
 * 276 LINUX_SLL2 (20 bytes):
 *   | protocol u16 | reserved u16 | ifindex u32 | ARPHRD u16 | packet type u8 |
 *   | addr len u8 | addr (8) |
 * ```
 *
 * Views in the result (`src`, `dst`, `payload`, and those of the layer
 * objects) are zero-copy `subarray`s of `frame`: valid as long as it is.
 */
import { ByteReader, DecodeError } from "../bytes/cursor.ts";
import {
  decodeEthernet,
  type EthernetHeader,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  isVlanTpid,
  newEthernetHeader,
} from "./ethernet.ts";
import { decodeIpv4, type Ipv4Header, newIpv4Header } from "./ipv4.ts";
import { decodeIpv6, type Ipv6Header, newIpv6Header } from "./ipv6.ts";
import { decodeTcp, newTcpHeader, type TcpHeader } from "./tcp.ts";
import { decodeUdp, newUdpHeader, type UdpHeader } from "./udp.ts";

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_DLT_RAW_12 = 12;
export const LINKTYPE_DLT_RAW_14 = 14;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

export interface ParsedPacket {
  linkType: number;
  /** Ethernet/SLL protocol type, or the one implied by NULL/raw framing; 0 if none. */
  etherType: number;
  /** VLAN ids from Ethernet or SLL framing, outermost first. */
  vlans: number[];
  /** Linux SLL/SLL2 packet type (0 to us, 4 outgoing, ...), or -1. */
  sllPacketType: number;
  /** Offset of the IP header (or of whatever the link layer carries). */
  l3Offset: number;
  /** 4 or 6, or 0 when the frame does not carry IP. */
  ipVersion: number;
  src: Uint8Array;
  dst: Uint8Array;
  /** IPv4 protocol or IPv6 upper-layer protocol after extension headers. */
  ipProto: number;
  /** TTL or hop limit. */
  ttl: number;
  isFragment: boolean;
  /** Offset of the upper-layer bytes, and the end of the IP packet. */
  l4Offset: number;
  l4End: number;
  /** TCP/UDP ports; 0 for other protocols and for fragments. */
  sport: number;
  dport: number;
  /** TCP only (else 0): u32 numbers, flags FIN..CWR|NS, raw window. */
  seq: number;
  ack: number;
  tcpFlags: number;
  window: number;
  /**
   * TCP or UDP data; for fragments and other protocols, the IP payload;
   * empty for non-IP frames.
   */
  payload: Uint8Array;
  /** The full layer objects, valid for the layers this frame had. */
  eth: EthernetHeader;
  ip4: Ipv4Header;
  ip6: Ipv6Header;
  tcp: TcpHeader;
  udp: UdpHeader;
}

const EMPTY = new Uint8Array(0);

export function newParsedPacket(): ParsedPacket {
  return {
    linkType: 0,
    etherType: 0,
    vlans: [],
    sllPacketType: -1,
    l3Offset: 0,
    ipVersion: 0,
    src: EMPTY,
    dst: EMPTY,
    ipProto: 0,
    ttl: 0,
    isFragment: false,
    l4Offset: 0,
    l4End: 0,
    sport: 0,
    dport: 0,
    seq: 0,
    ack: 0,
    tcpFlags: 0,
    window: 0,
    payload: EMPTY,
    eth: newEthernetHeader(),
    ip4: newIpv4Header(),
    ip6: newIpv6Header(),
    tcp: newTcpHeader(),
    udp: newUdpHeader(),
  };
}

/** BSD AF_INET6 is 10 (Linux), 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (Darwin). */
function familyToEtherType(family: number): number {
  if (family === 2) return ETHERTYPE_IPV4;
  if (family === 10 || family === 24 || family === 28 || family === 30) return ETHERTYPE_IPV6;
  return 0;
}

function walkVlans(r: ByteReader, end: number, type: number, vlans: number[]): number {
  while (isVlanTpid(type)) {
    if (end - r.pos < 4) {
      throw new DecodeError(`802.1Q tag: ${end - r.pos} bytes < 4 at offset ${r.pos}`, r.pos);
    }
    vlans.push(r.u16be("802.1Q tag control") & 0x0fff);
    type = r.u16be("EtherType after 802.1Q tag");
  }
  return type;
}

function needLink(r: ByteReader, end: number, n: number, what: string): void {
  if (end - r.pos < n) {
    throw new DecodeError(`${what} header: ${end - r.pos} bytes < ${n} at offset ${r.pos}`, r.pos);
  }
}

/**
 * Decodes `frame` of pcap link type `linkType` into `out`. Returns true when
 * the frame carries IPv4 or IPv6, false otherwise (`ipVersion` 0). Malformed
 * or truncated headers, and unsupported link types, throw `DecodeError`.
 */
export function decodeLink(linkType: number, frame: Uint8Array, out: ParsedPacket): boolean {
  return decodeLinkAt(linkType, new ByteReader(frame), frame.length, out);
}

/**
 * As `decodeLink`, for the frame at `r.buf[r.pos, end)`: one reader over a
 * whole capture buffer serves every frame in it (set `r.pos` to each frame's
 * start), saving a reader per frame. Offsets in `out` are then absolute in
 * `r.buf`.
 */
export function decodeLinkAt(
  linkType: number,
  r: ByteReader,
  end: number,
  out: ParsedPacket,
): boolean {
  if (end > r.end) end = r.end;
  const start = r.pos;
  out.linkType = linkType;
  out.vlans.length = 0;
  out.sllPacketType = -1;
  out.ipVersion = 0;
  out.src = EMPTY;
  out.dst = EMPTY;
  out.ipProto = 0;
  out.ttl = 0;
  out.isFragment = false;
  out.l4Offset = 0;
  out.l4End = 0;
  out.sport = 0;
  out.dport = 0;
  out.seq = 0;
  out.ack = 0;
  out.tcpFlags = 0;
  out.window = 0;
  out.payload = EMPTY;
  let type: number;
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      const eth = decodeEthernet(r, out.eth, end);
      for (let i = 0; i < eth.vlans.length; i++) out.vlans.push(eth.vlans[i]);
      type = eth.etherType;
      break;
    }
    case LINKTYPE_RAW:
    case LINKTYPE_DLT_RAW_12:
    case LINKTYPE_DLT_RAW_14:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6: {
      const v = end > start ? r.buf[start] >> 4 : -1;
      if (v === 4) type = ETHERTYPE_IPV4;
      else if (v === 6) type = ETHERTYPE_IPV6;
      else throw new DecodeError(`raw IP frame: version ${v} is neither 4 nor 6`, start);
      break;
    }
    case LINKTYPE_NULL: {
      needLink(r, end, 4, "BSD loopback");
      const le = r.u32le("BSD loopback family");
      type = familyToEtherType(le <= 0xffff ? le : r.view.getUint32(start, false));
      break;
    }
    case LINKTYPE_LOOP:
      needLink(r, end, 4, "loopback");
      type = familyToEtherType(r.u32be("loopback family"));
      break;
    case LINKTYPE_LINUX_SLL:
      needLink(r, end, 16, "Linux SLL");
      out.sllPacketType = r.u16be("SLL packet type");
      r.skip(12, "SLL header");
      type = walkVlans(r, end, r.u16be("SLL protocol"), out.vlans);
      break;
    case LINKTYPE_LINUX_SLL2: {
      needLink(r, end, 20, "Linux SLL2");
      const proto = r.u16be("SLL2 protocol");
      r.skip(8, "SLL2 header");
      out.sllPacketType = r.u8("SLL2 packet type");
      r.skip(9, "SLL2 address");
      type = walkVlans(r, end, proto, out.vlans);
      break;
    }
    default:
      throw new DecodeError(`unsupported link type ${linkType}`, start);
  }
  out.etherType = type;
  out.l3Offset = r.pos;
  if (type === ETHERTYPE_IPV4) {
    const ip = decodeIpv4(r, out.ip4, end);
    out.ipVersion = 4;
    out.src = ip.src;
    out.dst = ip.dst;
    out.ipProto = ip.protocol;
    out.ttl = ip.ttl;
    out.isFragment = ip.isFragment;
    out.l4Offset = ip.payloadOffset;
    end = ip.payloadEnd;
  } else if (type === ETHERTYPE_IPV6) {
    const ip = decodeIpv6(r, out.ip6, end);
    out.ipVersion = 6;
    out.src = ip.src;
    out.dst = ip.dst;
    out.ipProto = ip.protocol;
    out.ttl = ip.hopLimit;
    out.isFragment = ip.isFragment;
    out.l4Offset = ip.payloadOffset;
    end = ip.payloadEnd;
  } else {
    return false;
  }
  out.l4End = end;
  if (!out.isFragment) {
    if (out.ipProto === 6) {
      const t = decodeTcp(r, out.tcp, end);
      out.sport = t.srcPort;
      out.dport = t.dstPort;
      out.seq = t.seq;
      out.ack = t.ack;
      out.tcpFlags = t.flags;
      out.window = t.window;
      out.payload = t.payload;
      return true;
    }
    if (out.ipProto === 17) {
      const u = decodeUdp(r, out.udp, end);
      out.sport = u.srcPort;
      out.dport = u.dstPort;
      out.payload = u.payload;
      return true;
    }
  }
  out.payload = r.buf.subarray(out.l4Offset, end);
  return true;
}
