import { assert, assertBytesEqual, assertEquals, assertRejects } from "../../tests/assert.ts";
import { gunzipBytes, gzipBytes, maybeGunzip } from "./gzip.ts";

function chunked(data: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (at >= data.length) c.close();
      else {
        c.enqueue(data.slice(at, at + size));
        at += size;
      }
    },
  });
}

async function readAll(s: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: number[] = [];
  const r = s.getReader();
  for (;;) {
    const { done, value } = await r.read();
    if (done) return new Uint8Array(parts);
    parts.push(...value);
  }
}

const DATA = new TextEncoder().encode("CTAP".repeat(5000) + "tail");

Deno.test("gzipBytes() output is a gzip member that maybeGunzip() restores", async () => {
  const gz = await gzipBytes(DATA);
  assertEquals([gz[0], gz[1]], [0x1f, 0x8b]);
  assert(gz.length < DATA.length / 10);
  assertBytesEqual(await readAll(maybeGunzip(chunked(gz, 7), "data/x.ctap.gz")), DATA);
  assertBytesEqual(await gunzipBytes(gz), DATA);
});

Deno.test("maybeGunzip() passes through a key without .gz", async () => {
  const s = chunked(DATA, 1000);
  assert(maybeGunzip(s, "data/x.ctap") === s);
  assertBytesEqual(await readAll(maybeGunzip(chunked(DATA, 3), "x.gzip")), DATA);
});

Deno.test("maybeGunzip() turns a corrupt gzip into a rejected read", async () => {
  const gz = await gzipBytes(DATA);
  const corrupt = gz.slice();
  corrupt[gz.length >> 1] ^= 0xff;
  corrupt[(gz.length >> 1) + 1] ^= 0x55;
  await assertRejects(() => readAll(maybeGunzip(chunked(corrupt, 16), "a.gz")));
  await assertRejects(() => readAll(maybeGunzip(chunked(DATA, 16), "not-gzip.gz")));
  await assertRejects(() => gunzipBytes(gz.subarray(0, gz.length - 20)));
  // Cut after the deflate data: only the trailer (CRC, size) is missing.
  await assertRejects(() => gunzipBytes(gz.subarray(0, gz.length - 4)));
});
