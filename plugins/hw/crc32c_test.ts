/**
 * The hardware CRC-32C runs only under Bun (TinyCC through bun:ffi), so this
 * Deno test runs a Bun child that installs it and compares it with the table
 * version over many ranges, alignments and views; under Deno itself
 * `hardwareCrc32c` must decline.
 */
import { assert, assertEquals } from "../../tests/assert.ts";
import { runBunScript } from "../../tests/lib/bin.ts";
import { hardwareCrc32c } from "./crc32c.ts";

const CHILD = `
import { hardwareCrc32c } from "./plugins/hw/crc32c.ts";
import { crc32c, crc32cTable, useFastCrc32c } from "./core/bytes/crc32c.ts";
import { mulberry32 } from "./tests/lib/random.ts";
const fn = await hardwareCrc32c();
useFastCrc32c(fn);
const rnd = mulberry32(7);
const big = Uint8Array.from({ length: 70000 }, () => (rnd() * 256) | 0);
let checked = 0, mismatches = 0;
for (const view of [big, big.subarray(1), big.subarray(2, 65000), big.subarray(3)]) {
  for (let i = 0; i < 3000; i++) {
    const start = (i * 7919) % 1000, len = i < 2000 ? i % 257 : (i * 104729) % 64000;
    const end = Math.min(view.length, start + len), seed = i * 2654435761 >>> 0;
    checked++;
    if (crc32c(view, start, end, seed) !== crc32cTable(view, start, end, seed)) mismatches++;
  }
}
const flipped = big.slice(0, 4096);
const before = crc32c(flipped);
flipped[1000] ^= 4;
console.log(JSON.stringify({ hardware: fn !== null, checked, mismatches, flipDetected: crc32c(flipped) !== before }));
`;

Deno.test("hardwareCrc32c (Bun, x86-64) agrees with the table version everywhere, and sees a flipped bit", async () => {
  const { result: r, stderr } = await runBunScript<{
    hardware: boolean;
    checked: number;
    mismatches: number;
    flipDetected: boolean;
  }>(CHILD);
  // Every machine this suite runs on is x86-64 with SSE 4.2 (see ../shared/notes).
  assertEquals(r.hardware, Deno.build.arch === "x86_64", stderr);
  assertEquals(r.mismatches, 0);
  assert(r.checked >= 12000);
  assert(r.flipDetected);
});

Deno.test("hardwareCrc32c declines outside Bun", async () => {
  assertEquals(await hardwareCrc32c(), null);
});
