/**
 * Selection (ctap-v1 §1): --start-ts/--end-ts list only the hour folders that
 * can hold traffic of the window (one hour of look-back for objects that
 * start earlier), and --origin-filter only matching origins. Nothing outside
 * them is listed or read, and no packet outside the window is exported.
 */
import { assert, assertEquals } from "./assert.ts";
import type { Exporter, ObjectInfo, OutPacket, Source } from "../core/plugin.ts";
import { CtapEncoder } from "../core/format/ctap.ts";
import { formatObjectKey } from "../core/format/object_key.ts";
import { runStitch, type StitchConfig } from "../core/run/stitch_run.ts";
import { silentLogger } from "../core/run/log.ts";
import { FileSource } from "../plugins/sources/file/mod.ts";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 20, 10); // 10:00 UTC, 20 Nov 2026

/** Records every prefix listed and every key opened. */
class WatchedSource implements Source {
  listed: string[] = [];
  opened: string[] = [];
  constructor(private readonly inner: FileSource) {}
  list(prefix: string): AsyncIterable<ObjectInfo> {
    this.listed.push(prefix);
    return this.inner.list(prefix);
  }
  listFolders(prefix: string): AsyncIterable<string> {
    this.listed.push(prefix + " (folders)");
    return this.inner.listFolders(prefix);
  }
  open(key: string) {
    this.opened.push(key);
    return this.inner.open(key);
  }
}

class Times implements Exporter {
  ms: number[] = [];
  write(batch: readonly OutPacket[]) {
    for (const p of batch) this.ms.push(p.tsSec * 1000 + p.tsNsec / 1e6);
  }
  flush = () => Promise.resolve();
  close = () => Promise.resolve();
}

/** One object per origin per hour 10..13, each one short flow at start + 10 min. */
async function makeBucket(dir: string): Promise<FileSource> {
  const bucket = new FileSource(dir);
  let flow = 1;
  for (const origin of ["US-NYC1", "US-SFO2", "EU-FRA1"]) {
    for (let h = 0; h < 4; h++) {
      const start = T0 + h * HOUR;
      const t = start + 10 * 60_000;
      const sec = Math.floor(t / 1000);
      const enc = new CtapEncoder({
        origin,
        writer: "w0",
        startSec: start / 1000,
        startNsec: 0,
        endSec: start / 1000 + 3600,
        endNsec: 0,
      });
      enc.flowOpen({
        flow,
        sec,
        nsec: 0,
        ipVersion: 4,
        ipProto: 6,
        clientPort: 40000 + h,
        serverPort: 80,
        clientIp: new Uint8Array([10, 0, 0, h + 1]),
        serverIp: new Uint8Array([10, 9, 9, 9]),
        user: "",
        site: "",
        serverName: "",
      });
      enc.data({
        flow,
        sec,
        nsec: 1000,
        dir: 0,
        offset: 0,
        payload: new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"),
      });
      enc.flowClose({ flow, sec: sec + 1, nsec: 0, dir: 0, kind: 1, finalOffset: 18 });
      enc.flowClose({ flow, sec: sec + 1, nsec: 0, dir: 1, kind: 1, finalOffset: 0 });
      flow++;
      await bucket.put(
        formatObjectKey({
          kind: "data",
          origin,
          startMs: start,
          endMs: start + HOUR,
          writer: "w0",
          seq: h,
        }),
        enc.finish(),
      );
    }
  }
  return bucket;
}

function config(source: Source, out: Exporter, over: Partial<StitchConfig>): StitchConfig {
  return {
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
    ...over,
  };
}

Deno.test("a time window lists only its hour folders (and one before) and exports only its packets", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stitcher-sel-" });
  try {
    const source = new WatchedSource(await makeBucket(dir));
    const out = new Times();
    // 12:05 .. 12:30: the flows of hour 12 (at 12:10) only.
    const startMs = T0 + 2 * HOUR + 5 * 60_000;
    const endMs = T0 + 2 * HOUR + 30 * 60_000;
    const report = await runStitch(config(source, out, { startMs, endMs }));
    const hourLists = source.listed.filter((p) => !p.endsWith("(folders)"));
    for (const p of hourLists) {
      assert(/\/2026\/11\/20\/1[12]\/$/.test(p), `listed a folder outside the window: ${p}`);
    }
    assertEquals(hourLists.length, 6, `3 origins x hours 11 and 12: ${hourLists}`);
    // Hour 11's objects are read for their FLOW_OPENs (flows still open in the
    // window); their flows closed before it, so nothing of them is exported.
    for (const k of source.opened) assert(/\/2026\/11\/20\/1[12]\//.test(k), `read ${k}`);
    assertEquals(report.flows.opened, 6);
    assertEquals(report.flows.midstream, 3);
    assertEquals(report.flows.openAtEnd, 0);
    assertEquals(report.flows.orphaned, 0);
    assert(out.ms.length > 0);
    for (const ms of out.ms) {
      assert(ms >= startMs && ms < endMs, `packet at ${new Date(ms).toISOString()}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--origin-filter globs list and read only matching origins", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stitcher-sel-" });
  try {
    const source = new WatchedSource(await makeBucket(dir));
    const out = new Times();
    const report = await runStitch(config(source, out, { originGlobs: ["US-*"] }));
    assertEquals(report.flows.opened, 8);
    for (const k of source.opened) assert(k.startsWith("data/US-"), `read ${k}`);
    for (const p of source.listed) assert(!p.includes("EU-FRA1"), `listed ${p}`);
    const one = new WatchedSource(new FileSource(dir));
    const r2 = await runStitch(config(one, new Times(), { originGlobs: ["EU-FRA?", "nomatch"] }));
    assertEquals(r2.flows.opened, 4);
    assertEquals(new Set(one.opened.map((k) => k.split("/")[1])), new Set(["EU-FRA1"]));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a flow opened before the time window and still open in it is exported from the window on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stitcher-sel-" });
  try {
    const bucket = new FileSource(dir);
    const text = (n: number, c: string) => new TextEncoder().encode(c.repeat(n));
    const object = async (startMs: number, seq: number, fill: (e: CtapEncoder) => void) => {
      const e = new CtapEncoder({
        origin: "US-NYC1",
        writer: "w0",
        startSec: startMs / 1000,
        startNsec: 0,
        endSec: startMs / 1000 + 3600,
        endNsec: 0,
      });
      fill(e);
      await bucket.put(
        formatObjectKey({
          kind: "data",
          origin: "US-NYC1",
          startMs,
          endMs: startMs + HOUR,
          writer: "w0",
          seq,
        }),
        e.finish(),
      );
    };
    const s1 = (T0 + 50 * 60_000) / 1000; // 10:50
    const s2 = (T0 + HOUR + 10 * 60_000) / 1000; // 11:10
    await object(T0, 0, (e) => {
      e.flowOpen({
        flow: 9,
        sec: s1,
        nsec: 0,
        ipVersion: 4,
        ipProto: 6,
        clientPort: 41000,
        serverPort: 80,
        clientIp: new Uint8Array([10, 0, 0, 9]),
        serverIp: new Uint8Array([10, 9, 9, 9]),
        user: "",
        site: "",
        serverName: "",
      });
      e.data({ flow: 9, sec: s1, nsec: 5, dir: 0, offset: 0, payload: text(100, "a") });
    });
    await object(T0 + HOUR, 1, (e) => {
      e.data({ flow: 9, sec: s2, nsec: 0, dir: 0, offset: 100, payload: text(50, "b") });
      e.data({ flow: 9, sec: s2, nsec: 10, dir: 1, offset: 0, payload: text(70, "c") });
      e.flowClose({ flow: 9, sec: s2 + 1, nsec: 0, dir: 0, kind: 1, finalOffset: 150 });
      e.flowClose({ flow: 9, sec: s2 + 1, nsec: 0, dir: 1, kind: 1, finalOffset: 70 });
    });
    const out = new Times();
    const report = await runStitch(config(bucket, out, {
      startMs: T0 + HOUR + 5 * 60_000,
      endMs: T0 + HOUR + 30 * 60_000,
    }));
    assertEquals(report.flows.midstream, 1);
    assertEquals(report.flows.orphaned, 0);
    assertEquals(report.flows.closedFin, 1);
    assertEquals(report.bytes.payload, 120, "the window's bytes only: 50 + 70");
    assertEquals(report.gaps.count, 0);
    assert(out.ms.length >= 4, `${out.ms.length} packets`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
