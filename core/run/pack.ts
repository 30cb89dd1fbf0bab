/**
 * `stitcher pack`: the other side of the TAP. A capture (pcap or pcapng) and
 * an optional NSS key log go in; CTAP data objects and keys objects come out,
 * laid out as ctap-v1 §1 says, through a `Sink` (any provider).
 *
 * TCP is reassembled into stream events (FLOW_OPEN, DATA, FLOW_CLOSE); every
 * other packet becomes a PACKET record. Flows are spread over `writers`; with
 * `splitDirections` a flow's server-to-client bytes go through the next
 * writer. Each writer keeps one open object per `windowSec` window, so
 * objects of different writers overlap in time as real TAP objects do. Each
 * key is stored `keyDelaySec` after the ClientHello it belongs to.
 */
import type { Sink } from "../plugin.ts";
import { createCaptureReader } from "../format/capture.ts";
import { CtapEncoder } from "../format/ctap.ts";
import type { DecodeProblem } from "../format/ctap_record.ts";
import { gzipBytes } from "../format/gzip.ts";
import { formatKeyLogLine, parseKeyLog } from "../format/keylog.ts";
import { formatObjectKey } from "../format/object_key.ts";
import { decodeLink, newParsedPacket } from "../net/link.ts";
import { type FlowEndpoints, TcpReassembler, type TcpSegment } from "../stitch/tcp_reassembly.ts";
import { MAX_CLIENT_HELLO, sniffClientHello } from "../tls/client_hello.ts";
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

  // ClientHello of each flow: the first client bytes, until the hello is read.
  const helloBytes = new Map<number, Uint8Array>();
  const helloTime = new Map<string, { sec: number; nsec: number }>();
  const serverNames = new Map<number, string>();
  const pendingOpens = new Map<number, { sec: number; nsec: number; c: FlowEndpoints }>();

  const writeOpen = (flow: number, serverName: string) => {
    const p = pendingOpens.get(flow);
    if (p === undefined) return;
    pendingOpens.delete(flow);
    const o = objectFor(writerOf(flow, 0), p.sec, p.nsec);
    stamp(o, p.sec, p.nsec);
    o.enc.flowOpen({
      flow,
      sec: o.lastSec,
      nsec: o.lastNsec,
      ipVersion: p.c.ipVersion,
      ipProto: 6,
      clientPort: p.c.clientPort,
      serverPort: p.c.serverPort,
      clientIp: p.c.clientIp.slice(),
      serverIp: p.c.serverIp.slice(),
      user: cfg.user,
      site: cfg.site,
      serverName,
    });
  };

  const reassembler = new TcpReassembler({
    open(flow, sec, nsec, c) {
      report.flows++;
      // FLOW_OPEN waits for the ClientHello (for its server name) until the
      // flow's first data, so it is written at its own time either way.
      pendingOpens.set(flow, {
        sec,
        nsec,
        c: { ...c, clientIp: c.clientIp.slice(), serverIp: c.serverIp.slice() },
      });
    },
    data(flow, dir, offset, payload, sec, nsec) {
      if (dir === 0 && offset === 0 || helloBytes.has(flow)) {
        sniff(flow, dir, offset, payload, sec, nsec);
      }
      writeOpen(flow, serverNames.get(flow) ?? "");
      const o = objectFor(writerOf(flow, dir), sec, nsec);
      stamp(o, sec, nsec);
      o.enc.data({ flow, sec: o.lastSec, nsec: o.lastNsec, dir, offset, payload });
      report.dataRecords++;
      report.payloadBytes += payload.length;
    },
    close(flow, dir, kind, finalOffset, sec, nsec) {
      writeOpen(flow, serverNames.get(flow) ?? "");
      helloBytes.delete(flow);
      serverNames.delete(flow);
      const o = objectFor(writerOf(flow, dir), sec, nsec);
      stamp(o, sec, nsec);
      o.enc.flowClose({ flow, sec: o.lastSec, nsec: o.lastNsec, dir, kind, finalOffset });
    },
  });

  const sniff = (
    flow: number,
    dir: 0 | 1,
    offset: number,
    payload: Uint8Array,
    sec: number,
    nsec: number,
  ) => {
    if (dir !== 0) return;
    const held = helloBytes.get(flow);
    let bytes = payload;
    if (held !== undefined) {
      if (offset !== held.length) { // a gap: the hello cannot be read
        helloBytes.delete(flow);
        return;
      }
      bytes = new Uint8Array(held.length + payload.length);
      bytes.set(held);
      bytes.set(payload, held.length);
    }
    const hello = sniffClientHello(bytes);
    if (hello === "more" && bytes.length < MAX_CLIENT_HELLO) {
      helloBytes.set(flow, bytes === payload ? payload.slice() : bytes);
      return;
    }
    helloBytes.delete(flow);
    if (hello !== null && hello !== "more") {
      serverNames.set(flow, hello.serverName);
      const id = toHex(hello.random);
      if (!helloTime.has(id)) helloTime.set(id, { sec, nsec });
    }
  };

  const pkt = newParsedPacket();
  const seg: TcpSegment = {
    sec: 0,
    nsec: 0,
    ipVersion: 4,
    src: new Uint8Array(4),
    dst: new Uint8Array(4),
    sport: 0,
    dport: 0,
    seq: 0,
    ack: 0,
    flags: 0,
    window: 0,
    payload: new Uint8Array(0),
  };
  let packetIndex = 0;
  const reader = createCaptureReader(
    (p) => {
      report.packets++;
      packetIndex++;
      if (firstSec < 0) {
        firstSec = p.sec;
        firstNsec = p.nsec;
      }
      let ok = false;
      try {
        ok = decodeLink(p.linkType, p.data, pkt);
      } catch (e) {
        problem(cfg.captureName)({
          kind: "malformed_packet",
          offset: packetIndex,
          detail: `packet ${packetIndex}: ${(e as Error).message}; kept as a PACKET record`,
        });
      }
      if (ok && pkt.ipProto === 6 && !pkt.isFragment) {
        seg.sec = p.sec;
        seg.nsec = p.nsec;
        seg.ipVersion = pkt.ipVersion as 4 | 6;
        seg.src = pkt.src;
        seg.dst = pkt.dst;
        seg.sport = pkt.sport;
        seg.dport = pkt.dport;
        seg.seq = pkt.seq;
        seg.ack = pkt.ack;
        seg.flags = pkt.tcpFlags;
        seg.window = pkt.window;
        seg.payload = pkt.payload;
        reassembler.segment(seg);
        report.tcpSegments++;
        return;
      }
      // Everything else travels whole: Ethernet and raw IP as they are, other
      // link types as raw IP when an IP packet was found in them.
      let linkType = p.linkType;
      let data = p.data;
      if (linkType !== 1 && linkType !== 101) {
        if (!ok) {
          report.skippedPackets++;
          return;
        }
        linkType = 101;
        data = p.data.subarray(pkt.l3Offset, pkt.l4End);
      }
      const w = packetIndex % cfg.writers;
      const o = objectFor(w, p.sec, p.nsec);
      stamp(o, p.sec, p.nsec);
      o.enc.packet({
        sec: o.lastSec,
        nsec: o.lastNsec,
        linkType,
        origLen: p.origLen - (p.data.length - data.length),
        data,
      });
      report.otherPackets++;
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
  const endSec = writers.size > 0 ? Math.max(...[...writers.values()].map((o) => o.lastSec)) : 0;
  reassembler.finish(endSec, 0);
  for (const flow of [...pendingOpens.keys()]) writeOpen(flow, serverNames.get(flow) ?? "");
  for (const [w, o] of writers) closeObject(w, o);
  writers.clear();
  await Promise.all(puts.splice(0));
  for (const k in reassembler.stats) {
    const v = (reassembler.stats as unknown as Record<string, unknown>)[k];
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
