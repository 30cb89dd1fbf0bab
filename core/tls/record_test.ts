import { assert, assertBytesEqual, assertEquals, assertMatch } from "../../tests/assert.ts";
import { ByteReader, DecodeError } from "../bytes/cursor.ts";
import {
  CT_APPLICATION_DATA,
  CT_CHANGE_CIPHER_SPEC,
  CT_HANDSHAKE,
  decodeRecordHeader,
  encodeRecord,
  MAX_RECORD_LENGTH,
  RecordFramer,
  type TlsRecord,
} from "./record.ts";
import { concatBytes } from "../bytes/concat.ts";

type Got = { type: number; version: number; fragment: Uint8Array };

function collect(): { got: Got[]; framer: RecordFramer } {
  const got: Got[] = [];
  const framer = new RecordFramer((r: TlsRecord) =>
    got.push({ type: r.type, version: r.version, fragment: r.fragment.slice() })
  );
  return { got, framer };
}

function fill(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

const RECORDS: Got[] = [
  { type: CT_HANDSHAKE, version: 0x0301, fragment: fill(7, 1) },
  { type: CT_CHANGE_CIPHER_SPEC, version: 0x0303, fragment: Uint8Array.of(1) },
  { type: CT_APPLICATION_DATA, version: 0x0303, fragment: fill(9, 2) },
];

function stream(records: Got[]): Uint8Array {
  const parts = records.map((r) => encodeRecord(r.type, r.version, r.fragment));
  return concatBytes(parts);
}

Deno.test("RecordFramer emits the same records for every 1-, 2- and 3-way segmentation", () => {
  const bytes = stream(RECORDS);
  const n = bytes.length;
  let cases = 0;
  for (let a = 0; a <= n; a++) {
    for (let b = a; b <= n; b++) {
      const { got, framer } = collect();
      framer.push(bytes.subarray(0, a));
      framer.push(bytes.subarray(a, b));
      framer.push(bytes.subarray(b));
      assertEquals(got, RECORDS, `cuts at ${a}, ${b}`);
      assertEquals(framer.bufferedBytes, 0);
      assertEquals(framer.error, null);
      cases++;
    }
  }
  assert(cases > 300);
});

Deno.test("RecordFramer handles byte-at-a-time pushes and empty records", () => {
  const recs = [...RECORDS, {
    type: CT_APPLICATION_DATA,
    version: 0x0303,
    fragment: new Uint8Array(0),
  }];
  const bytes = stream(recs);
  const { got, framer } = collect();
  for (let i = 0; i < bytes.length; i++) framer.push(bytes.subarray(i, i + 1));
  assertEquals(got, recs);
  assertEquals(framer.records, 4);
  assertEquals(framer.offset, bytes.length);
});

Deno.test("RecordFramer hands out zero-copy views for records inside one chunk", () => {
  const bytes = stream(RECORDS);
  const views: Uint8Array[] = [];
  const framer = new RecordFramer((r) => views.push(r.fragment));
  framer.push(bytes);
  assertEquals(views.length, 3);
  for (const v of views) assert(v.buffer === bytes.buffer);
});

Deno.test("RecordFramer holds a straddling record and nothing more", () => {
  const big = { type: CT_APPLICATION_DATA, version: 0x0303, fragment: fill(MAX_RECORD_LENGTH, 3) };
  const bytes = stream([big, big]);
  const { got, framer } = collect();
  framer.push(bytes.subarray(0, 100));
  assertEquals(framer.bufferedBytes, 100);
  framer.push(bytes.subarray(100, MAX_RECORD_LENGTH + 5 + 3));
  assertEquals(got.length, 1);
  assertEquals(framer.bufferedBytes, 3);
  framer.push(bytes.subarray(MAX_RECORD_LENGTH + 5 + 3));
  assertEquals(got.length, 2);
  assertBytesEqual(got[1].fragment, big.fragment);
});

Deno.test("RecordFramers sharing the buffer pool never see each other's bytes", () => {
  // Three streams with distinct contents, pushed in interleaved 700-byte
  // chunks so every record straddles chunks while the others' do too; the
  // second framer stops itself inside a callback, mid-stream.
  const streams = [1, 2, 3].map((k) =>
    stream([1000, 5000, MAX_RECORD_LENGTH, 3].map((n) => ({
      type: CT_APPLICATION_DATA,
      version: 0x0303,
      fragment: new Uint8Array(n).fill(k),
    })))
  );
  const got: number[][] = [[], [], []];
  const framers = streams.map((_, i) =>
    new RecordFramer((r) => {
      for (const b of r.fragment) {
        if (b !== i + 1) throw new Error(`framer ${i} saw byte ${b}`);
      }
      got[i].push(r.fragment.length);
      if (i === 1 && got[i].length === 2) framers[1].stop();
    })
  );
  const longest = Math.max(...streams.map((s) => s.length));
  for (let at = 0; at < longest; at += 700) {
    streams.forEach((s, i) => framers[i].push(s.subarray(at, at + 700)));
  }
  assertEquals(got, [
    [1000, 5000, MAX_RECORD_LENGTH, 3],
    [1000, 5000],
    [1000, 5000, MAX_RECORD_LENGTH, 3],
  ]);
});
Deno.test("RecordFramer rejects a record claiming length 2^14 + 2049", () => {
  const bytes = Uint8Array.of(
    23,
    3,
    3,
    (MAX_RECORD_LENGTH + 1) >> 8,
    (MAX_RECORD_LENGTH + 1) & 0xff,
  );
  const { got, framer } = collect();
  framer.push(stream(RECORDS.slice(0, 1)));
  framer.push(bytes.subarray(0, 2));
  framer.push(bytes.subarray(2));
  assertEquals(got.length, 1);
  assert(framer.done);
  assertMatch(framer.error!, /stream offset 12: record length 18433 > 18432/);
  framer.push(stream(RECORDS));
  assertEquals(got.length, 1);
});

Deno.test("RecordFramer rejects an unknown type and a major version other than 3", () => {
  for (
    const [head, re] of [
      [Uint8Array.of(25, 3, 3, 0, 1, 0), /unknown record content type 25/],
      [Uint8Array.of(71, 69, 84, 32, 47, 32), /unknown record content type 71/],
      [Uint8Array.of(22, 2, 0, 0, 1, 0), /record version 0x0200 is not TLS/],
    ] as const
  ) {
    const { got, framer } = collect();
    framer.push(head);
    assertEquals(got.length, 0);
    assertMatch(framer.error!, re);
  }
});

Deno.test("RecordFramer stop() from inside the callback drops the rest", () => {
  const bytes = stream(RECORDS);
  let n = 0;
  const framer = new RecordFramer(() => {
    n++;
    framer.stop();
  });
  framer.push(bytes);
  assertEquals(n, 1);
});

Deno.test("decodeRecordHeader() rejects a 4-byte header", () => {
  let err: unknown = null;
  try {
    decodeRecordHeader(new ByteReader(Uint8Array.of(22, 3, 3, 0)), { type: 0, version: 0 });
  } catch (e) {
    err = e;
  }
  assert(err instanceof DecodeError);
  assertMatch((err as Error).message, /record length/);
});
