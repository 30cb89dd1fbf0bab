/**
 * Makes the benchmark bucket: real flows from the capture fixtures, packed
 * into CTAP (in process, by `runPack`), decoded, then replicated until the
 * bucket holds `--size-mb` MB (10^6 bytes) of CTAP objects.
 *
 * Each copy of a fixture gets its own flow ids (unique per origin), its own
 * client address (10.a.b.c, or fd00:bench::/64 + n for IPv6) and a start time
 * drawn at random (seeded) over `--span-s` seconds, so copies overlap as
 * independent clients would. Copies alternate between origins BENCH-1 and
 * BENCH-2. A flow's client-to-server bytes go to writer (flow % writers) and
 * its server-to-client bytes to the next writer (as `pack --split-directions`
 * does); each writer rolls its object every `--window-s` seconds or when it
 * reaches `--object-mb`, whichever comes first.
 *
 * Keys: every copy keeps its fixture's bytes, so a TLS copy's ClientHello
 * carries the captured client random and the fixture's key log decrypts it.
 * One keys object per origin, at the bucket's first possible time (so the
 * default `--key-wait` finds it before any flow), holds the fixture key logs'
 * lines (deduplicated: the key store is keyed by client random). The same
 * lines are written to `<out>.keys.log` for tshark.
 *
 * The bucket is reused when `<out>.stamp.json` records the same parameters,
 * the same fixture files (name, size, mtime; the `.keys` too) and the same
 * generator source.
 *
 *   deno run -A tests/bench/make_bucket.ts [--size-mb 1100] [--out tests/.work/bench/bucket]
 *     [--writers 4] [--window-s 10] [--object-mb 4] [--span-s 600] [--seed 1] [--force]
 *     [--fixtures concurrent_25,http_plain_v4,tls12_v4,tls13_v6,retrans]
 */
import { runPack } from "../../core/run/pack.ts";
import { CtapDecoder, CtapEncoder } from "../../core/format/ctap.ts";
import {
  type CtapRecord,
  REC_DATA,
  REC_FLOW_CLOSE,
  REC_FLOW_OPEN,
} from "../../core/format/ctap_record.ts";
import { formatObjectKey } from "../../core/format/object_key.ts";
import { silentLogger } from "../../core/run/log.ts";
import { mulberry32 } from "../lib/random.ts";

export interface BucketParams {
  sizeMb: number;
  writers: number;
  windowSec: number;
  objectMb: number;
  spanSec: number;
  seed: number;
  origins: string[];
  fixtures: string[];
  /** Unix ms of the bucket's first possible record time. */
  baseMs: number;
}

export const DEFAULT_PARAMS: BucketParams = {
  sizeMb: 1100,
  writers: 4,
  windowSec: 10,
  objectMb: 4,
  spanSec: 600,
  seed: 1,
  origins: ["BENCH-1", "BENCH-2"],
  fixtures: ["concurrent_25", "http_plain_v4", "tls12_v4", "tls13_v6", "retrans"],
  // 2026-01-01T00:55:00Z: the span crosses an hour folder boundary.
  baseMs: Date.UTC(2026, 0, 1, 0, 55, 0),
};

export interface BucketInfo {
  dir: string;
  reused: boolean;
  /** Bytes of all objects (data and keys). */
  bytes: number;
  /** Objects (data and keys). */
  objects: number;
  /** Keys objects among them (one per origin) and the key log lines in each. */
  keyObjects: number;
  keyLines: number;
  /** The merged key log (every fixture's `.keys`, deduplicated), for tshark. */
  keylog: string;
  flows: number;
  /** Flows whose client starts with a TLS handshake record (0x16 0x03). */
  tlsFlows: number;
  copies: number;
  records: number;
  payloadBytes: number;
  seconds: number;
}

const ROOT = new URL("../../", import.meta.url).pathname;
const FIXTURES = ROOT + "tests/fixtures/captures/";
export const DEFAULT_OUT = ROOT + "tests/.work/bench/bucket";

/** One fixture's records, time-ordered, with times relative to its first record. */
interface Template {
  name: string;
  recs: CtapRecord[];
  relNs: Float64Array;
  /** Local flow index (0..flows-1) per record; -1 for records without a flow. */
  flowIdx: Int32Array;
  flows: number;
  durNs: number;
  bytes: number;
  ipVersion: 4 | 6;
  /** Flows whose first client-to-server payload starts a TLS handshake record. */
  tlsFlows: number;
  /** The fixture's key log lines (empty without a `.keys` file). */
  keyLines: string[];
}

async function loadTemplate(name: string): Promise<Template> {
  const objects = new Map<string, Uint8Array>();
  const file = await Deno.open(FIXTURES + name + ".pcap");
  const report = await runPack({
    capture: file.readable,
    captureName: name + ".pcap",
    keylogText: null,
    origin: "T",
    user: "",
    site: "",
    sink: {
      put(key: string, body: Uint8Array) {
        objects.set(key, body);
        return Promise.resolve();
      },
    },
    prefix: "",
    windowSec: 3600,
    writers: 1,
    splitDirections: false,
    keyDelaySec: 0,
    gzip: false,
    log: silentLogger,
  });
  if (report.problems.length > 0) {
    throw new Error(
      `pack ${name}: ${report.problems.length} problems: ${report.problems[0].detail}`,
    );
  }
  const recs: CtapRecord[] = [];
  for (const [key, body] of objects) {
    if (!key.startsWith("data/")) continue;
    const dec = new CtapDecoder((r) => {
      if ("sec" in r) recs.push(r); // END carries no time
    }, (p) => {
      throw new Error(`decode ${name} ${key}: ${p.kind} ${p.detail}`);
    });
    dec.push(body);
    dec.finish();
  }
  const t = (r: CtapRecord) => ("sec" in r ? r.sec * 1e9 + r.nsec : 0);
  recs.sort((a, b) => t(a) - t(b)); // stable: equal times keep their order
  const first = recs[0] as { sec: number; nsec: number };
  const relNs = new Float64Array(recs.length);
  const flowIdx = new Int32Array(recs.length).fill(-1);
  const flows = new Map<number | string, number>();
  let bytes = 0;
  let ipVersion: 4 | 6 = 4;
  const firstC2s = new Set<number | string>();
  let tlsFlows = 0;
  for (let i = 0; i < recs.length; i++) {
    const r = recs[i];
    if (!("sec" in r)) continue;
    relNs[i] = (r.sec - first.sec) * 1e9 + (r.nsec - first.nsec);
    if (r.type === REC_FLOW_OPEN || r.type === REC_DATA || r.type === REC_FLOW_CLOSE) {
      let f = flows.get(r.flow);
      if (f === undefined) flows.set(r.flow, f = flows.size);
      flowIdx[i] = f;
      if (r.type === REC_FLOW_OPEN) ipVersion = r.ipVersion;
      if (r.type === REC_DATA && r.dir === 0 && r.payload.length > 0 && !firstC2s.has(r.flow)) {
        firstC2s.add(r.flow);
        if (r.offset === 0 && r.payload[0] === 0x16 && r.payload[1] === 0x03) tlsFlows++;
      }
      bytes += 12 +
        (r.type === REC_DATA ? 25 + r.payload.length : r.type === REC_FLOW_OPEN ? 60 : 26);
    } else {
      // PACKET records (non-TCP) would need address rewriting inside the packet: not replicated.
      flowIdx[i] = -2;
    }
  }
  const keyText = await Deno.readTextFile(FIXTURES + name + ".keys").catch(() => "");
  const keyLines = keyText.split(/\r?\n/).map((l) => l.trim()).filter((l) =>
    l !== "" && !l.startsWith("#")
  );
  return {
    name,
    recs,
    relNs,
    flowIdx,
    flows: flows.size,
    durNs: relNs[relNs.length - 1],
    bytes,
    ipVersion,
    tlsFlows,
    keyLines,
  };
}

interface Copy {
  tpl: Template;
  origin: number;
  flowBase: number;
  startNs: number;
  clientIp: Uint8Array;
  serverIp: Uint8Array;
}

function clientAddr(n: number, v: 4 | 6): Uint8Array {
  if (v === 4) {
    // 10.a.b.c with c in 1..250: up to 16M distinct clients.
    return new Uint8Array([
      10,
      Math.floor(n / 62500) % 250,
      Math.floor(n / 250) % 250,
      (n % 250) + 1,
    ]);
  }
  const a = new Uint8Array(16);
  a.set([0xfd, 0x00, 0xbe, 0x0c]);
  new DataView(a.buffer).setUint32(12, n + 1);
  return a;
}

function serverAddr(f: number, v: 4 | 6): Uint8Array {
  if (v === 4) return new Uint8Array([198, 51, 100, 10 + f]);
  const a = new Uint8Array(16);
  a.set([0x20, 0x01, 0x0d, 0xb8]);
  a[15] = 10 + f;
  return a;
}

async function fileSig(path: string): Promise<string> {
  const st = await Deno.stat(path);
  return `${st.size}:${st.mtime?.getTime() ?? 0}`;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function stampFor(p: BucketParams): Promise<string> {
  const fixtures: Record<string, string> = {};
  for (const f of p.fixtures) {
    fixtures[f] = await fileSig(FIXTURES + f + ".pcap");
    fixtures[f + ".keys"] = await fileSig(FIXTURES + f + ".keys").catch(() => "none");
  }
  const src = await sha256Hex(await Deno.readFile(new URL(import.meta.url)));
  // version 2: keys objects and decryptable TLS copies.
  return JSON.stringify({ version: 2, params: p, fixtures, generator: src }, null, 2) + "\n";
}

async function dirBytes(dir: string): Promise<{ bytes: number; objects: number }> {
  let bytes = 0, objects = 0;
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      if (e.isDirectory) await walk(`${d}/${e.name}`);
      else if (e.isFile) {
        bytes += (await Deno.stat(`${d}/${e.name}`)).size;
        objects++;
      }
    }
  };
  await walk(dir);
  return { bytes, objects };
}

/** Free bytes on the filesystem holding `path` (df), or Infinity when df is not there. */
export async function freeBytes(path: string): Promise<number> {
  try {
    const out = await new Deno.Command("df", { args: ["-B1", "--output=avail", path] }).output();
    const n = Number(new TextDecoder().decode(out.stdout).trim().split("\n").pop());
    return Number.isFinite(n) ? n : Infinity;
  } catch {
    return Infinity;
  }
}

export async function makeBucket(
  params: BucketParams = DEFAULT_PARAMS,
  out: string = DEFAULT_OUT,
  opts: { force?: boolean; log?: (s: string) => void } = {},
): Promise<BucketInfo> {
  const log = opts.log ?? ((s: string) => console.error(s));
  const t0 = performance.now();
  const stampPath = out + ".stamp.json";
  const stamp = await stampFor(params);
  const old = await Deno.readTextFile(stampPath).catch(() => null);
  if (!opts.force && old !== null && old === stamp) {
    try {
      const info = JSON.parse(await Deno.readTextFile(out + ".info.json")) as BucketInfo;
      const { bytes, objects } = await dirBytes(out);
      const keylogOk = await Deno.stat(info.keylog).then(() => true, () => false);
      if (bytes === info.bytes && objects === info.objects && keylogOk) {
        log(`bucket: reusing ${out} (${(bytes / 1e6).toFixed(0)} MB, ${objects} objects)`);
        return { ...info, dir: out, reused: true, seconds: (performance.now() - t0) / 1000 };
      }
    } catch { /* remade below */ }
  }
  await Deno.remove(stampPath).catch(() => {});
  await Deno.remove(out + ".keys.log").catch(() => {});
  await Deno.remove(out, { recursive: true }).catch(() => {});
  await Deno.mkdir(out, { recursive: true });
  const need = params.sizeMb * 1e6 * 1.05 + 1e8;
  const free = await freeBytes(out);
  if (free < need) {
    throw new Error(
      `not enough disk space under ${out}: ${(free / 1e9).toFixed(1)} GB free, ` +
        `need ${(need / 1e9).toFixed(1)} GB for the bucket`,
    );
  }

  const tpls: Template[] = [];
  for (const f of params.fixtures) tpls.push(await loadTemplate(f));
  const rand = mulberry32(params.seed);
  const spanNs = params.spanSec * 1e9;
  const target = params.sizeMb * 1e6;
  const copies: Copy[] = [];
  const flowCount = params.origins.map(() => 0);
  let est = 0, g = 0, tlsFlows = 0;
  while (est < target) {
    for (let f = 0; f < tpls.length && est < target; f++) {
      const tpl = tpls[f];
      const origin = g % params.origins.length;
      copies.push({
        tpl,
        origin,
        flowBase: flowCount[origin] + 1,
        startNs: Math.floor(rand() * Math.max(0, spanNs - tpl.durNs)),
        clientIp: clientAddr(g, tpl.ipVersion),
        serverIp: serverAddr(f, tpl.ipVersion),
      });
      flowCount[origin] += tpl.flows;
      tlsFlows += tpl.tlsFlows;
      est += tpl.bytes;
      g++;
    }
  }

  // Every (copy, record) event, in time order.
  let n = 0;
  for (const c of copies) n += c.tpl.recs.length;
  const evTime = new Float64Array(n);
  const evCopy = new Uint32Array(n);
  const evRec = new Uint32Array(n);
  let k = 0;
  for (let ci = 0; ci < copies.length; ci++) {
    const c = copies[ci];
    for (let i = 0; i < c.tpl.recs.length; i++) {
      if (c.tpl.flowIdx[i] < 0) continue;
      evTime[k] = c.startNs + c.tpl.relNs[i];
      evCopy[k] = ci;
      evRec[k] = i;
      k++;
    }
  }
  n = k;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => evTime[a] - evTime[b] || a - b);

  const baseSec = Math.floor(params.baseMs / 1000);
  const baseNsec = (params.baseMs % 1000) * 1e6;
  const windowMs = Math.round(params.windowSec * 1000);
  const objectBytes = params.objectMb * 1e6;
  interface Open {
    enc: CtapEncoder;
    window: number;
    startMs: number;
    seq: number;
  }
  const open = new Map<number, Open>();
  const seqs = new Map<number, number>();
  const dirs = new Set<string>();
  let bytes = 0, objects = 0, records = 0, payloadBytes = 0;
  const writerName = (w: number) => `w${w}`;
  const close = (slot: number, o: Open) => {
    const origin = params.origins[Math.floor(slot / params.writers)];
    const w = slot % params.writers;
    const endMs = (o.window + 1) * windowMs;
    const key = formatObjectKey({
      kind: "data",
      origin,
      startMs: o.startMs,
      endMs,
      writer: writerName(w),
      seq: o.seq,
    });
    const body = o.enc.finish();
    const path = `${out}/${key}`;
    const d = path.slice(0, path.lastIndexOf("/"));
    if (!dirs.has(d)) {
      Deno.mkdirSync(d, { recursive: true });
      dirs.add(d);
    }
    Deno.writeFileSync(path, body);
    bytes += body.length;
    objects++;
  };

  for (let j = 0; j < n; j++) {
    const e = order[j];
    const c = copies[evCopy[e]];
    const r = c.tpl.recs[evRec[e]];
    const tNs = evTime[e];
    let nsec = baseNsec + (tNs % 1e9);
    let sec = baseSec + Math.floor(tNs / 1e9);
    if (nsec >= 1e9) {
      nsec -= 1e9;
      sec++;
    }
    const ms = sec * 1000 + Math.floor(nsec / 1e6);
    const flow = c.flowBase + c.tpl.flowIdx[evRec[e]];
    const dir = r.type === REC_FLOW_OPEN ? 0 : (r as { dir: 0 | 1 }).dir;
    const slot = c.origin * params.writers + (flow + dir) % params.writers;
    const window = Math.floor(ms / windowMs);
    let o = open.get(slot);
    // Rolled for size inside its window: the next object starts at this record.
    let sMs = window * windowMs;
    if (o !== undefined && (window > o.window || o.enc.size >= objectBytes)) {
      if (window === o.window) sMs = ms;
      close(slot, o);
      o = undefined;
    }
    if (o === undefined) {
      const seq = seqs.get(slot) ?? 0;
      seqs.set(slot, seq + 1);
      const endMs = (window + 1) * windowMs;
      o = {
        enc: new CtapEncoder({
          origin: params.origins[c.origin],
          writer: writerName(slot % params.writers),
          startSec: Math.floor(sMs / 1000),
          startNsec: (sMs % 1000) * 1e6,
          endSec: Math.floor(endMs / 1000),
          endNsec: (endMs % 1000) * 1e6,
        }, objectBytes + 128 * 1024),
        window,
        startMs: sMs,
        seq,
      };
      open.set(slot, o);
    }
    records++;
    if (r.type === REC_DATA) {
      o.enc.data({ flow, sec, nsec, dir: r.dir, offset: r.offset, payload: r.payload });
      payloadBytes += r.payload.length;
    } else if (r.type === REC_FLOW_OPEN) {
      o.enc.flowOpen({
        ...r,
        flow,
        sec,
        nsec,
        clientIp: c.clientIp,
        serverIp: c.serverIp,
        user: `user${evCopy[e] % 1000}@bench.example`,
        site: "bench",
      });
    } else if (r.type === REC_FLOW_CLOSE) {
      o.enc.flowClose({ flow, sec, nsec, dir: r.dir, kind: r.kind, finalOffset: r.finalOffset });
    }
  }
  for (const [slot, o] of open) close(slot, o);

  // One keys object per origin at the bucket's first possible time: before
  // every data object, so it is in the store before any flow needs it.
  const keyLines = [...new Set(tpls.flatMap((t) => t.keyLines))];
  const keyBody = new TextEncoder().encode(keyLines.map((l) => l + "\n").join(""));
  let keyObjects = 0;
  if (keyLines.length > 0) {
    for (const origin of params.origins) {
      const key = formatObjectKey({
        kind: "keys",
        origin,
        startMs: params.baseMs,
        endMs: params.baseMs + 1000,
        writer: "k0",
        seq: 0,
      });
      const path = `${out}/${key}`;
      Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      Deno.writeFileSync(path, keyBody);
      bytes += keyBody.length;
      objects++;
      keyObjects++;
    }
  }
  const keylog = out + ".keys.log";
  await Deno.writeFile(keylog, keyBody);

  let flows = 0;
  for (const f of flowCount) flows += f;
  const info: BucketInfo = {
    dir: out,
    reused: false,
    bytes,
    objects,
    keyObjects,
    keyLines: keyLines.length,
    keylog,
    flows,
    tlsFlows,
    copies: copies.length,
    records,
    payloadBytes,
    seconds: (performance.now() - t0) / 1000,
  };
  await Deno.writeTextFile(out + ".info.json", JSON.stringify(info, null, 2) + "\n");
  await Deno.writeTextFile(stampPath, stamp);
  log(
    `bucket: wrote ${out}: ${(bytes / 1e6).toFixed(0)} MB in ${objects} objects, ` +
      `${copies.length} fixture copies, ${flows} flows (${tlsFlows} TLS), ${records} records, ` +
      `${keyObjects} keys objects of ${keyLines.length} lines ` +
      `in ${info.seconds.toFixed(1)} s`,
  );
  return info;
}

function parseArgs(args: string[]): { params: BucketParams; out: string; force: boolean } {
  const params: BucketParams = { ...DEFAULT_PARAMS };
  let out = DEFAULT_OUT, force = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const val = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const num = () => {
      const v = Number(val());
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${a}: not a positive number`);
      return v;
    };
    if (a === "--size-mb") params.sizeMb = num();
    else if (a === "--writers") params.writers = Math.round(num());
    else if (a === "--window-s") params.windowSec = num();
    else if (a === "--object-mb") params.objectMb = num();
    else if (a === "--span-s") params.spanSec = num();
    else if (a === "--seed") params.seed = Math.round(num());
    else if (a === "--fixtures") params.fixtures = val().split(",");
    else if (a === "--out") out = val();
    else if (a === "--force") force = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return { params, out, force };
}

export { parseArgs as parseBucketArgs };

if (import.meta.main) {
  const { params, out, force } = parseArgs(Deno.args);
  const info = await makeBucket(params, out, { force });
  console.log(JSON.stringify(info));
}
