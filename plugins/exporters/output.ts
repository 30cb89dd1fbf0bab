/**
 * Byte outputs for file exporters: a file (created or truncated) or stdout
 * for "-". Writes arrive in large buffers from the exporters, so each is one
 * or a few syscalls. Handed to plugins through `PluginContext.openOutput`.
 */
import { open } from "node:fs/promises";
import { write } from "node:fs";
import type { OutputStream } from "../../core/plugin.ts";

export async function openOutput(path: string): Promise<OutputStream> {
  if (path === "-") return stdoutStream();
  const fh = await open(path, "w").catch((e) => {
    throw new Error(`Cannot open output file ${path}: ${(e as Error).message}`);
  });
  let position = 0;
  return {
    async write(bytes: Uint8Array) {
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, position);
        done += bytesWritten;
        position += bytesWritten;
      }
    },
    async close() {
      await fh.close();
    },
  };
}

/**
 * Standard output, written off the event loop: when the reader is slow, the
 * run waits on its write while timers and the `--metrics-listen` server go
 * on (a synchronous write to a full blocking pipe stops the whole process,
 * and `node:fs` write and `process.stdout` in Deno write synchronously, so
 * Deno uses `Deno.stdout`). EAGAIN (a non-blocking pipe that is full) is
 * waited out.
 */
function stdoutStream(): OutputStream {
  const writeSome = "Deno" in globalThis
    ? (b: Uint8Array) => Deno.stdout.write(b)
    : (b: Uint8Array) =>
      new Promise<number>((resolve, reject) =>
        write(1, b, 0, b.length, (e, n) => e ? reject(e) : resolve(n))
      );
  return {
    async write(bytes: Uint8Array) {
      let done = 0;
      while (done < bytes.length) {
        try {
          done += await writeSome(done === 0 ? bytes : bytes.subarray(done));
        } catch (e) {
          const { code, name } = e as { code?: string; name?: string };
          if (code === "EAGAIN" || name === "WouldBlock") {
            await new Promise((r) => setTimeout(r, 1));
            continue;
          }
          if (code === "EPIPE" || name === "BrokenPipe") {
            throw new Error("stdout was closed by the reader (EPIPE)");
          }
          throw e;
        }
      }
    },
    close() {
      return Promise.resolve();
    },
  };
}
