// Starts the Firebase storage emulator's HTTP app (GCS JSON API) without the
// Java rules runtime: node gcs_emulator.mjs FIREBASE_TOOLS_DIR HOST PORT.
// GCS JSON API routes do not evaluate security rules. TMPDIR holds its blobs.
import { createRequire } from "node:module";
import process from "node:process";

const [toolsDir, host, portText] = process.argv.slice(2);
const port = Number(portText);
if (!toolsDir || !host || !Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error("usage: node gcs_emulator.mjs FIREBASE_TOOLS_DIR HOST PORT");
  process.exit(2);
}
const require = createRequire(`${toolsDir}/`);
const lib = `${toolsDir}/node_modules/firebase-tools/lib/emulator`;
const { StorageEmulator } = require(`${lib}/storage/index.js`);
const { createApp } = require(`${lib}/storage/server.js`);
const { EmulatorRegistry } = require(`${lib}/registry.js`);
const { Emulators } = require(`${lib}/types.js`);

const projectId = "stitcher-test";
const emulator = new StorageEmulator({
  projectId,
  host,
  port,
  rules: undefined,
  auto_download: false,
});
EmulatorRegistry.set(Emulators.STORAGE, emulator);
const app = await createApp(projectId, emulator);
const server = app.listen(port, host);
server.on("listening", () => console.log(`gcs emulator listening on http://${host}:${port}`));
server.on("error", (e) => {
  console.error(`gcs emulator: cannot listen on ${host}:${port}: ${e.message}`);
  process.exit(1);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
