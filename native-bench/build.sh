#!/usr/bin/env bash
# Builds the native integrity baseline into native-bench/build/integrity.
#
#   bash native-bench/build.sh            (npm run native:build)
#   CFLAGS_EXTRA=-march=native bash native-bench/build.sh
#   FORCE=1 bash native-bench/build.sh    rebuild even when up to date
#
# Needs a C compiler and OpenSSL 3 headers (libssl-dev); installs the missing Debian packages
# (apt-get update once, only when something is missing). LMDB is compiled from the source that
# lmdb-js itself ships (node_modules/lmdb/dependencies/lmdb): lmdb-js 3.x writes its own LMDB
# fork's data format (meta version 2), which Debian's liblmdb 0.9.x refuses (MDB_INVALID /
# MDB_VERSION_MISMATCH). Only when that source is absent does it fall back to liblmdb-dev.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="$here/build"
bin="$out/integrity"
vendored="$root/node_modules/lmdb/dependencies/lmdb/libraries/liblmdb"

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

updated=0
need_pkg() { # need_pkg PACKAGE: install it when dpkg does not list it as installed
  local pkg="$1"
  if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then return 0; fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "native-bench: package $pkg is missing and apt-get is not available; install it by hand" >&2
    exit 1
  fi
  if [ "$updated" = 0 ]; then
    echo "native-bench: apt-get update" >&2
    $SUDO apt-get update -qq
    updated=1
  fi
  echo "native-bench: installing $pkg" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$pkg" >/dev/null
}

if ! command -v gcc >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1; then need_pkg build-essential; fi
need_pkg libssl-dev
lmdb_src=()
lmdb_inc=()
lmdb_lib=()
if [ -f "$vendored/mdb.c" ] && [ -f "$vendored/midl.c" ]; then
  lmdb_src=("$vendored/mdb.c" "$vendored/midl.c")
  lmdb_inc=(-I"$vendored")
  lmdb_note="vendored lmdb-js LMDB ($vendored)"
else
  echo "native-bench: warning: $vendored not found (run npm install); falling back to Debian liblmdb," >&2
  echo "native-bench:          which cannot open stores written by lmdb-js 3.x (data format 2)" >&2
  need_pkg liblmdb-dev
  lmdb_lib=(-llmdb)
  lmdb_note="system liblmdb"
fi

mkdir -p "$out"
sources=("$here/integrity.c" "$here/msgpack.h" "$here/rlp.h" "$here/hash.h" "$here/trie.h" "$here/build.sh")
if [ "${FORCE:-0}" != "1" ] && [ -x "$bin" ]; then
  stale=0
  for f in "${sources[@]}" "${lmdb_src[@]}"; do
    if [ "$f" -nt "$bin" ]; then stale=1; fi
  done
  if [ "$stale" = 0 ]; then
    echo "native-bench: $bin is up to date"
    exit 0
  fi
fi

CC="${CC:-gcc}"
CFLAGS=(-O2 -g -pthread ${CFLAGS_EXTRA:-})
# The same defines lmdb-js builds its LMDB with (binding.gyp): key size and robust mutexes
# must match for the lock file and the data file to be shared.
LMDB_DEFS=(-DMDB_MAXKEYSIZE=0 -DMDB_USE_ROBUST)

objs=()
if [ "${#lmdb_src[@]}" -gt 0 ]; then
  for src in "${lmdb_src[@]}"; do
    obj="$out/$(basename "$src" .c).o"
    "$CC" "${CFLAGS[@]}" "${LMDB_DEFS[@]}" -w "${lmdb_inc[@]}" -c "$src" -o "$obj"
    objs+=("$obj")
  done
fi
"$CC" "${CFLAGS[@]}" "${LMDB_DEFS[@]}" -std=gnu11 -Wall -Wextra -Wno-unused-function "${lmdb_inc[@]}" \
  -c "$here/integrity.c" -o "$out/integrity.o"
"$CC" "${CFLAGS[@]}" -o "$bin.tmp" "$out/integrity.o" "${objs[@]}" "${lmdb_lib[@]}" -lcrypto -lpthread
mv -f "$bin.tmp" "$bin"
echo "native-bench: built $bin (LMDB: $lmdb_note; OpenSSL $(openssl version 2>/dev/null | awk '{print $2}' || echo '?'))"
