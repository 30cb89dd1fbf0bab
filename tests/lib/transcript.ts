/**
 * Ground truth of the capture fixtures: the python server's per-connection
 * transcripts (`<name>.transcript.json`, see tests/fixtures/captures/README.md)
 * and the checks that compare bytes against them.
 */
import { type KeyLogEntry, parseKeyLog } from "../../core/format/keylog.ts";
import type { CipherBackend } from "../../core/tls/crypto.ts";
import { captureConns, decryptConn } from "../../core/tls/test_vectors.ts";
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

/**
 * Decrypts every TLS connection (server port 8443) of capture fixture `name`
 * with `backend`, through the reference decryptor of core/tls/test_vectors.ts
 * and the fixture's key log, and checks each direction's plaintext against
 * the server's transcript (sha256). Returns the decrypted connections.
 */
export async function assertFixtureDecrypts(
  name: string,
  backend: CipherBackend,
): Promise<ReturnType<typeof decryptConn>[]> {
  const dir = new URL("../fixtures/captures/", import.meta.url);
  const pcap = await Deno.readFile(new URL(`${name}.pcap`, dir));
  const keys: KeyLogEntry[] = [];
  parseKeyLog(await Deno.readTextFile(new URL(`${name}.keys`, dir)), (e) => keys.push(e), (p) => {
    throw new Error(`${name}.keys line ${p.line}: ${p.detail}`);
  });
  const transcript: TranscriptEntry[] = JSON.parse(
    await Deno.readTextFile(new URL(`${name}.transcript.json`, dir)),
  );
  const conns = captureConns(pcap, 8443);
  assertEquals(conns.length, transcript.filter((t) => t.server_port === 8443).length, name);
  const out = [];
  for (const conn of conns) {
    const d = decryptConn(conn, keys, backend);
    const t = transcript.find((t) => Number(t.client_port) === conn.clientPort);
    if (t === undefined) {
      throw new Error(`${name}: no transcript for client port ${conn.clientPort}`);
    }
    const what = `${name} port ${conn.clientPort} (${backend.name})`;
    assertEquals(await sha256hex(d.toServer.app), t.client_to_server_sha256, `${what} up`);
    assertEquals(await sha256hex(d.toClient.app), t.server_to_client_sha256, `${what} down`);
    out.push(d);
  }
  return out;
}
