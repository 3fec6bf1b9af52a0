#!/usr/bin/env bash
# `make bench`: release build, then the benchmark tool prints OmniPost's figures beside a baseline
# measured in the same run. BENCH_IDLE_SECONDS and BENCH_DROPS shorten it for a quick look.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v inotifywait >/dev/null || {
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get install -y -qq --no-install-recommends inotify-tools >/dev/null
}
swift build -c release --product omnipost-bench
.build/release/omnipost-bench .build/release/omnipost
