#!/usr/bin/env bash
# Installs a headless-capable Chromium for the HTML report test (test/report.html.test.ts).
# Idempotent: exits 0 at once when a `chromium` or `chromium-browser` binary is already on PATH.
# Otherwise installs Debian's `chromium` package with apt-get (as root, or through sudo when
# available). Quiet unless something fails.
set -euo pipefail

for b in chromium chromium-browser; do
  if command -v "$b" >/dev/null 2>&1; then
    exit 0
  fi
done

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: no chromium on PATH and no apt-get here; install Chromium by hand" >&2
  exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
  else
    echo "install-chromium: not root and no sudo; run as root: apt-get install chromium" >&2
    exit 1
  fi
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! "${SUDO[@]}" apt-get update -qq >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-chromium: apt-get update failed" >&2
  exit 1
fi
if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-chromium: apt-get install chromium failed" >&2
  exit 1
fi

for b in chromium chromium-browser; do
  if command -v "$b" >/dev/null 2>&1; then
    exit 0
  fi
done
echo "install-chromium: chromium was installed but no binary is on PATH" >&2
exit 1
