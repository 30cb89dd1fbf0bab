/**
 * The `file` provider: a local folder laid out as a bucket. Keys are paths
 * relative to the folder with "/" separators. Listing walks folders in key
 * order; `open` streams the file in chunks of up to 4 MiB. Also a `Sink`, so that
 * `stitcher pack` can write a bucket folder (atomically: temp file + rename).
 */
import { mkdir, open, readdir, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import process from "node:process";
import { Buffer } from "node:buffer";
import { type ObjectInfo, type Sink, type Source, SourceError } from "../../../core/plugin.ts";

const CHUNK = 4 << 20;
const PROBE = 64 << 10;

export class FileSource implements Source, Sink {
  constructor(readonly root: string) {}

  async *list(
    prefix: string,
    opts: { startAfter?: string; signal?: AbortSignal } = {},
  ): AsyncIterable<ObjectInfo> {
    const slash = prefix.lastIndexOf("/");
    const dir = slash < 0 ? "" : prefix.slice(0, slash + 1);
    for await (const info of this.walk(dir)) {
      if (!info.key.startsWith(prefix)) continue;
      if (opts.startAfter !== undefined && info.key <= opts.startAfter) continue;
      opts.signal?.throwIfAborted();
      yield info;
    }
  }

  async *listFolders(prefix: string): AsyncIterable<string> {
    const entries = await this.readDir(prefix);
    for (const e of entries) if (e.isDirectory()) yield `${prefix}${e.name}/`;
  }

  open(
    key: string,
    opts: { signal?: AbortSignal; start?: number } = {},
  ): Promise<ReadableStream<Uint8Array>> {
    return openFileStream(
      this.path(key),
      opts.signal,
      `${key} in bucket folder ${this.root}`,
      opts.start,
    );
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, path);
  }

  private path(key: string): string {
    if (key.split("/").includes("..")) {
      throw new Error(`Object key ${key} escapes the bucket folder`);
    }
    return join(this.root, key);
  }

  private async readDir(dir: string) {
    try {
      const entries = await readdir(join(this.root, dir), { withFileTypes: true });
      return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") return [];
      throw e;
    }
  }

  /** Every file under `dir` (a key prefix ending in "/" or ""), in key order. */
  private async *walk(dir: string): AsyncIterable<ObjectInfo> {
    const entries = await this.readDir(dir);
    // Key order: "a/" sorts as "a" + "/", so compare names with the slash added.
    const named = entries.map((e) => ({ e, k: e.isDirectory() ? `${e.name}/` : e.name }));
    named.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
    for (const { e, k } of named) {
      if (e.isDirectory()) {
        yield* this.walk(dir + k);
      } else if (e.isFile() && !e.name.endsWith(".tmp")) {
        const s = await stat(join(this.root, dir, e.name));
        yield { key: dir + e.name, size: s.size, mtimeMs: s.mtimeMs };
      }
    }
  }
}

/**
 * A buffer of `n` bytes that is not zeroed first (every byte is read into
 * before it is used): zeroing each object's buffer was ~2% of a pass-through.
 * A plain `Uint8Array` view, so that `slice` copies as everywhere else.
 */
function uninitialized(n: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

/** Streams a local file in chunks of up to 4 MiB, from byte `start` on. */
export async function openFileStream(
  path: string,
  signal?: AbortSignal,
  name = path,
  start = 0,
): Promise<ReadableStream<Uint8Array>> {
  const fh = await open(path, "r").catch((e) => {
    const code = (e as { code?: string }).code;
    throw new SourceError(
      `Cannot open ${name}: ${(e as Error).message}`,
      code === "ENOENT" ? "not_found" : code === "EACCES" ? "auth" : "other",
      false,
      { cause: e },
    );
  });
  let position = start;
  // Chunks are sized to what is left (up to CHUNK): a small object is one
  // read into one buffer of its size, as decoded records keep views into it.
  let size = await fh.stat().then((st) => st.size, () => Infinity);
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        signal?.throwIfAborted();
        const left = size - position;
        // At the stated end, a small read confirms it (or finds the file grew).
        const want = left > 0 ? Math.min(CHUNK, left) : PROBE;
        const buf = uninitialized(want);
        const { bytesRead } = await fh.read(buf, 0, want, position);
        if (left <= 0 && bytesRead > 0) size = Infinity;
        position += bytesRead;
        if (bytesRead === 0) {
          await fh.close();
          ctrl.close();
        } else {
          ctrl.enqueue(bytesRead === want ? buf : buf.subarray(0, bytesRead));
        }
      } catch (e) {
        await fh.close().catch(() => {});
        throw e;
      }
    },
    async cancel() {
      await fh.close();
    },
  });
}
