# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers of the benchmark scripts: building the bench programs next
# to a CMake build, namespaces with unique names, starting and stopping a
# tracer around a measured run. Sourced, not run.

# bench_build BUILD_DIR: compile loadgen, pcapng_count and pipeline_bench
# into BUILD_DIR/bench from the libraries of that build (no CMake change
# needed; bench/bench.cmake builds the same targets when it is included).
bench_build() {
	local b=$1 src
	src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	mkdir -p "$b/bench"
	local cflags="-O2 -g -Wall -Wextra -Werror -std=gnu11 -I$src -I$b"
	cc $cflags -o "$b/bench/loadgen" "$src/bench/loadgen.c" -lpthread
	cc $cflags -o "$b/bench/pcapng_count" "$src/bench/pcapng_count.c" "$b/event/libebpf_event.a"
	cc $cflags -o "$b/bench/pipeline_bench" "$src/bench/pipeline_bench.c" \
		"$b/merge/libebpf_merge.a" "$b/capture/libebpf_parse.a" \
		"$b/enrich/libebpf_enrich.a" "$b/pcapng/libebpf_pcapng.a" \
		"$b/event/libebpf_event.a" -ljson-c
}

# Two namespaces joined by a veth: $1 = ns A (10.231.N.1), $2 = ns B
# (10.231.N.2); N from the caller's pid so parallel runs do not collide.
veth_pair_up() {
	local a=$1 b=$2 n=$(( $$ % 250 + 1 ))
	ip netns add "$a"
	ip netns add "$b"
	ip link add "va$$" netns "$a" type veth peer name "vb$$" netns "$b"
	ip -n "$a" addr add "10.231.$n.1/24" dev "va$$"
	ip -n "$b" addr add "10.231.$n.2/24" dev "vb$$"
	ip -n "$a" link set lo up
	ip -n "$b" link set lo up
	ip -n "$a" link set "va$$" up
	ip -n "$b" link set "vb$$" up
	VETH_SERVER_ADDR="10.231.$n.1"
}

# host_veth_up NS HOST_IF PEER_IF PREFIX: namespace NS joined to the host
# by a veth, PREFIX.1 on the host side HOST_IF, PREFIX.2 on PEER_IF in NS.
host_veth_up() {
	ip netns add "$1"
	ip link add "$2" type veth peer name "$3" netns "$1"
	ip addr add "$4.1/24" dev "$2"
	ip link set "$2" up
	ip -n "$1" addr add "$4.2/24" dev "$3"
	ip -n "$1" link set "$3" up
	ip -n "$1" link set lo up
}

netns_del() {
	local ns
	for ns in "$@"; do ip netns del "$ns" 2>/dev/null || true; done
}

# tracer_start NAME CMD...: run CMD in the background (its pid in
# TRACER_PID), then wait until it has attached (SETTLE seconds, default 2:
# loading and attaching the BPF programs takes well under that here).
tracer_start() {
	local name=$1
	shift
	"$@" &
	TRACER_PID=$!
	sleep "${SETTLE:-2}"
	kill -0 "$TRACER_PID" 2>/dev/null || { echo "tracer $name died at start" >&2; return 1; }
}

# tracer_stop: SIGINT (both tools flush and report on it), then wait.
tracer_stop() {
	[ -n "${TRACER_PID:-}" ] || return 0
	kill -INT "$TRACER_PID" 2>/dev/null || true
	wait "$TRACER_PID" 2>/dev/null || true
	TRACER_PID=
}

# field KEY FILE: value of "KEY=value" anywhere in FILE's lines.
field() { grep -o "$1=[0-9.]*" "$2" | tail -1 | cut -d= -f2; }

# bpf_runtime PID: "run_time_ns run_cnt" summed over the BPF programs that
# process holds (prog ids from its fdinfo, so other tools' programs with
# the same names are not counted). Needs kernel.bpf_stats_enabled=1.
bpf_runtime() {
	local ids
	ids=$(grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u | tr '\n' ' ')
	bpftool prog show -j | python3 -c '
import json, sys
ids = set(int(x) for x in sys.argv[1].split())
ns = cnt = 0
for p in json.load(sys.stdin):
    if p["id"] in ids:
        ns += p.get("run_time_ns", 0); cnt += p.get("run_cnt", 0)
print(ns, cnt)' "$ids"
}

# cpu_ticks PID: user + system clock ticks the process used so far.
cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
