#!/usr/bin/env bash
# Rebuilds examples/bucket from real captures made here (tests/fixtures/captures,
# see its README for how each was made) with `stitcher pack`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
rm -rf examples/bucket
deno run -A main.ts pack --pcap tests/fixtures/captures/http_plain_v4.pcap --origin US-NYC1 \
  --user alice@example.com --site intranet --provider file -b examples/bucket --writers 2 --window 1
deno run -A main.ts pack --pcap tests/fixtures/captures/tls12_v4.pcap \
  --keylog tests/fixtures/captures/tls12_v4.keys --origin EU-FRA1 --user bob@example.com --site webmail \
  --provider file -b examples/bucket --writers 2 --split-directions --window 1 --key-delay 2 --gzip
