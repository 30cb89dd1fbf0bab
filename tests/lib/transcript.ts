/**
 * Ground truth of the capture fixtures: the python server's per-connection
 * transcripts (`<name>.transcript.json`, see tests/fixtures/captures/README.md)
 * and the checks that compare bytes against them.
 */
import { assertBytesEqual, assertEquals } from "../assert.ts";

/** One connection as the server saw it; `*_b64` is null when the direction was too long to keep. */
export interface TranscriptEntry {
  server_port: number;
  client_ip: string;
  client_port: number;
  client_to_server_len: number;
  client_to_server_sha256: string;
  client_to_server_b64: string | null;
  server_to_client_len: number;
  server_to_client_sha256: string;
  server_to_client_b64: string | null;
}

export function b64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

export async function sha256hex(b: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", b as Uint8Array<ArrayBuffer>));
  return Array.from(d, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** `bytes` are exactly what one direction carried: its length, sha256, and bytes when kept. */
export async function assertTranscriptDir(
  bytes: Uint8Array,
  len: number,
  sha: string,
  b64s: string | null,
  what: string,
): Promise<void> {
  if (b64s !== null) assertBytesEqual(bytes, b64(b64s), `${what}:`);
  assertEquals(bytes.length, len, `${what}: length`);
  assertEquals(await sha256hex(bytes), sha, `${what}: sha256`);
}
