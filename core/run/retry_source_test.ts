import { assertEquals, assertRejects } from "../../tests/assert.ts";
import { type ObjectInfo, type Source, SourceError } from "../plugin.ts";
import { RetryingSource } from "./retry_source.ts";

/** An in-memory store that fails on command: the faults a real server shows. */
class FlakySource implements Source {
  openCalls: { key: string; start: number }[] = [];
  listCalls: (string | undefined)[] = [];
  failOpens = 0;
  /** Break every stream after this many bytes (once per entry). */
  breakAfter: number[] = [];
  stallAfter = -1;
  failListAfter = -1;
  constructor(readonly objects: Map<string, Uint8Array>) {}

  async *list(prefix: string, opts: { startAfter?: string } = {}): AsyncIterable<ObjectInfo> {
    this.listCalls.push(opts.startAfter);
    let n = 0;
    for (const [key, body] of [...this.objects].sort()) {
      if (!key.startsWith(prefix) || (opts.startAfter !== undefined && key <= opts.startAfter)) {
        continue;
      }
      if (n++ === this.failListAfter) {
        this.failListAfter = -1;
        throw new SourceError("list: 503 Slow Down", "throttled", true);
      }
      yield { key, size: body.length };
    }
  }

  open(key: string, opts: { start?: number } = {}): Promise<ReadableStream<Uint8Array>> {
    const start = opts.start ?? 0;
    this.openCalls.push({ key, start });
    const body = this.objects.get(key);
    if (body === undefined) {
      return Promise.reject(new SourceError(`no object ${key}`, "not_found", false));
    }
    if (this.failOpens > 0) {
      this.failOpens--;
      return Promise.reject(new SourceError("500 Internal Server Error", "server", true));
    }
    const cut = this.breakAfter.shift();
    const stall = this.stallAfter;
    this.stallAfter = -1;
    let pos = start;
    return Promise.resolve(
      new ReadableStream<Uint8Array>({
        pull(ctrl) {
          if (pos >= body.length) return ctrl.close();
          if (cut !== undefined && pos - start >= cut) return ctrl.error(new Error("ECONNRESET"));
          if (stall >= 0 && pos - start >= stall) return new Promise(() => {});
          const n = Math.min(7, body.length - pos);
          ctrl.enqueue(body.slice(pos, pos + n));
          pos += n;
        },
      }),
    );
  }
}

async function readAll(s: ReadableStream<Uint8Array>): Promise<number[]> {
  const out: number[] = [];
  for await (const c of s) out.push(...c);
  return out;
}

const body = Uint8Array.from({ length: 100 }, (_, i) => i);
const fast = { baseDelayMs: 1, maxDelayMs: 2, random: () => 0.5 };

Deno.test("RetryingSource retries a failed open and resumes a broken download with a ranged read", async () => {
  const inner = new FlakySource(new Map([["data/a", body]]));
  inner.failOpens = 2;
  inner.breakAfter = [30, 21];
  const retries: string[] = [];
  const s = new RetryingSource(inner, {
    ...fast,
    onRetry: (e) => retries.push(`${e.op}#${e.attempt}`),
  });
  assertEquals(await readAll(await s.open("data/a")), [...body]);
  assertEquals(inner.openCalls.map((c) => c.start), [0, 0, 0, 35, 56]);
  assertEquals(retries, ["open#1", "open#2", "read#3", "read#4"]);
});

Deno.test("RetryingSource resumes a stalled download after the idle timeout", async () => {
  const inner = new FlakySource(new Map([["data/a", body]]));
  inner.stallAfter = 14;
  const s = new RetryingSource(inner, { ...fast, idleTimeoutMs: 50 });
  assertEquals(await readAll(await s.open("data/a")), [...body]);
  assertEquals(inner.openCalls.map((c) => c.start), [0, 14]);
});

Deno.test("RetryingSource does not retry an object that is not there", async () => {
  const inner = new FlakySource(new Map());
  const s = new RetryingSource(inner, fast);
  await assertRejects(() => s.open("data/missing"), SourceError, "no object data/missing");
  assertEquals(inner.openCalls.length, 1);
});

Deno.test("RetryingSource gives up after its last attempt with the store's error", async () => {
  const inner = new FlakySource(new Map([["data/a", body]]));
  inner.failOpens = 10;
  const s = new RetryingSource(inner, { ...fast, retries: 3 });
  await assertRejects(() => s.open("data/a"), SourceError, "500");
  assertEquals(inner.openCalls.length, 4);
});

Deno.test("RetryingSource resumes a broken listing after the last key it yielded", async () => {
  const objects = new Map<string, Uint8Array>();
  for (let i = 0; i < 10; i++) objects.set(`data/k${i}`, body);
  const inner = new FlakySource(objects);
  inner.failListAfter = 4;
  const s = new RetryingSource(inner, fast);
  const keys: string[] = [];
  for await (const o of s.list("data/")) keys.push(o.key);
  assertEquals(keys, [...objects.keys()].sort());
  assertEquals(inner.listCalls, [undefined, "data/k3"]);
});
