#!/usr/bin/env bash
# `make bench-check` (issue 30): a short bench run — every byte-sending adapter's upload, 20 s of idle, 200 rejected
# drops, 200 rejected sidecars per kind, a flood of 2,000 beside a good drop, the convert stage — compared
# with the figures committed in scripts/bench-figures.txt. It fails when a figure is worse than its committed
# value by more than BENCH_TOLERANCE percent (default 20) and that figure's own absolute slack (4th column;
# idle CPU is a few hundredths of a second, where 20 % is noise). Not run in CI: it needs a quiet machine.
# `BENCH_CHECK_UPDATE=1` writes this run's figures as the new committed ones.
set -euo pipefail
cd "$(dirname "$0")/.."
FIGURES=scripts/bench-figures.txt
TOLERANCE=${BENCH_TOLERANCE:-20}
swift build -c release --product omnipost
swift build -c release --product omnipost-bench
measured=$(mktemp)
trap 'rm -f "$measured"' EXIT
run() { env BENCH_FIGURES="$measured" "$@" .build/release/omnipost-bench .build/release/omnipost; }
run BENCH_ONLY=uploads BENCH_PLATFORMS="${BENCH_CHECK_PLATFORMS:-youtube,tiktok,instagram,facebook,x,linkedin,vimeo,tus,s3}"
run BENCH_ONLY=idle BENCH_IDLE_SECONDS=20
run BENCH_ONLY=rejections BENCH_JUNK=200
run BENCH_ONLY=drops BENCH_SIDECAR_CPU=200 BENCH_PASS_DROPS=10 BENCH_SIDECARS=2000
run BENCH_ONLY=convert
if [ "${BENCH_CHECK_UPDATE:-0}" = 1 ]; then
  # Keep each figure's slack from the committed file.
  awk 'NR == FNR { slack[$1] = $4; next } { print $1, $2, $3, ($1 in slack && slack[$1] != "" ? slack[$1] : 0) }' "$FIGURES" "$measured" >"$FIGURES.new"
  mv "$FIGURES.new" "$FIGURES"
  echo "wrote $FIGURES"
  exit 0
fi
echo
awk -v tol="$TOLERANCE" '
  NR == FNR { got[$1] = $2; next }
  /^#/ || NF < 3 { next }
  {
    key = $1; want = $2; better = $3; slack = (NF >= 4 ? $4 : 0)
    if (!(key in got)) { printf "%-40s committed %10.3f  not measured\n", key, want; bad++; next }
    v = got[key]
    worse = (better == "higher") ? (v < want * (1 - tol / 100) && want - v > slack) : (v > want * (1 + tol / 100) && v - want > slack)
    printf "%-40s committed %10.3f  now %10.3f  %s (%s is better)\n", key, want, v, worse ? "SLOWER" : "ok", better
    if (worse) bad++
  }
  END { if (bad) { printf "\n%d figure(s) beyond %d%% of the committed ones\n", bad, tol; exit 1 } print "\nevery figure within " tol "% of the committed ones" }
' "$measured" "$FIGURES"
