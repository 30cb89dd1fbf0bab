/**
 * Classic pcap files (draft-ietf-opsawg-pcap): a streaming reader that
 * decodes while the object downloads, and a buffered append-only writer.
 *
 * ```
 *  File header (24 bytes)                   Packet record (16 bytes + data)
 *  0       4       6       8      12      16      20      24     0      4      8      12     16
 *  +-------+---+---+-------+-------+-------+-------+             +------+------+------+------+----------
 *  | magic |maj|min| resv1 | resv2 |snaplen|FCS|LT |             | sec  | frac | cap  | orig | data
 *  +-------+---+---+-------+-------+-------+-------+             +------+------+------+------+----------
 *  magic a1b2c3d4: frac is µs, a1b23c4d: frac is ns; written in the file's byte order
 *  FCS|LT: link type in the low 16 bits, FCS length and flags above (masked off)
 * ```
 *
 * Reader: chunks of any size are pushed as they arrive. A record inside one
 * chunk is handed out as a `subarray` view of that chunk; only a record that
 * straddles chunks is copied (into a fresh buffer the packet owns). Views stay
 * valid as long as the caller keeps the chunk unmodified.
 *
 * Hostile lengths: a captured length above 256 KiB (Wireshark's largest
 * standard snaplen), or above the header's snaplen when that is sane
 * (1..256 KiB), means record framing can no longer be trusted: it is reported
 * as `hostile_length` and the rest of the file is ignored. A file cut inside a
 * record is reported as `truncated` by `finish()`.
 *
 * Writer: records go straight into one large buffer through a DataView; full
 * stretches of it are handed out by `take()` (views that are never written
 * again), so appending a packet allocates nothing.
 */
import { ChunkBuffer } from "./chunk_buffer.ts";
import { ByteReader, DecodeError } from "../bytes/cursor.ts";
import type { DecodeProblem } from "./ctap_record.ts";
import type { CapturedPacket } from "./capture.ts";

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const PCAP_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;
/** Largest captured length accepted (Wireshark's WTAP_MAX_PACKET_SIZE_STANDARD). */
export const PCAP_MAX_CAPLEN = 262144;

/**
 * Splits a byte stream that arrives in arbitrary chunks into length-framed
 * units (file headers, records, blocks). A subclass says how many bytes it
 * needs to know a unit's length and decodes complete units; this class keeps
 * the single straddling unit, copied, between chunks.
 */
export abstract class StreamFramer {
  /** Set when framing is lost or the input is not this format: the rest is ignored. */
  protected stopped = false;
  /** Absolute offset of the next unit. */
  protected offset = 0;
  private tail: Uint8Array | null = null;
  private tailLen = 0;
  private tailUnit = -1;
  /** True while a callback runs: its errors are the caller's and propagate. */
  protected delivering = false;

  constructor(protected readonly onProblem: (p: DecodeProblem) => void) {}

  /** Bytes of a unit needed before `unitLength` can be called. */
  protected abstract headNeed(): number;
  /**
   * The total length of the unit whose head is at `off`; -1 when the head is
   * hostile (report it first): decoding stops.
   */
  protected abstract unitLength(r: ByteReader, off: number, abs: number): number;
  /** Decodes one complete unit of `len` bytes at `off`. */
  protected abstract unit(r: ByteReader, off: number, len: number, abs: number): void;
  /** Reports the input ending `have` bytes into a unit that needs `need`. */
  protected abstract truncated(abs: number, have: number, need: number): void;

  push(chunk: Uint8Array): void {
    if (this.stopped || chunk.length === 0) return;
    let off = 0;
    if (this.tail !== null) {
      off = this.fillTail(chunk);
      if (this.tail !== null || this.stopped) return;
    }
    const r = new ByteReader(chunk);
    let need = this.headNeed();
    let len = -1;
    while (!this.stopped) {
      const avail = chunk.length - off;
      len = -1;
      if (avail < need) break;
      len = this.unitLength(r, off, this.offset);
      if (len < 0) {
        this.stopped = true;
        return;
      }
      if (avail < len) break;
      this.guardedUnit(r, off, len);
      off += len;
      this.offset += len;
      need = this.headNeed();
    }
    if (this.stopped || off === chunk.length) return;
    const t = new Uint8Array(len > 0 ? len : need);
    t.set(chunk.subarray(off));
    this.tail = t;
    this.tailLen = chunk.length - off;
    this.tailUnit = len;
  }

  /** Ends the input: a partial unit left over is reported as truncated. */
  finish(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.tail !== null) {
      this.truncated(
        this.offset,
        this.tailLen,
        this.tailUnit > 0 ? this.tailUnit : this.headNeed(),
      );
      this.tail = null;
    } else if (this.offset === 0) {
      this.truncated(0, 0, this.headNeed());
    }
  }

  /** Moves bytes from `chunk` into the straddling unit; returns how many it took. */
  private fillTail(chunk: Uint8Array): number {
    let used = 0;
    if (this.tailUnit < 0) {
      const need = this.headNeed();
      used = Math.min(need - this.tailLen, chunk.length);
      this.tail!.set(chunk.subarray(0, used), this.tailLen);
      this.tailLen += used;
      if (this.tailLen < need) return used;
      const len = this.unitLength(new ByteReader(this.tail!), 0, this.offset);
      if (len < 0) {
        this.stopped = true;
        this.tail = null;
        return used;
      }
      if (len > this.tail!.length) {
        const t = new Uint8Array(len);
        t.set(this.tail!.subarray(0, this.tailLen));
        this.tail = t;
      }
      this.tailUnit = len;
    }
    const n = Math.min(this.tailUnit - this.tailLen, chunk.length - used);
    this.tail!.set(chunk.subarray(used, used + n), this.tailLen);
    this.tailLen += n;
    used += n;
    if (this.tailLen < this.tailUnit) return used;
    const buf = this.tail!;
    const len = this.tailUnit;
    this.tail = null;
    this.tailLen = 0;
    this.tailUnit = -1;
    this.guardedUnit(new ByteReader(buf), 0, len);
    this.offset += len;
    return used;
  }

  /** A unit's fields are checked before reading; a cursor error left over is reported, not thrown. */
  private guardedUnit(r: ByteReader, off: number, len: number): void {
    try {
      this.unit(r, off, len, this.offset);
    } catch (e) {
      if (!(e instanceof DecodeError) || this.delivering) {
        this.delivering = false;
        throw e;
      }
      this.onProblem({ kind: "malformed", offset: this.offset, detail: e.message });
    }
  }
}

/** Streaming pcap decoder: `push` chunks as they arrive, then `finish`. */
export class PcapReader extends StreamFramer {
  private haveHeader = false;
  private le = true;
  private nanos = false;
  private snaplen = 0;
  private linkType = 0;
  private capLimit = PCAP_MAX_CAPLEN;

  constructor(
    private readonly onPacket: (p: CapturedPacket) => void,
    onProblem: (p: DecodeProblem) => void,
  ) {
    super(onProblem);
  }

  protected headNeed(): number {
    return this.haveHeader ? PCAP_RECORD_HEADER_LEN : PCAP_HEADER_LEN;
  }

  protected unitLength(r: ByteReader, off: number, abs: number): number {
    if (!this.haveHeader) return this.fileHeader(r, off);
    r.pos = off + 8;
    const caplen = this.le ? r.u32le("pcap caplen") : r.u32be("pcap caplen");
    if (caplen > this.capLimit) {
      this.onProblem({
        kind: "hostile_length",
        offset: abs,
        detail: `pcap record at offset ${abs}: captured length ${caplen} > ${
          this.capLimit < PCAP_MAX_CAPLEN ? "snaplen" : "snaplen cap"
        } ${this.capLimit}`,
      });
      return -1;
    }
    return PCAP_RECORD_HEADER_LEN + caplen;
  }

  private fileHeader(r: ByteReader, off: number): number {
    r.pos = off;
    const magic = r.u32le("pcap magic");
    if (magic === PCAP_MAGIC_US || magic === PCAP_MAGIC_NS) this.le = true;
    else if (swap32(magic) === PCAP_MAGIC_US || swap32(magic) === PCAP_MAGIC_NS) this.le = false;
    else {
      this.onProblem({
        kind: "bad_magic",
        offset: 0,
        detail: `pcap file header at offset 0: magic 0x${hex32(magic)} is not a pcap magic`,
      });
      return -1;
    }
    this.nanos = (this.le ? magic : swap32(magic)) === PCAP_MAGIC_NS;
    r.pos = off + 16;
    this.snaplen = this.le ? r.u32le("pcap snaplen") : r.u32be("pcap snaplen");
    const lt = this.le ? r.u32le("pcap linktype") : r.u32be("pcap linktype");
    // draft-ietf-opsawg-pcap §4: the link type is the low 16 bits; FCS bits above are ignored.
    this.linkType = lt & 0xffff;
    this.capLimit = this.snaplen > 0 && this.snaplen < PCAP_MAX_CAPLEN
      ? this.snaplen
      : PCAP_MAX_CAPLEN;
    return PCAP_HEADER_LEN;
  }

  protected unit(r: ByteReader, off: number, len: number, abs: number): void {
    if (!this.haveHeader) {
      this.haveHeader = true;
      return;
    }
    r.pos = off;
    const le = this.le;
    let sec = le ? r.u32le("pcap ts_sec") : r.u32be("pcap ts_sec");
    const frac = le ? r.u32le("pcap ts_frac") : r.u32be("pcap ts_frac");
    const caplen = le ? r.u32le("pcap caplen") : r.u32be("pcap caplen");
    let origLen = le ? r.u32le("pcap origlen") : r.u32be("pcap origlen");
    const data = r.bytes(caplen, "pcap packet data");
    let nsec: number;
    if (this.nanos) nsec = frac;
    else nsec = frac * 1000;
    if (nsec >= 1e9) {
      this.onProblem({
        kind: "bad_timestamp",
        offset: abs,
        detail: `pcap record at offset ${abs}: fraction ${frac} ${
          this.nanos ? "ns" : "µs"
        } is a second or more; carried into seconds`,
      });
      const carry = Math.floor(nsec / 1e9);
      sec += carry;
      nsec -= carry * 1e9;
    }
    if (origLen < caplen) {
      this.onProblem({
        kind: "bad_length",
        offset: abs,
        detail:
          `pcap record at offset ${abs}: original length ${origLen} < captured length ${caplen}`,
      });
      origLen = caplen;
    }
    void len;
    this.delivering = true;
    this.onPacket({ sec, nsec, linkType: this.linkType, origLen, data, interfaceId: 0 });
    this.delivering = false;
  }

  protected truncated(abs: number, have: number, need: number): void {
    const what = this.haveHeader ? "pcap record" : "pcap file header";
    this.onProblem({
      kind: "truncated",
      offset: abs,
      detail: `${what} at offset ${abs}: input ends after ${have} of ${need} bytes`,
    });
  }
}

export interface PcapWriterOptions {
  linkType: number;
  /** Nanosecond timestamps (magic a1b23c4d); default microseconds. */
  nanos?: boolean;
  /** Frames are cut to this many bytes; default 262144. */
  snaplen?: number;
  /** Size of each output buffer; default 1 MiB. */
  bufferBytes?: number;
  /** Write big-endian (default little-endian). */
  bigEndian?: boolean;
}

/**
 * Buffered pcap writer. `append` encodes a record into the current buffer;
 * `take` hands out the bytes written since the last `take` (a view that is
 * never written again) or the oldest full buffer. Typical exporter loop:
 * `w.append(...); if (w.pending >= FLUSH) await out.write(w.take()!)`, and at
 * the end `for (let b; (b = w.take()) !== null;) await out.write(b)`.
 */
export class PcapWriter {
  readonly linkType: number;
  readonly nanos: boolean;
  readonly snaplen: number;
  private readonly le: boolean;
  private readonly bufferBytes: number;
  private readonly out: ChunkBuffer;

  constructor(opts: PcapWriterOptions) {
    this.linkType = opts.linkType;
    this.nanos = opts.nanos ?? false;
    this.snaplen = opts.snaplen ?? PCAP_MAX_CAPLEN;
    this.le = !opts.bigEndian;
    this.bufferBytes = opts.bufferBytes ?? 1 << 20;
    if (!(this.snaplen > 0 && this.snaplen <= 0xffffffff)) {
      throw new RangeError(`PcapWriter: snaplen ${this.snaplen} out of range`);
    }
    if (!(this.linkType >= 0 && this.linkType <= 0xffff)) {
      throw new RangeError(`PcapWriter: link type ${this.linkType} out of range`);
    }
    this.out = new ChunkBuffer(this.bufferBytes);
  }

  /** The 24-byte file header, to write before the first `take()`. */
  header(): Uint8Array {
    const h = new Uint8Array(PCAP_HEADER_LEN);
    const v = new DataView(h.buffer);
    v.setUint32(0, this.nanos ? PCAP_MAGIC_NS : PCAP_MAGIC_US, this.le);
    v.setUint16(4, 2, this.le);
    v.setUint16(6, 4, this.le);
    v.setUint32(16, this.snaplen, this.le);
    v.setUint32(20, this.linkType, this.le);
    return h;
  }

  /** Bytes appended and not yet taken. */
  get pending(): number {
    return this.out.pending;
  }

  /** Appends `frame[offset, offset + length)` as one record (cut to snaplen). */
  append(
    frame: Uint8Array,
    offset: number,
    length: number,
    origLen: number,
    sec: number,
    nsec: number,
  ): void {
    if (!(sec >= 0 && sec <= 0xffffffff && nsec >= 0 && nsec < 1e9)) {
      throw new RangeError(`PcapWriter: time ${sec}s ${nsec}ns not representable in pcap`);
    }
    const cap = length < this.snaplen ? length : this.snaplen;
    const n = PCAP_RECORD_HEADER_LEN + cap;
    const p = this.out.reserve(n);
    const v = this.out.view;
    const le = this.le;
    v.setUint32(p, sec, le);
    v.setUint32(p + 4, this.nanos ? nsec : Math.floor(nsec / 1000), le);
    v.setUint32(p + 8, cap, le);
    v.setUint32(p + 12, origLen > cap ? origLen : cap, le);
    copyInto(this.out.buf, p + PCAP_RECORD_HEADER_LEN, frame, offset, cap);
  }

  /** The oldest bytes ready to write, handed over to the caller; null if none. */
  take(): Uint8Array | null {
    return this.out.take();
  }
}

/**
 * Copies `n` bytes of `src` from `from` into `dst` at `at`. Short frames
 * (ACKs, handshakes) go byte by byte so that no view object is allocated.
 */
export function copyInto(dst: Uint8Array, at: number, src: Uint8Array, from: number, n: number) {
  if (n <= 128) {
    for (let i = 0; i < n; i++) dst[at + i] = src[from + i];
  } else if (from === 0 && n === src.length) {
    dst.set(src, at);
  } else {
    dst.set(src.subarray(from, from + n), at);
  }
}

export function swap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

export function hex32(x: number): string {
  return (x >>> 0).toString(16).padStart(8, "0");
}
