/**
 * Byte outputs for file exporters: a file (created or truncated) or stdout
 * for "-". Writes arrive in large buffers from the exporters, so each is one
 * or a few syscalls. Handed to plugins through `PluginContext.openOutput`.
 */
import { open } from "node:fs/promises";
import { writeSync } from "node:fs";
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

/** Standard output; EAGAIN (a non-blocking pipe that is full) is waited out. */
function stdoutStream(): OutputStream {
  return {
    async write(bytes: Uint8Array) {
      let done = 0;
      while (done < bytes.length) {
        try {
          done += writeSync(1, bytes, done, bytes.length - done);
        } catch (e) {
          const code = (e as { code?: string }).code;
          if (code === "EAGAIN") {
            await new Promise((r) => setTimeout(r, 1));
            continue;
          }
          if (code === "EPIPE") throw new Error("stdout was closed by the reader (EPIPE)");
          throw e;
        }
      }
    },
    close() {
      return Promise.resolve();
    },
  };
}
