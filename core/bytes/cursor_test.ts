import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { ByteReader, ByteWriter, DecodeError } from "./cursor.ts";

Deno.test("ByteReader reads both byte orders and u64 halves as DataView does", () => {
  const bytes = new Uint8Array(64);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 37 + 200) & 0xff;
  const dv = new DataView(bytes.buffer);
  for (let off = 0; off + 8 <= bytes.length; off++) {
    const r = new ByteReader(bytes, off);
    assertEquals(r.u16be(), dv.getUint16(off, false));
    r.pos = off;
    assertEquals(r.u16le(), dv.getUint16(off, true));
    r.pos = off;
    assertEquals(r.u32be(), dv.getUint32(off, false));
    r.pos = off;
    assertEquals(r.u32le(), dv.getUint32(off, true));
    r.pos = off;
    const parts = [0, 0];
    r.u64leParts(parts);
    assertEquals(parts, [dv.getUint32(off, true), dv.getUint32(off + 4, true)]);
    assertEquals(r.pos, off + 8);
  }
});

Deno.test("ByteReader.u64le() rejects values above 2^53 and reads smaller ones exactly", () => {
  const w = new ByteWriter(16);
  w.u64le(2 ** 53 - 1).u64leParts(0, 0x200000);
  const r = new ByteReader(w.toBytes());
  assertEquals(r.u64le(), 2 ** 53 - 1);
  assertThrows(() => r.u64le("offset"), DecodeError, "exceeds 2^53");
});

Deno.test("ByteReader throws DecodeError naming the field when a read runs past the end", () => {
  const r = new ByteReader(new Uint8Array(3), 0, 3);
  r.u16be();
  const e = assertThrows(() => r.u32le("record length"), DecodeError, "record length");
  assertEquals((e as DecodeError).offset, 2);
  assertThrows(
    () => r.bytes(2, "payload"),
    DecodeError,
    "payload: needs 2 bytes at offset 2, 1 left",
  );
});

Deno.test("ByteReader respects a window end inside the buffer", () => {
  const r = new ByteReader(new Uint8Array(10), 2, 4);
  r.u16le();
  assertThrows(() => r.u8(), DecodeError);
});

Deno.test("ByteWriter grows and keeps what was written", () => {
  const w = new ByteWriter(2);
  for (let i = 0; i < 100; i++) w.u32be(i);
  const r = new ByteReader(w.toBytes());
  for (let i = 0; i < 100; i++) assertEquals(r.u32be(), i);
  assertEquals(w.written().length, 400);
});
