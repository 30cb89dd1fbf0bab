import { assert, assertBytesEqual, assertEquals, assertRejects } from "../../tests/assert.ts";
import { crc32c } from "../bytes/crc32c.ts";
import { CtapDecoder, CtapEncoder, decodeCtapStream, flowKey } from "./ctap.ts";
import type { CtapRecord, DecodeProblem } from "./ctap_record.ts";
import {
  MAX_BODY,
  REC_DATA,
  REC_END,
  REC_FLOW_CLOSE,
  REC_FLOW_OPEN,
  REC_PACKET,
} from "./ctap_record.ts";
import { concatBytes } from "../bytes/concat.ts";

const HDR = {
  origin: "US-NYC1",
  writer: "w1",
  startSec: 1_700_000_000,
  startNsec: 0,
  endSec: 1_700_000_060,
  endNsec: 5,
};

const BIG_FLOW = flowKey(0x89abcdef, 0xfedcba98); // > 2^53: a hex FlowKey

function bytes(...v: number[]): Uint8Array {
  return new Uint8Array(v);
}

function sample(): Uint8Array {
  const e = new CtapEncoder(HDR, 16);
  e.flowOpen({
    flow: 1,
    sec: 1_700_000_000,
    nsec: 1,
    ipVersion: 4,
    ipProto: 6,
    clientPort: 51000,
    serverPort: 443,
    clientIp: bytes(10, 0, 0, 1),
    serverIp: bytes(93, 184, 216, 34),
    user: "alice@example.com",
    site: "example",
    serverName: "example.com",
  });
  e.flowOpen({
    flow: BIG_FLOW,
    sec: 1_700_000_001,
    nsec: 999_999_999,
    ipVersion: 6,
    ipProto: 6,
    clientPort: 1,
    serverPort: 65535,
    clientIp: new Uint8Array(16).fill(0x20),
    serverIp: new Uint8Array(16).fill(0xfe),
    user: "",
    site: "",
    serverName: "ü.example",
  });
  e.data({
    flow: 1,
    sec: 1_700_000_002,
    nsec: 3,
    dir: 0,
    offset: 0,
    payload: new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"),
  });
  e.data({
    flow: BIG_FLOW,
    sec: 1_700_000_002,
    nsec: 4,
    dir: 1,
    offset: 2 ** 40,
    payload: new Uint8Array(0),
  });
  e.packet({
    sec: 1_700_000_003,
    nsec: 0,
    linkType: 101,
    origLen: 1500,
    data: bytes(0x45, 0, 0, 20),
  });
  e.flowClose({
    flow: 1,
    sec: 1_700_000_004,
    nsec: 0,
    dir: 1,
    kind: 2,
    finalOffset: 4096,
  });
  return e.finish();
}

interface Run {
  d: CtapDecoder;
  records: CtapRecord[];
  problems: DecodeProblem[];
}

function decodeChunks(obj: Uint8Array, chunkSize = obj.length): Run {
  const records: CtapRecord[] = [];
  const problems: DecodeProblem[] = [];
  const d = new CtapDecoder((r) => records.push(r), (p) => problems.push(p));
  for (let i = 0; i < obj.length; i += chunkSize) {
    d.push(obj.subarray(i, Math.min(obj.length, i + chunkSize)));
  }
  d.finish();
  return { d, records, problems };
}

/** Records as plain values: views copied, so equality does not depend on buffers. */
function plain(records: CtapRecord[]): unknown[] {
  return records.map((r) => {
    const o: Record<string, unknown> = { ...r };
    for (const [k, v] of Object.entries(o)) if (v instanceof Uint8Array) o[k] = Array.from(v);
    return o;
  });
}

/** A hand-built record with a correct CRC. */
function record(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const v = new DataView(out.buffer);
  out[0] = type;
  v.setUint32(4, body.length, true);
  out.set(body, 8);
  v.setUint32(8 + body.length, crc32c(out, 0, 8 + body.length), true);
  return out;
}

/** The header of an encoded object (everything before its first record). */
function headerOf(): Uint8Array {
  return new CtapEncoder(HDR).finish().subarray(0, -28);
}

function endRecord(count: number, payload: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint32(0, count, true);
  v.setUint32(8, payload, true);
  return record(REC_END, b);
}

Deno.test("CtapEncoder and CtapDecoder round-trip every record type", () => {
  const { d, records, problems } = decodeChunks(sample());
  assertEquals(problems, []);
  assertEquals(d.header, { version: 1, flags: 0, ...HDR });
  assertEquals(d.stats, {
    records: 6,
    badCrc: 0,
    unknownType: 0,
    malformed: 0,
    truncated: false,
    sawEnd: true,
    payloadBytes: 18,
  });
  assertEquals(records.map((r) => r.type), [
    REC_FLOW_OPEN,
    REC_FLOW_OPEN,
    REC_DATA,
    REC_DATA,
    REC_PACKET,
    REC_FLOW_CLOSE,
    REC_END,
  ]);
  const [open4, open6, data0, data1, packet, close, end] = records;
  assertEquals(plain([open4])[0], {
    type: REC_FLOW_OPEN,
    flow: 1,
    sec: 1_700_000_000,
    nsec: 1,
    ipVersion: 4,
    ipProto: 6,
    clientPort: 51000,
    serverPort: 443,
    clientIp: [10, 0, 0, 1],
    serverIp: [93, 184, 216, 34],
    user: "alice@example.com",
    site: "example",
    serverName: "example.com",
  });
  assert(open6.type === REC_FLOW_OPEN);
  assertEquals(open6.flow, "fedcba9889abcdef");
  assertEquals([open6.sec, open6.nsec], [1_700_000_001, 999_999_999]);
  assertEquals(open6.ipVersion, 6);
  assertBytesEqual(open6.serverIp, new Uint8Array(16).fill(0xfe));
  assertEquals([open6.user, open6.site, open6.serverName], ["", "", "ü.example"]);
  assert(data0.type === REC_DATA && data1.type === REC_DATA);
  assertEquals(new TextDecoder().decode(data0.payload), "GET / HTTP/1.1\r\n\r\n");
  assertEquals([data1.flow, data1.dir, data1.offset, data1.payload.length], [
    "fedcba9889abcdef",
    1,
    2 ** 40,
    0,
  ]);
  assertEquals(plain([packet])[0], {
    type: REC_PACKET,
    sec: 1_700_000_003,
    nsec: 0,
    linkType: 101,
    origLen: 1500,
    data: [0x45, 0, 0, 20],
  });
  assertEquals(close, {
    type: REC_FLOW_CLOSE,
    flow: 1,
    sec: 1_700_000_004,
    nsec: 0,
    dir: 1,
    kind: 2,
    finalOffset: 4096,
  });
  assertEquals(end, { type: REC_END, recordCount: 6, payloadBytes: 18 });
});

Deno.test("CtapDecoder gives DATA payloads as views of the input chunk", () => {
  const obj = sample();
  const { records } = decodeChunks(obj);
  const data = records.find((r) => r.type === REC_DATA)!;
  assert(data.type === REC_DATA);
  assert(data.payload.buffer === obj.buffer, "payload is a subarray of the chunk");
});

Deno.test("CtapDecoder gives the same records for every chunk size", () => {
  const obj = sample();
  const want = plain(decodeChunks(obj).records);
  for (let size = 1; size <= obj.length; size++) {
    const { records, problems, d } = decodeChunks(obj, size);
    assertEquals(problems, [], `chunk size ${size}`);
    assertEquals(plain(records), want, `chunk size ${size}`);
    assertEquals(d.header?.origin, "US-NYC1");
  }
});

Deno.test("CtapDecoder gives the same records for uneven chunkings", () => {
  const obj = sample();
  const want = plain(decodeChunks(obj).records);
  let seed = 1;
  for (let round = 0; round < 200; round++) {
    const records: CtapRecord[] = [];
    const problems: DecodeProblem[] = [];
    const d = new CtapDecoder((r) => records.push(r), (p) => problems.push(p));
    for (let i = 0; i < obj.length;) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const n = seed % 40; // includes empty chunks
      d.push(obj.subarray(i, Math.min(obj.length, i + n)));
      i += n;
    }
    d.finish();
    assertEquals(problems, []);
    assertEquals(plain(records), want);
  }
});

Deno.test("CtapDecoder rejects an object with a bad magic", () => {
  const obj = sample();
  obj[0] = 0;
  obj[1] = 0;
  obj[2] = 0;
  obj[3] = 0;
  const { records, problems, d } = decodeChunks(obj);
  assertEquals(records, []);
  assertEquals(problems.map((p) => [p.kind, p.detail]), [["bad_magic", "bad magic 0x00000000"]]);
  assertEquals(d.header, null);
  assertEquals(d.stats.truncated, false);
});

Deno.test("CtapDecoder rejects a garbage object with a valid name", () => {
  const garbage = new TextEncoder().encode("<html><body>404 Not Found</body></html>");
  for (const size of [1, 3, garbage.length]) {
    const { records, problems } = decodeChunks(garbage, size);
    assertEquals(records, []);
    assertEquals(problems.map((p) => p.kind), ["bad_magic"]);
  }
  const { problems } = decodeChunks(bytes(0x3c, 0x68)); // shorter than a header
  assertEquals(problems.map((p) => p.kind), ["bad_magic"]);
});

Deno.test("CtapDecoder rejects an unknown version or header flag bits", () => {
  const v2 = sample();
  v2[4] = 2;
  assertEquals(decodeChunks(v2).problems.map((p) => [p.kind, p.detail]), [[
    "bad_version",
    "unsupported version 2",
  ]]);
  const flagged = sample();
  flagged[6] = 0x80;
  const run = decodeChunks(flagged, 5);
  assertEquals(run.problems.map((p) => p.kind), ["bad_flags"]);
  assertEquals(run.records, []);
});

Deno.test("CtapDecoder reports an empty object as truncated", () => {
  const { problems, records, d } = decodeChunks(new Uint8Array(0));
  assertEquals(records, []);
  assertEquals(problems.map((p) => p.kind), ["truncated"]);
  assert(d.stats.truncated);
});

Deno.test("CtapDecoder counts a record with a bad CRC and goes on", () => {
  const good = sample();
  const want = plain(decodeChunks(good).records);
  const obj = sample();
  // The third record (first DATA) starts after the header and two FLOW_OPENs.
  const h = headerOf().length;
  const open4 = 12 + 22 + 8 + 3 * 3 + 17 + 7 + 11;
  const open6 = 12 + 22 + 32 + 3 + 10;
  const dataAt = h + open4 + open6;
  assertEquals(obj[dataAt], REC_DATA);
  obj[dataAt + 8 + 30] ^= 0x01; // a payload byte
  for (const size of [1, 7, obj.length]) {
    const { records, problems, d } = decodeChunks(obj, size);
    assertEquals(problems.map((p) => [p.kind, p.offset]), [["bad_crc", dataAt]]);
    assertEquals(plain(records), want.filter((_, i) => i !== 2));
    assertEquals(d.stats.badCrc, 1);
    assertEquals(d.stats.records, 5);
    assert(d.stats.sawEnd);
  }
});

Deno.test("CtapDecoder never throws on an object truncated at any offset", () => {
  const obj = sample();
  const full = decodeChunks(obj).records.length;
  for (let cut = 0; cut < obj.length; cut++) {
    for (const size of [1, 13, obj.length]) {
      const { records, problems, d } = decodeChunks(obj.subarray(0, cut), size);
      assert(records.length < full, `cut ${cut}`);
      assertEquals(problems.map((p) => p.kind), ["truncated"], `cut ${cut} size ${size}`);
      assert(d.stats.truncated);
      assert(!d.stats.sawEnd);
    }
  }
});

Deno.test("CtapDecoder ends the object at a record claiming 16 MiB + 1", () => {
  const hostile = new Uint8Array(12);
  hostile[0] = REC_DATA;
  new DataView(hostile.buffer).setUint32(4, MAX_BODY + 1, true);
  const obj = concatBytes([
    headerOf(),
    sample().subarray(headerOf().length, -28),
    hostile,
    sample(),
  ]);
  for (const size of [1, 9, obj.length]) {
    const { records, problems, d } = decodeChunks(obj, size);
    assertEquals(problems.map((p) => p.kind), ["hostile_length"]);
    assertEquals(records.length, 6);
    assert(d.stats.truncated);
  }
});

Deno.test("CtapDecoder decodes a record at exactly 16 MiB", () => {
  const e = new CtapEncoder(HDR);
  e.data({ flow: 7, sec: 1, nsec: 0, dir: 0, offset: 0, payload: new Uint8Array(MAX_BODY - 25) });
  const { records, problems } = decodeChunks(e.finish(), 1 << 20);
  assertEquals(problems, []);
  assertEquals(records.length, 2);
});

Deno.test("CtapDecoder reports an END whose counts disagree", () => {
  const body = sample().subarray(headerOf().length, -28);
  const wrongCount = decodeChunks(concatBytes([headerOf(), body, endRecord(5, 18)]));
  assertEquals(wrongCount.problems.map((p) => [p.kind, p.detail]), [[
    "end_mismatch",
    "END says 5 records, 6 were seen",
  ]]);
  const wrongBytes = decodeChunks(concatBytes([headerOf(), body, endRecord(6, 19)]));
  assertEquals(wrongBytes.problems.map((p) => p.kind), ["end_mismatch"]);
  assert(wrongBytes.d.stats.sawEnd);
});

Deno.test("CtapDecoder skips a record of unknown type and counts it", () => {
  const obj = concatBytes([headerOf(), record(99, bytes(1, 2, 3)), endRecord(1, 0)]);
  const { records, problems, d } = decodeChunks(obj, 2);
  assertEquals(problems, []);
  assertEquals(records, [{ type: REC_END, recordCount: 1, payloadBytes: 0 }]);
  assertEquals(d.stats.unknownType, 1);
});

Deno.test("CtapDecoder reports malformed bodies and skips them", () => {
  const shortData = record(REC_DATA, new Uint8Array(24));
  const badDir = new Uint8Array(25);
  badDir[16] = 2;
  const badIp = new Uint8Array(22 + 8);
  badIp[16] = 5;
  const cutTlv = new Uint8Array(22 + 8 + 2);
  cutTlv[16] = 4;
  cutTlv[30] = 1; // tag 1, then only one byte of its length
  const badKind = new Uint8Array(26);
  badKind[17] = 9;
  const hugeOffset = new Uint8Array(25);
  hugeOffset[24] = 0xff; // offset's high byte: >= 2^53
  const obj = concatBytes([
    headerOf(),
    shortData,
    record(REC_DATA, badDir),
    record(REC_FLOW_OPEN, badIp),
    record(REC_FLOW_OPEN, cutTlv),
    record(REC_FLOW_CLOSE, badKind),
    record(REC_DATA, hugeOffset),
    record(REC_PACKET, new Uint8Array(13)),
    endRecord(7, 0),
  ]);
  const { records, problems, d } = decodeChunks(obj, 3);
  assertEquals(problems.map((p) => p.kind), Array(7).fill("malformed"));
  assertEquals(records.map((r) => r.type), [REC_END]);
  assertEquals(d.stats.malformed, 7);
  assert(problems.some((p) => p.detail.includes("ipVersion 5 is not 4 or 6")));
  assert(problems.some((p) => p.detail.includes("dir 2 is not 0 or 1")));
});

Deno.test("CtapDecoder reports bytes after END once", () => {
  const obj = concatBytes([sample(), record(REC_DATA, new Uint8Array(30)), bytes(1, 2, 3)]);
  for (const size of [1, obj.length]) {
    const { records, problems, d } = decodeChunks(obj, size);
    assertEquals(problems.map((p) => [p.kind, p.offset]), [["after_end", sample().length]]);
    assertEquals(records.length, 7);
    assert(!d.stats.truncated);
  }
});

Deno.test("CtapDecoder reports a malformed header TLV and still reads records", () => {
  const hdr = new Uint8Array(12 + 4);
  hdr.set(new TextEncoder().encode("CTAP"));
  hdr[4] = 1;
  hdr[8] = 4;
  hdr[12] = 3; // start, length 1: must be 8
  hdr[13] = 1;
  hdr[15] = 0;
  const { records, problems, d } = decodeChunks(concatBytes([hdr, endRecord(0, 0)]));
  assertEquals(problems.map((p) => p.kind), ["malformed"]);
  assertEquals(records.length, 1);
  assertEquals(d.header?.origin, "");
});

Deno.test("decodeCtapStream() decodes a stream and rejects on a failed read", async () => {
  const obj = sample();
  const records: CtapRecord[] = [];
  const d = await decodeCtapStream(
    new ReadableStream({
      start(c) {
        c.enqueue(obj.subarray(0, 10));
        c.enqueue(obj.subarray(10));
        c.close();
      },
    }),
    (r) => records.push(r),
    () => {},
  );
  assertEquals(records.length, 7);
  assert(d.stats.sawEnd);
  await assertRejects(
    () =>
      decodeCtapStream(
        new ReadableStream({
          start(c) {
            c.enqueue(obj.subarray(0, 10));
          },
          pull(c) {
            c.error(new Error("connection reset"));
          },
        }),
        () => {},
        () => {},
      ),
    Error,
    "connection reset",
  );
});

Deno.test("CtapEncoder writes the CRC over type..body", () => {
  const obj = new CtapEncoder(HDR).finish();
  const end = obj.subarray(obj.length - 28);
  assertEquals(Array.from(end.subarray(0, 8)), [127, 0, 0, 0, 16, 0, 0, 0]);
  const crc = new DataView(end.buffer, end.byteOffset).getUint32(24, true);
  assertEquals(crc, crc32c(end, 0, 24));
});
