#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Cost per TLS call with --tls (issue 19): tls_loop (OpenSSL 3, one
# SSL_write and one SSL_read per record over TCP loopback) alone and while
# `ebpfdump --tls` captures to a 0600 file on tmpfs, interleaved
# (off, on, off, on, ...) ROUNDS times. Prints every run, the medians with
# their range, the added ns per call, and the BPF programs' own run time
# per call (kernel.bpf_stats_enabled: all of ebpfdump's programs, its
# kernel-event ones included) and ebpfdump's CPU time per call. With
# bpftrace installed, each round also runs with empty bpftrace uprobes and
# uretprobes on SSL_write and SSL_read: what the kernel's uprobe traps
# alone cost on this machine.
#
# usage: bench/tls_overhead.sh BUILD_DIR   (env: ROUNDS=5 N=100000 SIZE=100)
set -euo pipefail
build=$(cd "${1:?usage: tls_overhead.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
rounds=${ROUNDS:-5} n=${N:-100000} size=${SIZE:-100}
tmp=$(mktemp -d /dev/shm/ebpfdump-tls.XXXXXX)
epid=
cleanup() {
	[ -n "$epid" ] && kill "$epid" 2>/dev/null && wait "$epid" 2>/dev/null
	[ -n "${stats_was:-}" ] && sysctl -qw kernel.bpf_stats_enabled="$stats_was"
	rm -rf "$tmp"
}
trap cleanup EXIT
cc -O2 -Wall -Wextra -Werror -o "$tmp/tls_loop" "$here/tls_loop.c" -lssl -lcrypto -lpthread
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" \
	-days 1 -subj /CN=bench >/dev/null 2>&1
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
hz=$(getconf CLK_TCK)
lib=
command -v bpftrace >/dev/null && lib=$(ldd "$tmp/tls_loop" | awk '/libssl/ {print $3}')

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.0f (range %.0f-%.0f)", m, a[1], a[NR]}'; }

for r in $(seq "$rounds"); do
	off=$(field ns_per_call <("$tmp/tls_loop" "$tmp/cert.pem" "$tmp/key.pem" "$n" "$size"))
	echo "$off" >>"$tmp/off"
	rm -f "$tmp/out.pcapng"
	"$build/extcap/ebpfdump" --capture --extcap-interface ebpfevents --tls --no-snapshot \
		--fifo "$tmp/out.pcapng" 2>"$tmp/ebpfdump.err" &
	epid=$!
	for _ in $(seq 100); do grep -q "recording TLS plaintext" "$tmp/ebpfdump.err" && break; sleep 0.1; done
	read -r ns0 cnt0 < <(bpf_runtime "$epid")
	t0=$(cpu_ticks "$epid")
	on=$(field ns_per_call <("$tmp/tls_loop" "$tmp/cert.pem" "$tmp/key.pem" "$n" "$size"))
	read -r ns1 cnt1 < <(bpf_runtime "$epid")
	t1=$(cpu_ticks "$epid")
	kill -INT "$epid"
	wait "$epid" || true
	epid=
	frames=$(grep -o '^ebpfdump: [0-9]* TLS frames' "$tmp/ebpfdump.err" | grep -o '[0-9]*' || echo 0)
	echo "$on" >>"$tmp/on"
	bt=-
	if [ -n "$lib" ]; then
		bpftrace -e "uprobe:$lib:SSL_write,uprobe:$lib:SSL_read,uretprobe:$lib:SSL_write,uretprobe:$lib:SSL_read { @n = count(); }" \
			>"$tmp/bt.out" 2>&1 &
		epid=$!
		for _ in $(seq 100); do grep -q "Attaching" "$tmp/bt.out" && break; sleep 0.1; done
		sleep 0.5
		bt=$(field ns_per_call <("$tmp/tls_loop" "$tmp/cert.pem" "$tmp/key.pem" "$n" "$size"))
		kill -INT "$epid"
		wait "$epid" || true
		epid=
		echo "$bt" >>"$tmp/bt"
	fi
	bpf=$(((ns1 - ns0) / (2 * n)))
	user=$(((t1 - t0) * 1000000000 / hz / (2 * n)))
	echo "$bpf" >>"$tmp/bpf"
	echo "$user" >>"$tmp/user"
	printf 'round %d: off %s ns/call, --tls %s ns/call, empty bpftrace uprobes %s ns/call, %s TLS frames, BPF %s ns/TLS call, ebpfdump CPU %s ns/TLS call\n' \
		"$r" "$off" "$on" "$bt" "$frames" "$bpf" "$user"
done
echo "SSL_write+SSL_read of $size bytes, $n per run, $rounds rounds:"
echo "  --tls off: $(median <"$tmp/off") ns per call pair"
echo "  --tls on:  $(median <"$tmp/on") ns per call pair"
paste "$tmp/off" "$tmp/on" | awk '{print $2 - $1}' >"$tmp/delta"
echo "  added:     $(median <"$tmp/delta") ns per call pair (2 TLS calls)"
[ -s "$tmp/bt" ] && echo "  empty bpftrace uprobe+uretprobe on both: $(median <"$tmp/bt") ns per call pair"
echo "  BPF run time: $(median <"$tmp/bpf") ns per TLS call; ebpfdump CPU: $(median <"$tmp/user") ns per TLS call"
