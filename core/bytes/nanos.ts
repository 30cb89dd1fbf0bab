/**
 * Exact conversions between a u64 count of nanoseconds, held as two 32-bit
 * halves, and the (seconds, nanoseconds) pair used for timestamps everywhere
 * in the engine. A double cannot hold today's Unix nanoseconds exactly
 * (1.7e18 > 2^53), so no step goes through one.
 */

const TWO_32 = 4294967296;

/** u64 nanoseconds [lo, hi] → out [sec, nsec]. */
export function nanosToSecNsec(lo: number, hi: number, out: number[] | Float64Array): void {
  const a = Math.floor(hi / 65536);
  const b = hi % 65536;
  // 2^48 = 281474·1e9 + 976710656; 2^32 = 4·1e9 + 294967296
  const rem = a * 976710656 + b * 294967296 + lo;
  const carry = Math.floor(rem / 1e9);
  out[0] = a * 281474 + b * 4 + carry;
  out[1] = rem - carry * 1e9;
}

/** (sec, nsec) → out [lo, hi] of the u64 nanosecond count. */
export function secNsecToNanos(sec: number, nsec: number, out: number[] | Uint32Array): void {
  if (sec < 0 || nsec < 0 || nsec >= 1e9 || !Number.isInteger(sec) || !Number.isInteger(nsec)) {
    throw new RangeError(`secNsecToNanos: bad time ${sec}.${nsec}`);
  }
  const c = Math.floor(sec / 65536);
  const d = sec % 65536;
  // c·65536e9 = (c·1953125)·2^25
  const m = c * 1953125;
  let hi = Math.floor(m / 128);
  let lo = (m % 128) * 33554432;
  const rest = d * 1e9 + nsec;
  hi += Math.floor(rest / TWO_32);
  lo += rest % TWO_32;
  if (lo >= TWO_32) {
    lo -= TWO_32;
    hi += 1;
  }
  if (hi >= TWO_32) throw new RangeError(`secNsecToNanos: ${sec}s overflows u64 nanoseconds`);
  out[0] = lo;
  out[1] = hi;
}

/** Orders two (sec, nsec) times: negative, zero or positive. */
export function compareTime(aSec: number, aNsec: number, bSec: number, bNsec: number): number {
  return aSec !== bSec ? aSec - bSec : aNsec - bNsec;
}

/** A time in whole milliseconds as (sec, nsec). */
export function msToSecNsec(ms: number): { sec: number; nsec: number } {
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 };
}
