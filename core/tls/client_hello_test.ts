import { assert, assertEquals, assertThrows } from "../../tests/assert.ts";
import { DecodeError } from "../bytes/cursor.ts";
import { encodeClientHello, EXT_SERVER_NAME, extData } from "./handshake.ts";
import { MAX_CLIENT_HELLO, parseClientHello, sniffClientHello } from "./client_hello.ts";
import { encodeRecord } from "./record.ts";
import { concatBytes } from "../bytes/concat.ts";

const RANDOM = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
const HELLO = encodeClientHello({
  random: RANDOM,
  cipherSuites: [0x1301],
  extensions: [[EXT_SERVER_NAME, extData.serverName("files.example.org")]],
});

function records(msg: Uint8Array, size: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < msg.length; i += size) {
    parts.push(encodeRecord(22, 0x0301, msg.subarray(i, i + size)));
  }
  return concatBytes(parts);
}

Deno.test("sniffClientHello() reads random and SNI from one or several records", () => {
  for (const size of [HELLO.length, 50, 3, 1]) {
    const stream = records(HELLO, size);
    assertEquals(sniffClientHello(stream), { random: RANDOM, serverName: "files.example.org" });
    for (const cut of [0, 1, 5, stream.length - 1]) {
      assertEquals(sniffClientHello(stream.subarray(0, cut)), "more", `${size}/${cut}`);
    }
  }
});

Deno.test("sniffClientHello() says null for non-TLS and for other first messages", () => {
  assertEquals(sniffClientHello(new TextEncoder().encode("GET / HTTP/1.1\r\n")), null);
  assertEquals(sniffClientHello(encodeRecord(23, 0x0303, new Uint8Array(10))), null);
  const sh = HELLO.slice();
  sh[0] = 2;
  assertEquals(sniffClientHello(records(sh, 100)), null);
  const huge = Uint8Array.of(22, 3, 1, 0, 4, 1, 0x02, 0, 0);
  assertEquals(sniffClientHello(huge), null, "a hello longer than MAX_CLIENT_HELLO");
  assertEquals(sniffClientHello(new Uint8Array(MAX_CLIENT_HELLO).fill(22)), null);
});

Deno.test("parseClientHello() takes the whole message and checks its type", () => {
  assertEquals(parseClientHello(HELLO).serverName, "files.example.org");
  const bad = HELLO.slice();
  bad[0] = 2;
  assertThrows(() => parseClientHello(bad), DecodeError, "handshake type 2");
  const e = assertThrows(() => parseClientHello(HELLO.subarray(0, 40)), DecodeError);
  assert(e.message.includes("ClientHello body"));
});
