/**
 * `--metrics-listen` with the compiled binary: while a run lasts, /healthz
 * and /metrics answer on the port it logs (port 0: the system picks one),
 * the metrics parse as the Prometheus text format and agree with the run's
 * report; when the run ends, nothing listens any more.
 *
 * Runs are held still, deterministically, while the test scrapes: the first
 * by not reading its stdout (its pcap is larger than a pipe holds, so the
 * stitcher waits on its write, in the stitching phase); the second by giving
 * `--report` a FIFO that is read only after the scrape (the stitcher waits
 * on opening it, with every count final and /healthz saying "done").
 * Every wait is bounded in count and time, and only 127.0.0.1 is used.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { ensureBinary, ROOT } from "./lib/bin.ts";
import { parsePromText, type PromText, promValue } from "./lib/prom_text.ts";

const BUCKET = `${ROOT}/examples/bucket`;
const STEP_MS = 50;
/** Polls of one wait: 20 s at most. */
const MAX_POLLS = 400;
const REQUEST_TIMEOUT_MS = 3000;
const EXIT_TIMEOUT_MS = 30_000;
const PIPE_BYTES = 65536;
const METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Files under `dir`, recursively: the objects of a file bucket. */
async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) n += await countFiles(`${dir}/${e.name}`);
    else if (e.isFile) n++;
  }
  return n;
}

/** Resolves with `p`, or rejects after `ms` saying what took too long. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface Running {
  child: Deno.ChildProcess;
  /** `http://127.0.0.1:PORT` from the `metrics listening` log line. */
  base: string;
  port: number;
  stderr(): string;
  exited(): boolean;
  status: Promise<Deno.CommandStatus>;
  stderrDone: Promise<void>;
}

/** Starts the binary and waits for its `metrics listening url=...` line. */
async function start(args: string[]): Promise<Running> {
  const bin = await ensureBinary();
  const child = new Deno.Command(bin, {
    args: [...args, "--metrics-listen", "127.0.0.1:0"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  let done = false;
  const dec = new TextDecoder();
  const stderrDone = (async () => {
    for await (const chunk of child.stderr) text += dec.decode(chunk, { stream: true });
  })();
  const status = child.status.then((s) => {
    done = true;
    return s;
  });
  for (let i = 0; i < MAX_POLLS && !done; i++) {
    const m = /info\s+metrics listening url=http:\/\/127\.0\.0\.1:(\d+)\n/.exec(text);
    if (m !== null) {
      const port = Number(m[1]);
      assert(port > 0 && port < 65536, `a real port, not ${m[1]}`);
      return {
        child,
        base: `http://127.0.0.1:${port}`,
        port,
        stderr: () => text,
        exited: () => done,
        status,
        stderrDone,
      };
    }
    await sleep(STEP_MS);
  }
  await stop({ child, status, stderrDone, exited: () => done });
  throw new Error(`no 'metrics listening url=' line from stitcher ${args.join(" ")}:\n${text}`);
}

/** Kills the child if it still runs and waits for it and its stderr. */
async function stop(r: Pick<Running, "child" | "status" | "stderrDone" | "exited">) {
  if (!r.exited()) {
    try {
      r.child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  await r.status;
  await r.child.stdout.cancel().catch(() => {});
  await r.stderrDone.catch(() => {});
}

interface Answer {
  status: number;
  type: string | null;
  body: string;
}

async function request(url: string, method = "GET"): Promise<Answer> {
  const res = await fetch(url, { method, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
}

/** Polls /healthz until its phase is `phase`; fails on any other answer than 200 ok. */
async function waitForPhase(r: Running, phase: string): Promise<Answer> {
  let last: Answer | null = null;
  for (let i = 0; i < MAX_POLLS && !r.exited(); i++) {
    last = await request(`${r.base}/healthz`);
    assertEquals(last.status, 200, `/healthz: ${last.body}`);
    const h = JSON.parse(last.body);
    assertEquals(h.status, "ok", `/healthz: ${last.body}`);
    assertMatch(h.phase, /^(starting|listing|stitching|done)$/);
    if (h.phase === phase) return last;
    await sleep(STEP_MS);
  }
  throw new Error(
    `/healthz never said phase ${phase} (last: ${last?.body}; exited: ${r.exited()}):\n${r.stderr()}`,
  );
}

async function scrape(r: Running): Promise<PromText> {
  const m = await request(`${r.base}/metrics`);
  assertEquals(m.status, 200, m.body);
  assertEquals(m.type, METRICS_TYPE);
  return parsePromText(m.body);
}

/** After the run, a connection to its port is refused. */
async function assertNothingListens(port: number): Promise<void> {
  let conn: Deno.TcpConn | null = null;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch (e) {
    assert(e instanceof Deno.errors.ConnectionRefused, `connect: ${(e as Error).message}`);
    return;
  }
  conn.close();
  throw new Error(`something still listens on 127.0.0.1:${port} after the run`);
}

Deno.test("--metrics-listen serves /healthz and /metrics while a run held by its stdout lasts", async () => {
  const dataObjects = await countFiles(`${BUCKET}/data`);
  const before = Date.now() / 1000;
  const r = await start(["--provider", "file", "-b", BUCKET, "-e", "-"]);
  try {
    // Listing is over once the run is stitching; the stitcher then waits on
    // its stdout, which is not read yet, so it stays in this phase.
    const health = await waitForPhase(r, "stitching");
    assertEquals(health.type, "application/json");
    assertEquals(JSON.parse(health.body), { status: "ok", phase: "stitching" });

    const m = await scrape(r);
    const v = (name: string, labels?: Record<string, string>) => promValue(m, name, labels);
    assertEquals(v("stitcher_up"), 1);
    assertEquals(v("stitcher_run_phase", { phase: "stitching" }), 1);
    assertEquals(v("stitcher_run_phase", { phase: "done" }), 0);
    const startTime = v("stitcher_run_start_time_seconds");
    assert(startTime >= before - 1 && startTime <= Date.now() / 1000, `start time ${startTime}`);
    assertEquals(v("stitcher_objects_total", { state: "listed" }), dataObjects);
    const read = v("stitcher_objects_total", { state: "read" });
    assert(read >= 0 && read <= dataObjects, `objects read ${read} of ${dataObjects}`);
    assertEquals(v("stitcher_objects_total", { state: "failed" }), 0);
    assertEquals(m.samples.filter((s) => s.name === "stitcher_objects_skipped_total"), []);
    assertEquals(m.samples.filter((s) => s.name === "stitcher_problems_total"), []);
    assert(v("stitcher_packets_total", { kind: "out" }) >= 0);
    assert(v("stitcher_process_resident_memory_bytes") > 1 << 20, "resident memory");
    for (const name of m.order) assertMatch(name, /^stitcher_/);

    assertEquals((await request(`${r.base}/nope`)).status, 404);
    assertEquals((await request(`${r.base}/metrics`, "POST")).status, 404);
    assertEquals((await request(`${r.base}/metrics/`)).status, 404);
    assert(!r.exited(), "the run is still held by its stdout");
    assertEquals(JSON.parse((await request(`${r.base}/healthz`)).body).phase, "stitching");

    const out = new Uint8Array(
      await within(new Response(r.child.stdout).arrayBuffer(), EXIT_TIMEOUT_MS, "stdout"),
    );
    const status = await within(r.status, EXIT_TIMEOUT_MS, "exit");
    assertEquals(status.code, 0, r.stderr());
    assert(out.length > PIPE_BYTES, `the pcap (${out.length} bytes) is more than a pipe holds`);
    assertEquals(new DataView(out.buffer).getUint32(0, true), 0xa1b2c3d4, "pcap magic");
    await r.stderrDone;
    assertMatch(r.stderr(), new RegExp(`^stitched ${dataObjects} objects`, "m"));
    await assertNothingListens(r.port);
  } finally {
    await stop(r);
  }
});

Deno.test("--metrics-listen: the TLS counts scraped when the run is done equal its --report", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stitcher-metrics-" });
  const fifo = `${dir}/report.json`;
  let r: Running | null = null;
  try {
    const mk = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assert(mk.success, `mkfifo ${fifo}: ${new TextDecoder().decode(mk.stderr)}`);
    r = await start([
      "--provider",
      "file",
      "-b",
      BUCKET,
      "--with-decrypted",
      "--decrypted-port-map",
      "8443:8080",
      "-e",
      `${dir}/out.pcap`,
      "--report",
      fifo,
    ]);
    // "done": every count is final; the run now waits to write its report
    // into the FIFO, which nobody reads yet.
    await waitForPhase(r, "done");
    const m = await scrape(r);
    assert(!r.exited(), "the run waits on its report");

    const reading = Deno.readTextFile(fifo);
    const text = await within(reading, EXIT_TIMEOUT_MS, "the report").catch(async (e) => {
      // unblock our own reader (a writer that opens and closes gives it EOF)
      (await Deno.open(fifo, { write: true })).close();
      await reading.catch(() => {});
      throw e;
    });
    const status = await within(r.status, EXIT_TIMEOUT_MS, "exit");
    assertEquals(status.code, 0, r.stderr());
    const report = JSON.parse(text);

    const v = (name: string, labels?: Record<string, string>) => promValue(m, name, labels);
    assert(
      report.decryption.decrypted > 0,
      `decrypted flows: ${JSON.stringify(report.decryption)}`,
    );
    assertEquals(
      v("stitcher_tls_flows_total", { result: "decrypted" }),
      report.decryption.decrypted,
    );
    assertEquals(v("stitcher_tls_flows_detected_total"), report.decryption.tls_flows);
    assertEquals(v("stitcher_tls_plaintext_bytes_total"), report.decryption.plaintext_bytes);
    const results = Object.keys(report.decryption)
      .filter((k) => k !== "tls_flows" && !k.endsWith("_bytes"));
    for (const k of results) {
      assertEquals(v("stitcher_tls_flows_total", { result: k }), report.decryption[k], k);
    }
    assertEquals(
      m.samples.filter((s) => s.name === "stitcher_tls_flows_total").length,
      results.length,
      "one result per flow count of the report",
    );
    // data and keys objects are listed with --with-decrypted
    assertEquals(report.objects.listed, await countFiles(BUCKET));
    assertEquals(v("stitcher_objects_total", { state: "listed" }), report.objects.listed);
    assertEquals(v("stitcher_objects_total", { state: "read" }), report.objects.read);
    assertEquals(v("stitcher_object_bytes_read_total"), report.objects.bytesRead);
    assertEquals(v("stitcher_records_total"), report.records.total);
    assertEquals(v("stitcher_flows_total", { event: "opened" }), report.flows.opened);
    assertEquals(v("stitcher_packets_total", { kind: "out" }), report.packets.out);
    assertEquals(v("stitcher_payload_bytes_total"), report.bytes.payload);
    assertEquals(v("stitcher_gaps_total"), report.gaps.count);
    assertEquals(v("stitcher_key_objects_total"), report.keys.objects);
    assertEquals(v("stitcher_keys_total", { result: "loaded" }), report.keys.entries);
    assertEquals(v("stitcher_run_phase", { phase: "done" }), 1);
    assertEquals(
      v("stitcher_run_start_time_seconds"),
      new Date(report.startedAt).getTime() / 1000,
    );
    await r.stderrDone;
    await assertNothingListens(r.port);
  } finally {
    if (r !== null) await stop(r);
    await Deno.remove(dir, { recursive: true });
  }
});
