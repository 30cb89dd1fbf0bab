/**
 * Synthesis throughput: 100 MB of 1400-byte DATA records through
 * `TcpSynthesizer.data()`, batches reset when full as the pipeline does.
 * `deno bench tests/bench/micro/synth_bench.ts`, or `bun tests/bench/micro/synth_bench.ts`
 * (prints GB/s of payload).
 */
import type { FlowMeta } from "../../../core/plugin.ts";
import { PacketBatch } from "../../../core/stitch/packet_batch.ts";
import { newSynthFlow, TcpSynthesizer } from "../../../core/stitch/synth.ts";

const TOTAL = 100 * 1000 * 1000;
const RECORD = 1400;

const meta: FlowMeta = {
  origin: "bench",
  flow: 1,
  user: "",
  site: "",
  serverName: "",
  decrypted: false,
};

const payload = new Uint8Array(RECORD);
for (let i = 0; i < RECORD; i++) payload[i] = (i * 31 + 7) & 0xff;

const syn = new TcpSynthesizer({ mtu: 1500, overhead: 50 });
const batch = new PacketBatch();

/** Sends `total` payload bytes in one flow; returns the frames written. */
export function run(total: number): number {
  const f = newSynthFlow({
    ipVersion: 4,
    clientIp: Uint8Array.of(10, 0, 0, 1),
    serverIp: Uint8Array.of(10, 0, 0, 2),
    clientPort: 40000,
    serverPort: 443,
    origin: "bench",
    flow: 1,
  });
  let frames = 0;
  batch.reset();
  syn.handshake(batch, f, meta, 0, 0);
  const need = syn.bytesNeeded(4, RECORD);
  const pkts = syn.packetsNeeded(4, RECORD);
  for (let off = 0; off < total; off += RECORD) {
    if (batch.used + need > batch.arena.length || batch.count + pkts > batch.maxPackets) {
      frames += batch.count;
      batch.reset();
    }
    syn.data(batch, f, meta, 1, off, payload, 1, 0);
  }
  return frames + batch.count;
}

if (typeof Deno !== "undefined") {
  Deno.bench({
    name: "data(): 100 MB of 1400-byte records, IPv4, mtu 1500",
    n: 10,
    warmup: 3,
    fn() {
      run(TOTAL);
    },
  });
} else {
  run(TOTAL / 10);
  const rounds = 10;
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) run(TOTAL);
  const s = (performance.now() - t0) / 1000;
  // deno-lint-ignore no-console
  console.log(`synth data(): ${(rounds * TOTAL / s / 1e9).toFixed(2)} GB/s of payload`);
}
