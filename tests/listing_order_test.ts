/**
 * Objects listed in random order stitch to exactly the same packets as
 * objects listed in key order: the pipeline orders by object start time and
 * merges by record time, never by listing order.
 */
import { assert, assertEquals } from "./assert.ts";
import type { Exporter, ObjectInfo, OutPacket, Source } from "../core/plugin.ts";
import { runPack } from "../core/run/pack.ts";
import { runStitch } from "../core/run/stitch_run.ts";
import { silentLogger } from "../core/run/log.ts";
import { FileSource, openFileStream } from "../plugins/sources/file/mod.ts";

class ShuffledSource implements Source {
  constructor(private readonly inner: FileSource, private seed: number) {}
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const all: ObjectInfo[] = [];
    for await (const o of this.inner.list(prefix)) all.push(o);
    for (let i = all.length - 1; i > 0; i--) {
      this.seed = (this.seed * 1103515245 + 12345) % 2147483648;
      const j = this.seed % (i + 1);
      [all[i], all[j]] = [all[j], all[i]];
    }
    yield* all;
  }
  open(key: string) {
    return this.inner.open(key);
  }
}

class Collect implements Exporter {
  frames: string[] = [];
  write(batch: readonly OutPacket[]) {
    for (const p of batch) {
      const f = p.data.subarray(p.offset, p.offset + p.length);
      this.frames.push(`${p.tsSec}.${p.tsNsec} ${Array.from(f, (b) => b.toString(16)).join("")}`);
    }
  }
  flush() {
    return Promise.resolve();
  }
  close() {
    return Promise.resolve();
  }
}

Deno.test("objects listed in random order stitch to the same packets as in key order", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stitcher-order-" });
  try {
    const bucket = new FileSource(dir);
    await runPack({
      capture: await openFileStream("tests/fixtures/captures/concurrent_25.pcap"),
      captureName: "concurrent_25.pcap",
      keylogText: null,
      origin: "EU-FRA1",
      user: "",
      site: "",
      sink: bucket,
      prefix: "",
      windowSec: 0.1,
      writers: 3,
      splitDirections: true,
      keyDelaySec: 0,
      gzip: false,
      log: silentLogger,
    });
    const stitch = async (source: Source) => {
      const out = new Collect();
      const report = await runStitch({
        source,
        prefix: "",
        startMs: null,
        endMs: null,
        originGlobs: [],
        mtu: 1500,
        concurrency: 4,
        maxInflightBytes: 1 << 30,
        exporters: [out],
        log: silentLogger,
      });
      return { frames: out.frames, report };
    };
    const ordered = await stitch(bucket);
    assert(ordered.report.objects.read > 10, `only ${ordered.report.objects.read} objects`);
    assertEquals(ordered.report.flows.opened, 25);
    for (const seed of [1, 2, 3]) {
      const shuffled = await stitch(new ShuffledSource(bucket, seed));
      assertEquals(shuffled.frames.length, ordered.frames.length);
      assertEquals(shuffled.frames, ordered.frames, `seed ${seed}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
