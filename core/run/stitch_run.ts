/**
 * One stitching run: list → fetch and decode (concurrent) → merge by time →
 * stitch → exporters (DESIGN §1).
 *
 * Objects are processed in order of their start time. Up to `concurrency`
 * objects (and `maxInflightBytes`) are fetched and decoded ahead; when object
 * k is decoded, everything older than the start of object k+1 is final and
 * is released to the stitcher.
 */
import type { Exporter, ObjectInfo, Source } from "../plugin.ts";
import type { CtapRecord } from "../format/ctap_record.ts";
import { REC_END } from "../format/ctap_record.ts";
import { CtapDecoder } from "../format/ctap.ts";
import { maybeGunzip } from "../format/gzip.ts";
import {
  HOUR_MS,
  listingPrefixes,
  matchesAnyGlob,
  type ObjectKey,
  parseObjectKey,
} from "../format/object_key.ts";
import { WatermarkMerger } from "../stitch/merge.ts";
import { BatchOutput } from "./batch_output.ts";
import { Stitcher } from "../stitch/stitcher.ts";
import { TcpSynthesizer } from "../stitch/synth.ts";
import type { TlsOptions } from "../stitch/stitcher.ts";
import { KeyLogDecoder } from "../format/keylog.ts";
import { msToSecNsec } from "../bytes/nanos.ts";
import type { KeyStore } from "../tls/key_store.ts";
import type { Logger } from "./log.ts";
import { RunReport } from "./report.ts";

export interface StitchConfig {
  source: Source;
  /** Key prefix inside the bucket (`--prefix`), "" or ending in "/". */
  prefix: string;
  /** Selection window, Unix milliseconds, [start, end). */
  startMs: number | null;
  endMs: number | null;
  /** `--origin-filter` globs; empty means every origin. */
  originGlobs: string[];
  mtu: number;
  concurrency: number;
  maxInflightBytes: number;
  exporters: Exporter[];
  log: Logger;
  /** Which native kernels are in use (CRC-32C, copy and checksum), for the log. */
  kernels?: Record<string, string>;
  /** TLS decryption or transparent secrets; null for neither. */
  tls?: StitchTls | null;
  /** Called once per object listed, for tests that reorder or fail listings. */
  signal?: AbortSignal;
  /** Told when the run starts listing and when it starts stitching (metrics, /healthz). */
  onPhase?(phase: "listing" | "stitching"): void;
}

/** TLS settings of a run: the stitcher's options plus where keys come from. */
export interface StitchTls extends Omit<TlsOptions, "keys"> {
  keyStore: KeyStore;
  /** Where `keys/` objects are listed (the data bucket, or `-k`); null for none. */
  keySource: Source | null;
  /** How long (capture time) traffic waits for its keys (`--key-wait`). */
  keyWaitMs: number;
}

interface Listed {
  info: ObjectInfo;
  key: ObjectKey;
  originTag: number;
}

interface Decoded {
  records: CtapRecord[];
  bytes: number;
}

export async function runStitch(cfg: StitchConfig, report = new RunReport()): Promise<RunReport> {
  cfg.onPhase?.("listing");
  const objects = await listObjects(cfg, cfg.source, "data", report, 0);
  const tls = cfg.tls ?? null;
  const keyObjects = tls?.keySource
    ? await listObjects(cfg, tls.keySource, "keys", report, tls.keyWaitMs)
    : [];
  keyObjects.sort((a, b) => a.key.startMs - b.key.startMs || (a.info.key < b.info.key ? -1 : 1));
  let keysLoaded = 0;
  const origins: string[] = [];
  const originTags = new Map<string, number>();
  for (const o of objects) {
    let tag = originTags.get(o.key.origin);
    if (tag === undefined) {
      tag = origins.length;
      origins.push(o.key.origin);
      originTags.set(o.key.origin, tag);
    }
    o.originTag = tag;
  }
  objects.sort((a, b) => a.key.startMs - b.key.startMs || (a.info.key < b.info.key ? -1 : 1));
  cfg.log.info("listed data objects", {
    objects: objects.length,
    origins: origins.length,
    ...cfg.kernels,
    ...(tls === null ? {} : { tls: tls.mode, cipher: tls.backends.primary.name }),
  });
  cfg.onPhase?.("stitching");

  const { output, stitcher } = newStitcher(cfg, report);
  const merger = new WatermarkMerger<Exclude<CtapRecord, { type: typeof REC_END }>>();
  const { sec: endSec, nsec: endNsec } = cfg.endMs === null
    ? { sec: Infinity, nsec: 0 }
    : msToSecNsec(cfg.endMs);

  // Packets first, then the secrets queued after them: a secret reaches the
  // exporters after its ClientHello and before anything it decrypts.
  const flush = async () => {
    await output.flush();
    if (stitcher.hasSecrets) await output.secrets(stitcher.takeSecrets());
  };

  const emit = (r: CtapRecord, tag: number): boolean => {
    if (r.type !== REC_END && (r.sec > endSec || (r.sec === endSec && r.nsec >= endNsec))) {
      report.records.outsideWindow++;
      return false;
    }
    stitcher.record(r, origins[tag]);
    return output.batch.ripe || stitcher.hasSecrets;
  };

  const inflight: Promise<Decoded>[] = [];
  let started = 0;
  let inflightBytes = 0;
  const startMore = () => {
    while (
      started < objects.length && inflight.length < cfg.concurrency &&
      (inflight.length === 0 || inflightBytes + objects[started].info.size <= cfg.maxInflightBytes)
    ) {
      const o = objects[started++];
      inflightBytes += o.info.size;
      inflight.push(decodeObject(cfg, o, report));
    }
  };

  /**
   * Releases held traffic up to `limitMs` (null: all of it). Traffic at time t
   * may use keys stored up to t + key-wait, and a keys object holds keys
   * stored at or after its start: so keys object k is loaded just before the
   * first traffic at or after k.start - key-wait is released, and no earlier.
   */
  const releaseTo = async (limitMs: number | null) => {
    while (tls !== null && keysLoaded < keyObjects.length) {
      const gateMs = keyObjects[keysLoaded].key.startMs - tls.keyWaitMs;
      if (limitMs !== null && gateMs >= limitMs) break;
      const gate = msToSecNsec(Math.max(0, gateMs));
      while (merger.release(gate.sec, gate.nsec, emit)) await flush();
      await loadKeys(cfg, tls, keyObjects[keysLoaded++].info.key, report);
    }
    if (limitMs === null) {
      while (merger.releaseAll(emit)) await flush();
    } else {
      const w = msToSecNsec(limitMs);
      while (merger.release(w.sec, w.nsec, emit)) await flush();
    }
  };

  for (let i = 0; i < objects.length; i++) {
    startMore();
    const d = await inflight.shift()!;
    inflightBytes -= objects[i].info.size;
    startMore();
    merger.add(d.records as Exclude<CtapRecord, { type: typeof REC_END }>[], objects[i].originTag);
    await releaseTo(i + 1 < objects.length ? objects[i + 1].key.startMs : null);
    if (output.batch.ripe) await flush();
  }
  await releaseTo(null);
  stitcher.finish();
  if (tls !== null) {
    const st = tls.keyStore.stats;
    report.keys.entries = st.entries;
    report.keys.unknownLabels = st.unknownLabels;
    report.keys.malformed += st.malformed;
  }
  await flush();
  await output.finish();
  report.finishedAt = new Date();
  return report;
}

/**
 * The stitcher and its batched output for a run: synthesis sized to the
 * exporters' overhead, the time window, TLS as configured.
 */
export function newStitcher(
  cfg: StitchConfig,
  report: RunReport,
): { output: BatchOutput; stitcher: Stitcher } {
  const tls = cfg.tls ?? null;
  const overhead = Math.max(0, ...cfg.exporters.map((e) => e.overhead ?? 0));
  const synth = new TcpSynthesizer({ mtu: cfg.mtu, overhead });
  const output = new BatchOutput(cfg.exporters, report);
  const stitcher = new Stitcher(synth, output, report, {
    windowStart: cfg.startMs === null ? null : msToSecNsec(cfg.startMs),
    tls: tls === null ? null : { ...tls, keys: tls.keyStore },
  });
  return { output, stitcher };
}

/**
 * Lists the `kind` objects to read: pruned by origin and by the time window
 * (its end moved `lateMs` later, for keys stored after their traffic).
 */
async function listObjects(
  cfg: StitchConfig,
  source: Source,
  kind: "data" | "keys",
  report: RunReport,
  lateMs: number,
): Promise<Listed[]> {
  const base = cfg.prefix + kind + "/";
  const endMs = cfg.endMs === null ? null : cfg.endMs + lateMs;
  const out: Listed[] = [];
  const prefixes: string[] = [];
  const windowed = cfg.startMs !== null || cfg.endMs !== null;
  const needOrigins = windowed || cfg.originGlobs.length > 0;
  if (needOrigins && source.listFolders !== undefined) {
    for await (const folder of source.listFolders(base, { signal: cfg.signal })) {
      const origin = folder.slice(base.length).replace(/\/$/, "");
      if (cfg.originGlobs.length > 0 && !matchesAnyGlob(origin, cfg.originGlobs)) continue;
      if (windowed) {
        prefixes.push(...listingPrefixes(kind, [origin], cfg.startMs, endMs, cfg.prefix));
      } else {
        prefixes.push(folder);
      }
    }
  } else {
    prefixes.push(base);
  }
  for (const prefix of prefixes) {
    for await (const info of source.list(prefix, { signal: cfg.signal })) {
      report.objects.listed++;
      const key = parseObjectKey(info.key, cfg.prefix);
      if (key === null || key.kind !== kind) {
        report.skip("bad_name");
        report.problem({
          where: info.key,
          kind: "bad_name",
          detail: "object key does not match the CTAP layout (ctap-v1 §1); skipped",
        });
        cfg.log.warn("skipping object with a key outside the layout", { key: info.key });
        continue;
      }
      if (cfg.originGlobs.length > 0 && !matchesAnyGlob(key.origin, cfg.originGlobs)) {
        report.skip("origin_filter");
        continue;
      }
      // Data objects of the hour before the window are read too: their
      // FLOW_OPENs set up the flows still open in the window (their other
      // records before the window are not exported).
      const from = cfg.startMs === null
        ? null
        : kind === "data"
        ? cfg.startMs - HOUR_MS
        : cfg.startMs;
      if ((from !== null && key.endMs <= from) || (endMs !== null && key.startMs >= endMs)) {
        report.skip("outside_window");
        continue;
      }
      out.push({ info, key, originTag: 0 });
    }
  }
  return out;
}

async function decodeObject(cfg: StitchConfig, o: Listed, report: RunReport): Promise<Decoded> {
  const records: CtapRecord[] = [];
  const where = o.info.key;
  const kinds = new Set<string>();
  // ctap-v1 §1: every record's time t satisfies start <= t < end. A record
  // outside is still used (its time is what it is), but reported once.
  const { sec: startSec, nsec: startNsec } = msToSecNsec(o.key.startMs);
  const { sec: endSec, nsec: endNsec } = msToSecNsec(o.key.endMs);
  let badTimes = 0;
  const dec = new CtapDecoder(
    (r) => {
      if (r.type === REC_END) return;
      if (
        r.sec < startSec || (r.sec === startSec && r.nsec < startNsec) ||
        r.sec > endSec || (r.sec === endSec && r.nsec >= endNsec)
      ) {
        if (badTimes++ === 0) {
          kinds.add("bad_time");
          report.problem({
            where,
            kind: "bad_time",
            detail:
              `record ${records.length} at ${r.sec}.${
                String(r.nsec).padStart(9, "0")
              } s lies outside ` +
              `the object's [${o.key.startMs}, ${o.key.endMs}) ms named in its key`,
          });
        }
      }
      records.push(r);
    },
    (p) => {
      kinds.add(p.kind);
      report.problem({ where, kind: p.kind, offset: p.offset, detail: p.detail });
    },
  );
  let bytes = 0;
  // Whether the store failed (the object is lost: `read_failed`, and the run
  // fails) or the bytes it gave do not inflate (`bad_gzip`: damaged input).
  let storeFailed = true;
  try {
    const raw = watchErrors(
      await cfg.source.open(o.info.key, { signal: cfg.signal }),
      () => storeFailed = true,
    );
    storeFailed = false;
    const reader = maybeGunzip(raw, o.info.key).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.length;
      dec.push(value);
    }
    dec.finish();
  } catch (e) {
    const kind = storeFailed || !o.key.gz ? "read_failed" : "bad_gzip";
    if (kind === "read_failed") report.objects.failed++;
    kinds.add(kind);
    report.problem({ where, kind, detail: (e as Error).message });
  }
  report.objects.read++;
  report.objects.bytesRead += bytes;
  if (kinds.size > 0) {
    report.objects.damaged++;
    cfg.log.warn("damaged object: its good records are used", {
      key: where,
      problems: [...kinds].join(","),
      records: records.length,
    });
  }
  if (dec.stats.truncated) report.objects.truncated++;
  report.records.total += dec.stats.records;
  report.records.badCrc += dec.stats.badCrc;
  report.records.malformed += dec.stats.malformed;
  report.records.unknownType += dec.stats.unknownType;
  return { records, bytes };
}

/** Reads one keys object into the key store; bad lines are counted, never fatal. */
export async function loadKeys(
  cfg: StitchConfig,
  tls: StitchTls,
  key: string,
  report: RunReport,
): Promise<void> {
  const store = tls.keyStore;
  const dec = new KeyLogDecoder(
    (e) => store.add(e.label, e.clientRandom, e.secret),
    (p) =>
      report.problem({
        where: key,
        kind: `key_${p.kind}`,
        offset: p.line,
        detail: p.detail,
      }),
  );
  try {
    const raw = await tls.keySource!.open(key, { signal: cfg.signal });
    const reader = maybeGunzip(raw, key).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      dec.push(value);
    }
    dec.finish();
  } catch (e) {
    report.objects.failed++;
    report.problem({ where: key, kind: "read_failed", detail: (e as Error).message });
  }
  report.keys.objects++;
  report.keys.malformed += dec.stats.malformed;
}

/** Passes a stream through, calling `onError` if the stream itself fails. */
export function watchErrors(
  s: ReadableStream<Uint8Array>,
  onError: () => void,
): ReadableStream<Uint8Array> {
  const reader = s.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        const { done, value } = await reader.read();
        if (done) ctrl.close();
        else ctrl.enqueue(value);
      } catch (e) {
        onError();
        throw e;
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
