/** The azure provider: being written (issue "Cloud storage"). */
import { UsageError } from "../../../core/run/cli.ts";
import type { Storage, StorageConfig } from "../mod.ts";

export function createAzureStorage(_cfg: StorageConfig): Promise<Storage> {
  return Promise.reject(
    new UsageError("flag --provider: 'azure' is not available in this build yet; use file"),
  );
}
