/**
 * Compiles a few lines of C at start-up with the C compiler built into Bun
 * (`bun:ffi` `cc`, TinyCC) and returns its functions, or null anywhere that
 * cannot work: not Bun, not x86-64, no writable temporary folder, a compiler
 * error. The source is written to a private temporary folder (TinyCC reads a
 * file) that is removed again. Callers check what they get before using it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

/** FFI signatures, as `bun:ffi` spells them ("ptr", "i32", "u32", ...). */
export type CSymbols = Record<string, { args: string[]; returns: string }>;
export type CFunctions = Record<string, (...args: unknown[]) => number>;

interface BunCc {
  cc(opts: { source: string; symbols: CSymbols }): { symbols: CFunctions };
}

/** The compiled functions of `source`, or null (see above). `name` names the temporary file. */
export async function compileC(
  name: string,
  source: string,
  symbols: CSymbols,
): Promise<CFunctions | null> {
  if (!("Bun" in globalThis) || process.arch !== "x64") return null;
  let dir: string | null = null;
  try {
    // A computed specifier: Deno's checker must not try to resolve bun:ffi.
    const specifier = "bun:ffi";
    const { cc } = await import(specifier) as BunCc;
    dir = mkdtempSync(join(tmpdir(), "stitcher-cc-"));
    const file = join(dir, `${name}.c`);
    writeFileSync(file, source);
    return cc({ source: file, symbols }).symbols;
  } catch {
    return null;
  } finally {
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
  }
}

/** `n` fixed pseudo-random bytes (a linear congruential generator) for the kernels' start-up checks. */
export function checkBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) bytes[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
  return bytes;
}
