import { assert, assertBytesEqual, assertEquals, assertThrows } from "../../tests/assert.ts";
import { ByteReader, DecodeError } from "../bytes/cursor.ts";
import { fromHex } from "../bytes/hex.ts";
import { decodeEthernet, encodeEthernet, newEthernetHeader } from "./ethernet.ts";

const DST = fromHex("020000000001");
const SRC = fromHex("020000000002");

Deno.test("decodeEthernet() reads an untagged IPv4 frame", () => {
  const f = fromHex("020000000001020000000002080045");
  const r = new ByteReader(f);
  const e = decodeEthernet(r);
  assertBytesEqual(e.dst, DST);
  assertBytesEqual(e.src, SRC);
  assertEquals(e.vlans, []);
  assertEquals(e.etherType, 0x0800);
  assertEquals(e.payloadOffset, 14);
  assertEquals(r.pos, 14);
  assertEquals(e.dst.buffer, f.buffer, "views are zero-copy");
});

Deno.test("decodeEthernet() walks 802.1Q and QinQ tags", () => {
  const f = fromHex("020000000001020000000002" + "88a8a00a" + "81000fff" + "9100e123" + "86dd");
  const e = decodeEthernet(new ByteReader(f));
  assertEquals(e.vlans, [10, 0xfff, 0x123]);
  assertEquals(e.etherType, 0x86dd);
  assertEquals(e.payloadOffset, 26);
});

Deno.test("decodeEthernet() reuses the caller's object and clears its tags", () => {
  const out = newEthernetHeader();
  decodeEthernet(new ByteReader(fromHex("020000000001020000000002810000050800")), out);
  assertEquals(out.vlans, [5]);
  const again = decodeEthernet(new ByteReader(fromHex("0200000000010200000000020806")), out);
  assert(again === out);
  assertEquals(out.vlans, []);
  assertEquals(out.etherType, 0x0806);
});

Deno.test("decodeEthernet() starts at the reader's position", () => {
  const f = fromHex("ffff" + "020000000001020000000002" + "0800");
  const r = new ByteReader(f, 2);
  assertEquals(decodeEthernet(r).payloadOffset, 16);
});

Deno.test("decodeEthernet() rejects every truncation of a tagged header", () => {
  const f = fromHex("020000000001020000000002" + "81000064" + "0800");
  for (let n = 0; n < f.length; n++) {
    assertThrows(() => decodeEthernet(new ByteReader(f, 0, n)), DecodeError);
    assertThrows(() => decodeEthernet(new ByteReader(f), undefined, n), DecodeError);
  }
  assertThrows(
    () => decodeEthernet(new ByteReader(f, 0, 17)),
    DecodeError,
    "802.1Q tag: 3 bytes < 4",
  );
});

Deno.test("encodeEthernet() writes at an offset and round-trips", () => {
  const buf = new Uint8Array(40).fill(0xee);
  const end = encodeEthernet(buf, 3, DST, SRC, 0x86dd);
  assertEquals(end, 17);
  assertBytesEqual(buf.subarray(3, 17), fromHex("02000000000102000000000286dd"));
  assertEquals(buf[2], 0xee);
  assertEquals(buf[17], 0xee);
  const end2 = encodeEthernet(buf, 0, DST, SRC, 0x0800, [100, 4095]);
  assertEquals(end2, 22);
  const e = decodeEthernet(new ByteReader(buf, 0, end2));
  assertEquals(e.vlans, [100, 4095]);
  assertEquals(e.etherType, 0x0800);
});

Deno.test("encodeEthernet() refuses to overflow the buffer or take a bad VLAN id", () => {
  assertThrows(
    () => encodeEthernet(new Uint8Array(13), 0, DST, SRC, 0x800),
    RangeError,
    "overflow",
  );
  assertThrows(
    () => encodeEthernet(new Uint8Array(30), 0, DST, SRC, 0x800, [4096]),
    RangeError,
    "4096",
  );
  assertThrows(
    () => encodeEthernet(new Uint8Array(30), 0, DST.subarray(1), SRC, 0x800),
    RangeError,
  );
});
