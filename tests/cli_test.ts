/**
 * The command line of the compiled binary: `--help` and `pack --help` list
 * every flag under its group; wrong or conflicting flags end the run with
 * exactly one stderr line naming the flag and exit code 2, before any
 * output file is touched; `--version`; `-e -` writes a pcap to stdout that
 * tshark reads as the capture it came from.
 */
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { ensureBinary, ROOT, runBin } from "./lib/bin.ts";
import { hasTool, malformedCount, tcpStreams } from "./lib/oracle.ts";
import { type FlagDef, PACK_FLAGS, STITCH_FLAGS } from "../core/run/cli.ts";
import { plugin as pcapPlugin } from "../plugins/exporters/pcap/mod.ts";

const PCAP = `${ROOT}/tests/fixtures/captures/http_plain_v4.pcap`;

/** `--help` output split into its groups: header line (without ":") → flag lines. */
function helpSections(text: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let cur: string[] | null = null;
  for (const line of text.split("\n")) {
    if (/^\S.*:$/.test(line)) {
      cur = [];
      sections.set(line.slice(0, -1), cur);
    } else if (line.trim() === "") {
      cur = null;
    } else if (cur !== null) {
      cur.push(line);
    }
  }
  return sections;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Asserts `flag` is listed in the section `group` (or the one whose header starts with it). */
function assertListed(
  sections: Map<string, string[]>,
  group: string,
  flag: Pick<FlagDef, "name" | "short" | "type" | "valueName">,
  exactGroup = true,
): void {
  const header = [...sections.keys()].find((h) => exactGroup ? h === group : h.startsWith(group));
  assert(header !== undefined, `no group '${group}' in --help; groups: ${[...sections.keys()]}`);
  const names = (flag.short ? `-${flag.short}, ` : "") + `--${flag.name}`;
  const value = flag.type === "string" ? ` ${escapeRe(flag.valueName ?? "VALUE")}` : "";
  const re = new RegExp(`^\\s+${escapeRe(names)}${value}(\\s|$)`);
  assert(
    sections.get(header)!.some((l) => re.test(l)),
    `--${flag.name} not listed under '${header}':\n${sections.get(header)!.join("\n")}`,
  );
  // and only there
  let count = 0;
  for (const lines of sections.values()) {
    count += lines.filter((l) => new RegExp(`--${escapeRe(flag.name)}(\\s|$)`).test(l)).length;
  }
  assertEquals(count, 1, `--${flag.name} listed once`);
}

Deno.test("stitcher --help lists every flag under its group, with the pcap exporter's", async () => {
  const r = await runBin(["--help"]);
  assertEquals(r.code, 0, r.stderr);
  assertEquals(r.stderr, "");
  const text = new TextDecoder().decode(r.stdout);
  assertMatch(text, /^Usage: stitcher /);
  const sections = helpSections(text);
  for (const f of STITCH_FLAGS) assertListed(sections, f.group, f);
  const exp = pcapPlugin.flags.find((f) => f.name === "export");
  assert(exp !== undefined && exp.short === "e");
  for (const f of pcapPlugin.flags) assertListed(sections, "Exporter 'pcap'", f, false);
  assert(/^\s+-e, --export FILE\s/m.test(text), "-e, --export FILE");
  // every line fits a terminal's worth of help: no flag without its help text
  for (const lines of sections.values()) {
    for (const l of lines) assertMatch(l, /^\s+(-\w, )?--[\w-]+( \S+)?\s{2,}\S/);
  }
});

Deno.test("stitcher -h is --help", async () => {
  const a = await runBin(["-h"]);
  const b = await runBin(["--help"]);
  assertEquals(a.code, 0);
  assertEquals(new TextDecoder().decode(a.stdout), new TextDecoder().decode(b.stdout));
});

Deno.test("stitcher pack --help lists every pack flag under its group", async () => {
  const r = await runBin(["pack", "--help"]);
  assertEquals(r.code, 0, r.stderr);
  assertEquals(r.stderr, "");
  const text = new TextDecoder().decode(r.stdout);
  assertMatch(text, /^Usage: stitcher pack /);
  const sections = helpSections(text);
  for (const f of PACK_FLAGS) assertListed(sections, f.group, f);
  assert(!/--export/.test(text), "pack has no exporter flags");
});

Deno.test("stitcher --version prints the version on stdout and exits 0", async () => {
  const r = await runBin(["--version"]);
  assertEquals(r.code, 0, r.stderr);
  assertEquals(r.stderr, "");
  assertMatch(new TextDecoder().decode(r.stdout), /^stitcher \d+\.\d+\.\d+\S*\n$/);
});

// ------------------------------------------------------------ wrong flags

interface Env {
  dir: string;
  bucket: string;
  out: string;
}

async function withEnv(fn: (e: Env) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "stitcher_cli_" });
  try {
    const bucket = `${dir}/bucket`;
    await Deno.mkdir(`${bucket}/data`, { recursive: true });
    await fn({ dir, bucket, out: `${dir}/out.pcap` });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const SENTINEL = new TextEncoder().encode("do not touch\n");

/**
 * Runs `args(env)`; expects exit 2, nothing on stdout, and exactly one stderr
 * line that matches `flag` (a flag name, e.g. "--mtu"). A pre-existing `-e`
 * output file must be left as it was.
 */
async function assertUsageError(
  args: (e: Env) => string[],
  flag: string | RegExp,
): Promise<void> {
  await withEnv(async (e) => {
    await Deno.writeFile(e.out, SENTINEL);
    const a = args(e);
    const r = await runBin(a);
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    assertEquals(r.code, 2, `exit code for ${a.join(" ")}; stderr:\n${r.stderr}`);
    assertEquals(lines.length, 1, `one stderr line for ${a.join(" ")}; got:\n${r.stderr}`);
    assert(r.stderr.endsWith("\n"), "the line ends with a newline");
    const re = typeof flag === "string"
      ? new RegExp(`(^|[^\\w-])${escapeRe(flag)}(?![\\w-])`)
      : flag;
    assertMatch(lines[0], re, `names ${flag}`);
    assertMatch(lines[0], /^stitcher: /);
    assertEquals(r.stdout.length, 0, "nothing on stdout");
    assertEquals(await Deno.readFile(e.out), SENTINEL, "the output file is untouched");
  });
}

const base = (e: Env) => ["--provider", "file", "-b", e.bucket, "-e", e.out];
const packBase = (e: Env) => [
  "pack",
  "--pcap",
  PCAP,
  "--origin",
  "X",
  "--provider",
  "file",
  "-b",
  `${e.dir}/packed`,
];

Deno.test("wrong flags: an unknown flag", async () => {
  await assertUsageError((e) => [...base(e), "--no-such-flag"], "--no-such-flag");
  await assertUsageError((e) => [...base(e), "-x"], "-x");
  await assertUsageError((e) => ["pack", ...packBase(e).slice(1), "--export", e.out], "--export");
});

Deno.test("wrong flags: a stray argument", async () => {
  await assertUsageError((e) => [...base(e), "extra"], "'extra'");
});

Deno.test("wrong flags: a missing value", async () => {
  await assertUsageError((e) => [...base(e), "--report"], "--report");
  await assertUsageError((e) => ["--provider", "file", "-b", e.bucket, "-e"], /--export|-e\b/);
});

Deno.test("wrong flags: a value given to a boolean flag", async () => {
  await assertUsageError((e) => [...base(e), "--strict=yes"], "--strict");
});

Deno.test("wrong flags: --mtu abc", async () => {
  await assertUsageError((e) => [...base(e), "--mtu", "abc"], "--mtu");
  await assertUsageError((e) => [...base(e), "--mtu="], "--mtu");
  await assertUsageError((e) => [...base(e), "--mtu", "1500.5"], "--mtu");
});

Deno.test("wrong flags: --mtu 100 (below the minimum)", async () => {
  await assertUsageError((e) => [...base(e), "--mtu", "100"], "--mtu");
  await assertUsageError((e) => [...base(e), "--mtu", "70000"], "--mtu");
});

Deno.test("wrong flags: --end-ts before --start-ts", async () => {
  await assertUsageError(
    (e) => [...base(e), "--start-ts", "1700000100", "--end-ts", "1700000000"],
    "--end-ts",
  );
  await assertUsageError(
    (e) => [...base(e), "--start-ts", "1700000000", "--end-ts", "1700000000"],
    "--end-ts",
  );
  await assertUsageError((e) => [...base(e), "--start-ts", "yesterday"], "--start-ts");
  await assertUsageError((e) => [...base(e), "--start-ts", "-5"], "--start-ts");
});

Deno.test("wrong flags: missing --provider", async () => {
  await assertUsageError((e) => ["-b", e.bucket, "-e", e.out], "--provider");
});

Deno.test("wrong flags: --provider nosuch", async () => {
  await assertUsageError(
    (e) => ["--provider", "nosuch", "-b", e.bucket, "-e", e.out],
    "--provider",
  );
});

Deno.test("wrong flags: missing -b", async () => {
  await assertUsageError((e) => ["--provider", "file", "-e", e.out], /-b\b|--bucket/);
  await assertUsageError((e) => ["--provider", "file", "-b", "", "-e", e.out], /-b\b|--bucket/);
});

Deno.test("wrong flags: no exporter", async () => {
  await assertUsageError((e) => ["--provider", "file", "-b", e.bucket], /-e\b|--export/);
});

Deno.test("wrong flags: pack without --pcap", async () => {
  await assertUsageError(
    (e) => ["pack", "--origin", "X", "--provider", "file", "-b", `${e.dir}/packed`],
    "--pcap",
  );
});

Deno.test("wrong flags: pack with a --pcap that cannot be read, or a bad --origin", async () => {
  await assertUsageError(
    (e) => ["pack", "--pcap", `${e.dir}/none.pcap`, ...packBase(e).slice(3)],
    "--pcap",
  );
  await assertUsageError(
    (e) => [...packBase(e).slice(0, 3), "--origin", "a b", ...packBase(e).slice(5)],
    "--origin",
  );
  await assertUsageError((e) => [...packBase(e).slice(0, 3), ...packBase(e).slice(5)], "--origin");
  await assertUsageError((e) => [...packBase(e), "--window", "0"], "--window");
});

Deno.test("wrong flags: pack --split-directions with --writers 1", async () => {
  await assertUsageError(
    (e) => [...packBase(e), "--split-directions", "--writers", "1"],
    "--split-directions",
  );
  await assertUsageError((e) => [...packBase(e), "--split-directions"], "--split-directions");
  // nothing was packed
  await withEnv(async (e) => {
    await runBin([...packBase(e), "--split-directions"]);
    let exists = true;
    await Deno.stat(`${e.dir}/packed`).catch(() => (exists = false));
    assert(!exists, "no bucket folder written");
  });
});

Deno.test("wrong flags: a flag given twice", async () => {
  await assertUsageError((e) => [...base(e), "--mtu", "1500", "--mtu", "9000"], "--mtu");
  await assertUsageError((e) => [...base(e), "--bucket", e.bucket], /--bucket|-b\b/);
  await assertUsageError((e) => [...base(e), "--export", `${e.dir}/other.pcap`], /--export|-e\b/);
  await assertUsageError((e) => [...base(e), "--strict", "--strict"], "--strict");
});

Deno.test("wrong flags: a bad --origin-filter", async () => {
  await assertUsageError((e) => [...base(e), "--origin-filter", "US NYC"], "--origin-filter");
  await assertUsageError((e) => [...base(e), "--origin-filter", ""], "--origin-filter");
  await assertUsageError((e) => [...base(e), "--origin-filter", "a/b"], "--origin-filter");
});

Deno.test("wrong flags: a bad --log-format", async () => {
  await assertUsageError((e) => [...base(e), "--log-format", "xml"], "--log-format");
});

Deno.test("wrong flags: a --metrics-listen that is not HOST:PORT", async () => {
  for (const v of ["9090", ":9090", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "::1:9090"]) {
    await assertUsageError((e) => [...base(e), "--metrics-listen", v], "--metrics-listen");
  }
  await assertUsageError(
    (e) => [...base(e), "--metrics-listen", "host name:80"],
    "--metrics-listen",
  );
  await assertUsageError((e) => [...base(e), "--metrics-listen"], "--metrics-listen");
});

Deno.test("flags: --origin-filter may be repeated", async () => {
  await withEnv(async (e) => {
    const r = await runBin([...base(e), "--origin-filter", "US-*", "--origin-filter", "EU-*"]);
    assertEquals(r.code, 0, r.stderr);
  });
});

/**
 * A value-taking flag followed by another flag has no value: `-b --strict`
 * must not stitch a bucket folder named "--strict". (`-e -`, a lone dash,
 * is a value.)
 */
Deno.test("wrong flags: a flag where a value should be", async () => {
  await assertUsageError(
    (e) => ["--provider", "file", "-b", "--strict", "-e", e.out],
    /-b\b|--bucket/,
  );
  await assertUsageError((e) => [...base(e), "--report", "--strict"], "--report");
});

/**
 * A `-b` folder that does not exist is a mistake in the command line (a
 * typo), not an empty bucket: the run must not succeed with an empty pcap.
 */
Deno.test("wrong flags: a -b folder that does not exist", async () => {
  await withEnv(async (e) => {
    const missing = `${e.dir}/no-such-bucket`;
    const r = await runBin(["--provider", "file", "-b", missing, "-e", e.out]);
    assert(r.code !== 0, `exit ${r.code} for a missing bucket folder; stderr:\n${r.stderr}`);
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    assertEquals(lines.length, 1, r.stderr);
    assert(lines[0].includes(missing), `names the folder: ${lines[0]}`);
  });
});

// ------------------------------------------------------------ -e -

Deno.test({
  name: "stitcher -e - streams a pcap to stdout that tshark reads",
  ignore: !hasTool("tshark"),
  sanitizeResources: false,
  async fn() {
    await withEnv(async (e) => {
      const p = await runBin([
        "pack",
        "--pcap",
        PCAP,
        "--origin",
        "US-NYC1",
        "--provider",
        "file",
        "-b",
        e.bucket,
      ]);
      assertEquals(p.code, 0, p.stderr);
      const r = await runBin(["--provider", "file", "-b", e.bucket, "-e", "-"]);
      assertEquals(r.code, 0, r.stderr);
      const dv = new DataView(r.stdout.buffer, r.stdout.byteOffset, r.stdout.byteLength);
      assert(r.stdout.length > 24, "a pcap header and packets");
      assertEquals(dv.getUint32(0, true), 0xa1b2c3d4, "pcap magic (microseconds)");
      assertEquals(dv.getUint32(20, true), 1, "link type Ethernet");
      const saved = `${e.dir}/stdout.pcap`;
      await Deno.writeFile(saved, r.stdout);

      // the same bytes as -e FILE
      const f = await runBin(["--provider", "file", "-b", e.bucket, "-e", e.out]);
      assertEquals(f.code, 0, f.stderr);
      const file = await Deno.readFile(e.out);
      assertEquals(r.stdout.length, file.length, "-e - and -e FILE write the same length");
      assert(r.stdout.every((b, i) => b === file[i]), "-e - and -e FILE write the same bytes");

      assertEquals(await malformedCount(saved), 0);
      const want = await tcpStreams(PCAP);
      const got = await tcpStreams(saved);
      assertEquals([...got.keys()].sort(), [...want.keys()].sort());
      for (const [k, w] of want) {
        const g = got.get(k)!;
        assertEquals(g.client.length, w.client.length, `${k} client length`);
        assertEquals(g.server.length, w.server.length, `${k} server length`);
        assert(g.client.every((b, i) => b === w.client[i]), `${k} client bytes`);
        assert(g.server.every((b, i) => b === w.server[i]), `${k} server bytes`);
      }
    });
  },
});

Deno.test({
  name: "stitcher -e - writes logs to stderr only, even with --log-format json",
  ignore: !hasTool("tshark"),
  async fn() {
    await withEnv(async (e) => {
      const r = await runBin([
        "--provider",
        "file",
        "-b",
        e.bucket,
        "-e",
        "-",
        "--log-format",
        "json",
      ]);
      assertEquals(r.code, 0, r.stderr);
      // an empty bucket: just the pcap header
      assertEquals(r.stdout.length, 24);
      const saved = `${e.dir}/empty.pcap`;
      await Deno.writeFile(saved, r.stdout);
      assertEquals(await malformedCount(saved), 0);
    });
  },
});

/**
 * The binary re-executes itself once with MIMALLOC_PURGE_DELAY=-1 (main.ts,
 * `tuneAllocator`): seen from outside while it waits to read its --keylog
 * from a FIFO, it is the same process with the setting in its environment
 * and its own name as argv[0]; a value the user set is kept.
 */
async function environOfBlockedRun(env: Record<string, string>) {
  const bin = await ensureBinary();
  const dir = await Deno.makeTempDir({ prefix: "stitcher-env-" });
  const fifo = `${dir}/keys.fifo`;
  try {
    const mk = await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assertEquals(mk.code, 0, "mkfifo");
    const args = ["--provider", "file", "-b", `${ROOT}/examples/bucket`, "-e", `${dir}/out.pcap`];
    const child = new Deno.Command(bin, {
      args: [...args, "--with-decrypted", "--keylog", fifo],
      env,
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let environ = "";
    let cmdline: string[] = [];
    // The re-executed process opens the FIFO and waits for a writer.
    for (let i = 0; i < 200 && !environ.includes("MIMALLOC_PURGE_DELAY="); i++) {
      await new Promise((r) => setTimeout(r, 25));
      environ = await Deno.readTextFile(`/proc/${child.pid}/environ`).catch(() => "");
      cmdline = (await Deno.readTextFile(`/proc/${child.pid}/cmdline`).catch(() => ""))
        .split("\0");
    }
    const writer = await Deno.open(fifo, { write: true });
    writer.close();
    const out = await child.output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    return { vars: environ.split("\0"), cmdline };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the binary runs with MIMALLOC_PURGE_DELAY=-1, as the same process under its own name", async () => {
  const { vars, cmdline } = await environOfBlockedRun({});
  assert(vars.includes("MIMALLOC_PURGE_DELAY=-1"), vars.join(" "));
  assertEquals(cmdline[0], await ensureBinary());
  assertEquals(cmdline.slice(1, 3), ["--provider", "file"]);
});

Deno.test("a MIMALLOC_PURGE_DELAY the user set is kept", async () => {
  const { vars } = await environOfBlockedRun({ MIMALLOC_PURGE_DELAY: "25" });
  assert(vars.includes("MIMALLOC_PURGE_DELAY=25"), vars.join(" "));
  assert(!vars.includes("MIMALLOC_PURGE_DELAY=-1"));
});
