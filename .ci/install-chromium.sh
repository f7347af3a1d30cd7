#!/usr/bin/env bash
# Debian's chromium for the explorer's browser test (driven by playwright-core; never a downloaded browser).
# Idempotent: does nothing when /usr/bin/chromium (or $CHROMIUM_PATH) is already there.
set -euo pipefail
if [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "no /usr/bin/chromium and no apt-get: install chromium yourself (or set CHROMIUM_PATH)" >&2
  exit 1
fi
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
echo "installing Debian's chromium for the browser test" >&2
sudo_if_needed apt-get update
sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
