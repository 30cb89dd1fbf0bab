/** Packet headers, one protocol per file, and the link-to-TCP/UDP walk. */
export * from "./checksum.ts";
export * from "./ethernet.ts";
export * from "./ipv4.ts";
export * from "./ipv6.ts";
export * from "./tcp.ts";
export * from "./udp.ts";
export * from "./link.ts";
