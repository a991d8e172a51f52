#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Kernel-level test of bpf/ (the probe): real TCP connections between two
# network namespaces joined by a veth pair, over IPv4 and IPv6, observed by
# probe_dump. Checks attribution (pid, tid from a non-main thread, comm,
# ppid, netns, the executable's path read in the kernel), handshake latency, exact payload byte counts on both ends
# when the client closes first, when the server closes first and when the
# connection ends in RST, ECONNREFUSED for a closed port, ETIMEDOUT for a
# dropped SYN, no tracefs needed
# (nor mounted), records lost to a full ring buffer counted, the event mask,
# the reason given without BTF, and that every BPF program
# probe_dump loaded is gone once it exits (SIGINT, SIGTERM, --duration).
#
# usage: probe_events.sh PROBE_DUMP TCP_SERVER TCP_CLIENT   (as root)
set -uo pipefail

probe_dump=$1 server=$2 client=$3

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (loads BPF programs, creates network namespaces)"
	exit 77
fi
if [ ! -r /sys/kernel/btf/vmlinux ]; then
	echo "SKIP: kernel without BTF"
	exit 77
fi

sfx=$(printf '%x%04x' $$ $RANDOM)
ns_s=ebpfdump-s-$sfx
ns_c=ebpfdump-c-$sfx
veth_s=ebs$sfx
veth_c=ebc$sfx
v4_c=192.0.2.1 v4_s=192.0.2.2
v6_c=fd00:ebd::1 v6_s=fd00:ebd::2
closed_port=9 # nothing listens in a fresh namespace
dropped_port=19 # the server namespace's firewall drops SYNs to it
tracefs=/sys/kernel/tracing
tmp=$(mktemp -d /tmp/ebpfdump-probe.XXXXXX)
started=()
tracefs_was_mounted=0
pass=0 fail=0

restore_tracefs() {
	if [ "$tracefs_was_mounted" = 1 ] && ! mountpoint -q "$tracefs"; then
		mount -t tracefs nodev "$tracefs"
	elif [ "$tracefs_was_mounted" = 0 ] && mountpoint -q "$tracefs"; then
		umount "$tracefs" 2>/dev/null || echo "NOTE: could not unmount $tracefs (busy)"
	fi
}

cleanup() {
	local pid
	for pid in "${started[@]}"; do
		kill "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	ip netns del "$ns_s" 2>/dev/null
	ip netns del "$ns_c" 2>/dev/null
	mountpoint -q "$tmp/mnt" && umount "$tmp/mnt"
	[ -n "${cg:-}" ] && [ -d "$cg" ] && rmdir "$cg"
	restore_tracefs
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { pass=$((pass + 1)); }
bad() {
	fail=$((fail + 1))
	echo "FAIL: $*"
}
check() { # check DESCRIPTION SHELL-CONDITION
	if eval "$2"; then ok; else bad "$1"; fi
}

# Value of KEY in the first line of FILE that starts with WORD.
field() { sed -n "s/^$2 .* $3=\([^ ]*\).*/\1/p; s/^$2 $3=\([^ ]*\).*/\1/p" "$1" | head -1; }

# Lines of probe_dump output $out with event=TYPE and every KEY=VALUE given.
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
				if (f[substr(c[j], 1, eq - 1)] != substr(c[j], eq + 1))
					next
			}
			print
		}' "$out"
}

# expect_one DESCRIPTION TYPE KEY=VALUE...: exactly one such event.
expect_one() {
	local desc=$1 type=$2 n
	shift 2
	n=$(events "$type" "$@" | wc -l)
	if [ "$n" = 1 ]; then
		ok
	else
		bad "$desc: $n x $type with $*"
		echo "  events on these ports:"
		grep -E " (lport|rport)=($port|${cport:-none}) " "$out" | sed 's/^/    /' | head -8
	fi
}

# The exe probe_dump should print for the binary FILE: its real path when
# the kernel can name it (on the root mount, at most EXE_DEPTH = 16 levels,
# at most 255 bytes), else nothing (the field is absent).
exe_of() {
	local p
	p=$(readlink -f "$1")
	if [ "$(stat -c %m "$p")" = / ] && [ "${#p}" -le 255 ] &&
		[ "$(echo "$p" | tr -cd / | wc -c)" -le 16 ]; then
		echo "$p"
	fi
}

prog_ids_of() { # BPF program ids held by process $1
	grep -h '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{ print $2 }' | sort -un
}
all_prog_ids() { bpftool -j prog show | jq -r '.[].id' | sort -n; }

# start_probe NAME ARGS...: probe_dump in the background; sets pd_pid.
start_probe() {
	local name=$1
	shift
	"$probe_dump" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
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

# stop_probe NAME SIGNAL|wait: ends probe_dump, checks its exit and that the
# programs it held (read from its fdinfo while it ran) are gone.
stop_probe() {
	local name=$1 how=$2 ids id rc left=""
	ids=$(prog_ids_of "$pd_pid")
	# state_main, state_nested and sys_exit are loaded in every configuration
	check "$name: probe_dump holds its BPF programs (at least 3)" '[ "$(echo "$ids" | grep -c .)" -ge 3 ]'
	[ "$how" != wait ] && kill -"$how" "$pd_pid"
	for _ in $(seq 100); do
		kill -0 "$pd_pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$pd_pid"
	rc=$?
	check "$name: probe_dump exits 0 (got $rc)" '[ $rc = 0 ]'
	check "$name: stats line printed" 'grep -q "^stats delivered=[0-9]* dropped=[0-9]* missed=[0-9]* seen=[0-9]* filtered=[0-9]* " "$tmp/$name.out"'
	# Detached at exit; the kernel frees them after an RCU grace period.
	for _ in $(seq 30); do
		left=""
		for id in $ids; do
			bpftool prog show id "$id" >/dev/null 2>&1 && left="$left $id"
		done
		[ -z "$left" ] && break
		sleep 0.1
	done
	check "$name: no BPF program left behind (left:${left:- none})" '[ -z "$left" ]'
}

wait_line() { # wait_line FILE WORD: up to 5 s for a line starting with WORD
	for _ in $(seq 50); do
		grep -q "^$2 " "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# run_pair NAME SERVER_ADDR CLIENT_ADDR N M "SERVER OPTS" "CLIENT OPTS":
# a server in ns_s sends M and receives N; a client in ns_c sends N and
# receives M. Leaves the helpers' output in $tmp/NAME.srv and .cli.
run_pair() {
	local name=$1 saddr=$2 n=$4 m=$5 sopts=$6 copts=$7 spid rc port
	ip netns exec "$ns_s" timeout 20 "$server" --listen "$saddr" --port 0 --send "$m" \
		--recv "$n" $sopts >"$tmp/$name.srv" &
	spid=$!
	started+=("$spid")
	if ! wait_line "$tmp/$name.srv" listening; then
		bad "$name: server did not start"
		return
	fi
	port=$(field "$tmp/$name.srv" listening port)
	ip netns exec "$ns_c" timeout 20 "$client" --connect "$saddr" --port "$port" --send "$n" \
		--recv "$m" $copts >"$tmp/$name.cli"
	rc=$?
	check "$name: client exchanged its bytes (exit $rc)" '[ $rc = 0 ]'
	wait "$spid"
	rc=$?
	check "$name: server exchanged its bytes (exit $rc)" '[ $rc = 0 ]'
}

# check_pair NAME FAMILY SERVER_ADDR CLIENT_ADDR N M: the four events of
# one connection, attributed and counted exactly.
check_pair() {
	local name=$1 fam=$2 saddr=$3 caddr=$4 n=$5 m=$6 line lat
	local cpid ctid cppid spid stid
	cpid=$(field "$tmp/$name.cli" connected pid)
	ctid=$(field "$tmp/$name.cli" connected tid)
	cppid=$(field "$tmp/$name.cli" connected ppid)
	cport=$(field "$tmp/$name.cli" connected lport)
	spid=$(field "$tmp/$name.srv" accepted pid)
	stid=$(field "$tmp/$name.srv" accepted tid)
	port=$(field "$tmp/$name.srv" listening port)
	if [ -z "$cpid" ] || [ -z "$spid" ] || [ -z "$cport" ]; then
		bad "$name: helpers printed no pids/ports"
		return
	fi
	check "$name: client connected from a thread (pid $cpid != tid $ctid)" '[ "$cpid" != "$ctid" ]'

	expect_one "$name: TCP_Connect of the client thread" TCP_Connect pid="$cpid" tid="$ctid" \
		comm=tcp_client ppid="$cppid" family="$fam" laddr="$caddr" lport="$cport" \
		raddr="$saddr" rport="$port" netns="$ino_c" ifname="$veth_c" exe="$client_exe"
	line=$(events TCP_Connect pid="$cpid" lport="$cport" | head -1)
	lat=$(echo "$line" | sed -n 's/.* latency_us=\([0-9]*\).*/\1/p')
	check "$name: TCP_Connect latency_us > 0 (got '${lat}')" '[ -n "$lat" ] && [ "$lat" -gt 0 ]'

	expect_one "$name: TCP_Accept of the server thread" TCP_Accept pid="$spid" tid="$stid" \
		comm=tcp_server family="$fam" laddr="$saddr" lport="$port" raddr="$caddr" \
		rport="$cport" netns="$ino_s" exe="$server_exe"
	expect_one "$name: client TCP_Close, exact bytes" TCP_Close pid="$cpid" tid="$ctid" \
		comm=tcp_client lport="$cport" rport="$port" bytes_sent="$n" bytes_received="$m" \
		netns="$ino_c" exe="$client_exe"
	expect_one "$name: server TCP_Close, exact bytes" TCP_Close pid="$spid" tid="$stid" \
		comm=tcp_server lport="$port" rport="$cport" bytes_sent="$m" bytes_received="$n" \
		netns="$ino_s" exe="$server_exe"
}

# run_failing NAME ADDR PORT ERRNO WHAT [CLIENT]: a connect that must fail
# with ERRNO.
run_failing() {
	local name=$1 addr=$2 port=$3 errno=$4 what=$5 bin=${6:-$client} rc
	ip netns exec "$ns_c" timeout 20 "$bin" --connect "$addr" --port "$port" >"$tmp/$name.cli"
	rc=$?
	check "$name: connect $what (exit $rc, $(cat "$tmp/$name.cli"))" \
		'[ $rc = 3 ] && grep -q "errno=$errno$" "$tmp/$name.cli"'
}
# run_refused NAME ADDR [CLIENT]: connect to a closed port.
run_refused() { run_failing "$1" "$2" "$closed_port" 111 refused "${3:-$client}"; }
# run_timeout NAME ADDR: a SYN dropped by the server's firewall; one SYN
# retry in the client's namespace, so the kernel gives up after ~3 s.
run_timeout() { run_failing "$1" "$2" "$dropped_port" 110 "timed out"; }

# check_timeout NAME ADDR FAMILY
check_timeout() {
	local name=$1 addr=$2 fam=$3
	expect_one "$name: TCP_Connect_Failed ETIMEDOUT" TCP_Connect_Failed \
		pid="$(field "$tmp/$name.cli" failed pid)" comm=tcp_client family="$fam" \
		raddr="$addr" rport="$dropped_port" error=110 netns="$ino_c"
}

# check_refused NAME ADDR FAMILY [EXE]
check_refused() {
	local name=$1 addr=$2 fam=$3 exe=${4-$client_exe} cpid ctid
	cpid=$(field "$tmp/$name.cli" failed pid)
	ctid=$(field "$tmp/$name.cli" failed tid)
	port=$closed_port cport=none
	expect_one "$name: TCP_Connect_Failed ECONNREFUSED" TCP_Connect_Failed pid="$cpid" \
		tid="$ctid" comm=tcp_client family="$fam" raddr="$addr" rport="$closed_port" \
		error=111 netns="$ino_c" exe="$exe"
}

# --- network: two namespaces, one veth pair, IPv4 and IPv6 -------------
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
ip netns exec "$ns_c" sysctl -qw net.ipv4.tcp_syn_retries=1 &&
	ip netns exec "$ns_s" nft -f - <<EOF
table inet ebpfdump_test {
	chain input {
		type filter hook input priority 0;
		tcp dport $dropped_port drop
	}
}
EOF
[ $? = 0 ] || { echo "FAIL: cannot set up the SYN-dropping firewall"; exit 1; }
for _ in $(seq 50); do
	ip -n "$ns_c" link show "$veth_c" | grep -q LOWER_UP &&
		ip -n "$ns_s" link show "$veth_s" | grep -q LOWER_UP && break
	sleep 0.1
done
ino_c=$(ip netns exec "$ns_c" stat -L -c %i /proc/self/ns/net)
ino_s=$(ip netns exec "$ns_s" stat -L -c %i /proc/self/ns/net)

# --- executables: where the kernel can and cannot name them --------------
client_exe=$(exe_of "$client")
server_exe=$(exe_of "$server")
check "the test binaries have a kernel-side path ($client_exe, $server_exe)" \
	'[ -n "$client_exe" ] && [ -n "$server_exe" ]'
# Copies of the client 16 levels deep (named), 17 deep (too deep: no
# path rather than a partial one) and on a tmpfs (another mount: no path).
deep=$(readlink -f "$tmp")
while [ "$(echo "$deep/tcp_client" | tr -cd / | wc -c)" -lt 16 ]; do deep=$deep/d; done
if mkdir -p "$deep/e" "$tmp/mnt" && cp "$client" "$deep/tcp_client" &&
	cp "$client" "$deep/e/tcp_client" && mount -t tmpfs -o size=16m none "$tmp/mnt" &&
	cp "$client" "$tmp/mnt/tcp_client"; then
	ok
else
	bad "cannot make the copies of the client"
fi

# --- the kernel's per-process cache (procs): one process connects three
# times, before and after moving to another cgroup and after an exec; each
# event must carry what is true at that moment. The hierarchy events take
# their cgroup from: v1 memory, else v1 pids, else the unified one.
cg=
for h in /sys/fs/cgroup/memory /sys/fs/cgroup/pids /sys/fs/cgroup/unified /sys/fs/cgroup; do
	if [ -w "$h/cgroup.procs" ]; then
		cg=$h/ebpfdump-cache-$sfx
		break
	fi
done
bash_exe=$(exe_of /bin/bash)
# run_cache: bash connects (refused), is moved into $cg from outside (ip
# netns exec hides the host's /sys), connects again, then execs the
# client, which connects a third time.
run_cache() {
	local go=$tmp/cache.go bpid
	mkfifo "$go"
	ip netns exec "$ns_c" timeout 20 bash -c '
		echo "bash pid=$$"
		true 3<>"/dev/tcp/$1/$2"
		echo "bash moveme"
		read -r _ <"$3"
		true 3<>"/dev/tcp/$1/$2"
		exec "$4" --connect "$1" --port "$2"' cache "$v4_s" "$closed_port" "$go" "$client" \
		>"$tmp/cache.cli" 2>/dev/null &
	started+=("$!")
	for _ in $(seq 100); do
		grep -q '^bash moveme' "$tmp/cache.cli" && break
		sleep 0.05
	done
	bpid=$(field "$tmp/cache.cli" bash pid)
	check "cache: bash moved into $cg" \
		'[ -n "$bpid" ] && echo "$bpid" >"$cg/cgroup.procs" && grep -qx "$bpid" "$cg/cgroup.procs"'
	echo go 1<>"$go"
	wait "$!"
	check "cache: the client ran after bash's exec" 'grep -q "^failed " "$tmp/cache.cli"'
}
check_cache() {
	local pid cg_id n
	pid=$(field "$tmp/cache.cli" bash pid)
	cg_id=$(stat -c %i "$cg")
	n=$(events TCP_Connect_Failed pid="$pid" comm=bash exe="$bash_exe" | grep -vc " cgroup_id=$cg_id ")
	check "cache: bash's connect before the move has its old cgroup ($n)" '[ "$n" = 1 ]'
	expect_one "cache: bash's connect after the move has the new cgroup" TCP_Connect_Failed \
		pid="$pid" comm=bash exe="$bash_exe" cgroup_id="$cg_id" cgroup="ebpfdump-cache-$sfx"
	expect_one "cache: the same process after exec has the new executable" TCP_Connect_Failed \
		pid="$pid" comm=tcp_client exe="$client_exe" cgroup_id="$cg_id"
}
if [ -n "$cg" ] && [ -n "$bash_exe" ] && mkdir "$cg"; then
	ok
else
	echo "NOTE: no writable cgroup hierarchy or no bash: the process cache is not exercised"
	cg=
fi

progs_before=$(all_prog_ids)

# --- tracefs: not needed (raw tracepoints only), and not mounted by us ----
tracefs_unmounted=0
if mountpoint -q "$tracefs"; then
	tracefs_was_mounted=1
	if umount "$tracefs" 2>/dev/null; then
		tracefs_unmounted=1
	else
		echo "NOTE: $tracefs is busy; running without tracefs is not exercised this run"
	fi
else
	tracefs_unmounted=1
fi

# --- main run: every scenario, stopped with SIGINT ------------------------
start_probe main --verbose || exit 1
out=$tmp/main.out
if [ "$tracefs_unmounted" = 1 ]; then
	check "runs without tracefs and leaves it unmounted" '! mountpoint -q "$tracefs"'
fi

run_pair v4-client-closes "$v4_s" "$v4_c" 12345 54321 "" ""
run_pair v4-server-closes "$v4_s" "$v4_c" 7777 1000000 "--close-first" "--wait-eof"
run_pair v4-reset "$v4_s" "$v4_c" 3000 20000 "" "--rst"
run_refused v4-refused "$v4_s"
run_pair v6-client-closes "$v6_s" "$v6_c" 23456 65432 "" ""
run_pair v6-server-closes "$v6_s" "$v6_c" 4321 9876 "--close-first" "--wait-eof"
run_refused v6-refused "$v6_s"
run_timeout v4-timeout "$v4_s"
run_refused exe-16 "$v4_s" "$deep/tcp_client"
run_refused exe-17 "$v4_s" "$deep/e/tcp_client"
run_refused exe-tmpfs "$v4_s" "$tmp/mnt/tcp_client"
[ -n "$cg" ] && run_cache
sleep 0.5 # the last FIN/ACK exchanges complete in softirq after the helpers exit
stop_probe main INT

check_pair v4-client-closes ipv4 "$v4_s" "$v4_c" 12345 54321
check_pair v4-server-closes ipv4 "$v4_s" "$v4_c" 7777 1000000
check_pair v4-reset ipv4 "$v4_s" "$v4_c" 3000 20000
check_refused v4-refused "$v4_s" ipv4
check_pair v6-client-closes ipv6 "$v6_s" "$v6_c" 23456 65432
check_pair v6-server-closes ipv6 "$v6_s" "$v6_c" 4321 9876
check_refused v6-refused "$v6_s" ipv6
check_timeout v4-timeout "$v4_s" ipv4
check_refused exe-16 "$v4_s" ipv4 "$(exe_of "$deep/tcp_client")"
check_refused exe-17 "$v4_s" ipv4 ""
check_refused exe-tmpfs "$v4_s" ipv4 ""
[ -n "$cg" ] && check_cache

n_events=$(grep -c '^event=' "$out")
delivered=$(sed -n 's/^stats delivered=\([0-9]*\) .*/\1/p' "$out")
dropped=$(sed -n 's/^stats .* dropped=\([0-9]*\) .*/\1/p' "$out")
check "stats: delivered ($delivered) equals the events printed ($n_events)" \
	'[ "$delivered" = "$n_events" ]'
check "stats: nothing dropped ($dropped)" '[ "$dropped" = 0 ]'

# --- a full ring buffer: every record lost is counted -----------------------
# probe_dump is stopped while a burst of connections produces far more
# records than a 64 KiB ring holds (about 200).
burst=250
if start_probe drops --ringbuf 65536; then
	kill -STOP "$pd_pid"
	run_pair burst "$v4_s" "$v4_c" 0 0 "--count $burst" "--repeat $burst"
	sleep 0.3
	kill -CONT "$pd_pid"
	stop_probe drops INT
	out=$tmp/drops.out
	n_events=$(grep -c '^event=' "$out")
	delivered=$(sed -n 's/^stats delivered=\([0-9]*\) .*/\1/p' "$out")
	dropped=$(sed -n 's/^stats .* dropped=\([0-9]*\) .*/\1/p' "$out")
	# shellcheck disable=SC2034 # read by the eval in check
	missed=$(sed -n 's/^stats .* missed=\([0-9]*\) .*/\1/p' "$out")
	check "full ring: drops counted ($dropped)" '[ "${dropped:-0}" -gt 0 ]'
	check "full ring: delivered ($delivered) equals the events printed ($n_events)" \
		'[ "$delivered" = "$n_events" ]'
	# A record lost any other way must show as a missed program run.
	check "full ring: delivered + dropped + missed >= $((4 * burst)) records of the burst" \
		'[ $((${delivered:-0} + ${dropped:-0} + ${missed:-0})) -ge $((4 * burst)) ]'
fi

# --- event mask, stopped with SIGTERM: only the chosen types, owners intact
if start_probe mask --events TCP_Close,TCP_Connect_Failed; then
	run_pair mask "$v4_s" "$v4_c" 1111 2222 "" ""
	run_refused mask-refused "$v4_s"
	sleep 0.5
	stop_probe mask TERM
	out=$tmp/mask.out
	check "mask: only TCP_Close and TCP_Connect_Failed delivered" \
		'! grep "^event=" "$out" | grep -vqE "^event=(TCP_Close|TCP_Connect_Failed) "'
	cport=$(field "$tmp/mask.cli" connected lport)
	port=$(field "$tmp/mask.srv" listening port)
	expect_one "mask: client TCP_Close still attributed" TCP_Close \
		pid="$(field "$tmp/mask.cli" connected pid)" comm=tcp_client lport="$cport" \
		bytes_sent=1111 bytes_received=2222
	expect_one "mask: server TCP_Close still attributed" TCP_Close \
		pid="$(field "$tmp/mask.srv" accepted pid)" comm=tcp_server lport="$port" \
		bytes_sent=2222 bytes_received=1111
	check_refused mask-refused "$v4_s" ipv4
fi

# --- --duration ends it too ---------------------------------------------------
start_probe duration --duration 2 && stop_probe duration wait

# --- failures give the documented one-line reasons --------------------------
# A private mount namespace hides kernel interfaces from probe_dump only.
unshare -m --propagation private sh -c \
	'mount -t tmpfs none /sys/kernel && exec "$0" --duration 1' "$probe_dump" \
	>/dev/null 2>"$tmp/nobtf.err"
rc=$?
check "no BTF: exit 1 and the BTF reason ($(cat "$tmp/nobtf.err"))" \
	'[ $rc = 1 ] && grep -q "this kernel has no BTF (/sys/kernel/btf/vmlinux missing or unreadable): ebpfdump needs a kernel built with CONFIG_DEBUG_INFO_BTF=y, or the kernel.s BTF in a file given with --btf FILE" "$tmp/nobtf.err"'
# BTF visible, no tracefs and nowhere to mount one (read-only, no
# /sys/kernel/tracing): raw tracepoints need none, so it runs.
mkdir -p "$tmp/btf"
unshare -m --propagation private sh -c '
	mount --bind /sys/kernel/btf "$1" && mount -t tmpfs none /sys/kernel &&
	mkdir /sys/kernel/btf && mount --bind "$1" /sys/kernel/btf &&
	mount -o remount,ro /sys/kernel && exec "$0" --duration 1' "$probe_dump" "$tmp/btf" \
	>/dev/null 2>"$tmp/notracefs.err"
rc=$?
check "no tracefs at all: runs, exit 0 ($rc: $(head -1 "$tmp/notracefs.err"))" '[ $rc = 0 ]'

progs_after=$(all_prog_ids)
if [ "$(echo "$progs_before" | grep -c .)" != "$(echo "$progs_after" | grep -c .)" ]; then
	# Other programs on the machine may come and go meanwhile; ours were
	# checked id by id above.
	echo "NOTE: BPF program count changed from $(echo "$progs_before" | grep -c .)" \
		"to $(echo "$progs_after" | grep -c .) (not ours:" \
		"$(comm -3 <(echo "$progs_before") <(echo "$progs_after") | tr -s '\t\n' '  '))"
fi

echo "probe_events: $pass passed, $fail failed"
if [ "$fail" != 0 ]; then
	echo "--- probe_dump output (main run) ---"
	cat "$out"
	exit 1
fi
exit 0
