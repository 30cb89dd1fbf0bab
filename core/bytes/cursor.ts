/**
 * The one bounds-checked cursor through which every binary read goes.
 *
 * `ByteReader` reads integers and byte views from a `Uint8Array`. Every read
 * checks that it fits; one that does not throws a `DecodeError` naming what
 * was being read, where, and how many bytes were missing. Views returned by
 * `bytes()` are zero-copy `subarray`s: they live as long as the underlying
 * buffer is not reused by its owner.
 *
 * `ByteWriter` is the matching growable writer for encoders.
 */

/** A malformed or short input: data, not a crash. Callers count and skip it. */
export class DecodeError extends Error {
  constructor(
    message: string,
    /** Byte offset in the buffer being decoded where the problem was found. */
    readonly offset: number,
  ) {
    super(message);
    this.name = "DecodeError";
  }
}

const TWO_32 = 4294967296;

export class ByteReader {
  buf: Uint8Array;
  private dv: DataView | null = null;
  /** Absolute position in `buf`. */
  pos: number;
  /** Reads never go at or past this absolute offset. */
  end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    if (start < 0 || end > buf.length || start > end) {
      throw new DecodeError(`bad reader window ${start}..${end} of ${buf.length} bytes`, start);
    }
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  /**
   * Points this reader at all of `buf`, for a caller that reads many buffers
   * in a row (a reader per TLS segment was ~3% of a decrypting run).
   */
  reset(buf: Uint8Array): this {
    this.buf = buf;
    this.dv = null;
    this.pos = 0;
    this.end = buf.length;
    return this;
  }

  /** A DataView of the buffer, made on first use (readers are made per packet). */
  get view(): DataView {
    return this.dv ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws unless `n` more bytes are available; `what` names the field. */
  need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new DecodeError(
        `${what}: needs ${n} bytes at offset ${this.pos}, ${this.end - this.pos} left`,
        this.pos,
      );
    }
  }

  u8(what = "u8"): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }

  // Integer reads use byte arithmetic rather than DataView: Bun's JIT does
  // not inline DataView getters, and these run per record and per packet.

  u16be(what = "u16"): number {
    this.need(2, what);
    const b = this.buf, p = this.pos;
    this.pos = p + 2;
    return (b[p] << 8) | b[p + 1];
  }

  u16le(what = "u16"): number {
    this.need(2, what);
    const b = this.buf, p = this.pos;
    this.pos = p + 2;
    return b[p] | (b[p + 1] << 8);
  }

  u32be(what = "u32"): number {
    this.need(4, what);
    const b = this.buf, p = this.pos;
    this.pos = p + 4;
    return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  }

  u32le(what = "u32"): number {
    this.need(4, what);
    const b = this.buf, p = this.pos;
    this.pos = p + 4;
    return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  }

  /**
   * A little-endian u64 as a number. Values above 2^53 cannot be exact and
   * throw: callers with full-range fields use `u64leParts`.
   */
  u64le(what = "u64"): number {
    this.need(8, what);
    const b = this.buf, p = this.pos;
    const lo = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
    const hi = (b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24)) >>> 0;
    if (hi >= 0x200000) {
      throw new DecodeError(`${what}: value at offset ${p} exceeds 2^53`, p);
    }
    this.pos = p + 8;
    return hi * TWO_32 + lo;
  }

  /** A little-endian u64 as its two 32-bit halves, written to `out` [lo, hi]. */
  u64leParts(out: Uint32Array | number[], what = "u64"): void {
    this.need(8, what);
    const b = this.buf, p = this.pos;
    out[0] = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
    out[1] = (b[p + 4] | (b[p + 5] << 8) | (b[p + 6] << 16) | (b[p + 7] << 24)) >>> 0;
    this.pos = p + 8;
  }

  /** A zero-copy view of the next `n` bytes. */
  bytes(n: number, what = "bytes"): Uint8Array {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  skip(n: number, what = "skip"): void {
    this.need(n, what);
    this.pos += n;
  }
}

/** A growable little/big-endian writer for encoders. */
export class ByteWriter {
  buf: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(initialSize = 1024) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.reserve(1);
    this.buf[this.pos++] = v;
    return this;
  }

  u16be(v: number): this {
    this.reserve(2);
    this.view.setUint16(this.pos, v, false);
    this.pos += 2;
    return this;
  }

  u16le(v: number): this {
    this.reserve(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
    return this;
  }

  u32be(v: number): this {
    this.reserve(4);
    this.view.setUint32(this.pos, v >>> 0, false);
    this.pos += 4;
    return this;
  }

  u32le(v: number): this {
    this.reserve(4);
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
    return this;
  }

  /** A little-endian u64 from a non-negative safe integer. */
  u64le(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`u64le: ${v} is not a safe u64`);
    this.reserve(8);
    this.view.setUint32(this.pos, v % TWO_32, true);
    this.view.setUint32(this.pos + 4, Math.floor(v / TWO_32), true);
    this.pos += 8;
    return this;
  }

  /** A little-endian u64 from its 32-bit halves. */
  u64leParts(lo: number, hi: number): this {
    this.reserve(8);
    this.view.setUint32(this.pos, lo >>> 0, true);
    this.view.setUint32(this.pos + 4, hi >>> 0, true);
    this.pos += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** The bytes written so far (a view; copy it before writing more). */
  written(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of the bytes written so far. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
  }
}
