/**
 * Captured packets in, CTAP records out (shared/spec/ctap-v1.md §2): what a
 * TAP writes, made from a capture. `stitcher pack` encodes the records into
 * objects; `--input-format pcap` hands them straight to the stitcher.
 *
 * TCP (unfragmented IPv4/IPv6) is reassembled into FLOW_OPEN, DATA and
 * FLOW_CLOSE; every other packet becomes a PACKET record: Ethernet and raw IP
 * frames as they are, other link types as raw IP when an IP packet was found
 * in them (else it is skipped and counted). A flow's FLOW_OPEN waits for its
 * ClientHello, to carry the server name, until the flow's first DATA or
 * FLOW_CLOSE; it keeps the time of the flow's start either way.
 *
 * Packets must come in capture time order for the records to be in time
 * order. Records are handed to `onRecord` as they are made: `payload` and
 * `data` are views into the packet's bytes (or the reassembler's copies) and
 * stay valid as long as those are not modified; the record objects are new
 * each time.
 */
import type { CapturedPacket } from "../format/capture.ts";
import {
  type CtapRecord,
  type DecodeProblem,
  REC_DATA,
  REC_FLOW_CLOSE,
  REC_FLOW_OPEN,
  REC_PACKET,
} from "../format/ctap_record.ts";
import { decodeLink, newParsedPacket } from "../net/link.ts";
import { MAX_CLIENT_HELLO, sniffClientHello } from "../tls/client_hello.ts";
import {
  type FlowEndpoints,
  TcpReassembler,
  type TcpReassemblerOptions,
  type TcpSegment,
} from "./tcp_reassembly.ts";

export type CaptureRecord = Exclude<CtapRecord, { type: 127 }>;

export interface CaptureToRecordsOptions {
  /** Metadata stamped on every FLOW_OPEN. */
  user?: string;
  site?: string;
  reassembly?: TcpReassemblerOptions;
  onRecord(r: CaptureRecord): void;
  /** A packet that could not be decoded (it still travels as a PACKET record when it can). */
  onProblem?(where: string, p: DecodeProblem): void;
  /** Each ClientHello read, with the time of the bytes that completed it. */
  onClientHello?(clientRandom: Uint8Array, sec: number, nsec: number): void;
}

export interface CaptureToRecordsStats {
  packets: number;
  tcpSegments: number;
  otherPackets: number;
  skippedPackets: number;
  flows: number;
}

interface PendingOpen {
  sec: number;
  nsec: number;
  c: FlowEndpoints;
}

export class CaptureToRecords {
  readonly stats: CaptureToRecordsStats = {
    packets: 0,
    tcpSegments: 0,
    otherPackets: 0,
    skippedPackets: 0,
    flows: 0,
  };
  readonly reassembler: TcpReassembler;
  private readonly user: string;
  private readonly site: string;
  private readonly onRecord: (r: CaptureRecord) => void;
  private readonly onProblem: (where: string, p: DecodeProblem) => void;
  private readonly onClientHello: (random: Uint8Array, sec: number, nsec: number) => void;
  /** The client's first bytes of each flow, until its ClientHello is read. */
  private readonly helloBytes = new Map<number, Uint8Array>();
  private readonly serverNames = new Map<number, string>();
  private readonly pendingOpens = new Map<number, PendingOpen>();
  private readonly pkt = newParsedPacket();
  private readonly seg: TcpSegment = {
    sec: 0,
    nsec: 0,
    ipVersion: 4,
    src: new Uint8Array(4),
    dst: new Uint8Array(4),
    sport: 0,
    dport: 0,
    seq: 0,
    ack: 0,
    flags: 0,
    window: 0,
    payload: new Uint8Array(0),
  };
  private lastSec = 0;
  private lastNsec = 0;

  constructor(opts: CaptureToRecordsOptions) {
    this.user = opts.user ?? "";
    this.site = opts.site ?? "";
    this.onRecord = opts.onRecord;
    this.onProblem = opts.onProblem ?? (() => {});
    this.onClientHello = opts.onClientHello ?? (() => {});
    this.reassembler = new TcpReassembler({
      open: (flow, sec, nsec, c) => {
        this.stats.flows++;
        this.pendingOpens.set(flow, {
          sec,
          nsec,
          c: { ...c, clientIp: c.clientIp.slice(), serverIp: c.serverIp.slice() },
        });
      },
      data: (flow, dir, offset, payload, sec, nsec) => {
        if (dir === 0 && offset === 0 || this.helloBytes.has(flow)) {
          this.sniff(flow, dir, offset, payload, sec, nsec);
        }
        this.writeOpen(flow);
        this.onRecord({ type: REC_DATA, flow, sec, nsec, dir, offset, payload });
      },
      close: (flow, dir, kind, finalOffset, sec, nsec) => {
        this.writeOpen(flow);
        this.helloBytes.delete(flow);
        this.serverNames.delete(flow);
        this.onRecord({ type: REC_FLOW_CLOSE, flow, sec, nsec, dir, kind, finalOffset });
      },
    }, opts.reassembly);
  }

  /**
   * Handles one packet. `where` and `index` name it in problems (the capture
   * file and the packet's number in it).
   */
  packet(p: CapturedPacket, where: string, index: number): void {
    this.stats.packets++;
    if (p.sec > this.lastSec || (p.sec === this.lastSec && p.nsec > this.lastNsec)) {
      this.lastSec = p.sec;
      this.lastNsec = p.nsec;
    }
    const pkt = this.pkt;
    let ok = false;
    try {
      ok = decodeLink(p.linkType, p.data, pkt);
    } catch (e) {
      this.onProblem(where, {
        kind: "malformed_packet",
        offset: index,
        detail: `packet ${index}: ${(e as Error).message}; kept as a PACKET record`,
      });
    }
    if (ok && pkt.ipProto === 6 && !pkt.isFragment) {
      const seg = this.seg;
      seg.sec = p.sec;
      seg.nsec = p.nsec;
      seg.ipVersion = pkt.ipVersion as 4 | 6;
      seg.src = pkt.src;
      seg.dst = pkt.dst;
      seg.sport = pkt.sport;
      seg.dport = pkt.dport;
      seg.seq = pkt.seq;
      seg.ack = pkt.ack;
      seg.flags = pkt.tcpFlags;
      seg.window = pkt.window;
      seg.payload = pkt.payload;
      this.reassembler.segment(seg);
      this.stats.tcpSegments++;
      return;
    }
    let linkType = p.linkType;
    let data = p.data;
    if (linkType !== 1 && linkType !== 101) {
      if (!ok) {
        this.stats.skippedPackets++;
        return;
      }
      linkType = 101;
      data = p.data.subarray(pkt.l3Offset, pkt.l4End);
    }
    this.stats.otherPackets++;
    this.onRecord({
      type: REC_PACKET,
      sec: p.sec,
      nsec: p.nsec,
      linkType,
      origLen: p.origLen - (p.data.length - data.length),
      data,
    });
  }

  /** End of input: open flows are closed (timeout, at the last packet's time) and flushed. */
  finish(): void {
    this.reassembler.finish(this.lastSec, this.lastNsec);
    for (const flow of [...this.pendingOpens.keys()]) this.writeOpen(flow);
  }

  private writeOpen(flow: number): void {
    const p = this.pendingOpens.get(flow);
    if (p === undefined) return;
    this.pendingOpens.delete(flow);
    this.onRecord({
      type: REC_FLOW_OPEN,
      flow,
      sec: p.sec,
      nsec: p.nsec,
      ipVersion: p.c.ipVersion,
      ipProto: 6,
      clientPort: p.c.clientPort,
      serverPort: p.c.serverPort,
      clientIp: p.c.clientIp,
      serverIp: p.c.serverIp,
      user: this.user,
      site: this.site,
      serverName: this.serverNames.get(flow) ?? "",
    });
  }

  private sniff(
    flow: number,
    dir: 0 | 1,
    offset: number,
    payload: Uint8Array,
    sec: number,
    nsec: number,
  ): void {
    if (dir !== 0) return;
    const held = this.helloBytes.get(flow);
    let bytes = payload;
    if (held !== undefined) {
      if (offset !== held.length) { // a gap: the hello cannot be read
        this.helloBytes.delete(flow);
        return;
      }
      bytes = new Uint8Array(held.length + payload.length);
      bytes.set(held);
      bytes.set(payload, held.length);
    }
    const hello = sniffClientHello(bytes);
    if (hello === "more" && bytes.length < MAX_CLIENT_HELLO) {
      this.helloBytes.set(flow, bytes === payload ? payload.slice() : bytes);
      return;
    }
    this.helloBytes.delete(flow);
    if (hello !== null && hello !== "more") {
      this.serverNames.set(flow, hello.serverName);
      this.onClientHello(hello.random, sec, nsec);
    }
  }
}
