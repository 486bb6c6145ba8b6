#!/usr/bin/env bash
# Long fuzzing run (not for CI): runs every fuzz test (`*.fuzz.test.ts`) round after round,
# each round with a new seed and many runs per property, until the time is up.
#
#   scripts/fuzz.sh [--minutes N] [--runs N] [--property-seconds N] [--seed S] [vitest filter...]
#
#   --minutes N            total time (default 10); no round starts after it
#   --runs N               runs per property per round (default 2000)
#   --property-seconds N   time box of one property in a round (default 60)
#   --seed S               replay: one round with this seed (fast-check prints it on failure)
#   filter                 vitest file filters (default: .fuzz.test)
#
# Prints one line per round; exits 1 if any round found a failure, after printing how to
# replay it (the seed and counterexample are in the round's log, kept in $LTS_FUZZ_LOGS).
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
source "$here/env.sh"
cd "$LTS_ROOT"

minutes=10
runs=2000
property_seconds=60
seed=""
filters=()
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --property-seconds) property_seconds="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) filters+=("$1"); shift ;;
  esac
done
[ ${#filters[@]} -gt 0 ] || filters=(.fuzz.test)

logs="${LTS_FUZZ_LOGS:-$(mktemp -d "${TMPDIR:-/tmp}/lts-fuzz-XXXXXX")}"
mkdir -p "$logs"
deadline=$(( $(date +%s) + minutes * 60 ))
round=0
failed=0
echo "fuzz: ${filters[*]} for ${minutes} min, ${runs} runs per property per round; logs in $logs"
while :; do
  round=$((round + 1))
  round_seed="${seed:-$(( (RANDOM << 15 | RANDOM) ))}"
  log="$logs/round-$round.log"
  start=$(date +%s)
  # Keep the last round near the deadline: ~40 properties over 2 workers share what is left.
  box=$(( (deadline - start) / 20 ))
  [ "$box" -ge 5 ] || box=5
  [ "$box" -le "$property_seconds" ] || box="$property_seconds"
  if NO_COLOR=1 LTS_BUILT=1 LTS_FUZZ_RUNS="$runs" LTS_FUZZ_SECONDS="$box" LTS_FUZZ_SEED="$round_seed" \
    pnpm exec vitest run "${filters[@]}" >"$log" 2>&1; then
    outcome=passed
  else
    outcome=FAILED
    failed=$((failed + 1))
  fi
  summary="$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ +Tests +' | tail -1 | sed 's/^ *//' || true)"
  echo "round $round: seed $round_seed, $(( $(date +%s) - start )) s, $outcome ($summary)"
  if [ "$outcome" = FAILED ]; then
    sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E 'Property failed|Counterexample|seed:|FAIL |Caused by' | cut -c1-400 | head -20 | sed 's/^/  /' || true
    echo "  replay: LTS_FUZZ_SEED=$round_seed LTS_FUZZ_RUNS=$runs LTS_BUILT=1 pnpm exec vitest run ${filters[*]}  (or LTS_FUZZ_SEED/LTS_FUZZ_PATH from the lines above)"
  fi
  [ -z "$seed" ] || break
  [ "$(date +%s)" -lt "$deadline" ] || break
done
echo "fuzz: $round round(s), $failed failed"
[ "$failed" -eq 0 ]
