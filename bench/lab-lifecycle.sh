#!/usr/bin/env bash
# Wall time of `egress lab up` and `egress lab down` on the seed topology (targets: up <= 3 s, down <= 1 s).
# Usage: sudo bench/lab-lifecycle.sh [ROUNDS]   (default 3; prints every round and the median)
source "$(dirname "${BASH_SOURCE[0]}")/lab-common.sh"
rounds=${1:-3}
ups=(); downs=()
for i in $(seq 1 "$rounds"); do
  id="b$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  t0=$(ms)
  if ! "$EGRESS" lab up --id "$id" >/dev/null 2>/tmp/egress-bench-up.$$; then
    cat /tmp/egress-bench-up.$$ >&2; rm -f /tmp/egress-bench-up.$$
    "$EGRESS" lab down --id "$id" >/dev/null 2>&1 || true
    exit 1
  fi
  t1=$(ms)
  "$EGRESS" lab down --id "$id" >/dev/null 2>&1
  t2=$(ms)
  rm -f /tmp/egress-bench-up.$$
  ups+=($((t1 - t0))); downs+=($((t2 - t1)))
  printf 'round %d: lab up %5d ms   lab down %5d ms\n' "$i" $((t1 - t0)) $((t2 - t1))
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
up=$(median "${ups[@]}"); down=$(median "${downs[@]}")
printf 'median: lab up %d ms (target <= 3000: %s)   lab down %d ms (target <= 1000: %s)\n' \
  "$up" "$([ "$up" -le 3000 ] && echo met || echo MISSED)" "$down" "$([ "$down" -le 1000 ] && echo met || echo MISSED)"
echo "(each time includes the CLI's own start-up, about 0.1-0.2 s of .NET start)"
