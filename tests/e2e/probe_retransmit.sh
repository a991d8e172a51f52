#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TCP_Retransmit (bpf/): an nftables rule in the server's namespace drops
# the client's data segments for about a second, so the client's kernel
# retransmits them from its timer (softirq, in whatever task runs). Checks
# that the TCP_Retransmit events name the sending process and thread (from
# the socket's stored owner) and the connection's addresses and ports,
# IPv4 and IPv6; that there are no more of them than the segments the
# connection counted as retransmitted (TCP_Close retransmits); that each
# call of the kernel's own tcp:tcp_retransmit_skb tracepoint for those
# connections that sent something (counted in a private tracefs instance:
# err = 0, or no err on kernels before 6.14) is an event, or the probe
# counted missed_retransmits (calls that never reached the program, at
# least one per run of them); and that a
# second probe whose filter excludes the client sees none of them but
# counts them as filtered.
#
# usage: probe_retransmit.sh PROBE_DUMP UDP_PEER TCP_SERVER TCP_CLIENT   (as root)
set -uo pipefail
probe_dump=$1 tcp_server=$3 tcp_client=$4
. "$(dirname "$0")/probe_lib.sh"
probe_setup probe_retransmit

if ! command -v nft >/dev/null; then
	echo "SKIP: nft (nftables) not installed"
	exit 77
fi
bytes=200000
table=ebpfdump$sfx

# The kernel's own count: a private tracefs instance with the
# tcp:tcp_retransmit_skb tracepoint enabled (every call, err included), so
# the events can be compared with what the kernel fired, per connection.
# (Since Linux 6.14 or so it also fires for attempts that sent nothing,
# with err != 0: no event for those.)
tracefs=/sys/kernel/tracing
if ! mountpoint -q "$tracefs"; then
	mount -t tracefs nodev "$tracefs" || {
		echo "SKIP: cannot mount tracefs on $tracefs"
		exit 77
	}
	tracefs_mounted=1
fi
inst=$tracefs/instances/ebpfdump_rt_$sfx
if ! mkdir "$inst"; then
	echo "SKIP: cannot make a tracefs instance"
	exit 77
fi
cleanups+=("echo 0 >'$inst/events/tcp/tcp_retransmit_skb/enable'; rmdir '$inst'; \
	[ -n '${tracefs_mounted:-}' ] && umount '$tracefs'")
echo 4096 >"$inst/buffer_size_kb"
echo 1 >"$inst/events/tcp/tcp_retransmit_skb/enable" || {
	echo "SKIP: cannot enable tcp:tcp_retransmit_skb"
	exit 77
}

# lossy NAME SADDR: a transfer whose data is dropped for ~1 s.
lossy() {
	local name=$1 saddr=$2 port rc
	bg_in "$ns_s" "$name.srv" timeout 30 "$tcp_server" --listen "$saddr" --port 0 --send 0 \
		--recv "$bytes"
	local spid=$bg_pid
	wait_line "$tmp/$name.srv" listening || {
		bad "$name: server did not start"
		return
	}
	port=$(field "$tmp/$name.srv" listening port)
	# Full-size segments only: the handshake and the ACKs get through.
	ip netns exec "$ns_s" nft add table inet "$table" &&
		ip netns exec "$ns_s" nft add chain inet "$table" in \
			'{ type filter hook input priority 0; policy accept; }' &&
		ip netns exec "$ns_s" nft add rule inet "$table" in tcp dport "$port" \
			meta length gt 1000 drop
	check "$name: drop rule installed" '[ $? = 0 ]'
	(sleep 1.2 && ip netns exec "$ns_s" nft delete table inet "$table") &
	local lift=$!
	ip netns exec "$ns_c" timeout 30 "$tcp_client" --connect "$saddr" --port "$port" \
		--send "$bytes" --recv 0 >"$tmp/$name.cli" 2>"$tmp/$name.cli.err"
	rc=$?
	check "$name: client transferred its bytes despite the losses (exit $rc)" '[ $rc = 0 ]'
	wait "$lift"
	wait_bg "$spid" "$name.srv"
}

# check_lossy NAME FAMILY SADDR CADDR
check_lossy() {
	local name=$1 fam=$2 saddr=$3 caddr=$4 cpid ctid cport port n all total
	cpid=$(field "$tmp/$name.cli" connected pid) ctid=$(field "$tmp/$name.cli" connected tid)
	cport=$(field "$tmp/$name.cli" connected lport)
	port=$(field "$tmp/$name.srv" listening port)
	all=$(events TCP_Retransmit lport="$cport" rport="$port" | wc -l)
	n=$(events TCP_Retransmit pid="$cpid" tid="$ctid" comm=tcp_client family="$fam" \
		laddr="$caddr" lport="$cport" raddr="$saddr" rport="$port" netns="$ino_c" | wc -l)
	total=$(events TCP_Close pid="$cpid" lport="$cport" | sed -n 's/.* retransmits=\([0-9]*\).*/\1/p')
	# The tracepoint's calls for this connection (sport/dport are the
	# client's), and those of them that failed (err != 0).
	fired=$(grep -c "tcp_retransmit_skb:.* sport=$cport dport=$port " "$tmp/trace")
	failed=$(grep "tcp_retransmit_skb:.* sport=$cport dport=$port " "$tmp/trace" |
		grep -c " err=-[0-9]*\$")
	echo "MEASURED: $name: $all TCP_Retransmit events; the tracepoint fired $fired times" \
		"($failed failed); TCP_Close says $total segments retransmitted"
	# Under CPU load about 1 connection in 40 has calls of the tracepoint
	# that never reached our program (issue 21.1); the probe counts them
	# (missed_retransmits), checked for both connections together below.
	calls_total=$((calls_total + fired - failed)) events_total=$((events_total + all))
	if [ "$all" != $((fired - failed)) ]; then
		echo "DETAIL: $name: the tracepoint's calls, then the events:"
		grep "tcp_retransmit_skb:.* sport=$cport dport=$port " "$tmp/trace" | sed 's/^/  /'
		events TCP_Retransmit lport="$cport" rport="$port" | sed 's/^/  /'
	fi
	check "$name: no more events than successful calls of the tracepoint ($all of $fired - $failed)" \
		'[ "$all" -le $((fired - failed)) ]'
	check "$name: TCP_Retransmit events seen ($all)" '[ "$all" -ge 1 ]'
	check "$name: every one names tcp_client $cpid/$ctid and the connection ($n of $all)" \
		'[ "$n" = "$all" ]'
	check "$name: no more events than retransmitted segments ($all <= ${total:-?})" \
		'[ -n "$total" ] && [ "$all" -le "$total" ]'
	check "$name: the server side retransmitted nothing" \
		'[ "$(events TCP_Retransmit lport="$port" | wc -l)" = 0 ]'
}

start_probe main --events TCP_Retransmit,TCP_Close --netns "$ino_c" || exit 1
main_pid=$pd_pid
# The second probe wants only tcp_server's events: the client's
# retransmissions are filtered (by the owner stored per socket).
start_probe excluded --events TCP_Retransmit --comm tcp_server || exit 1
excluded_pid=$pd_pid

lossy v4 "$v4_s"
lossy v6 "$v6_s"
sleep 0.3

echo 0 >"$inst/events/tcp/tcp_retransmit_skb/enable"
cat "$inst/trace" >"$tmp/trace"
pd_pid=$excluded_pid
stop_probe excluded
pd_pid=$main_pid
stop_probe main

out=$tmp/main.out
calls_total=0 events_total=0
check_lossy v4 ipv4 "$v4_s" "$v4_c"
check_lossy v6 ipv6 "$v6_s" "$v6_c"
missed=$(pstat main missed_retransmits)
echo "MEASURED: main probe: $events_total events + $missed calls missed, for $calls_total calls"
# A jump counts one, however many calls it stands for (seen once: 4 calls
# within 0.1 ms, counted 1): every loss is counted, but as "at least".
# Kernels whose tracepoint has no err (before 6.14) count no jumps (see
# ebd_retransmit): there at most one call may go uncounted, as before.
if grep -q 'tcp_retransmit_skb:.* err=' "$tmp/trace"; then
	check "main: a call of the tracepoint that sent something and made no event is counted missed ($events_total events, $missed missed, $calls_total calls)" \
		'[ $((events_total + missed)) -le "$calls_total" ] &&
		 { { [ "$events_total" = "$calls_total" ] && [ "$missed" = 0 ]; } ||
		   { [ "$events_total" -lt "$calls_total" ] && [ "$missed" -ge 1 ]; }; }'
else
	check "main: (no err on this kernel) at most one call without an event ($events_total of $calls_total)" \
		'[ "$events_total" -ge $((calls_total - 1)) ]'
fi
check "main: the missed calls are in the probe's missed total ($(pstat main missed) >= $missed)" \
	'[ "$(pstat main missed)" -ge "$missed" ]'
retrans=$(events TCP_Retransmit | wc -l)
check "main: only the client namespace's events (netns filter)" \
	'[ "$(grep "^event=" "$out" | grep -vc " netns=$ino_c ")" = 0 ]'

out=$tmp/excluded.out
check "excluded: no TCP_Retransmit delivered ($(grep -c '^event=' "$out"))" \
	'[ "$(grep -c "^event=" "$out")" = 0 ]'
check "excluded: the $retrans retransmissions were counted as filtered ($(pstat excluded filtered))" \
	'[ "$(pstat excluded filtered)" -ge "$retrans" ]'
echo "MEASURED: excluded probe: seen=$(pstat excluded seen) filtered=$(pstat excluded filtered)" \
	"delivered=$(pstat excluded delivered)"

if ! probe_finish; then
	cat "$tmp/main.out" "$tmp"/*.cli
	exit 1
fi
