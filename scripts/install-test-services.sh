#!/usr/bin/env bash
# Installs the system tools the tests use (Debian packages). Idempotent and quiet when all is present.
set -euo pipefail
need=()
if [ "$(id -u)" = 0 ]; then sudo_cmd=(); else sudo_cmd=(sudo); fi
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v lz4 >/dev/null || need+=(lz4)
# Real services for the backend tests: NATS JetStream, OpenSSH's sftp and rclone's WebDAV server
# (Azurite, the S3 servers and our GCS emulator come from npm; see testcontainers/README.md).
command -v nats-server >/dev/null || need+=(nats-server)
command -v rclone >/dev/null || need+=(rclone)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
if [ ${#need[@]} -gt 0 ]; then
  echo "install-test-services: installing ${need[*]} from Debian packages"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# sshd refuses to start without its privilege-separation directory (a compiled-in path).
if [ -x /usr/sbin/sshd ] && [ ! -d /run/sshd ]; then "${sudo_cmd[@]}" mkdir -p /run/sshd; fi
