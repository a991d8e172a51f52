#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Remakes the Wireshark screenshots of docs/user-guide.md: Debian's Wireshark 4.0 under
# Xvfb, driven with xdotool, while curl talks to a local python3 web server. Nothing is
# installed: Wireshark runs as nobody with a private copy of ebpfdump (with capabilities),
# ebpf.lua and the eBPF profile (tests/e2e/wireshark_lib.sh: private_wireshark).
#
#   docs/images/screenshots.sh BUILD_DIR [OUT_DIR]     (root; default OUT_DIR: docs/images)
#
# Needs apt-get install wireshark-qt xvfb xdotool x11-utils imagemagick tcpdump curl.
# Positions of clicks match a 1280x800 screen and Wireshark 4.0's default layout; look at
# every picture. SHOTS="2 4" remakes only those (see want below).
set -uo pipefail
build=${1:?usage: screenshots.sh BUILD_DIR [OUT_DIR]}
src=$(cd "$(dirname "$0")/../.." && pwd)
out=${2:-$src/docs/images}
out=$(cd "$out" && pwd)
build=$(cd "$build" && pwd)
. "$src/tests/e2e/lib.sh"
. "$src/tests/e2e/wireshark_lib.sh"
need_root
need_tools wireshark Xvfb xdotool xwininfo import convert tcpdump curl python3

private_wireshark "$build" "$src" || { echo "setcap on the private ebpfdump failed" >&2; exit 1; }
prof=$WS_HOME/.config/wireshark/profiles/eBPF
# Fewer interfaces listed: the ones a reader recognises.
hide=$(tshark -D 2>/dev/null | sed -n 's/^[0-9]*\. \([^ ]*\).*/\1/p' |
	grep -vxE 'eth0|lo|any|ebpfevents|ebpfzmqevents' | paste -sd, -)
printf 'capture.devices_hide: %s\n' "$hide" >>"$prof/preferences"
start_xvfb || { echo "Xvfb did not start" >&2; exit 1; }

want() { [[ " ${SHOTS:-1 2 3 4 5 6} " == *" $1 "* ]]; }
# picture NAME [GEOMETRY]: the screen (or a part), small enough for the repository.
picture() {
	shot "$E2E_TMP/$1" "${2:-1280x800+0+0}"
	convert "$E2E_TMP/$1" +dither -colors 128 -define png:compression-level=9 "$out/$1"
	echo "wrote $out/$1 ($(stat -c %s "$out/$1") bytes)"
}
click() { xdotool mousemove "$1" "$2" click 1; sleep "${3:-1}"; }
start_ws() { # EXTCAP_DIR ARGS...
	local dir=$1
	shift
	as_nobody "$dir" wireshark "$@" >>"$E2E_TMP/wireshark.log" 2>&1 &
	ws=$!
	E2E_PIDS+=("$ws")
}
# The newest top-level window whose title matches $1: "WxH+X+Y".
window_geometry() {
	xwininfo -root -children 2>/dev/null | grep "\"[^\"]*$1[^\"]*\": (\"wireshark\"" |
		tail -1 | sed 's/.*)  *\([0-9]*x[0-9]*+[0-9]*+[0-9]*\) .*/\1/'
}
window_id() {
	xwininfo -root -children 2>/dev/null | grep "\"[^\"]*$1[^\"]*\": (\"wireshark\"" |
		tail -1 | awk '{ print $1 }'
}

# Traffic with recognisable process names: python3 serves, curl fetches, one refused.
port=$((20000 + RANDOM % 20000)) refused=$((port + 1))
mkdir -p "$E2E_TMP/www"
head -c 20000 /dev/urandom | base64 >"$E2E_TMP/www/index.html"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$E2E_TMP/www" >/dev/null 2>&1 &
E2E_PIDS+=($!)
sleep 1
traffic() {
	local i
	for i in $(seq "$1"); do
		curl -s -o /dev/null "http://127.0.0.1:$port/index.html" || true
		[ $((i % 4)) = 0 ] && { curl -s -m 1 -o /dev/null "http://127.0.0.1:$refused/" || true; }
		sleep 0.5
	done
}

# 1. The interface list, and 2. the capture options of eBPF Events (its gear).
if want 1 || want 2; then
	start_ws "$WS_EXTCAP" -C eBPF
	sleep 8
	want 1 && picture wireshark-interfaces.png
	if want 2; then
		click 169 322 3 # the gear of "eBPF Events"
		w=$(window_id "Interface Options")
		if [ -n "$w" ]; then # wide enough for the event types' labels
			xdotool windowmove "$w" 100 100 windowsize "$w" 900 480
			sleep 1
			picture wireshark-capture-options.png "$(window_geometry "Interface Options")"
		fi
	fi
	stop_wireshark "$ws"
fi

# 3. A live capture on eBPF Events with the toolbar, filtered to the processes of
# interest, and the toolbar's log.
if want 3; then
	start_ws "$WS_EXTCAP" -C eBPF -k -i ebpfevents -Y 'ebpf.comm == "curl" || ebpf.comm == "python3"'
	sleep 8
	click 700 106 0.5 # the toolbar's process filter: only these two are written
	xdotool type "curl python3"
	xdotool key Return
	sleep 0.5
	traffic 12
	sleep 2
	click 400 170 1 # the first row (a TCP_Connect of curl): its details below
	click 100 495 1 # the eBPF tree, expanded with the Right key
	xdotool key Right
	sleep 1
	picture wireshark-live-events.png
	click 1140 106 2 # Log
	w=$(window_id "Log")
	if [ -n "$w" ]; then
		xdotool windowmove "$w" 480 130 windowsize "$w" 780 300
		sleep 1
		picture wireshark-toolbar.png 1280x440+0+0
	fi
	stop_wireshark "$ws"
fi

# 4. A capture that cannot start: ebpfdump without capabilities.
if want 4; then
	start_ws "$WS_NOCAPS" -k -i ebpfevents
	for _ in $(seq 100); do [ -n "$(error_dialogs)" ] && break; sleep 0.2; done
	sleep 0.5
	picture wireshark-error-dialog.png "$(error_dialogs | head -1)"
	stop_wireshark "$ws"
fi

if ! want 5 && ! want 6; then
	exit 0
fi
# 5. A saved capture with merged packets: packets of lo and events merged offline.
tcpdump -i lo -U -w "$E2E_TMP/packets.pcap" "tcp port $port or tcp port $refused" 2>/dev/null &
dump=$!
E2E_PIDS+=("$dump")
"$WS_EXTCAP/ebpfdump" --capture --extcap-interface ebpfevents --fifo "$E2E_TMP/events.pcapng" \
	--duration 8 2>/dev/null &
cap=$!
sleep 2
traffic 6
wait "$cap"
kill "$dump"
wait "$dump" 2>/dev/null
"$build/tests/merge_files" "$E2E_TMP/packets.pcap" "$E2E_TMP/events.pcapng" "$E2E_TMP/all.pcapng" >/dev/null
# Keep the web traffic and its processes' events: other things happen on a test machine.
tshark -r "$E2E_TMP/all.pcapng" -X "lua_script:$src/dissector/ebpf.lua" -w "$WS_OUT/merged.pcapng" \
	-Y "tcp.port in {$port, $refused} || ebpf.lport in {$port, $refused} || ebpf.rport in {$port, $refused}" \
	2>/dev/null
chmod 644 "$WS_OUT/merged.pcapng"
first_data=$(tshark -r "$WS_OUT/merged.pcapng" -X "lua_script:$src/dissector/ebpf.lua" \
	-Y 'tcp.len > 0 && ebpf.role' -T fields -e frame.number 2>/dev/null | head -1)
start_ws "$WS_EXTCAP" -C eBPF -r "$WS_OUT/merged.pcapng" -g "${first_data:-1}"
sleep 8
if want 5; then
	# In the details pane: collapse everything, then open the last tree (eBPF) fully.
	click 300 470 1
	xdotool key ctrl+Left End shift+Right
	sleep 1
	picture wireshark-merged-packets.png
fi

# 6. Statistics > eBPF/Processes and eBPF/Containers on that file.
stats_window() { # $1: menu row (y), $2: window title, $3: picture
	local win
	click 325 10 1 # Statistics menu
	[ "$3" = wireshark-statistics-processes.png ] && picture wireshark-statistics-menu.png
	click 367 "$1" 3
	# No window manager: place and size the text window ourselves.
	win=$(window_id "$2")
	xdotool windowmove "$win" 40 120 windowsize "$win" 1100 420
	sleep 1
	picture "$3"
	xdotool key --window "$win" Escape
	sleep 1
}
if want 6; then
	stats_window 336 "eBPF Processes" wireshark-statistics-processes.png
	stats_window 311 "eBPF Containers" wireshark-statistics-containers.png
fi
stop_wireshark "$ws"
