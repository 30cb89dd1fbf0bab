import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { crc32c } from "./crc32c.ts";

const ascii = (s: string) => new TextEncoder().encode(s);

function naive(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

Deno.test('crc32c() of "123456789" is 0xE3069283', () => {
  assertEquals(crc32c(ascii("123456789")), 0xe3069283);
});

Deno.test("crc32c() of the empty input is 0", () => {
  assertEquals(crc32c(new Uint8Array(0)), 0);
});

Deno.test("crc32c() matches the RFC 3720 B.4 vectors", () => {
  assertEquals(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assertEquals(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  const inc = new Uint8Array(32).map((_, i) => i);
  assertEquals(crc32c(inc), 0x46dd794e);
  const dec = new Uint8Array(32).map((_, i) => 31 - i);
  assertEquals(crc32c(dec), 0x113fdb5c);
  // An iSCSI SCSI Read (10) command PDU
  const pdu = new Uint8Array(48);
  pdu.set([0x01, 0xc0], 0);
  pdu[16] = 0x14;
  pdu[22] = 0x04;
  pdu[27] = 0x14;
  pdu[31] = 0x18;
  pdu[32] = 0x28;
  pdu[40] = 0x02;
  assertEquals(crc32c(pdu), 0xd9963a56);
});

Deno.test("crc32c() continued incrementally equals one shot", () => {
  const buf = new Uint8Array(1000).map((_, i) => (i * 131 + 7) & 0xff);
  const whole = crc32c(buf);
  for (const cut of [0, 1, 3, 7, 8, 15, 16, 63, 64, 65, 500, 999, 1000]) {
    assertEquals(crc32c(buf, cut, buf.length, crc32c(buf, 0, cut)), whole, `cut ${cut}`);
  }
  let c = 0;
  for (let i = 0; i < buf.length; i += 37) c = crc32c(buf, i, Math.min(i + 37, buf.length), c);
  assertEquals(c, whole);
});

Deno.test("crc32c() matches a bitwise reference at every alignment and length", () => {
  const backing = new Uint8Array(300).map((_, i) => (i * 197 + 11) & 0xff);
  for (let off = 0; off < 5; off++) {
    const view = backing.subarray(off);
    for (const len of [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 66, 67, 100, 128, 200, 295]) {
      assertEquals(crc32c(view, 0, len), naive(view.subarray(0, len)), `off ${off} len ${len}`);
      assertEquals(crc32c(backing, off, off + len), naive(view.subarray(0, len)));
    }
  }
});

Deno.test("crc32c() rejects a range outside the buffer", () => {
  assertThrows(() => crc32c(new Uint8Array(4), 0, 5), RangeError, "0..5 of 4");
  assertThrows(() => crc32c(new Uint8Array(4), 3, 2), RangeError);
});
