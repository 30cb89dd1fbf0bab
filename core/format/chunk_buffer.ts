/**
 * The output buffer shared by the capture writers: records are encoded into
 * one large buffer; `take()` hands out what was written since the last take
 * (a view that is never written again), or the oldest filled buffer. A new
 * buffer is allocated only when a record does not fit the current one.
 */
export class ChunkBuffer {
  buf: Uint8Array;
  view: DataView;
  /** Start of the bytes not yet handed out, and end of the bytes written. */
  private start = 0;
  private used = 0;
  private readonly ready: Uint8Array[] = [];
  private readyBytes = 0;

  constructor(private readonly bufferBytes: number) {
    this.buf = new Uint8Array(bufferBytes);
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes written and not yet taken. */
  get pending(): number {
    return this.readyBytes + this.used - this.start;
  }

  /** Makes room for `n` bytes and returns where to write them in `buf`. */
  reserve(n: number): number {
    if (this.used + n > this.buf.length) this.nextBuffer(n);
    const p = this.used;
    this.used = p + n;
    return p;
  }

  /** The oldest bytes ready to write, handed over to the caller; null if none. */
  take(): Uint8Array | null {
    if (this.ready.length > 0) {
      const b = this.ready.shift()!;
      this.readyBytes -= b.length;
      return b;
    }
    if (this.used === this.start) return null;
    const b = this.buf.subarray(this.start, this.used);
    this.start = this.used;
    return b;
  }

  private nextBuffer(n: number): void {
    if (this.used > this.start) {
      const b = this.buf.subarray(this.start, this.used);
      this.ready.push(b);
      this.readyBytes += b.length;
    }
    this.buf = new Uint8Array(Math.max(this.bufferBytes, n));
    this.view = new DataView(this.buf.buffer);
    this.start = 0;
    this.used = 0;
  }
}
