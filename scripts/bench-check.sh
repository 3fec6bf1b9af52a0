#!/usr/bin/env bash
# `make bench-check` (issue 30): a short bench run — every byte-sending adapter's upload, 65 s of idle (two of
# the safety net's rounds, one with the notifiers' minute; no inotifywait beside it), 200 rejected
# drops, 200 rejected sidecars per kind, a flood of 2,000 beside a good drop, the convert stage — compared
# with the figures committed in scripts/bench-figures.txt. It fails when a figure is worse than its committed
# value by more than BENCH_TOLERANCE percent (default 20) and that figure's own absolute slack (4th column;
# idle CPU is a few hundredths of a second, where 20 % is noise). Idle CPU is the scheduler's ns run time of
# every thread (schedstat), not clock ticks; BENCH_IDLE_SECONDS sets the window (a window under 30 s sees no
# round of the safety net, which an idle daemon runs every 30 s: its CPU and the code it maps back would be missed). Not run in CI: it needs a quiet machine.
# BENCH_CHECK_RUNS=3 runs each group three times and compares (and prints, beside issue 30's goal for each
# figure) the median of the runs. `BENCH_CHECK_UPDATE=1` writes this run's figures (medians) as the new
# committed ones. BENCH_CHECK_ONLY=uploads,idle picks groups (uploads idle rejections drops convert digest).
set -euo pipefail
cd "$(dirname "$0")/.."
FIGURES=scripts/bench-figures.txt
TOLERANCE=${BENCH_TOLERANCE:-20}
RUNS=${BENCH_CHECK_RUNS:-1}
GROUPS_=${BENCH_CHECK_ONLY:-uploads,idle,rejections,drops,convert,digest}
swift build -c release --product omnipost
swift build -c release --product omnipost-bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { env BENCH_FIGURES="$work/run$i" BENCH_UPLOAD_RUNS="${BENCH_UPLOAD_RUNS:-1}" "$@" .build/release/omnipost-bench .build/release/omnipost; }
for i in $(seq 1 "$RUNS"); do
  echo "== run $i of $RUNS"
  : >"$work/run$i"
  case ",$GROUPS_," in *,uploads,*) run BENCH_ONLY=uploads BENCH_PLATFORMS="${BENCH_CHECK_PLATFORMS:-youtube,tiktok,instagram,facebook,x,linkedin,vimeo,tus,s3}" ;; esac
  case ",$GROUPS_," in *,idle,*) run BENCH_ONLY=idle BENCH_IDLE_BASELINE=0 BENCH_IDLE_SECONDS="${BENCH_IDLE_SECONDS:-65}" ;; esac
  case ",$GROUPS_," in *,rejections,*) run BENCH_ONLY=rejections BENCH_JUNK=200 ;; esac
  case ",$GROUPS_," in *,drops,*) run BENCH_ONLY=drops BENCH_SIDECAR_CPU=200 BENCH_PASS_DROPS=10 BENCH_SIDECARS=2000 ;; esac
  case ",$GROUPS_," in *,convert,*) run BENCH_ONLY=convert ;; esac
  case ",$GROUPS_," in *,digest,*) run BENCH_ONLY=digest BENCH_DIGEST_MIB=512 ;; esac
done
# One line per figure: key median better goal run1 run2 … (the runs in order).
measured="$work/median"
cat "$work"/run* | awk '
  { key = $1; if (!(key in n)) order[++keys] = key; vals[key, ++n[key]] = $2; better[key] = $3; goal[key] = (NF >= 4 ? $4 : "-") }
  END {
    for (k = 1; k <= keys; k++) {
      key = order[k]; m = n[key]
      for (i = 1; i <= m; i++) s[i] = vals[key, i]
      for (i = 2; i <= m; i++) { v = s[i]; for (j = i - 1; j >= 1 && s[j] > v; j--) s[j + 1] = s[j]; s[j + 1] = v }
      med = (m % 2) ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
      line = sprintf("%s %.4f %s %s", key, med, better[key], goal[key])
      for (i = 1; i <= m; i++) line = line sprintf(" %.4f", vals[key, i])
      print line
    }
  }' >"$measured"
echo
printf "%-40s %12s  %-8s  %s\n" "figure" "median" "goal" "runs"
awk '{ runs = ""; for (i = 5; i <= NF; i++) runs = runs " " $i
       held = ($4 == "-") ? "" : (($3 == "higher") ? ($2 >= $4 ? "held" : "MISSED") : ($2 <= $4 ? "held" : "MISSED"))
       printf "%-40s %12.3f  %-8s  %s%s\n", $1, $2, ($4 == "-" ? "" : ($3 == "higher" ? ">= " : "<= ") $4), held, runs == "" ? "" : " (" substr(runs, 2) ")" }' "$measured"
if [ "${BENCH_CHECK_UPDATE:-0}" = 1 ]; then
  # Keep each figure's slack from the committed file, and the committed figures this run did not measure.
  awk 'NR == FNR { slack[$1] = $4; next } { print $1, $2, $3, ($1 in slack && slack[$1] != "" ? slack[$1] : 0); seen[$1] = 1 }' "$FIGURES" "$measured" >"$FIGURES.new"
  awk 'NR == FNR { seen[$1] = 1; next } !($1 in seen)' "$measured" "$FIGURES" >>"$FIGURES.new"
  sort -o "$FIGURES.new" "$FIGURES.new"
  mv "$FIGURES.new" "$FIGURES"
  echo "wrote $FIGURES"
  exit 0
fi
echo
awk -v tol="$TOLERANCE" -v partial="${BENCH_CHECK_ONLY:+1}" '
  NR == FNR { got[$1] = $2; next }
  /^#/ || NF < 3 { next }
  {
    key = $1; want = $2; better = $3; slack = (NF >= 4 ? $4 : 0)
    if (!(key in got)) { printf "%-40s committed %10.3f  not measured\n", key, want; if (!partial) bad++; next }
    v = got[key]
    worse = (better == "higher") ? (v < want * (1 - tol / 100) && want - v > slack) : (v > want * (1 + tol / 100) && v - want > slack)
    printf "%-40s committed %10.3f  now %10.3f  %s (%s is better)\n", key, want, v, worse ? "SLOWER" : "ok", better
    if (worse) bad++
  }
  END { if (bad) { printf "\n%d figure(s) beyond %d%% of the committed ones\n", bad, tol; exit 1 } print "\nevery figure within " tol "% of the committed ones" }
' "$measured" "$FIGURES"
