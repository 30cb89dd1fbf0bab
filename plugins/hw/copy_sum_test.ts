/**
 * The native copy-and-sum runs only under Bun (TinyCC through bun:ffi), so
 * this Deno test runs a Bun child that installs it and compares it with the
 * portable version over many lengths, alignments and contents, hot; under
 * Deno itself `hardwareCopySum` must decline.
 */
import { assert, assertEquals } from "../../tests/assert.ts";
import { runBunScript } from "../../tests/lib/bin.ts";
import { hardwareCopySum } from "./copy_sum.ts";

const CHILD = `
import { hardwareCopySum } from "./plugins/hw/copy_sum.ts";
import { copyAndSum, copySumPortable, useFastCopySum } from "./core/net/checksum.ts";
import { mulberry32 } from "./tests/lib/random.ts";
const fn = await hardwareCopySum();
useFastCopySum(fn);
const rnd = mulberry32(99);
const src = new Uint8Array(70000);
for (let i = 0; i < src.length; i++) src[i] = (rnd() * 256) | 0;
// Runs of 0xff and of zeros: the add-with-carry and folding edge cases.
src.fill(0xff, 10000, 20000);
src.fill(0, 30000, 40000);
const a = new Uint8Array(70000), b = new Uint8Array(70000);
let checked = 0, sumMismatches = 0, copyMismatches = 0;
for (const view of [src, src.subarray(1), src.subarray(2, 65000), src.subarray(3)]) {
  for (let i = 0; i < 4000; i++) {
    const n = i < 2000 ? i % 300 : (rnd() * 9000) | 0;
    const s = (rnd() * (view.length - n)) | 0;
    const d = (rnd() * 64) | 0;
    checked++;
    if (copyAndSum(view, s, a, d, n) !== copySumPortable(view, s, b, d, n)) sumMismatches++;
    for (let k = 0; k < n; k++) if (a[d + k] !== view[s + k]) { copyMismatches++; break; }
  }
}
console.log(JSON.stringify({ hardware: fn !== null, checked, sumMismatches, copyMismatches }));
`;

Deno.test("hardwareCopySum (Bun, x86-64) copies and sums like the portable version everywhere", async () => {
  const { result: r, stderr } = await runBunScript<{
    hardware: boolean;
    checked: number;
    sumMismatches: number;
    copyMismatches: number;
  }>(CHILD);
  // Every machine this suite runs on is x86-64 (see ../shared/notes).
  assertEquals(r.hardware, Deno.build.arch === "x86_64", stderr);
  assertEquals(r.sumMismatches, 0);
  assertEquals(r.copyMismatches, 0);
  assert(r.checked >= 16000);
});

Deno.test("hardwareCopySum declines outside Bun", async () => {
  assertEquals(await hardwareCopySum(), null);
});
