/**
 * `deno task bench`: the compiled binary on a >= 1 GB CTAP bucket, in one run,
 * every command pinned to one core (`--cpu all`: not pinned) after a `sync`,
 * best of `--runs`:
 *
 * - pass-through: `dist/stitcher --provider file -b B -e out.pcap`;
 * - decryption:   the same with `--with-decrypted -e outd.pcap` (the bucket
 *   carries the fixtures' key logs as keys objects);
 * - `tcpdump -r out.pcap -w copy.pcap` (a plain pcap copy);
 * - `tshark -n -r out.pcap -o tls.keylog_file:K -q -z follow,tls,raw,0`
 *   (tshark decrypting the equivalent capture: out.pcap is the bucket as a
 *   pcap; tshark decrypts every TLS record it dissects, not only stream 0's).
 *
 * Goals: decryption time <= 1.30 x pass-through; stitcher decrypting >= 20 x
 * tshark (MB/s of the equivalent capture); pass-through >= 0.5 x tcpdump
 * (output MB/s). See tests/bench/README.md.
 *
 *   deno task bench [--no-build] [--runs 2] [--keep] [--cpu 0|all] [--tshark-packets 500000|0]
 *     [--no-tshark] [--no-tshark-check] [make_bucket flags: --size-mb N ...]
 */
import { DEFAULT_OUT, freeBytes, makeBucket, parseBucketArgs } from "./make_bucket.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const WORK = ROOT + "tests/.work/bench";
const BIN = ROOT + "dist/stitcher";
/** Pass-through output MB/s / tcpdump's: at least this. */
const GOAL_TCPDUMP = 0.5;
/** Decryption wall time / pass-through's: at most this. */
const GOAL_DECRYPT_COST = 1.3;
/** Decrypting stitcher / tshark, MB/s of the equivalent capture: at least this. */
const GOAL_TSHARK = 20;
/**
 * Packets of out.pcap that tshark times (`--tshark-packets`, 0 for all): about
 * 330 MB of the default bucket's 1.19 GB pcap; tshark on all of it takes
 * 50-100 s a run and 3.3 GB of RSS. Its MB/s on this prefix is a little
 * higher than on the whole file (see README), so the ratio is conservative.
 */
const DEFAULT_TSHARK_PACKETS = 500_000;
/** Packets of out.pcap that the tshark decryption check reads (`--no-tshark-check` skips it). */
const CHECK_PACKETS = 20000;

interface Run {
  seconds: number;
  userSeconds: number | null;
  sysSeconds: number | null;
  peakRssMb: number | null;
  stderr: string;
}

interface Measured {
  tool: string;
  command: string;
  inputBytes: number;
  outputBytes: number;
  /** Bytes of the equivalent pcap this run covers (the pass-through pcap, or tshark's slice of it). */
  captureBytes: number;
  packets: number;
  runs: Run[];
  best: Run;
  outputMBps: number;
  inputMBps: number;
  /** captureBytes / best seconds: the like-for-like speed of the stitcher and tshark. */
  captureMBps: number;
  packetsPerSec: number;
}

const log = (s: string) => console.error(s);

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

async function which(cmd: string): Promise<string | null> {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    const p = `${dir}/${cmd}`;
    if (await exists(p)) return p;
  }
  return null;
}

function parseArgs(args: string[]) {
  let build = true, runs = 2, keep = false, cpu = "0";
  let tshark = true, tsharkCheck = true, tsharkPackets = DEFAULT_TSHARK_PACKETS;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--no-build") build = false;
    else if (a === "--keep") keep = true;
    else if (a === "--runs") runs = Math.max(1, Math.round(Number(args[++i])));
    else if (a === "--cpu") cpu = args[++i];
    else if (a === "--no-tshark") tshark = false;
    else if (a === "--no-tshark-check") tsharkCheck = false;
    else if (a === "--tshark-packets") {
      tsharkPackets = Math.max(0, Math.round(Number(args[++i])));
      if (!Number.isFinite(tsharkPackets)) throw new Error("--tshark-packets: not a number");
    } else rest.push(a);
  }
  return { build, runs, keep, cpu, tshark, tsharkCheck, tsharkPackets, ...parseBucketArgs(rest) };
}

/** Peak RSS of a running process by polling VmHWM (fallback when /usr/bin/time is missing). */
async function pollHwm(pid: number, done: { v: boolean }): Promise<number | null> {
  let peak: number | null = null;
  while (!done.v) {
    try {
      const s = await Deno.readTextFile(`/proc/${pid}/status`);
      const m = /VmHWM:\s+(\d+) kB/.exec(s);
      if (m) peak = Math.max(peak ?? 0, Number(m[1]) / 1024);
    } catch { /* gone */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  return peak;
}

/** Runs `argv` (pinned with taskset when there is one), timing it and measuring its peak RSS. */
async function measure(argv: string[], pin: string[], timeBin: string | null): Promise<Run> {
  const timeFile = `${WORK}/time.txt`;
  const full = [
    ...pin,
    ...(timeBin ? [timeBin, "-f", "%e %U %S %M", "-o", timeFile] : []),
    ...argv,
  ];
  const t0 = performance.now();
  const child = new Deno.Command(full[0], {
    args: full.slice(1),
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const done = { v: false };
  const hwm = timeBin ? Promise.resolve(null) : pollHwm(child.pid, done);
  const out = await child.output();
  const seconds = (performance.now() - t0) / 1000;
  done.v = true;
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new Error(`${argv.join(" ")} failed (exit ${out.code}):\n${stderr}`);
  }
  let userSeconds: number | null = null, sysSeconds: number | null = null;
  let peakRssMb = await hwm;
  if (timeBin) {
    const f = (await Deno.readTextFile(timeFile)).trim().split("\n").pop()!.split(" ").map(Number);
    userSeconds = f[1];
    sysSeconds = f[2];
    peakRssMb = f[3] / 1024;
  }
  return { seconds, userSeconds, sysSeconds, peakRssMb, stderr };
}

async function fileSize(path: string): Promise<number> {
  return (await Deno.stat(path)).size;
}

function summarize(
  tool: string,
  argv: string[],
  runs: Run[],
  inputBytes: number,
  outputBytes: number,
  captureBytes: number,
  packets: number,
): Measured {
  const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return {
    tool,
    command: argv.join(" "),
    inputBytes,
    outputBytes,
    captureBytes,
    packets,
    runs,
    best,
    outputMBps: outputBytes / 1e6 / best.seconds,
    inputMBps: inputBytes / 1e6 / best.seconds,
    captureMBps: captureBytes / 1e6 / best.seconds,
    packetsPerSec: packets / best.seconds,
  };
}

/**
 * Flushes dirty pages before a timed run (`sync`, untimed). Each stitcher run writes ~1.2 GB into
 * the page cache; without this, the next run is throttled while the kernel writes the previous
 * run's pages back, and wall clock exceeded CPU time by up to 1.2 s (measured 2026-11-26: `vmstat`
 * showed 35% I/O wait inside a pass-through run started right after another).
 */
async function settleWriteback(): Promise<void> {
  const out = await new Deno.Command("sync", { stdout: "null", stderr: "null" }).output()
    .catch(() => null);
  if (out === null || !out.success) log("bench: WARNING: sync failed; runs may wait on writeback");
}

/** Runs `argv` `n` times (after `before()` each time), logging each run. */
async function repeat(
  name: string,
  n: number,
  argv: string[],
  pin: string[],
  timeBin: string | null,
  before: () => Promise<void>,
): Promise<Run[]> {
  const runs: Run[] = [];
  for (let i = 0; i < n; i++) {
    await before();
    await settleWriteback();
    const r = await measure(argv, pin, timeBin);
    log(
      `bench: ${name}${n > 1 ? ` run ${i + 1}` : ""}: ${r.seconds.toFixed(2)} s, ` +
        `cpu ${((r.userSeconds ?? NaN) + (r.sysSeconds ?? NaN)).toFixed(2)} s, peak RSS ${
          r.peakRssMb?.toFixed(1)
        } MB`,
    );
    runs.push(r);
  }
  return runs;
}

function table(rows: Measured[]): string {
  const head = [
    "tool",
    "input MB",
    "output MB",
    "packets",
    "best s",
    "cpu s",
    "in MB/s",
    "out MB/s",
    "capture MB/s",
    "packets/s",
    "peak RSS MB",
  ];
  const body = rows.map((m) => [
    m.tool,
    (m.inputBytes / 1e6).toFixed(1),
    (m.outputBytes / 1e6).toFixed(1),
    String(m.packets),
    m.best.seconds.toFixed(2),
    m.best.userSeconds === null ? "-" : (m.best.userSeconds + m.best.sysSeconds!).toFixed(2),
    m.inputMBps.toFixed(1),
    m.outputBytes === 0 ? "-" : m.outputMBps.toFixed(1),
    m.captureMBps.toFixed(1),
    Math.round(m.packetsPerSec).toLocaleString("en-US"),
    m.best.peakRssMb === null ? "-" : m.best.peakRssMb.toFixed(1),
  ]);
  const all = [head, ...body];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ");
  return [line(head), w.map((n) => "-".repeat(n)).join("  "), ...body.map(line)].join("\n");
}

/**
 * Checks that tshark, asked to follow stream 0 only, decrypts every TLS
 * record of the capture: runs it on the first `packets` packets of `pcap`
 * with `tls.debug_file` and counts, in that log, the TLS sessions, the
 * records dissected, the records decrypted ("Plaintext" dumps) and the
 * sessions with at least one decrypted record.
 */
async function tsharkCheck(
  tshark: string,
  editcap: string,
  pcap: string,
  keylog: string,
  packets: number,
) {
  const slice = `${WORK}/tshark-check.pcap`;
  const debug = `${WORK}/tshark-check.log`;
  const ed = await new Deno.Command(editcap, { args: ["-r", pcap, slice, `1-${packets}`] })
    .output();
  if (!ed.success) throw new Error(`editcap failed: ${new TextDecoder().decode(ed.stderr)}`);
  const out = await new Deno.Command(tshark, {
    args: [
      "-n",
      "-r",
      slice,
      "-o",
      `tls.keylog_file:${keylog}`,
      "-o",
      `tls.debug_file:${debug}`,
      "-q",
      "-z",
      "follow,tls,raw,0",
    ],
    stdout: "null",
    stderr: "null",
  }).output();
  if (!out.success) throw new Error(`tshark (check) failed (exit ${out.code})`);
  const sessions = new Set<string>();
  const decryptedSessions = new Set<string>();
  let current = "";
  let records = 0, ciphertexts = 0, plaintexts = 0, failures = 0;
  const text = await Deno.readTextFile(debug);
  for (const line of text.split("\n")) {
    if (line.startsWith("  conversation = ")) {
      current = line.slice(line.lastIndexOf("=") + 1).trim();
      sessions.add(current);
    } else if (line.startsWith("dissect_ssl3_record: content_type")) records++;
    else if (line.startsWith("ssl_decrypt_record ciphertext")) ciphertexts++;
    else if (line.startsWith("Plaintext")) {
      plaintexts++;
      decryptedSessions.add(current);
    } else if (/fail/i.test(line)) failures++;
  }
  await Deno.remove(slice).catch(() => {});
  await Deno.remove(debug).catch(() => {});
  return {
    packets,
    sessions: sessions.size,
    decryptedSessions: decryptedSessions.size,
    records,
    ciphertexts,
    plaintexts,
    failures,
  };
}

async function main(): Promise<number> {
  const opts = parseArgs(Deno.args);
  const tStart = performance.now();
  await Deno.mkdir(WORK, { recursive: true });

  if (opts.build || !(await exists(BIN))) {
    log("bench: building dist/stitcher (./compile.sh)");
    const b = await new Deno.Command(ROOT + "compile.sh", {
      cwd: ROOT,
      stdout: "inherit",
      stderr: "inherit",
    })
      .output();
    if (!b.success) throw new Error(`./compile.sh failed (exit ${b.code})`);
  }

  const bucket = await makeBucket(opts.params, opts.out ?? DEFAULT_OUT, { force: opts.force, log });
  const dataObjects = bucket.objects - bucket.keyObjects;

  // Room for the stitched pcap, the decrypted pcap and tcpdump's copy (each about the bucket's size).
  const need = 3.4 * bucket.bytes;
  const free = await freeBytes(WORK);
  if (free < need) {
    throw new Error(
      `not enough disk space under ${WORK}: ${(free / 1e9).toFixed(1)} GB free, ` +
        `need ${(need / 1e9).toFixed(1)} GB for the output pcaps and the copy`,
    );
  }

  // `--cpu all`: not pinned, as users run it (Bun's reader, JIT and GC threads on other cores).
  const taskset = opts.cpu === "all" ? null : await which("taskset");
  const pin = taskset ? [taskset, "-c", opts.cpu] : [];
  const timeBin = (await exists("/usr/bin/time")) ? "/usr/bin/time" : null;
  const tcpdump = await which("tcpdump");
  if (!tcpdump) throw new Error("tcpdump is not installed (apt-get install tcpdump)");
  const tshark = opts.tshark ? await which("tshark") : null;
  const editcap = opts.tshark ? await which("editcap") : null;
  if (opts.tshark && (!tshark || !editcap)) {
    throw new Error("tshark/editcap not installed (apt-get install tshark), or use --no-tshark");
  }
  if (!taskset && opts.cpu !== "all") {
    log("bench: taskset not found: runs are NOT pinned to one core");
  }

  const outPcap = `${WORK}/out.pcap`;
  const decPcap = `${WORK}/outd.pcap`;
  const copyPcap = `${WORK}/copy.pcap`;
  const slicePcap = `${WORK}/tshark-slice.pcap`;
  const report = `${WORK}/report.json`;
  const reportDec = `${WORK}/report-decrypt.json`;
  const stitch = (out: string, rep: string, extra: string[]) => [
    BIN,
    "--provider",
    "file",
    "-b",
    bucket.dir,
    ...extra,
    "-e",
    out,
    "--report",
    rep,
  ];
  const passArgv = stitch(outPcap, report, []);
  const decArgv = stitch(decPcap, reportDec, ["--with-decrypted"]);

  // -Z root: tcpdump run as root otherwise drops to user tcpdump, which may not write here.
  const copyArgv = [
    tcpdump,
    "-r",
    outPcap,
    "-w",
    copyPcap,
    ...(Deno.uid() === 0 ? ["-Z", "root"] : []),
  ];
  // Pass-through, decryption and tcpdump's copy (of the pcap the pass-through just wrote) take
  // turns, round after round, so that drift in the machine's load hits all three alike; each
  // round's own ratios are kept too (their median is printed beside the best-of ratios).
  const passRuns: Run[] = [];
  const decRuns: Run[] = [];
  const copyRuns: Run[] = [];
  for (let i = 0; i < opts.runs; i++) {
    const round = `(${i + 1}/${opts.runs})`;
    passRuns.push(
      ...await repeat(`stitcher pass-through ${round}`, 1, passArgv, pin, timeBin, async () => {
        await Deno.remove(outPcap).catch(() => {});
      }),
    );
    decRuns.push(
      ...await repeat(`stitcher decrypt ${round}`, 1, decArgv, pin, timeBin, async () => {
        await Deno.remove(decPcap).catch(() => {});
      }),
    );
    copyRuns.push(
      ...await repeat(`tcpdump ${round}`, 1, copyArgv, pin, timeBin, async () => {
        await Deno.remove(copyPcap).catch(() => {});
      }),
    );
  }
  const rep = JSON.parse(await Deno.readTextFile(report));
  const repDec = JSON.parse(await Deno.readTextFile(reportDec));
  const packets: number = rep.packets.out;
  const decPackets: number = repDec.packets.out;
  const outBytes = await fileSize(outPcap);
  const decBytes = await fileSize(decPcap);
  for (const [name, r] of [["pass-through", rep], ["decrypt", repDec]] as const) {
    if (
      r.objects.read !== dataObjects || (r.gaps?.count ?? 0) !== 0 ||
      (r.problems?.length ?? 0) !== 0
    ) {
      log(
        `bench: WARNING: ${name} report says data objects read ${r.objects.read}/${dataObjects}, ` +
          `gaps ${r.gaps?.count}, problems ${r.problems?.length}`,
      );
    }
  }
  const dec = (repDec.decryption ?? {}) as Record<string, number>;
  if (!((dec.decrypted ?? 0) > 0)) {
    throw new Error(`the decryption run decrypted no flow: ${JSON.stringify(repDec.decryption)}`);
  }
  if (dec.decrypted !== bucket.tlsFlows) {
    log(`bench: WARNING: decrypted ${dec.decrypted} flows, the bucket has ${bucket.tlsFlows} TLS`);
  }

  const copyBytes = await fileSize(copyPcap);
  if (copyBytes !== outBytes) {
    log(`bench: WARNING: tcpdump's copy is ${copyBytes} bytes, the stitched pcap ${outBytes}`);
  }
  if (!opts.keep) await Deno.remove(copyPcap).catch(() => {}); // room for tshark; size known

  let ts: Measured | null = null;
  let check: Awaited<ReturnType<typeof tsharkCheck>> | null = null;
  if (tshark && editcap) {
    if (opts.tsharkCheck) {
      check = await tsharkCheck(tshark, editcap, outPcap, bucket.keylog, CHECK_PACKETS);
      log(`bench: tshark check: ${JSON.stringify(check)}`);
    }
    // The equivalent capture: the pass-through pcap (the bucket as one pcap), or
    // its first N packets (each flow in it starts inside, handshake included).
    let tsIn = outPcap, tsPackets = packets;
    if (opts.tsharkPackets > 0 && opts.tsharkPackets < packets) {
      const ed = await new Deno.Command(editcap, {
        args: ["-r", outPcap, slicePcap, `1-${opts.tsharkPackets}`],
      }).output();
      if (!ed.success) throw new Error(`editcap failed: ${new TextDecoder().decode(ed.stderr)}`);
      tsIn = slicePcap;
      tsPackets = opts.tsharkPackets;
    }
    const tsBytes = await fileSize(tsIn);
    const tsArgv = [
      tshark,
      "-n",
      "-r",
      tsIn,
      "-o",
      `tls.keylog_file:${bucket.keylog}`,
      "-q",
      "-z",
      "follow,tls,raw,0",
    ];
    const tsRuns = await repeat("tshark", opts.runs, tsArgv, pin, timeBin, () => Promise.resolve());
    ts = summarize("tshark -z follow,tls", tsArgv, tsRuns, tsBytes, 0, tsBytes, tsPackets);
    await Deno.remove(slicePcap).catch(() => {});
  }

  const pt = summarize(
    "stitcher pass-through",
    passArgv,
    passRuns,
    bucket.bytes,
    outBytes,
    outBytes,
    packets,
  );
  const sd = summarize(
    "stitcher --with-decrypted",
    decArgv,
    decRuns,
    bucket.bytes,
    decBytes,
    outBytes,
    decPackets,
  );
  const td = summarize("tcpdump -r -w", copyArgv, copyRuns, outBytes, copyBytes, outBytes, packets);

  const decryptCost = sd.best.seconds / pt.best.seconds;
  const median = (xs: number[]) => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  // Round by round (same bytes written by the pass-through and by tcpdump).
  const pairedDecryptCost = median(passRuns.map((p, i) => decRuns[i].seconds / p.seconds));
  const pairedVsTcpdump = median(passRuns.map((p, i) => copyRuns[i].seconds / p.seconds));
  const cpuOf = (m: Measured) =>
    m.best.userSeconds === null ? null : m.best.userSeconds + m.best.sysSeconds!;
  const decryptCostCpu = cpuOf(sd) !== null ? cpuOf(sd)! / cpuOf(pt)! : null;
  const vsTshark = ts ? sd.captureMBps / ts.captureMBps : null;
  const vsTcpdump = pt.outputMBps / td.outputMBps;
  // The same ratios on CPU seconds (user + sys): less sensitive to other load on the core.
  const perCpu = (m: Measured, bytes: number) =>
    cpuOf(m) === null ? null : bytes / 1e6 / Math.max(cpuOf(m)!, 0.01);
  const vsTsharkCpu = ts && cpuOf(sd) !== null
    ? perCpu(sd, sd.captureBytes)! / perCpu(ts, ts.captureBytes)!
    : null;
  const vsTcpdumpCpu = cpuOf(pt) !== null
    ? perCpu(pt, pt.outputBytes)! / perCpu(td, td.outputBytes)!
    : null;
  const verdict = (ok: boolean) => (ok ? "PASS" : "FAIL");
  const goals = {
    decryptCost: {
      value: decryptCost,
      cpuValue: decryptCostCpu,
      medianOfRounds: pairedDecryptCost,
      goal: `<= ${GOAL_DECRYPT_COST}`,
      pass: decryptCost <= GOAL_DECRYPT_COST,
    },
    vsTshark: vsTshark === null ? null : {
      value: vsTshark,
      cpuValue: vsTsharkCpu,
      goal: `>= ${GOAL_TSHARK}`,
      pass: vsTshark >= GOAL_TSHARK,
    },
    vsTcpdump: {
      value: vsTcpdump,
      cpuValue: vsTcpdumpCpu,
      medianOfRounds: pairedVsTcpdump,
      goal: `>= ${GOAL_TCPDUMP}`,
      pass: vsTcpdump >= GOAL_TCPDUMP,
    },
  };

  const cpuInfo = (await Deno.readTextFile("/proc/cpuinfo").catch(() => ""))
    .match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown CPU";
  const rows = ts ? [pt, sd, td, ts] : [pt, sd, td];
  console.log("");
  console.log(
    `bucket: ${(bucket.bytes / 1e6).toFixed(0)} MB, ${dataObjects} CTAP objects + ` +
      `${bucket.keyObjects} keys objects, ${bucket.flows} flows (${bucket.tlsFlows} TLS), ` +
      `${bucket.copies} fixture copies${bucket.reused ? ", cached" : ""}`,
  );
  console.log(
    `${taskset ? `pinned to CPU ${opts.cpu} (taskset)` : "NOT pinned"}, best of ${opts.runs} ` +
      `runs each, warm page cache; ${cpuInfo}`,
  );
  console.log(
    `decryption: ${dec.tls_flows ?? 0} TLS flows, ${dec.decrypted ?? 0} decrypted, ` +
      `${((dec.plaintext_bytes ?? 0) / 1e6).toFixed(1)} MB plaintext, ${dec.not_tls ?? 0} not TLS` +
      (Object.keys(dec).some((k) =>
          !["tls_flows", "decrypted", "plaintext_bytes", "not_tls"].includes(k)
        )
        ? ` (${JSON.stringify(dec)})`
        : ""),
  );
  if (check) {
    console.log(
      `tshark check (first ${check.packets} packets, tls.debug_file): ${check.sessions} TLS ` +
        `sessions, ${check.decryptedSessions} with decrypted records; ${check.records} records ` +
        `dissected, ${check.ciphertexts} decrypted to ${check.plaintexts} plaintexts, ` +
        `${check.failures} failures`,
    );
  }
  console.log(
    "PASS/FAIL on wall clock of the best run; (cpu s: ...) = the same ratio on user+sys seconds",
  );
  console.log(
    "in MB/s = bytes read / s; out MB/s = bytes written / s; capture MB/s = bytes of the " +
      "equivalent pcap (out.pcap" +
      (ts && ts.packets < packets ? `; tshark: its first ${ts.packets} packets` : "") +
      ") / s",
  );
  console.log("");
  console.log(table(rows));
  console.log("");
  console.log(
    `decryption cost (decrypt s / pass-through s):     ${decryptCost.toFixed(3)}x  ` +
      `goal <= ${GOAL_DECRYPT_COST}x: ${verdict(goals.decryptCost.pass)}` +
      (decryptCostCpu === null ? "" : `  (cpu s: ${decryptCostCpu.toFixed(3)}x)`) +
      `  (median of rounds: ${pairedDecryptCost.toFixed(3)}x)`,
  );
  if (goals.vsTshark) {
    console.log(
      `stitcher decrypt / tshark (capture MB/s):         ${goals.vsTshark.value.toFixed(2)}x  ` +
        `goal >= ${GOAL_TSHARK}x: ${verdict(goals.vsTshark.pass)}` +
        (vsTsharkCpu === null ? "" : `  (cpu s: ${vsTsharkCpu.toFixed(2)}x)`),
    );
  }
  console.log(
    `stitcher pass-through / tcpdump (out MB/s):       ${vsTcpdump.toFixed(3)}x  ` +
      `goal >= ${GOAL_TCPDUMP}x: ${verdict(goals.vsTcpdump.pass)}` +
      (vsTcpdumpCpu === null ? "" : `  (cpu s: ${vsTcpdumpCpu.toFixed(3)}x)`) +
      `  (median of rounds: ${pairedVsTcpdump.toFixed(3)}x)`,
  );

  const strip = (m: Measured) => ({
    ...m,
    runs: m.runs.map(({ stderr: _s, ...r }) => r),
    best: undefined,
    bestSeconds: m.best.seconds,
  });
  const results = {
    date: new Date().toISOString(),
    cpu: cpuInfo,
    pinned: taskset ? opts.cpu : null,
    runsEach: opts.runs,
    bucket: { ...bucket },
    passThrough: strip(pt),
    decrypt: { ...strip(sd), decryption: repDec.decryption, keys: repDec.keys },
    tcpdump: strip(td),
    tshark: ts ? { ...strip(ts), slicePackets: opts.tsharkPackets || null } : null,
    tsharkCheck: check,
    goals,
    passThroughSummary: pt.best.stderr.trim().split("\n").pop(),
    decryptSummary: sd.best.stderr.trim().split("\n").pop(),
  };
  await Deno.writeTextFile(`${WORK}/results.json`, JSON.stringify(results, null, 2) + "\n");
  console.log(
    `results: ${WORK}/results.json  (total ${((performance.now() - tStart) / 1000).toFixed(0)} s)`,
  );

  if (!opts.keep) {
    await Deno.remove(outPcap).catch(() => {});
    await Deno.remove(decPcap).catch(() => {});
  }
  await Deno.remove(`${WORK}/time.txt`).catch(() => {});
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main());
}
