#!/usr/bin/env bash
# The VM lab's instance image: Debian bookworm built from Debian's packages with mmdebstrap, the stand-in for
# the Ubuntu AMI `egress apply` launches. Cached under $EGRESS_VM_CACHE/images/<recipe hash>/ (the hash covers
# this file, so any change to the recipe builds a new image and an unchanged one is never rebuilt).
#
#   eng/vm/image.sh path     print the image directory (built or not)
#   eng/vm/image.sh build    build it unless cached; progress on stderr; prints the directory on stdout
#
# The directory holds root.img (raw ext4, used read-only as the backing file of each VM's qcow2 overlay),
# vmlinuz and initrd.img (direct kernel boot: no boot loader), packages.txt and build-seconds.
#
# Offline by design: the image has every package the host user data lists (HostScript.PackagesFor: dnsmasq-base too, for the dns step) and no apt
# sources, so cloud-init's package step (package_update + packages) succeeds without any download: the gateway
# has no internet until its Elastic IP is associated, and first boot converges anyway.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${EGRESS_VM_CACHE:-/var/cache/egress-vm}
key=$(cat "$here/image.sh" "$here/cloud.cfg" "$here/egress-lab-ca.service" "$here/egress-lab-delay" "$here/egress-lab-delay.service" | sha256sum | cut -c1-16)
dir="$cache/images/$key"

# What EC2's Ubuntu AMI has and the host script needs, plus the lab's boot path (cloud-init's Ec2 datasource with
# dhclient for its ephemeral DHCP, ifupdown for the network it renders, sshd for the SSH runner).
packages=(
  systemd systemd-sysv udev dbus cloud-init openssh-server sudo ca-certificates
  nftables iproute2 curl mtr-tiny iputils-ping procps kmod dnsmasq-base
  isc-dhcp-client ifupdown netbase e2fsprogs locales
  linux-image-amd64 initramfs-tools
)

build() {
  if [ -f "$dir/ready" ]; then echo "$dir"; return; fi
  for tool in mmdebstrap mke2fs; do
    command -v "$tool" >/dev/null || { echo "image: $tool is missing; install it: apt-get install mmdebstrap e2fsprogs" >&2; exit 2; }
  done
  mkdir -p "$cache/images"
  exec 9>"$dir.lock"
  if ! flock -n 9; then
    echo "image: another process builds $dir; waiting for it" >&2
    flock 9
  fi
  if [ -f "$dir/ready" ]; then rm -f "$dir.lock"; echo "$dir"; return; fi
  local started work
  started=$(date +%s)
  work=$(mktemp -d "$cache/images/.build-XXXXXX")
  # A build stopped half-way (Ctrl-C) leaves nothing: mmdebstrap's mounts inside the tree first, then the tree.
  trap 'findmnt -rn -o TARGET | grep "^$work/" | sort -r | xargs -r umount -l; rm -rf --one-file-system "$work"; rm -f "$dir.lock"' EXIT
  echo "image: building the Debian bookworm instance image (first use; about 2-4 min) into $dir" >&2
  echo "image: [1/3] mmdebstrap: ${packages[*]}" >&2
  local list; list=$(IFS=,; echo "${packages[*]}")
  mmdebstrap --variant=apt --include="$list" \
    --components=main \
    --customize-hook='chroot "$1" sh -ec "
      echo egress-lab > /etc/hostname
      : > /etc/machine-id
      rm -f /etc/ssh/ssh_host_*
      printf \"/dev/vda / ext4 rw,errors=remount-ro 0 1\\n\" > /etc/fstab
      systemctl disable apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer 2>/dev/null || true
      systemctl mask systemd-timesyncd.service 2>/dev/null || true
    "' \
    --customize-hook='rm -f "$1"/etc/apt/sources.list "$1"/etc/apt/sources.list.d/*' \
    --customize-hook='mkdir -p "$1/etc/cloud/cloud.cfg.d"; cp "'"$here"'/cloud.cfg" "$1/etc/cloud/cloud.cfg.d/90-egress-lab.cfg"' \
    --customize-hook='mkdir -p "$1/etc/network/interfaces.d"; printf "auto lo\niface lo inet loopback\nsource /etc/network/interfaces.d/*\n" > "$1/etc/network/interfaces"' \
    --customize-hook='cp "'"$here"'/egress-lab-ca.service" "$1/etc/systemd/system/"; chroot "$1" systemctl enable egress-lab-ca.service' \
    --customize-hook='install -m 755 "'"$here"'/egress-lab-delay" "$1/usr/local/sbin/egress-lab-delay"; cp "'"$here"'/egress-lab-delay.service" "$1/etc/systemd/system/"; chroot "$1" systemctl enable egress-lab-delay.service' \
    --customize-hook='chroot "$1" dpkg-query -W -f "\${Package} \${Version}\n" > "$1/root/packages.txt"' \
    bookworm "$work/root" "deb http://deb.debian.org/debian bookworm main" >&2
  echo "image: [2/3] kernel and initramfs" >&2
  cp "$work/root/root/packages.txt" "$work/packages.txt"
  cp "$(readlink -f "$work/root/vmlinuz")" "$work/vmlinuz"
  cp "$(readlink -f "$work/root/initrd.img")" "$work/initrd.img"
  echo "image: [3/3] ext4 root filesystem (mke2fs -d)" >&2
  mke2fs -q -t ext4 -L egress-root -d "$work/root" "$work/root.img" 3G
  rm -rf "$work/root"
  echo $(( $(date +%s) - started )) > "$work/build-seconds"
  touch "$work/ready"
  rm -rf "$dir"
  mv "$work" "$dir"
  trap - EXIT
  rm -f "$dir.lock"
  echo "image: built in $(cat "$dir/build-seconds") s: $(du -sh --apparent-size "$dir/root.img" | cut -f1) apparent, $(du -sh "$dir/root.img" | cut -f1) used" >&2
  echo "$dir"
}

case "${1-}" in
  path) echo "$dir" ;;
  build) build ;;
  *) echo "usage: $0 path | build" >&2; exit 2 ;;
esac
