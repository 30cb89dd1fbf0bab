/**
 * Node streams (what the GCS and Azure SDKs hand back) as web streams, the
 * shape every `Source.open` returns.
 */
import type { Readable } from "node:stream";

/**
 * A web stream over a Node stream, pulled chunk by chunk (the Node stream is
 * paused while chunks wait). Waits for the first chunk, the end or the first
 * error, so that a missing object rejects `open()` itself. Drops the first
 * `skip.bytes` bytes (set once the response is known to ignore the range).
 */
export async function nodeToWeb(
  stream: Readable,
  signal: AbortSignal | undefined,
  mapError: (e: unknown) => unknown,
  skip: { bytes: number } = { bytes: 0 },
): Promise<ReadableStream<Uint8Array>> {
  const queue: Uint8Array[] = [];
  let ended = false;
  let failure: { e: unknown } | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const onAbort = () => stream.destroy(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  const cleanup = () => signal?.removeEventListener("abort", onAbort);
  stream.on("data", (c: Uint8Array | string) => {
    let chunk = typeof c === "string"
      ? new TextEncoder().encode(c)
      : new Uint8Array(c.buffer, c.byteOffset, c.byteLength);
    if (skip.bytes > 0) {
      const n = Math.min(skip.bytes, chunk.length);
      skip.bytes -= n;
      chunk = chunk.subarray(n);
      if (chunk.length === 0) return;
    }
    queue.push(chunk);
    if (queue.length >= 16) stream.pause();
    notify();
  });
  stream.on("end", () => {
    ended = true;
    notify();
  });
  stream.on("error", (e: unknown) => {
    failure ??= { e };
    notify();
  });
  stream.on("close", () => {
    if (!ended) {
      failure ??= {
        e: Object.assign(new Error("stream closed early"), { code: "ERR_STREAM_PREMATURE_CLOSE" }),
      };
    }
    notify();
  });
  const next = async (): Promise<Uint8Array | null> => {
    for (;;) {
      const c = queue.shift();
      if (c !== undefined) return c;
      if (failure !== null) {
        cleanup();
        throw signal?.aborted ? signal.reason : mapError(failure.e);
      }
      if (ended) {
        cleanup();
        return null;
      }
      const woken = new Promise<void>((r) => (wake = r));
      stream.resume();
      await woken;
    }
  };
  let pending: Uint8Array | null | undefined = await next();
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      const c = pending !== undefined ? pending : await next();
      pending = undefined;
      if (c === null) ctrl.close();
      else ctrl.enqueue(c);
    },
    cancel() {
      cleanup();
      stream.destroy();
    },
  });
}
