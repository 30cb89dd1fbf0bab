/**
 * pcapng files (draft-ietf-opsawg-pcapng): a streaming reader and a buffered
 * append-only writer.
 *
 * ```
 *  Every block                               Section Header Block (type 0x0A0D0D0A)
 *  0        4        8                 L-4 L    8        12    14    16                24
 *  +--------+--------+-------- ... ----+----+   +--------+-----+-----+----------------+---------+
 *  |  type  | len L  |      body       | L  |   |  BOM   | maj | min | section length | options |
 *  +--------+--------+-------- ... ----+----+   +--------+-----+-----+----------------+---------+
 *  L is a multiple of 4, >= 12; BOM 1A2B3C4D gives the section's byte order
 *
 *  Interface Description Block (type 1)      Enhanced Packet Block (type 6)
 *  8       10      12        16              8       12      16      20      24      28     28+cap
 *  +-------+-------+---------+---------+     +-------+-------+-------+-------+-------+------+---------+
 *  | link  | resvd | snaplen | options |     | iface | ts hi | ts lo |  cap  | orig  | data | options |
 *  +-------+-------+---------+---------+     +-------+-------+-------+-------+-------+------+---------+
 *  options: code u16, length u16, value padded to 4; if_tsresol (9), if_tsoffset (14)
 *
 *  Simple Packet Block (type 3)              Decryption Secrets Block (type 0x0A)
 *  8        12                               8              12            16            16+n
 *  +--------+---------------+                +--------------+-------------+-------------+---------+
 *  |  orig  | data (padded) |                | secrets type | secrets len | data, pad 4 | options |
 *  +--------+---------------+                +--------------+-------------+-------------+---------+
 * ```
 *
 * Reader: as for pcap, a block inside one chunk is decoded from a `subarray`
 * view, a straddling block is copied. Timestamps are converted exactly: the
 * 64-bit count is handled as two 32-bit halves (10^-6, 10^-9 and 2^-n up to
 * 2^-32 with plain integer arithmetic; rarer resolutions through BigInt);
 * finer than 1 ns is truncated. A Simple Packet Block has no timestamp and
 * takes the time of the packet before it. The obsolete Packet Block (type 2)
 * is read like an EPB.
 *
 * Framing: a block length below 12, not a multiple of 4, or above 16 MiB is
 * `hostile_length`; a trailing length that differs from the leading one is
 * `bad_block_length`. Both stop decoding the file, since no later block can be
 * found reliably. A block that is framed well but malformed inside (too short
 * for its type, captured length past its end, unknown interface) is reported
 * and skipped.
 *
 * Writer: SHB from `header()`, then an IDB the first time each link type is
 * used (if_tsresol 9 when writing nanoseconds), EPBs, and DSBs from
 * `secrets()`. Wireshark applies a DSB's secrets to the packets after it.
 */
import { ChunkBuffer } from "./chunk_buffer.ts";
import { ByteReader, DecodeError } from "../bytes/cursor.ts";
import { nanosToSecNsec, secNsecToNanos } from "../bytes/nanos.ts";
import type { DecodeProblem } from "./ctap_record.ts";
import type { CapturedPacket } from "./capture.ts";
import { copyInto, hex32, PCAP_MAX_CAPLEN, StreamFramer } from "./pcap.ts";

export const PCAPNG_SHB = 0x0a0d0d0a;
export const PCAPNG_IDB = 1;
export const PCAPNG_PB = 2;
export const PCAPNG_SPB = 3;
export const PCAPNG_EPB = 6;
export const PCAPNG_DSB = 0x0a;
export const PCAPNG_BOM = 0x1a2b3c4d;
/** Decryption Secrets Block secrets type: NSS TLS key log text. */
export const SECRETS_TLS_KEYLOG = 0x544c534b;
/** Largest block accepted (Wireshark's limit). */
export const PCAPNG_MAX_BLOCK = 16 * 1024 * 1024;

const OPT_ENDOFOPT = 0;
const OPT_SHB_USERAPPL = 4;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
const TWO_32 = 4294967296;

interface Iface {
  linkType: number;
  snaplen: number;
  /** if_tsresol byte: high bit set = 2^-n, else 10^-n. */
  tsresol: number;
  /** if_tsoffset, whole seconds added to every timestamp. */
  tsoffset: number;
}

/** Streaming pcapng decoder: `push` chunks as they arrive, then `finish`. */
export class PcapngReader extends StreamFramer {
  private sawShb = false;
  private le = true;
  private ifaces: Iface[] = [];
  private section = 0;
  private lastSec = 0;
  private lastNsec = 0;
  private readonly ts = [0, 0];

  constructor(
    private readonly onPacket: (p: CapturedPacket) => void,
    onProblem: (p: DecodeProblem) => void,
    private readonly onSecrets?: (secretsType: number, data: Uint8Array) => void,
  ) {
    super(onProblem);
  }

  protected headNeed(): number {
    return 12;
  }

  protected unitLength(r: ByteReader, off: number, abs: number): number {
    r.pos = off;
    const type = r.u32le("pcapng block type");
    let le = this.le;
    if (type === PCAPNG_SHB) {
      r.pos = off + 8;
      const bom = r.u32le("pcapng byte-order magic");
      if (bom === PCAPNG_BOM) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else {
        this.onProblem({
          kind: "bad_magic",
          offset: abs + 8,
          detail: `pcapng section header at offset ${abs}: byte-order magic 0x${hex32(bom)}`,
        });
        return -1;
      }
    } else if (!this.sawShb) {
      this.onProblem({
        kind: "bad_magic",
        offset: abs,
        detail: `pcapng at offset ${abs}: first block type 0x${
          hex32(type)
        } is not a Section Header Block`,
      });
      return -1;
    }
    r.pos = off + 4;
    const len = le ? r.u32le("pcapng block length") : r.u32be("pcapng block length");
    if (len < 12 || len % 4 !== 0 || len > PCAPNG_MAX_BLOCK) {
      this.onProblem({
        kind: "hostile_length",
        offset: abs,
        detail: `pcapng block at offset ${abs}: total length ${len} ${
          len > PCAPNG_MAX_BLOCK
            ? `> ${PCAPNG_MAX_BLOCK}`
            : len < 12
            ? "< 12"
            : "is not a multiple of 4"
        }`,
      });
      return -1;
    }
    return len;
  }

  protected unit(r: ByteReader, off: number, len: number, abs: number): void {
    r.pos = off;
    const type = this.u32(r);
    if (type === PCAPNG_SHB) {
      r.pos = off + 8;
      this.le = r.u32le("pcapng byte-order magic") === PCAPNG_BOM;
    }
    r.pos = off + len - 4;
    const trail = this.u32(r);
    if (trail !== len) {
      this.onProblem({
        kind: "bad_block_length",
        offset: abs + len - 4,
        detail: `pcapng block type 0x${
          hex32(type)
        } at offset ${abs}: trailing length ${trail} != leading length ${len}`,
      });
      this.stopped = true;
      return;
    }
    switch (type) {
      case PCAPNG_EPB:
        return this.packet(r, off, len, abs, true);
      case PCAPNG_SPB:
        return this.simplePacket(r, off, len, abs);
      case PCAPNG_IDB:
        return this.interface(r, off, len, abs);
      case PCAPNG_SHB:
        return this.sectionHeader(r, off, len, abs);
      case PCAPNG_DSB:
        return this.secrets(r, off, len, abs);
      case PCAPNG_PB:
        return this.packet(r, off, len, abs, false);
    }
  }

  private u32(r: ByteReader): number {
    return this.le ? r.u32le("pcapng u32") : r.u32be("pcapng u32");
  }

  private malformed(abs: number, detail: string): void {
    this.onProblem({ kind: "malformed", offset: abs, detail });
  }

  private sectionHeader(r: ByteReader, off: number, len: number, abs: number): void {
    if (len < 28) {
      this.stopped = true;
      return this.malformed(abs, `pcapng section header at offset ${abs}: length ${len} < 28`);
    }
    r.pos = off + 12;
    const major = this.le ? r.u16le("pcapng major") : r.u16be("pcapng major");
    if (major !== 1) {
      this.stopped = true;
      this.onProblem({
        kind: "unsupported_version",
        offset: abs + 12,
        detail: `pcapng section header at offset ${abs}: major version ${major} != 1`,
      });
      return;
    }
    this.sawShb = true;
    this.ifaces = [];
    this.section++;
  }

  private interface(r: ByteReader, off: number, len: number, abs: number): void {
    if (len < 20) {
      return this.malformed(abs, `pcapng interface block at offset ${abs}: length ${len} < 20`);
    }
    r.pos = off + 8;
    const linkType = this.le ? r.u16le("pcapng link type") : r.u16be("pcapng link type");
    r.pos = off + 12;
    const snaplen = this.u32(r);
    const iface: Iface = { linkType, snaplen, tsresol: 6, tsoffset: 0 };
    this.ifaces.push(iface);
    const o = new ByteReader(r.buf, off + 16, off + len - 4);
    try {
      while (o.remaining >= 4) {
        const code = this.le ? o.u16le("option code") : o.u16be("option code");
        const olen = this.le ? o.u16le("option length") : o.u16be("option length");
        if (code === OPT_ENDOFOPT) break;
        const at = o.pos;
        o.need((olen + 3) & ~3, `pcapng option ${code} value`);
        if (code === OPT_IF_TSRESOL && olen >= 1) {
          iface.tsresol = o.u8("if_tsresol");
        } else if (code === OPT_IF_TSOFFSET && olen >= 8) {
          let lo: number;
          let hi: number;
          if (this.le) {
            lo = o.u32le("if_tsoffset");
            hi = o.u32le("if_tsoffset") | 0;
          } else {
            hi = o.u32be("if_tsoffset") | 0;
            lo = o.u32be("if_tsoffset");
          }
          iface.tsoffset = hi * TWO_32 + lo;
        }
        o.pos = at + ((olen + 3) & ~3);
      }
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.malformed(abs, `pcapng interface block at offset ${abs}: options: ${e.message}`);
    }
  }

  private packet(r: ByteReader, off: number, len: number, abs: number, enhanced: boolean): void {
    const what = enhanced ? "enhanced packet block" : "packet block";
    if (len < 32) return this.malformed(abs, `pcapng ${what} at offset ${abs}: length ${len} < 32`);
    r.pos = off + 8;
    let id: number;
    if (enhanced) id = this.u32(r);
    else {
      id = this.le ? r.u16le("pcapng interface id") : r.u16be("pcapng interface id");
      r.pos += 2;
    }
    const hi = this.u32(r);
    const lo = this.u32(r);
    const caplen = this.u32(r);
    let origLen = this.u32(r);
    if (caplen > len - 32) {
      return this.malformed(
        abs,
        `pcapng ${what} at offset ${abs}: captured length ${caplen} > ${len - 32} bytes in block`,
      );
    }
    const iface = this.ifaces[id];
    if (iface === undefined) {
      this.onProblem({
        kind: "bad_interface",
        offset: abs,
        detail:
          `pcapng ${what} at offset ${abs}: interface ${id} not described (${this.ifaces.length} in section ${this.section})`,
      });
      return;
    }
    if (origLen < caplen) {
      this.onProblem({
        kind: "bad_length",
        offset: abs,
        detail:
          `pcapng ${what} at offset ${abs}: original length ${origLen} < captured length ${caplen}`,
      });
      origLen = caplen;
    }
    const data = r.bytes(caplen, "pcapng packet data");
    const ts = this.ts;
    timestampToSecNsec(hi, lo, iface.tsresol, ts);
    const sec = ts[0] + iface.tsoffset;
    this.lastSec = sec;
    this.lastNsec = ts[1];
    this.delivering = true;
    this.onPacket({ sec, nsec: ts[1], linkType: iface.linkType, origLen, data, interfaceId: id });
    this.delivering = false;
  }

  private simplePacket(r: ByteReader, off: number, len: number, abs: number): void {
    if (len < 16) {
      return this.malformed(abs, `pcapng simple packet block at offset ${abs}: length ${len} < 16`);
    }
    const iface = this.ifaces[0];
    if (iface === undefined) {
      this.onProblem({
        kind: "bad_interface",
        offset: abs,
        detail:
          `pcapng simple packet block at offset ${abs}: no interface 0 in section ${this.section}`,
      });
      return;
    }
    r.pos = off + 8;
    const origLen = this.u32(r);
    let caplen = Math.min(origLen, len - 16);
    if (iface.snaplen !== 0 && iface.snaplen < caplen) caplen = iface.snaplen;
    const data = r.bytes(caplen, "pcapng packet data");
    this.delivering = true;
    this.onPacket({
      sec: this.lastSec,
      nsec: this.lastNsec,
      linkType: iface.linkType,
      origLen,
      data,
      interfaceId: 0,
    });
    this.delivering = false;
  }

  private secrets(r: ByteReader, off: number, len: number, abs: number): void {
    if (len < 20) {
      return this.malformed(
        abs,
        `pcapng decryption secrets block at offset ${abs}: length ${len} < 20`,
      );
    }
    r.pos = off + 8;
    const type = this.u32(r);
    const n = this.u32(r);
    if (n > len - 20) {
      return this.malformed(
        abs,
        `pcapng decryption secrets block at offset ${abs}: secrets length ${n} > ${
          len - 20
        } bytes in block`,
      );
    }
    const data = r.bytes(n, "pcapng secrets");
    if (this.onSecrets === undefined) return;
    this.delivering = true;
    this.onSecrets(type, data);
    this.delivering = false;
  }

  protected truncated(abs: number, have: number, need: number): void {
    this.onProblem({
      kind: "truncated",
      offset: abs,
      detail: `pcapng block at offset ${abs}: input ends after ${have} of ${need} bytes`,
    });
  }
}

/**
 * A pcapng timestamp, the 64-bit count [hi, lo] of units of `tsresol`
 * (if_tsresol: 10^-n, or 2^-n with the high bit set), as out [sec, nsec].
 */
export function timestampToSecNsec(hi: number, lo: number, tsresol: number, out: number[]): void {
  if (tsresol === 6) {
    if (hi < 0x200000) {
      const t = hi * TWO_32 + lo;
      let sec = Math.floor(t / 1e6);
      let rem = t - sec * 1e6;
      if (rem < 0) {
        sec--;
        rem += 1e6;
      } else if (rem >= 1e6) {
        sec++;
        rem -= 1e6;
      }
      out[0] = sec;
      out[1] = rem * 1000;
      return;
    }
  } else if (tsresol === 9) {
    nanosToSecNsec(lo, hi, out);
    return;
  } else if (tsresol & 0x80) {
    const n = tsresol & 0x7f;
    if (n <= 32) {
      const p = 2 ** n;
      out[0] = hi * (TWO_32 / p) + Math.floor(lo / p);
      const frac = lo % p;
      // 1e9 = 2^9 · 1953125; frac · 1953125 < 2^53
      out[1] = n <= 9 ? frac * (1e9 / p) : Math.floor((frac * 1953125) / 2 ** (n - 9));
      return;
    }
  } else if (tsresol < 9) {
    const d = 10 ** tsresol;
    // Long division by 16-bit limbs: each partial dividend stays below d · 2^16 < 2^53.
    let q = 0;
    let rem = 0;
    for (let i = 0; i < 4; i++) {
      const limb = i < 2
        ? (i === 0 ? hi >>> 16 : hi & 0xffff)
        : (i === 2 ? lo >>> 16 : lo & 0xffff);
      const x = rem * 65536 + limb;
      const qi = Math.floor(x / d);
      rem = x - qi * d;
      q = q * 65536 + qi;
    }
    out[0] = q;
    out[1] = rem * 10 ** (9 - tsresol);
    return;
  }
  const t = (BigInt(hi) << 32n) | BigInt(lo);
  const n = BigInt(tsresol & 0x7f);
  if (tsresol & 0x80) {
    out[0] = Number(t >> n);
    out[1] = Number(((t & ((1n << n) - 1n)) * 1000000000n) >> n);
  } else {
    const d = 10n ** n;
    out[0] = Number(t / d);
    out[1] = Number(((t % d) * 1000000000n) / d);
  }
}

export interface PcapngWriterOptions {
  /** Link type of `append` calls that do not name one; default 1 (Ethernet). */
  linkType?: number;
  /** Nanosecond timestamps (if_tsresol 9); default true. False writes µs. */
  nanos?: boolean;
  /** Frames are cut to this many bytes; default 262144. */
  snaplen?: number;
  /** Size of each output buffer; default 1 MiB. */
  bufferBytes?: number;
  /** Write a big-endian section (default little-endian). */
  bigEndian?: boolean;
  /** shb_userappl; default "stitcher". */
  application?: string;
}

/**
 * Buffered pcapng writer, used like `PcapWriter`: write `header()` first,
 * then `append` / `secrets`, handing `take()` chunks to the output.
 */
export class PcapngWriter {
  readonly linkType: number;
  readonly nanos: boolean;
  readonly snaplen: number;
  private readonly le: boolean;
  private readonly bufferBytes: number;
  private readonly application: string;
  private readonly out: ChunkBuffer;
  /** Interface id by link type. */
  private readonly ifaceOf = new Map<number, number>();
  private lastLinkType = -1;
  private lastIface = -1;
  private readonly ts = [0, 0];

  constructor(opts: PcapngWriterOptions = {}) {
    this.linkType = opts.linkType ?? 1;
    this.nanos = opts.nanos ?? true;
    this.snaplen = opts.snaplen ?? PCAP_MAX_CAPLEN;
    this.le = !opts.bigEndian;
    this.bufferBytes = opts.bufferBytes ?? 1 << 20;
    this.application = opts.application ?? "stitcher";
    if (!(this.snaplen > 0 && this.snaplen <= 0xffffffff)) {
      throw new RangeError(`PcapngWriter: snaplen ${this.snaplen} out of range`);
    }
    this.out = new ChunkBuffer(this.bufferBytes);
  }

  /** The Section Header Block, to write before the first `take()`. */
  header(): Uint8Array {
    const app = new TextEncoder().encode(this.application);
    const optLen = app.length > 0 ? 4 + pad4(app.length) + 4 : 0;
    const len = 28 + optLen;
    const h = new Uint8Array(len);
    const v = new DataView(h.buffer);
    const le = this.le;
    v.setUint32(0, PCAPNG_SHB, le);
    v.setUint32(4, len, le);
    v.setUint32(8, PCAPNG_BOM, le);
    v.setUint16(12, 1, le);
    v.setUint16(14, 0, le);
    // Section length unknown: -1.
    v.setInt32(16, -1, le);
    v.setInt32(20, -1, le);
    if (app.length > 0) {
      v.setUint16(24, OPT_SHB_USERAPPL, le);
      v.setUint16(26, app.length, le);
      h.set(app, 28);
    }
    v.setUint32(len - 4, len, le);
    return h;
  }

  get pending(): number {
    return this.out.pending;
  }

  /** Appends `frame[offset, offset + length)` as an EPB (cut to snaplen). */
  append(
    frame: Uint8Array,
    offset: number,
    length: number,
    origLen: number,
    sec: number,
    nsec: number,
    linkType: number = this.linkType,
  ): void {
    const iface = linkType === this.lastLinkType ? this.lastIface : this.interfaceFor(linkType);
    const ts = this.ts;
    if (this.nanos) {
      secNsecToNanos(sec, nsec, ts);
    } else {
      const t = sec * 1e6 + Math.floor(nsec / 1000);
      if (!(nsec >= 0 && nsec < 1e9 && Number.isSafeInteger(t) && t >= 0)) {
        throw new RangeError(`PcapngWriter: time ${sec}s ${nsec}ns not representable in µs`);
      }
      ts[1] = Math.floor(t / TWO_32);
      ts[0] = t - ts[1] * TWO_32;
    }
    const cap = length < this.snaplen ? length : this.snaplen;
    const n = 32 + pad4(cap);
    const p = this.out.reserve(n);
    const v = this.out.view;
    const le = this.le;
    v.setUint32(p, PCAPNG_EPB, le);
    v.setUint32(p + 4, n, le);
    v.setUint32(p + 8, iface, le);
    v.setUint32(p + 12, ts[1], le);
    v.setUint32(p + 16, ts[0], le);
    v.setUint32(p + 20, cap, le);
    v.setUint32(p + 24, origLen > cap ? origLen : cap, le);
    copyInto(this.out.buf, p + 28, frame, offset, cap);
    for (let i = p + 28 + cap; i < p + n - 4; i++) this.out.buf[i] = 0;
    v.setUint32(p + n - 4, n, le);
  }

  /** Appends a Decryption Secrets Block (e.g. `SECRETS_TLS_KEYLOG` with key log text). */
  secrets(type: number, data: Uint8Array): void {
    const n = 20 + pad4(data.length);
    if (n > PCAPNG_MAX_BLOCK) {
      throw new RangeError(`PcapngWriter: secrets of ${data.length} bytes exceed one block`);
    }
    const p = this.out.reserve(n);
    const v = this.out.view;
    const le = this.le;
    v.setUint32(p, PCAPNG_DSB, le);
    v.setUint32(p + 4, n, le);
    v.setUint32(p + 8, type, le);
    v.setUint32(p + 12, data.length, le);
    this.out.buf.set(data, p + 16);
    for (let i = p + 16 + data.length; i < p + n - 4; i++) this.out.buf[i] = 0;
    v.setUint32(p + n - 4, n, le);
  }

  take(): Uint8Array | null {
    return this.out.take();
  }

  /** Writes an IDB for a link type not seen before; returns its interface id. */
  private interfaceFor(linkType: number): number {
    let id = this.ifaceOf.get(linkType);
    if (id === undefined) {
      if (!(linkType >= 0 && linkType <= 0xffff)) {
        throw new RangeError(`PcapngWriter: link type ${linkType} out of range`);
      }
      id = this.ifaceOf.size;
      this.ifaceOf.set(linkType, id);
      const n = this.nanos ? 32 : 20;
      const p = this.out.reserve(n);
      const v = this.out.view;
      const le = this.le;
      v.setUint32(p, PCAPNG_IDB, le);
      v.setUint32(p + 4, n, le);
      v.setUint16(p + 8, linkType, le);
      v.setUint16(p + 10, 0, le);
      v.setUint32(p + 12, this.snaplen, le);
      if (this.nanos) {
        v.setUint16(p + 16, OPT_IF_TSRESOL, le);
        v.setUint16(p + 18, 1, le);
        v.setUint32(p + 20, 0, le);
        this.out.buf[p + 20] = 9;
        v.setUint32(p + 24, 0, le); // opt_endofopt
      }
      v.setUint32(p + n - 4, n, le);
    }
    this.lastLinkType = linkType;
    this.lastIface = id;
    return id;
  }
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}
