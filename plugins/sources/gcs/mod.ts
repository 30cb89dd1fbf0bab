/**
 * The `gcp` provider: a Google Cloud Storage bucket through
 * `@google-cloud/storage` (JSON API). Credentials: a service-account key
 * (`-c FILE`), application default credentials (`--default-gcp-credentials`),
 * or none against an emulator (`--endpoint-url` alone). Listing pages with
 * `pageToken` and resumes with `startOffset`, also filtered here because
 * emulators ignore it. Also a `Sink`, for `stitcher pack`.
 */
import { Buffer } from "node:buffer";
import { nodeToWeb } from "../node_stream.ts";
import { Storage as GcsClient } from "@google-cloud/storage";
import type { Bucket } from "@google-cloud/storage";
import { type ObjectInfo, SourceError, type SourceErrorKind } from "../../../core/plugin.ts";
import { UsageError } from "../../../core/run/cli.ts";
import type { Storage, StorageConfig } from "../mod.ts";

export interface GcsOptions {
  /** Objects per listing page (default 1000, the service's maximum). */
  pageSize?: number;
}

/** A listing longer than this many pages is taken for a server that never ends it. */
const MAX_PAGES = 1_000_000;

export function createGcsStorage(cfg: StorageConfig, opts: GcsOptions = {}): Promise<Storage> {
  try {
    return Promise.resolve(new GcsStorage(cfg, opts));
  } catch (e) {
    return Promise.reject(e);
  }
}

class GcsStorage implements Storage {
  readonly describe: string;
  private readonly bucket: Bucket;
  private readonly pageSize: number;
  /** The endpoint when it is used without credentials (an emulator), else null. */
  private readonly emulator: string | null = null;
  private bucketChecked: Promise<void> | null = null;

  constructor(cfg: StorageConfig, opts: GcsOptions) {
    this.describe = `GCS bucket ${cfg.bucket}`;
    this.pageSize = opts.pageSize ?? 1000;
    const endpoint = cfg.endpoint === null ? undefined : cfg.endpoint.replace(/\/+$/, "");
    const base = {
      ...(endpoint === undefined ? {} : { apiEndpoint: endpoint }),
      // RetryingSource retries with backoff and resumes reads; the SDK must not retry too.
      retryOptions: { autoRetry: false, maxRetries: 0 },
    };
    let client: GcsClient;
    if (cfg.credentials !== null) {
      const sa = serviceAccount(cfg.credentials, cfg.credentialsFile ?? "-c");
      client = withoutDeprecationWarning(() =>
        new GcsClient({
          ...base,
          credentials: sa,
          projectId: typeof cfg.credentials?.project_id === "string"
            ? cfg.credentials.project_id
            : undefined,
          useAuthWithCustomEndpoint: true,
        })
      );
    } else if (cfg.defaultCredentials) {
      client = new GcsClient({ ...base, useAuthWithCustomEndpoint: true });
    } else if (endpoint !== undefined) {
      client = new GcsClient({ ...base, projectId: "stitcher" });
      this.emulator = endpoint;
    } else {
      throw new UsageError(
        "--provider gcp needs credentials: -c/--credentials FILE (service account JSON), " +
          "--default-gcp-credentials, or --endpoint-url URL for an emulator",
      );
    }
    this.bucket = client.bucket(cfg.bucket);
  }

  async *list(
    prefix: string,
    opts: { startAfter?: string; signal?: AbortSignal } = {},
  ): AsyncIterable<ObjectInfo> {
    const after = opts.startAfter;
    let pageToken: string | undefined;
    let last: string | undefined;
    await this.checkBucket();
    for (let page = 0; page < MAX_PAGES; page++) {
      opts.signal?.throwIfAborted();
      const [files, next] = await this.bucket.getFiles({
        prefix,
        maxResults: this.pageSize,
        autoPaginate: false,
        ...(pageToken === undefined ? {} : { pageToken }),
        ...(after !== undefined && after >= prefix ? { startOffset: after } : {}),
      }).catch((e) => {
        throw this.error(e, `list ${quote(prefix)} in`);
      });
      for (const f of files) {
        const key = f.name;
        if (!key.startsWith(prefix)) continue;
        if (after !== undefined && key <= after) continue;
        if (last !== undefined && key <= last) continue;
        last = key;
        const updated = f.metadata.updated ? Date.parse(f.metadata.updated) : NaN;
        yield {
          key,
          size: Number(f.metadata.size ?? 0),
          ...(Number.isNaN(updated) ? {} : { mtimeMs: updated }),
        };
      }
      const token = (next as { pageToken?: string } | null)?.pageToken;
      if (token === undefined || token === "") return;
      if (token === pageToken) {
        throw new SourceError(
          `${this.describe}: listing ${quote(prefix)} returned the same page token twice`,
          "server",
          true,
        );
      }
      pageToken = token;
    }
    throw new SourceError(
      `${this.describe}: listing ${quote(prefix)} went past ${MAX_PAGES} pages`,
      "server",
      false,
    );
  }

  async *listFolders(prefix: string, opts: { signal?: AbortSignal } = {}): AsyncIterable<string> {
    let pageToken: string | undefined;
    const seen = new Set<string>();
    await this.checkBucket();
    for (let page = 0; page < MAX_PAGES; page++) {
      opts.signal?.throwIfAborted();
      const [, next, raw] = await this.bucket.getFiles({
        prefix,
        delimiter: "/",
        maxResults: this.pageSize,
        autoPaginate: false,
        ...(pageToken === undefined ? {} : { pageToken }),
      }).catch((e) => {
        throw this.error(e, `list folders of ${quote(prefix)} in`);
      });
      const prefixes = ((raw as { prefixes?: string[] } | undefined)?.prefixes ?? [])
        .filter((p) => p.startsWith(prefix) && p.endsWith("/") && !seen.has(p))
        .sort();
      for (const p of prefixes) {
        seen.add(p);
        yield p;
      }
      const token = (next as { pageToken?: string } | null)?.pageToken;
      if (token === undefined || token === "") return;
      if (token === pageToken) {
        throw new SourceError(
          `${this.describe}: listing folders of ${
            quote(prefix)
          } returned the same page token twice`,
          "server",
          true,
        );
      }
      pageToken = token;
    }
    throw new SourceError(
      `${this.describe}: listing folders of ${quote(prefix)} went past ${MAX_PAGES} pages`,
      "server",
      false,
    );
  }

  async open(
    key: string,
    opts: { signal?: AbortSignal; start?: number } = {},
  ): Promise<ReadableStream<Uint8Array>> {
    opts.signal?.throwIfAborted();
    const start = opts.start ?? 0;
    const node = this.bucket.file(key).createReadStream({
      decompress: false,
      ...(start > 0 ? { start } : {}),
    });
    // A server that ignores the range answers 200 with the whole object
    // (the Firebase emulator does, for a range starting at the end).
    const skip = { bytes: 0 };
    if (start > 0) node.on("response", (r: unknown) => statusOf(r) === 200 && (skip.bytes = start));
    const what = start > 0 ? `read ${key} from byte ${start} in` : `read ${key} in`;
    try {
      return await nodeToWeb(node, opts.signal, (e) => this.error(e, what, key), skip);
    } catch (e) {
      // A resumed read that starts at the very end of the object.
      if (start > 0 && (e as SourceError).cause && statusCodeOf((e as SourceError).cause) === 416) {
        return emptyStream();
      }
      throw e;
    }
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    await this.bucket.file(key).save(buf, {
      resumable: false,
      contentType: "application/octet-stream",
    }).catch((e) => {
      throw this.error(e, `write ${key} to`, key);
    });
  }

  /**
   * Emulator mode only: the Firebase storage emulator creates a bucket on any
   * request naming it, so a missing bucket would list as empty. Its bucket
   * list (`GET /b`) is read once, before the first listing.
   */
  private checkBucket(): Promise<void> {
    if (this.emulator === null) return Promise.resolve();
    this.bucketChecked ??= this.emulatorHasBucket(this.emulator).then((has) => {
      if (!has) throw new SourceError(`${this.describe} does not exist`, "no_bucket", false);
    }, (e) => {
      this.bucketChecked = null;
      throw e;
    });
    return this.bucketChecked;
  }

  private async emulatorHasBucket(endpoint: string): Promise<boolean> {
    try {
      await this.bucket.getMetadata();
      return true;
    } catch (e) {
      const err = this.error(e, "check");
      if (!(err instanceof SourceError) || err.kind !== "no_bucket") throw err;
    }
    const res = await fetch(`${endpoint}/b`, { signal: AbortSignal.timeout(10_000) })
      .catch((e) => {
        throw this.error(e, "check");
      });
    const body = await res.json().catch(() => null) as { items?: { name?: unknown }[] } | null;
    if (!res.ok || !Array.isArray(body?.items)) return true;
    return body.items.some((b) => b.name === this.bucket.name);
  }

  /** Maps an SDK or network error to a SourceError naming the operation; never a credential. */
  private error(e: unknown, what: string, key?: string): Error {
    if (e instanceof SourceError) return e;
    if (e instanceof Error && e.name === "AbortError") return e;
    const err = e as { code?: unknown; message?: string };
    const status = statusCodeOf(e);
    const detail = shortDetail(err.message ?? String(e));
    const ctx = `Cannot ${what} ${this.describe}`;
    const mk = (kind: SourceErrorKind, retryable: boolean, msg: string) =>
      new SourceError(`${ctx}: ${msg}`, kind, retryable, { cause: e });
    if (status === 401 || status === 403) {
      return mk("auth", false, `access denied (HTTP ${status}): ${detail}`);
    }
    if (status === 404) {
      if (key === undefined || /bucket/i.test(detail) && !/object/i.test(detail)) {
        return mk("no_bucket", false, `the bucket does not exist (HTTP 404)`);
      }
      return mk("not_found", false, `no object ${key} (HTTP 404)`);
    }
    if (status === 429) return mk("throttled", true, `throttled (HTTP 429): ${detail}`);
    if (typeof status === "number" && (status >= 500 || status === 408)) {
      return mk("server", true, `server error (HTTP ${status}): ${detail}`);
    }
    const code = typeof err.code === "string" ? err.code : undefined;
    if (code !== undefined && NETWORK_CODES.has(code)) {
      return mk("network", true, `network error ${code}: ${detail}`);
    }
    if (
      /invalid_grant|invalid_client|unauthorized_client|private key|PEM|DECODER|JWT/i.test(detail)
    ) {
      return mk("auth", false, `credentials rejected: ${detail}`);
    }
    if (typeof status === "number") {
      return mk("other", false, `HTTP ${status}: ${detail}`);
    }
    if (code !== undefined && /^E[A-Z]+$/.test(code)) {
      return mk("network", true, `network error ${code}: ${detail}`);
    }
    return mk("other", true, detail);
  }
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNABORTED",
  "ERR_STREAM_PREMATURE_CLOSE",
  "ConnectionRefused",
  "ConnectionClosed",
]);

/** Checks the shape of a service-account key without ever quoting its contents. */
function serviceAccount(
  c: Record<string, unknown>,
  file: string,
): { client_email: string; private_key: string } & Record<string, unknown> {
  const missing: string[] = [];
  if (c.type !== undefined && c.type !== "service_account") {
    throw new UsageError(
      `flag -c/--credentials: ${file} is not a Google service account key (type is not service_account)`,
    );
  }
  if (typeof c.client_email !== "string" || c.client_email === "") missing.push("client_email");
  if (typeof c.private_key !== "string" || !c.private_key.includes("PRIVATE KEY")) {
    missing.push("private_key");
  }
  if (missing.length > 0) {
    throw new UsageError(
      `flag -c/--credentials: ${file} is not a Google service account key (no valid ${
        missing.join(", ")
      })`,
    );
  }
  return c as { client_email: string; private_key: string } & Record<string, unknown>;
}

/**
 * google-auth-library 11 writes a console warning when given `credentials`
 * (its replacement, an `auth` client, is not exported by the storage SDK);
 * this drops exactly that line while the client is built.
 */
function withoutDeprecationWarning<T>(fn: () => T): T {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (
      typeof args[0] === "string" && args[0].startsWith("The `credentials` option is deprecated")
    ) {
      return;
    }
    warn(...args);
  };
  try {
    return fn();
  } finally {
    console.warn = warn;
  }
}

function statusCodeOf(e: unknown): number | undefined {
  const err = e as { code?: unknown; status?: unknown; response?: unknown };
  if (typeof err.code === "number") return err.code;
  if (typeof err.status === "number") return err.status;
  return statusOf(err.response);
}

function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({ start: (c) => c.close() });
}

function statusOf(response: unknown): number | undefined {
  const s = response as { status?: unknown; statusCode?: unknown } | undefined;
  if (typeof s?.status === "number") return s.status;
  if (typeof s?.statusCode === "number") return s.statusCode;
  return undefined;
}

/** One line of an error body: the JSON API's `error.message` when the body is JSON. */
function shortDetail(msg: string): string {
  let m = msg.trim();
  try {
    const j = JSON.parse(m);
    const inner = j?.error?.message ?? j?.error_description ?? j?.error ?? j?.message;
    if (typeof inner === "string") m = inner;
  } catch {
    // not JSON
  }
  m = m.replace(/\s+/g, " ");
  return m.length > 200 ? `${m.slice(0, 200)}...` : m;
}

function quote(prefix: string): string {
  return prefix === "" ? "(all)" : prefix;
}
