# Sourced by the other scripts: puts the project's own Node and pnpm first on PATH.
# Node older than 22.12 is too old for us (commander 15's floor); setup.sh brings Node 24 into .tools/node.
LTS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LTS_TOOLS="$LTS_ROOT/.tools"
PNPM_VERSION="12.21.0"
NODE_MAJOR="24"
if [ -x "$LTS_TOOLS/node/bin/node" ]; then
  PATH="$LTS_TOOLS/node/bin:$PATH"
fi
if [ -x "$LTS_TOOLS/pnpm/node_modules/.bin/pnpm" ]; then
  PATH="$LTS_TOOLS/pnpm/node_modules/.bin:$PATH"
fi
export PATH
# npm on these machines warns about a global "nodedir" setting on every call.
export npm_config_loglevel="${npm_config_loglevel:-error}"

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
# True when the Node on PATH is 22.12 or later (what every package's engines.node asks).
node_supported() { node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 12) ? 0 : 1)' 2>/dev/null; }
