#!/usr/bin/env bash
# The full-kernel test VM: Debian's linux-image-amd64 under QEMU (KVM when it works, software
# emulation otherwise), sharing this machine's root filesystem read-only over virtio-9p with a
# tmpfs overlay for writes, and the repository read-write. No network device (-nic none).
#
#   eng/vm/vm.sh setup            install qemu + kernel, build and cache the initramfs
#   eng/vm/vm.sh run -- CMD...    boot, run CMD as root inside (cwd = the repository), print its
#                                 output, exit with its exit code; VM_TIMEOUT (s, default 1800),
#                                 VM_MEMORY (MiB, 3072), EGRESS_VM_NO_KVM=1 forces software emulation
#
# Build and restore on the host first: the VM has no network and building inside it is slow.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${EGRESS_VM_CACHE:-/var/cache/egress-vm}

kernel_version() {
  local k
  k=$(find /boot -maxdepth 1 -name 'vmlinuz-*-amd64' -printf '%f\n' 2>/dev/null | sed 's/^vmlinuz-//' | sort -V | tail -n 1)
  [ -n "$k" ] || { echo "vm: no Debian kernel in /boot; run: $0 setup" >&2; exit 2; }
  echo "$k"
}

setup() {
  local need=()
  command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
  ls /boot/vmlinuz-*-amd64 >/dev/null 2>&1 || need+=(linux-image-amd64)
  if [ "${#need[@]}" -gt 0 ]; then
    echo "vm: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  local k; k=$(kernel_version)
  local key; key=$(cat "$here/init.sh" "$0" | sha256sum | cut -c1-12)
  local initrd="$cache/initramfs-$k-$key.cpio.gz"
  if [ -f "$initrd" ]; then echo "$initrd"; return; fi
  mkdir -p "$cache"
  local work; work=$(mktemp -d)
  # busybox from busybox-static's .deb, unpacked here: the host's own busybox stays as it is.
  if [ ! -x "$cache/busybox" ]; then
    (cd "$work" && apt-get download busybox-static >/dev/null 2>&1) \
      || { apt-get update -qq && (cd "$work" && apt-get download busybox-static >/dev/null); }
    dpkg-deb -x "$work"/busybox-static_*.deb "$work/bb"
    install -m 0755 "$work/bb/bin/busybox" "$cache/busybox"
  fi
  local root="$work/root"
  mkdir -p "$root"/{bin,proc,sys,dev,modules}
  cp "$cache/busybox" "$root/bin/busybox"
  install -m 0755 "$here/init.sh" "$root/init"
  # The modules that mount the root: virtio PCI, 9p over virtio, overlayfs, in dependency order.
  local dep="/lib/modules/$k/modules.dep" order=() m
  add() {
    local path=$1 d
    # shellcheck disable=SC2013 # the dependency list is one line of words
    for d in $(grep -E "^$path:" "$dep" | cut -d: -f2); do add "$d"; done
    case " ${order[*]-} " in *" $path "*) ;; *) order+=("$path") ;; esac
  }
  for m in kernel/drivers/virtio/virtio_pci.ko kernel/net/9p/9pnet_virtio.ko kernel/fs/9p/9p.ko kernel/fs/overlayfs/overlay.ko; do
    add "$m"
  done
  for m in "${order[@]}"; do
    cp "/lib/modules/$k/$m" "$root/modules/"
    basename "$m" >> "$root/modules.order"
  done
  (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$initrd.tmp"
  find "$cache" -maxdepth 1 -name 'initramfs-*.cpio.gz' -delete
  mv "$initrd.tmp" "$initrd"
  rm -rf "$work"
  echo "$initrd"
}

# boot ACCEL... : runs the VM; returns 0 when the command ran (rc file written), 3 when the kernel did
# not reach the command within VM_BOOT_LIMIT seconds (broken nested KVM hangs in early boot), 124 on
# the overall timeout.
boot() {
  local k initrd=$1; shift
  k=$(kernel_version)
  rm -f "$repo/.vm/rc" "$repo/.vm/output" "$repo/.vm/booted"
  qemu-system-x86_64 "$@" -m "${VM_MEMORY:-3072}" -smp 2 \
    -nographic -no-reboot -nic none -serial stdio -monitor none \
    -kernel "/boot/vmlinuz-$k" -initrd "$initrd" \
    -append "console=ttyS0 ${VM_KERNEL_ARGS:-quiet loglevel=1} panic=-1 egress.repo=$repo" \
    -virtfs "local,path=/,mount_tag=rootfs,security_model=none,readonly=on,multidevs=remap" \
    -virtfs "local,path=$repo,mount_tag=repo,security_model=none,multidevs=remap" \
    > "$repo/.vm/console" 2>&1 < /dev/null &
  local pid=$! waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if [ ! -f "$repo/.vm/booted" ] && [ "$waited" -ge "${VM_BOOT_LIMIT:-60}" ]; then
      kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
      return 3
    fi
    if [ "$waited" -ge "${VM_TIMEOUT:-1800}" ]; then
      kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
      return 124
    fi
    sleep 1
    waited=$((waited + 1))
  done
  wait "$pid" 2>/dev/null || true
  [ -f "$repo/.vm/rc" ] || return 125
}

run() {
  [ "${1-}" = "--" ] && shift
  [ "$#" -gt 0 ] || { echo "usage: $0 run -- CMD..." >&2; exit 2; }
  local initrd status=0
  initrd=$(setup | tail -n 1)
  mkdir -p "$repo/.vm"
  printf '%q ' "$@" > "$repo/.vm/cmd.sh"
  echo >> "$repo/.vm/cmd.sh"
  local started; started=$(date +%s)
  local accel=tcg
  if [ -w /dev/kvm ] && [ "${EGRESS_VM_NO_KVM-}" != 1 ] && [ ! -f "$cache/kvm-hangs" ]; then
    accel=kvm
    VM_BOOT_LIMIT=20 boot "$initrd" -enable-kvm -cpu max,-arch-capabilities || status=$?
    if [ "$status" -eq 3 ] || [ "$status" -eq 125 ]; then
      echo "vm: KVM did not boot the kernel within 20 s (status $status; nested KVM here fails or hangs); using software emulation from now on" >&2
      touch "$cache/kvm-hangs"
      accel=tcg status=0
    fi
  fi
  if [ "$accel" = tcg ]; then
    boot "$initrd" -accel tcg -cpu max || status=$?
  fi
  echo "vm: $accel boot+run took $(( $(date +%s) - started )) s" >&2
  [ -f "$repo/.vm/output" ] && cat "$repo/.vm/output"
  if [ "$status" -ne 0 ]; then
    echo "vm: the command did not finish (status $status: 3 boot failure, 124 timeout); console tail:" >&2
    tail -n 30 "$repo/.vm/console" >&2
    return "$status"
  fi
  return "$(cat "$repo/.vm/rc")"
}

case "${1-}" in
  setup) setup ;;
  run) shift; run "$@" ;;
  *) echo "usage: $0 setup | run -- CMD..." >&2; exit 2 ;;
esac
