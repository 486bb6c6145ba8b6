#!/usr/bin/env bash
# Installs the system tools the tests use (Debian packages). Idempotent and quiet when all is present.
set -euo pipefail
need=()
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v lz4 >/dev/null || need+=(lz4)
if [ ${#need[@]} -gt 0 ]; then
  echo "install-test-services: installing ${need[*]} from Debian packages"
  if [ "$(id -u)" = 0 ]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi
