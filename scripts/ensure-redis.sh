#!/usr/bin/env bash
# Make a redis-server binary available for the suite's private Redis instances.
# The suite never uses the machine's shared Redis: it starts its own on a free port and stops it by PID.
# Usage: scripts/ensure-redis.sh [--required]
set -u
required=0
[ "${1:-}" = "--required" ] && required=1

if command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "redis-server missing: installing it with apt-get (Debian package redis-server)..."
  if apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null 2>&1; then
    echo "redis-server installed: $(redis-server --version | cut -d' ' -f1-3)"
    exit 0
  fi
  echo "apt-get install redis-server failed." >&2
fi
if [ "$required" = "1" ]; then
  echo "Error: redis-server is required for the integration tests and could not be installed." >&2
  echo "Install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) and re-run." >&2
  exit 1
fi
echo "note: redis-server unavailable (not installed, not root); the demo will use the mock server's in-memory cache."
exit 0
