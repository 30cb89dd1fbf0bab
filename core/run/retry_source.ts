/**
 * Makes any `Source` survive a flaky store: listing and opening are retried
 * with exponential backoff and full jitter when the error is retryable
 * (throttling, 5xx, network, timeouts); a download that breaks or stalls
 * midway is resumed with a ranged read from the byte where it stopped, so the
 * decoder downstream sees one unbroken stream. A listing that breaks resumes
 * after the last key it yielded. What still fails after the last attempt
 * throws, and the pipeline reports the object by key and reason.
 */
import { type ObjectInfo, type Source, SourceError } from "../plugin.ts";

export interface RetryOptions {
  /** Attempts after the first (default 5). */
  retries?: number;
  /** First backoff in ms (default 200); doubles each attempt, with full jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A read that brings no byte for this long is abandoned and resumed (default 30 s). */
  idleTimeoutMs?: number;
  /** Told of each retry (for logs and metrics); never given a credential. */
  onRetry?: (
    e: { op: "list" | "open" | "read"; key: string; attempt: number; error: string },
  ) => void;
  /** For tests: a deterministic random in [0, 1). */
  random?: () => number;
}

export function isRetryable(e: unknown): boolean {
  if (e instanceof SourceError) return e.retryable;
  if (e instanceof DOMException && e.name === "AbortError") return false;
  // Errors that are not the source's own (a reset socket inside an SDK
  // stream, a timeout) are worth another try.
  return true;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      reject(signal.reason);
    }, { once: true });
  });

export class RetryingSource implements Source {
  private readonly retries: number;
  private readonly base: number;
  private readonly max: number;
  private readonly idle: number;
  private readonly random: () => number;
  listFolders?: Source["listFolders"];

  constructor(private readonly inner: Source, private readonly opts: RetryOptions = {}) {
    this.retries = opts.retries ?? 5;
    this.base = opts.baseDelayMs ?? 200;
    this.max = opts.maxDelayMs ?? 10_000;
    this.idle = opts.idleTimeoutMs ?? 30_000;
    this.random = opts.random ?? Math.random;
    if (inner.listFolders !== undefined) {
      const listFolders = inner.listFolders.bind(inner);
      this.listFolders = (prefix, o) =>
        this.retryList(prefix, (after) => filterAfter(listFolders(prefix, o), after), o?.signal);
    }
  }

  private delay(attempt: number): number {
    return Math.floor(this.random() * Math.min(this.max, this.base * 2 ** attempt));
  }

  private async backoff(
    op: "list" | "open" | "read",
    key: string,
    attempt: number,
    e: unknown,
    signal?: AbortSignal,
  ): Promise<void> {
    if (attempt >= this.retries || !isRetryable(e)) throw e;
    this.opts.onRetry?.({ op, key, attempt: attempt + 1, error: (e as Error).message });
    await sleep(this.delay(attempt), signal);
  }

  list(
    prefix: string,
    opts: { startAfter?: string; signal?: AbortSignal } = {},
  ): AsyncIterable<ObjectInfo> {
    return this.retryList(
      prefix,
      (after) => this.inner.list(prefix, { ...opts, startAfter: after ?? opts.startAfter }),
      opts.signal,
      (o) => o.key,
    );
  }

  /** Re-runs a listing after a failure, resuming after the last item yielded. */
  private async *retryList<T>(
    prefix: string,
    run: (after: string | undefined) => AsyncIterable<T>,
    signal: AbortSignal | undefined,
    keyOf: (item: T) => string = (x) => String(x),
  ): AsyncIterable<T> {
    let after: string | undefined;
    for (let attempt = 0;; attempt++) {
      try {
        for await (const item of run(after)) {
          after = keyOf(item);
          yield item;
        }
        return;
      } catch (e) {
        await this.backoff("list", prefix, attempt, e, signal);
      }
    }
  }

  async open(
    key: string,
    opts: { signal?: AbortSignal; start?: number } = {},
  ): Promise<ReadableStream<Uint8Array>> {
    let position = opts.start ?? 0;
    let attempt = 0;
    const openAt = async (): Promise<ReadableStreamDefaultReader<Uint8Array>> => {
      for (;; attempt++) {
        try {
          const s = await this.inner.open(key, { signal: opts.signal, start: position });
          return s.getReader();
        } catch (e) {
          await this.backoff("open", key, attempt, e, opts.signal);
        }
      }
    };
    let reader = await openAt();
    const idle = this.idle;
    const backoff = this.backoff.bind(this);
    return new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        for (;;) {
          try {
            const { done, value } = await readWithTimeout(reader, idle, key);
            if (done) {
              ctrl.close();
              return;
            }
            position += value.length;
            ctrl.enqueue(value);
            return;
          } catch (e) {
            reader.cancel().catch(() => {});
            await backoff("read", key, attempt++, e, opts.signal);
            reader = await openAt();
          }
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
  }
}

async function* filterAfter(
  it: AsyncIterable<string>,
  after: string | undefined,
): AsyncIterable<string> {
  for await (const x of it) if (after === undefined || x > after) yield x;
}

function readWithTimeout(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  ms: number,
  key: string,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SourceError(`no data from ${key} for ${ms} ms`, "timeout", true)),
      ms,
    );
  });
  return Promise.race([reader.read(), timeout]).finally(() => clearTimeout(timer));
}
