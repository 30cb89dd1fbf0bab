/**
 * TCP/IP packet synthesis: turns a flow's stream events into Ethernet frames
 * (three-way handshake, MSS-sized data segments with ACKs, FIN, RST) written
 * straight into a `PacketBatch` arena. This is the hot path: no per-packet
 * objects, headers written byte by byte, the TCP checksum summed over the
 * arena once the payload is copied in. DESIGN §1, §5.
 */
import { copyAndSum, foldChecksum, sumWords } from "../net/checksum.ts";
import { FRAME_HEADROOM } from "./packet_batch.ts";
import type { FlowMeta } from "../plugin.ts";
import type { PacketBatch } from "./packet_batch.ts";

/** Plain, serializable per-flow synthesis state (checkpointed later: no closures, no class instances inside). */
export interface SynthFlow {
  ipVersion: 4 | 6;
  clientIp: Uint8Array;
  serverIp: Uint8Array;
  clientPort: number;
  serverPort: number;
  /** 6 bytes each. */
  clientMac: Uint8Array;
  serverMac: Uint8Array;
  /** u32 initial sequence number per direction (0 client, 1 server). */
  isn: [number, number];
  /** Next stream offset to send per direction (bytes sent so far, gaps skipped included). */
  next: [number, number];
  /** Highest offset of direction d acknowledged by the peer. */
  acked: [number, number];
  finSent: [boolean, boolean];
  ipId: number;
  /** Unfolded ones' complement sum of the address words (pseudo-header and IPv4 header share it). */
  addrSum: number;
}

export interface NewSynthFlow {
  ipVersion: 4 | 6;
  clientIp: Uint8Array;
  serverIp: Uint8Array;
  clientPort: number;
  serverPort: number;
  origin: string;
  flow: number | string;
}

const TWO32 = 4294967296;
const ETH = 14;
const TCP = 20;
const WINDOW = 65535;
const TTL = 64;
const PROTO_TCP = 6;

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

const encoder = new TextEncoder();

function fnv1a(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

/** Locally administered unicast MAC (02:...) derived from an IP address alone. */
export function macForIp(ip: Uint8Array): Uint8Array {
  const h1 = fnv1a(ip);
  const h2 = fnv1a(ip, h1 ^ 0x5bd1e995);
  return Uint8Array.of(
    0x02,
    h1 >>> 24,
    (h1 >>> 16) & 0xff,
    (h1 >>> 8) & 0xff,
    h1 & 0xff,
    h2 & 0xff,
  );
}

function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new RangeError(`newSynthFlow: ${name} ${port} is not a u16 port`);
  }
}

export function newSynthFlow(o: NewSynthFlow): SynthFlow {
  const alen = o.ipVersion === 4 ? 4 : o.ipVersion === 6 ? 16 : -1;
  if (alen < 0) throw new RangeError(`newSynthFlow: ipVersion ${o.ipVersion} is not 4 or 6`);
  if (o.clientIp.length !== alen) {
    throw new RangeError(
      `newSynthFlow: clientIp has ${o.clientIp.length} bytes, IPv${o.ipVersion} needs ${alen}`,
    );
  }
  if (o.serverIp.length !== alen) {
    throw new RangeError(
      `newSynthFlow: serverIp has ${o.serverIp.length} bytes, IPv${o.ipVersion} needs ${alen}`,
    );
  }
  checkPort("clientPort", o.clientPort);
  checkPort("serverPort", o.serverPort);
  const key = encoder.encode(`${o.origin}\u0000${typeof o.flow}:${o.flow}\u0000`);
  const base = fnv1a(key);
  const isn: [number, number] = [
    fnv1a(Uint8Array.of(0), base),
    fnv1a(Uint8Array.of(1), base),
  ];
  return {
    ipVersion: o.ipVersion,
    clientIp: o.clientIp.slice(),
    serverIp: o.serverIp.slice(),
    clientPort: o.clientPort,
    serverPort: o.serverPort,
    clientMac: macForIp(o.clientIp),
    serverMac: macForIp(o.serverIp),
    isn,
    next: [0, 0],
    acked: [0, 0],
    finSent: [false, false],
    ipId: base & 0xffff,
    addrSum: sumWords(o.clientIp, 0, alen, sumWords(o.serverIp, 0, alen)),
  };
}

/** seq = (isn + 1 + offset) mod 2^32, exact for offsets below 2^53 - 2^32. */
function seqAt(f: SynthFlow, d: number, offset: number): number {
  return (f.isn[d] + 1 + offset) % TWO32;
}

/** What direction d has consumed of its sequence space: its data, then its FIN. */
function endOf(f: SynthFlow, d: number): number {
  return f.next[d] + (f.finSent[d] ? 1 : 0);
}

export interface TcpSynthesizerOptions {
  /** Largest outer IP packet, default 1500. */
  mtu?: number;
  /** Bytes an exporter's tunnel adds outside the inner IP packet (VXLAN 50). */
  overhead?: number;
}

export class TcpSynthesizer {
  readonly mtu: number;
  readonly overhead: number;
  private readonly mss4: number;
  private readonly mss6: number;

  constructor(opts: TcpSynthesizerOptions = {}) {
    const mtu = opts.mtu ?? 1500;
    const overhead = opts.overhead ?? 0;
    if (!Number.isInteger(mtu) || mtu < 0 || mtu > 65535) {
      throw new RangeError(`TcpSynthesizer: mtu ${mtu} is not an integer in [0, 65535]`);
    }
    if (!Number.isInteger(overhead) || overhead < 0) {
      throw new RangeError(`TcpSynthesizer: overhead ${overhead} is not a non-negative integer`);
    }
    this.mtu = mtu;
    this.overhead = overhead;
    this.mss4 = mtu - overhead - 20 - TCP;
    this.mss6 = mtu - overhead - 40 - TCP;
  }

  /** MSS for a flow: mtu - overhead - IP header (20 or 40) - TCP header (20). */
  mss(ipVersion: 4 | 6): number {
    const m = ipVersion === 4 ? this.mss4 : this.mss6;
    if (m < 64) {
      throw new RangeError(
        `TcpSynthesizer: mtu ${this.mtu} minus overhead ${this.overhead} leaves MSS ${m} for IPv${ipVersion}, below 64`,
      );
    }
    return m;
  }

  /** Data segments sent before the peer ACKs, so that unacknowledged bytes stay within the window. */
  private ackEvery(mss: number): number {
    return Math.max(1, Math.floor(WINDOW / mss));
  }

  /**
   * Upper bound of arena bytes that the next call for `payloadLen` bytes will
   * need (frames, headers, ACKs); with 0 it also covers handshake, fin and rst.
   */
  bytesNeeded(ipVersion: 4 | 6, payloadLen: number): number {
    // Each frame also takes the batch's FRAME_HEADROOM in front of it.
    const hdr = FRAME_HEADROOM + ETH + (ipVersion === 4 ? 20 : 40) + TCP;
    const control = 3 * (hdr + 4);
    if (payloadLen <= 0) return control;
    const mss = this.mss(ipVersion);
    const segs = Math.ceil(payloadLen / mss);
    const acks = Math.ceil(segs / this.ackEvery(mss));
    return Math.max(control, payloadLen + (segs + acks) * hdr);
  }

  /** Upper bound of packets the next call for `payloadLen` bytes will push (3 with 0). */
  packetsNeeded(ipVersion: 4 | 6, payloadLen: number): number {
    if (payloadLen <= 0) return 3;
    const mss = this.mss(ipVersion);
    const segs = Math.ceil(payloadLen / mss);
    return Math.max(3, segs + Math.ceil(segs / this.ackEvery(mss)));
  }

  /** SYN and SYN-ACK, both with the MSS option, then the client's ACK (RFC 9293 §3.5). */
  handshake(b: PacketBatch, f: SynthFlow, meta: FlowMeta, sec: number, nsec: number): void {
    const mss = this.mss(f.ipVersion);
    const c = f.isn[0];
    const s = f.isn[1];
    this.frame(b, f, meta, 0, c, 0, SYN, null, 0, 0, mss, sec, nsec);
    this.frame(b, f, meta, 1, s, (c + 1) % TWO32, SYN | ACK, null, 0, 0, mss, sec, nsec);
    this.frame(b, f, meta, 0, (c + 1) % TWO32, (s + 1) % TWO32, ACK, null, 0, 0, 0, sec, nsec);
  }

  /**
   * Data from direction `dir` at stream offset `offset` (>= f.next[dir]; a
   * larger offset is a gap: the sequence jumps, no bytes are invented). Cut
   * into segments <= MSS, PSH on the last, then the peer's ACK of it (also
   * after every window's worth of segments).
   */
  data(
    b: PacketBatch,
    f: SynthFlow,
    meta: FlowMeta,
    dir: 0 | 1,
    offset: number,
    payload: Uint8Array,
    sec: number,
    nsec: number,
  ): void {
    const next = f.next[dir];
    if (offset < next) {
      throw new RangeError(
        `TcpSynthesizer.data: offset ${offset} is below the next offset ${next} of dir ${dir}`,
      );
    }
    if (f.finSent[dir]) {
      throw new RangeError(
        `TcpSynthesizer.data: dir ${dir} already sent FIN at ${next}, got data at ${offset}`,
      );
    }
    const len = payload.length;
    if (len === 0) {
      f.next[dir] = offset;
      return;
    }
    const mss = this.mss(f.ipVersion);
    const every = this.ackEvery(mss);
    const peer = 1 - dir;
    const peerSeq = seqAt(f, peer, endOf(f, peer));
    // These segments carry the peer's data's ACK (RFC 9293 §3.8.6.3: it rides on data).
    f.acked[peer] = f.next[peer];
    let pos = 0;
    let segs = 0;
    while (pos < len) {
      const end = pos + mss < len ? pos + mss : len;
      const flags = end === len ? ACK | PSH : ACK;
      this.frame(
        b,
        f,
        meta,
        dir,
        seqAt(f, dir, offset + pos),
        peerSeq,
        flags,
        payload,
        pos,
        end,
        0,
        sec,
        nsec,
      );
      pos = end;
      // Delayed ACK (RFC 1122 §4.2.3.2, RFC 9293 §3.8.6.3): the peer ACKs at
      // least every second full-sized segment; what is left unacknowledged
      // at the end of a record is acknowledged by the peer's next data, its
      // FIN, or the next record's ACK.
      if (++segs === every || (pos === len && offset + len - f.acked[dir] >= 2 * mss)) {
        segs = 0;
        f.acked[dir] = offset + pos;
        this.frame(
          b,
          f,
          meta,
          peer,
          peerSeq,
          seqAt(f, dir, offset + pos),
          ACK,
          null,
          0,
          0,
          0,
          sec,
          nsec,
        );
      }
    }
    f.next[dir] = offset + len;
  }

  /** FIN|ACK at seq isn+1+finalOffset; the peer ACKs it (seq+1). A repeated FIN is ignored. */
  fin(
    b: PacketBatch,
    f: SynthFlow,
    meta: FlowMeta,
    dir: 0 | 1,
    finalOffset: number,
    sec: number,
    nsec: number,
  ): void {
    if (f.finSent[dir]) return;
    if (finalOffset < f.next[dir]) {
      throw new RangeError(
        `TcpSynthesizer.fin: finalOffset ${finalOffset} is below the next offset ${
          f.next[dir]
        } of dir ${dir}`,
      );
    }
    const peer = 1 - dir;
    const peerSeq = seqAt(f, peer, endOf(f, peer));
    this.frame(
      b,
      f,
      meta,
      dir,
      seqAt(f, dir, finalOffset),
      peerSeq,
      FIN | ACK,
      null,
      0,
      0,
      0,
      sec,
      nsec,
    );
    f.next[dir] = finalOffset;
    f.finSent[dir] = true;
    f.acked[dir] = finalOffset;
    this.frame(
      b,
      f,
      meta,
      peer,
      peerSeq,
      seqAt(f, dir, finalOffset + 1),
      ACK,
      null,
      0,
      0,
      0,
      sec,
      nsec,
    );
  }

  /** RST|ACK from `dir` at `offset` (or where `dir` already is, when later). */
  rst(
    b: PacketBatch,
    f: SynthFlow,
    meta: FlowMeta,
    dir: 0 | 1,
    offset: number,
    sec: number,
    nsec: number,
  ): void {
    if (!f.finSent[dir] && offset > f.next[dir]) f.next[dir] = offset;
    const peer = 1 - dir;
    const seq = seqAt(f, dir, endOf(f, dir));
    this.frame(
      b,
      f,
      meta,
      dir,
      seq,
      seqAt(f, peer, endOf(f, peer)),
      RST | ACK,
      null,
      0,
      0,
      0,
      sec,
      nsec,
    );
  }

  /**
   * Writes one frame into the arena: Ethernet II, IPv4 (RFC 791) or IPv6
   * (RFC 8200), TCP (RFC 9293) with `payload[pa, pb)` and, when `mssOpt` is
   * non-zero, the MSS option.
   */
  private frame(
    b: PacketBatch,
    f: SynthFlow,
    meta: FlowMeta,
    dir: number,
    seq: number,
    ack: number,
    flags: number,
    payload: Uint8Array | null,
    pa: number,
    pb: number,
    mssOpt: number,
    sec: number,
    nsec: number,
  ): void {
    const v4 = f.ipVersion === 4;
    const ipH = v4 ? 20 : 40;
    const tcpH = mssOpt !== 0 ? TCP + 4 : TCP;
    const segLen = pb - pa;
    const tcpLen = tcpH + segLen;
    const frameLen = ETH + ipH + tcpLen;
    const off = b.alloc(frameLen);
    const a = b.arena;

    const srcMac = dir === 0 ? f.clientMac : f.serverMac;
    const dstMac = dir === 0 ? f.serverMac : f.clientMac;
    for (let i = 0; i < 6; i++) {
      a[off + i] = dstMac[i];
      a[off + 6 + i] = srcMac[i];
    }
    const srcIp = dir === 0 ? f.clientIp : f.serverIp;
    const dstIp = dir === 0 ? f.serverIp : f.clientIp;
    const ip = off + ETH;
    if (v4) {
      a[off + 12] = 0x08;
      a[off + 13] = 0x00;
      const total = ipH + tcpLen;
      const id = f.ipId;
      f.ipId = (id + 1) & 0xffff;
      a[ip] = 0x45;
      a[ip + 1] = 0;
      a[ip + 2] = total >>> 8;
      a[ip + 3] = total & 0xff;
      a[ip + 4] = id >>> 8;
      a[ip + 5] = id & 0xff;
      a[ip + 6] = 0x40; // DF
      a[ip + 7] = 0;
      a[ip + 8] = TTL;
      a[ip + 9] = PROTO_TCP;
      for (let i = 0; i < 4; i++) {
        a[ip + 12 + i] = srcIp[i];
        a[ip + 16 + i] = dstIp[i];
      }
      // RFC 791: the header's words, summed without a loop; the addresses are in addrSum.
      const hsum = 0x4500 + total + id + 0x4000 + ((TTL << 8) | PROTO_TCP) + f.addrSum;
      const hc = foldChecksum(hsum);
      a[ip + 10] = hc >>> 8;
      a[ip + 11] = hc & 0xff;
    } else {
      a[off + 12] = 0x86;
      a[off + 13] = 0xdd;
      a[ip] = 0x60;
      a[ip + 1] = 0;
      a[ip + 2] = 0;
      a[ip + 3] = 0;
      a[ip + 4] = tcpLen >>> 8;
      a[ip + 5] = tcpLen & 0xff;
      a[ip + 6] = PROTO_TCP;
      a[ip + 7] = TTL;
      for (let i = 0; i < 16; i++) {
        a[ip + 8 + i] = srcIp[i];
        a[ip + 24 + i] = dstIp[i];
      }
    }

    const t = ip + ipH;
    const sp = dir === 0 ? f.clientPort : f.serverPort;
    const dp = dir === 0 ? f.serverPort : f.clientPort;
    const seqHi = seq >>> 16;
    const seqLo = seq & 0xffff;
    const ackHi = ack >>> 16;
    const ackLo = ack & 0xffff;
    const offFlags = ((tcpH >>> 2) << 12) | flags;
    a[t] = sp >>> 8;
    a[t + 1] = sp & 0xff;
    a[t + 2] = dp >>> 8;
    a[t + 3] = dp & 0xff;
    a[t + 4] = seqHi >>> 8;
    a[t + 5] = seqHi & 0xff;
    a[t + 6] = seqLo >>> 8;
    a[t + 7] = seqLo & 0xff;
    a[t + 8] = ackHi >>> 8;
    a[t + 9] = ackHi & 0xff;
    a[t + 10] = ackLo >>> 8;
    a[t + 11] = ackLo & 0xff;
    a[t + 12] = offFlags >>> 8;
    a[t + 13] = offFlags & 0xff;
    a[t + 14] = WINDOW >>> 8;
    a[t + 15] = WINDOW & 0xff;
    a[t + 18] = 0;
    a[t + 19] = 0;
    // RFC 9293 §3.1: pseudo-header (addresses, protocol, TCP length) plus the header's words.
    let sum = f.addrSum + PROTO_TCP + tcpLen + sp + dp + seqHi + seqLo + ackHi + ackLo + offFlags +
      WINDOW;
    if (mssOpt !== 0) {
      a[t + 20] = 2;
      a[t + 21] = 4;
      a[t + 22] = mssOpt >>> 8;
      a[t + 23] = mssOpt & 0xff;
      sum += 0x0204 + mssOpt;
    }
    if (segLen > 0) {
      sum += copyAndSum(payload as Uint8Array, pa, a, t + tcpH, segLen);
    }
    const c = foldChecksum(sum);
    a[t + 16] = c >>> 8;
    a[t + 17] = c & 0xff;
    b.push(off, frameLen, frameLen, sec, nsec, 1, meta);
  }
}
