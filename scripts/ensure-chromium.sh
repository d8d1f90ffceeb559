#!/usr/bin/env bash
# Make Debian's Chromium available for the browser tests (tests/integration/pages, the web UI test).
# Playwright drives this system browser; it never downloads its own. Without Chromium those tests
# skip with a message saying so, so this script never fails: it installs when it can (root + apt-get)
# and otherwise prints one line and exits 0.
# Usage: scripts/ensure-chromium.sh
set -u

for name in chromium chromium-browser; do
  command -v "$name" >/dev/null 2>&1 && exit 0
done
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "chromium missing: installing it with apt-get (Debian package chromium, 100+ MB with its libraries)..."
  if apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1; then
    echo "chromium installed: $(chromium --version 2>/dev/null | head -n1)"
    exit 0
  fi
  echo "note: apt-get install chromium failed; the browser tests will be skipped."
  exit 0
fi
echo "note: chromium unavailable (not installed, not root); the browser tests will be skipped" \
     "(Debian/Ubuntu: sudo apt-get install -y chromium)."
exit 0
