#!/usr/bin/env bash
# Generates the demo clips deterministically from ffmpeg's lavfi sources (same bytes every run:
# bitexact flags, one encoder thread, no metadata). Existing clips are kept.
set -euo pipefail
cd "$(dirname "$0")"

gen() { # name seconds size rate extra-video-args...
  local name=$1 secs=$2 size=$3 rate=$4; shift 4
  [ -s "$name" ] && return 0
  ffmpeg -nostdin -hide_banner -loglevel error -y \
    -f lavfi -i "testsrc2=size=${size}:rate=${rate}:duration=${secs}" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=${secs}" \
    -map 0:v -map 1:a -c:v libx264 -preset veryfast -crf 30 -pix_fmt yuv420p -threads 1 "$@" \
    -c:a aac -b:a 64k -ac 2 -map_metadata -1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact \
    -movflags +faststart "$name.tmp.mp4"
  mv "$name.tmp.mp4" "$name"
  echo "generated samples/$name"
}

gen vertical-a.mp4 6 540x960 30          # 9:16, passes every target untouched
gen vertical-b.mp4 4 720x1280 30         # 9:16, JSON sidecar
gen landscape.mp4 5 1280x720 30          # 16:9: passes YouTube, transcoded (padded) to 9:16 for Shorts
gen broken.mp4 3 540x960 30              # a good clip with a broken sidecar
