#!/usr/bin/env bash
# The VM lab's figures: instance image build time (cold: EGRESS_VM_CACHE pointed at an empty directory with --cold),
# then on the seed with --instances vm: launch to cloud-init finished per host, the Elastic IP association, launch
# to `egress-host check` passing over SSH (lab verify), resident memory per VM (QEMU's RSS), graceful reboot to
# cloud-init finished again per host, the emulated tunnel round trip (ping through lab exec), and lab down.
# Usage: sudo bench/lab-vm.sh [--cold]
source "$(dirname "${BASH_SOURCE[0]}")/lab-common.sh"
cold=
if [ "${1-}" = --cold ]; then
  cold=$(mktemp -d /var/tmp/egress-vm-bench.XXXXXX)
  export EGRESS_VM_CACHE=$cold
fi
id="b$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
state=/run/egress-lab/$id/vm
log=$(mktemp)
cleanup() {
  "$EGRESS" lab down --id "$id" >/dev/null 2>&1 || true
  rm -f "$log"
  [ -z "$cold" ] || rm -rf --one-file-system "$cold"
}
trap cleanup EXIT
t0=$(ms)
if ! "$EGRESS" lab up --instances vm --id "$id" >/dev/null 2>"$log"; then cat "$log" >&2; exit 1; fi
t1=$(ms)
grep -E "image: built in|cloud-init finished|Elastic IPs associated" "$log" | sed 's/^ */  /'
image=$(cat "$state/image")
printf 'image: %s (build %s s when it was built; root.img %s used)\n' "$image" "$(cat "$image/build-seconds")" "$(du -sh "$image/root.img" | cut -f1)"
printf 'lab up (image cached unless --cold): %d s\n' $(( (t1 - t0) / 1000 ))
printf 'accelerator: %s\n' "$(cat "$state/accelerator")"
rtt=$("$EGRESS" lab exec --id "$id" sg-client -- ping -n -c 5 -i 0.3 192.168.250.1 </dev/null 2>/dev/null | sed -n 's/^rtt min\/avg\/max\/mdev = //p')
printf 'tunnel round trip sg-client -> tokyo-nat (emulated 70 ms inside the VMs), min/avg/max/mdev: %s\n' "${rtt:-no answer}"
for pidfile in "$state"/*.pid; do
  case "$pidfile" in *.dnsmasq.pid|*.metadata.pid) continue ;; esac
  host=$(basename "$pidfile" .pid)
  printf 'memory %s: QEMU RSS %d MiB (guest RAM %s)\n' "$host" $(( $(awk '/VmRSS/ {print $2}' "/proc/$(cat "$pidfile")/status") / 1024 )) "512 MiB"
done
t2=$(ms)
if "$EGRESS" lab verify --id "$id" --rounds 1 >/dev/null 2>"$log"; then verdict=pass; else verdict=FAIL; fi
t3=$(ms)
printf 'verify over SSH (checks included): %s in %d s; launch to verify passing: %d s\n' "$verdict" $(( (t3 - t2) / 1000 )) $(( (t3 - t0) / 1000 ))
for host in tokyo-nat sg-client; do
  before=$(grep -c "finished at" "$state/$host.console" || true)
  r0=$(ms)
  "$EGRESS" lab reboot --id "$id" "$host" >/dev/null 2>&1
  until [ "$(grep -c "finished at" "$state/$host.console" || true)" -gt "$before" ]; do sleep 1; done
  printf 'reboot %s: cloud-init finished again after %d s\n' "$host" $(( ($(ms) - r0) / 1000 ))
done
if "$EGRESS" lab verify --id "$id" --rounds 1 >/dev/null 2>"$log"; then verdict=pass; else verdict=FAIL; fi
printf 'verify after both reboots: %s\n' "$verdict"
d0=$(ms)
"$EGRESS" lab down --id "$id" >/dev/null 2>&1
printf 'lab down: %d ms\n' $(( $(ms) - d0 ))
