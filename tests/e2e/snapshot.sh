#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test of snapshot/ on the real kernel: sockets opened BEFORE
# the snapshot by helper processes in two network namespaces joined by a
# veth (TCP over IPv4 and IPv6, bound UDP), in the host namespace, and
# 10,000 TCP sockets in a third namespace. Checks that the snapshot reports
# each of them exactly once with the right owner (pid, ppid, comm, pcomm),
# addresses, ports, namespace inode and byte counts; that listeners only
# appear when asked; that a socket shared by two processes names the
# lowest pid; that the owner table attributes synthetic TCP_Close,
# TCP_Retransmit and UDP_Send events lacking a pid (by tuple, without
# netns, by cookie) and retires a closed socket; that the limits (time
# budget, max sockets, table size, host only) are counted; that the
# caller's namespace is restored. Prints the time a snapshot of ~10k
# sockets takes.
#
# usage: snapshot.sh SNAPSHOT_DUMP SNAPSHOT_HOLD   (as root)
set -uo pipefail

dump=$1 hold=$2
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
need_root

BIG=5000 # connections in the big namespace: 2 x 5000 TCP sockets

if ! make_netns_pair; then
	echo "SKIP: cannot create network namespaces"
	exit 77
fi
NS_B=ebpfdump-b-$E2E_SFX
ip netns add "$NS_B" && E2E_NETNS+=("$NS_B")
ip -n "$NS_B" link set lo up

ino_s=$(stat -L -c %i "/run/netns/$NS_S")
ino_c=$(stat -L -c %i "/run/netns/$NS_C")
ino_b=$(stat -L -c %i "/run/netns/$NS_B")
ino_h=$(stat -L -c %i /proc/self/ns/net)

# start NAME NETNS|- ARGS...: a helper in a namespace ("-": this one).
start() {
	local name=$1 ns=$2
	shift 2
	if [ "$ns" = - ]; then
		"$hold" "$@" >"$E2E_TMP/$name.out" 2>&1 &
	else
		ip netns exec "$ns" "$hold" "$@" >"$E2E_TMP/$name.out" 2>&1 &
	fi
	E2E_PIDS+=($!)
}

# wait_line NAME REGEX: until the helper printed it (max 20 s).
wait_line() {
	local i
	for i in $(seq 200); do
		grep -q "$2" "$E2E_TMP/$1.out" && return 0
		sleep 0.1
	done
	echo "FAIL: helper $1 never printed '$2':"
	cat "$E2E_TMP/$1.out"
	exit 1
}

# val NAME KEY: value of KEY on the first line of the helper's output having it.
val() { sed -n "s/.*\<$2=\([^ ]*\).*/\1/p" "$E2E_TMP/$1.out" | head -1; }

# count FILE KEY=VALUE...: lines of FILE that carry every KEY=VALUE given.
count() {
	local f=$1
	shift
	awk -v conds="$*" '
		BEGIN { n = split(conds, c, " ") }
		{
			delete kv
			for (i = 1; i <= NF; i++) {
				p = index($i, "=")
				if (p) kv[substr($i, 1, p - 1)] = substr($i, p + 1)
			}
			for (j = 1; j <= n; j++) {
				p = index(c[j], "=")
				k = substr(c[j], 1, p - 1)
				if (!(k in kv) || kv[k] != substr(c[j], p + 1)) next
			}
			m++
		}
		END { print m + 0 }' "$f"
}

# stat_of FILE KEY: a number from the "stats" line.
stat_of() { sed -n "s/^stats .*\<$2=\([^ ]*\).*/\1/p" "$1"; }

# expect DESCRIPTION N FILE KEY=VALUE...: exactly N such lines.
expect() {
	local what=$1 n=$2 f=$3 got
	shift 3
	got=$(count "$f" "$@")
	if [ "$got" = "$n" ]; then ok; else bad "$what: $got lines with '$*' in $(basename "$f"), expected $n"; fi
}

# --- sockets opened before the snapshot ---------------------------------
start srv4 "$NS_S" tcp-server "$V4_S" 5001 1
start srv6 "$NS_S" tcp-server "$V6_S" 5002 1
start udp4 "$NS_S" udp "$V4_S" 5353
start udp6 "$NS_C" udp "$V6_C" 5354
SNAPSHOT_HOLD_FORK=1 start shared "$NS_S" udp "$V4_S" 5355
start hsrv - tcp-server 127.0.0.1 0 1
start bsrv "$NS_B" tcp-server 127.0.0.1 6000 "$BIG"
wait_line srv4 '^listening'
wait_line srv6 '^listening'
wait_line hsrv '^listening'
wait_line bsrv '^listening'
hport=$(val hsrv port)
start cli4 "$NS_C" tcp-client "$V4_S" 5001 1 1000
start cli6 "$NS_C" tcp-client "$V6_S" 5002 1 777
start hcli - tcp-client 127.0.0.1 "$hport" 1 42
start hudp - udp 127.0.0.1 0
start bcli "$NS_B" tcp-client 127.0.0.1 6000 "$BIG"
for n in srv4 srv6 udp4 udp6 shared hsrv bsrv cli4 cli6 hcli hudp bcli; do
	wait_line $n '^ready'
done
wait_line shared '^child'
child=$(sed -n 's/^child pid=//p' "$E2E_TMP/shared.out")
E2E_PIDS+=("$child")
for n in srv4 srv6 udp4 udp6 shared hsrv bsrv cli4 cli6 hcli hudp bcli; do
	eval "pid_$n=\$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' \"\$E2E_TMP/$n.out\")"
done
lp4=$(val cli4 lport) lp6=$(val cli6 lport) hlp=$(val hcli lport) hudp=$(val hudp port)
shared_min=$((pid_shared < child ? pid_shared : child))

# --- the snapshot and the owner table ------------------------------------
out=$E2E_TMP/snap.out
"$dump" \
	--fill "type=TCP_Close,netns=$ino_c,proto=tcp,laddr=$V4_C,lport=$lp4,raddr=$V4_S,rport=5001" \
	--fill "type=TCP_Close,netns=$ino_c,proto=tcp,laddr=$V4_C,lport=$lp4,raddr=$V4_S,rport=5001" \
	--fill "type=TCP_Retransmit,netns=$ino_s,proto=tcp,laddr=$V4_S,lport=5001,raddr=$V4_C,rport=$lp4" \
	--fill "type=TCP_Retransmit,proto=tcp,laddr=$V6_C,lport=$lp6,raddr=$V6_S,rport=5002" \
	--fill "type=UDP_Send,netns=$ino_s,proto=udp,laddr=$V4_S,lport=5353,raddr=$V4_C,rport=40000" \
	--fill "type=TCP_Close,netns=$ino_s,proto=tcp,laddr=$V4_S,lport=5001,raddr=$V4_C,rport=1" \
	>"$out" 2>&1
rc=$?
check "snapshot_dump exit status" '[ $rc = 0 ]'
check "snapshot succeeded: $(stat_of "$out" reason)" '[ "$(stat_of "$out" r)" = 0 ]'
check "caller's namespace restored" \
	'[ "$(stat_of "$out" netns_before)" = "$ino_h" ] && [ "$(stat_of "$out" netns_after)" = "$ino_h" ]'
check "host, S, C and B namespaces dumped" '[ "$(stat_of "$out" netns_dumped)" -ge 4 ]'
check "not out of time" '[ "$(stat_of "$out" out_of_time)" = 0 ]'

own="uid=0 gid=0 comm=snapshot_hold ppid=$$ pcomm=bash"
expect "IPv4 client end" 1 "$out" event=TCP_Open netns="$ino_c" pid="$pid_cli4" tid="$pid_cli4" \
	$own proto=6 family=4 laddr="$V4_C" lport="$lp4" raddr="$V4_S" rport=5001 bytes_sent=1000 \
	bytes_received=0
expect "IPv4 server end" 1 "$out" event=TCP_Open netns="$ino_s" pid="$pid_srv4" $own proto=6 \
	family=4 laddr="$V4_S" lport=5001 raddr="$V4_C" rport="$lp4" bytes_sent=0 bytes_received=1000
expect "IPv6 client end" 1 "$out" event=TCP_Open netns="$ino_c" pid="$pid_cli6" $own family=6 \
	laddr="$V6_C" lport="$lp6" raddr="$V6_S" rport=5002 bytes_sent=777
expect "IPv6 server end" 1 "$out" event=TCP_Open netns="$ino_s" pid="$pid_srv6" $own family=6 \
	laddr="$V6_S" lport=5002 raddr="$V6_C" rport="$lp6" bytes_received=777
expect "UDP IPv4 bound socket" 1 "$out" event=UDP_Open netns="$ino_s" pid="$pid_udp4" $own \
	proto=17 family=4 laddr="$V4_S" lport=5353 rport=0
expect "UDP IPv6 bound socket" 1 "$out" event=UDP_Open netns="$ino_c" pid="$pid_udp6" $own \
	proto=17 family=6 laddr="$V6_C" lport=5354
expect "host client end" 1 "$out" event=TCP_Open netns="$ino_h" pid="$pid_hcli" $own \
	laddr=127.0.0.1 lport="$hlp" raddr=127.0.0.1 rport="$hport" bytes_sent=42
expect "host server end" 1 "$out" event=TCP_Open netns="$ino_h" pid="$pid_hsrv" $own \
	lport="$hport" rport="$hlp" bytes_received=42
expect "host UDP socket" 1 "$out" event=UDP_Open netns="$ino_h" pid="$pid_hudp" lport="$hudp"
expect "shared socket names the lowest pid" 1 "$out" event=UDP_Open netns="$ino_s" \
	pid="$shared_min" lport=5355
check "shared socket counted" '[ "$(stat_of "$out" sockets_shared)" -ge 1 ]'
expect "listeners not reported by default" 0 "$out" event=TCP_Open netns="$ino_s" lport=5001 rport=0
expect "listeners not reported by default (TCP_Listen)" 0 "$out" event=TCP_Listen
expect "big namespace, server ends" $BIG "$out" event=TCP_Open netns="$ino_b" pid="$pid_bsrv" lport=6000
expect "big namespace, client ends" $BIG "$out" event=TCP_Open netns="$ino_b" pid="$pid_bcli" rport=6000
expect "cookies on every event" 0 "$out" event=TCP_Open cookie=0
check "no event without a cookie" '! grep "^event=" "$out" | grep -vq " cookie="'

fills=$E2E_TMP/fills
grep '^fill ' "$out" >"$fills"
check "fill: 6 answers" '[ "$(wc -l <"$fills")" = 6 ]'
f() { sed -n "${1}p" "$fills"; }
check "fill: TCP_Close by tuple names the client" \
	'[ "$(f 1)" = "fill r=0 pid=$pid_cli4 tid=$pid_cli4 uid=0 gid=0 ppid=$$ comm=snapshot_hold pcomm=bash" ]'
check "fill: a closed socket is retired" '[ "$(f 2)" = "fill r=ENOENT" ]'
check "fill: TCP_Retransmit names the server" '[[ "$(f 3)" == "fill r=0 pid=$pid_srv4 "* ]]'
check "fill: unique tuple without netns" '[[ "$(f 4)" == "fill r=0 pid=$pid_cli6 "* ]]'
check "fill: UDP_Send to any remote names the bound socket" '[[ "$(f 5)" == "fill r=0 pid=$pid_udp4 "* ]]'
check "fill: unknown tuple" '[ "$(f 6)" = "fill r=ENOENT" ]'

# By cookie alone (a second snapshot: cookies are stable per socket).
cookie=$(awk -v p="$pid_srv6" '$1 == "event=TCP_Open" && $2 == "pid=" p {
	for (i = 1; i <= NF; i++) if ($i ~ /^cookie=/) { print substr($i, 8); exit } }' "$out")
out2=$E2E_TMP/snap2.out
"$dump" --quiet --fill "type=TCP_Retransmit,cookie=$cookie" >"$out2" 2>&1
check "fill: by cookie ($cookie)" '[[ "$(grep "^fill" "$out2")" == "fill r=0 pid=$pid_srv6 "* ]]'

# --- options and limits ---------------------------------------------------
out3=$E2E_TMP/snap3.out
"$dump" --listen --tcp-only >"$out3" 2>&1
expect "listeners when asked" 1 "$out3" event=TCP_Listen netns="$ino_s" pid="$pid_srv4" lport=5001 \
	rport=0
expect "listeners when asked, as TCP_Listen only" 0 "$out3" event=TCP_Open lport=5001 rport=0
expect "--tcp-only: no UDP" 0 "$out3" event=UDP_Open
out4=$E2E_TMP/snap4.out
"$dump" --host-only >"$out4" 2>&1
expect "host only: host socket" 1 "$out4" event=TCP_Open pid="$pid_hcli"
expect "host only: nothing from S" 0 "$out4" netns="$ino_s"
check "host only: one namespace" '[ "$(stat_of "$out4" netns_found)" = 1 ]'
out5=$E2E_TMP/snap5.out
"$dump" --quiet --max-sockets 10 >"$out5" 2>&1
check "max sockets: 10 reported" \
	'[ $(($(stat_of "$out5" tcp_reported) + $(stat_of "$out5" udp_reported))) = 10 ]'
check "max sockets: the rest counted" '[ "$(stat_of "$out5" sockets_skipped)" -ge $((2 * BIG)) ]'
check "max sockets: reason given" 'grep -q "^stats .*reason=more than 10 sockets" "$out5"'
"$dump" --quiet --table-size 3 >"$out5" 2>&1
check "table size: 3 kept" '[ "$(stat_of "$out5" table_entries)" = 3 ]'
check "table size: drops counted" '[ "$(stat_of "$out5" table_dropped)" -ge $((2 * BIG)) ]'
check "table size: reason given" 'grep -q "^stats .*reason=owner table full" "$out5"'
out6=$E2E_TMP/snap6.out
"$dump" --quiet --time-budget 1 >"$out6" 2>&1
check "time budget: stopped and said so" '[ "$(stat_of "$out6" out_of_time)" = 1 ] && [ "$(stat_of "$out6" r)" = 0 ]'
check "time budget: partial" '[ "$(stat_of "$out6" tcp_reported)" -lt $((2 * BIG)) ]'
check "time budget: namespace restored" '[ "$(stat_of "$out6" netns_after)" = "$ino_h" ]'

# --- timing: ~10k sockets -------------------------------------------------
times=()
for i in 1 2 3; do
	o=$E2E_TMP/time$i.out
	"$dump" --quiet >"$o" 2>&1
	check "timed run $i complete" '[ "$(stat_of "$o" r)" = 0 ] && [ "$(stat_of "$o" out_of_time)" = 0 ] && [ "$(stat_of "$o" tcp_reported)" -ge $((2 * BIG + 6)) ]'
	times+=("$(($(stat_of "$o" elapsed_us) / 1000)) ms")
done
echo "snapshot of $(stat_of "$E2E_TMP/time1.out" tcp_reported) TCP + $(stat_of "$E2E_TMP/time1.out" udp_reported) UDP sockets in $(stat_of "$E2E_TMP/time1.out" netns_dumped) namespaces, $(stat_of "$E2E_TMP/time1.out" processes_scanned) processes: ${times[*]}"

finish
