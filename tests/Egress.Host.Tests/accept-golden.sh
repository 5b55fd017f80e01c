#!/bin/sh
# Accept every *.received.* golden file (after reviewing it with diff) and refresh docs/host-scripts.
set -eu
cd "$(dirname "$0")/Golden"
for f in *.received.*; do
  [ -e "$f" ] || continue
  mv "$f" "$(printf '%s' "$f" | sed 's/\.received\./\./')"
done
cp sg-client.ipip.sh ../../../docs/host-scripts/sg-client.sh
cp tokyo-nat.ipip.sh ../../../docs/host-scripts/tokyo-nat.sh
