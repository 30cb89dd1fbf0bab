/** The gcp provider: being written (issue "Cloud storage"). */
import { UsageError } from "../../../core/run/cli.ts";
import type { Storage, StorageConfig } from "../mod.ts";

export function createGcsStorage(_cfg: StorageConfig): Promise<Storage> {
  return Promise.reject(
    new UsageError("flag --provider: 'gcp' is not available in this build yet; use file"),
  );
}
