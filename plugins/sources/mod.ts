/**
 * Opens the store that the storage flags name (DESIGN §4): `file`, `aws`
 * (S3 and S3-compatible), `gcp` (GCS) or `azure` (Blob). Cloud SDKs are
 * imported lazily, so a run pays only for the SDK it uses; each is wrapped in
 * a `RetryingSource` (backoff, jitter, resumed downloads).
 *
 * Credentials come from `-c FILE` (or `--key-credentials FILE` for the keys
 * bucket), or from each SDK's default chain when asked. Their contents are
 * never logged or put in an error message.
 */
import { readFile, stat } from "node:fs/promises";
import type { Sink, Source } from "../../core/plugin.ts";
import { type FlagValues, stringFlag, UsageError } from "../../core/run/cli.ts";
import { RetryingSource, type RetryOptions } from "../../core/run/retry_source.ts";
import { FileSource } from "./file/mod.ts";

export type Provider = "aws" | "gcp" | "azure" | "file";
export const PROVIDERS: Provider[] = ["aws", "gcp", "azure", "file"];

/** What a provider plugin needs to open a bucket. */
export interface StorageConfig {
  provider: Provider;
  /** Bucket (Azure: container). */
  bucket: string;
  /** Parsed JSON of the credentials file, or null. */
  credentials: Record<string, unknown> | null;
  /** Path of that file (GCP service accounts are read by the SDK too); never its contents. */
  credentialsFile: string | null;
  /** Use the SDK's default credential chain. */
  defaultCredentials: boolean;
  region: string | null;
  storageAccount: string | null;
  endpoint: string | null;
}

/** A store that can be read (`Source`) and written (`Sink`, for `pack`). */
export type Storage = Source & Sink & { readonly describe: string };

/** Builds the config for the data bucket, or for the keys bucket (`role` "keys"). */
export async function storageConfig(
  values: FlagValues,
  role: "data" | "keys",
): Promise<StorageConfig> {
  const provider = stringFlag(values, "provider");
  if (provider === undefined) {
    throw new UsageError("flag --provider is required (aws|gcp|azure|file)");
  }
  if (!PROVIDERS.includes(provider as Provider)) {
    throw new UsageError(`flag --provider: '${provider}' is not one of ${PROVIDERS.join(", ")}`);
  }
  const p = provider as Provider;
  let bucket = stringFlag(values, role === "keys" ? "keylog-bucket" : "bucket");
  if (bucket === undefined && p === "azure") bucket = "netskope";
  if (bucket === undefined || bucket === "") throw new UsageError("flag -b/--bucket is required");
  const credFlag = role === "keys" && values["key-credentials"] !== undefined
    ? "key-credentials"
    : "credentials";
  const credentialsFile = stringFlag(values, credFlag) ?? null;
  let credentials: Record<string, unknown> | null = null;
  if (credentialsFile !== null) {
    if (p === "file") throw new UsageError(`flag --${credFlag} does not apply to --provider file`);
    const text = await readFile(credentialsFile, "utf8").catch((e) => {
      throw new UsageError(
        `flag --${credFlag}: cannot read ${credentialsFile}: ${
          (e as { code?: string }).code ?? "error"
        }`,
      );
    });
    try {
      const parsed = JSON.parse(text);
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error();
      credentials = parsed;
    } catch {
      // The file's text may be a secret: say only that it is not a JSON object.
      throw new UsageError(`flag --${credFlag}: ${credentialsFile} is not a JSON object`);
    }
  }
  const defaults = p === "aws"
    ? values["default-aws-credentials"] === true
    : p === "gcp"
    ? values["default-gcp-credentials"] === true
    : p === "azure"
    ? stringFlag(values, "default-credentials") === "azure"
    : false;
  const dc = stringFlag(values, "default-credentials");
  if (dc !== undefined && dc !== "azure") {
    throw new UsageError(`flag --default-credentials: '${dc}' is not azure`);
  }
  if (defaults && credentials !== null) {
    throw new UsageError(`flags --${credFlag} and the default ${p} credentials exclude each other`);
  }
  return {
    provider: p,
    bucket,
    credentials,
    credentialsFile,
    defaultCredentials: defaults,
    region: stringFlag(values, "aws-region") ?? null,
    storageAccount: stringFlag(values, "storage-account") ?? null,
    endpoint: stringFlag(values, "endpoint-url") ?? null,
  };
}

/**
 * Opens the store. `mustExist`: a `file` bucket folder that is missing is a
 * usage error (stitching), while `pack` creates it.
 */
export async function openStorage(
  cfg: StorageConfig,
  opts: { mustExist: boolean; retry?: RetryOptions },
): Promise<Storage> {
  switch (cfg.provider) {
    case "file": {
      if (opts.mustExist) {
        const isDir = await stat(cfg.bucket).then((s) => s.isDirectory(), () => false);
        if (!isDir) throw new UsageError(`flag -b/--bucket: folder ${cfg.bucket} does not exist`);
      }
      const f = new FileSource(cfg.bucket);
      return Object.assign(f, { describe: `folder ${cfg.bucket}` });
    }
    case "aws": {
      const { createS3Storage } = await import("./s3/mod.ts");
      return retrying(await createS3Storage(cfg), opts.retry);
    }
    case "gcp": {
      const { createGcsStorage } = await import("./gcs/mod.ts");
      return retrying(await createGcsStorage(cfg), opts.retry);
    }
    case "azure": {
      const { createAzureStorage } = await import("./azure/mod.ts");
      return retrying(await createAzureStorage(cfg), opts.retry);
    }
  }
}

function retrying(s: Storage, retry?: RetryOptions): Storage {
  const r = new RetryingSource(s, retry);
  return Object.assign(r, { put: s.put.bind(s), describe: s.describe });
}
