#!/bin/sh
# Accept every *.received.* golden file (after reviewing it with diff), here and in docs/host-scripts (the full
# rendered seed scripts).
set -eu
cd "$(dirname "$0")"
for f in Golden/*.received.* ../../docs/host-scripts/*.received.*; do
  [ -e "$f" ] || continue
  mv "$f" "$(printf '%s' "$f" | sed 's/\.received\./\./')"
done
