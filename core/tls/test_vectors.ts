/**
 * Known answers shared by the backend and key schedule tests, and the cases
 * every `CipherBackend` must pass (run by core/tls/noble_backend_test.ts and
 * plugins/crypto/native_test.ts). Also a minimal TLS reader for the capture
 * fixtures, so both backends decrypt real curl/OpenSSL traffic.
 *
 * Sources:
 * - GCM: McGrew and Viega, "The Galois/Counter Mode of Operation (GCM)",
 *   revised 2005, Appendix B, test cases 1-4 (AES-128) and 13-16 (AES-256),
 *   the reference cases of NIST SP 800-38D.
 * - ChaCha20-Poly1305: RFC 8439 §2.8.2.
 * - CBC: NIST SP 800-38A Appendix F.2.1 (CBC-AES128) and F.2.5 (CBC-AES256).
 * - HMAC: RFC 4231 §4.2, §4.3, §4.4, §4.7, §4.8 (SHA-256, SHA-384); RFC 2202 §3 (SHA-1).
 * - TLS 1.2 PRF: the P_SHA256 and P_SHA384 vectors posted to the IETF TLS WG
 *   list (mail-archive/web/tls/current/msg03416.html).
 * - TLS 1.3: RFC 8448 §3 (simple 1-RTT handshake, TLS_AES_128_GCM_SHA256).
 */
import { fromHex } from "../bytes/hex.ts";
import { PcapReader } from "../format/pcap.ts";
import type { KeyLogEntry } from "../format/keylog.ts";
import { decodeLink, newParsedPacket } from "../net/link.ts";
import { SYN } from "../net/tcp.ts";
import { type CipherSuite, suiteById } from "./cipher_suites.ts";
import type { AeadAlg, CbcAlg, CipherBackend, HashAlg } from "./crypto.ts";
import {
  aad12,
  aad13,
  keyBlock12,
  nextTrafficSecret13,
  nonce13,
  nonceChacha12,
  nonceGcm12,
  openCbc12,
  trafficKeys13,
} from "./key_schedule.ts";
import { concatBytes } from "../bytes/concat.ts";

const h = fromHex;
const ascii = (s: string) => new TextEncoder().encode(s);

export interface AeadVector {
  name: string;
  alg: AeadAlg;
  key: Uint8Array;
  nonce: Uint8Array;
  aad: Uint8Array;
  plain: Uint8Array;
  /** Ciphertext || tag. */
  sealed: Uint8Array;
}

const GCM_P = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" +
  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
const GCM_A = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
const GCM_K128 = "feffe9928665731c6d6a8f9467308308";
const GCM_IV = "cafebabefacedbaddecaf888";
const GCM_C3 = "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e" +
  "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985";
const GCM_C15 = "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa" +
  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad";

function gcm(
  name: string,
  alg: AeadAlg,
  key: string,
  nonce: string,
  aad: string,
  plain: string,
  ct: string,
  tag: string,
): AeadVector {
  return {
    name,
    alg,
    key: h(key),
    nonce: h(nonce),
    aad: h(aad),
    plain: h(plain),
    sealed: h(ct + tag),
  };
}

export const AEAD_VECTORS: readonly AeadVector[] = [
  gcm(
    "GCM test case 1",
    "aes-128-gcm",
    "00".repeat(16),
    "00".repeat(12),
    "",
    "",
    "",
    "58e2fccefa7e3061367f1d57a4e7455a",
  ),
  gcm(
    "GCM test case 2",
    "aes-128-gcm",
    "00".repeat(16),
    "00".repeat(12),
    "",
    "00".repeat(16),
    "0388dace60b6a392f328c2b971b2fe78",
    "ab6e47d42cec13bdf53a67b21257bddf",
  ),
  gcm(
    "GCM test case 3",
    "aes-128-gcm",
    GCM_K128,
    GCM_IV,
    "",
    GCM_P,
    GCM_C3,
    "4d5c2af327cd64a62cf35abd2ba6fab4",
  ),
  gcm(
    "GCM test case 4 (with AAD)",
    "aes-128-gcm",
    GCM_K128,
    GCM_IV,
    GCM_A,
    GCM_P.slice(0, 120),
    GCM_C3.slice(0, 120),
    "5bc94fbc3221a5db94fae95ae7121a47",
  ),
  gcm(
    "GCM test case 13",
    "aes-256-gcm",
    "00".repeat(32),
    "00".repeat(12),
    "",
    "",
    "",
    "530f8afbc74536b9a963b4f1c4cb738b",
  ),
  gcm(
    "GCM test case 14",
    "aes-256-gcm",
    "00".repeat(32),
    "00".repeat(12),
    "",
    "00".repeat(16),
    "cea7403d4d606b6e074ec5d3baf39d18",
    "d0d1c8a799996bf0265b98b5d48ab919",
  ),
  gcm(
    "GCM test case 15",
    "aes-256-gcm",
    GCM_K128 + GCM_K128,
    GCM_IV,
    "",
    GCM_P,
    GCM_C15,
    "b094dac5d93471bdec1a502270e3cc6c",
  ),
  gcm(
    "GCM test case 16 (with AAD)",
    "aes-256-gcm",
    GCM_K128 + GCM_K128,
    GCM_IV,
    GCM_A,
    GCM_P.slice(0, 120),
    GCM_C15.slice(0, 120),
    "76fc6ece0f4e1768cddf8853bb2d551b",
  ),
  {
    name: "RFC 8439 §2.8.2",
    alg: "chacha20-poly1305",
    key: h("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"),
    nonce: h("070000004041424344454647"),
    aad: h("50515253c0c1c2c3c4c5c6c7"),
    plain: ascii(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    ),
    sealed: h(
      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6" +
        "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36" +
        "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc" +
        "3ff4def08e4b7a9de576d26586cec64b6116" +
        "1ae10b594f09e26a7e902ecbd0600691",
    ),
  },
];

export interface CbcVector {
  name: string;
  alg: CbcAlg;
  key: Uint8Array;
  iv: Uint8Array;
  cipher: Uint8Array;
  plain: Uint8Array;
}

const SP800_38A_PLAIN = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51" +
  "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

export const CBC_VECTORS: readonly CbcVector[] = [
  {
    name: "SP 800-38A F.2.1/F.2.2 CBC-AES128",
    alg: "aes-128-cbc",
    key: h("2b7e151628aed2a6abf7158809cf4f3c"),
    iv: h("000102030405060708090a0b0c0d0e0f"),
    cipher: h(
      "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2" +
        "73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7",
    ),
    plain: h(SP800_38A_PLAIN),
  },
  {
    name: "SP 800-38A F.2.5/F.2.6 CBC-AES256",
    alg: "aes-256-cbc",
    key: h("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"),
    iv: h("000102030405060708090a0b0c0d0e0f"),
    cipher: h(
      "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d" +
        "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b",
    ),
    plain: h(SP800_38A_PLAIN),
  },
];

export interface HmacVector {
  name: string;
  hash: HashAlg;
  key: Uint8Array;
  data: Uint8Array;
  mac: Uint8Array;
}

const KEY_0B20 = "0b".repeat(20);
const KEY_AA20 = "aa".repeat(20);
const DATA_DD50 = "dd".repeat(50);
const BIG_KEY_DATA = "Test Using Larger Than Block-Size Key - Hash Key First";
const BIG_KEY_BIG_DATA =
  "This is a test using a larger than block-size key and a larger than block-size data." +
  " The key needs to be hashed before being used by the HMAC algorithm.";

function hv(
  name: string,
  hash: HashAlg,
  key: Uint8Array,
  data: Uint8Array,
  mac: string,
): HmacVector {
  return { name, hash, key, data, mac: h(mac) };
}

export const HMAC_VECTORS: readonly HmacVector[] = [
  hv(
    "RFC 4231 §4.2",
    "sha256",
    h(KEY_0B20),
    ascii("Hi There"),
    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
  ),
  hv(
    "RFC 4231 §4.2",
    "sha384",
    h(KEY_0B20),
    ascii("Hi There"),
    "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
  ),
  hv(
    "RFC 4231 §4.3",
    "sha256",
    ascii("Jefe"),
    ascii("what do ya want for nothing?"),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  ),
  hv(
    "RFC 4231 §4.3",
    "sha384",
    ascii("Jefe"),
    ascii("what do ya want for nothing?"),
    "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
  ),
  hv(
    "RFC 4231 §4.4",
    "sha256",
    h(KEY_AA20),
    h(DATA_DD50),
    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
  ),
  hv(
    "RFC 4231 §4.4",
    "sha384",
    h(KEY_AA20),
    h(DATA_DD50),
    "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27",
  ),
  hv(
    "RFC 4231 §4.7",
    "sha256",
    h("aa".repeat(131)),
    ascii(BIG_KEY_DATA),
    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
  ),
  hv(
    "RFC 4231 §4.7",
    "sha384",
    h("aa".repeat(131)),
    ascii(BIG_KEY_DATA),
    "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952",
  ),
  hv(
    "RFC 4231 §4.8",
    "sha256",
    h("aa".repeat(131)),
    ascii(BIG_KEY_BIG_DATA),
    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
  ),
  hv(
    "RFC 4231 §4.8",
    "sha384",
    h("aa".repeat(131)),
    ascii(BIG_KEY_BIG_DATA),
    "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e",
  ),
  hv(
    "RFC 2202 §3 test case 1",
    "sha1",
    h(KEY_0B20),
    ascii("Hi There"),
    "b617318655057264e28bc0b6fb378c8ef146be00",
  ),
  hv(
    "RFC 2202 §3 test case 2",
    "sha1",
    ascii("Jefe"),
    ascii("what do ya want for nothing?"),
    "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
  ),
  hv(
    "RFC 2202 §3 test case 3",
    "sha1",
    h(KEY_AA20),
    h(DATA_DD50),
    "125d7342b9ac11cd91a39af48aa17b4f63f175d3",
  ),
  hv(
    "RFC 2202 §3 test case 6",
    "sha1",
    h("aa".repeat(80)),
    ascii(BIG_KEY_DATA),
    "aa4ae5e15272d00e95705637ce8a3b55ed402112",
  ),
];

export interface PrfVector {
  name: string;
  hash: "sha256" | "sha384";
  secret: Uint8Array;
  label: string;
  seed: Uint8Array;
  out: Uint8Array;
}

export const PRF_VECTORS: readonly PrfVector[] = [
  {
    name: "TLS WG P_SHA256",
    hash: "sha256",
    secret: h("9bbe436ba940f017b17652849a71db35"),
    label: "test label",
    seed: h("a0ba9f936cda311827a6f796ffd5198c"),
    out: h(
      "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a" +
        "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab" +
        "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701" +
        "87347b66",
    ),
  },
  {
    name: "TLS WG P_SHA384",
    hash: "sha384",
    secret: h("b80b733d6ceefcdc71566ea48e5567df"),
    label: "test label",
    seed: h("cd665cf6a8447dd6ff8b27555edb7465"),
    out: h(
      "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd" +
        "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd" +
        "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425" +
        "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6" +
        "91c8f3a26854308d5eaa3be85e0990703d73e56f",
    ),
  },
];

/** RFC 8448 §3, TLS_AES_128_GCM_SHA256. */
export const RFC8448 = {
  earlySecret: h("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a"),
  /** Derive-Secret(early secret, "derived", "") */
  derivedFromEarly: h("6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba"),
  handshakeSecret: h("1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac"),
  /** Transcript-Hash(ClientHello, ServerHello) */
  helloHash: h("860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8"),
  clientHsSecret: h("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21"),
  serverHsSecret: h("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38"),
  clientApSecret: h("9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5"),
  serverApSecret: h("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643"),
  clientHsKey: h("dbfaa693d1762c5b666af5d950258d01"),
  clientHsIv: h("5bd3c71b836e0b76bb73265f"),
  serverHsKey: h("3fce516009c21727d0f2e4e86ee403bc"),
  serverHsIv: h("5d313eb2671276ee13000b30"),
  clientApKey: h("17422dda596ed5d9acd890e3c63f5051"),
  clientApIv: h("5b78923dee08579033e523d9"),
  serverApKey: h("9f02283b6c9c07efc26bb9f2ac92e356"),
  serverApIv: h("cf782b88dd83549aadf1e984"),
  /** {server} send handshake record: EncryptedExtensions..Finished, under the server handshake key, seq 0. */
  serverFlightRecord: h(
    "17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35edf7869fcf40aa40aa2b8ea73f848a7ca07" +
      "612ef9f945cb960b4068905123ea78b111b429ba9191cd05d2a389280f526134aadc7fc78c4b729df828b5ecf7b13bd9ae" +
      "fb0e57f271585b8ea9bb355c7c79020716cfb9b1183ef3ab20e37d57a6b9d7477609aee6e122a4cf51427325250c7d0e50" +
      "9289444c9b3a648f1d71035d2ed65b0e3cdd0cbae8bf2d0b227812cbb360987255cc744110c453baa4fcd610928d809810" +
      "e4b7ed1a8fd991f06aa6248204797e36a6a73b70a2559c09ead686945ba246ab66e5edd8044b4c6de3fcf2a89441ac6627" +
      "2fd8fb330ef8190579b3684596c960bd596eea520a56a8d650f563aad27409960dca63d3e688611ea5e22f4415cf9538d5" +
      "1a200c27034272968a264ed6540c84838d89f72c24461aad6d26f59ecaba9acbbb317b66d902f4f292a36ac1b639c637ce" +
      "343117b659622245317b49eeda0c6258f100d7d961ffb138647e92ea330faeea6dfa31c7a84dc3bd7e1b7a6c7178af3687" +
      "9018e3f252107f243d243dc7339d5684c8b0378bf30244da8c87c843f5e56eb4c5e8280a2b48052cf93b16499a66db7cca" +
      "71e4599426f7d461e66f99882bd89fc50800becca62d6c74116dbd2972fda1fa80f85df881edbe5a37668936b335583b59" +
      "9186dc5c6918a396fa48a181d6b6fa4f9d62d513afbb992f2b992f67f8afe67f76913fa388cb5630c8ca01e0c65d11c66a" +
      "1e2ac4c85977b7c7a6999bbf10dc35ae69f5515614636c0b9b68c19ed2e31c0b3b66763038ebba42f3b38edc0399f3a9f2" +
      "3faa63978c317fc9fa66a73f60f0504de93b5b845e275592c12335ee340bbc4fddd502784016e4b3be7ef04dda49f4b440" +
      "a30cb5d2af939828fd4ae3794e44f94df5a631ede42c1719bfdabf0253fe5175be898e750edc53370d2b",
  ),
  /** The flight's first message (EncryptedExtensions) and last (the server Finished). */
  encryptedExtensions: h(
    "080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000",
  ),
  serverFinished: h("140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718"),
  /** {client} send handshake record: the client Finished, under the client handshake key, seq 0. */
  clientFinishedRecord: h(
    "170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f80338ac98fc46deb384bd1caeacab6867d726c40546",
  ),
  clientFinished: h("14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61"),
  /**
   * application_data records under each side's application key, payload 00..31: the
   * client's at seq 0, the server's at seq 1 (after its NewSessionTicket).
   */
  clientDataRecord: h(
    "1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b9819a8a5b46b395bd54a9a20441e2b62974e1f5a6292a2977014bd1e3deae63aeebb21694915e4",
  ),
  serverDataRecord: h(
    "17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36e30efaf97d90e6dffc602dcb501a59a8fcc49c4bf2e5f0a21c0047c2abf332540dd032e167c2955d",
  ),
  /** close_notify alerts: the client's at seq 1, the server's at seq 2. */
  clientAlertRecord: h("1703030013c9872760655666b74d7ff1153efd6db6d0b0e3"),
  serverAlertRecord: h("1703030013b58fd67166ebf599d24720cfbe7efa7a8864a9"),
};

export function fail(msg: string): never {
  throw new Error(msg);
}

export function hexOf(b: Uint8Array | null): string {
  if (b === null) return "null";
  let s = "";
  for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, "0");
  return s;
}

export function expectBytes(actual: Uint8Array | null, expected: Uint8Array, what: string): void {
  const a = hexOf(actual), e = hexOf(expected);
  if (a !== e) fail(`${what}: got ${a}, want ${e}`);
}

/**
 * Opens one TLS 1.3 record (header included) and splits the inner plaintext
 * (RFC 8446 §5.2, §5.4): content, inner type. Null when the tag fails.
 */
export function openRecord13(
  backend: CipherBackend,
  alg: AeadAlg,
  key: Uint8Array,
  iv: Uint8Array,
  seq: number,
  record: Uint8Array,
): { type: number; content: Uint8Array } | null {
  const plain = backend.aeadOpen(
    alg,
    key,
    nonce13(iv, seq),
    record.subarray(0, 5),
    record.subarray(5),
  );
  if (plain === null) return null;
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  if (end === 0) fail(`TLS 1.3 record seq ${seq}: inner plaintext is all padding`);
  return { type: plain[end - 1], content: plain.subarray(0, end - 1) };
}

function flip(b: Uint8Array, at: number): Uint8Array {
  const c = b.slice();
  c[at] ^= 0x01;
  return c;
}

/** Builds a TLS 1.2 CBC record fragment (for `openCbc12` tests) with the reference backend's primitives given. */
export function sealCbc12ForTest(
  encrypt: (key: Uint8Array, iv: Uint8Array, data: Uint8Array) => Uint8Array,
  backend: CipherBackend,
  suite: CipherSuite,
  key: Uint8Array,
  macKey: Uint8Array,
  iv: Uint8Array,
  seq: number,
  type: number,
  plain: Uint8Array,
  encryptThenMac: boolean,
): Uint8Array {
  const macHash = suite.macHash ?? fail(`${suite.name} has no MAC`);
  const padded = (len: number) => {
    const padLen = 15 - (len % 16);
    const out = new Uint8Array(len + padLen + 1);
    out.fill(padLen, len);
    return out;
  };
  if (encryptThenMac) {
    const body = padded(plain.length);
    body.set(plain);
    const ct = encrypt(key, iv, body);
    const ivCt = new Uint8Array(16 + ct.length);
    ivCt.set(iv);
    ivCt.set(ct, 16);
    const mac = backend.hmac(macHash, macKey, [aad12(seq, type, 0x0303, ivCt.length), ivCt]);
    const out = new Uint8Array(ivCt.length + mac.length);
    out.set(ivCt);
    out.set(mac, ivCt.length);
    return out;
  }
  const mac = backend.hmac(macHash, macKey, [aad12(seq, type, 0x0303, plain.length), plain]);
  const body = padded(plain.length + mac.length);
  body.set(plain);
  body.set(mac, plain.length);
  const ct = encrypt(key, iv, body);
  const out = new Uint8Array(16 + ct.length);
  out.set(iv);
  out.set(ct, 16);
  return out;
}

export interface BackendCase {
  name: string;
  run(backend: CipherBackend): void;
}

/**
 * Every case a `CipherBackend` passes. `encryptCbc` is a raw CBC encryptor
 * (no padding) used to build CBC records, from a different implementation
 * than the backend under test when possible.
 */
export function backendCases(
  encryptCbc: (key: Uint8Array, iv: Uint8Array, data: Uint8Array) => Uint8Array,
): BackendCase[] {
  const cases: BackendCase[] = [];
  for (const v of AEAD_VECTORS) {
    cases.push({
      name: `aeadOpen() and aeadSeal() match ${v.name} (${v.alg})`,
      run(b) {
        if (!b.supports(v.alg)) return;
        expectBytes(b.aeadSeal(v.alg, v.key, v.nonce, v.aad, v.plain), v.sealed, `${v.name} seal`);
        expectBytes(b.aeadOpen(v.alg, v.key, v.nonce, v.aad, v.sealed), v.plain, `${v.name} open`);
      },
    });
    cases.push({
      name:
        `aeadOpen() returns null for ${v.name} (${v.alg}) with a flipped tag, ciphertext or AAD`,
      run(b) {
        if (!b.supports(v.alg)) return;
        const n = v.sealed.length;
        if (b.aeadOpen(v.alg, v.key, v.nonce, v.aad, flip(v.sealed, n - 1)) !== null) {
          fail("flipped tag opened");
        }
        if (n > 16 && b.aeadOpen(v.alg, v.key, v.nonce, v.aad, flip(v.sealed, 0)) !== null) {
          fail("flipped ciphertext opened");
        }
        if (
          v.aad.length > 0 && b.aeadOpen(v.alg, v.key, v.nonce, flip(v.aad, 0), v.sealed) !== null
        ) {
          fail("flipped AAD opened");
        }
        if (b.aeadOpen(v.alg, v.key, v.nonce, v.aad, v.sealed.subarray(0, 15)) !== null) {
          fail("a sealed input shorter than a tag opened");
        }
      },
    });
  }
  for (const v of CBC_VECTORS) {
    cases.push({
      name: `cbcDecrypt() matches ${v.name}`,
      run(b) {
        if (!b.supports(v.alg)) return;
        expectBytes(b.cbcDecrypt(v.alg, v.key, v.iv, v.cipher), v.plain, v.name);
        // The second block alone, with the first ciphertext block as its IV.
        expectBytes(
          b.cbcDecrypt(v.alg, v.key, v.cipher.subarray(0, 16), v.cipher.subarray(16, 32)),
          v.plain.subarray(16, 32),
          `${v.name} block 2`,
        );
        expectBytes(
          b.cbcDecrypt(v.alg, v.key, v.iv, new Uint8Array(0)),
          new Uint8Array(0),
          "empty",
        );
        let threw = false;
        try {
          b.cbcDecrypt(v.alg, v.key, v.iv, v.cipher.subarray(0, 17));
        } catch {
          threw = true;
        }
        if (!threw) fail("cbcDecrypt() of 17 bytes did not throw");
      },
    });
  }
  for (const v of HMAC_VECTORS) {
    cases.push({
      name: `hmac() matches ${v.name} HMAC-${v.hash.toUpperCase()}`,
      run(b) {
        expectBytes(b.hmac(v.hash, v.key, [v.data]), v.mac, v.name);
        const cut = v.data.length >> 1;
        expectBytes(
          b.hmac(v.hash, v.key, [v.data.subarray(0, cut), new Uint8Array(0), v.data.subarray(cut)]),
          v.mac,
          `${v.name} in parts`,
        );
      },
    });
  }
  const r = RFC8448;
  const gcm128: AeadAlg = "aes-128-gcm";
  cases.push({
    name: "RFC 8448 §3: the server's encrypted handshake flight opens",
    run(b) {
      const rec = openRecord13(b, gcm128, r.serverHsKey, r.serverHsIv, 0, r.serverFlightRecord) ??
        fail("server flight did not open");
      if (rec.type !== 22) fail(`server flight inner type ${rec.type}, want 22`);
      if (rec.content.length !== 0x2a2 - 17) fail(`server flight is ${rec.content.length} bytes`);
      expectBytes(
        rec.content.subarray(0, r.encryptedExtensions.length),
        r.encryptedExtensions,
        "EncryptedExtensions",
      );
      expectBytes(
        rec.content.subarray(rec.content.length - r.serverFinished.length),
        r.serverFinished,
        "Finished",
      );
      if (openRecord13(b, gcm128, r.serverHsKey, r.serverHsIv, 1, r.serverFlightRecord) !== null) {
        fail("server flight opened with seq 1");
      }
    },
  });
  cases.push({
    name: "RFC 8448 §3: the client Finished, application data and alerts open",
    run(b) {
      const fin = openRecord13(b, gcm128, r.clientHsKey, r.clientHsIv, 0, r.clientFinishedRecord) ??
        fail("client Finished did not open");
      if (fin.type !== 22) fail(`client Finished inner type ${fin.type}`);
      expectBytes(fin.content, r.clientFinished, "client Finished");
      const payload = new Uint8Array(50).map((_, i) => i);
      for (
        const [key, iv, seq, rec, who] of [
          [r.clientApKey, r.clientApIv, 0, r.clientDataRecord, "client"],
          [r.serverApKey, r.serverApIv, 1, r.serverDataRecord, "server"],
        ] as const
      ) {
        const data = openRecord13(b, gcm128, key, iv, seq, rec) ?? fail(`${who} data did not open`);
        if (data.type !== 23) fail(`${who} data inner type ${data.type}`);
        expectBytes(data.content, payload, `${who} application data`);
      }
      for (
        const [key, iv, seq, rec, who] of [
          [r.clientApKey, r.clientApIv, 1, r.clientAlertRecord, "client"],
          [r.serverApKey, r.serverApIv, 2, r.serverAlertRecord, "server"],
        ] as const
      ) {
        const alert = openRecord13(b, gcm128, key, iv, seq, rec) ??
          fail(`${who} alert did not open`);
        if (alert.type !== 21) fail(`${who} alert inner type ${alert.type}`);
        expectBytes(alert.content, h("0100"), `${who} close_notify`);
      }
    },
  });
  for (const id of [0xc013, 0xc014, 0xc027, 0xc028]) {
    for (const etm of [false, true]) {
      const suite = suiteById(id) ?? fail(`no suite 0x${id.toString(16)}`);
      cases.push({
        name: `openCbc12() opens ${suite.name} ${
          etm ? "encrypt-then-MAC" : "MAC-then-encrypt"
        } records and rejects bad ones`,
        run(b) {
          if (!b.supports(suite.cbc!)) return;
          const key = new Uint8Array(suite.keyLen).map((_, i) => i + 1);
          const macKey = new Uint8Array(suite.macLen).map((_, i) => 0x80 + i);
          const keys = { key, macKey };
          for (const len of [0, 1, 15, 16, 17, 100, 16384]) {
            const plain = new Uint8Array(len).map((_, i) => (i * 7) & 0xff);
            const iv = new Uint8Array(16).fill(len & 0xff);
            const seq = 0x1_0000_0005 + len;
            const frag = sealCbc12ForTest(
              encryptCbc,
              b,
              suite,
              key,
              macKey,
              iv,
              seq,
              23,
              plain,
              etm,
            );
            expectBytes(openCbc12(b, suite, keys, seq, 23, 0x0303, frag, etm), plain, `len ${len}`);
            if (openCbc12(b, suite, keys, seq + 1, 23, 0x0303, frag, etm) !== null) {
              fail(`len ${len}: wrong seq opened`);
            }
            if (openCbc12(b, suite, keys, seq, 22, 0x0303, frag, etm) !== null) {
              fail(`len ${len}: wrong type opened`);
            }
            if (
              openCbc12(b, suite, keys, seq, 23, 0x0303, flip(frag, frag.length - 1), etm) !== null
            ) {
              fail(`len ${len}: flipped last byte opened`);
            }
            if (openCbc12(b, suite, keys, seq, 23, 0x0303, flip(frag, 3), etm) !== null) {
              fail(`len ${len}: flipped IV opened`);
            }
            if (
              openCbc12(b, suite, keys, seq, 23, 0x0303, frag.subarray(0, frag.length - 1), etm) !==
                null
            ) {
              fail(`len ${len}: short fragment opened`);
            }
          }
          if (openCbc12(b, suite, keys, 0, 23, 0x0303, new Uint8Array(0), etm) !== null) {
            fail("empty fragment opened");
          }
          if (openCbc12(b, suite, keys, 0, 23, 0x0303, new Uint8Array(16), etm) !== null) {
            fail("IV-only fragment opened");
          }
        },
      });
    }
  }
  return cases;
}

/** One TCP connection of a capture: each direction's bytes in order. */
export interface CaptureConn {
  clientPort: number;
  toServer: Uint8Array;
  toClient: Uint8Array;
}

class Stream {
  isn = -1;
  segs: { rel: number; data: Uint8Array }[] = [];
  add(seq: number, flags: number, payload: Uint8Array): void {
    if (flags & SYN) this.isn = seq;
    else if (payload.length > 0 && this.isn >= 0) {
      this.segs.push({ rel: (seq - this.isn - 1) >>> 0, data: payload.slice() });
    }
  }
  /** The bytes in sequence order; overlaps (retransmissions) kept once. */
  bytes(): Uint8Array {
    this.segs.sort((a, b) => a.rel - b.rel);
    const parts: Uint8Array[] = [];
    let next = 0;
    for (const { rel, data } of this.segs) {
      if (rel > next) fail(`TCP gap of ${rel - next} bytes at relative seq ${next}`);
      if (rel + data.length <= next) continue;
      parts.push(data.subarray(next - rel));
      next = rel + data.length;
    }
    return concatBytes(parts);
  }
}

/** The TCP connections to `serverPort` in a pcap file, in order of their SYN; retransmissions dropped. */
export function captureConns(pcap: Uint8Array, serverPort: number): CaptureConn[] {
  const conns = new Map<number, { up: Stream; down: Stream }>();
  const pkt = newParsedPacket();
  const reader = new PcapReader((p) => {
    if (!decodeLink(p.linkType, p.data, pkt) || pkt.ipProto !== 6) return;
    const up = pkt.dport === serverPort;
    if (!up && pkt.sport !== serverPort) return;
    const port = up ? pkt.sport : pkt.dport;
    let c = conns.get(port);
    if (c === undefined) conns.set(port, c = { up: new Stream(), down: new Stream() });
    (up ? c.up : c.down).add(pkt.seq, pkt.tcpFlags, pkt.payload);
  }, (problem) => fail(`pcap: ${problem.detail}`));
  reader.push(pcap);
  reader.finish();
  return [...conns].map(([clientPort, c]) => ({
    clientPort,
    toServer: c.up.bytes(),
    toClient: c.down.bytes(),
  }));
}

interface Rec {
  type: number;
  /** The 5-byte header and the fragment. */
  whole: Uint8Array;
  fragment: Uint8Array;
}

function records(stream: Uint8Array): Rec[] {
  const out: Rec[] = [];
  for (let pos = 0; pos + 5 <= stream.length;) {
    const len = (stream[pos + 3] << 8) | stream[pos + 4];
    if (pos + 5 + len > stream.length) fail(`TLS record at ${pos} runs past the stream end`);
    out.push({
      type: stream[pos],
      whole: stream.subarray(pos, pos + 5 + len),
      fragment: stream.subarray(pos + 5, pos + 5 + len),
    });
    pos += 5 + len;
  }
  return out;
}

/** The application data of one direction, and the handshake message types seen encrypted. */
export interface DirectionPlain {
  app: Uint8Array;
  handshakeTypes: number[];
}

/**
 * Decrypts one captured TLS 1.2 (AEAD) or TLS 1.3 connection with the key log,
 * on `backend`: every encrypted record must open.
 */
export function decryptConn(
  conn: CaptureConn,
  keylog: readonly KeyLogEntry[],
  backend: CipherBackend,
): { suite: CipherSuite; toServer: DirectionPlain; toClient: DirectionPlain } {
  const up = records(conn.toServer), down = records(conn.toClient);
  const ch = up[0]?.fragment ?? fail("no ClientHello");
  const sh = down[0]?.fragment ?? fail("no ServerHello");
  if (ch[0] !== 1 || sh[0] !== 2) fail(`first handshake messages are ${ch[0]} and ${sh[0]}`);
  const clientRandom = ch.subarray(6, 38), serverRandom = sh.subarray(6, 38);
  const sidLen = sh[38];
  const id = (sh[39 + sidLen] << 8) | sh[40 + sidLen];
  const suite = suiteById(id) ?? fail(`unknown suite 0x${id.toString(16)}`);
  const secret = (label: string) =>
    keylog.find((e) => e.label === label && hexOf(e.clientRandom) === hexOf(clientRandom))
      ?.secret ??
      fail(`no ${label} for client random ${hexOf(clientRandom)}`);
  if (suite.version === "1.2") {
    const kb = keyBlock12(suite, secret("CLIENT_RANDOM"), clientRandom, serverRandom);
    return {
      suite,
      toServer: open12(backend, suite, up, kb.clientWriteKey, kb.clientWriteIv),
      toClient: open12(backend, suite, down, kb.serverWriteKey, kb.serverWriteIv),
    };
  }
  return {
    suite,
    toServer: open13(
      backend,
      suite,
      up,
      secret("CLIENT_HANDSHAKE_TRAFFIC_SECRET"),
      secret("CLIENT_TRAFFIC_SECRET_0"),
    ),
    toClient: open13(
      backend,
      suite,
      down,
      secret("SERVER_HANDSHAKE_TRAFFIC_SECRET"),
      secret("SERVER_TRAFFIC_SECRET_0"),
    ),
  };
}

function open12(
  b: CipherBackend,
  suite: CipherSuite,
  recs: Rec[],
  key: Uint8Array,
  iv: Uint8Array,
): DirectionPlain {
  const alg = suite.aead ?? fail(`${suite.name} is not AEAD`);
  const app: Uint8Array[] = [];
  const handshakeTypes: number[] = [];
  let seq = -1;
  const nonce = new Uint8Array(12), aad = new Uint8Array(13);
  for (const rec of recs) {
    if (rec.type === 20) {
      seq = 0;
      continue;
    }
    if (seq < 0) continue;
    const explicit = rec.fragment.subarray(0, suite.recordIvLen);
    const sealed = rec.fragment.subarray(suite.recordIvLen);
    if (suite.recordIvLen === 8) nonceGcm12(iv, explicit, nonce);
    else nonceChacha12(iv, seq, nonce);
    aad12(seq, rec.type, 0x0303, sealed.length - 16, aad);
    const plain = b.aeadOpen(alg, key, nonce, aad, sealed) ??
      fail(`TLS 1.2 record seq ${seq} did not open`);
    if (rec.type === 23) app.push(plain.slice()); // the backend may reuse its buffer
    if (rec.type === 22) handshakeTypes.push(plain[0]);
    seq++;
  }
  return { app: concatBytes(app), handshakeTypes };
}

function open13(
  b: CipherBackend,
  suite: CipherSuite,
  recs: Rec[],
  hsSecret: Uint8Array,
  apSecret: Uint8Array,
): DirectionPlain {
  const alg = suite.aead ?? fail(`${suite.name} is not AEAD`);
  let keys = trafficKeys13(suite, hsSecret);
  let secret = apSecret;
  let seq = 0;
  let handshake = true;
  const app: Uint8Array[] = [];
  const handshakeTypes: number[] = [];
  let hs: Uint8Array = new Uint8Array(0);
  const aad = new Uint8Array(5), nonce = new Uint8Array(12);
  for (const rec of recs) {
    if (rec.type !== 23) continue;
    aad13(rec.type, 0x0303, rec.fragment.length, aad);
    const plain = b.aeadOpen(alg, keys.key, nonce13(keys.iv, seq, nonce), aad, rec.fragment) ??
      fail(`TLS 1.3 record seq ${seq} did not open`);
    seq++;
    let end = plain.length;
    while (end > 0 && plain[end - 1] === 0) end--;
    const type = plain[end - 1];
    const content = plain.subarray(0, end - 1);
    if (type === 23) app.push(content.slice()); // the backend may reuse its buffer
    if (type !== 22) continue;
    hs = concatBytes([hs, content]);
    while (hs.length >= 4) {
      const len = (hs[1] << 16) | (hs[2] << 8) | hs[3];
      if (hs.length < 4 + len) break;
      const msgType = hs[0];
      handshakeTypes.push(msgType);
      hs = hs.slice(4 + len);
      // RFC 8446 §4.4.4: Finished ends the handshake keys; §4.6.3 KeyUpdate steps the application secret.
      if ((msgType === 20 && handshake) || msgType === 24) {
        if (msgType === 24) secret = nextTrafficSecret13(suite.prfHash, secret);
        handshake = false;
        keys = trafficKeys13(suite, secret);
        seq = 0;
      }
    }
  }
  return { app: concatBytes(app), handshakeTypes };
}
