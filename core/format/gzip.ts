/**
 * Whole-object gzip (shared/spec/ctap-v1.md §1: a `.gz` key means the whole
 * object is gzip-compressed, RFC 1952), through the web platform's
 * `DecompressionStream` and `CompressionStream`.
 *
 * ```
 * stream ──(key ends in ".gz")──▶ DecompressionStream("gzip") ──▶ bytes
 * ```
 *
 * A corrupt or cut-short gzip errors the returned stream: the reader's
 * `read()` rejects (with a TypeError in Deno and Bun), and the caller counts
 * the object as failed.
 */
import { concatBytes } from "../bytes/concat.ts";

/** `stream` decompressed when `key` ends in `.gz`, else `stream` itself. */
export function maybeGunzip(
  stream: ReadableStream<Uint8Array>,
  key: string,
): ReadableStream<Uint8Array> {
  if (!key.endsWith(".gz")) return stream;
  return stream.pipeThrough(
    new DecompressionStream("gzip") as unknown as ReadableWritablePair<
      Uint8Array,
      Uint8Array
    >,
  );
}

function streamOf(data: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(data);
      c.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  return parts.length === 1 ? parts[0] : concatBytes(parts);
}

/** `data` gzip-compressed. */
export function gzipBytes(data: Uint8Array): Promise<Uint8Array> {
  return collect(
    streamOf(data).pipeThrough(
      new CompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>,
    ),
  );
}

/** `data` gunzipped; rejects on a corrupt or truncated gzip. */
export function gunzipBytes(data: Uint8Array): Promise<Uint8Array> {
  return collect(maybeGunzip(streamOf(data), ".gz"));
}
