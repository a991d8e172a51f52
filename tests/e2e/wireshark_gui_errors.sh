#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Errors at capture start reach the Wireshark user, and notices do not pose as errors
# (issue 15, points 2 and 5). Wireshark 4.0 under Xvfb, as the unprivileged user nobody,
# with private copies of ebpfdump (wireshark_lib.sh: private_wireshark):
#  * a copy without capabilities, and a packet interface that does not exist: Wireshark
#    shows an error dialog within seconds, dumpcap and ebpfdump are gone, and Wireshark
#    stays usable (it used to hang in open() of the toolbar's pipe, dumpcap waiting on
#    the fifo forever);
#  * a capture whose filter matches nothing stops without a dialog (its notice goes to
#    the toolbar's log);
#  * tshark -i ebpfzmqevents without an endpoint returns at once with the error (it hung).
#
# usage: wireshark_gui_errors.sh BUILD_DIR SOURCE_DIR TOOLS_DIR   (root)
# With GUI_SHOTS=DIR, the error dialog's picture is kept there (gui-error.png).
set -uo pipefail
build=$1 src=$2 tools=$3
. "$src/tests/e2e/lib.sh"
. "$src/tests/e2e/wireshark_lib.sh"
need_root
need_tools wireshark Xvfb xwininfo tshark setcap setpriv import

private_wireshark "$build" "$src" || { bad "setcap on the private copy of ebpfdump"; finish; exit; }
start_xvfb || { bad "Xvfb did not start: $(head -3 "$E2E_TMP/xvfb.log")"; finish; exit; }

# error_dialog NAME EXTCAP_DIR WIRESHARK_ARGS...: a capture that cannot start.
error_dialog() {
	local name=$1 dir=$2 ws dialog="" kids i
	shift 2
	as_nobody "$dir" wireshark -k -i ebpfevents "$@" >"$E2E_TMP/$name.log" 2>&1 &
	ws=$!
	E2E_PIDS+=("$ws")
	wait_main_window "Capturing from" || bad "$name: Wireshark's main window never said 'Capturing from'"
	for i in $(seq 200); do
		dialog=$(error_dialogs | head -1)
		[ -n "$dialog" ] && break
		sleep 0.1
	done
	check "$name: Wireshark shows an error dialog (after $((i / 10)) s; ${dialog:-none})" \
		'[ -n "$dialog" ]'
	if [ -n "$dialog" ]; then
		sleep 0.5 # drawn
		shot "$E2E_TMP/$name.png" "$dialog"
		[ -z "${GUI_SHOTS:-}" ] || cp "$E2E_TMP/$name.png" "$GUI_SHOTS/gui-error-$name.png"
	fi
	check "$name: ebpfdump exited" '! pgrep -f "^$dir/ebpfdump --capture" >/dev/null'
	kids=$(pgrep -P "$ws" -x dumpcap | tr '\n' ' ')
	check "$name: dumpcap exited (no longer waits on the fifo)" '! live_children "$ws" dumpcap'
	check "$name: Wireshark is not blocked in open() of a pipe ($(cat "/proc/$ws/wchan" 2>/dev/null))" \
		'[ "$(cat "/proc/$ws/wchan" 2>/dev/null)" != wait_for_partner ]'
	stop_wireshark "$ws"
	check "$name: nothing left behind once Wireshark is closed" \
		'! pgrep -f "^$dir/ebpfdump" >/dev/null && { [ -z "$kids" ] || ! ps -p "${kids// /,}" -o stat= 2>/dev/null | grep -qv Z; }'
}

error_dialog no-capabilities "$WS_NOCAPS"
error_dialog bad-ifname "$WS_EXTCAP" -o "extcap.ebpfevents.ifname:nosuch$E2E_SFX"

# --- a filter that matches nothing: a notice, not an error dialog ------------------------
make_netns_pair || { bad "network namespaces"; finish; exit; }
as_nobody "$WS_EXTCAP" wireshark -k -i ebpfevents -a duration:4 -w "$WS_OUT/quiet.pcapng" \
	-o "extcap.ebpfevents.comm:nomatch$E2E_SFX" >"$E2E_TMP/quiet.log" 2>&1 &
ws=$!
E2E_PIDS+=("$ws")
for _ in $(seq 150); do pgrep -f "^$WS_EXTCAP/ebpfdump --capture" >/dev/null && break; sleep 0.1; done
sleep 1.5 # attached
for port in 5401 5402; do # events the kernel sees and the filter drops
	ip netns exec "$NS_S" "$tools/tcp_server" --listen "$V4_S" --port $port --send 10 --recv 10 \
		--count 1 >"$E2E_TMP/srv" &
	spid=$!
	for _ in $(seq 50); do grep -q listening "$E2E_TMP/srv" 2>/dev/null && break; sleep 0.05; done
	ip netns exec "$NS_C" "$tools/tcp_client" --connect "$V4_S" --port $port --send 10 --recv 10 \
		>/dev/null
	wait "$spid"
done
for _ in $(seq 100); do pgrep -f "^$WS_EXTCAP/ebpfdump --capture" >/dev/null || break; sleep 0.1; done
sleep 2 # a dialog would show now
check "a capture whose filter matched nothing stopped without an error dialog ($(error_dialogs | tr '\n' ' '))" \
	'[ -z "$(error_dialogs)" ]'
[ -z "${GUI_SHOTS:-}" ] || shot "$GUI_SHOTS/gui-quiet.png" 1280x800+0+0
stop_wireshark "$ws"

# --- tshark, remote events without an endpoint ----------------------------------------
start=$(date +%s%N)
as_nobody "$WS_EXTCAP" timeout 30 tshark -i ebpfzmqevents -a duration:3 -w "$WS_OUT/zmq.pcapng" \
	>/dev/null 2>"$E2E_TMP/zmq.err"
rc=$? elapsed_ms=$((($(date +%s%N) - start) / 1000000))
check "tshark -i ebpfzmqevents without an endpoint returns (${elapsed_ms} ms, status $rc)" \
	'[ "$rc" != 124 ] && [ "$elapsed_ms" -lt 10000 ]'
check "and says what is missing: $(grep -m1 zmq "$E2E_TMP/zmq.err")" \
	'grep -q "ebpfzmqevents needs --zmq-listen" "$E2E_TMP/zmq.err"'
finish
