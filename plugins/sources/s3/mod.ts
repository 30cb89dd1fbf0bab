/** The aws provider: being written (issue "Cloud storage"). */
import { UsageError } from "../../../core/run/cli.ts";
import type { Storage, StorageConfig } from "../mod.ts";

export function createS3Storage(_cfg: StorageConfig): Promise<Storage> {
  return Promise.reject(
    new UsageError("flag --provider: 'aws' is not available in this build yet; use file"),
  );
}
