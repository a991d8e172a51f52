#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Live capture (capture/live) on a real veth between the host and a
# network namespace, as root:
#  - while TCP exchanges run through it, our capture and a tcpdump on the
#    same interface at the same time get the same packets: count, bytes,
#    original lengths, with TPACKET_V3 and immediate mode;
#  - "any" gives LINKTYPE_LINUX_SLL2 (or SLL on request);
#  - a capture filter that does not compile, a missing interface, a
#    missing permission, an interface that is down: refused with the
#    reason before any output exists;
#  - the interface set down and up again: the capture goes on;
#  - the interface deleted mid-capture (the veth, or the namespace that
#    holds its peer, with and without traffic): a clean stop with
#    "disappeared" and a valid file.
#
# usage: live_veth.sh LIVE_CAPTURE TEST_READER TCP_SERVER TCP_CLIENT
set -uo pipefail
live=$1 reader=$2 server=$3 client=$4
. "$(dirname "$0")/lib.sh"
need_root
for t in tcpdump tshark capinfos; do
	command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done

NS=ebpfdump-lv-$E2E_SFX
HOST_IF=lvh$E2E_SFX PEER_IF=lvn$E2E_SFX
# A /24 of its own in 198.18.0.0/15 (benchmarking range): the host side
# lives in the root namespace, where parallel runs must not collide.
SUBNET=198.$((18 + RANDOM % 2)).$((RANDOM % 256))
HOST_IP=$SUBNET.1 PEER_IP=$SUBNET.2

# A namespace whose veth peer is HOST_IF on the host side.
make_link() {
	ip netns add "$NS" && E2E_NETNS+=("$NS")
	ip link add "$HOST_IF" type veth peer name "$PEER_IF" netns "$NS" || return 1
	E2E_CLEANUP+=("ip link del $HOST_IF 2>/dev/null")
	ip addr add "$HOST_IP/24" dev "$HOST_IF"
	ip link set "$HOST_IF" up
	ip -n "$NS" addr add "$PEER_IP/24" dev "$PEER_IF"
	ip -n "$NS" link set "$PEER_IF" up
	ip -n "$NS" link set lo up
}

# Wait until FILE has a line matching RE (max 10 s).
wait_for() {
	local i
	for i in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

# Start live_capture in the background: $1 = tag, rest = options.
# Sets LIVE_PID; output in $E2E_TMP/$tag.{pcapng,out,err}.
start_live() {
	local tag=$1
	shift
	"$live" -w "$E2E_TMP/$tag.pcapng" "$@" >"$E2E_TMP/$tag.out" 2>"$E2E_TMP/$tag.err" &
	LIVE_PID=$!
	E2E_PIDS+=("$LIVE_PID")
	wait_for "$E2E_TMP/$tag.out" '^ready'
}

# Server in the namespace, client on the host: $1 port, $2 bytes from the
# client, 1000 back (each side sends before it reads: keep one side small).
exchange() {
	ip netns exec "$NS" "$server" --listen "$PEER_IP" --port "$1" --send 1000 --recv "$2" \
		--count 1 >"$E2E_TMP/srv-$1" &
	local spid=$!
	wait_for "$E2E_TMP/srv-$1" listening
	timeout 20 "$client" --connect "$PEER_IP" --port "$1" --send "$2" --recv 1000 >"$E2E_TMP/cli-$1"
	wait "$spid"
}

make_link || { bad "veth setup"; finish; exit; }

# ---- the same packets as tcpdump ----
same_as_tcpdump() { # $1 tag, rest = live_capture options
	local tag=$1 td tdpid
	shift
	td=$E2E_TMP/$tag-tcpdump.pcap
	# Both with the filter "tcp": the link's own IPv6 chatter (router
	# solicitations, MLD) must not race the moment both are stopped.
	tcpdump -i "$HOST_IF" -Z root -U --immediate-mode -B 65536 --time-stamp-precision=nano \
		-w "$td" tcp \
		2>"$E2E_TMP/$tag-tcpdump.err" &
	tdpid=$!
	E2E_PIDS+=("$tdpid")
	wait_for "$E2E_TMP/$tag-tcpdump.err" "listening on" || bad "$tag: tcpdump did not start"
	start_live "$tag" -i "$HOST_IF" -f tcp "$@" || bad "$tag: live_capture did not start"
	check "$tag: ring is TPACKET_V$EXPECT_TPACKET" 'grep -q "tpacket=$EXPECT_TPACKET" "$E2E_TMP/$tag.out"'
	exchange 5001 20000
	exchange 5002 3000000 # big enough for TSO/GRO super-packets
	# Ours hands a V3 block over within 10 ms; tcpdump's timeout is 1 s.
	sleep 1.5
	kill -INT "$LIVE_PID" "$tdpid"
	wait "$LIVE_PID"
	check "$tag: live_capture exits 0 on SIGINT" '[ $? = 0 ]'
	wait "$tdpid"
	# Columns: caplen len hash, sorted. Timestamps are not compared: each
	# packet socket stamps an outgoing packet itself, microseconds apart.
	# Nor is the order: a packet sent on one CPU and one received on
	# another at the same moment can reach two sockets in either order.
	"$reader" dump "$E2E_TMP/$tag.pcapng" --no-ts | awk '{ print $3, $4, $5 }' | sort \
		>"$E2E_TMP/$tag.ours"
	"$reader" dump "$td" --no-ts | awk '{ print $3, $4, $5 }' | sort >"$E2E_TMP/$tag.theirs"
	local n td_got td_seen td_drops
	n=$(wc -l <"$E2E_TMP/$tag.ours")
	td_got=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p' "$E2E_TMP/$tag-tcpdump.err")
	td_seen=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter$/\1/p' "$E2E_TMP/$tag-tcpdump.err")
	td_drops=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$E2E_TMP/$tag-tcpdump.err")
	check "$tag: captured the exchanges ($n packets)" '[ "$n" -ge 40 ]'
	if [ "${td_drops:-0}" = 0 ] && [ "$td_got" = "$td_seen" ]; then
		check "$tag: same count as tcpdump" '[ "$n" = "$(wc -l <"$E2E_TMP/$tag.theirs")" ]'
		check "$tag: same packets as tcpdump (bytes and lengths)" \
			'cmp -s "$E2E_TMP/$tag.ours" "$E2E_TMP/$tag.theirs"'
		cmp -s "$E2E_TMP/$tag.ours" "$E2E_TMP/$tag.theirs" ||
			diff "$E2E_TMP/$tag.ours" "$E2E_TMP/$tag.theirs" | head -5
	else
		# A loaded machine: tcpdump lost some, or was stopped before it
		# read them all; we did not (checked below).
		echo "note: $tag: tcpdump wrote $td_got of $td_seen, dropped $td_drops;" \
			"checking that it saw nothing we missed"
		check "$tag: every packet tcpdump saw is ours too (bytes and lengths)" \
			'[ -z "$(comm -13 "$E2E_TMP/$tag.ours" "$E2E_TMP/$tag.theirs")" ]'
	fi
	check "$tag: capinfos agrees on the count" \
		'capinfos -c "$E2E_TMP/$tag.pcapng" 2>/dev/null | grep -q "Number of packets: *$n\$"'
	check "$tag: no drops" 'grep -q " dropped=0 " "$E2E_TMP/$tag.out"'
	check "$tag: super-packets bigger than the MTU kept whole" \
		'awk "\$2 > 1514 && \$1 == \$2 { n++ } END { exit !n }" "$E2E_TMP/$tag.ours"'
}
EXPECT_TPACKET=3 same_as_tcpdump v3
EXPECT_TPACKET=2 same_as_tcpdump immediate --immediate

# ---- "any" ----
start_live any -i any -f "host $PEER_IP" || bad "any: did not start"
exchange 5003 1000
sleep 0.3
kill -INT "$LIVE_PID"
wait "$LIVE_PID"
check "any: LINKTYPE_LINUX_SLL2 (276)" 'grep -q "linktype=276" "$E2E_TMP/any.out"'
check "any: filtered packets captured, decoded as SLL2" \
	'[ "$(tshark -r "$E2E_TMP/any.pcapng" -Y "sll.ifindex && ip.addr == $PEER_IP" 2>/dev/null | wc -l)" -ge 8 ]'
start_live any-sll -i any --sll -c 1 || bad "any --sll: did not start"
kill -INT "$LIVE_PID"
wait "$LIVE_PID"
check "any --sll: LINKTYPE_LINUX_SLL (113)" 'grep -q "linktype=113" "$E2E_TMP/any-sll.out"'

# ---- refused before anything starts ----
refused() { # $1 tag, $2 regex the reason must match, rest = options
	local tag=$1 re=$2
	shift 2
	"$live" -w "$E2E_TMP/$tag.pcapng" "$@" >"$E2E_TMP/$tag.out" 2>"$E2E_TMP/$tag.err"
	local rc=$?
	check "$tag: exit status 2" '[ $rc = 2 ]'
	check "$tag: reason \"$re\"" 'grep -Eq "$re" "$E2E_TMP/$tag.err"'
	grep -Eq "$re" "$E2E_TMP/$tag.err" || cat "$E2E_TMP/$tag.err"
	check "$tag: no output file, nothing on stdout" '[ ! -e "$E2E_TMP/$tag.pcapng" ] && [ ! -s "$E2E_TMP/$tag.out" ]'
}
refused bad-filter 'capture filter "tcp port nonsense" does not compile: .*(unknown|illegal|syntax)' \
	-i "$HOST_IF" -f "tcp port nonsense"
refused bad-filter2 'capture filter "host and" does not compile: .*syntax error' -i "$HOST_IF" -f "host and"
refused no-device "no such interface \"nosuch$E2E_SFX\" \(\`ip link\` lists them\)" -i "nosuch$E2E_SFX"
# A veth is created down.
ip link add "lvd$E2E_SFX" type veth peer name "lve$E2E_SFX" &&
	E2E_CLEANUP+=("ip link del lvd$E2E_SFX 2>/dev/null")
refused down "interface lvd$E2E_SFX is down \(\`ip link set lvd$E2E_SFX up\`\)" -i "lvd$E2E_SFX"
if command -v setpriv >/dev/null; then
	chmod 755 "$E2E_TMP"
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$live" -i "$HOST_IF" -w "$E2E_TMP/perm.pcapng" >"$E2E_TMP/perm.out" 2>"$E2E_TMP/perm.err"
	rc=$?
	check "no permission: exit 2, needs CAP_NET_RAW" \
		'[ $rc = 2 ] && grep -q "no permission to capture on $HOST_IF: needs root or CAP_NET_RAW" "$E2E_TMP/perm.err"'
	chmod 700 "$E2E_TMP"
fi

# ---- down and up again: the capture goes on ----
start_live downup -i "$HOST_IF" -f tcp || bad "downup: did not start"
exchange 5004 1000
ip link set "$HOST_IF" down
sleep 0.5
ip link set "$HOST_IF" up
for _ in $(seq 50); do ip link show "$HOST_IF" | grep -q "LOWER_UP" && break; sleep 0.1; done
exchange 5005 1000
sleep 0.3
check "downup: still capturing after the interface came back" 'kill -0 "$LIVE_PID"'
kill -INT "$LIVE_PID"
wait "$LIVE_PID"
check "downup: exits 0" '[ $? = 0 ]'
check "downup: both connections captured" \
	'[ "$(tshark -r "$E2E_TMP/downup.pcapng" -Y "tcp.flags.syn == 1 && tcp.flags.ack == 0" 2>/dev/null | wc -l)" = 2 ]'

# ---- the interface vanishes mid-capture ----
vanish() { # $1 tag, $2 traffic (yes/no), $3 how (link/netns)
	local tag=$1 traffic=$2 how=$3 gen=
	start_live "$tag" -i "$HOST_IF" || bad "$tag: did not start"
	if [ "$traffic" = yes ]; then
		(while :; do echo x >"/dev/udp/$PEER_IP/9" 2>/dev/null; sleep 0.02; done) &
		gen=$!
		E2E_PIDS+=("$gen")
		sleep 0.5
	fi
	local t0=$SECONDS
	if [ "$how" = netns ]; then ip netns del "$NS"; else ip link del "$HOST_IF"; fi
	# live_capture must stop by itself, within a few seconds
	local i
	for i in $(seq 50); do kill -0 "$LIVE_PID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$LIVE_PID" 2>/dev/null; then
		bad "$tag: still running 5 s after the interface went away"
		kill "$LIVE_PID"
	fi
	wait "$LIVE_PID"
	local rc=$?
	[ -n "$gen" ] && kill "$gen" 2>/dev/null
	check "$tag: exit status 3 (vanished)" '[ $rc = 3 ]'
	check "$tag: the reason says so" \
		'grep -q "interface $HOST_IF disappeared (deleted, or its network namespace is gone)" "$E2E_TMP/$tag.err"'
	check "$tag: stop=vanished with statistics" 'grep -q "stop=vanished" "$E2E_TMP/$tag.out"'
	check "$tag: the file is valid" 'tshark -r "$E2E_TMP/$tag.pcapng" >/dev/null 2>&1'
	if [ "$traffic" = yes ]; then
		check "$tag: holds the packets before" '[ "$(capinfos -c "$E2E_TMP/$tag.pcapng" 2>/dev/null | awk "/Number of packets/ { print \$NF }")" -ge 5 ]'
	fi
	make_link >/dev/null 2>&1 || true
}
vanish vanish-link yes link
vanish vanish-idle no link
vanish vanish-netns yes netns
vanish vanish-netns-idle no netns

finish
