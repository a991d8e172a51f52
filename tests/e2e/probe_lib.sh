# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers of the kernel probe tests (sourced by probe_udp.sh,
# probe_udp_flood.sh, probe_retransmit.sh, probe_filters.sh, probe_loss.sh,
# probe_missed_close.sh):
# result counting, two network namespaces on a veth pair, probe_dump runs,
# and queries over its key=value output. Every name carries a per-run
# suffix; everything started or created is removed on exit.
#
# The caller sets probe_dump udp_peer tcp_server tcp_client and calls
# probe_setup NAME.

pass=0 fail=0
started=()
cleanups=()

ok() { pass=$((pass + 1)); }
bad() {
	fail=$((fail + 1))
	echo "FAIL: $*"
}
check() { # check DESCRIPTION SHELL-CONDITION (evaluated here: no $1, $2 in it)
	if eval "$2"; then ok; else bad "$1"; fi
}
note() { echo "NOTE: $*"; }

probe_cleanup() {
	local pid c
	for pid in "${started[@]}"; do
		kill -CONT "$pid" 2>/dev/null
		kill "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	for c in "${cleanups[@]}"; do
		eval "$c" 2>/dev/null
	done
	ip netns del "$ns_s" 2>/dev/null
	ip netns del "$ns_c" 2>/dev/null
	rm -rf "$tmp"
}

# probe_setup NAME: checks root and BTF (exit 77 otherwise), makes the
# namespaces ns_s (server, 192.0.2.2 / fd00:ebd::2) and ns_c (client,
# 192.0.2.1 / fd00:ebd::1) joined by veth_s/veth_c; sets ino_s, ino_c.
probe_setup() {
	test_name=$1
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root (loads BPF programs, creates network namespaces)"
		exit 77
	fi
	if [ ! -r /sys/kernel/btf/vmlinux ]; then
		echo "SKIP: kernel without BTF"
		exit 77
	fi
	sfx=$(printf '%x%04x' $$ $RANDOM)
	ns_s=ebpfdump-s-$sfx ns_c=ebpfdump-c-$sfx
	veth_s=ebs$sfx veth_c=ebc$sfx
	v4_c=192.0.2.1 v4_s=192.0.2.2
	v6_c=fd00:ebd::1 v6_s=fd00:ebd::2
	tmp=$(mktemp -d "/tmp/ebpfdump-$test_name.XXXXXX")
	trap probe_cleanup EXIT
	trap 'exit 1' INT TERM
	ip netns add "$ns_s" && ip netns add "$ns_c" &&
		ip link add "$veth_c" netns "$ns_c" type veth peer name "$veth_s" netns "$ns_s" &&
		ip -n "$ns_c" addr add "$v4_c/24" dev "$veth_c" &&
		ip -n "$ns_s" addr add "$v4_s/24" dev "$veth_s" &&
		ip -n "$ns_c" -6 addr add "$v6_c/64" dev "$veth_c" nodad &&
		ip -n "$ns_s" -6 addr add "$v6_s/64" dev "$veth_s" nodad &&
		ip -n "$ns_c" link set lo up && ip -n "$ns_s" link set lo up &&
		ip -n "$ns_c" link set "$veth_c" up && ip -n "$ns_s" link set "$veth_s" up
	if [ $? != 0 ]; then
		echo "FAIL: cannot set up namespaces and veth"
		exit 1
	fi
	for _ in $(seq 50); do
		ip -n "$ns_c" link show "$veth_c" | grep -q LOWER_UP &&
			ip -n "$ns_s" link show "$veth_s" | grep -q LOWER_UP && break
		sleep 0.1
	done
	ino_c=$(ip netns exec "$ns_c" stat -L -c %i /proc/self/ns/net)
	ino_s=$(ip netns exec "$ns_s" stat -L -c %i /proc/self/ns/net)
}

probe_finish() {
	echo "$test_name: $pass passed, $fail failed"
	[ "$fail" = 0 ]
}

# start_probe NAME ARGS...: probe_dump in the background, output in
# $tmp/NAME.out; sets pd_pid and out.
start_probe() {
	local name=$1
	shift
	out=$tmp/$name.out
	"$probe_dump" "$@" >"$out" 2>"$tmp/$name.err" &
	pd_pid=$!
	started+=("$pd_pid")
	for _ in $(seq 150); do
		grep -q '^probe_dump: ready' "$tmp/$name.err" && return 0
		kill -0 "$pd_pid" 2>/dev/null || break
		sleep 0.1
	done
	bad "probe_dump ($name) did not start: $(grep -v 'libbpf:' "$tmp/$name.err" | tail -3)"
	return 1
}

# stop_probe NAME: SIGINT, then checks it exited 0 and printed its stats.
stop_probe() {
	local name=$1 rc
	kill -INT "$pd_pid"
	for _ in $(seq 100); do
		kill -0 "$pd_pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$pd_pid"
	rc=$?
	check "$name: probe_dump exits 0 (got $rc: $(grep -v libbpf: "$tmp/$name.err" | tail -2))" \
		'[ $rc = 0 ]'
	check "$name: stats and tables lines printed" \
		'grep -q "^stats delivered=" "$tmp/$name.out" && grep -q "^tables " "$tmp/$name.out"'
}

# pstat NAME KEY: a value of the "stats" or "tables" line of run NAME.
pstat() {
	sed -n "s/^\(stats\|tables\) .*\b$2=\([0-9]*\).*/\2/p" "$tmp/$1.out" | head -1
}

# Value of KEY in the first line of FILE that starts with WORD.
field() { sed -n "s/^$2 .* $3=\([^ ]*\).*/\1/p; s/^$2 $3=\([^ ]*\).*/\1/p" "$1" | head -1; }

# events TYPE KEY=VALUE...: lines of $out with event=TYPE and every pair.
events() {
	local type=$1
	shift
	awk -v type="$type" -v conds="$*" '
		BEGIN { n = split(conds, c, " ") }
		$1 == "event=" type {
			split("", f)
			for (i = 2; i <= NF; i++) {
				eq = index($i, "=")
				f[substr($i, 1, eq - 1)] = substr($i, eq + 1)
			}
			for (j = 1; j <= n; j++) {
				eq = index(c[j], "=")
				k = substr(c[j], 1, eq - 1)
				v = substr(c[j], eq + 1)
				if (v == "-") { if (k in f) next; else continue } # KEY=-: absent
				if (f[k] != v)
					next
			}
			print
		}' "$out"
}

# sum_of FIELD TYPE KEY=VALUE...: sum of FIELD over those events.
sum_of() {
	local key=$1
	shift
	events "$@" | tr ' ' '\n' | sed -n "s/^$key=//p" | awk '{ s += $1 } END { print s + 0 }'
}

wait_line() { # wait_line FILE WORD: up to 5 s for a line starting with WORD
	for _ in $(seq 50); do
		grep -q "^$2 " "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# bg_in NS NAME CMD...: a helper in namespace NS (or "-" for none) in the
# background, stdout in $tmp/NAME; sets bg_pid.
bg_in() {
	local ns=$1 name=$2
	shift 2
	if [ "$ns" = - ]; then
		"$@" >"$tmp/$name" 2>"$tmp/$name.err" &
	else
		ip netns exec "$ns" "$@" >"$tmp/$name" 2>"$tmp/$name.err" &
	fi
	bg_pid=$!
	started+=("$bg_pid")
}

# wait_bg PID NAME: waits for a helper and checks it exited 0.
wait_bg() {
	local rc
	wait "$1"
	rc=$?
	check "$2: helper exits 0 (got $rc: $(tail -2 "$tmp/$2.err" 2>/dev/null))" '[ $rc = 0 ]'
}
