/**
 * Acceptance: `pack` then stitch, with the compiled binary, gives for every
 * TCP connection exactly the original payload bytes in each direction
 * (tshark's follow is the oracle), in two layouts: one writer and 60 s
 * objects, and three writers with split directions and 1 s objects. tshark
 * finds no malformed packet in the output.
 */
import { assert, assertBytesEqual, assertEquals } from "./assert.ts";
import { hasTool, malformedCount, tcpStreams } from "./lib/oracle.ts";
import { ensureBinary, runBin } from "./lib/bin.ts";

const CAPTURES = "tests/fixtures/captures";
const LAYOUTS: [string, string[]][] = [
  ["one writer, 60 s objects", []],
  ["3 writers, split directions, 1 s objects", [
    "--writers",
    "3",
    "--split-directions",
    "--window",
    "1",
  ]],
];
const FIXTURES = ["http_plain_v4", "tls12_v4", "tls13_v6", "concurrent_25", "retrans"];

for (const name of FIXTURES) {
  for (const [layout, packArgs] of LAYOUTS) {
    Deno.test({
      name: `pack then stitch keeps every connection of ${name}.pcap byte for byte (${layout})`,
      ignore: !hasTool("tshark"),
      async fn() {
        await ensureBinary();
        const dir = await Deno.makeTempDir({ prefix: "stitcher-rt-" });
        try {
          const pcap = `${CAPTURES}/${name}.pcap`;
          const keys = `${CAPTURES}/${name}.keys`;
          const keyArgs = await Deno.stat(keys).then(() => ["--keylog", keys], () => []);
          const packed = await runBin([
            "pack",
            "--pcap",
            pcap,
            ...keyArgs,
            "--origin",
            "US-NYC1",
            "--provider",
            "file",
            "-b",
            `${dir}/bucket`,
            ...packArgs,
          ]);
          assertEquals(packed.code, 0, packed.stderr);
          const out = `${dir}/out.pcap`;
          const run = await runBin([
            "--provider",
            "file",
            "-b",
            `${dir}/bucket`,
            "-e",
            out,
            "--report",
            `${dir}/report.json`,
            "--strict",
          ]);
          assertEquals(run.code, 0, run.stderr);
          const [want, got] = await Promise.all([tcpStreams(pcap), tcpStreams(out)]);
          assertEquals([...got.keys()].sort(), [...want.keys()].sort(), "the same connections");
          for (const [conn, w] of want) {
            const g = got.get(conn)!;
            assertBytesEqual(g.client, w.client, `${conn} client to server:`);
            assertBytesEqual(g.server, w.server, `${conn} server to client:`);
          }
          assertEquals(await malformedCount(out), 0);
          const report = JSON.parse(await Deno.readTextFile(`${dir}/report.json`));
          assertEquals(report.gaps.count, 0);
          assert(
            report.flows.opened === want.size,
            `flows opened ${report.flows.opened} != ${want.size}`,
          );
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      },
    });
  }
}
