#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ebpfdump [options] -- COMMAND (issue 18): the command's events and the
# packets of its flows, from its first system call, next to a busy
# neighbour in the same namespace; ebpfdump exits with the command's status.
#  - a command (sh running three tcp_client connections, then exit 7):
#    exit status 7; its three connections' events, no neighbour's; with
#    --ifname exactly the packets tcpdump saw on the command's server port
#    (SYN included), the neighbour's packets left out and counted;
#  - a command that does not exist: exit 127 and the reason;
#  - a command still running at --duration: ended (SIGTERM), status 143;
#  - -- curl URL against busybox httpd: the exchange, SYN included, alone;
#  - bad combinations exit 2;
#  - on a terminal (script(1)): the progress line, -q, -v, --print's colours
#    (not with NO_COLOR); off a terminal no control characters.
#
# usage: extcap_command.sh EBPFDUMP SOURCE_DIR TOOLS_DIR   (as root)
set -uo pipefail
tool=$1 src=$2 tools=$3
. "$src/tests/e2e/lib.sh"
need_root
need_tools tshark tcpdump
T=$E2E_TMP
use_dissector "$src"
make_netns_pair || { echo "FAIL: cannot make the namespaces"; exit 1; }
vc=ebc$E2E_SFX
cmd_port=7401 other_port=7402

fields() { tshark -r "$1" "${tshark_lua[@]}" -Y "$2" -T fields -E separator='|' "${@:3}" 2>/dev/null; }
# tcp_rows FILE: "sport|dport|flags" of each TCP packet, sorted (ours or tcpdump's).
tcp_rows() { fields "$1" tcp -e tcp.srcport -e tcp.dstport -e tcp.flags.str | sort; }

# reference_start FILE PORT: tcpdump on the client's veth, every packet of
# that TCP port, into FILE; reference_stop once the capture ended.
reference_start() {
	ip netns exec "$NS_C" tcpdump -i "$vc" -w "$1" -U --immediate-mode "tcp port $2" >/dev/null 2>"$1.err" &
	E2E_PIDS+=("$!")
	td=$!
	for _ in $(seq 100); do grep -q "listening on" "$1.err" && break; sleep 0.05; done
}
reference_stop() {
	sleep 1.5 # tcpdump hands over its last block within 1 s (a CI run lost 3 packets after 0.5 s)
	kill -INT "$td"
	wait "$td" 2>/dev/null
}

# The servers, and a neighbour in the client's namespace connecting all the
# time to another port.
ip netns exec "$NS_S" "$tools/tcp_server" --listen "$V4_S" --port $cmd_port --count 3 \
	--send 500 --recv 300 >"$T/srv" 2>&1 &
E2E_PIDS+=("$!")
wait_for_line "$T/srv" listening
ip netns exec "$NS_S" "$tools/tcp_server" --listen "$V4_S" --port $other_port --count 100000 \
	>/dev/null 2>&1 &
E2E_PIDS+=("$!")
ip netns exec "$NS_C" bash -c "while :; do '$tools/tcp_client' --connect $V4_S --port $other_port \
	>/dev/null 2>&1; sleep 0.01; done" &
E2E_PIDS+=("$!")
neighbour=$!

# The reference: every packet of the command's server port on the veth.
reference_start "$T/ref.pcap" $cmd_port

client=("$tools/tcp_client" --connect "$V4_S" --port "$cmd_port" --send 300 --recv 500)
ip netns exec "$NS_C" "$tool" --fifo "$T/cmd.pcapng" --ifname "$vc" -- \
	sh -c "${client[*]} && ${client[*]} && ${client[*]}; exit 7" >"$T/cmd.out" 2>"$T/cmd.err"
rc=$?
reference_stop
check "exit status is the command's: 7 (got $rc; $(tail -1 "$T/cmd.err"))" '[ "$rc" = 7 ]'
check "the command's output reached stdout ($(grep -c connected "$T/cmd.out") lines)" \
	'[ "$(grep -c "^connected" "$T/cmd.out")" = 3 ]'

cpids=$(sed -n 's/^connected pid=\([0-9]*\) .*/\1/p' "$T/cmd.out" | sort -u | tr '\n' ' ')
fields "$T/cmd.pcapng" "ebpf && !tcp" -e ebpf.event -e ebpf.pid -e ebpf.comm -e ebpf.rport \
	>"$T/cmd.ev"
echo "MEASURED: events: $(cut -d'|' -f1 "$T/cmd.ev" | sort | uniq -c | tr '\n' ' ')"
check "three TCP_Connect of the command's clients ($cpids)" \
	'[ "$(grep -c "^TCP_Connect|" "$T/cmd.ev")" = 3 ]'
foreign=$(awk -F'|' -v p=" $cpids" 'index(p, " " $2 " ") == 0' "$T/cmd.ev" | wc -l)
check "every event is one of the command's processes ($foreign others of $(wc -l <"$T/cmd.ev"))" \
	'[ "$foreign" = 0 ] && [ -s "$T/cmd.ev" ]'
check "no event of the neighbour's port $other_port" \
	'! grep -q "|$other_port\$" "$T/cmd.ev"'

ours=$(tcp_rows "$T/cmd.pcapng") theirs=$(tcp_rows "$T/ref.pcap")
n_ours=$(grep -c . <<<"$ours") n_ref=$(grep -c . <<<"$theirs")
left=$(sed -n 's/.* \([0-9]*\) packets left out.*/\1/p' "$T/cmd.err")
echo "MEASURED: packets written $n_ours, tcpdump on port $cmd_port $n_ref, left out ${left:-0}"
check "packets: exactly tcpdump's on port $cmd_port ($n_ours = $n_ref)" \
	'[ "$ours" = "$theirs" ] && [ "$n_ref" -ge 30 ]'
check "packets: the three SYNs are there" \
	'[ "$(grep -c "|··········S·$" <<<"$ours")" = 3 ]'
check "packets: the neighbour's were left out and counted (${left:-none})" \
	'[ "${left:-0}" -gt 0 ] && ! grep -q "$other_port" <<<"$ours"'

# --pid: the same selection of packets for a process given by its pid (a
# client that execs 2 s after its pid is known), next to the neighbour.
pid_port=7403
ip netns exec "$NS_S" "$tools/tcp_server" --listen "$V4_S" --port $pid_port --count 1 \
	--send 700 --recv 200 >/dev/null 2>&1 &
E2E_PIDS+=("$!")
reference_start "$T/ref2.pcap" $pid_port
ip netns exec "$NS_C" sh -c "sleep 2; exec ${client[*]/$cmd_port/$pid_port}" >/dev/null 2>&1 &
E2E_PIDS+=("$!")
cpid=$!
ip netns exec "$NS_C" "$tool" --capture --extcap-interface ebpfevents --fifo "$T/pid.pcapng" \
	--ifname "$vc" --pid "$cpid" --duration 4 >/dev/null 2>"$T/pid.err"
reference_stop
ours=$(tcp_rows "$T/pid.pcapng") theirs=$(tcp_rows "$T/ref2.pcap")
n_ours=$(grep -c . <<<"$ours") n_ref=$(grep -c . <<<"$theirs")
left=$(sed -n 's/.* \([0-9]*\) packets left out.*/\1/p' "$T/pid.err")
echo "MEASURED: --pid $cpid: packets written $n_ours, tcpdump on port $pid_port $n_ref," \
	"left out ${left:-0}"
check "--pid: exactly tcpdump's packets on port $pid_port ($n_ours = $n_ref)" \
	'[ "$ours" = "$theirs" ] && [ "$n_ref" -ge 8 ] && grep -q "|··········S·$" <<<"$ours"'
check "--pid: the neighbour's packets left out and counted (${left:-none})" \
	'[ "${left:-0}" -gt 0 ]'

# -- curl URL (the issue's own example): a real HTTP exchange with
# busybox's httpd, complete and alone in the file while the neighbour
# keeps connecting.
if command -v curl >/dev/null && command -v busybox >/dev/null; then
	curl_port=7405
	mkdir -p "$T/www" && printf 'hello from the curl check\n' >"$T/www/index.html"
	ip netns exec "$NS_S" busybox httpd -f -p "$V4_S:$curl_port" -h "$T/www" &
	E2E_PIDS+=("$!")
	reference_start "$T/ref3.pcap" $curl_port
	ip netns exec "$NS_C" "$tool" --fifo "$T/curl.pcapng" --ifname "$vc" -- \
		curl -s -o "$T/page" "http://$V4_S:$curl_port/index.html" >/dev/null 2>"$T/curl.err"
	rc=$?
	reference_stop
	ours=$(tcp_rows "$T/curl.pcapng") theirs=$(tcp_rows "$T/ref3.pcap")
	n_ours=$(grep -c . <<<"$ours") n_ref=$(grep -c . <<<"$theirs")
	check "-- curl: exit 0 ($rc), the page fetched" \
		'[ "$rc" = 0 ] && grep -q "hello from the curl check" "$T/page"'
	check "-- curl: exactly tcpdump's packets on port $curl_port, one SYN, nothing else ($n_ours = $n_ref)" \
		'[ "$ours" = "$theirs" ] && [ "$n_ref" -ge 8 ] && [ "$(grep -c "|··········S·$" <<<"$ours")" = 1 ]'
	# Only the command's processes are observed: curl's side of each
	# packet is named, the server's is not.
	named=$(fields "$T/curl.pcapng" "tcp" -e ebpf.comm | grep -cx curl)
	check "-- curl: every packet names curl ($named of $n_ours)" '[ "$named" = "$n_ours" ]'
else
	echo "NOTE: curl or busybox missing: the -- curl check was skipped"
fi

# --print (the default without --fifo): a line per event and packet, names
# escaped (a client whose name carries a terminal escape sequence).
print_port=7404
ip netns exec "$NS_S" "$tools/tcp_server" --listen "$V4_S" --port $print_port --count 1 \
	>/dev/null 2>&1 &
E2E_PIDS+=("$!")
evil=$'\e[31mred'
ln -s "$tools/tcp_client" "$T/$evil"
ip netns exec "$NS_C" "$tool" --ifname "$vc" -- "$T/$evil" --connect "$V4_S" \
	--port $print_port >"$T/print.out" 2>"$T/print.err"
rc=$?
cpid=$(sed -n 's/^connected pid=\([0-9]*\) .*/\1/p' "$T/print.out")
sed -n '1,4p' "$T/print.out" | sed 's/^/  /'
check "--print: exit 0 ($rc; $(tail -1 "$T/print.err"))" '[ "$rc" = 0 ]'
check "--print: the TCP_Connect line, name escaped (pid $cpid)" \
	'grep -qE "^[0-9:.]{15} \\\\x1b\[31mred\[$cpid\] TCP_Connect $V4_C:[0-9]+ → $V4_S:$print_port [0-9]+ µs$" "$T/print.out"'
check "--print: the SYN line names the sender" \
	'grep -qE "^[0-9:.]{15} TCP $V4_C:[0-9]+ → $V4_S:$print_port \[S\] [0-9]+ B \\\\x1b\[31mred\[$cpid\] → \?$" "$T/print.out"'
check "--print: no raw escape byte reaches the terminal" '! grep -q $'"'"'\e'"'"' "$T/print.out"'
check "--print: no neighbour's line" '! grep -q ":$other_port " "$T/print.out"'
kill "$neighbour" 2>/dev/null

# Not found: 127, said.
"$tool" --fifo "$T/nf.pcapng" -- "/nonexistent-$E2E_SFX/cmd" 2>"$T/nf.err"
rc=$?
check "a missing command: exit 127 (got $rc)" '[ "$rc" = 127 ]'
check "a missing command: the reason ($(head -1 "$T/nf.err"))" \
	'grep -q "cannot run /nonexistent-$E2E_SFX/cmd: No such file or directory" "$T/nf.err"'

# Still running at --duration: ended, 128 + SIGTERM.
start=$(date +%s%N)
"$tool" --fifo "$T/dur.pcapng" --duration 1 -- sleep 30 2>"$T/dur.err"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check "a command still running at --duration 1: ended, status 143 (got $rc after $ms ms)" \
	'[ "$rc" = 143 ] && [ "$ms" -lt 5000 ]'
check "no sleep 30 left behind" '! pgrep -f "^sleep 30$" >/dev/null'

# Usage errors.
for bad in "--pid 1 --" "--pid-tree 1 --" "--tls --" "--extcap-interface ebpfzmqevents --"; do
	# shellcheck disable=SC2086 # the words of $bad are separate arguments
	"$tool" --fifo "$T/bad.pcapng" $bad true 2>"$T/bad.err"
	rc=$?
	check "'$bad true': exit 2 ($rc: $(head -1 "$T/bad.err"))" '[ "$rc" = 2 ]'
done
"$tool" --fifo "$T/bad.pcapng" -- 2>"$T/bad.err"
rc=$?
check "'--' without a command: exit 2 ($rc)" '[ "$rc" = 2 ]'

# A shell capture into a file on a terminal (script(1) gives it a pty): a
# progress line replaced each second (carriage return, erase line), erased
# before the summary; -q: no info and no progress, but errors; -v: debug
# messages; stderr not a terminal: no control characters at all. Refused
# connections to a closed port make the counts grow.
esc=$(printf '\033') cr=$(printf '\r')
cap=(--capture --extcap-interface ebpfevents --no-snapshot --no-containers)
progress() { tr '\r' '\n' <"$1" | sed -n "s/^$esc\[K\([0-9]*\) events, .* lost, .*, \([0-9]*\) s$/\1 \2/p"; }
if command -v script >/dev/null; then
	# One refused connect every 50 ms for all the captures below.
	(while :; do bash -c "exec 3<>/dev/tcp/127.0.0.1/9" 2>/dev/null; sleep 0.05; done) &
	knock=$!
	E2E_PIDS+=("$knock")
	script -qec "'$tool' ${cap[*]} --fifo '$T/tty.pcapng' --duration 4" /dev/null >"$T/tty.out" 2>&1
	progress "$T/tty.out" >"$T/tty.prog"
	first=$(head -1 "$T/tty.prog" | cut -d' ' -f1) last=$(tail -1 "$T/tty.prog" | cut -d' ' -f1)
	check "terminal: progress lines each second ($(tr '\n' ';' <"$T/tty.prog")), the count growing" \
		'[ "$(wc -l <"$T/tty.prog")" -ge 2 ] && [ "${last:-0}" -gt "${first:-0}" ]'
	check "terminal: the summary erases the progress line" \
		'tr "\r" "\n" <"$T/tty.out" | grep -q "^$esc\[Kebpfdump: [0-9]* events written to $T/tty.pcapng"'
	script -qec "'$tool' -q ${cap[*]} --fifo '$T/q.pcapng' --duration 2" /dev/null >"$T/q.out" 2>&1
	check "-q on a terminal: no message, no progress ($(head -c 200 "$T/q.out" | cat -v))" \
		'! grep -q . "$T/q.out" && [ -s "$T/q.pcapng" ]'
	# --print on a terminal: the refused connects' type in red, the
	# process bold; NO_COLOR=1 or a pipe: plain lines.
	script -qec "'$tool' --print ${cap[*]} --duration 2" /dev/null >"$T/pcol.out" 2>&1
	NO_COLOR=1 script -qec "'$tool' --print ${cap[*]} --duration 2" /dev/null >"$T/pnocol.out" 2>&1
	"$tool" --print "${cap[@]}" --duration 2 >"$T/ppipe.out" 2>/dev/null
	check "--print on a terminal: colours ($(grep -m1 TCP_Connect_Failed "$T/pcol.out" | cat -v | cut -c1-90))" \
		'grep -q "$esc\[1mbash\[[0-9]*\]$esc\[0m $esc\[31mTCP_Connect_Failed$esc\[0m" "$T/pcol.out"'
	check "--print with NO_COLOR=1, and into a pipe: no control characters" \
		'grep -q "bash\[[0-9]*\] TCP_Connect_Failed" "$T/pnocol.out" && ! grep -q "$esc" "$T/pnocol.out" && grep -q "bash\[[0-9]*\] TCP_Connect_Failed" "$T/ppipe.out" && ! grep -q "$esc" "$T/ppipe.out"'
	script -qec "'$tool' -q ${cap[*]} --fifo '$T/nodir/x.pcapng'" /dev/null >"$T/qerr.out" 2>&1
	check "-q still shows errors ($(head -1 "$T/qerr.out" | tr -d '\r'))" \
		'grep -q "ebpfdump: .*nodir" "$T/qerr.out"'
	kill "$knock"
else
	echo "note: script(1) not installed: the terminal checks are skipped"
fi
"$tool" "${cap[@]}" --fifo "$T/plain.pcapng" --duration 1 2>"$T/plain.err"
check "stderr not a terminal: the summary, no control characters ($(head -1 "$T/plain.err"))" \
	'grep -q "events written to" "$T/plain.err" && ! grep -q "[$esc$cr]" "$T/plain.err"'
"$tool" -v "${cap[@]}" --fifo "$T/v.pcapng" --duration 1 2>"$T/v.err"
check "-v: debug messages ($(grep -c "debug:" "$T/v.err"))" 'grep -q "^ebpfdump: debug: " "$T/v.err"'
finish
