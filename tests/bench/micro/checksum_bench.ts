// deno bench tests/bench/micro/checksum_bench.ts — Internet checksum over 1500-byte packets (every synthesized segment).
import { internetChecksum } from "../../../core/net/checksum.ts";

const buf = new Uint8Array(1514).map((_, i) => i * 7);

Deno.bench("internetChecksum() over 1000 packets of 1500 bytes", () => {
  let x = 0;
  for (let k = 0; k < 1000; k++) x ^= internetChecksum(buf, 14, 1514);
  if (x < 0) throw new Error("unreachable");
});
