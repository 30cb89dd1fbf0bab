/**
 * A reusable 32-bit word view of a buffer, for the word-at-a-time loops of
 * CRC-32C and the Internet checksum. Making a `Uint32Array` per call costs
 * more than the loop on a 1500-byte packet; the view of the last buffer seen
 * is kept instead (callers hit the same arena or chunk many times in a row).
 * Index it with `(byteOffset + i) >>> 2` at 4-aligned positions.
 */
export class WordView {
  private buffer: ArrayBufferLike | null = null;
  private words: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

  of(buf: Uint8Array): Uint32Array<ArrayBufferLike> {
    if (buf.buffer !== this.buffer || this.words.length !== buf.buffer.byteLength >>> 2) {
      this.buffer = buf.buffer;
      this.words = new Uint32Array(buf.buffer, 0, buf.buffer.byteLength >>> 2);
    }
    return this.words;
  }
}
