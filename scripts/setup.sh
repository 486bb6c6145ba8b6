#!/usr/bin/env bash
# One-time (and idempotent) set-up: a supported Node, pinned pnpm, dependencies, build.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$LTS_ROOT"
mkdir -p "$LTS_TOOLS"

if ! node_supported; then
  platform=$(node -p process.platform 2>/dev/null || uname -s | tr A-Z a-z)
  arch=$(node -p process.arch 2>/dev/null || echo x64)
  echo "setup: system Node $(node --version 2>/dev/null || echo none) is older than 22.12; installing Node $NODE_MAJOR from the npm registry into .tools/node"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-$platform-$arch@$NODE_MAJOR" >/dev/null)
  rm -rf "$LTS_TOOLS/node" && mkdir -p "$LTS_TOOLS/node"
  tar -xzf "$tmp"/node-*.tgz -C "$LTS_TOOLS/node" --strip-components=1
  rm -rf "$tmp"
  source "$LTS_ROOT/scripts/env.sh"
fi

if ! command -v pnpm >/dev/null || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION into .tools/pnpm"
  npm install --silent --no-audit --no-fund --prefix "$LTS_TOOLS/pnpm" "pnpm@$PNPM_VERSION" >/dev/null
  source "$LTS_ROOT/scripts/env.sh"
fi

echo "setup: node $(node --version), pnpm $(pnpm --version)"
pnpm install --frozen-lockfile=false --reporter=append-only
pnpm -r --workspace-concurrency=1 run --if-present build
