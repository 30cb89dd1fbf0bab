/**
 * CRC-32C with the CPU's own instruction (SSE 4.2 `crc32`, x86-64), compiled
 * at start-up by the C compiler built into Bun (`bun:ffi` `cc`, TinyCC) and
 * called through FFI: ~6 GB/s against ~1.3 GB/s for the table version, and
 * CRC-32C of every record was the largest single cost of stitching.
 *
 * TinyCC does not know the instruction's mnemonic, so the C below spells the
 * machine code out (Intel SDM Vol. 2A, CRC32: F2 REX.W 0F 38 F1 /r for 64-bit
 * operands, F2 0F 38 F0 /r for a byte; CPUID is 0F A2, leaf 1 ECX bit 20 says
 * SSE 4.2). The operand is the address in RCX, the running CRC in RAX.
 *
 * `hardwareCrc32c` returns null, and the table version stays, anywhere this
 * cannot work: not Bun, not x86-64, no SSE 4.2, no writable temporary folder,
 * a compiler error, or an answer that differs from the table version's on
 * the check values (RFC 3720 B.4's "123456789" and random ranges). Nothing
 * here can fail a run.
 */
import { checkBytes, compileC } from "./cc.ts";
import { type Crc32cFn, crc32cTable } from "../../core/bytes/crc32c.ts";

const SOURCE = `
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned char u8;

int stitcher_has_sse42(void) {
  u32 a = 1, b, c = 0, d;
  __asm__ volatile (".byte 0x0f, 0xa2" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
  return (c >> 20) & 1;
}

/* CRC-32C of buf[off, off + n), continuing crc (passed as int: see below). */
u32 stitcher_crc32c(const u8 *buf, int off, int n, int crc) {
  u64 c = (u32)~(u32)crc;
  const u8 *p = buf + off;
  while (n >= 32) {
    /* crc32q (%rcx),%rax; crc32q 8(%rcx),%rax; 16(%rcx); 24(%rcx) */
    __asm__ volatile (
      ".byte 0xf2,0x48,0x0f,0x38,0xf1,0x01, 0xf2,0x48,0x0f,0x38,0xf1,0x41,0x08, "
      "0xf2,0x48,0x0f,0x38,0xf1,0x41,0x10, 0xf2,0x48,0x0f,0x38,0xf1,0x41,0x18"
      : "+a"(c) : "c"(p) : "memory");
    p += 32;
    n -= 32;
  }
  while (n >= 8) {
    __asm__ volatile (".byte 0xf2,0x48,0x0f,0x38,0xf1,0x01" : "+a"(c) : "c"(p) : "memory");
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    /* crc32b (%rcx),%eax */
    __asm__ volatile (".byte 0xf2,0x0f,0x38,0xf0,0x01" : "+a"(c) : "c"(p) : "memory");
    p++;
    n--;
  }
  return ~(u32)c;
}
`;

/** The hardware CRC-32C, checked against the table version, or null where it cannot be had. */
export async function hardwareCrc32c(): Promise<Crc32cFn | null> {
  const lib = await compileC("crc32c", SOURCE, {
    stitcher_has_sse42: { args: [], returns: "i32" },
    // The running CRC goes as i32: Bun 1.4.4 garbles u32 arguments once the
    // call is JIT-compiled (measured: ~half of 10^6 hot calls), i32 ones not.
    stitcher_crc32c: { args: ["ptr", "i32", "i32", "i32"], returns: "u32" },
  });
  try {
    if (lib === null || lib.stitcher_has_sse42() !== 1) return null;
    const native = lib.stitcher_crc32c;
    const fn: Crc32cFn = (buf, start, end, crc) => native(buf, start, end - start, crc | 0);
    return agrees(fn) ? fn : null;
  } catch {
    return null;
  }
}

/** The check value of RFC 3720 B.4, then ranges of every alignment and length class, hot. */
function agrees(fn: Crc32cFn): boolean {
  const check = new TextEncoder().encode("123456789");
  if (fn(check, 0, 9, 0) !== 0xe3069283) return false;
  const buf = checkBytes(4096 + 64);
  // Enough calls, with seeds of every high bit, for the FFI call to be
  // JIT-compiled (Bun's argument conversion changes there).
  for (let round = 0; round < 200; round++) {
    for (const view of [buf, buf.subarray(3), buf.subarray(61, 4000)]) {
      for (const [start, len] of [[0, 64], [1, 65], [7, 95], [13, 1000], [0, view.length - 1]]) {
        const end = Math.min(view.length, start + len);
        const seed = Math.imul(round + 1, 0x9e3779b9) >>> 0;
        if (fn(view, start, end, seed) !== crc32cTable(view, start, end, seed)) return false;
      }
    }
  }
  return true;
}
