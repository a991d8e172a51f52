#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs what ebpfdump needs to build, run and test on Debian 12 (as root).
set -euo pipefail
packages=(
	build-essential cmake pkg-config clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev
	libpcap-dev libzmq3-dev libjson-c-dev libmnl-dev libcurl4-openssl-dev
	tshark tcpdump iproute2 nftables procps util-linux
	docker.io busybox-static qemu-system-x86 xz-utils
	wireshark-qt xvfb xdotool imagemagick libcap2-bin curl
	golang-go openssl python3
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
