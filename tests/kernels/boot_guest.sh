#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Boots one Debian 12 kernel under qemu (TCG, no KVM needed) with a busybox
# initramfs holding ebpfdump, the test's traffic tools and
# tests/kernels/guest_init.sh, and unpacks what the guest captured into
# OUT_DIR/out. The kernel package is downloaded with apt-get into
# BUILD_DIR/kernels (nothing is cached outside the build tree); PACKAGE is a
# regular expression for `apt-cache search --names-only`, the newest match wins.
#
# usage: boot_guest.sh BUILD_DIR SOURCE_DIR PACKAGE_REGEX OUT_DIR
# GUEST_APPEND: more kernel command line (guest_mode=bench: bench/kernel_tiers.sh)
set -euo pipefail
build=$(realpath "$1") src=$(realpath "$2") pattern=$3 outdir=$4
cache=$build/kernels
mkdir -p "$cache" "$outdir"

pkg=$(apt-cache search --names-only "$pattern" | awk '{print $1}' | sort -V | tail -1)
if [ -z "$pkg" ]; then
	echo "boot_guest: no package matches '$pattern' (run apt-get update?)" >&2
	exit 1
fi
deb=$(ls "$cache/${pkg}"_*.deb 2>/dev/null | tail -1 || true)
if [ -z "$deb" ]; then
	(cd "$cache" && apt-get download -q "$pkg" >/dev/null 2>&1) || {
		echo "boot_guest: apt-get download $pkg failed" >&2
		exit 1
	}
	deb=$(ls "$cache/${pkg}"_*.deb | tail -1)
fi
tree=$cache/$pkg
if [ ! -d "$tree/boot" ]; then
	rm -rf "$tree.tmp" && mkdir -p "$tree.tmp"
	dpkg -x "$deb" "$tree.tmp" && mv "$tree.tmp" "$tree"
fi
vmlinuz=$(ls "$tree"/boot/vmlinuz-* | head -1)
kver=${vmlinuz##*/vmlinuz-}
echo "$pkg $kver" >"$outdir/package"

# --- initramfs ----------------------------------------------------------------------
root=$outdir/root
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,lib,lib64,modules,proc,sys,dev,tmp,etc}
cp /bin/busybox "$root/bin/busybox"
for a in $(/bin/busybox --list); do [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"; done
copy_with_libs() {
	cp "$1" "$root/bin/"
	ldd "$1" | grep -oE '/[^ ]+\.so[^ ]*' | while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
for b in "$build/extcap/ebpfdump" "$build/tcp_server" "$build/tcp_client" "$build/udp_peer" \
	$(command -v bpftool || true); do
	[ -x "$b" ] || b=$(find "$build" -maxdepth 3 -type f -name "$(basename "$b")" -perm -u+x | head -1)
	copy_with_libs "$b"
done
# sock_diag for the socket snapshot; veth for tests that want one.
for m in inet_diag tcp_diag udp_diag; do
	f=$(find "$tree/lib/modules" -name "$m.ko*" | head -1)
	case "$f" in
	*.xz) xz -dc "$f" >"$root/modules/$m.ko" ;;
	?*) cp "$f" "$root/modules/$m.ko" ;;
	esac
done
# insmod order: inet_diag first.
(cd "$root/modules" && for m in inet_diag tcp_diag udp_diag; do [ -f $m.ko ] && mv $m.ko "$(ls | wc -l | xargs printf %02d)-$m.ko.tmp"; done
 for f in *.tmp; do [ -e "$f" ] && mv "$f" "${f%.tmp}"; done) || true
printf 'root:x:0:0:root:/:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
cp "$src/tests/kernels/guest_init.sh" "$root/init"
chmod +x "$root/init"
# The cgroup paths the container runtimes create (docs/containers.md).
id_docker=$(printf 'd%.0s' $(seq 64))
id_cri=$(printf 'c%.0s' $(seq 64))
id_crio=$(printf 'e%.0s' $(seq 64))
cat >"$root/cgroups.txt" <<CG
system.slice/docker-$id_docker.scope
kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0a1b2c3d_4e5f_6a7b_8c9d_0e1f2a3b4c5d.slice/cri-containerd-$id_cri.scope
kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a1b2c3d_4e5f_6a7b_8c9d_0e1f2a3b4c5d.slice/crio-$id_crio.scope
CG
cp "$root/cgroups.txt" "$outdir/cgroups.txt"
(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$outdir/initrd.gz"

# --- boot ---------------------------------------------------------------------------
rm -f "$outdir/console.log" "$outdir/data.b64"
t0=$(date +%s)
timeout "${KERNEL_MATRIX_TIMEOUT:-900}" qemu-system-x86_64 -accel tcg -smp 2 -m 1536 \
	-kernel "$vmlinuz" -initrd "$outdir/initrd.gz" \
	-append "console=ttyS0 panic=-1 quiet loglevel=3 ${GUEST_APPEND:-}" \
	-display none -no-reboot -monitor none \
	-serial "file:$outdir/console.log" -serial "file:$outdir/data.b64" || {
	echo "boot_guest: qemu failed or timed out (console: $outdir/console.log)" >&2
	tail -20 "$outdir/console.log" >&2
	exit 1
}
echo $(( $(date +%s) - t0 )) >"$outdir/boot_run_s"
rm -rf "$outdir/out"
if ! tr -d '\r' <"$outdir/data.b64" | base64 -d 2>/dev/null | tar xf - -C "$outdir"; then
	echo "boot_guest: the guest wrote no results (console: $outdir/console.log)" >&2
	tail -20 "$outdir/console.log" >&2
	exit 1
fi
echo "boot_guest: $pkg booted and ran in $(cat "$outdir/boot_run_s") s"
