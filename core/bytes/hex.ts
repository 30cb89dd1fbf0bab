/** Lower-case hexadecimal encoding of bytes, and its strict inverse. */
import { DecodeError } from "./cursor.ts";

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, "0"));

/** `bytes` as lower-case hex, two digits per byte. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
  return s;
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  if (c >= 65 && c <= 70) return c - 55; // A-F
  return -1;
}

function shown(str: string): string {
  return JSON.stringify(str.length > 20 ? str.slice(0, 20) + "…" : str);
}

/**
 * The bytes written as hex in `str` (either case). Throws a `DecodeError`
 * on an odd length or a non-hex character.
 */
export function fromHex(str: string): Uint8Array {
  if (str.length % 2 !== 0) {
    throw new DecodeError(`hex string ${shown(str)} has odd length ${str.length}`, str.length);
  }
  const out = new Uint8Array(str.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(str.charCodeAt(2 * i));
    const lo = nibble(str.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) {
      const at = hi < 0 ? 2 * i : 2 * i + 1;
      throw new DecodeError(
        `hex string ${shown(str)} has non-hex character ${JSON.stringify(str[at])} at ${at}`,
        at,
      );
    }
    out[i] = (hi << 4) | lo;
  }
  return out;
}
