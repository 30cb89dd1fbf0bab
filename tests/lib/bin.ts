/**
 * Test helper: the compiled binary `dist/stitcher`, built on demand and run
 * as a child process (Deno only; uses Deno.Command).
 *
 * `ensureBinary()` builds the binary once per test process when it is
 * missing, or older than any source file (main.ts, core/, plugins/,
 * package.json), so tests never run a stale build. `deno test --parallel`
 * runs test files in several processes: a lock directory (`mkdir` is atomic)
 * makes sure only one of them builds at a time; the others wait for it and
 * then see a fresh binary. The build goes to a temporary file that is
 * renamed over `dist/stitcher` (atomic), so a process that is running the
 * old binary keeps its inode. `STITCHER_BIN=/path` uses another binary and
 * never builds.
 */

export const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
export const BIN = Deno.env.get("STITCHER_BIN") ?? `${ROOT}/dist/stitcher`;
const LOCK = `${ROOT}/dist/.build-lock`;
/** A lock older than this is left over from a killed build and is broken. */
const STALE_LOCK_MS = 180_000;
const BUILD_TIMEOUT_MS = 180_000;

export interface RunResult {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

export interface RunOpts {
  /** Kill the process after this long and throw (default 60 s). */
  timeoutMs?: number;
  cwd?: string;
  env?: Record<string, string>;
  /** Bytes written to the child's stdin (stdin is /dev/null otherwise). */
  stdin?: Uint8Array;
}

let ready: Promise<string> | null = null;

/** Path of a binary that is at least as new as the sources; builds it at most once per process. */
export function ensureBinary(): Promise<string> {
  ready ??= build().catch((e) => {
    ready = null;
    throw e;
  });
  return ready;
}

async function mtimeMs(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).mtime?.getTime() ?? 0;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return -1;
    throw e;
  }
}

/** The newest modification time among the files the binary is built from. */
async function newestSource(): Promise<number> {
  let newest = 0;
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
        newest = Math.max(newest, await mtimeMs(p));
      }
    }
  };
  for (const d of ["core", "plugins"]) {
    try {
      await walk(`${ROOT}/${d}`);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  for (const f of ["main.ts", "package.json", "compile.sh"]) {
    newest = Math.max(newest, await mtimeMs(`${ROOT}/${f}`));
  }
  return newest;
}

async function fresh(): Promise<boolean> {
  const bin = await mtimeMs(BIN);
  return bin >= 0 && bin >= await newestSource();
}

async function build(): Promise<string> {
  if (Deno.env.get("STITCHER_BIN")) return BIN;
  if (await fresh()) return BIN;
  await Deno.mkdir(`${ROOT}/dist`, { recursive: true });
  const deadline = Date.now() + BUILD_TIMEOUT_MS + 30_000;
  for (;;) {
    try {
      await Deno.mkdir(LOCK);
      break;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    const age = Date.now() - await mtimeMs(LOCK);
    if (age > STALE_LOCK_MS) {
      await Deno.remove(LOCK, { recursive: true }).catch(() => {});
      continue;
    }
    if (Date.now() > deadline) throw new Error(`waited too long for the build lock ${LOCK}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  try {
    if (await fresh()) return BIN; // another process built it while we waited
    const tmp = `${ROOT}/dist/.stitcher.${Deno.pid}.tmp`;
    const out = await new Deno.Command(`${ROOT}/compile.sh`, {
      args: [`--out=${tmp}`],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      stdin: "null",
      signal: AbortSignal.timeout(BUILD_TIMEOUT_MS),
    }).output();
    if (!out.success) {
      await Deno.remove(tmp).catch(() => {});
      throw new Error(
        `./compile.sh failed (${out.code}): ${new TextDecoder().decode(out.stderr)}${
          new TextDecoder().decode(out.stdout)
        }`,
      );
    }
    await Deno.rename(tmp, BIN);
    return BIN;
  } finally {
    await Deno.remove(LOCK, { recursive: true }).catch(() => {});
  }
}

/** Runs the binary with `args`; throws when it does not end within the timeout. */
export async function runBin(args: string[], opts: RunOpts = {}): Promise<RunResult> {
  const bin = await ensureBinary();
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const child = new Deno.Command(bin, {
    args,
    cwd: opts.cwd,
    env: opts.env,
    stdin: opts.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, timeoutMs);
  try {
    if (opts.stdin) {
      const w = child.stdin.getWriter();
      await w.write(opts.stdin).catch(() => {});
      await w.close().catch(() => {});
    }
    const out = await child.output();
    if (timedOut) {
      throw new Error(`stitcher ${args.join(" ")} timed out after ${timeoutMs} ms`);
    }
    return {
      code: out.code,
      stdout: out.stdout,
      stderr: new TextDecoder().decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `script` (TypeScript, from the project root) in a Bun child, for code
 * that only runs under Bun (bun:ffi, Bun.CryptoHasher), and returns the JSON
 * it printed on stdout, with its stderr for assertion messages. Throws with
 * that stderr when the child fails.
 */
export async function runBunScript<T>(script: string): Promise<{ result: T; stderr: string }> {
  const out = await new Deno.Command(`${ROOT}/node_modules/.bin/bun`, {
    args: ["-e", script],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`bun -e exited with ${out.code}: ${stderr}`);
  return { result: JSON.parse(new TextDecoder().decode(out.stdout)) as T, stderr };
}
