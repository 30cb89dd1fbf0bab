import { nobleBackend } from "../../core/tls/noble_backend.ts";
import { nativeBackend } from "./native.ts";

const native = nativeBackend();
const key = new Uint8Array(16).fill(7);
const nonce = new Uint8Array(12).fill(9);
const aad = new Uint8Array(13).fill(1);
const plain = new Uint8Array(16384).map((_, i) => i);
const sealed = nobleBackend.aeadSeal("aes-128-gcm", key, nonce, aad, plain);

Deno.bench(
  "aeadOpen aes-128-gcm 16 KiB record: node:crypto",
  { group: "gcm16k", baseline: true },
  () => {
    native.aeadOpen("aes-128-gcm", key, nonce, aad, sealed);
  },
);

Deno.bench("aeadOpen aes-128-gcm 16 KiB record: noble", { group: "gcm16k" }, () => {
  nobleBackend.aeadOpen("aes-128-gcm", key, nonce, aad, sealed);
});
