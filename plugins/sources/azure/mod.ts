/**
 * The `azure` provider: an Azure Blob Storage container through
 * `@azure/storage-blob`. The container is `-b` (default `netskope`), the
 * account `--storage-account` (or the one named by `--endpoint-url`, as with
 * Azurite's `http://127.0.0.1:10000/devstoreaccount1`). Credentials: an
 * account key (`-c FILE` holding `{"access_key": ...}`) or
 * DefaultAzureCredential (`--default-credentials azure`). Listing resumes
 * after a key by filtering, as Azure's continuation tokens are opaque. Also
 * a `Sink`, for `stitcher pack`; a container missing on the first write is
 * created.
 */
import type { Readable } from "node:stream";
import { nodeToWeb } from "../node_stream.ts";
import {
  type ContainerClient,
  type StoragePipelineOptions,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import { ContainerClient as AzureContainerClient } from "@azure/storage-blob";
import { type ObjectInfo, SourceError, type SourceErrorKind } from "../../../core/plugin.ts";
import { UsageError } from "../../../core/run/cli.ts";
import type { Storage, StorageConfig } from "../mod.ts";

export interface AzureOptions {
  /** Blobs per listing page (default 5000, the service's maximum). */
  pageSize?: number;
}

/** A listing longer than this many pages is taken for a server that never ends it. */
const MAX_PAGES = 1_000_000;

export async function createAzureStorage(
  cfg: StorageConfig,
  opts: AzureOptions = {},
): Promise<Storage> {
  const endpointFlag = cfg.endpoint === null ? null : cfg.endpoint.replace(/\/+$/, "");
  const account = cfg.storageAccount ?? (endpointFlag === null ? null : accountOf(endpointFlag));
  if (account === null) {
    throw new UsageError(
      "--provider azure needs --storage-account NAME (or --endpoint-url URL naming the account)",
    );
  }
  if (!/^[A-Za-z0-9-]{1,64}$/.test(account)) {
    throw new UsageError(`flag --storage-account: '${account}' is not a storage account name`);
  }
  if (!/^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/.test(cfg.bucket) && cfg.bucket !== "$root") {
    throw new UsageError(
      `flag -b/--bucket: '${cfg.bucket}' is not an Azure container name ` +
        "(3-63 lowercase letters, digits and single hyphens)",
    );
  }
  const endpoint = endpointFlag ?? `https://${account}.blob.core.windows.net`;
  const url = `${endpoint}/${encodeURIComponent(cfg.bucket)}`;
  // RetryingSource retries with backoff and resumes reads; the SDK must not retry too.
  const pipeline: StoragePipelineOptions = { retryOptions: { maxTries: 1 } };
  let client: ContainerClient;
  if (cfg.credentials !== null) {
    const key = cfg.credentials.access_key;
    const file = cfg.credentialsFile ?? "-c";
    if (typeof key !== "string" || key === "") {
      throw new UsageError(`flag -c/--credentials: ${file} has no "access_key" string`);
    }
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key)) {
      throw new UsageError(`flag -c/--credentials: the access_key in ${file} is not base64`);
    }
    client = new AzureContainerClient(
      url,
      new StorageSharedKeyCredential(account, key),
      pipeline,
    );
  } else if (cfg.defaultCredentials) {
    if (!endpoint.startsWith("https://")) {
      throw new UsageError(
        `flag --endpoint-url: '${endpoint}' is not https, which --default-credentials azure needs`,
      );
    }
    const { DefaultAzureCredential } = await import("@azure/identity");
    client = new AzureContainerClient(url, new DefaultAzureCredential(), pipeline);
  } else {
    throw new UsageError(
      '--provider azure needs credentials: -c/--credentials FILE ({"access_key": ...}) ' +
        "or --default-credentials azure",
    );
  }
  return new AzureStorage(client, `Azure container ${cfg.bucket} in account ${account}`, opts);
}

/** The account an endpoint names: its first path segment (Azurite) or its host's first label. */
function accountOf(endpoint: string): string | null {
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    throw new UsageError(`flag --endpoint-url: '${endpoint}' is not a URL`);
  }
  const seg = u.pathname.split("/").filter((s) => s !== "")[0];
  if (seg !== undefined) return seg;
  const host = u.hostname.split(".")[0];
  return /^[a-z0-9]+$/.test(host) && u.hostname.includes(".blob.") ? host : null;
}

class AzureStorage implements Storage {
  private readonly pageSize: number;
  private creating: Promise<void> | null = null;

  constructor(
    private readonly client: ContainerClient,
    readonly describe: string,
    opts: AzureOptions,
  ) {
    this.pageSize = opts.pageSize ?? 5000;
  }

  async *list(
    prefix: string,
    opts: { startAfter?: string; signal?: AbortSignal } = {},
  ): AsyncIterable<ObjectInfo> {
    const after = opts.startAfter;
    let last: string | undefined;
    // `startFrom` (inclusive; newer service versions) lets the service skip
    // what was already listed; a service that ignores it is still correct:
    // keys up to `after` are filtered here as well.
    const pages = this.client.listBlobsFlat({
      ...(prefix === "" ? {} : { prefix }),
      ...(after === undefined ? {} : { startFrom: after }),
      abortSignal: opts.signal,
    }).byPage({ maxPageSize: this.pageSize });
    for (let page = 0;; page++) {
      if (page >= MAX_PAGES) {
        throw new SourceError(
          `${this.describe}: listing ${quote(prefix)} went past ${MAX_PAGES} pages`,
          "server",
          false,
        );
      }
      const r = await pages.next().catch((e) => {
        throw this.error(e, `list ${quote(prefix)} in`);
      });
      if (r.done) return;
      for (const b of r.value.segment.blobItems) {
        const key = b.name;
        if (!key.startsWith(prefix)) continue;
        if (after !== undefined && key <= after) continue;
        if (last !== undefined && key <= last) continue;
        last = key;
        const mtime = b.properties.lastModified?.getTime();
        yield {
          key,
          size: b.properties.contentLength ?? 0,
          ...(mtime === undefined || Number.isNaN(mtime) ? {} : { mtimeMs: mtime }),
        };
      }
      if (!r.value.continuationToken) return;
    }
  }

  async *listFolders(prefix: string, opts: { signal?: AbortSignal } = {}): AsyncIterable<string> {
    const seen = new Set<string>();
    const pages = this.client.listBlobsByHierarchy("/", {
      ...(prefix === "" ? {} : { prefix }),
      abortSignal: opts.signal,
    }).byPage({ maxPageSize: this.pageSize });
    for (let page = 0;; page++) {
      if (page >= MAX_PAGES) {
        throw new SourceError(
          `${this.describe}: listing folders of ${quote(prefix)} went past ${MAX_PAGES} pages`,
          "server",
          false,
        );
      }
      const r = await pages.next().catch((e) => {
        throw this.error(e, `list folders of ${quote(prefix)} in`);
      });
      if (r.done) return;
      const names = (r.value.segment.blobPrefixes ?? []).map((p) => p.name)
        .filter((p) => p.startsWith(prefix) && p.endsWith("/") && !seen.has(p))
        .sort();
      for (const p of names) {
        seen.add(p);
        yield p;
      }
      if (!r.value.continuationToken) return;
    }
  }

  async open(
    key: string,
    opts: { signal?: AbortSignal; start?: number } = {},
  ): Promise<ReadableStream<Uint8Array>> {
    opts.signal?.throwIfAborted();
    const start = opts.start ?? 0;
    const what = start > 0 ? `read ${key} from byte ${start} in` : `read ${key} in`;
    let res;
    try {
      res = await this.client.getBlobClient(key).download(start, undefined, {
        abortSignal: opts.signal,
        maxRetryRequests: 0,
      });
    } catch (e) {
      // A resumed read that starts at the very end of the blob.
      if (start > 0 && (e as { statusCode?: unknown }).statusCode === 416) {
        return new ReadableStream<Uint8Array>({ start: (c) => c.close() });
      }
      throw this.error(e, what, key);
    }
    const body = res.readableStreamBody as Readable | undefined;
    if (body === undefined) {
      const blob = await res.blobBody;
      if (blob === undefined) {
        throw new SourceError(`Cannot ${what} ${this.describe}: no body`, "other", false);
      }
      return blob.stream() as ReadableStream<Uint8Array>;
    }
    return await nodeToWeb(body, opts.signal, (e) => this.error(e, what, key));
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const blob = this.client.getBlockBlobClient(key);
    const upload = () =>
      blob.uploadData(body, { blobHTTPHeaders: { blobContentType: "application/octet-stream" } });
    try {
      await upload();
    } catch (e) {
      if ((e as { code?: unknown }).code !== "ContainerNotFound") {
        throw this.error(e, `write ${key} to`, key);
      }
      // Concurrent writers share one creation.
      this.creating ??= this.client.createIfNotExists().then(() => {}, (e2) => {
        this.creating = null;
        throw this.error(e2, "create");
      });
      await this.creating;
      await upload().catch((e3) => {
        throw this.error(e3, `write ${key} to`, key);
      });
    }
  }

  /** Maps an SDK or network error to a SourceError naming the operation; never a credential. */
  private error(e: unknown, what: string, key?: string): Error {
    if (e instanceof SourceError) return e;
    if (e instanceof Error && e.name === "AbortError") return e;
    const err = e as { statusCode?: unknown; code?: unknown; message?: string; name?: string };
    const status = typeof err.statusCode === "number" ? err.statusCode : undefined;
    const code = typeof err.code === "string" ? err.code : undefined;
    const ctx = `Cannot ${what} ${this.describe}`;
    const mk = (kind: SourceErrorKind, retryable: boolean, msg: string) =>
      new SourceError(`${ctx}: ${msg}`, kind, retryable, { cause: e });
    const tag = [status === undefined ? null : `HTTP ${status}`, code ?? null]
      .filter((x) => x !== null).join(" ");
    if (
      code === "AuthenticationFailed" || code === "AuthorizationFailure" ||
      status === 401 || status === 403 || err.name === "CredentialUnavailableError" ||
      err.name === "AuthenticationError" || err.name === "AggregateAuthenticationError"
    ) {
      if (status === undefined) {
        return mk("auth", false, `no usable Azure credentials (${err.name ?? "error"})`);
      }
      return mk("auth", false, `access denied (${tag})`);
    }
    if (code === "ContainerNotFound") {
      return mk("no_bucket", false, `the container does not exist (${tag})`);
    }
    if (code === "BlobNotFound" || (status === 404 && key !== undefined)) {
      return mk("not_found", false, `no blob ${key} (${tag})`);
    }
    if (status === 404) return mk("no_bucket", false, `not found (${tag})`);
    if (status === 429 || code === "ServerBusy") return mk("throttled", true, `throttled (${tag})`);
    if (status !== undefined && (status >= 500 || status === 408)) {
      return mk("server", true, `server error (${tag})`);
    }
    const detail = oneLine(err.message ?? String(e));
    if (status !== undefined) return mk("other", false, `${tag}: ${detail}`);
    if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
      return mk("network", true, `cannot resolve the endpoint host (${code})`);
    }
    if (code !== undefined && (/^E[A-Z]+$/.test(code) || NETWORK_CODES.has(code))) {
      return mk("network", true, `network error ${code}: ${detail}`);
    }
    return mk("other", true, `${code === undefined ? "" : `${code}: `}${detail}`);
  }
}

const NETWORK_CODES = new Set(["REQUEST_SEND_ERROR", "ERR_STREAM_PREMATURE_CLOSE"]);

function oneLine(m: string): string {
  const s = m.trim().replace(/\s+/g, " ");
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}

function quote(prefix: string): string {
  return prefix === "" ? "(all)" : prefix;
}
