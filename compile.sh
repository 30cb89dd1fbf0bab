#!/usr/bin/env bash
# Builds the single binary dist/stitcher.
#   ./compile.sh                      Bun: bun build --compile (bytecode, no .env/bunfig autoload)
#   ./compile.sh --target=bun-linux-arm64   cross-compile (also bun-linux-x64-musl, -baseline variants)
#   ./compile.sh --deno               deno compile (needs to download denort: not possible offline)
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$PWD/node_modules/.bin:$PATH"
mode=bun
target=""
out=dist/stitcher
for arg in "$@"; do
  case "$arg" in
    --deno) mode=deno ;;
    --target=*) target="${arg#--target=}" ;;
    --out=*) out="${arg#--out=}" ;;
    *) echo "compile.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
mkdir -p "$(dirname "$out")"
if [ "$mode" = deno ]; then
  exec deno compile -A --output "$out" main.ts
fi
bun build --compile --minify --bytecode --format=esm \
  --no-compile-autoload-dotenv --no-compile-autoload-bunfig \
  ${target:+--target="$target"} \
  main.ts --outfile "$out" >/dev/null
echo "built $out ($(du -h "$out" | cut -f1))"
