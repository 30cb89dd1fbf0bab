/**
 * The packet shape shared by the pcap and pcapng readers, and a reader that
 * sniffs a capture file's first four bytes and delegates to the right one.
 *
 * ```
 *  first 4 bytes (as stored)         format
 *  d4 c3 b2 a1 / a1 b2 c3 d4         pcap, µs, little / big endian   (draft-ietf-opsawg-pcap)
 *  4d 3c b2 a1 / a1 b2 3c 4d         pcap, ns, little / big endian
 *  0a 0d 0d 0a                       pcapng Section Header Block     (draft-ietf-opsawg-pcapng)
 *  1f 8b                             gzip: reported, to be decompressed first
 * ```
 */
import type { DecodeProblem } from "./ctap_record.ts";
import { PCAP_MAGIC_NS, PCAP_MAGIC_US, PcapReader, swap32 } from "./pcap.ts";
import { PCAPNG_SHB, PcapngReader } from "./pcapng.ts";

/** One captured frame, from either format. */
export interface CapturedPacket {
  /** Capture time: whole seconds since the Unix epoch and nanoseconds, exact. */
  sec: number;
  nsec: number;
  /** LINKTYPE_* of the frame (1 Ethernet, 113 SLL, 276 SLL2, ...). */
  linkType: number;
  /** Length of the frame on the wire; at least `data.length`. */
  origLen: number;
  /** The captured bytes: a view into the pushed chunk, valid while the chunk is held unmodified. */
  data: Uint8Array;
  /** pcapng interface id within its section; 0 for pcap. */
  interfaceId: number;
}

export type CaptureFormat = "pcap" | "pcapng";

/** The format named by a file's first four bytes, or null. */
export function sniffCaptureFormat(head: Uint8Array): CaptureFormat | null {
  if (head.length < 4) return null;
  const m = ((head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3]) >>> 0;
  if (m === PCAPNG_SHB) return "pcapng";
  if (m === PCAP_MAGIC_US || m === PCAP_MAGIC_NS) return "pcap";
  const s = swap32(m);
  if (s === PCAP_MAGIC_US || s === PCAP_MAGIC_NS) return "pcap";
  return null;
}

/** What `createCaptureReader` returns: push chunks as they arrive, then finish. */
export interface CaptureReader {
  push(chunk: Uint8Array): void;
  finish(): void;
  /** The sniffed format, once four bytes have arrived and matched. */
  readonly format: CaptureFormat | null;
}

/**
 * A streaming reader for pcap or pcapng, chosen by the first four bytes.
 * Anything else is reported once as `bad_magic` and ignored.
 */
export function createCaptureReader(
  onPacket: (p: CapturedPacket) => void,
  onProblem: (p: DecodeProblem) => void,
  onSecrets?: (secretsType: number, data: Uint8Array) => void,
): CaptureReader {
  return new SniffingReader(onPacket, onProblem, onSecrets);
}

class SniffingReader implements CaptureReader {
  format: CaptureFormat | null = null;
  private inner: PcapReader | PcapngReader | null = null;
  private head = new Uint8Array(4);
  private headLen = 0;
  private dead = false;

  constructor(
    private readonly onPacket: (p: CapturedPacket) => void,
    private readonly onProblem: (p: DecodeProblem) => void,
    private readonly onSecrets?: (secretsType: number, data: Uint8Array) => void,
  ) {}

  push(chunk: Uint8Array): void {
    if (this.inner !== null) return this.inner.push(chunk);
    if (this.dead || chunk.length === 0) return;
    const n = Math.min(4 - this.headLen, chunk.length);
    this.head.set(chunk.subarray(0, n), this.headLen);
    this.headLen += n;
    if (this.headLen < 4) return;
    const format = sniffCaptureFormat(this.head);
    if (format === null) {
      this.dead = true;
      const h = this.head;
      const hex = Array.from(h, (b) => b.toString(16).padStart(2, "0")).join(" ");
      this.onProblem({
        kind: "bad_magic",
        offset: 0,
        detail: `capture file at offset 0: first bytes ${hex} are neither pcap nor pcapng${
          h[0] === 0x1f && h[1] === 0x8b ? " (gzip: decompress first)" : ""
        }`,
      });
      return;
    }
    this.format = format;
    this.inner = format === "pcap"
      ? new PcapReader(this.onPacket, this.onProblem)
      : new PcapngReader(this.onPacket, this.onProblem, this.onSecrets);
    // The head is pushed as its own copy so that packet views never alias it.
    this.inner.push(this.head.slice());
    this.inner.push(chunk.subarray(n));
  }

  finish(): void {
    if (this.inner !== null) return this.inner.finish();
    if (this.dead) return;
    this.dead = true;
    this.onProblem({
      kind: "truncated",
      offset: 0,
      detail: `capture file at offset 0: input ends after ${this.headLen} of 4 magic bytes`,
    });
  }
}

/** The common shape of `PcapWriter` and `PcapngWriter`, for exporters. */
export interface CaptureWriter {
  /** File prologue (pcap header, or pcapng SHB) to write first. */
  header(): Uint8Array;
  append(
    frame: Uint8Array,
    offset: number,
    length: number,
    origLen: number,
    sec: number,
    nsec: number,
  ): void;
  take(): Uint8Array | null;
  readonly pending: number;
}
