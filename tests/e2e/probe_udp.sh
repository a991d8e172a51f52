#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Kernel-level test of UDP_Send/UDP_Recv (bpf/): datagrams between two
# network namespaces over IPv4 and IPv6, on connected and unconnected
# sockets, with every send and receive call (send, write, sendto, sendmsg,
# sendmmsg; recv, read, recvfrom, recvmsg, recvmmsg), observed by
# probe_dump. Checks pid, tid (a worker thread), comm, addresses, ports,
# netns and that the datagram and byte counts add up exactly; a receive
# without the sender's address gives an event without raddr; an IPv6
# socket receiving IPv4 reports IPv4.
#
# usage: probe_udp.sh PROBE_DUMP UDP_PEER TCP_SERVER TCP_CLIENT   (as root)
set -uo pipefail
probe_dump=$1 udp_peer=$2
. "$(dirname "$0")/probe_lib.sh"
probe_setup probe_udp

next_port=41000

# udp_run NAME SADDR CADDR N SIZE "SERVER OPTS" "CLIENT OPTS" [connected]:
# a receiver in ns_s, then a sender in ns_c sending N datagrams of SIZE.
# connected: both ends connect() to each other (the client on a fixed port).
# The receiver binds to SBIND when set, else SADDR.
udp_run() {
	local name=$1 saddr=$2 caddr=$3 n=$4 size=$5 sopts=$6 copts=$7 conn=${8:-}
	local cport_opt=() sconn=() sport rc
	if [ -n "$conn" ]; then
		next_port=$((next_port + 1))
		cport_opt=(--port "$next_port" --connect)
		sconn=(--connect --peer "$caddr" --peer-port "$next_port")
	fi
	# shellcheck disable=SC2086 # options are lists on purpose
	bg_in "$ns_s" "$name.srv" "$udp_peer" --bind "${SBIND:-$saddr}" --recv "$n" --idle-ms 1500 \
		"${sconn[@]}" $sopts
	local spid=$bg_pid
	if ! wait_line "$tmp/$name.srv" ready; then
		bad "$name: receiver did not start ($(cat "$tmp/$name.srv.err"))"
		return
	fi
	sport=$(field "$tmp/$name.srv" ready lport)
	# shellcheck disable=SC2086
	ip netns exec "$ns_c" "$udp_peer" --bind "$caddr" "${cport_opt[@]}" --peer "$saddr" \
		--peer-port "$sport" --send "$n" --size "$size" $copts \
		>"$tmp/$name.cli" 2>"$tmp/$name.cli.err"
	rc=$?
	check "$name: sender exits 0 (got $rc: $(cat "$tmp/$name.cli.err"))" '[ $rc = 0 ]'
	wait_bg "$spid" "$name.srv"
}

# udp_check NAME FAMILY SADDR CADDR N SIZE [nopeer]: the events of one
# udp_run: every record attributed and addressed right, counts exact. The
# receiver's local address is SLOCAL when set (a wildcard bind), else SADDR.
udp_check() {
	local name=$1 fam=$2 saddr=$3 caddr=$4 n=$5 size=$6 nopeer=${7:-}
	local cpid ctid cport spid stid sport got all sel recs
	cpid=$(field "$tmp/$name.cli" done pid) ctid=$(field "$tmp/$name.cli" done tid)
	cport=$(field "$tmp/$name.cli" done lport)
	spid=$(field "$tmp/$name.srv" done pid) stid=$(field "$tmp/$name.srv" done tid)
	sport=$(field "$tmp/$name.srv" done lport)
	got=$(field "$tmp/$name.srv" done received)
	if [ -z "$cpid" ] || [ -z "$spid" ]; then
		bad "$name: helpers printed no pids"
		return
	fi
	check "$name: sender used a worker thread ($cpid != $ctid)" '[ "$cpid" != "$ctid" ]'
	check "$name: the receiver got all $n datagrams (got $got)" '[ "$got" = "$n" ]'

	# Sends: select by process and ports, then require every attribute.
	sel="pid=$cpid lport=$cport rport=$sport"
	all=$(events UDP_Send $sel | wc -l)
	recs=$(events UDP_Send $sel tid="$ctid" comm=udp_peer family="$fam" laddr="$caddr" \
		raddr="$saddr" netns="$ino_c" | wc -l)
	check "$name: UDP_Send records all attributed and addressed ($recs of $all)" \
		'[ "$all" -ge 1 ] && [ "$recs" = "$all" ]'
	check "$name: UDP_Send packets add up to $n ($(sum_of packets UDP_Send $sel))" \
		'[ "$(sum_of packets UDP_Send $sel)" = "$n" ]'
	check "$name: UDP_Send bytes add up to $((n * size)) ($(sum_of bytes UDP_Send $sel))" \
		'[ "$(sum_of bytes UDP_Send $sel)" = "$((n * size))" ]'
	check "$name: a handful of UDP_Send records, not one per datagram ($all)" '[ "$all" -le 3 ]'

	# Receives.
	if [ -n "$nopeer" ]; then
		sel="pid=$spid lport=$sport raddr=- rport=-"
		recs=$(events UDP_Recv $sel tid="$stid" comm=udp_peer family="$fam" \
			laddr="${SLOCAL:-$saddr}" netns="$ino_s" | wc -l)
	else
		sel="pid=$spid lport=$sport rport=$cport"
		recs=$(events UDP_Recv $sel tid="$stid" comm=udp_peer family="$fam" \
			laddr="${SLOCAL:-$saddr}" raddr="$caddr" netns="$ino_s" | wc -l)
	fi
	all=$(events UDP_Recv $sel | wc -l)
	check "$name: UDP_Recv records all attributed and addressed ($recs of $all)" \
		'[ "$all" -ge 1 ] && [ "$recs" = "$all" ]'
	check "$name: UDP_Recv packets add up to $n ($(sum_of packets UDP_Recv $sel))" \
		'[ "$(sum_of packets UDP_Recv $sel)" = "$n" ]'
	check "$name: UDP_Recv bytes add up to $((n * size)) ($(sum_of bytes UDP_Recv $sel))" \
		'[ "$(sum_of bytes UDP_Recv $sel)" = "$((n * size))" ]'
	check "$name: a handful of UDP_Recv records ($all)" '[ "$all" -le 3 ]'
}

start_probe main --flush-ms 100 || exit 1

udp_run v4-sendto "$v4_s" "$v4_c" 5 100 "--recv-call recvfrom" "--send-call sendto"
udp_run v4-connected "$v4_s" "$v4_c" 7 50 "--recv-call recv" "" connected
udp_run v4-connected-sendmsg "$v4_s" "$v4_c" 6 70 "--recv-call recvmsg" \
	"--connect --send-call sendmsg"
udp_run v4-mmsg "$v4_s" "$v4_c" 10 30 "--recv-call recvmmsg --batch 3" \
	"--send-call sendmmsg --batch 4"
udp_run v4-nopeer "$v4_s" "$v4_c" 4 20 "--recv-call recv" "--send-call sendto"
udp_run v6-sendmsg "$v6_s" "$v6_c" 4 200 "--recv-call recvmsg" "--send-call sendmsg"
udp_run v6-connected-rw "$v6_s" "$v6_c" 3 10 "--recv-call read" "--send-call write" connected
udp_run v6-mmsg "$v6_s" "$v6_c" 9 40 "--recv-call recvmmsg --batch 4" \
	"--send-call sendmmsg --batch 2"
# An IPv6 socket bound to :: receiving IPv4: reported as IPv4.
SBIND=:: udp_run v4-on-v6 "$v4_s" "$v4_c" 3 60 "--recv-call recvfrom" "--send-call sendto"
sleep 0.3
stop_probe main

udp_check v4-sendto ipv4 "$v4_s" "$v4_c" 5 100
udp_check v4-connected ipv4 "$v4_s" "$v4_c" 7 50
udp_check v4-connected-sendmsg ipv4 "$v4_s" "$v4_c" 6 70
udp_check v4-mmsg ipv4 "$v4_s" "$v4_c" 10 30
udp_check v4-nopeer ipv4 "$v4_s" "$v4_c" 4 20 nopeer
udp_check v6-sendmsg ipv6 "$v6_s" "$v6_c" 4 200
udp_check v6-connected-rw ipv6 "$v6_s" "$v6_c" 3 10
udp_check v6-mmsg ipv6 "$v6_s" "$v6_c" 9 40
SLOCAL=0.0.0.0 udp_check v4-on-v6 ipv4 "$v4_s" "$v4_c" 3 60

# The first datagram of a flow is reported at once by the kernel itself: a
# record of exactly that datagram (the flow's periodic counts may be read
# before it when the ring is drained a tick later; the sums are checked above).
first=$(events UDP_Send pid="$(field "$tmp/v4-sendto.cli" done pid)" | grep " packets=1 bytes=100$" | head -1)
check "a record of the flow carries exactly its first datagram ($first)" \
	'[ -n "$first" ]'
check "receives without the sender's address counted (udp_no_peer $(pstat main udp_no_peer) >= 4)" \
	'[ "$(pstat main udp_no_peer)" -ge 4 ]'
check "nothing dropped ($(pstat main dropped)), no UDP flow lost ($(pstat main udp_lost))" \
	'[ "$(pstat main dropped)" = 0 ] && [ "$(pstat main udp_lost)" = 0 ]'
check "stats: delivered equals the events printed" \
	'[ "$(pstat main delivered)" = "$(grep -c "^event=" "$out")" ]'

if ! probe_finish; then
	echo "--- probe_dump output (UDP lines) ---"
	grep '^event=UDP' "$out" | head -60
	exit 1
fi
