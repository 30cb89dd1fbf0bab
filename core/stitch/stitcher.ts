/**
 * The flow table: turns time-ordered CTAP records into wire packets.
 *
 * Flows are keyed by (origin, flow id). Each direction is reassembled by
 * offset: bytes already sent are dropped (duplicates) or trimmed (overlaps),
 * bytes ahead of the next expected offset wait (bounded) for the hole to
 * fill; a hole that never fills becomes a gap, visible in the output as a
 * sequence jump, never as invented bytes. Records for a flow whose FLOW_OPEN
 * has not been seen yet (ctap-v1 §2: it may be stored later) wait as orphans,
 * bounded, and are replayed after the handshake.
 *
 * Everything per flow is plain data (`FlowEntry`), so that continuous mode can
 * checkpoint it later.
 */
import type { FlowMeta } from "../plugin.ts";
import {
  CLOSE_FIN,
  CLOSE_RST,
  type CtapRecord,
  type DataRecord,
  type FlowCloseRecord,
  type FlowKey,
  type FlowOpenRecord,
  type PacketRecord,
  REC_DATA,
  REC_FLOW_CLOSE,
  REC_FLOW_OPEN,
  REC_PACKET,
} from "../format/ctap_record.ts";
import type { RunReport } from "../run/report.ts";
import { decodeLink, newParsedPacket } from "../net/link.ts";
import type { PacketBatch } from "./packet_batch.ts";
import { macForIp, newSynthFlow, type SynthFlow, type TcpSynthesizer } from "./synth.ts";

interface Held {
  offset: number;
  payload: Uint8Array;
  sec: number;
  nsec: number;
}

export interface FlowEntry {
  meta: FlowMeta;
  synth: SynthFlow;
  /** Out-of-order data per direction, sorted by offset. */
  pending: [Held[], Held[]];
  pendingBytes: [number, number];
  fin: [boolean, boolean];
  /** Midstream flows (opened before the time window) start where data starts. */
  started: [boolean, boolean];
}

export interface StitcherOptions {
  /** Out-of-order bytes held per direction before the hole is declared a gap. */
  maxPendingBytesPerDirection?: number;
  /** Bytes held for flows whose FLOW_OPEN has not been seen yet. */
  maxOrphanBytes?: number;
  /** Records before this time are not exported (FLOW_OPEN still sets up the flow). */
  windowStart?: { sec: number; nsec: number } | null;
}

interface Orphan {
  records: (DataRecord | FlowCloseRecord)[];
  bytes: number;
}

export class Stitcher {
  private readonly flows = new Map<string, Map<FlowKey, FlowEntry>>();
  private readonly done = new Map<string, Set<FlowKey>>();
  private readonly orphans = new Map<string, Map<FlowKey, Orphan>>();
  private orphanBytes = 0;
  private lastSec = 0;
  private lastNsec = 0;
  private readonly maxPending: number;
  private readonly maxOrphanBytes: number;
  private readonly windowStart: { sec: number; nsec: number } | null;
  private readonly parsed = newParsedPacket();

  constructor(
    private readonly synth: TcpSynthesizer,
    private readonly batch: PacketBatch,
    private readonly report: RunReport,
    opts: StitcherOptions = {},
  ) {
    this.maxPending = opts.maxPendingBytesPerDirection ?? 4 * 1024 * 1024;
    this.maxOrphanBytes = opts.maxOrphanBytes ?? 64 * 1024 * 1024;
    this.windowStart = opts.windowStart ?? null;
  }

  /** Flows currently open. */
  get openFlows(): number {
    let n = 0;
    for (const m of this.flows.values()) n += m.size;
    return n;
  }

  /** Handles one record, released in time order, from an object of `origin`. */
  record(r: CtapRecord, origin: string): void {
    switch (r.type) {
      case REC_FLOW_OPEN:
        return this.open(r, origin);
      case REC_DATA:
      case REC_FLOW_CLOSE: {
        const f = this.flows.get(origin)?.get(r.flow);
        if (f !== undefined) {
          if (r.type === REC_DATA) this.data(f, r, origin);
          else this.close(f, r, origin);
        } else if (this.done.get(origin)?.has(r.flow)) {
          this.report.flows.lateRecords++;
        } else {
          this.holdOrphan(r, origin);
        }
        return;
      }
      case REC_PACKET:
        return this.packet(r);
    }
  }

  /** End of input: what is still held is flushed (gaps recorded) or reported. */
  finish(): void {
    for (const [origin, table] of this.flows) {
      for (const f of table.values()) {
        for (const dir of [0, 1] as const) this.drain(f, dir, true, origin);
        this.report.flows.openAtEnd++;
      }
    }
    this.flows.clear();
    for (const [origin, table] of this.orphans) {
      for (const [flow, o] of table) {
        this.report.flows.orphaned++;
        this.report.flows.orphanedBytes += o.bytes;
        this.report.problem({
          where: `${origin} flow ${flow}`,
          kind: "orphan_flow",
          detail:
            `${o.records.length} records (${o.bytes} bytes) for a flow whose FLOW_OPEN was never read`,
        });
      }
    }
    this.orphans.clear();
    this.orphanBytes = 0;
  }

  /** Output time: the record's time, never before a packet already emitted. */
  private stamp(sec: number, nsec: number): void {
    if (sec > this.lastSec || (sec === this.lastSec && nsec > this.lastNsec)) {
      this.lastSec = sec;
      this.lastNsec = nsec;
    }
  }

  private beforeWindow(sec: number, nsec: number): boolean {
    const w = this.windowStart;
    return w !== null && (sec < w.sec || (sec === w.sec && nsec < w.nsec));
  }

  private open(r: FlowOpenRecord, origin: string): void {
    let table = this.flows.get(origin);
    if (table === undefined) this.flows.set(origin, table = new Map());
    if (table.has(r.flow)) {
      this.report.problem({
        where: `${origin} flow ${r.flow}`,
        kind: "duplicate_open",
        detail: "FLOW_OPEN for a flow that is already open; ignored",
      });
      return;
    }
    if (r.ipProto !== 6) {
      this.report.problem({
        where: `${origin} flow ${r.flow}`,
        kind: "unsupported_protocol",
        detail: `FLOW_OPEN with IP protocol ${r.ipProto}; only TCP (6) flows are stitched`,
      });
      return;
    }
    const meta: FlowMeta = {
      origin,
      flow: r.flow,
      user: r.user,
      site: r.site,
      serverName: r.serverName,
      decrypted: false,
    };
    const f: FlowEntry = {
      meta,
      synth: newSynthFlow({
        ipVersion: r.ipVersion,
        clientIp: r.clientIp,
        serverIp: r.serverIp,
        clientPort: r.clientPort,
        serverPort: r.serverPort,
        origin,
        flow: r.flow,
      }),
      pending: [[], []],
      pendingBytes: [0, 0],
      fin: [false, false],
      started: [true, true],
    };
    table.set(r.flow, f);
    this.report.flows.opened++;
    if (this.beforeWindow(r.sec, r.nsec)) {
      this.report.flows.midstream++;
      f.started = [false, false];
    } else {
      this.stamp(r.sec, r.nsec);
      this.synth.handshake(this.batch, f.synth, meta, this.lastSec, this.lastNsec);
      this.report.packets.synthesized += 3;
    }
    const orphan = this.orphans.get(origin)?.get(r.flow);
    if (orphan !== undefined) {
      this.orphans.get(origin)!.delete(r.flow);
      this.orphanBytes -= orphan.bytes;
      for (const o of orphan.records) {
        if (!table.has(r.flow)) break;
        if (o.type === REC_DATA) this.data(f, o, origin);
        else this.close(f, o, origin);
      }
    }
  }

  private holdOrphan(r: DataRecord | FlowCloseRecord, origin: string): void {
    const bytes = r.type === REC_DATA ? r.payload.length : 0;
    if (this.orphanBytes + bytes > this.maxOrphanBytes) {
      this.report.flows.orphanedBytes += bytes;
      this.report.problem({
        where: `${origin} flow ${r.flow}`,
        kind: "orphan_dropped",
        detail:
          `record for an unopened flow dropped: orphan buffer full (${this.maxOrphanBytes} bytes)`,
      });
      return;
    }
    let table = this.orphans.get(origin);
    if (table === undefined) this.orphans.set(origin, table = new Map());
    let o = table.get(r.flow);
    if (o === undefined) table.set(r.flow, o = { records: [], bytes: 0 });
    o.records.push(r);
    o.bytes += bytes;
    this.orphanBytes += bytes;
  }

  private data(f: FlowEntry, r: DataRecord, origin: string): void {
    const dir = r.dir;
    let payload = r.payload;
    let offset = r.offset;
    if (payload.length === 0) return;
    if (this.beforeWindow(r.sec, r.nsec)) {
      this.report.records.outsideWindow++;
      return;
    }
    if (f.fin[dir]) {
      this.report.flows.lateRecords++;
      return;
    }
    if (!f.started[dir]) {
      f.started[dir] = true;
      f.synth.next[dir] = offset;
      f.synth.acked[dir] = offset;
    }
    const next = f.synth.next[dir];
    if (offset + payload.length <= next) {
      this.report.bytes.duplicate += payload.length;
      return;
    }
    if (offset < next) {
      this.report.bytes.overlap += next - offset;
      payload = payload.subarray(next - offset);
      offset = next;
    }
    if (offset > next) {
      this.hold(f, dir, offset, payload, r.sec, r.nsec, origin);
      return;
    }
    this.emitData(f, dir, offset, payload, r.sec, r.nsec);
    if (f.pending[dir].length > 0) this.drain(f, dir, false, origin);
  }

  private emitData(
    f: FlowEntry,
    dir: 0 | 1,
    offset: number,
    payload: Uint8Array,
    sec: number,
    nsec: number,
  ): void {
    this.stamp(sec, nsec);
    const before = this.batch.count;
    this.synth.data(this.batch, f.synth, f.meta, dir, offset, payload, this.lastSec, this.lastNsec);
    this.report.packets.synthesized += this.batch.count - before;
    this.report.bytes.payload += payload.length;
  }

  private hold(
    f: FlowEntry,
    dir: 0 | 1,
    offset: number,
    payload: Uint8Array,
    sec: number,
    nsec: number,
    origin: string,
  ): void {
    const list = f.pending[dir];
    let i = list.length;
    while (i > 0 && list[i - 1].offset > offset) i--;
    list.splice(i, 0, { offset, payload, sec, nsec });
    f.pendingBytes[dir] += payload.length;
    if (f.pendingBytes[dir] > this.maxPending) this.drain(f, dir, true, origin);
  }

  /**
   * Sends what pending data has become contiguous; with `skipHoles`, jumps
   * each hole (recording it as a gap) until nothing is pending.
   */
  private drain(f: FlowEntry, dir: 0 | 1, skipHoles: boolean, origin: string): void {
    const list = f.pending[dir];
    let i = 0;
    while (i < list.length) {
      const h = list[i];
      const next = f.synth.next[dir];
      let payload = h.payload;
      let offset = h.offset;
      if (offset > next) {
        if (!skipHoles) break;
        this.gap(f, dir, next, offset, origin);
      }
      if (offset + payload.length <= f.synth.next[dir]) {
        this.report.bytes.duplicate += payload.length;
      } else {
        if (offset < f.synth.next[dir]) {
          const cut = f.synth.next[dir] - offset;
          this.report.bytes.overlap += cut;
          payload = payload.subarray(cut);
          offset += cut;
        }
        this.emitData(f, dir, offset, payload, h.sec, h.nsec);
      }
      f.pendingBytes[dir] -= h.payload.length;
      i++;
    }
    if (i > 0) list.splice(0, i);
  }

  private gap(f: FlowEntry, dir: 0 | 1, from: number, to: number, origin: string): void {
    this.report.gaps.count++;
    this.report.gaps.bytes += to - from;
    this.report.problem({
      where: `${origin} flow ${f.meta.flow}`,
      kind: "gap",
      offset: from,
      detail: `direction ${dir}: bytes ${from}..${to} never arrived (${to - from} bytes)`,
    });
  }

  private close(f: FlowEntry, r: FlowCloseRecord, origin: string): void {
    const dir = r.dir;
    if (this.beforeWindow(r.sec, r.nsec)) {
      this.report.records.outsideWindow++;
      return;
    }
    if (f.fin[dir]) return;
    this.drain(f, dir, true, origin);
    if (f.started[dir] && r.finalOffset > f.synth.next[dir]) {
      this.gap(f, dir, f.synth.next[dir], r.finalOffset, origin);
    }
    const end = Math.max(r.finalOffset, f.synth.next[dir]);
    this.stamp(r.sec, r.nsec);
    const before = this.batch.count;
    if (r.kind === CLOSE_FIN) {
      this.synth.fin(this.batch, f.synth, f.meta, dir, end, this.lastSec, this.lastNsec);
      f.fin[dir] = true;
      if (f.fin[0] && f.fin[1]) {
        this.report.flows.closedFin++;
        this.retire(f, origin);
      }
    } else if (r.kind === CLOSE_RST) {
      this.synth.rst(this.batch, f.synth, f.meta, dir, end, this.lastSec, this.lastNsec);
      this.report.flows.closedRst++;
      this.retire(f, origin);
    } else {
      this.drain(f, dir === 0 ? 1 : 0, true, origin);
      this.report.flows.closedTimeout++;
      this.retire(f, origin);
    }
    this.report.packets.synthesized += this.batch.count - before;
  }

  private retire(f: FlowEntry, origin: string): void {
    this.flows.get(origin)?.delete(f.meta.flow);
    let d = this.done.get(origin);
    if (d === undefined) this.done.set(origin, d = new Set());
    d.add(f.meta.flow);
  }

  /**
   * A PACKET whose headers claim more bytes than it holds, while its
   * original length says nothing was cut, is malformed: reported and
   * skipped, so sensors never see it. Packets cut by a snap length pass.
   */
  private wellFormed(r: PacketRecord): boolean {
    if (r.linkType !== 1 && r.linkType !== 101) return true;
    try {
      decodeLink(r.linkType, r.data, this.parsed);
      return true;
    } catch (e) {
      if (r.origLen > r.data.length) return true;
      this.report.problem({
        where: "PACKET record",
        kind: "malformed_packet",
        detail: `packet at ${r.sec}.${String(r.nsec).padStart(9, "0")} s: ${
          (e as Error).message
        }; skipped`,
      });
      return false;
    }
  }

  private packet(r: PacketRecord): void {
    if (this.beforeWindow(r.sec, r.nsec)) {
      this.report.records.outsideWindow++;
      return;
    }
    if (!this.wellFormed(r)) return;
    this.stamp(r.sec, r.nsec);
    if (r.linkType === 1) {
      this.batch.pushCopy(r.data, r.origLen, this.lastSec, this.lastNsec, 1, null);
    } else if (r.linkType === 101 && r.data.length > 0) {
      const version = r.data[0] >> 4;
      const b = this.batch;
      const off = b.alloc(14 + r.data.length);
      const a = b.arena;
      if (version === 4 && r.data.length >= 20) {
        a.set(macForIp(r.data.subarray(16, 20)), off);
        a.set(macForIp(r.data.subarray(12, 16)), off + 6);
      } else if (version === 6 && r.data.length >= 40) {
        a.set(macForIp(r.data.subarray(24, 40)), off);
        a.set(macForIp(r.data.subarray(8, 24)), off + 6);
      } else {
        a.fill(0, off, off + 12);
      }
      a[off + 12] = version === 6 ? 0x86 : 0x08;
      a[off + 13] = version === 6 ? 0xdd : 0x00;
      a.set(r.data, off + 14);
      b.push(off, 14 + r.data.length, r.origLen + 14, this.lastSec, this.lastNsec, 1, null);
    } else {
      this.report.problem({
        where: "PACKET record",
        kind: "unsupported_link_type",
        detail: `link type ${r.linkType} cannot be exported as Ethernet; skipped`,
      });
      return;
    }
    this.report.packets.passedThrough++;
  }
}
