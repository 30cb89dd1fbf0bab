/**
 * The command line entry: flags → config → run; nothing else.
 *
 *   stitcher --provider file -b BUCKET -e out.pcap [flags]
 *   stitcher pack --pcap FILE --origin NAME --provider file -b BUCKET [flags]
 *
 * Exit codes: 0 done; 1 the run failed (or, with --strict, found problems in
 * its input); 2 wrong flags.
 */
import process from "node:process";
import { readFile, writeFile } from "node:fs/promises";
import { writeSync } from "node:fs";
import type { Exporter, ExporterPlugin, PluginContext, Source } from "./core/plugin.ts";
import {
  type FlagDef,
  type FlagValues,
  helpText,
  hostPortFlag,
  numberFlag,
  PACK_FLAGS,
  parseFlags,
  portMapFlag,
  STITCH_FLAGS,
  stringFlag,
  UsageError,
} from "./core/run/cli.ts";
import { createLogger, type Logger } from "./core/run/log.ts";
import { MetricsRegistry, registerRunMetrics, type RunPhase } from "./core/run/metrics.ts";
import { RunReport } from "./core/run/report.ts";
import { runStitch, type StitchTls } from "./core/run/stitch_run.ts";
import { runArchive } from "./core/run/archive_run.ts";
import type { CipherBackend } from "./core/tls/crypto.ts";
import { KeyStore } from "./core/tls/key_store.ts";
import { nobleBackend } from "./core/tls/noble_backend.ts";
import { nativeBackend } from "./plugins/crypto/native.ts";
import { opensslBackend } from "./plugins/crypto/openssl.ts";
import { runPack } from "./core/run/pack.ts";
import { maybeGunzip } from "./core/format/gzip.ts";
import { openFileStream } from "./plugins/sources/file/mod.ts";
import { openStorage, storageConfig } from "./plugins/sources/mod.ts";
import { openOutput } from "./plugins/exporters/output.ts";
import { hardwareCrc32c } from "./plugins/hw/crc32c.ts";
import { hardwareCopySum } from "./plugins/hw/copy_sum.ts";
import { useFastCrc32c } from "./core/bytes/crc32c.ts";
import { useFastCopySum } from "./core/net/checksum.ts";
import type { MetricsServer } from "./plugins/http/mod.ts";

export const VERSION = "0.1.0";

/** Built-in exporters: string-literal dynamic imports, so the compiler bundles them. */
const BUILTIN_EXPORTERS: (() => Promise<{ plugin: ExporterPlugin }>)[] = [
  () => import("./plugins/exporters/pcap/mod.ts"),
];

function stderrLine(line: string): void {
  writeSync(2, line + "\n");
}

/**
 * `--metrics-listen`: the run's metrics and health on HOST:PORT. The HTTP
 * plugin is loaded only then (a string-literal import, so it is bundled).
 */
async function serveRunMetrics(
  listen: string,
  report: RunReport,
  phase: () => RunPhase,
): Promise<MetricsServer> {
  const http = await import("./plugins/http/mod.ts");
  const registry = http.addProcessMetrics(
    registerRunMetrics(new MetricsRegistry(), report, phase),
  );
  return http.serveMetrics(listen, http.metricsApp(registry, phase));
}

/**
 * The CPU's own instructions where they can be had (plugins/hw): CRC-32C
 * (else the table) and the payload copy with its TCP checksum (else
 * JavaScript).
 */
async function useHardwareKernels(): Promise<Record<string, string>> {
  const [crc, copySum] = await Promise.all([hardwareCrc32c(), hardwareCopySum()]);
  useFastCrc32c(crc);
  useFastCopySum(copySum);
  return {
    crc32c: crc === null ? "table" : "sse4.2",
    copy_sum: copySum === null ? "javascript" : "x86-64",
  };
}

async function loadExporters(): Promise<ExporterPlugin[]> {
  return (await Promise.all(BUILTIN_EXPORTERS.map((load) => load()))).map((m) => m.plugin);
}

function pluginFlags(plugins: ExporterPlugin[]): FlagDef[] {
  return plugins.flatMap((p) =>
    p.flags.map((f) => ({ ...f, group: `Exporter '${p.name}' (${p.description})` }))
  );
}

function makeLogger(values: FlagValues): Logger {
  const format = stringFlag(values, "log-format") ?? "text";
  if (format !== "text" && format !== "json") {
    throw new UsageError(`flag --log-format: '${format}' is not text or json`);
  }
  return createLogger(stderrLine, { format, level: values["quiet"] ? "warn" : "info" });
}

function prefixFlag(values: FlagValues): string {
  const p = stringFlag(values, "prefix") ?? "";
  return p === "" || p.endsWith("/") ? p : p + "/";
}

/** TLS settings from the flags; null when neither decryption nor transparent mode is asked. */
async function tlsConfig(
  values: FlagValues,
  source: Source,
  log: Logger,
): Promise<StitchTls | null> {
  const decrypt = values["with-decrypted"] === true;
  const transparent = values["transparent"] === true;
  if (decrypt && transparent) {
    throw new UsageError("flags --with-decrypted and --transparent exclude each other");
  }
  const undecryptable = stringFlag(values, "undecryptable") ?? "pass";
  if (undecryptable !== "pass" && undecryptable !== "drop") {
    throw new UsageError(`flag --undecryptable: '${undecryptable}' is not pass or drop`);
  }
  if (values["undecryptable"] !== undefined && !decrypt) {
    throw new UsageError("flag --undecryptable needs --with-decrypted");
  }
  const portMap = portMapFlag(values);
  if (portMap.size > 0 && !decrypt) {
    throw new UsageError("flag --decrypted-port-map needs --with-decrypted");
  }
  const keyWait = numberFlag(values, "key-wait", 30, { min: 0, max: 86400 });
  const maxPending = numberFlag(values, "max-pending-bytes", 256 << 20, {
    min: 65536,
    integer: true,
  });
  const crypto = stringFlag(values, "crypto") ?? "native";
  if (crypto !== "native" && crypto !== "node" && crypto !== "noble") {
    throw new UsageError(`flag --crypto: '${crypto}' is not native, node or noble`);
  }
  if (!decrypt && !transparent) {
    for (const f of ["keylog", "keylog-bucket", "key-wait", "max-pending-bytes", "crypto"]) {
      if (values[f] !== undefined) {
        throw new UsageError(`flag --${f} needs --with-decrypted or --transparent`);
      }
    }
    return null;
  }
  const keyStore = new KeyStore();
  const keylog = stringFlag(values, "keylog");
  if (keylog !== undefined) {
    const text = await readFile(keylog, "utf8").catch((e) => {
      throw new UsageError(`flag --keylog: cannot read ${keylog}: ${(e as Error).message}`);
    });
    keyStore.addText(text);
    log.info("key log read", {
      file: keylog,
      entries: keyStore.stats.entries,
      malformed: keyStore.stats.malformed,
    });
  }
  let keySource: Source = source;
  if (stringFlag(values, "keylog-bucket") !== undefined) {
    keySource = await openStorage(await storageConfig(values, "keys"), { mustExist: true });
  }
  let primary: CipherBackend = nobleBackend;
  if (crypto !== "noble") {
    const node = nativeBackend();
    primary = crypto === "native" ? (await opensslBackend(node)) ?? node : node;
  }
  return {
    mode: decrypt ? "decrypt" : "transparent",
    keyStore,
    keySource,
    keyWaitMs: Math.round(keyWait * 1000),
    backends: { primary, fallback: nobleBackend },
    undecryptable,
    portMap,
    maxPendingBytes: maxPending,
  };
}

async function stitch(argv: string[]): Promise<number> {
  const plugins = await loadExporters();
  const flags = [...STITCH_FLAGS, ...pluginFlags(plugins)];
  const values = parseFlags(argv, flags);
  if (values["help"]) {
    console.log(helpText(
      "Usage: stitcher --provider file -b BUCKET -e out.pcap [flags]\n" +
        "       stitcher pack --help\n\n" +
        "Stitches captured connections from a bucket of CTAP objects and exports them.",
      flags,
    ));
    return 0;
  }
  if (values["version"]) {
    console.log(`stitcher ${VERSION}`);
    return 0;
  }
  const log = makeLogger(values);
  const kernels = await useHardwareKernels();
  hostPortFlag(values, "metrics-listen");
  const metricsListen = stringFlag(values, "metrics-listen");
  const inputFormat = stringFlag(values, "input-format") ?? "ctap";
  if (inputFormat !== "ctap" && inputFormat !== "pcap") {
    throw new UsageError(`flag --input-format: '${inputFormat}' is not ctap or pcap`);
  }
  const dataCfg = await storageConfig(values, "data");
  const retry = {
    onRetry: (e: { op: string; key: string; attempt: number; error: string }) =>
      log.warn("retrying", { op: e.op, key: e.key, attempt: e.attempt, error: e.error }),
  };
  const source: Source = await openStorage(dataCfg, { mustExist: true, retry });
  const startTs = numberFlag(values, "start-ts", NaN, { min: 0 });
  const endTs = numberFlag(values, "end-ts", NaN, { min: 0 });
  if (!Number.isNaN(startTs) && !Number.isNaN(endTs) && endTs <= startTs) {
    throw new UsageError(`flag --end-ts: ${endTs} is not after --start-ts ${startTs}`);
  }
  const mtu = numberFlag(values, "mtu", 1500, { min: 576, max: 65535, integer: true });
  const concurrency = numberFlag(values, "fetch-concurrency", 8, {
    min: 1,
    max: 256,
    integer: true,
  });
  const origins = (values["origin-filter"] as string[] | undefined) ?? [];
  for (const g of origins) {
    if (!/^[A-Za-z0-9._\-*?\[\]!]{1,64}$/.test(g)) {
      throw new UsageError(
        `flag --origin-filter: '${g}' is not an origin glob ([A-Za-z0-9._-] with * ? [])`,
      );
    }
  }

  if (inputFormat === "pcap" && origins.length > 0) {
    throw new UsageError("flag --origin-filter does not apply to --input-format pcap");
  }

  const tls = await tlsConfig(values, source, log);

  const ctx: PluginContext = {
    log: (level, msg, fields) => log[level](msg, fields),
    openOutput,
  };
  const exporters: Exporter[] = [];
  for (const p of plugins) {
    const e = await p.create(values, ctx);
    if (e !== null) exporters.push(e);
  }
  if (exporters.length === 0) {
    throw new UsageError("no exporter chosen: give -e FILE (or - for stdout)");
  }

  const report = new RunReport();
  let phase: RunPhase = "starting";
  let metrics: MetricsServer | null = null;
  const closeOutputs = async (e: unknown): Promise<never> => {
    // A run that fails still closes its outputs (what was written stays valid).
    for (const x of exporters) await x.close().catch(() => {});
    throw e;
  };
  const t0 = performance.now();
  const run = inputFormat === "pcap" ? runArchive : runStitch;
  try {
    // Served before listing starts, so that a scraper sees the whole run.
    if (metricsListen !== undefined) {
      metrics = await serveRunMetrics(metricsListen, report, () => phase).catch(closeOutputs);
      log.info("metrics listening", { url: metrics.url });
    }
    await run({
      source,
      prefix: prefixFlag(values),
      startMs: Number.isNaN(startTs) ? null : Math.round(startTs * 1000),
      endMs: Number.isNaN(endTs) ? null : Math.round(endTs * 1000),
      originGlobs: origins,
      mtu,
      concurrency,
      maxInflightBytes: 256 << 20,
      exporters,
      log,
      kernels,
      tls,
      onPhase: (p) => phase = p,
    }, report).catch(closeOutputs);
    // The counts are final from here on; what follows closes and writes them.
    phase = report.objects.failed > 0 ? "failed" : "done";
    for (const e of exporters) await e.close();
    const reportPath = stringFlag(values, "report");
    if (reportPath !== undefined) {
      await writeFile(reportPath, JSON.stringify(report, null, 2) + "\n");
    }
    stderrLine(report.summaryLine((performance.now() - t0) / 1000));
    if (report.objects.failed > 0) {
      log.error("objects could not be fetched; see the report's problems", {
        failed: report.objects.failed,
      });
      return 1;
    }
    if (values["strict"] && report.problemCount > 0) {
      log.error("input problems found and --strict is set", { problems: report.problemCount });
      return 1;
    }
    return 0;
  } catch (e) {
    phase = "failed";
    throw e;
  } finally {
    await metrics?.close();
  }
}

async function pack(argv: string[]): Promise<number> {
  const values = parseFlags(argv, PACK_FLAGS);
  if (values["help"]) {
    console.log(helpText(
      "Usage: stitcher pack --pcap FILE [--keylog FILE] --origin NAME --provider file -b BUCKET [flags]\n\n" +
        "Writes CTAP objects (and keys objects) from a capture, so any pcap can be replayed.",
      PACK_FLAGS,
    ));
    return 0;
  }
  const log = makeLogger(values);
  await useHardwareKernels();
  const sink = await openStorage(await storageConfig(values, "data"), { mustExist: false });
  const pcap = stringFlag(values, "pcap");
  if (pcap === undefined) throw new UsageError("flag --pcap is required");
  const origin = stringFlag(values, "origin");
  if (origin === undefined) throw new UsageError("flag --origin is required");
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(origin)) {
    throw new UsageError(`flag --origin: '${origin}' is not [A-Za-z0-9._-]{1,64} (ctap-v1 §1)`);
  }
  const windowSec = numberFlag(values, "window", 60, { min: 0.001, max: 3600 });
  const writers = numberFlag(values, "writers", 1, { min: 1, max: 1000, integer: true });
  const keyDelaySec = numberFlag(values, "key-delay", 0, { min: 0, max: 86400 });
  if (values["split-directions"] && writers < 2) {
    throw new UsageError("flag --split-directions needs --writers 2 or more");
  }
  const keylogPath = stringFlag(values, "keylog");
  const keylogText = keylogPath === undefined
    ? null
    : await readFile(keylogPath, "utf8").catch((e) => {
      throw new UsageError(`flag --keylog: cannot read ${keylogPath}: ${(e as Error).message}`);
    });
  const input = await openFileStream(pcap).catch((e) => {
    throw new UsageError(`flag --pcap: ${(e as Error).message}`);
  });
  const t0 = performance.now();
  const report = await runPack({
    capture: maybeGunzip(input, pcap),
    captureName: pcap,
    keylogText,
    origin,
    user: stringFlag(values, "user") ?? "",
    site: stringFlag(values, "site") ?? "",
    sink,
    prefix: prefixFlag(values),
    windowSec,
    writers,
    splitDirections: values["split-directions"] === true,
    keyDelaySec,
    gzip: values["gzip"] === true,
    log,
  });
  const reportPath = stringFlag(values, "report");
  if (reportPath !== undefined) await writeFile(reportPath, JSON.stringify(report, null, 2) + "\n");
  stderrLine(
    `packed ${report.packets} packets, ${report.flows} flows, ${
      (report.payloadBytes / 1e6).toFixed(1)
    } MB payload ` +
      `into ${report.dataObjects} data objects and ${report.keysObjects} keys objects (${report.keys} keys), ` +
      `${report.problems.length} problems in ${((performance.now() - t0) / 1000).toFixed(2)} s`,
  );
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  try {
    if (argv[0] === "pack") return await pack(argv.slice(1));
    return await stitch(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      stderrLine(`stitcher: ${e.message}`);
      return 2;
    }
    stderrLine(`stitcher: ${(e as Error).message}`);
    return 1;
  }
}

/**
 * Bun's allocator (mimalloc) gives freed memory back to the kernel 10 ms
 * after it is freed, and the stitcher frees an object's buffer (a few MB)
 * every few milliseconds: the kernel then zeroes and maps a fresh page for
 * nearly every byte read (`perf`: page faults and `madvise`, ~0.8 s of system
 * time in the bench's ~5 s pass-through). With `MIMALLOC_PURGE_DELAY=-1` freed
 * memory is kept for reuse instead; peak RSS stays what it was, and the
 * memory is no longer handed back between bursts. mimalloc reads the setting
 * when the process starts, so the compiled binary re-executes itself once
 * with it (`process.execve`: the same process id, descriptors and
 * arguments). A value the user set is kept; under `bun main.ts` and Deno
 * nothing happens.
 */
function tuneAllocator(): void {
  const bun = (globalThis as { Bun?: { main?: string } }).Bun;
  const proc = process as { execve?: (file: string, args: string[], env: object) => never };
  if (bun?.main?.startsWith("/$bunfs/") !== true || typeof proc.execve !== "function") return;
  if (process.env.MIMALLOC_PURGE_DELAY !== undefined) return;
  try {
    proc.execve(process.execPath, [process.argv0, ...process.argv.slice(2)], {
      ...process.env,
      MIMALLOC_PURGE_DELAY: "-1",
    });
  } catch {
    // Not re-executed: the run goes on with the default setting.
  }
}

if (import.meta.main) {
  tuneAllocator();
  process.exitCode = await main(process.argv.slice(2));
}
