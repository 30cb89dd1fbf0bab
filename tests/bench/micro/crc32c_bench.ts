// deno bench tests/bench/micro/crc32c_bench.ts — CRC-32C throughput (every CTAP record is checked).
import { crc32c } from "../../../core/bytes/crc32c.ts";

const buf = new Uint8Array(16 << 20).map((_, i) => i & 0xff);

Deno.bench("crc32c() over 16 MiB", () => {
  crc32c(buf);
});
