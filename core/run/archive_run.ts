/**
 * A stitching run over plain capture archives (`--input-format pcap`,
 * shared/spec/ctap-v1.md §4): list → peek → merge packets by time across
 * files → one `CaptureToRecords` (TCP reassembly) → stitcher → exporters.
 *
 * - Every key under the prefix is listed, in any folder layout: `.pcap` and
 *   `.pcapng` (optionally `.gz`) are captures, key logs under `keys/` are
 *   keys; anything else is skipped and counted (`not_capture`).
 * - Key logs carry no time in their names here, so all of them are loaded
 *   before any packet (the key store is bounded). pcapng Decryption Secrets
 *   Blocks go into the store as they are read: a DSB comes before the packets
 *   it decrypts, and a file is read only when its packets are due.
 * - Each capture is first opened and read up to its first packet ("peek").
 *   Files are then merged in order of their first packet time: a file is
 *   opened once the merged stream reaches its first packet, and the packet
 *   released next is always the oldest head among the open files. Rotated
 *   files of one interface barely overlap, so about one file is open at a
 *   time; files of several capture points that overlap fully are open
 *   together. Memory is bounded by the open files' current chunks, not by
 *   the archive. A file whose packets are not in time order is still read
 *   in its own order (the reassembler absorbs small disorder).
 * - One reassembler sees the merged stream, so a connection split across
 *   rotated files is one flow (and a connection captured at two points is
 *   one flow, the second copy counted as retransmitted bytes). All flows
 *   belong to the origin `ARCHIVE_ORIGIN`.
 * - A file that is not a capture, is damaged or cut short is counted and
 *   reported with its key and reason; its good packets are used.
 */
import type { CapturedPacket, CaptureReader } from "../format/capture.ts";
import { createCaptureReader } from "../format/capture.ts";
import type { DecodeProblem } from "../format/ctap_record.ts";
import { maybeGunzip } from "../format/gzip.ts";
import { isCaptureArchiveKey, isKeylogKey } from "../format/object_key.ts";
import { SECRETS_TLS_KEYLOG } from "../format/pcapng.ts";
import type { ObjectInfo } from "../plugin.ts";
import { type CaptureRecord, CaptureToRecords } from "../stitch/capture_records.ts";
import { RunReport } from "./report.ts";
import { loadKeys, newStitcher, type StitchConfig, watchErrors } from "./stitch_run.ts";
import { msToSecNsec } from "../bytes/nanos.ts";

/** The origin of every flow read from capture archives. */
export const ARCHIVE_ORIGIN = "pcap";

interface Capture {
  info: ObjectInfo;
  sec: number;
  nsec: number;
}

export async function runArchive(cfg: StitchConfig, report = new RunReport()): Promise<RunReport> {
  cfg.onPhase?.("listing");
  const tls = cfg.tls ?? null;
  const captures: ObjectInfo[] = [];
  const keylogs: string[] = [];
  for await (const info of cfg.source.list(cfg.prefix, { signal: cfg.signal })) {
    report.objects.listed++;
    if (isKeylogKey(info.key, cfg.prefix)) {
      if (tls !== null && tls.keySource === cfg.source) keylogs.push(info.key);
      else report.skip("keylog_unused");
    } else if (isCaptureArchiveKey(info.key)) {
      captures.push(info);
    } else {
      report.skip("not_capture");
    }
  }
  if (tls !== null && tls.keySource !== null && tls.keySource !== cfg.source) {
    for await (const info of tls.keySource.list(cfg.prefix + "keys/", { signal: cfg.signal })) {
      if (isKeylogKey(info.key, cfg.prefix)) keylogs.push(info.key);
    }
  }
  if (tls !== null) {
    keylogs.sort();
    for (const key of keylogs) await loadKeys(cfg, tls, key, report);
  }
  cfg.log.info("listed capture archives", { captures: captures.length, keylogs: keylogs.length });
  cfg.onPhase?.("stitching");

  const files = await peekAll(cfg, captures, report);
  files.sort((a, b) => a.sec - b.sec || a.nsec - b.nsec || (a.info.key < b.info.key ? -1 : 1));

  const { output, stitcher } = newStitcher(cfg, report);
  const end = cfg.endMs === null ? null : msToSecNsec(cfg.endMs);
  const pending: CaptureRecord[] = [];
  const toRecords = new CaptureToRecords({
    onRecord: (r) => pending.push(r),
    onProblem: (where, p) => report.problem({ where, ...p }),
  });
  const decoder = new TextDecoder();
  const onSecrets = (type: number, data: Uint8Array) => {
    if (tls === null || type !== SECRETS_TLS_KEYLOG) return;
    tls.keyStore.addText(decoder.decode(data));
    report.keys.entries = tls.keyStore.stats.entries;
    report.keys.malformed = tls.keyStore.stats.malformed;
    report.keys.unknownLabels = tls.keyStore.stats.unknownLabels;
  };

  // Packets first, then the secrets queued after them (as in runStitch).
  const flush = async () => {
    await output.flush();
    if (stitcher.hasSecrets) await output.secrets(stitcher.takeSecrets());
  };

  const drain = async () => {
    for (let i = 0; i < pending.length; i++) {
      const r = pending[i];
      report.records.total++;
      if (end !== null && (r.sec > end.sec || (r.sec === end.sec && r.nsec >= end.nsec))) {
        report.records.outsideWindow++;
        continue;
      }
      stitcher.record(r, ARCHIVE_ORIGIN);
      if (output.batch.ripe || stitcher.hasSecrets) await flush();
    }
    pending.length = 0;
  };

  const open = new CursorHeap();
  let next = 0;
  let outOfOrder = 0;
  let lastSec = -1, lastNsec = 0;
  for (;;) {
    let top = open.peek();
    while (
      next < files.length &&
      (top === null || !isAfter(files[next].sec, files[next].nsec, top.head!))
    ) {
      const f = files[next++];
      if (end !== null && !isAfter(end.sec, end.nsec, f)) {
        report.skip("outside_window");
        continue;
      }
      const c = new CaptureCursor(cfg, f.info, report, onSecrets);
      await c.fill();
      if (c.head !== null) open.push(c);
      else c.close();
      top = open.peek();
    }
    if (top === null) break;
    const p = top.take();
    if (end !== null && !isAfter(end.sec, end.nsec, p)) {
      // every file is in time order from here on: nothing later is wanted
      for (const c of open.drainAll()) await c.cancel();
      for (; next < files.length; next++) report.skip("outside_window");
      break;
    }
    if (p.sec < lastSec || (p.sec === lastSec && p.nsec < lastNsec)) outOfOrder++;
    else {
      lastSec = p.sec;
      lastNsec = p.nsec;
    }
    toRecords.packet(p, top.key, top.index);
    if (top.head === null) await top.fill();
    if (top.head === null) {
      open.pop();
      top.close();
    } else {
      open.siftTop();
    }
    if (pending.length > 0) await drain();
  }
  toRecords.finish();
  await drain();
  stitcher.finish();
  await flush();
  await output.finish();
  if (outOfOrder > 0) {
    cfg.log.warn("packets older than packets already merged (reassembled as they came)", {
      packets: outOfOrder,
    });
  }
  cfg.log.info("read capture archives", {
    packets: toRecords.stats.packets,
    flows: toRecords.stats.flows,
    skippedPackets: toRecords.stats.skippedPackets,
  });
  report.finishedAt = new Date();
  return report;
}

/** Whether time (sec, nsec) is strictly after `t`. */
function isAfter(sec: number, nsec: number, t: { sec: number; nsec: number }): boolean {
  return sec > t.sec || (sec === t.sec && nsec > t.nsec);
}

/**
 * The first packet time of every capture, `concurrency` files at a time.
 * A file without a packet is read whole here (reported, counted) and left out.
 */
async function peekAll(
  cfg: StitchConfig,
  captures: ObjectInfo[],
  report: RunReport,
): Promise<Capture[]> {
  const out: Capture[] = [];
  let i = 0;
  const worker = async () => {
    while (i < captures.length) {
      const info = captures[i++];
      const c = new CaptureCursor(cfg, info, report, null, true);
      await c.fill();
      if (c.head !== null) {
        out.push({ info, sec: c.head.sec, nsec: c.head.nsec });
        await c.cancel();
      } else {
        c.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(cfg.concurrency, captures.length) }, worker));
  return out;
}

/**
 * One capture file read packet by packet: `fill()` pulls chunks until a
 * packet is decoded or the file ends. A peeking cursor keeps its problems
 * to itself unless the file turns out to hold no packet (the full read
 * reports them otherwise).
 */
class CaptureCursor {
  readonly key: string;
  /** Number of the packet last taken, from 1. */
  index = 0;
  private queue: CapturedPacket[] = [];
  private pos = 0;
  private reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  private readonly capture: CaptureReader;
  private readonly problems = new Set<string>();
  private readonly held: DecodeProblem[] = [];
  private ended = false;
  private bytes = 0;
  private storeFailed = false;

  constructor(
    private readonly cfg: StitchConfig,
    private readonly info: ObjectInfo,
    private readonly report: RunReport,
    onSecrets: ((type: number, data: Uint8Array) => void) | null,
    private readonly peeking = false,
  ) {
    this.key = info.key;
    this.capture = createCaptureReader(
      (p) => this.queue.push(p),
      (p) => this.problem(p),
      onSecrets ?? undefined,
    );
  }

  get head(): CapturedPacket | null {
    return this.pos < this.queue.length ? this.queue[this.pos] : null;
  }

  take(): CapturedPacket {
    const p = this.queue[this.pos++];
    this.index++;
    if (this.pos === this.queue.length) {
      this.queue = [];
      this.pos = 0;
    }
    return p;
  }

  async fill(): Promise<void> {
    while (this.head === null && !this.ended) {
      try {
        if (this.reader === null) {
          this.storeFailed = true;
          const raw = watchErrors(
            await this.cfg.source.open(this.key, { signal: this.cfg.signal }),
            () => this.storeFailed = true,
          );
          this.storeFailed = false;
          this.reader = maybeGunzip(raw, this.key.replace(/\.gz$/i, ".gz")).getReader();
        }
        const { done, value } = await this.reader.read();
        if (done) {
          this.ended = true;
          this.capture.finish();
        } else {
          this.bytes += value.length;
          this.capture.push(value);
        }
      } catch (e) {
        this.ended = true;
        const gz = /\.gz$/i.test(this.key);
        const kind = this.storeFailed || !gz ? "read_failed" : "bad_gzip";
        if (kind === "read_failed") this.report.objects.failed++;
        this.problem({ kind, offset: this.bytes, detail: (e as Error).message });
      }
    }
  }

  /** Stops reading early (after a peek, or past the time window). */
  async cancel(): Promise<void> {
    this.ended = true;
    await this.reader?.cancel().catch(() => {});
    if (!this.peeking) this.close();
  }

  /** Counts the file as read; its problems are reported. */
  close(): void {
    const r = this.report;
    if (this.peeking) {
      for (const p of this.held) r.problem({ where: this.key, ...p });
    }
    r.objects.read++;
    r.objects.bytesRead += this.bytes;
    if (this.problems.size > 0) {
      r.objects.damaged++;
      if (this.problems.has("truncated")) r.objects.truncated++;
      this.cfg.log.warn("damaged capture file: its good packets are used", {
        key: this.key,
        problems: [...this.problems].join(","),
        packets: this.index,
      });
    }
  }

  private problem(p: DecodeProblem): void {
    this.problems.add(p.kind);
    if (this.peeking) this.held.push(p);
    else this.report.problem({ where: this.key, ...p });
  }
}

/** Open cursors, ordered by their head packet's time (then by the order they were opened). */
class CursorHeap {
  private heap: { c: CaptureCursor; order: number }[] = [];
  private opened = 0;

  peek(): CaptureCursor | null {
    return this.heap.length > 0 ? this.heap[0].c : null;
  }

  push(c: CaptureCursor): void {
    const h = this.heap;
    h.push({ c, order: this.opened++ });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  pop(): void {
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftTop();
    }
  }

  /** Restores the order after the top cursor's head changed. */
  siftTop(): void {
    const h = this.heap;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < h.length && this.less(l, m)) m = l;
      if (r < h.length && this.less(r, m)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }

  drainAll(): CaptureCursor[] {
    const all = this.heap.map((e) => e.c);
    this.heap = [];
    return all;
  }

  private less(i: number, j: number): boolean {
    const a = this.heap[i], b = this.heap[j];
    const x = a.c.head!, y = b.c.head!;
    if (x.sec !== y.sec) return x.sec < y.sec;
    if (x.nsec !== y.nsec) return x.nsec < y.nsec;
    return a.order < b.order;
  }
}
