import { assertBytesEqual, assertEquals, assertThrows } from "../../tests/assert.ts";
import { DecodeError } from "./cursor.ts";
import { fromHex, toHex } from "./hex.ts";

Deno.test("toHex() writes two lower-case digits per byte", () => {
  assertEquals(toHex(new Uint8Array([0, 1, 0xab, 0xff, 0x10])), "0001abff10");
  assertEquals(toHex(new Uint8Array(0)), "");
});

Deno.test("fromHex() reads either case and round-trips every byte", () => {
  assertBytesEqual(fromHex("00ABff10"), new Uint8Array([0, 0xab, 0xff, 0x10]));
  const all = new Uint8Array(256).map((_, i) => i);
  assertBytesEqual(fromHex(toHex(all)), all);
  assertBytesEqual(fromHex(toHex(all).toUpperCase()), all);
});

Deno.test("fromHex() rejects an odd length", () => {
  assertThrows(() => fromHex("abc"), DecodeError, 'hex string "abc" has odd length 3');
});

Deno.test("fromHex() rejects a non-hex character and truncates the value to 20 chars", () => {
  assertThrows(() => fromHex("0g"), DecodeError, '"g" at 1');
  const e = assertThrows(() => fromHex("zz" + "00".repeat(40)), DecodeError);
  assertEquals(e.message.includes('"zz000000000000000000…"'), true, e.message);
  assertThrows(() => fromHex("0x00"), DecodeError, '"x" at 1');
  assertThrows(() => fromHex(" 0"), DecodeError, "at 0");
});
