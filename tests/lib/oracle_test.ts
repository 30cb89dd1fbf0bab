/**
 * Tests of the tshark oracle itself, against ground truth that does not come
 * from tshark: what the python server read/wrote (`*.transcript.json`) and
 * what curl sent/received (`*.curl.json`, from `curl --trace`). See
 * tests/fixtures/captures/README.md.
 */
import { assertTranscriptDir, type TranscriptEntry } from "./transcript.ts";
import { assert, assertEquals } from "../assert.ts";
import {
  flowKey,
  hasTool,
  malformedCount,
  type StreamBytes,
  tcpStreams,
  tlsPlaintext,
  tsharkFields,
} from "./oracle.ts";

/** (what, bytes, len, sha, b64) order of the checks below. */
const checkDir = (what: string, got: Uint8Array, len: number, sha: string, b64s: string | null) =>
  assertTranscriptDir(got, len, sha, b64s, what);

const DIR = new URL("../fixtures/captures/", import.meta.url).pathname;
const ignore = !hasTool("tshark");

type CurlEntry = {
  client_port: number;
  sent_len: number;
  sent_sha256: string;
  sent_b64: string | null;
  recv_len: number;
  recv_sha256: string;
  recv_b64: string | null;
};

const TLS_PORT = 8443;
const CAPTURES = ["http_plain_v4", "tls12_v4", "tls13_v6", "concurrent_25", "retrans"];

function load<T>(name: string): T {
  return JSON.parse(Deno.readTextFileSync(DIR + name)) as T;
}

function hasKeys(name: string): boolean {
  try {
    return Deno.statSync(`${DIR}${name}.keys`).isFile;
  } catch {
    return false;
  }
}

/**
 * Compares the oracle's map with both ground truths for the connections of
 * `name` on server port `port` (TLS port: decrypted plaintext; other: TCP
 * payload).
 */
async function compare(
  name: string,
  streams: Map<string, StreamBytes>,
  tls: boolean,
): Promise<number> {
  const server = load<TranscriptEntry[]>(`${name}.transcript.json`)
    .filter((e) => (e.server_port === TLS_PORT) === tls);
  const curl = new Map(
    load<CurlEntry[]>(`${name}.curl.json`).map((e) => [e.client_port, e] as const),
  );
  for (const e of server) {
    const key = flowKey(e.client_ip, e.client_port, e.client_ip, e.server_port);
    const s = streams.get(key);
    assert(s, `${name}: oracle has no stream ${key} (has ${[...streams.keys()].join(" ")})`);
    const w = `${name} ${key}`;
    await checkDir(
      `${w} c->s vs server`,
      s.client,
      e.client_to_server_len,
      e.client_to_server_sha256,
      e.client_to_server_b64,
    );
    await checkDir(
      `${w} s->c vs server`,
      s.server,
      e.server_to_client_len,
      e.server_to_client_sha256,
      e.server_to_client_b64,
    );
    const c = curl.get(e.client_port);
    assert(c, `${name}: no curl transcript for port ${e.client_port}`);
    await checkDir(`${w} c->s vs curl`, s.client, c.sent_len, c.sent_sha256, c.sent_b64);
    await checkDir(`${w} s->c vs curl`, s.server, c.recv_len, c.recv_sha256, c.recv_b64);
  }
  return server.length;
}

for (const name of CAPTURES) {
  Deno.test({
    name: `oracle: tcpStreams(${name}) matches the server and curl transcripts`,
    ignore,
    async fn() {
      const streams = await tcpStreams(DIR + name + ".pcap");
      const all = load<TranscriptEntry[]>(`${name}.transcript.json`);
      assertEquals(streams.size, all.length, "one TCP conversation per server connection");
      const n = await compare(name, streams, false);
      // TLS conversations: ciphertext, at least as long as the plaintext
      for (const e of all.filter((e) => e.server_port === TLS_PORT)) {
        const s = streams.get(flowKey(e.client_ip, e.client_port, e.client_ip, e.server_port))!;
        assert(s.client.length > e.client_to_server_len && s.client[0] === 0x16, "TLS c->s");
        assert(s.server.length > e.server_to_client_len && s.server[0] === 0x16, "TLS s->c");
      }
      assertEquals(n + all.filter((e) => e.server_port === TLS_PORT).length, all.length);
    },
  });
  if (name === "http_plain_v4") continue;
  Deno.test({
    name: `oracle: tlsPlaintext(${name}) matches the server and curl transcripts`,
    ignore,
    async fn() {
      assert(hasKeys(name), `${name}.keys missing`);
      const streams = await tlsPlaintext(DIR + name + ".pcap", `${DIR}${name}.keys`);
      const n = await compare(name, streams, true);
      assertEquals(streams.size, n, "one TLS conversation per TLS server connection");
      assert(n > 0);
    },
  });
}

Deno.test({
  name: "oracle: malformedCount is 0 on every fixture",
  ignore,
  async fn() {
    for (const name of CAPTURES) {
      const opts = hasKeys(name) ? { keylog: `${DIR}${name}.keys` } : undefined;
      assertEquals(await malformedCount(`${DIR}${name}.pcap`, opts), 0, name);
    }
  },
});

Deno.test({
  name: "oracle: malformedCount sees a corrupted frame",
  ignore,
  async fn() {
    const pcap = Deno.readFileSync(`${DIR}http_plain_v4.pcap`);
    // classic pcap: 24-byte file header, 16-byte record header, 14-byte
    // Ethernet header: the first frame's IPv4 version/IHL byte is at 54.
    assertEquals(pcap[54], 0x45);
    pcap[54] = 0x43; // IHL 3 (12 bytes): "bogus IP header length", an error
    const tmp = await Deno.makeTempFile({ suffix: ".pcap" });
    try {
      await Deno.writeFile(tmp, pcap);
      assert((await malformedCount(tmp)) >= 1);
    } finally {
      await Deno.remove(tmp);
    }
  },
});

Deno.test({
  name: "oracle: tsharkFields",
  ignore,
  async fn() {
    const methods = await tsharkFields(`${DIR}http_plain_v4.pcap`, [
      "http.request.method",
      "http.request.uri",
    ], "http.request");
    assertEquals(methods, [
      ["GET", "/"],
      ["GET", "/data/3000?seed=a"],
      ["GET", "/data/20000?seed=b"],
      ["POST", "/upload"],
    ]);
    const retr = await tsharkFields(
      `${DIR}retrans.pcap`,
      ["frame.number"],
      "tcp.analysis.retransmission",
    );
    assert(retr.length > 0, "retrans.pcap has retransmissions");
    // decrypted HTTP inside TLS 1.3 over IPv6
    const uris = await tsharkFields(`${DIR}tls13_v6.pcap`, ["http.request.uri"], "http.request", {
      keylog: `${DIR}tls13_v6.keys`,
    });
    assertEquals(uris.map((r) => r[0]), [
      "/",
      "/data/60000?seed=a",
      "/data/1500?seed=b",
      "/data/2500?seed=c",
    ]);
  },
});
