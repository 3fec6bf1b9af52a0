#!/usr/bin/env bash
# `make bench`: release build, then the benchmark tool prints OmniPost's figures beside a baseline
# measured in the same run (inotifywait and wrk are installed from Debian if missing). BENCH_IDLE_SECONDS, BENCH_DROPS and BENCH_JUNK shorten it for a quick look;
# BENCH_ONLY=rejections measures only what a rejection costs.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in inotifywait:inotify-tools wrk:wrk; do command -v "${tool%%:*}" >/dev/null || {
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get install -y -qq --no-install-recommends "${tool##*:}" >/dev/null
}; done
swift build -c release --product omnipost-bench
.build/release/omnipost-bench .build/release/omnipost
