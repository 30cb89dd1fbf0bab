/**
 * The copy of each payload into its frame and the TCP checksum over it
 * (RFC 1071), in one native call: `rep movsb` for the copy, then the CPU's
 * add-with-carry over 32 bytes a step, the way operating systems checksum.
 * Compiled at start-up by the C compiler built into Bun (plugins/hw/cc.ts);
 * in the stitcher's pass-through this was ~0.5 s of a ~4.5 s run in
 * JavaScript (`set` plus the word loop of `sumWords`).
 *
 * TinyCC has no mnemonics for these, so the machine code is spelled out
 * (Intel SDM Vol. 2; assembled with GNU as and checked with objdump):
 *
 *     f3 a4           rep movsb          copy RCX bytes from (RSI) to (RDI)
 *     f8              clc
 *   1:48 13 01        adc (%rcx),%rax    four 64-bit words, the carry chained
 *     48 13 41 08     adc 8(%rcx),%rax
 *     48 13 41 10     adc 16(%rcx),%rax
 *     48 13 41 18     adc 24(%rcx),%rax
 *     48 8d 49 20     lea 32(%rcx),%rcx  (lea and dec leave the carry alone)
 *     48 ff ca        dec %rdx
 *     75 e8           jnz 1b
 *     48 83 d0 00     adc $0,%rax        the last carry, and the one that
 *     48 83 d0 00     adc $0,%rax        adding it can make
 *
 * Summing little-endian words gives the byte-swapped big-endian sum (RFC 1071
 * §2(B)), so the folded sum is swapped back at the end. Like the CRC, the
 * result is checked against the portable version (`copySumPortable`) on
 * ranges of every length and alignment, hot, before it is used; anywhere it
 * cannot be had the portable version stays. Nothing here can fail a run.
 */
import { type CopySumFn, copySumPortable } from "../../core/net/checksum.ts";
import { checkBytes, compileC } from "./cc.ts";

const SOURCE = `
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned char u8;

/* Copies n bytes from src + so to dst + dof; returns their RFC 1071 sum,
   folded to 16 bits, as big-endian words from dst + dof. */
u32 stitcher_copy_sum(const u8 *src, int so, u8 *dst, int dof, int n) {
  u8 *d = dst + dof;
  {
    const u8 *s = src + so;
    u8 *to = d;
    u64 count = (u64)n;
    __asm__ volatile (".byte 0xf3,0xa4" : "+D"(to), "+S"(s), "+c"(count) : : "memory");
  }
  u64 sum = 0;
  const u8 *p = d;
  u64 blocks = (u64)(n >> 5);
  if (blocks > 0) {
    __asm__ volatile (
      ".byte 0xf8, 0x48,0x13,0x01, 0x48,0x13,0x41,0x08, 0x48,0x13,0x41,0x10, "
      "0x48,0x13,0x41,0x18, 0x48,0x8d,0x49,0x20, 0x48,0xff,0xca, 0x75,0xe8, "
      "0x48,0x83,0xd0,0x00, 0x48,0x83,0xd0,0x00"
      : "+a"(sum), "+c"(p), "+d"(blocks) : : "memory", "cc");
  }
  int rest = n & 31;
  u64 tail = 0;
  int i = 0;
  for (; i + 4 <= rest; i += 4) tail += *(const u32 *)(p + i);
  u64 last = 0;
  for (int k = 0; i < rest; i++, k++) last |= (u64)p[i] << (8 * k);
  tail += last;
  sum += tail;
  if (sum < tail) sum++;
  u64 x = (sum & 0xffffffff) + (sum >> 32);
  x = (x & 0xffffffff) + (x >> 32);
  x = (x & 0xffff) + (x >> 16);
  x = (x & 0xffff) + (x >> 16);
  x = (x & 0xffff) + (x >> 16);
  return (u32)(((x & 0xff) << 8) | (x >> 8));
}
`;

/** The native copy-and-sum, checked against the portable one, or null where it cannot be had. */
export async function hardwareCopySum(): Promise<CopySumFn | null> {
  const lib = await compileC("copy_sum", SOURCE, {
    stitcher_copy_sum: { args: ["ptr", "i32", "ptr", "i32", "i32"], returns: "u32" },
  });
  if (lib === null) return null;
  try {
    const native = lib.stitcher_copy_sum;
    const fn: CopySumFn = (src, srcStart, dst, dstStart, n) =>
      native(src, srcStart, dst, dstStart, n);
    return agrees(fn) ? fn : null;
  } catch {
    return null;
  }
}

/**
 * Every length 0..200 and longer ones, at every source and destination
 * alignment mod 8, on random bytes and on all-0xff and all-zero bytes (the
 * carry and fold edge cases), enough calls for the FFI call to be JIT-compiled.
 */
function agrees(fn: CopySumFn): boolean {
  const src = checkBytes(4096 + 64);
  const ones = new Uint8Array(2048).fill(0xff);
  const zeros = new Uint8Array(2048);
  const a = new Uint8Array(src.length + 16);
  const b = new Uint8Array(src.length + 16);
  const lengths: number[] = [];
  for (let n = 0; n <= 200; n++) lengths.push(n);
  lengths.push(1459, 1460, 1461, 2047, 4000);
  for (const from of [src, ones, zeros]) {
    for (const n of lengths) {
      if (n > from.length - 8) continue;
      for (let s = 0; s < 8; s++) {
        const d = (n * 7 + s * 3) & 7;
        if (fn(from, s, a, d, n) !== copySumPortable(from, s, b, d, n)) return false;
        for (let i = 0; i < n; i++) if (a[d + i] !== from[s + i]) return false;
      }
    }
  }
  return true;
}
