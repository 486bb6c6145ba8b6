#!/usr/bin/env bash
# Runs the whole test suite. On a fresh machine it first installs what the tests need.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
bash "$here/setup.sh"
source "$here/env.sh"
cd "$LTS_ROOT"
bash scripts/install-test-services.sh
LTS_BUILT=1 exec pnpm exec vitest run "$@"
