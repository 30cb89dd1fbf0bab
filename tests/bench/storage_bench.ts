/**
 * Stitch throughput from S3 (Ceph radosgw on 127.0.0.1) next to the file
 * provider, on the same CTAP objects, in the same run: a bucket of
 * `--size-mb` MB made by make_bucket.ts (tests/.work/bench/s3bucket), stored
 * as a folder and uploaded to radosgw. Each provider is run `--runs` times
 * (best kept), pass-through and `--with-decrypted`; the outputs of both
 * providers must be byte-identical. radosgw shares the machine's cores with
 * the stitcher, so the S3 column is a lower bound for a remote store.
 *
 *   deno run -A tests/bench/storage_bench.ts [--size-mb 300] [--runs 2]
 *     [--fetch-concurrency 8] [--keep-server] [--no-build]
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { DEFAULT_PARAMS, makeBucket } from "./make_bucket.ts";
import { ensureBinary } from "../lib/bin.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const WORK = `${ROOT}/tests/.work/bench`;
const SCRIPT = `${ROOT}/tests/servers/radosgw.sh`;

function flag(name: string, def: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(Deno.args[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    throw new Error(`flag --${name}: '${Deno.args[i + 1]}' is not a positive number`);
  }
  return v;
}

const sizeMb = flag("size-mb", 300);
const runs = flag("runs", 2);
const concurrency = flag("fetch-concurrency", 8);
const keepServer = Deno.args.includes("--keep-server");

async function script(arg: string): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: [SCRIPT, arg],
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(600_000),
  }).output();
  if (!out.success) throw new Error(`tests/servers/radosgw.sh ${arg} failed (exit ${out.code})`);
  return new TextDecoder().decode(out.stdout);
}

async function walk(dir: string, base = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${dir}/${base}`)) {
    if (e.isDirectory) out.push(...await walk(dir, `${base}${e.name}/`));
    else if (e.isFile) out.push(base + e.name);
  }
  return out.sort();
}

interface Result {
  seconds: number;
  outBytes: number;
  line: string;
}

async function stitch(
  bin: string,
  source: string[],
  out: string,
  extra: string[],
): Promise<Result> {
  let best: Result | null = null;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const res = await new Deno.Command(bin, {
      args: [...source, "-e", out, "-q", "--fetch-concurrency", String(concurrency), ...extra],
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(1_800_000),
    }).output();
    const seconds = (performance.now() - t0) / 1000;
    const err = new TextDecoder().decode(res.stderr).trim();
    if (!res.success) {
      throw new Error(`stitcher ${source.join(" ")} failed (exit ${res.code}): ${err}`);
    }
    const r = { seconds, outBytes: (await Deno.stat(out)).size, line: err.split("\n").pop() ?? "" };
    if (best === null || r.seconds < best.seconds) best = r;
  }
  return best!;
}

async function sameFile(a: string, b: string): Promise<boolean> {
  const [fa, fb] = [await Deno.open(a), await Deno.open(b)];
  try {
    const [ba, bb] = [new Uint8Array(1 << 20), new Uint8Array(1 << 20)];
    for (let i = 0; i < 1_000_000; i++) {
      const na = await readFull(fa, ba), nb = await readFull(fb, bb);
      if (na !== nb) return false;
      if (na === 0) return true;
      for (let j = 0; j < na; j++) if (ba[j] !== bb[j]) return false;
    }
    return false;
  } finally {
    fa.close();
    fb.close();
  }
}

async function readFull(f: Deno.FsFile, buf: Uint8Array): Promise<number> {
  let n = 0;
  while (n < buf.length) {
    const r = await f.read(buf.subarray(n));
    if (r === null) break;
    n += r;
  }
  return n;
}

async function main(): Promise<void> {
  await Deno.mkdir(WORK, { recursive: true });
  const bin = Deno.args.includes("--no-build") ? `${ROOT}/dist/stitcher` : await ensureBinary();
  const dir = `${WORK}/s3bucket`;
  const info = await makeBucket({ ...DEFAULT_PARAMS, sizeMb }, dir, {
    log: (s) => console.error(s),
  });
  const keys = await walk(dir);
  const bytes = info.bytes;
  console.error(`bucket ${dir}: ${keys.length} objects, ${(bytes / 1e6).toFixed(0)} MB`);

  let t0 = performance.now();
  const env = Object.fromEntries(
    (await script("start")).trim().split("\n").map((l) => l.split("=", 2) as [string, string]),
  );
  const startS = (performance.now() - t0) / 1000;
  const endpoint = env.RGW_ENDPOINT;
  const credsFile = `${WORK}/s3bench-creds.json`;
  await Deno.writeTextFile(
    credsFile,
    JSON.stringify({ access_key_id: env.RGW_ACCESS_KEY, secret_access_key: env.RGW_SECRET_KEY }),
  );
  const client = new S3Client({
    region: "us-east-1",
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: env.RGW_ACCESS_KEY, secretAccessKey: env.RGW_SECRET_KEY },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const bucket = `bench-${Date.now().toString(36)}`;
  const outs: string[] = [];
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    t0 = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < keys.length) {
        const key = keys[next++];
        const body = await Deno.readFile(`${dir}/${key}`);
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      }
    }));
    const uploadS = (performance.now() - t0) / 1000;
    console.error(
      `uploaded in ${uploadS.toFixed(1)} s (${(bytes / 1e6 / uploadS).toFixed(0)} MB/s)`,
    );

    const fileSrc = ["--provider", "file", "-b", dir];
    const s3Src = ["--provider", "aws", "--endpoint-url", endpoint, "-c", credsFile, "-b", bucket];
    const rows: string[][] = [];
    for (
      const [mode, extra] of [["pass-through", []], ["decrypted", ["--with-decrypted"]]] as const
    ) {
      const fOut = `${WORK}/s3bench-file.pcap`, sOut = `${WORK}/s3bench-s3.pcap`;
      outs.push(fOut, sOut);
      const f = await stitch(bin, fileSrc, fOut, [...extra]);
      const s = await stitch(bin, s3Src, sOut, [...extra]);
      const same = await sameFile(fOut, sOut);
      if (!same) throw new Error(`${mode}: S3 and file outputs differ (${sOut} vs ${fOut})`);
      for (const [name, r] of [["file", f], ["s3 (radosgw)", s]] as const) {
        rows.push([
          mode,
          name,
          String(keys.length),
          (bytes / 1e6).toFixed(0),
          r.seconds.toFixed(2),
          (bytes / 1e6 / r.seconds).toFixed(1),
        ]);
      }
      rows.push([mode, "s3 / file", "", "", "", (f.seconds / s.seconds).toFixed(2) + " x"]);
    }
    const head = ["mode", "provider", "objects", "MB in", "seconds", "MB/s"];
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r: string[]) => "| " + r.map((c, i) => c.padEnd(w[i])).join(" | ") + " |";
    console.log(
      `radosgw start ${startS.toFixed(1)} s, upload ${uploadS.toFixed(1)} s; ` +
        `best of ${runs}, --fetch-concurrency ${concurrency}`,
    );
    console.log(line(head));
    console.log("| " + w.map((n) => "-".repeat(n)).join(" | ") + " |");
    for (const r of rows) console.log(line(r));
  } finally {
    client.destroy();
    for (const o of outs) await Deno.remove(o).catch(() => {});
    if (!keepServer) await script("stop");
  }
}

await main();
