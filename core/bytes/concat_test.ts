import { assertEquals } from "../../tests/assert.ts";
import { concatBytes } from "./concat.ts";

Deno.test("concatBytes() joins parts in order, views included, into a new array", () => {
  const base = Uint8Array.of(9, 1, 2, 3, 9);
  const parts = [Uint8Array.of(0), base.subarray(1, 4), new Uint8Array(0), Uint8Array.of(4, 5)];
  const out = concatBytes(parts);
  assertEquals([...out], [0, 1, 2, 3, 4, 5]);
  out[1] = 7;
  assertEquals(base[1], 1);
  assertEquals(concatBytes([]).length, 0);
});
