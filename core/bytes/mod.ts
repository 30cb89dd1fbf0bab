/** Byte-level building blocks: the bounds-checked cursor, exact times, CRC-32C, hex. */
export * from "./cursor.ts";
export * from "./nanos.ts";
export * from "./crc32c.ts";
export * from "./hex.ts";
export * from "./concat.ts";
