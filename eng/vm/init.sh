#!/bin/busybox sh
# shellcheck shell=dash
# PID 1 of the test VM's initramfs: mount the host's root filesystem (9p, read-only) under a tmpfs
# overlay, the VM's own /proc, /sys, /dev, /run, /tmp and /var/tmp, then the repository read-write at its host path
# (last, so no tmpfs hides a checkout under /tmp), then run the requested command as root
# and record its exit code in the repository share. Powers off when done.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
while read -r m; do insmod "/modules/$m" 2>/dev/null; done < /modules.order

cmdline=$(cat /proc/cmdline)
repo=${cmdline##*egress.repo=}; repo=${repo%% *}

mkdir -p /lower /rw /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 rootfs /lower || { echo "vm: cannot mount the host root (9p)"; poweroff -f; }
mount -t tmpfs -o size=4g tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot || { echo "vm: overlay mount failed"; poweroff -f; }
mount -t proc proc /newroot/proc
mount -t sysfs sys /newroot/sys
mount -t devtmpfs dev /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/dev/shm
mount -t tmpfs tmpfs /newroot/run
mount -t tmpfs tmpfs /newroot/tmp
mount -t tmpfs tmpfs /newroot/var/tmp 2>/dev/null
mount -t cgroup2 cgroup2 /newroot/sys/fs/cgroup 2>/dev/null
mkdir -p /newroot/run/netns
# Named busybox-*: busybox takes its applet from argv[1] only when its own name starts with "busybox" (as
# egress-vm-busybox it said "applet not found", PID 1 exited and the kernel panicked instead of powering off).
cp /bin/busybox /newroot/run/busybox-egress-vm
# The repository last, over whatever the mounts above put at its path: a checkout under /tmp, /run or /var/tmp would
# otherwise be hidden by their tmpfs (and the command would run in an empty directory).
mkdir -p "/newroot$repo"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 repo "/newroot$repo" || { echo "vm: cannot mount the repository (9p)"; poweroff -f; }
echo booted > "/newroot$repo/.vm/booted"
# switch_root makes the overlay the root of PID 1 too, so the kernel's module auto-loading
# (/sbin/modprobe, /lib/modules of the host) works for ipip, gre, netem, fq, bbr, nftables.
exec switch_root /newroot /bin/sh -c "cd '$repo' && hostname egress-vm && ip link set lo up; \
  HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin EGRESS_IN_VM=1 \
  /bin/sh '$repo/.vm/cmd.sh' > '$repo/.vm/output' 2>&1; echo \$? > '$repo/.vm/rc'; sync; \
  /run/busybox-egress-vm poweroff -f"
