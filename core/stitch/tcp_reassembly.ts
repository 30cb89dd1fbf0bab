/**
 * TCP reassembly: captured TCP segments in, per-direction byte streams out, as
 * the FLOW_OPEN / DATA / FLOW_CLOSE events of CTAP (spec/ctap-v1.md §2).
 *
 * - Direction 0 is the client: the sender of the SYN (or the receiver of the
 *   SYN-ACK). For a connection whose handshake was not captured ("midstream"),
 *   the client is the side with the higher port, or the sender of the first
 *   segment when the ports are equal. A midstream flow is only started by a
 *   segment that carries payload; bare ACK/FIN/RST segments of unknown flows
 *   are counted as `orphanSegments`.
 * - Offsets count the bytes of one direction from 0: offset 0 is the byte after
 *   the ISN (RFC 9293 §3.4), or, in a midstream direction, the first sequence
 *   number seen from that side. Sequence numbers are compared mod 2^32 and
 *   unwrapped against the next expected offset, so offsets go past 2^32.
 * - Bytes are delivered once, in order. Retransmissions are dropped; where a
 *   segment overlaps bytes still buffered the first bytes win and differing
 *   bytes are counted (`overlapBytes`). Out-of-order segments are copied and
 *   held until the hole before them fills. When a buffer cap is hit, or at
 *   finish(), an idle timeout or an RST, the hole is skipped: the next data()
 *   has a larger offset, and the gap is counted.
 * - close(FIN) is emitted once everything before the FIN has been delivered
 *   (or skipped), with finalOffset = the bytes that side sent.
 * - An RST ends the flow: the RST sender's direction gets close(RST) at the
 *   RST's offset; if that direction was already closed by a FIN, the other
 *   direction, when still open, gets the close(RST) instead. No further events
 *   are emitted for the flow.
 * - A SYN whose ISN differs from the one recorded for its side (or any pure SYN
 *   on a flow without a known ISN, or on a closed flow) starts a new flow on the
 *   same 4-tuple; the old one is first closed as timeout where still open.
 * - A flow idle for longer than idleTimeoutSec (capture time) is closed as
 *   timeout; a fully closed flow is forgotten after closedLingerSec, so that
 *   late retransmissions of its FIN do not start a midstream flow.
 * - Checksums are not checked.
 */

export interface TcpSegment {
  sec: number;
  nsec: number;
  ipVersion: 4 | 6;
  src: Uint8Array;
  dst: Uint8Array;
  sport: number;
  dport: number;
  /** u32 */
  seq: number;
  /** u32 */
  ack: number;
  /** FIN=1 SYN=2 RST=4 PSH=8 ACK=16 */
  flags: number;
  window: number;
  /** A view valid only during `segment()`; the reassembler copies what it keeps. */
  payload: Uint8Array;
}

export interface FlowEndpoints {
  ipVersion: 4 | 6;
  clientIp: Uint8Array;
  serverIp: Uint8Array;
  clientPort: number;
  serverPort: number;
}

export interface StreamEvents {
  open(flow: number, sec: number, nsec: number, c: FlowEndpoints): void;
  /** `payload` may be a view valid only during the call. */
  data(
    flow: number,
    dir: 0 | 1,
    offset: number,
    payload: Uint8Array,
    sec: number,
    nsec: number,
  ): void;
  /** kind 1 FIN, 2 RST, 3 timeout; finalOffset = bytes that side sent. */
  close(
    flow: number,
    dir: 0 | 1,
    kind: 1 | 2 | 3,
    finalOffset: number,
    sec: number,
    nsec: number,
  ): void;
}

export interface TcpReassemblerOptions {
  /** Out-of-order bytes held per direction; default 4 MiB. */
  maxFlowBufferBytes?: number;
  /** Out-of-order bytes held in all; default 256 MiB. */
  maxTotalBufferBytes?: number;
  /** Default 300. */
  idleTimeoutSec?: number;
  /** How long a fully closed flow is remembered; default min(10, idleTimeoutSec). */
  closedLingerSec?: number;
}

export interface TcpReassemblyStats {
  /** Flows opened. */
  flows: number;
  /** Flows opened without a captured handshake. */
  midstreamFlows: number;
  segments: number;
  /** Payload bytes of all segments seen. */
  payloadBytes: number;
  /** Bytes passed to data(). */
  deliveredBytes: number;
  /** Bytes dropped because they were already delivered or buffered (incl. keepalives). */
  retransmittedBytes: number;
  /** Bytes of overlap that differed from the buffered bytes they overlapped (first kept). */
  overlapBytes: number;
  /** Segments that arrived ahead of a hole and were buffered. */
  outOfOrderSegments: number;
  /** Holes skipped, and their bytes. */
  gaps: number;
  gapBytes: number;
  /** Times a buffer cap forced a hole to be skipped, and the bytes skipped for it. */
  capHits: number;
  droppedBufferBytes: number;
  /** Out-of-order bytes held now. */
  bufferedBytes: number;
  /** Malformed segments (bad address length, SYN+RST, SYN+FIN, conflicting SYN-ACK). */
  badSegments: number;
  /** Segments without payload that belong to no known flow. */
  orphanSegments: number;
  /** Segments of a flow already ended by an RST. */
  lateSegments: number;
  /** Payload bytes past a direction's FIN. */
  afterFinBytes: number;
  /** Flows closed by RST. */
  resets: number;
  /** Flows closed by the idle timeout (not counting finish()). */
  timeouts: number;
  /** New connections on the 4-tuple of an earlier flow. */
  portReuses: number;
}

const FIN = 1;
const SYN = 2;
const RST = 4;
const ACK = 16;
const TWO_32 = 4294967296;

interface Held {
  off: number;
  data: Uint8Array;
}

interface DirState {
  dir: 0 | 1;
  /** The flow's id (not the flow itself, so that flow state stays plain, acyclic data). */
  id: number;
  /** The u32 sequence number of offset 0, once known. */
  baseKnown: boolean;
  base: number;
  /** base came from this side's SYN (ISN + 1). */
  synSeen: boolean;
  /** Next offset to deliver. */
  next: number;
  /** Held out-of-order data, sorted, disjoint, every off > next. */
  held: Held[];
  heldBytes: number;
  /** Offset of the FIN, or -1. */
  fin: number;
  closed: boolean;
}

interface Flow {
  id: number;
  key: string;
  /** Whether the endpoint that sorts lower in the key is the client. */
  lowIsClient: boolean;
  endpoints: FlowEndpoints;
  lastT: number;
  /** Ended by an RST, a timeout or a new connection: no more events. */
  dead: boolean;
  d: [DirState, DirState];
}

function newDir(dir: 0 | 1, id: number): DirState {
  return {
    dir,
    id,
    baseKnown: false,
    base: 0,
    synSeen: false,
    next: 0,
    held: [],
    heldBytes: 0,
    fin: -1,
    closed: false,
  };
}

export class TcpReassembler {
  readonly stats: TcpReassemblyStats = {
    flows: 0,
    midstreamFlows: 0,
    segments: 0,
    payloadBytes: 0,
    deliveredBytes: 0,
    retransmittedBytes: 0,
    overlapBytes: 0,
    outOfOrderSegments: 0,
    gaps: 0,
    gapBytes: 0,
    capHits: 0,
    droppedBufferBytes: 0,
    bufferedBytes: 0,
    badSegments: 0,
    orphanSegments: 0,
    lateSegments: 0,
    afterFinBytes: 0,
    resets: 0,
    timeouts: 0,
    portReuses: 0,
  };

  private readonly flows = new Map<string, Flow>();
  /** Directions holding out-of-order data, oldest first: evicted when the total cap is hit. */
  private readonly holding = new Set<DirState>();
  private readonly maxFlowBuffer: number;
  private readonly maxTotalBuffer: number;
  private readonly idleTimeout: number;
  private readonly linger: number;
  private readonly sweepEvery: number;
  private nextSweep = -1;
  private nextId = 1;
  private readonly key6 = new Array<number>(18);
  private srcIsLow = false;

  constructor(private readonly events: StreamEvents, opts: TcpReassemblerOptions = {}) {
    this.maxFlowBuffer = opts.maxFlowBufferBytes ?? 4 * 1024 * 1024;
    this.maxTotalBuffer = opts.maxTotalBufferBytes ?? 256 * 1024 * 1024;
    this.idleTimeout = opts.idleTimeoutSec ?? 300;
    this.linger = opts.closedLingerSec ?? Math.min(10, this.idleTimeout);
    const opt: [string, number][] = [
      ["maxFlowBufferBytes", this.maxFlowBuffer],
      ["maxTotalBufferBytes", this.maxTotalBuffer],
      ["idleTimeoutSec", this.idleTimeout],
      ["closedLingerSec", this.linger],
    ];
    for (const [name, v] of opt) {
      if (!(v >= 0)) throw new RangeError(`TcpReassembler: bad ${name} ${v}`);
    }
    this.sweepEvery = Math.max(0.5, Math.min(this.idleTimeout, this.linger) / 2);
  }

  /** Flows currently in the table (open, or closed and lingering). */
  get activeFlows(): number {
    return this.flows.size;
  }

  segment(s: TcpSegment): void {
    const st = this.stats;
    st.segments++;
    const n = s.payload.length;
    st.payloadBytes += n;
    const alen = s.ipVersion === 4 ? 4 : 16;
    const flags = s.flags;
    if (
      s.src.length !== alen || s.dst.length !== alen ||
      ((flags & SYN) !== 0 && (flags & (RST | FIN)) !== 0)
    ) {
      st.badSegments++;
      return;
    }
    const sec = s.sec, nsec = s.nsec;
    const t = sec + nsec * 1e-9;
    if (t >= this.nextSweep) {
      if (this.nextSweep >= 0) this.sweep(t, sec, nsec);
      this.nextSweep = t + this.sweepEvery;
    }

    const key = this.keyOf(s);
    const srcIsLow = this.srcIsLow;
    let f = this.flows.get(key);
    if (f !== undefined && t - f.lastT > (isDone(f) ? this.linger : this.idleTimeout)) {
      if (!isDone(f)) {
        st.timeouts++;
        this.end(f, sec, nsec);
      }
      this.flows.delete(key);
      f = undefined;
    }

    const syn = (flags & SYN) !== 0;
    if (f !== undefined && syn) {
      const ds = f.d[srcIsLow === f.lowIsClient ? 0 : 1];
      const isn1 = (s.seq + 1) >>> 0;
      const matches = ds.baseKnown && ds.base === isn1;
      if (!matches) {
        const synAck = (flags & ACK) !== 0;
        const completesHandshake = synAck && ds.dir === 1 && !ds.baseKnown && !f.dead &&
          !f.d[0].closed && f.d[0].synSeen;
        if (!completesHandshake) {
          if (!synAck || f.dead || f.d[0].closed || f.d[1].closed) {
            st.portReuses++;
            if (!f.dead) this.end(f, sec, nsec);
            this.flows.delete(key);
            f = undefined;
          } else {
            st.badSegments++;
            return;
          }
        }
      }
    }

    if (f === undefined) {
      if (syn) {
        const clientIsSrc = (flags & ACK) === 0;
        f = this.create(key, s, clientIsSrc, srcIsLow);
        if (!clientIsSrc) {
          // A SYN-ACK acknowledges the client's ISN (RFC 9293 §3.5).
          const c = f.d[0];
          c.baseKnown = true;
          c.synSeen = true;
          c.base = s.ack >>> 0;
        }
      } else if (n > 0) {
        const clientIsSrc = s.sport >= s.dport;
        f = this.create(key, s, clientIsSrc, srcIsLow);
        st.midstreamFlows++;
      } else {
        st.orphanSegments++;
        return;
      }
    }

    f.lastT = t;
    if (f.dead) {
      st.lateSegments++;
      return;
    }
    const dir: 0 | 1 = srcIsLow === f.lowIsClient ? 0 : 1;
    const ds = f.d[dir];
    if (!ds.baseKnown) {
      ds.baseKnown = true;
      ds.synSeen = syn;
      ds.base = syn ? (s.seq + 1) >>> 0 : s.seq >>> 0;
    }
    if (!syn && (flags & ACK) !== 0) {
      const other = f.d[dir ^ 1];
      // With the handshake seen but the SYN-ACK missed, the client's ACK
      // tells the server's ISN + 1.
      if (!other.baseKnown && dir === 0 && ds.synSeen) {
        other.baseKnown = true;
        other.base = s.ack >>> 0;
      }
    }

    const off = this.unwrap(ds, syn ? (s.seq + 1) >>> 0 : s.seq >>> 0);
    if ((flags & RST) !== 0) {
      this.reset(f, ds, off, sec, nsec);
      return;
    }
    if (n > 0) this.add(ds, off, s.payload, sec, nsec);
    if ((flags & FIN) !== 0 && ds.fin < 0 && !ds.closed) {
      const fin = off + n;
      if (fin >= ds.next) {
        ds.fin = fin;
        this.checkFin(ds, sec, nsec);
      }
    }
  }

  /** End of input: deliver what is held (skipping holes), close every open flow as timeout. */
  finish(sec: number, nsec: number): void {
    for (const f of this.flows.values()) {
      if (!f.dead) this.end(f, sec, nsec);
    }
    this.flows.clear();
    this.holding.clear();
  }

  private create(key: string, s: TcpSegment, clientIsSrc: boolean, srcIsLow: boolean): Flow {
    const endpoints: FlowEndpoints = clientIsSrc
      ? {
        ipVersion: s.ipVersion,
        clientIp: s.src.slice(),
        serverIp: s.dst.slice(),
        clientPort: s.sport,
        serverPort: s.dport,
      }
      : {
        ipVersion: s.ipVersion,
        clientIp: s.dst.slice(),
        serverIp: s.src.slice(),
        clientPort: s.dport,
        serverPort: s.sport,
      };
    const id = this.nextId++;
    const f: Flow = {
      id,
      key,
      lowIsClient: srcIsLow === clientIsSrc,
      endpoints,
      lastT: 0,
      dead: false,
      d: [newDir(0, id), newDir(1, id)],
    };
    this.flows.set(key, f);
    this.stats.flows++;
    this.events.open(f.id, s.sec, s.nsec, endpoints);
    return f;
  }

  /**
   * The flow key: both endpoints as 16-bit code units, the lower (address,
   * port) first, so both directions find the same flow. Sets `srcIsLow`.
   */
  private keyOf(s: TcpSegment): string {
    const a = s.src, b = s.dst;
    let c = 0;
    for (let i = 0; i < a.length && c === 0; i++) c = a[i] - b[i];
    if (c === 0) c = s.sport - s.dport;
    const low = c <= 0;
    this.srcIsLow = low;
    const x = low ? a : b, y = low ? b : a;
    const xp = low ? s.sport : s.dport, yp = low ? s.dport : s.sport;
    if (a.length === 4) {
      return String.fromCharCode(
        (x[0] << 8) | x[1],
        (x[2] << 8) | x[3],
        xp,
        (y[0] << 8) | y[1],
        (y[2] << 8) | y[3],
        yp,
      );
    }
    const k = this.key6;
    for (let i = 0; i < 8; i++) {
      k[i] = (x[2 * i] << 8) | x[2 * i + 1];
      k[9 + i] = (y[2 * i] << 8) | y[2 * i + 1];
    }
    k[8] = xp;
    k[17] = yp;
    return String.fromCharCode.apply(null, k);
  }

  /** The stream offset of u32 sequence number `seq`: the one nearest the next expected offset. */
  private unwrap(ds: DirState, seq: number): number {
    const rel = (seq - ds.base) >>> 0;
    const ref = ds.next;
    return ref + ((rel - (ref % TWO_32)) | 0);
  }

  private emit(ds: DirState, off: number, p: Uint8Array, sec: number, nsec: number): void {
    this.stats.deliveredBytes += p.length;
    this.events.data(ds.id, ds.dir, off, p, sec, nsec);
  }

  private add(ds: DirState, off: number, p: Uint8Array, sec: number, nsec: number): void {
    const st = this.stats;
    if (ds.closed) {
      st.retransmittedBytes += p.length;
      return;
    }
    for (;;) {
      let end = off + p.length;
      if (end <= ds.next) {
        st.retransmittedBytes += p.length;
        return;
      }
      if (off < ds.next) {
        st.retransmittedBytes += ds.next - off;
        p = p.subarray(ds.next - off);
        off = ds.next;
      }
      if (ds.fin >= 0 && end > ds.fin) {
        const over = Math.min(end - ds.fin, p.length);
        st.afterFinBytes += over;
        p = p.subarray(0, p.length - over);
        end = off + p.length;
        if (p.length === 0) return;
      }
      const held = ds.held;
      if (off === ds.next) {
        if (held.length === 0 || end <= held[0].off) {
          this.emit(ds, off, p, sec, nsec);
          ds.next = end;
          if (held.length !== 0) this.drain(ds, sec, nsec);
          else if (ds.fin >= 0) this.checkFin(ds, sec, nsec);
        } else {
          this.fillHoles(ds, off, p, sec, nsec);
        }
        return;
      }
      // Ahead of a hole: hold a copy of the bytes not already held.
      const first = firstEndingAfter(held, off);
      let pos = off, fresh = 0;
      for (let k = first; k < held.length && held[k].off < end; k++) {
        const h = held[k];
        if (h.off > pos) fresh += h.off - pos;
        pos = Math.max(pos, h.off + h.data.length);
      }
      if (end > pos) fresh += end - pos;
      if (fresh === 0) {
        this.hold(ds, off, p, first);
        return;
      }
      if (ds.heldBytes + fresh > this.maxFlowBuffer) {
        st.capHits++;
        if (held.length === 0) {
          this.skipTo(ds, off, true);
          continue;
        }
        this.skipTo(ds, held[0].off, true);
        this.drain(ds, sec, nsec);
        continue;
      }
      if (st.bufferedBytes + fresh > this.maxTotalBuffer) {
        st.capHits++;
        this.evict(fresh, sec, nsec);
        if (st.bufferedBytes + fresh > this.maxTotalBuffer && ds.held.length === 0) {
          this.skipTo(ds, off, true);
        }
        continue;
      }
      st.outOfOrderSegments++;
      this.hold(ds, off, p, first);
      return;
    }
  }

  /** Inserts copies of the parts of [off, off + p.length) not yet held, from held[k] on. */
  private hold(ds: DirState, off: number, p: Uint8Array, k: number): void {
    const st = this.stats;
    const held = ds.held;
    const end = off + p.length;
    let pos = off;
    while (pos < end) {
      const h = k < held.length ? held[k] : undefined;
      if (h === undefined || h.off >= end) {
        this.insertHeld(ds, k, pos, p.slice(pos - off));
        return;
      }
      if (h.off > pos) {
        this.insertHeld(ds, k, pos, p.slice(pos - off, h.off - off));
        k++;
        pos = h.off;
      }
      const hEnd = h.off + h.data.length;
      const ovEnd = Math.min(hEnd, end);
      if (ovEnd > pos) {
        st.retransmittedBytes += ovEnd - pos;
        st.overlapBytes += differing(h.data, pos - h.off, p, pos - off, ovEnd - pos);
      }
      pos = Math.max(pos, hEnd);
      k++;
    }
  }

  private insertHeld(ds: DirState, k: number, off: number, data: Uint8Array): void {
    if (k === ds.held.length) ds.held.push({ off, data });
    else ds.held.splice(k, 0, { off, data });
    ds.heldBytes += data.length;
    this.stats.bufferedBytes += data.length;
    this.holding.add(ds);
  }

  /** `p` starts at ds.next and overlaps held data: deliver it and the held data it joins, as views. */
  private fillHoles(ds: DirState, off: number, p: Uint8Array, sec: number, nsec: number): void {
    const st = this.stats;
    const held = ds.held;
    const end = off + p.length;
    let pos = off, k = 0;
    while (pos < end) {
      const h = k < held.length ? held[k] : undefined;
      if (h === undefined || h.off >= end) {
        this.emit(ds, pos, p.subarray(pos - off), sec, nsec);
        pos = end;
        break;
      }
      if (h.off > pos) {
        this.emit(ds, pos, p.subarray(pos - off, h.off - off), sec, nsec);
        pos = h.off;
      }
      const hEnd = h.off + h.data.length;
      const ovEnd = Math.min(hEnd, end);
      st.retransmittedBytes += ovEnd - pos;
      st.overlapBytes += differing(h.data, 0, p, pos - off, ovEnd - pos);
      this.emit(ds, h.off, h.data, sec, nsec);
      pos = hEnd;
      k++;
    }
    this.release(ds, k);
    ds.next = pos;
    this.drain(ds, sec, nsec);
  }

  /** Drops held[0, k) from the accounting. */
  private release(ds: DirState, k: number): void {
    if (k === 0) return;
    let bytes = 0;
    for (let i = 0; i < k; i++) bytes += ds.held[i].data.length;
    ds.held.splice(0, k);
    ds.heldBytes -= bytes;
    this.stats.bufferedBytes -= bytes;
    if (ds.held.length === 0) this.holding.delete(ds);
  }

  /** Delivers the held data that continues ds.next, then closes on a FIN reached. */
  private drain(ds: DirState, sec: number, nsec: number): void {
    const held = ds.held;
    let k = 0;
    while (k < held.length && held[k].off === ds.next) {
      const h = held[k++];
      this.emit(ds, h.off, h.data, sec, nsec);
      ds.next = h.off + h.data.length;
    }
    this.release(ds, k);
    this.checkFin(ds, sec, nsec);
  }

  /** Records the hole [ds.next, to) as a gap. */
  private skipTo(ds: DirState, to: number, cap: boolean): void {
    const bytes = to - ds.next;
    if (bytes <= 0) return;
    this.stats.gaps++;
    this.stats.gapBytes += bytes;
    if (cap) this.stats.droppedBufferBytes += bytes;
    ds.next = to;
  }

  /** Delivers everything held, skipping holes. */
  private flush(ds: DirState, cap: boolean, sec: number, nsec: number): void {
    while (ds.held.length !== 0) {
      this.skipTo(ds, ds.held[0].off, cap);
      this.drain(ds, sec, nsec);
    }
  }

  /** Flushes the directions held longest until `need` more bytes fit under the total cap. */
  private evict(need: number, sec: number, nsec: number): void {
    for (const ds of this.holding) {
      if (this.stats.bufferedBytes + need <= this.maxTotalBuffer) return;
      this.flush(ds, true, sec, nsec);
    }
  }

  private checkFin(ds: DirState, sec: number, nsec: number): void {
    if (ds.fin >= 0 && !ds.closed && ds.next >= ds.fin) {
      ds.closed = true;
      this.events.close(ds.id, ds.dir, 1, ds.fin, sec, nsec);
    }
  }

  private reset(f: Flow, ds: DirState, off: number, sec: number, nsec: number): void {
    this.stats.resets++;
    const other = f.d[ds.dir ^ 1];
    this.flush(ds, false, sec, nsec);
    this.flush(other, false, sec, nsec);
    if (!ds.closed) {
      // An RST's sequence number is where its sender stands (RFC 9293 §3.5.3);
      // bytes before it that never came are a gap.
      if (off > ds.next && off - ds.next <= this.maxFlowBuffer) this.skipTo(ds, off, false);
      ds.closed = true;
      this.events.close(f.id, ds.dir, 2, ds.next, sec, nsec);
    } else if (!other.closed) {
      other.closed = true;
      this.events.close(f.id, other.dir, 2, other.next, sec, nsec);
    }
    this.kill(f);
  }

  /** Closes the open directions (FIN when one is pending, else timeout) and kills the flow. */
  private end(f: Flow, sec: number, nsec: number): void {
    for (const ds of f.d) {
      if (ds.closed) continue;
      this.flush(ds, false, sec, nsec);
      if (ds.fin >= 0) {
        this.skipTo(ds, ds.fin, false);
        this.checkFin(ds, sec, nsec);
      } else {
        ds.closed = true;
        this.events.close(f.id, ds.dir, 3, ds.next, sec, nsec);
      }
    }
    this.kill(f);
  }

  private kill(f: Flow): void {
    f.dead = true;
    for (const ds of f.d) this.release(ds, ds.held.length);
  }

  private sweep(t: number, sec: number, nsec: number): void {
    for (const f of this.flows.values()) {
      const done = isDone(f);
      if (t - f.lastT <= (done ? this.linger : this.idleTimeout)) continue;
      if (!done) {
        this.stats.timeouts++;
        this.end(f, sec, nsec);
      }
      this.flows.delete(f.key);
    }
  }
}

function isDone(f: Flow): boolean {
  return f.dead || (f.d[0].closed && f.d[1].closed);
}

/** Index of the first held range that ends after `off`. */
function firstEndingAfter(held: Held[], off: number): number {
  let lo = 0, hi = held.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const h = held[mid];
    if (h.off + h.data.length <= off) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function differing(a: Uint8Array, ai: number, b: Uint8Array, bi: number, n: number): number {
  let d = 0;
  for (let i = 0; i < n; i++) if (a[ai + i] !== b[bi + i]) d++;
  return d;
}
