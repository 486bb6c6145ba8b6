#!/usr/bin/env bash
# Crash-and-soak run (not in CI; minutes to hours): the real `litestream replicate` on a database
# a writer commits to, against a real S3 server behind the fault proxy (or a directory), with
# random faults for --minutes: SIGKILL of replicate, S3 server kills and restarts, proxy stalls,
# bursts of failing requests, a full meta-path disk, application checkpoints. A restore is
# compared with the writer every --check-every seconds and once more at the end; then a table
# of faults and outcomes is printed. Exit code 1 when anything failed. See docs/RELIABILITY.md.
#
#   scripts/soak.sh --minutes 20                 # the run docs/RELIABILITY.md reports
#   scripts/soak.sh --minutes 3 --seed 42        # replay the same fault sequence
#   scripts/soak.sh --replica file               # a directory replica (no server, no proxy)
#   scripts/soak.sh --fuzz                       # also the long fuzzing run, after the soak
#
# Options: --minutes N (default 5), --seed S, --replica s3|file, --check-every SECONDS (30),
# --txn-per-second N (20), --only KIND,… (only episodes whose name has one of these words,
# e.g. `--only disk,stall`), --dir DIR (work directory, kept), --keep, --no-build, --fuzz.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/env.sh"
cd "$LTS_ROOT"

build=1
fuzz=0
minutes=5
driver_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --fuzz) fuzz=1 ;;
    --minutes) minutes="$2"; driver_args+=("$1" "$2"); shift ;;
    --seed|--replica|--check-every|--txn-per-second|--dir|--only) driver_args+=("$1" "$2"); shift ;;
    --keep) driver_args+=("$1") ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "soak.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# The soak runs the built bin, as users do.
if [ "$build" = 1 ] && [ "${LTS_BUILT:-}" != 1 ]; then
  pnpm -r --workspace-concurrency=1 run --if-present build >/dev/null
fi

status=0
# As root, run the driver in a private mount namespace: there it can mount a small tmpfs for
# the meta-path (disk-full episodes) that nobody else sees and that vanishes with the run.
if [ "$(id -u)" = 0 ] && unshare --mount --propagation private true 2>/dev/null; then
  LTS_SOAK_MOUNT_NS=1 unshare --mount --propagation private node scripts/soak/main.ts "${driver_args[@]}" || status=$?
else
  node scripts/soak/main.ts "${driver_args[@]}" || status=$?
fi

# Hook for the long fuzzing run (fast-check: LTX decoder, WAL reader, config and URL parsing).
# scripts/fuzz.sh belongs to the fuzzing work of issue 10; until it exists, --fuzz says so.
if [ "$fuzz" = 1 ]; then
  if [ -f scripts/fuzz.sh ]; then
    bash scripts/fuzz.sh --minutes "$minutes" || status=1
  else
    echo "soak.sh: --fuzz: scripts/fuzz.sh does not exist yet; no fuzzing was run" >&2
    status=1
  fi
fi
exit "$status"
