/**
 * The flow table: turns time-ordered CTAP records into wire packets.
 *
 * Flows are keyed by (origin, flow id). Each direction is reassembled by
 * offset: bytes already delivered are dropped (duplicates) or trimmed
 * (overlaps), bytes ahead of the next expected offset wait (bounded) for the
 * hole to fill; a hole that never fills becomes a gap, visible in the output
 * as a sequence jump, never as invented bytes. Records for a flow whose
 * FLOW_OPEN has not been seen yet (ctap-v1 §2: it may be stored later) wait
 * as orphans, bounded, and are replayed after the handshake.
 *
 * With TLS decryption (`tls.mode` "decrypt"), each flow's in-order bytes also
 * go through a `TlsSession`, made with the flow's first bytes unless those
 * are the client's and cannot start a TLS handshake record (then the flow is
 * plain at once, as the session would find). Until the session knows whether it will decrypt
 * (keys found and suite supported, after the ServerHello), the flow's bytes
 * are deferred (bounded by `maxPendingBytes` over all flows); then the flow
 * is synthesized anew carrying only application plaintext (ports remapped by
 * `portMap`), or exported as it was, or dropped (`undecryptable`). The
 * stitcher is run behind the key ingestion by `--key-wait`, so every key that
 * arrives in time is already in the store when a ClientHello is read.
 * In "transparent" mode nothing is decrypted: the session secrets of each
 * flow are queued (`takeSecrets`) right after its ClientHello is exported.
 *
 * Everything per flow is plain data (`FlowEntry`) but the TLS session, so
 * that continuous mode can checkpoint it later.
 */
import type { FlowMeta, SessionSecret } from "../plugin.ts";
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
import { sessionSecrets } from "../tls/key_store.ts";
import { MAX_CLIENT_HELLO, sniffClientHello } from "../tls/client_hello.ts";
import { CT_HANDSHAKE } from "../tls/record.ts";
import { TlsSession, type TlsSessionBackends, type TlsSessionKeys } from "../tls/session.ts";
import type { PacketBatch } from "./packet_batch.ts";
import { macForIp, newSynthFlow, type SynthFlow, type TcpSynthesizer } from "./synth.ts";

interface Held {
  offset: number;
  payload: Uint8Array;
  sec: number;
  nsec: number;
}

/** A flow's bytes or close, held while its TLS session decides. */
type Deferred =
  | { close: null; dir: 0 | 1; offset: number; payload: Uint8Array; sec: number; nsec: number }
  | { close: FlowCloseRecord };

type TlsMode = "undecided" | "decrypted" | "original" | "dropped" | "broken";

interface TlsFlow {
  /** Decrypt mode: made with the flow's first bytes (`sessionFor`). */
  session: TlsSession | null;
  mode: TlsMode;
  deferred: Deferred[];
  deferredBytes: number;
  /** Transparent mode: the client's first bytes until its ClientHello is read. */
  hello: Uint8Array | null;
  helloDone: boolean;
}

export interface FlowEntry {
  meta: FlowMeta;
  origin: string;
  open: FlowOpenRecord;
  /** Null until the flow's first packet is synthesized (TLS flows wait for a decision). */
  synth: SynthFlow | null;
  /** Next expected offset of each direction's original stream. */
  next: [number, number];
  /** Out-of-order data per direction, sorted by offset. */
  pending: [Held[], Held[]];
  pendingBytes: [number, number];
  fin: [boolean, boolean];
  /** Midstream flows (opened before the time window) start where data starts. */
  started: [boolean, boolean];
  tls: TlsFlow | null;
}

export interface TlsOptions {
  mode: "decrypt" | "transparent";
  keys: TlsSessionKeys;
  backends: TlsSessionBackends;
  /** What to do with a flow that cannot be decrypted: export it as it was, or drop it. */
  undecryptable: "pass" | "drop";
  /** Server port of decrypted flows, e.g. 443 → 80 (PolarProxy style). */
  portMap: ReadonlyMap<number, number>;
  /** Bytes deferred over all flows while their sessions decide. */
  maxPendingBytes: number;
}

export interface StitcherOptions {
  /** Out-of-order bytes held per direction before the hole is declared a gap. */
  maxPendingBytesPerDirection?: number;
  /** Bytes held for flows whose FLOW_OPEN has not been seen yet. */
  maxOrphanBytes?: number;
  /** Records before this time are not exported (FLOW_OPEN still sets up the flow). */
  windowStart?: { sec: number; nsec: number } | null;
  tls?: TlsOptions | null;
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
  private deferredBytes = 0;
  private lastSec = 0;
  private lastNsec = 0;
  private readonly maxPending: number;
  private readonly maxOrphanBytes: number;
  private readonly windowStart: { sec: number; nsec: number } | null;
  private readonly tls: TlsOptions | null;
  private readonly parsed = newParsedPacket();
  private secretsOut: SessionSecret[] = [];

  constructor(
    private readonly synth: TcpSynthesizer,
    private readonly out: { readonly batch: PacketBatch },
    private readonly report: RunReport,
    opts: StitcherOptions = {},
  ) {
    this.maxPending = opts.maxPendingBytesPerDirection ?? 4 * 1024 * 1024;
    this.maxOrphanBytes = opts.maxOrphanBytes ?? 64 * 1024 * 1024;
    this.windowStart = opts.windowStart ?? null;
    this.tls = opts.tls ?? null;
  }

  /** The batch packets go to now (the output switches batches as it writes). */
  private get batch(): PacketBatch {
    return this.out.batch;
  }

  /** True when session secrets wait to go to the exporters (after the packets already batched). */
  get hasSecrets(): boolean {
    return this.secretsOut.length > 0;
  }

  takeSecrets(): SessionSecret[] {
    const s = this.secretsOut;
    this.secretsOut = [];
    return s;
  }

  /** Handles one record, released in time order, from an object of `origin`. */
  record(r: CtapRecord, origin: string): void {
    switch (r.type) {
      case REC_FLOW_OPEN:
        return this.open(r, origin);
      case REC_DATA:
      case REC_FLOW_CLOSE: {
        const f = this.flows.get(origin)?.get(r.flow);
        if (this.beforeWindow(r.sec, r.nsec)) return this.beforeWindowRecord(f, r);
        if (f !== undefined) {
          if (r.type === REC_DATA) this.data(f, r);
          else this.close(f, r);
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

  /**
   * A record before the time window is not exported; a close there still
   * ends its direction (or the flow), so the flow is not reported open.
   */
  private beforeWindowRecord(f: FlowEntry | undefined, r: DataRecord | FlowCloseRecord): void {
    this.report.records.outsideWindow++;
    if (f === undefined || r.type !== REC_FLOW_CLOSE) return;
    if (r.kind === CLOSE_FIN) {
      f.fin[r.dir] = true;
      if (!f.fin[0] || !f.fin[1]) return;
    }
    this.retire(f);
  }

  /** End of input: what is still held is flushed (gaps recorded) or reported. */
  finish(): void {
    for (const table of this.flows.values()) {
      for (const f of table.values()) {
        for (const dir of [0, 1] as const) this.drain(f, dir, true);
        if (f.tls?.mode === "undecided") this.forceDecision(f, "incomplete_handshake");
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

  private count(key: string, n = 1): void {
    const d = this.report.decryption;
    d[key] = (d[key] ?? 0) + n;
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
    const f: FlowEntry = {
      meta: {
        origin,
        flow: r.flow,
        user: r.user,
        site: r.site,
        serverName: r.serverName,
        decrypted: false,
      },
      origin,
      open: r,
      synth: null,
      next: [0, 0],
      pending: [[], []],
      pendingBytes: [0, 0],
      fin: [false, false],
      started: [true, true],
      tls: null,
    };
    table.set(r.flow, f);
    this.report.flows.opened++;
    const midstream = this.beforeWindow(r.sec, r.nsec);
    if (midstream) {
      this.report.flows.midstream++;
      f.started = [false, false];
      this.startSynth(f, false);
    } else if (this.tls?.mode === "decrypt") {
      f.tls = {
        session: null,
        mode: "undecided",
        deferred: [],
        deferredBytes: 0,
        hello: null,
        helloDone: false,
      };
    } else {
      if (this.tls?.mode === "transparent") {
        f.tls = {
          session: null,
          mode: "original",
          deferred: [],
          deferredBytes: 0,
          hello: null,
          helloDone: false,
        };
      }
      this.startSynth(f, true);
    }
    const orphan = this.orphans.get(origin)?.get(r.flow);
    if (orphan !== undefined) {
      this.orphans.get(origin)!.delete(r.flow);
      this.orphanBytes -= orphan.bytes;
      for (const o of orphan.records) {
        if (!table.has(r.flow)) break;
        if (o.type === REC_DATA) this.data(f, o);
        else this.close(f, o);
      }
    }
  }

  /** Creates the flow's synthesis state and, unless midstream, sends the handshake. */
  private startSynth(f: FlowEntry, handshake: boolean, decrypted = false): void {
    const r = f.open;
    const serverPort = decrypted
      ? this.tls?.portMap.get(r.serverPort) ?? r.serverPort
      : r.serverPort;
    f.synth = newSynthFlow({
      ipVersion: r.ipVersion,
      clientIp: r.clientIp,
      serverIp: r.serverIp,
      clientPort: r.clientPort,
      serverPort,
      origin: f.origin,
      flow: r.flow,
    });
    f.meta.decrypted = decrypted;
    if (!handshake) return;
    this.stamp(r.sec, r.nsec);
    this.synth.handshake(this.batch, f.synth, f.meta, this.lastSec, this.lastNsec);
    this.report.packets.synthesized += 3;
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

  private data(f: FlowEntry, r: DataRecord): void {
    const { dir, offset, payload } = r;
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
      f.next[dir] = offset;
      f.synth!.next[dir] = offset;
      f.synth!.acked[dir] = offset;
    }
    if (offset > f.next[dir]) {
      this.hold(f, dir, offset, payload, r.sec, r.nsec);
      return;
    }
    this.deliverNew(f, dir, offset, payload, r.sec, r.nsec);
    if (f.pending[dir].length > 0) this.drain(f, dir, false);
  }

  /** Drops what was already delivered (duplicates), trims overlaps, delivers the rest. */
  private deliverNew(
    f: FlowEntry,
    dir: 0 | 1,
    offset: number,
    payload: Uint8Array,
    sec: number,
    nsec: number,
  ): void {
    const next = f.next[dir];
    if (offset + payload.length <= next) {
      this.report.bytes.duplicate += payload.length;
      return;
    }
    if (offset < next) {
      this.report.bytes.overlap += next - offset;
      payload = payload.subarray(next - offset);
      offset = next;
    }
    this.deliver(f, dir, offset, payload, sec, nsec);
  }

  /** In-order bytes of the original stream (offset may jump past a recorded gap). */
  private deliver(
    f: FlowEntry,
    dir: 0 | 1,
    offset: number,
    payload: Uint8Array,
    sec: number,
    nsec: number,
  ): void {
    f.next[dir] = offset + payload.length;
    const t = f.tls;
    if (t === null || t.mode === "original") {
      this.emitOriginal(f, dir, offset, payload, sec, nsec);
      return;
    }
    if (t.mode === "dropped" || t.mode === "broken") {
      this.count(
        t.mode === "dropped" ? "dropped_bytes" : "lost_after_failure_bytes",
        payload.length,
      );
      return;
    }
    if (t.mode === "undecided") {
      if (t.session === null && dir === 0 && payload[0] !== CT_HANDSHAKE) {
        // A plain flow (most of the non-TLS traffic): no session to make.
        this.decide(f, "original", null);
        this.emitOriginal(f, dir, offset, payload, sec, nsec);
        return;
      }
      t.deferred.push({ close: null, dir, offset, payload, sec, nsec });
      t.deferredBytes += payload.length;
      this.deferredBytes += payload.length;
    }
    this.sessionFor(f).push(dir, payload, sec, nsec);
    this.settle(f);
    if (t.mode === "undecided" && this.deferredBytes > this.tls!.maxPendingBytes) {
      this.forceDecision(f, "too_much_pending");
    }
  }

  private emitOriginal(
    f: FlowEntry,
    dir: 0 | 1,
    offset: number,
    payload: Uint8Array,
    sec: number,
    nsec: number,
  ): void {
    this.stamp(sec, nsec);
    const before = this.batch.count;
    this.synth.data(
      this.batch,
      f.synth!,
      f.meta,
      dir,
      offset,
      payload,
      this.lastSec,
      this.lastNsec,
    );
    this.report.packets.synthesized += this.batch.count - before;
    this.report.bytes.payload += payload.length;
    const t = f.tls;
    if (t !== null && dir === 0 && !t.helloDone && this.tls?.mode === "transparent") {
      this.sniffForSecrets(t, payload);
    }
  }

  /** Transparent mode: the ClientHello's random names the secrets to hand on. */
  private sniffForSecrets(t: TlsFlow, payload: Uint8Array): void {
    let bytes = payload;
    if (t.hello !== null) {
      bytes = new Uint8Array(t.hello.length + payload.length);
      bytes.set(t.hello);
      bytes.set(payload, t.hello.length);
    }
    const hello = sniffClientHello(bytes);
    if (hello === "more" && bytes.length < MAX_CLIENT_HELLO) {
      t.hello = bytes === payload ? payload.slice() : bytes;
      return;
    }
    t.hello = null;
    t.helloDone = true;
    if (hello === null || hello === "more") return;
    this.count("tls_flows");
    const keys = this.tls!.keys.lookup(hello.random);
    if (keys === null) {
      this.count("no_key");
      return;
    }
    this.count("secrets_exported");
    for (const s of sessionSecrets(hello.random, keys)) this.secretsOut.push(s);
  }

  /** The flow's TLS session (decrypt mode), made on first use. */
  private sessionFor(f: FlowEntry): TlsSession {
    const t = f.tls!;
    t.session ??= new TlsSession(this.tls!.keys, this.tls!.backends, {
      plaintext: (dir, data, sec, nsec) => this.plaintext(f, dir, data, sec, nsec),
    });
    return t.session;
  }

  /** Application plaintext from a flow's TLS session. */
  private plaintext(f: FlowEntry, dir: 0 | 1, data: Uint8Array, sec: number, nsec: number): void {
    const t = f.tls!;
    if (t.mode === "undecided") this.settle(f);
    if (t.mode !== "decrypted" || f.fin[dir] || data.length === 0) return;
    this.stamp(sec, nsec);
    const s = f.synth!;
    const before = this.batch.count;
    this.synth.data(this.batch, s, f.meta, dir, s.next[dir], data, this.lastSec, this.lastNsec);
    this.report.packets.synthesized += this.batch.count - before;
    this.report.bytes.payload += data.length;
    this.count("plaintext_bytes", data.length);
  }

  /** Acts on what the session has learned: a decision, or a failure after decrypting began. */
  private settle(f: FlowEntry): void {
    const t = f.tls!;
    const s = this.sessionFor(f);
    if (t.mode === "undecided" && s.decided) {
      if (s.state === "decrypting") this.decide(f, "decrypted", null);
      else if (s.state === "not_tls") this.decide(f, "original", null);
      else this.decide(f, this.tls!.undecryptable === "drop" ? "dropped" : "original", s.failure);
    } else if (t.mode === "decrypted" && s.state === "failed") {
      t.mode = "broken";
      this.count(`failed_after_start_${s.failure}`);
    }
  }

  /** Decides a flow whose session cannot (any more) decide by itself. */
  private forceDecision(f: FlowEntry, reason: string): void {
    const t = f.tls!;
    if (t.mode !== "undecided") return;
    const s = t.session;
    if (s === null) return this.decide(f, "original", null); // no bytes ever came
    if (s.decided && s.state === "decrypting") return this.decide(f, "decrypted", null);
    if (s.state === "not_tls" || s.state === "detecting") return this.decide(f, "original", null);
    this.decide(
      f,
      this.tls!.undecryptable === "drop" ? "dropped" : "original",
      s.failure ?? reason,
    );
  }

  private decide(
    f: FlowEntry,
    mode: "decrypted" | "original" | "dropped",
    failure: string | null,
  ): void {
    const t = f.tls!;
    t.mode = mode;
    const deferred = t.deferred;
    t.deferred = [];
    this.deferredBytes -= t.deferredBytes;
    t.deferredBytes = 0;
    if (failure !== null || mode === "decrypted") this.count("tls_flows");
    if (failure !== null) this.count(`undecryptable_${failure}`);
    if (mode === "decrypted") {
      this.count("decrypted");
      this.startSynth(f, true, true);
      // What was deferred is either ciphertext (superseded by plaintext) or
      // closes, which still apply.
      for (const d of deferred) if (d.close !== null) this.closeNow(f, d.close);
      return;
    }
    if (mode === "dropped") {
      this.count("dropped");
      for (const d of deferred) if (d.close !== null) this.closeNow(f, d.close);
      return;
    }
    if (failure === null) this.count("not_tls");
    this.startSynth(f, true);
    for (const d of deferred) {
      if (d.close !== null) this.closeNow(f, d.close);
      else this.emitOriginal(f, d.dir, d.offset, d.payload, d.sec, d.nsec);
    }
  }

  private hold(
    f: FlowEntry,
    dir: 0 | 1,
    offset: number,
    payload: Uint8Array,
    sec: number,
    nsec: number,
  ): void {
    const list = f.pending[dir];
    let i = list.length;
    while (i > 0 && list[i - 1].offset > offset) i--;
    list.splice(i, 0, { offset, payload, sec, nsec });
    f.pendingBytes[dir] += payload.length;
    if (f.pendingBytes[dir] > this.maxPending) this.drain(f, dir, true);
  }

  /**
   * Sends what pending data has become contiguous; with `skipHoles`, jumps
   * each hole (recording it as a gap) until nothing is pending.
   */
  private drain(f: FlowEntry, dir: 0 | 1, skipHoles: boolean): void {
    const list = f.pending[dir];
    let i = 0;
    while (i < list.length) {
      const h = list[i];
      if (h.offset > f.next[dir]) {
        if (!skipHoles) break;
        this.gap(f, dir, f.next[dir], h.offset);
      }
      this.deliverNew(f, dir, h.offset, h.payload, h.sec, h.nsec);
      f.pendingBytes[dir] -= h.payload.length;
      i++;
    }
    if (i > 0) list.splice(0, i);
  }

  private gap(f: FlowEntry, dir: 0 | 1, from: number, to: number): void {
    this.report.gaps.count++;
    this.report.gaps.bytes += to - from;
    this.report.problem({
      where: `${f.origin} flow ${f.meta.flow}`,
      kind: "gap",
      offset: from,
      detail: `direction ${dir}: bytes ${from}..${to} never arrived (${to - from} bytes)`,
    });
    const t = f.tls;
    if (
      t !== null && this.tls?.mode === "decrypt" &&
      (t.mode === "undecided" || t.mode === "decrypted")
    ) {
      this.sessionFor(f).gap(dir);
      this.settle(f);
    }
  }

  private close(f: FlowEntry, r: FlowCloseRecord): void {
    const dir = r.dir;
    if (this.beforeWindow(r.sec, r.nsec)) {
      this.report.records.outsideWindow++;
      return;
    }
    if (f.fin[dir]) return;
    this.drain(f, dir, true);
    if (f.started[dir] && r.finalOffset > f.next[dir]) {
      this.gap(f, dir, f.next[dir], r.finalOffset);
      f.next[dir] = r.finalOffset;
    }
    const t = f.tls;
    if (t?.mode === "undecided") {
      t.deferred.push({ close: r });
      if (r.kind !== CLOSE_FIN) this.drain(f, dir === 0 ? 1 : 0, true);
      const over = r.kind !== CLOSE_FIN ||
        t.deferred.some((d) =>
          d.close !== null && d.close !== r && d.close.dir !== dir && d.close.kind === CLOSE_FIN
        );
      if (over) this.forceDecision(f, "incomplete_handshake");
      return;
    }
    this.closeNow(f, r);
  }

  /** Emits a close (FIN, RST) and retires the flow when it is over. */
  private closeNow(f: FlowEntry, r: FlowCloseRecord): void {
    const dir = r.dir;
    if (f.fin[dir]) return;
    const mode = f.tls?.mode;
    const s = f.synth;
    const emit = s !== null && mode !== "dropped";
    const plain = mode === "decrypted" || mode === "broken";
    const end = s === null ? 0 : plain ? s.next[dir] : Math.max(r.finalOffset, s.next[dir]);
    this.stamp(r.sec, r.nsec);
    const before = this.batch.count;
    if (r.kind === CLOSE_FIN) {
      if (emit) this.synth.fin(this.batch, s, f.meta, dir, end, this.lastSec, this.lastNsec);
      f.fin[dir] = true;
      if (f.fin[0] && f.fin[1]) {
        this.report.flows.closedFin++;
        this.retire(f);
      }
    } else if (r.kind === CLOSE_RST) {
      if (emit) this.synth.rst(this.batch, s, f.meta, dir, end, this.lastSec, this.lastNsec);
      this.report.flows.closedRst++;
      this.retire(f);
    } else {
      this.drain(f, dir === 0 ? 1 : 0, true);
      this.report.flows.closedTimeout++;
      this.retire(f);
    }
    this.report.packets.synthesized += this.batch.count - before;
  }

  private retire(f: FlowEntry): void {
    this.flows.get(f.origin)?.delete(f.meta.flow);
    let d = this.done.get(f.origin);
    if (d === undefined) this.done.set(f.origin, d = new Set());
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
