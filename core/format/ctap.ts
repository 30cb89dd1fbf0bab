/**
 * CTAP v1 capture objects (shared/spec/ctap-v1.md §2): a streaming decoder
 * that takes the object in chunks of any size, and the matching encoder.
 *
 * ```
 * object  = header record* END
 * header  = "CTAP" | version u16 (1) | flags u16 (0) | H u32 | TLV[H]
 * TLV     = tag u8 | length u16 | value            (1 origin, 2 writer, 3 start, 4 end)
 * record  = type u8 | flags u8 | reserved u16 | L u32 | body[L] | crc32c u32
 *           (the CRC covers type..body; all integers little-endian)
 *
 * body of  FLOW_OPEN  1  flow u64 | t u64 | ipVersion u8 | ipProto u8 | clientPort u16 |
 *                        serverPort u16 | clientIp[4|16] | serverIp[4|16] | TLV*
 *          DATA       2  flow u64 | t u64 | dir u8 | offset u64 | payload
 *          FLOW_CLOSE 3  flow u64 | t u64 | dir u8 | kind u8 | finalOffset u64
 *          PACKET     4  t u64 | linkType u16 | origLen u32 | data
 *          END      127  recordCount u64 | payloadBytes u64
 * ```
 *
 * The decoder never holds the object: a record that lies wholly inside a
 * chunk is decoded in place, and its `payload`/`data`/IP views are
 * `subarray`s of that chunk (valid while the caller keeps the chunk, which
 * it must not reuse). Only a record that straddles chunks is copied, into a
 * buffer of its own. Malformed input is reported through `onProblem` and
 * counted in `stats`, never thrown. Problem kinds:
 *
 * | kind | what happened | then |
 * | --- | --- | --- |
 * | `bad_magic`, `bad_version`, `bad_flags` | header rejected | no records |
 * | `hostile_length` | H or L above 16 MiB | object ends, counted truncated |
 * | `bad_crc` | record CRC mismatch | record skipped by length |
 * | `malformed` | body short for its type, bad ipVersion, dir, close kind, u64 ≥ 2^53, bad TLV | record skipped |
 * | `end_mismatch` | END's recordCount or payloadBytes differ from what was seen | — |
 * | `after_end` | bytes after END (reported once) | ignored |
 * | `truncated` | `finish()` inside a record, or without END; or an empty object | good records stand |
 *
 * Choices the spec leaves open: record flags and reserved bytes are ignored;
 * bodies longer than their type needs are accepted (the extra is ignored);
 * a FLOW_CLOSE kind other than 1..3 is malformed. END's recordCount is checked
 * against every record framed before it (good, bad CRC, malformed or of
 * unknown type); its payloadBytes against the DATA payloads that passed
 * their CRC, and only when no record failed its CRC (that loss is already
 * reported as `bad_crc`).
 */
import { ByteReader, ByteWriter, DecodeError } from "../bytes/cursor.ts";
import { crc32c } from "../bytes/crc32c.ts";
import { nanosToSecNsec, secNsecToNanos } from "../bytes/nanos.ts";
import {
  type CtapHeader,
  type CtapRecord,
  type DataRecord,
  type DecodeProblem,
  type FlowCloseRecord,
  type FlowKey,
  flowKey,
  flowKeyParts,
  type FlowOpenRecord,
  HDR_END,
  HDR_ORIGIN,
  HDR_START,
  HDR_WRITER,
  MAX_BODY,
  META_SERVER_NAME,
  META_SITE,
  META_USER,
  type PacketRecord,
  REC_DATA,
  REC_END,
  REC_FLOW_CLOSE,
  REC_FLOW_OPEN,
  REC_PACKET,
} from "./ctap_record.ts";

export { flowKey, flowKeyParts };

/** "CTAP" read as a big-endian u32. */
export const CTAP_MAGIC = 0x43544150;
export const CTAP_VERSION = 1;
/** Bytes before the header TLVs. */
export const HEADER_FIXED = 12;
/** Record framing: type, flags, reserved, L before the body; CRC after. */
export const RECORD_HEAD = 8;
export const RECORD_OVERHEAD = 12;

const FLOW_OPEN_MIN = 22;
const DATA_MIN = 25;
const FLOW_CLOSE_MIN = 26;
const PACKET_MIN = 14;
const END_MIN = 16;

const PHASE_HEADER = 0;
const PHASE_RECORDS = 1;
const PHASE_AFTER_END = 2;
const PHASE_DEAD = 3;

const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();

function hex32(v: number): string {
  return "0x" + (v >>> 0).toString(16).padStart(8, "0");
}

export interface CtapStats {
  /** Records delivered to `onRecord`, END not included. */
  records: number;
  badCrc: number;
  unknownType: number;
  malformed: number;
  /** The object ended inside a record, without END, or at a hostile length. */
  truncated: boolean;
  sawEnd: boolean;
  /** Sum of the payload lengths of the DATA records delivered. */
  payloadBytes: number;
}

export class CtapDecoder {
  header: CtapHeader | null = null;
  readonly stats: CtapStats = {
    records: 0,
    badCrc: 0,
    unknownType: 0,
    malformed: 0,
    truncated: false,
    sawEnd: false,
    payloadBytes: 0,
  };

  private phase = PHASE_HEADER;
  /** Absolute offset in the object of the next chunk's first byte. */
  private base = 0;
  /** An incomplete header or record: its bytes so far, and how many it needs. */
  private hold: Uint8Array | null = null;
  private holdLen = 0;
  private holdStart = 0;
  /** Records framed before END, whatever became of them. */
  private framed = 0;
  /** DATA payload bytes in records that passed their CRC. */
  private crcPayload = 0;
  private readonly parts = [0, 0];
  private readonly time = [0, 0];

  constructor(
    private readonly onRecord: (r: CtapRecord) => void,
    private readonly onProblem: (p: DecodeProblem) => void,
  ) {}

  push(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    let pos = 0;
    if (this.hold !== null) pos = this.fillHold(chunk);
    if (pos < n) {
      if (this.phase <= PHASE_RECORDS) {
        this.parse(chunk, pos, this.base);
      } else if (this.phase === PHASE_AFTER_END) {
        this.afterEnd(this.base + pos);
      }
    }
    this.base += n;
  }

  finish(): void {
    const total = this.base;
    if (this.phase === PHASE_HEADER) {
      if (total === 0) {
        this.stats.truncated = true;
        this.problem("truncated", 0, "object is empty (0 bytes)");
        return;
      }
      const h = this.hold!;
      const have = Math.min(this.holdLen, 4);
      let magic = 0;
      for (let i = 0; i < 4; i++) magic = (magic << 8) | (i < have ? h[i] : 0);
      if ((magic >>> 0) >>> ((4 - have) * 8) !== CTAP_MAGIC >>> ((4 - have) * 8)) {
        this.problem("bad_magic", 0, `bad magic ${hex32(magic)}`);
        this.phase = PHASE_DEAD;
        return;
      }
      this.stats.truncated = true;
      this.problem("truncated", total, `header cut short: object ends after ${total} bytes`);
    } else if (this.phase === PHASE_RECORDS) {
      this.stats.truncated = true;
      if (this.hold !== null) {
        this.problem(
          "truncated",
          this.holdStart,
          `record at offset ${this.holdStart} cut short: object ends after ${this.holdLen} of its bytes`,
        );
      } else {
        this.problem("truncated", total, `no END record after ${this.framed} records`);
      }
    }
    this.hold = null;
  }

  private problem(kind: string, offset: number, detail: string): void {
    this.onProblem({ kind, offset, detail });
  }

  private afterEnd(offset: number): void {
    this.problem("after_end", offset, `bytes after the END record at offset ${offset}`);
    this.phase = PHASE_DEAD;
  }

  /**
   * Size of the unit (header or record) whose fixed prefix is at `pos`, or -1
   * when that prefix ends the object (which it then reports).
   */
  private unitSize(r: ByteReader, pos: number, abs: number): number {
    r.pos = pos;
    if (this.phase === PHASE_HEADER) {
      const magic = r.u32be();
      const version = r.u16le();
      const flags = r.u16le();
      const h = r.u32le();
      if (magic !== CTAP_MAGIC) {
        this.problem("bad_magic", abs, `bad magic ${hex32(magic)}`);
      } else if (version !== CTAP_VERSION) {
        this.problem("bad_version", abs + 4, `unsupported version ${version}`);
      } else if (flags !== 0) {
        this.problem("bad_flags", abs + 6, `unknown header flags 0x${flags.toString(16)}`);
      } else if (h > MAX_BODY) {
        this.problem("hostile_length", abs + 8, `header TLV length ${h} exceeds ${MAX_BODY}`);
        this.stats.truncated = true;
      } else {
        return HEADER_FIXED + h;
      }
      this.phase = PHASE_DEAD;
      return -1;
    }
    r.pos = pos + 4;
    const len = r.u32le();
    if (len > MAX_BODY) {
      this.problem(
        "hostile_length",
        abs,
        `record type ${r.buf[pos]} at offset ${abs} claims length ${len} > ${MAX_BODY}`,
      );
      this.stats.truncated = true;
      this.phase = PHASE_DEAD;
      return -1;
    }
    return RECORD_OVERHEAD + len;
  }

  /** Decodes the units in `buf[pos..]`; keeps an incomplete tail in `hold`. */
  private parse(buf: Uint8Array, pos: number, base: number): void {
    const end = buf.length;
    const r = new ByteReader(buf);
    while (this.phase <= PHASE_RECORDS) {
      const rem = end - pos;
      const prefix = this.phase === PHASE_HEADER ? HEADER_FIXED : RECORD_HEAD;
      if (rem < prefix) {
        if (rem > 0) this.startHold(buf, pos, prefix, base + pos);
        return;
      }
      const size = this.unitSize(r, pos, base + pos);
      if (size < 0) return;
      if (rem < size) {
        this.startHold(buf, pos, size, base + pos);
        return;
      }
      if (this.phase === PHASE_HEADER) {
        this.decodeHeader(buf, pos, size, base + pos);
      } else {
        this.decodeRecord(r, pos, size - RECORD_OVERHEAD, base + pos);
      }
      pos += size;
    }
    if (this.phase === PHASE_AFTER_END && pos < end) this.afterEnd(base + pos);
  }

  private startHold(buf: Uint8Array, pos: number, need: number, abs: number): void {
    const h = new Uint8Array(need);
    h.set(buf.subarray(pos));
    this.hold = h;
    this.holdLen = buf.length - pos;
    this.holdStart = abs;
  }

  /** Feeds `chunk` to the held unit; returns how many bytes of it were used. */
  private fillHold(chunk: Uint8Array): number {
    let pos = 0;
    for (;;) {
      let h = this.hold!;
      const take = Math.min(h.length - this.holdLen, chunk.length - pos);
      h.set(chunk.subarray(pos, pos + take), this.holdLen);
      this.holdLen += take;
      pos += take;
      if (this.holdLen < h.length) return pos;
      const size = this.unitSize(new ByteReader(h), 0, this.holdStart);
      if (size < 0) {
        this.hold = null;
        return chunk.length;
      }
      if (size > h.length) {
        h = new Uint8Array(size);
        h.set(this.hold!);
        this.hold = h;
        continue;
      }
      this.hold = null;
      this.holdLen = 0;
      this.parse(h, 0, this.holdStart);
      return pos;
    }
  }

  private decodeHeader(buf: Uint8Array, pos: number, size: number, abs: number): void {
    const hdr: CtapHeader = {
      version: CTAP_VERSION,
      flags: 0,
      origin: "",
      writer: "",
      startSec: 0,
      startNsec: 0,
      endSec: 0,
      endNsec: 0,
    };
    const r = new ByteReader(buf, pos + HEADER_FIXED, pos + size);
    try {
      while (r.remaining > 0) {
        const tag = r.u8("header TLV tag");
        const len = r.u16le("header TLV length");
        const at = r.pos;
        const value = r.bytes(len, `header TLV ${tag} value`);
        if (tag === HDR_ORIGIN) hdr.origin = utf8.decode(value);
        else if (tag === HDR_WRITER) hdr.writer = utf8.decode(value);
        else if (tag === HDR_START || tag === HDR_END) {
          if (len !== 8) {
            throw new DecodeError(`header TLV ${tag} has length ${len}, expected 8`, at);
          }
          const t = new ByteReader(value);
          t.u64leParts(this.parts);
          nanosToSecNsec(this.parts[0], this.parts[1], this.time);
          if (tag === HDR_START) {
            hdr.startSec = this.time[0];
            hdr.startNsec = this.time[1];
          } else {
            hdr.endSec = this.time[0];
            hdr.endNsec = this.time[1];
          }
        }
      }
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.problem("malformed", abs + (e.offset - pos), `header: ${e.message}`);
    }
    this.header = hdr;
    this.phase = PHASE_RECORDS;
  }

  private decodeRecord(r: ByteReader, pos: number, len: number, abs: number): void {
    const buf = r.buf;
    const bodyEnd = pos + RECORD_HEAD + len;
    const type = buf[pos];
    r.pos = bodyEnd;
    const want = r.u32le();
    const got = crc32c(buf, pos, bodyEnd);
    if (want !== got) {
      this.framed++;
      this.stats.badCrc++;
      this.problem(
        "bad_crc",
        abs,
        `record type ${type} length ${len} CRC ${hex32(got)} != stored ${hex32(want)}`,
      );
      return;
    }
    if (type === REC_DATA && len >= DATA_MIN) this.crcPayload += len - DATA_MIN;
    if (type === REC_END) {
      this.decodeEnd(r, pos, len, abs);
      return;
    }
    this.framed++;
    r.pos = pos + RECORD_HEAD;
    let rec: CtapRecord | null;
    try {
      switch (type) {
        case REC_DATA:
          rec = this.decodeData(r, len, abs);
          break;
        case REC_FLOW_OPEN:
          rec = this.decodeFlowOpen(new ByteReader(buf, pos + RECORD_HEAD, bodyEnd), abs);
          break;
        case REC_FLOW_CLOSE:
          rec = this.decodeFlowClose(r, len, abs);
          break;
        case REC_PACKET:
          rec = this.decodePacket(r, len, abs);
          break;
        default:
          this.stats.unknownType++;
          return;
      }
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.malformed(abs, type, e.message);
      return;
    }
    if (rec === null) return;
    this.stats.records++;
    this.onRecord(rec);
  }

  private malformed(abs: number, type: number, why: string): null {
    this.stats.malformed++;
    this.problem("malformed", abs, `record type ${type} at offset ${abs}: ${why}`);
    return null;
  }

  private readTime(r: ByteReader): void {
    r.u64leParts(this.parts, "time");
    nanosToSecNsec(this.parts[0], this.parts[1], this.time);
  }

  private readFlow(r: ByteReader): FlowKey {
    r.u64leParts(this.parts, "flow");
    return flowKey(this.parts[0], this.parts[1]);
  }

  private decodeData(r: ByteReader, len: number, abs: number): DataRecord | null {
    if (len < DATA_MIN) return this.malformed(abs, REC_DATA, `body ${len} bytes < ${DATA_MIN}`);
    const flow = this.readFlow(r);
    this.readTime(r);
    const dir = r.u8("dir");
    if (dir > 1) return this.malformed(abs, REC_DATA, `dir ${dir} is not 0 or 1`);
    const offset = r.u64le("offset");
    const payload = r.bytes(len - DATA_MIN, "payload");
    this.stats.payloadBytes += payload.length;
    return {
      type: REC_DATA,
      flow,
      sec: this.time[0],
      nsec: this.time[1],
      dir: dir as 0 | 1,
      offset,
      payload,
    };
  }

  private decodeFlowOpen(r: ByteReader, abs: number): FlowOpenRecord | null {
    const len = r.remaining;
    if (len < FLOW_OPEN_MIN) {
      return this.malformed(abs, REC_FLOW_OPEN, `body ${len} bytes < ${FLOW_OPEN_MIN}`);
    }
    const flow = this.readFlow(r);
    this.readTime(r);
    const ipVersion = r.u8("ipVersion");
    if (ipVersion !== 4 && ipVersion !== 6) {
      return this.malformed(abs, REC_FLOW_OPEN, `ipVersion ${ipVersion} is not 4 or 6`);
    }
    const ipLen = ipVersion === 4 ? 4 : 16;
    const rec: FlowOpenRecord = {
      type: REC_FLOW_OPEN,
      flow,
      sec: this.time[0],
      nsec: this.time[1],
      ipVersion,
      ipProto: r.u8("ipProto"),
      clientPort: r.u16le("clientPort"),
      serverPort: r.u16le("serverPort"),
      clientIp: r.bytes(ipLen, "clientIp"),
      serverIp: r.bytes(ipLen, "serverIp"),
      user: "",
      site: "",
      serverName: "",
    };
    while (r.remaining > 0) {
      const tag = r.u8("metadata tag");
      const value = r.bytes(r.u16le("metadata length"), `metadata ${tag} value`);
      if (tag === META_USER) rec.user = utf8.decode(value);
      else if (tag === META_SITE) rec.site = utf8.decode(value);
      else if (tag === META_SERVER_NAME) rec.serverName = utf8.decode(value);
    }
    return rec;
  }

  private decodeFlowClose(r: ByteReader, len: number, abs: number): FlowCloseRecord | null {
    if (len < FLOW_CLOSE_MIN) {
      return this.malformed(abs, REC_FLOW_CLOSE, `body ${len} bytes < ${FLOW_CLOSE_MIN}`);
    }
    const flow = this.readFlow(r);
    this.readTime(r);
    const dir = r.u8("dir");
    const kind = r.u8("kind");
    if (dir > 1) return this.malformed(abs, REC_FLOW_CLOSE, `dir ${dir} is not 0 or 1`);
    if (kind < 1 || kind > 3) {
      return this.malformed(abs, REC_FLOW_CLOSE, `close kind ${kind} is not 1, 2 or 3`);
    }
    return {
      type: REC_FLOW_CLOSE,
      flow,
      sec: this.time[0],
      nsec: this.time[1],
      dir: dir as 0 | 1,
      kind,
      finalOffset: r.u64le("finalOffset"),
    };
  }

  private decodePacket(r: ByteReader, len: number, abs: number): PacketRecord | null {
    if (len < PACKET_MIN) {
      return this.malformed(abs, REC_PACKET, `body ${len} bytes < ${PACKET_MIN}`);
    }
    this.readTime(r);
    return {
      type: REC_PACKET,
      sec: this.time[0],
      nsec: this.time[1],
      linkType: r.u16le("linkType"),
      origLen: r.u32le("origLen"),
      data: r.bytes(len - PACKET_MIN, "data"),
    };
  }

  private decodeEnd(r: ByteReader, pos: number, len: number, abs: number): void {
    this.phase = PHASE_AFTER_END;
    this.stats.sawEnd = true;
    if (len < END_MIN) {
      this.malformed(abs, REC_END, `body ${len} bytes < ${END_MIN}`);
      return;
    }
    r.pos = pos + RECORD_HEAD;
    let recordCount: number, payloadBytes: number;
    try {
      recordCount = r.u64le("recordCount");
      payloadBytes = r.u64le("payloadBytes");
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.problem("end_mismatch", abs, `END: ${e.message}`);
      return;
    }
    if (recordCount !== this.framed) {
      this.problem(
        "end_mismatch",
        abs,
        `END says ${recordCount} records, ${this.framed} were seen`,
      );
    } else if (this.stats.badCrc === 0 && payloadBytes !== this.crcPayload) {
      this.problem(
        "end_mismatch",
        abs,
        `END says ${payloadBytes} payload bytes, ${this.crcPayload} were seen`,
      );
    }
    this.onRecord({ type: REC_END, recordCount, payloadBytes });
  }
}

/** Feeds a whole stream to a new decoder; a failed read rejects (after cancelling). */
export async function decodeCtapStream(
  stream: ReadableStream<Uint8Array>,
  onRecord: (r: CtapRecord) => void,
  onProblem: (p: DecodeProblem) => void,
): Promise<CtapDecoder> {
  const d = new CtapDecoder(onRecord, onProblem);
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      d.push(value);
    }
  } catch (e) {
    await reader.cancel(e).catch(() => {});
    throw e;
  } finally {
    reader.releaseLock();
  }
  d.finish();
  return d;
}

export interface CtapEncoderHeader {
  origin: string;
  writer: string;
  startSec: number;
  startNsec: number;
  endSec: number;
  endNsec: number;
}

/**
 * Writes one CTAP object in memory. `finish()` appends END and returns the
 * bytes; the encoder cannot be used after it. Out-of-range fields (a string
 * over 65535 UTF-8 bytes, a wrong-sized IP, a body over 16 MiB) throw a
 * RangeError: they are caller bugs, not data.
 */
export class CtapEncoder {
  private readonly w: ByteWriter;
  private records = 0;
  private payload = 0;
  private done = false;
  private readonly parts = [0, 0];

  constructor(h: CtapEncoderHeader, initialSize = 64 * 1024) {
    this.w = new ByteWriter(initialSize);
    const origin = utf8Encoder.encode(h.origin);
    const writer = utf8Encoder.encode(h.writer);
    const tlvLen = 3 + origin.length + 3 + writer.length + 2 * (3 + 8);
    this.w.u32be(CTAP_MAGIC).u16le(CTAP_VERSION).u16le(0).u32le(tlvLen);
    this.tlv(HDR_ORIGIN, origin);
    this.tlv(HDR_WRITER, writer);
    this.w.u8(HDR_START).u16le(8);
    this.time(h.startSec, h.startNsec);
    this.w.u8(HDR_END).u16le(8);
    this.time(h.endSec, h.endNsec);
  }

  /** Bytes written so far (END not included). */
  get size(): number {
    return this.w.pos;
  }

  /** Records written so far (END not included). */
  get recordCount(): number {
    return this.records;
  }

  flowOpen(r: Omit<FlowOpenRecord, "type">): void {
    const ipLen = r.ipVersion === 4 ? 4 : r.ipVersion === 6 ? 16 : -1;
    if (ipLen < 0 || r.clientIp.length !== ipLen || r.serverIp.length !== ipLen) {
      throw new RangeError(
        `flowOpen: ipVersion ${r.ipVersion} with ${r.clientIp.length}/${r.serverIp.length}-byte IPs`,
      );
    }
    const user = utf8Encoder.encode(r.user);
    const site = utf8Encoder.encode(r.site);
    const sni = utf8Encoder.encode(r.serverName);
    let len = FLOW_OPEN_MIN + 2 * ipLen;
    for (const m of [user, site, sni]) if (m.length > 0) len += 3 + m.length;
    const at = this.begin(REC_FLOW_OPEN, len);
    this.flow(r.flow);
    this.time(r.sec, r.nsec);
    this.w.u8(r.ipVersion).u8(r.ipProto).u16le(r.clientPort).u16le(r.serverPort);
    this.w.bytes(r.clientIp).bytes(r.serverIp);
    if (user.length > 0) this.tlv(META_USER, user);
    if (site.length > 0) this.tlv(META_SITE, site);
    if (sni.length > 0) this.tlv(META_SERVER_NAME, sni);
    this.end(at);
  }

  data(r: Omit<DataRecord, "type">): void {
    const at = this.begin(REC_DATA, DATA_MIN + r.payload.length);
    this.flow(r.flow);
    this.time(r.sec, r.nsec);
    this.w.u8(r.dir).u64le(r.offset).bytes(r.payload);
    this.payload += r.payload.length;
    this.end(at);
  }

  flowClose(r: Omit<FlowCloseRecord, "type">): void {
    const at = this.begin(REC_FLOW_CLOSE, FLOW_CLOSE_MIN);
    this.flow(r.flow);
    this.time(r.sec, r.nsec);
    this.w.u8(r.dir).u8(r.kind).u64le(r.finalOffset);
    this.end(at);
  }

  packet(r: Omit<PacketRecord, "type">): void {
    const at = this.begin(REC_PACKET, PACKET_MIN + r.data.length);
    this.time(r.sec, r.nsec);
    this.w.u16le(r.linkType).u32le(r.origLen).bytes(r.data);
    this.end(at);
  }

  /** Appends END and returns a copy of the whole object. */
  finish(): Uint8Array {
    const count = this.records;
    const at = this.begin(REC_END, END_MIN);
    this.w.u64le(count).u64le(this.payload);
    this.end(at);
    this.done = true;
    return this.w.toBytes();
  }

  private begin(type: number, len: number): number {
    if (this.done) throw new RangeError("CtapEncoder: object already finished");
    if (len > MAX_BODY) throw new RangeError(`record type ${type}: body ${len} > ${MAX_BODY}`);
    const at = this.w.pos;
    this.w.reserve(RECORD_OVERHEAD + len);
    this.w.u8(type).u8(0).u16le(0).u32le(len);
    this.records++;
    return at;
  }

  private end(at: number): void {
    this.w.u32le(crc32c(this.w.buf, at, this.w.pos));
  }

  private tlv(tag: number, value: Uint8Array): void {
    if (value.length > 0xffff) throw new RangeError(`TLV ${tag}: ${value.length} bytes > 65535`);
    this.w.u8(tag).u16le(value.length).bytes(value);
  }

  private flow(key: FlowKey): void {
    const [lo, hi] = flowKeyParts(key);
    this.w.u64leParts(lo, hi);
  }

  private time(sec: number, nsec: number): void {
    secNsecToNanos(sec, nsec, this.parts);
    this.w.u64leParts(this.parts[0], this.parts[1]);
  }
}
