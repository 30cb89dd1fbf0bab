import { assertBytesEqual, assertEquals } from "../../../tests/assert.ts";
import type { OutPacket, OutputStream } from "../../../core/plugin.ts";
import { PacketBatch } from "../../../core/stitch/packet_batch.ts";
import { PcapReader } from "../../../core/format/pcap.ts";
import { PcapngReader } from "../../../core/format/pcapng.ts";
import { PcapExporter } from "./mod.ts";
import { concatBytes } from "../../../core/bytes/concat.ts";

class Memory implements OutputStream {
  chunks: Uint8Array[] = [];
  write(b: Uint8Array) {
    this.chunks.push(b.slice());
    return Promise.resolve();
  }
  close() {
    return Promise.resolve();
  }
  bytes(): Uint8Array {
    return concatBytes(this.chunks);
  }
}

function batchOf(n: number): PacketBatch {
  const b = new PacketBatch(1 << 16);
  for (let i = 0; i < n; i++) {
    const frame = new Uint8Array(60 + (i * 37) % 1400).map((_, j) => (i + j) & 0xff);
    b.pushCopy(
      frame,
      frame.length + (i % 3 === 0 ? 10 : 0),
      1_795_000_000 + i,
      i * 1_001_001,
      1,
      null,
    );
  }
  return b;
}

/** The same packets, each in an array of its own: the exporter's copying path. */
function scattered(b: PacketBatch): OutPacket[] {
  return b.packets.map((p) => ({
    ...p,
    data: p.data.slice(p.offset, p.offset + p.length),
    offset: 0,
  }));
}

Deno.test("PcapExporter writes the same file from an arena in place as by copying", async () => {
  for (const nanos of [false, true]) {
    const b = batchOf(200);
    const slow = new Memory();
    const e1 = new PcapExporter(slow, { nanos });
    await e1.write(scattered(b));
    await e1.close();
    const fast = new Memory();
    const e2 = new PcapExporter(fast, { nanos });
    await e2.write(b.packets);
    await e2.close();
    assertBytesEqual(fast.bytes(), slow.bytes(), `nanos=${nanos}`);
    assertEquals(e2.position, fast.bytes().length);
    const seen: [number, number, number, number][] = [];
    const r = new PcapReader((p) => seen.push([p.sec, p.nsec, p.data.length, p.origLen]), (p) => {
      throw new Error(p.detail);
    });
    r.push(fast.bytes());
    r.finish();
    assertEquals(seen.length, 200);
    const p7 = b.packets[7];
    const want = nanos ? p7.tsNsec : Math.floor(p7.tsNsec / 1000) * 1000;
    assertEquals(seen[7], [p7.tsSec, want, p7.length, p7.origLength]);
  }
});

Deno.test("PcapExporter writes pcapng with nanosecond times and a secrets block first", async () => {
  const b = batchOf(20);
  const out = new Memory();
  const e = new PcapExporter(out, { pcapng: true });
  await e.secrets([{
    label: "CLIENT_RANDOM",
    clientRandom: new Uint8Array(32).fill(1),
    secret: new Uint8Array(48),
  }]);
  await e.write(b.packets);
  await e.close();
  const times: number[] = [];
  const secrets: string[] = [];
  const r = new PcapngReader((p) => times.push(p.nsec), (p) => {
    throw new Error(p.detail);
  }, (_t, data) => secrets.push(new TextDecoder().decode(data)));
  r.push(out.bytes());
  r.finish();
  assertEquals(times, b.packets.map((p) => p.tsNsec));
  assertEquals(secrets.length, 1);
  assertEquals(secrets[0].startsWith("CLIENT_RANDOM 0101"), true);
});
