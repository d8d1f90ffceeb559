#!/usr/bin/env bash
# Make Debian's Prometheus (prometheus, promtool) available for the monitoring test
# (tests/integration/monitoring). The test starts its own prometheus on a free loopback port with a
# temporary config and storage and ends it by PID; it never uses the system service. Without the
# binary that test skips with a message saying so, so this script never fails: it installs when it
# can (root + apt-get) and otherwise prints one line and exits 0.
# Usage: scripts/ensure-prometheus.sh
set -u

command -v prometheus >/dev/null 2>&1 && exit 0
[ -x /usr/bin/prometheus ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "prometheus missing: installing it with apt-get (Debian package prometheus, ~100 MB)..."
  if apt-get update -qq >/dev/null 2>&1 \
     && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1; then
    echo "prometheus installed: $(prometheus --version 2>&1 | head -n1)"
    exit 0
  fi
  echo "note: apt-get install prometheus failed; the monitoring test will be skipped."
  exit 0
fi
echo "note: prometheus unavailable (not installed, not root); the monitoring test will be skipped" \
     "(Debian/Ubuntu: sudo apt-get install -y prometheus)."
exit 0
