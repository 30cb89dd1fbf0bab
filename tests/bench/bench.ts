/**
 * `deno task bench`: the compiled binary stitching a >= 1 GB CTAP bucket to a
 * pcap, next to `tcpdump -r X -w Y` copying that same pcap, in the same run,
 * both pinned to one core. Goal: stitcher output MB/s >= 0.5 x tcpdump's.
 * See tests/bench/README.md.
 *
 *   deno task bench [--no-build] [--runs 2] [--keep] [--cpu 0] [make_bucket flags: --size-mb N ...]
 */
import { DEFAULT_OUT, freeBytes, makeBucket, parseBucketArgs } from "./make_bucket.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const WORK = ROOT + "tests/.work/bench";
const BIN = ROOT + "dist/stitcher";
const GOAL = 0.5;

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
  packets: number;
  runs: Run[];
  best: Run;
  outputMBps: number;
  inputMBps: number;
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
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--no-build") build = false;
    else if (a === "--keep") keep = true;
    else if (a === "--runs") runs = Math.max(1, Math.round(Number(args[++i])));
    else if (a === "--cpu") cpu = args[++i];
    else rest.push(a);
  }
  return { build, runs, keep, cpu, ...parseBucketArgs(rest) };
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
  packets: number,
): Measured {
  const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return {
    tool,
    command: argv.join(" "),
    inputBytes,
    outputBytes,
    packets,
    runs,
    best,
    outputMBps: outputBytes / 1e6 / best.seconds,
    inputMBps: inputBytes / 1e6 / best.seconds,
    packetsPerSec: packets / best.seconds,
  };
}

function table(rows: Measured[]): string {
  const head = [
    "tool",
    "input MB",
    "output MB",
    "packets",
    "best s",
    "cpu s",
    "out MB/s",
    "in MB/s",
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
    m.outputMBps.toFixed(1),
    m.inputMBps.toFixed(1),
    Math.round(m.packetsPerSec).toLocaleString("en-US"),
    m.best.peakRssMb === null ? "-" : m.best.peakRssMb.toFixed(1),
  ]);
  const all = [head, ...body];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ");
  return [line(head), w.map((n) => "-".repeat(n)).join("  "), ...body.map(line)].join("\n");
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

  // Room for the stitched pcap and tcpdump's copy (each a little above the bucket's size).
  const need = 2.3 * bucket.bytes;
  const free = await freeBytes(WORK);
  if (free < need) {
    throw new Error(
      `not enough disk space under ${WORK}: ${(free / 1e9).toFixed(1)} GB free, ` +
        `need ${(need / 1e9).toFixed(1)} GB for the output pcap and its copy`,
    );
  }

  const taskset = await which("taskset");
  const pin = taskset ? [taskset, "-c", opts.cpu] : [];
  const timeBin = (await exists("/usr/bin/time")) ? "/usr/bin/time" : null;
  const tcpdump = await which("tcpdump");
  if (!tcpdump) throw new Error("tcpdump is not installed (apt-get install tcpdump)");
  if (!taskset) log("bench: taskset not found: runs are NOT pinned to one core");

  const outPcap = `${WORK}/out.pcap`;
  const copyPcap = `${WORK}/copy.pcap`;
  const report = `${WORK}/report.json`;
  const stitchArgv = [
    BIN,
    "--provider",
    "file",
    "-b",
    bucket.dir,
    "-e",
    outPcap,
    "--report",
    report,
  ];
  // -Z root: tcpdump run as root otherwise drops to user tcpdump, which may not write here.
  const copyArgv = [
    tcpdump,
    "-r",
    outPcap,
    "-w",
    copyPcap,
    ...(Deno.uid() === 0 ? ["-Z", "root"] : []),
  ];

  const stitchRuns: Run[] = [];
  for (let i = 0; i < opts.runs; i++) {
    await Deno.remove(outPcap).catch(() => {});
    const r = await measure(stitchArgv, pin, timeBin);
    log(
      `bench: stitcher run ${i + 1}: ${r.seconds.toFixed(2)} s, peak RSS ${
        r.peakRssMb?.toFixed(1)
      } MB`,
    );
    stitchRuns.push(r);
  }
  const rep = JSON.parse(await Deno.readTextFile(report));
  const packets: number = rep.packets.out;
  const outBytes = await fileSize(outPcap);
  if (
    rep.objects.read !== bucket.objects || (rep.gaps?.count ?? 0) !== 0 ||
    (rep.problems?.length ?? 0) !== 0
  ) {
    log(
      `bench: WARNING: report says objects read ${rep.objects.read}/${bucket.objects}, ` +
        `gaps ${rep.gaps?.count}, problems ${rep.problems?.length}`,
    );
  }

  const copyRuns: Run[] = [];
  for (let i = 0; i < opts.runs; i++) {
    await Deno.remove(copyPcap).catch(() => {});
    const r = await measure(copyArgv, pin, timeBin);
    log(
      `bench: tcpdump run ${i + 1}: ${r.seconds.toFixed(2)} s, peak RSS ${
        r.peakRssMb?.toFixed(1)
      } MB`,
    );
    copyRuns.push(r);
  }
  const copyBytes = await fileSize(copyPcap);
  if (copyBytes !== outBytes) {
    log(`bench: WARNING: tcpdump's copy is ${copyBytes} bytes, the stitched pcap ${outBytes}`);
  }

  const st = summarize("stitcher", stitchArgv, stitchRuns, bucket.bytes, outBytes, packets);
  const td = summarize("tcpdump -r -w", copyArgv, copyRuns, outBytes, copyBytes, packets);
  const ratio = st.outputMBps / td.outputMBps;
  const pass = ratio >= GOAL;

  const cpuInfo = (await Deno.readTextFile("/proc/cpuinfo").catch(() => ""))
    .match(/model name\s*:\s*(.*)/)?.[1] ?? "unknown CPU";
  console.log("");
  console.log(
    `bucket: ${
      (bucket.bytes / 1e6).toFixed(0)
    } MB, ${bucket.objects} CTAP objects, ${bucket.flows} flows ` +
      `(${bucket.copies} fixture copies)${bucket.reused ? ", cached" : ""}`,
  );
  console.log(
    `${
      taskset ? `pinned to CPU ${opts.cpu} (taskset)` : "NOT pinned"
    }, best of ${opts.runs} runs each, ` +
      `warm page cache; ${cpuInfo}`,
  );
  console.log(
    "out MB/s = output pcap bytes / wall seconds (both tools); in MB/s = bytes read / wall seconds",
  );
  console.log("");
  console.log(table([st, td]));
  console.log("");
  console.log(
    `ratio stitcher/tcpdump (out MB/s): ${ratio.toFixed(3)}x  goal >= ${GOAL}x: ${
      pass ? "PASS" : "FAIL"
    }`,
  );

  const results = {
    date: new Date().toISOString(),
    cpu: cpuInfo,
    pinned: taskset ? opts.cpu : null,
    runsEach: opts.runs,
    bucket: { ...bucket },
    stitcher: { ...st, runs: st.runs.map(({ stderr: _s, ...r }) => r), best: undefined },
    tcpdump: { ...td, runs: td.runs.map(({ stderr: _s, ...r }) => r), best: undefined },
    stitcherSeconds: st.best.seconds,
    tcpdumpSeconds: td.best.seconds,
    ratio,
    goal: GOAL,
    pass,
    stitcherSummary: st.best.stderr.trim().split("\n").pop(),
  };
  await Deno.writeTextFile(`${WORK}/results.json`, JSON.stringify(results, null, 2) + "\n");
  console.log(
    `results: ${WORK}/results.json  (total ${((performance.now() - tStart) / 1000).toFixed(0)} s)`,
  );

  if (!opts.keep) {
    await Deno.remove(outPcap).catch(() => {});
    await Deno.remove(copyPcap).catch(() => {});
  }
  await Deno.remove(`${WORK}/time.txt`).catch(() => {});
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main());
}
