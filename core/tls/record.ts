/**
 * TLS record layer framing (RFC 8446 §5.1, RFC 5246 §6.2.1): a streaming
 * framer for one direction of a connection, and the matching encoder.
 *
 * ```
 *  0        1        2        3        4        5
 * +--------+--------+--------+--------+--------+----------------------+
 * |  type  |  legacy_record_version  |     length      |  fragment ...  |
 * |   u8   |       u16 (3, x)        |  u16 <= 2^14+2048 (ciphertext)  |
 * +--------+--------+--------+--------+--------+----------------------+
 * type: 20 change_cipher_spec, 21 alert, 22 handshake, 23 application_data,
 *       24 heartbeat (RFC 6520)
 * ```
 *
 * `RecordFramer.push` takes the direction's bytes in any segmentation. A
 * record wholly inside one pushed chunk is emitted as a zero-copy view of
 * that chunk, valid only during the `onRecord` call; a record that straddles
 * chunks is copied into a record-sized buffer borrowed from a shared pool
 * for as long as the record is incomplete (at most one record is ever held
 * per framer; the pool keeps flows from each allocating 18 KiB). An unknown type, a major version other than 3, or a length above
 * 2^14 + 2048 (the TLSCiphertext bound, RFC 5246 §6.2.3) ends the stream:
 * `error` says why, and nothing more is emitted.
 */
import { ByteReader, ByteWriter, DecodeError } from "../bytes/cursor.ts";

export const CT_CHANGE_CIPHER_SPEC = 20;
export const CT_ALERT = 21;
export const CT_HANDSHAKE = 22;
export const CT_APPLICATION_DATA = 23;
export const CT_HEARTBEAT = 24;

export const RECORD_HEADER_LENGTH = 5;
/** Largest TLSCiphertext.length (RFC 5246 §6.2.3; RFC 8446 §5.2 allows 2^14 + 256). */
export const MAX_RECORD_LENGTH = 16384 + 2048;

export interface TlsRecord {
  type: number;
  /** legacy_record_version, e.g. 0x0303. */
  version: number;
  /** The record body: a view valid only during the callback (copy to keep it). */
  fragment: Uint8Array;
}

/**
 * Reads and validates a record header at `r.pos` into `out`; returns the
 * fragment length. Throws `DecodeError` for a short header, an unknown
 * type, a major version other than 3, or a length above MAX_RECORD_LENGTH.
 */
export function decodeRecordHeader(r: ByteReader, out: { type: number; version: number }): number {
  const at = r.pos;
  const type = r.u8("record type");
  const version = r.u16be("record version");
  const length = r.u16be("record length");
  if (type < CT_CHANGE_CIPHER_SPEC || type > CT_HEARTBEAT) {
    throw new DecodeError(`unknown record content type ${type}`, at);
  }
  if (version >> 8 !== 3) {
    throw new DecodeError(
      `record version 0x${version.toString(16).padStart(4, "0")} is not TLS (3.x)`,
      at + 1,
    );
  }
  if (length > MAX_RECORD_LENGTH) {
    throw new DecodeError(`record length ${length} > ${MAX_RECORD_LENGTH}`, at + 3);
  }
  out.type = type;
  out.version = version;
  return length;
}

/** One TLS record: header and fragment. */
export function encodeRecord(type: number, version: number, fragment: Uint8Array): Uint8Array {
  if (fragment.length > 0xffff) {
    throw new RangeError(`encodeRecord: fragment of ${fragment.length} bytes > 65535`);
  }
  return new ByteWriter(RECORD_HEADER_LENGTH + fragment.length)
    .u8(type).u16be(version).u16be(fragment.length).bytes(fragment).toBytes();
}

const EMPTY = new Uint8Array(0);

/** Free record buffers (MAX_RECORD_LENGTH bytes each), shared by all framers. */
const spareBuffers: Uint8Array[] = [];
const MAX_SPARE_BUFFERS = 256;

function borrowBuffer(): Uint8Array {
  return spareBuffers.pop() ?? new Uint8Array(MAX_RECORD_LENGTH);
}

function returnBuffer(b: Uint8Array): void {
  if (spareBuffers.length < MAX_SPARE_BUFFERS) spareBuffers.push(b);
}

export class RecordFramer {
  /** Why the stream stopped being TLS records, or null. */
  error: string | null = null;
  /** Stream bytes pushed so far (framed or held). */
  offset = 0;
  /** Records emitted. */
  records = 0;
  private stopped = false;
  private readonly head = new Uint8Array(RECORD_HEADER_LENGTH);
  private headLen = 0;
  /**
   * The body of the record being assembled across chunks, once its header is
   * complete: a view of `buffer`, borrowed from the pool until the record is
   * complete (records reach `onRecord` as views valid during the call only).
   */
  private held: Uint8Array | null = null;
  private heldLen = 0;
  private buffer: Uint8Array | null = null;
  /** True while `onRecord` runs on a view of `buffer` (which must not go back to the pool yet). */
  private delivering = false;
  private readonly rec: TlsRecord = { type: 0, version: 0, fragment: EMPTY };
  /** Reads each pushed chunk in turn (one reader per framer, not per chunk). */
  private readonly reader = new ByteReader(EMPTY);

  constructor(private readonly onRecord: (r: TlsRecord) => void) {}

  /** Bytes held for an incomplete record (at most 5 + MAX_RECORD_LENGTH). */
  get bufferedBytes(): number {
    return this.headLen + this.heldLen;
  }

  /** True after an error or `stop()`: further pushes are ignored. */
  get done(): boolean {
    return this.stopped;
  }

  /** Stops framing (also from inside `onRecord`); the rest of the chunk is dropped. */
  stop(): void {
    this.stopped = true;
    this.held = null;
    this.heldLen = 0;
    this.headLen = 0;
    if (!this.delivering) this.release();
  }

  private release(): void {
    if (this.buffer !== null) returnBuffer(this.buffer);
    this.buffer = null;
  }

  push(chunk: Uint8Array): void {
    if (this.stopped || chunk.length === 0) return;
    try {
      this.frame(chunk);
    } finally {
      // The chunk is a view of a whole object's buffer: not kept past the call.
      this.reader.reset(EMPTY);
    }
  }

  private frame(chunk: Uint8Array): void {
    const base = this.offset;
    this.offset += chunk.length;
    const rec = this.rec;
    const r = this.reader.reset(chunk);
    let pos = 0;
    while (pos < chunk.length && !this.stopped) {
      if (this.headLen > 0) {
        // Assembling a record that straddles chunks.
        if (this.headLen < RECORD_HEADER_LENGTH) {
          const n = Math.min(RECORD_HEADER_LENGTH - this.headLen, chunk.length - pos);
          this.head.set(chunk.subarray(pos, pos + n), this.headLen);
          this.headLen += n;
          pos += n;
          if (this.headLen < RECORD_HEADER_LENGTH) return;
          const start = base + pos - RECORD_HEADER_LENGTH;
          try {
            const len = decodeRecordHeader(new ByteReader(this.head), rec);
            this.buffer ??= borrowBuffer();
            this.held = this.buffer.subarray(0, len);
          } catch (e) {
            return this.fail(e, start);
          }
          this.heldLen = 0;
        }
        const held = this.held!;
        const n = Math.min(held.length - this.heldLen, chunk.length - pos);
        held.set(
          pos === 0 && n === chunk.length ? chunk : chunk.subarray(pos, pos + n),
          this.heldLen,
        );
        this.heldLen += n;
        pos += n;
        if (this.heldLen < held.length) return;
        this.held = null;
        this.heldLen = 0;
        this.headLen = 0;
        rec.fragment = held;
        this.records++;
        this.delivering = true;
        try {
          this.onRecord(rec);
        } finally {
          this.delivering = false;
          this.release();
        }
        continue;
      }
      if (chunk.length - pos < RECORD_HEADER_LENGTH) {
        this.head.set(chunk.subarray(pos));
        this.headLen = chunk.length - pos;
        return;
      }
      r.pos = pos;
      let len: number;
      try {
        len = decodeRecordHeader(r, rec);
      } catch (e) {
        return this.fail(e, base + pos);
      }
      if (r.remaining >= len) {
        rec.fragment = r.bytes(len, "record fragment");
        pos = r.pos;
        this.records++;
        this.onRecord(rec);
        continue;
      }
      // The body continues in later chunks: hold the header and what is here.
      for (let i = 0; i < RECORD_HEADER_LENGTH; i++) this.head[i] = chunk[pos + i];
      this.headLen = RECORD_HEADER_LENGTH;
      this.buffer ??= borrowBuffer();
      const held = this.buffer.subarray(0, len);
      held.set(chunk.subarray(r.pos));
      this.held = held;
      this.heldLen = chunk.length - r.pos;
      return;
    }
  }

  private fail(e: unknown, at: number): void {
    if (!(e instanceof DecodeError)) throw e;
    this.error = `record at stream offset ${at}: ${e.message}`;
    this.stop();
  }
}
