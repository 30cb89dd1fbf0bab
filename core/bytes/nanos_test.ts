import { assertEquals, assertThrows } from "../../tests/assert.ts";
import { msToSecNsec, nanosToSecNsec, secNsecToNanos } from "./nanos.ts";

function viaBigInt(sec: number, nsec: number): [number, number] {
  const v = BigInt(sec) * 1_000_000_000n + BigInt(nsec);
  return [Number(v & 0xffffffffn), Number(v >> 32n)];
}

Deno.test("secNsecToNanos() and nanosToSecNsec() round-trip exactly against BigInt", () => {
  const cases: [number, number][] = [
    [0, 0],
    [0, 999_999_999],
    [1, 0],
    [1_700_000_000, 123_456_789],
    [4_294_967_295, 999_999_999],
    [17_179_869_183, 1],
    [65_535, 5],
    [65_536, 0],
  ];
  let seed = 7;
  for (let i = 0; i < 2000; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const sec = seed * 8 + (i % 8);
    cases.push([sec, (seed * 31) % 1e9]);
  }
  const parts = [0, 0];
  const back = [0, 0];
  for (const [sec, nsec] of cases) {
    secNsecToNanos(sec, nsec, parts);
    assertEquals(parts, viaBigInt(sec, nsec), `encode ${sec}.${nsec}`);
    nanosToSecNsec(parts[0], parts[1], back);
    assertEquals(back, [sec, nsec], `decode ${sec}.${nsec}`);
  }
});

Deno.test("secNsecToNanos() rejects a nanosecond field of 1e9", () => {
  assertThrows(() => secNsecToNanos(1, 1e9, [0, 0]), RangeError);
});

Deno.test("msToSecNsec() splits whole milliseconds exactly", () => {
  assertEquals(msToSecNsec(0), { sec: 0, nsec: 0 });
  assertEquals(msToSecNsec(1_764_000_000_999), { sec: 1_764_000_000, nsec: 999_000_000 });
});
