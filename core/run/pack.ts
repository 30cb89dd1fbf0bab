/**
 * `stitcher pack`: the other side of the TAP. A capture (pcap or pcapng) and
 * an optional NSS key log go in; CTAP data objects and keys objects come out,
 * laid out as ctap-v1 §1 says, through a `Sink` (any provider).
 *
 * Packets become records through `CaptureToRecords` (TCP reassembled into
 * FLOW_OPEN, DATA, FLOW_CLOSE; every other packet a PACKET record). Flows
 * are spread over `writers`; with `splitDirections` a flow's
 * server-to-client bytes go through the next writer. Each writer keeps one
 * open object per `windowSec` window, so objects of different writers
 * overlap in time as real TAP objects do. Each key is stored `keyDelaySec`
 * after the ClientHello it belongs to.
 */
import type { Sink } from "../plugin.ts";
import { createCaptureReader } from "../format/capture.ts";
import { CtapEncoder } from "../format/ctap.ts";
import type { DecodeProblem } from "../format/ctap_record.ts";
import { gzipBytes } from "../format/gzip.ts";
import { formatKeyLogLine, parseKeyLog } from "../format/keylog.ts";
import { formatObjectKey } from "../format/object_key.ts";
import { REC_DATA, REC_FLOW_CLOSE, REC_FLOW_OPEN, REC_PACKET } from "../format/ctap_record.ts";
import { CaptureToRecords } from "../stitch/capture_records.ts";
import { toHex } from "../bytes/hex.ts";
import type { Logger } from "./log.ts";

export interface PackConfig {
  /** The capture's bytes (already gunzipped). */
  capture: ReadableStream<Uint8Array>;
  captureName: string;
  keylogText: string | null;
  origin: string;
  user: string;
  site: string;
  sink: Sink;
  prefix: string;
  windowSec: number;
  writers: number;
  splitDirections: boolean;
  keyDelaySec: number;
  gzip: boolean;
  log: Logger;
}

export interface PackReport {
  packets: number;
  tcpSegments: number;
  otherPackets: number;
  skippedPackets: number;
  flows: number;
  dataRecords: number;
  payloadBytes: number;
  dataObjects: number;
  keysObjects: number;
  keys: number;
  keysWithoutClientHello: number;
  clampedRecords: number;
  reassembly: Record<string, number>;
  problems: { where: string; kind: string; offset?: number; detail: string }[];
}

/** One writer's open object. */
interface OpenObject {
  enc: CtapEncoder;
  window: number;
  seq: number;
  lastSec: number;
  lastNsec: number;
}

export async function runPack(cfg: PackConfig): Promise<PackReport> {
  const report: PackReport = {
    packets: 0,
    tcpSegments: 0,
    otherPackets: 0,
    skippedPackets: 0,
    flows: 0,
    dataRecords: 0,
    payloadBytes: 0,
    dataObjects: 0,
    keysObjects: 0,
    keys: 0,
    keysWithoutClientHello: 0,
    clampedRecords: 0,
    reassembly: {},
    problems: [],
  };
  const problem = (where: string) => (p: DecodeProblem) => {
    if (report.problems.length < 1000) report.problems.push({ where, ...p });
  };
  const windowMs = Math.round(cfg.windowSec * 1000);
  const writers = new Map<number, OpenObject>();
  const writerSeq = new Array<number>(cfg.writers).fill(0);
  const puts: Promise<void>[] = [];
  let firstSec = -1;
  let firstNsec = 0;

  const put = async (key: string, body: Uint8Array) => {
    await cfg.sink.put(cfg.gzip ? key + ".gz" : key, cfg.gzip ? await gzipBytes(body) : body);
  };
  const writerName = (w: number) => `w${w}`;
  const closeObject = (w: number, o: OpenObject) => {
    const startMs = o.window * windowMs;
    const key = formatObjectKey({
      kind: "data",
      origin: cfg.origin,
      startMs,
      endMs: startMs + windowMs,
      writer: writerName(w),
      seq: o.seq,
    }, cfg.prefix);
    report.dataObjects++;
    puts.push(put(key, o.enc.finish()));
  };
  /** The writer's object for time (sec, nsec); the time is clamped into it when it runs backwards. */
  const objectFor = (w: number, sec: number, nsec: number): OpenObject => {
    const ms = sec * 1000 + Math.floor(nsec / 1e6);
    const window = Math.floor(ms / windowMs);
    let o = writers.get(w);
    if (o !== undefined && window > o.window) {
      closeObject(w, o);
      o = undefined;
    }
    if (o === undefined) {
      const startMs = window * windowMs;
      const endMs = startMs + windowMs;
      o = {
        enc: new CtapEncoder({
          origin: cfg.origin,
          writer: writerName(w),
          startSec: Math.floor(startMs / 1000),
          startNsec: (startMs % 1000) * 1e6,
          endSec: Math.floor(endMs / 1000),
          endNsec: (endMs % 1000) * 1e6,
        }),
        window,
        seq: writerSeq[w]++,
        lastSec: Math.floor(startMs / 1000),
        lastNsec: (startMs % 1000) * 1e6,
      };
      writers.set(w, o);
    }
    return o;
  };
  /** Record time: never before the object's last record (ctap-v1 §2 order). */
  const stamp = (o: OpenObject, sec: number, nsec: number): void => {
    if (sec > o.lastSec || (sec === o.lastSec && nsec > o.lastNsec)) {
      o.lastSec = sec;
      o.lastNsec = nsec;
    } else if (sec !== o.lastSec || nsec !== o.lastNsec) {
      report.clampedRecords++;
    }
  };
  const writerOf = (flow: number, dir: 0 | 1) =>
    (flow + (cfg.splitDirections && dir === 1 ? 1 : 0)) % cfg.writers;

  const helloTime = new Map<string, { sec: number; nsec: number }>();
  const toRecords = new CaptureToRecords({
    user: cfg.user,
    site: cfg.site,
    onProblem: (where, p) => problem(where)(p),
    onClientHello(random, sec, nsec) {
      const id = toHex(random);
      if (!helloTime.has(id)) helloTime.set(id, { sec, nsec });
    },
    onRecord(r) {
      switch (r.type) {
        case REC_FLOW_OPEN: {
          const o = objectFor(writerOf(r.flow as number, 0), r.sec, r.nsec);
          stamp(o, r.sec, r.nsec);
          o.enc.flowOpen({ ...r, sec: o.lastSec, nsec: o.lastNsec });
          return;
        }
        case REC_DATA: {
          const o = objectFor(writerOf(r.flow as number, r.dir), r.sec, r.nsec);
          stamp(o, r.sec, r.nsec);
          o.enc.data({ ...r, sec: o.lastSec, nsec: o.lastNsec });
          report.dataRecords++;
          report.payloadBytes += r.payload.length;
          return;
        }
        case REC_FLOW_CLOSE: {
          const o = objectFor(writerOf(r.flow as number, r.dir), r.sec, r.nsec);
          stamp(o, r.sec, r.nsec);
          o.enc.flowClose({ ...r, sec: o.lastSec, nsec: o.lastNsec });
          return;
        }
        case REC_PACKET: {
          const o = objectFor(toRecords.stats.packets % cfg.writers, r.sec, r.nsec);
          stamp(o, r.sec, r.nsec);
          o.enc.packet({ ...r, sec: o.lastSec, nsec: o.lastNsec });
          return;
        }
      }
    },
  });

  let packetIndex = 0;
  const reader = createCaptureReader(
    (p) => {
      packetIndex++;
      if (firstSec < 0) {
        firstSec = p.sec;
        firstNsec = p.nsec;
      }
      toRecords.packet(p, cfg.captureName, packetIndex);
    },
    problem(cfg.captureName),
  );

  const rd = cfg.capture.getReader();
  for (;;) {
    const { done, value } = await rd.read();
    if (done) break;
    reader.push(value);
    if (puts.length > 32) await Promise.all(puts.splice(0));
  }
  reader.finish();
  toRecords.finish();
  for (const [w, o] of writers) closeObject(w, o);
  writers.clear();
  await Promise.all(puts.splice(0));
  const st = toRecords.stats;
  report.packets = st.packets;
  report.tcpSegments = st.tcpSegments;
  report.otherPackets = st.otherPackets;
  report.skippedPackets = st.skippedPackets;
  report.flows = st.flows;
  for (const k in toRecords.reassembler.stats) {
    const v = (toRecords.reassembler.stats as unknown as Record<string, unknown>)[k];
    if (typeof v === "number") report.reassembly[k] = v;
  }

  if (cfg.keylogText !== null) await packKeys(cfg, report, helloTime, firstSec, firstNsec, put);
  return report;
}

/** Writes the key log as keys objects, each key `keyDelaySec` after its ClientHello. */
async function packKeys(
  cfg: PackConfig,
  report: PackReport,
  helloTime: Map<string, { sec: number; nsec: number }>,
  firstSec: number,
  firstNsec: number,
  put: (key: string, body: Uint8Array) => Promise<void>,
): Promise<void> {
  const lines: { ms: number; line: string }[] = [];
  const delayMs = Math.round(cfg.keyDelaySec * 1000);
  const fallbackMs = firstSec < 0 ? 0 : firstSec * 1000 + Math.floor(firstNsec / 1e6);
  parseKeyLog(
    cfg.keylogText!,
    (e) => {
      const t = helloTime.get(toHex(e.clientRandom));
      if (t === undefined) report.keysWithoutClientHello++;
      const ms = (t === undefined ? fallbackMs : t.sec * 1000 + Math.floor(t.nsec / 1e6)) + delayMs;
      lines.push({ ms, line: formatKeyLogLine(e) });
      report.keys++;
    },
    (p) => {
      if (report.problems.length < 1000) report.problems.push({ where: "key log", ...p });
    },
  );
  lines.sort((a, b) => a.ms - b.ms);
  const windowMs = Math.round(cfg.windowSec * 1000);
  const enc = new TextEncoder();
  let seq = 0;
  for (let i = 0; i < lines.length;) {
    const window = Math.floor(lines[i].ms / windowMs);
    let text = "";
    while (i < lines.length && Math.floor(lines[i].ms / windowMs) === window) {
      text += lines[i++].line + "\n";
    }
    const key = formatObjectKey({
      kind: "keys",
      origin: cfg.origin,
      startMs: window * windowMs,
      endMs: (window + 1) * windowMs,
      writer: "k0",
      seq: seq++,
    }, cfg.prefix);
    await put(key, enc.encode(text));
    report.keysObjects++;
  }
}
