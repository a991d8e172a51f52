#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Remakes the Wireshark screenshots of docs/user-guide.md: Debian's Wireshark under Xvfb,
# driven with xdotool, while curl talks to a local python3 web server.
#
#   docs/images/screenshots.sh BUILD_DIR [OUT_DIR]     (root; default OUT_DIR: docs/images)
#
# Needs ebpfdump installed (cmake --install BUILD_DIR: extcap, ebpf.lua, eBPF profile) and
# apt-get install wireshark-qt xvfb xdotool imagemagick tcpdump curl. Positions of clicks
# match a 1280x800 screen and Wireshark 4.0's default layout; look at every picture.
set -euo pipefail
build=${1:?usage: screenshots.sh BUILD_DIR [OUT_DIR]}
out=${2:-$(dirname "$0")}
out=$(cd "$out" && pwd)
build=$(cd "$build" && pwd)

work=$(mktemp -d /tmp/ebpfdump-shots.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

tshark -D 2>/dev/null | grep -q 'ebpfevents (eBPF Events)' ||
	{ echo "ebpfdump is not installed as an extcap: cmake --install $build" >&2; exit 1; }
conf=$(tshark -G folders 2>/dev/null | sed -n 's/^Global configuration:[[:space:]]*//p')
[ -f "$conf/profiles/eBPF/colorfilters" ] ||
	{ echo "no eBPF profile in $conf/profiles: cmake --install $build" >&2; exit 1; }

# A private Wireshark configuration: window size, no prompts, fewer interfaces listed.
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config XDG_RUNTIME_DIR=$work/run
mkdir -p "$XDG_CONFIG_HOME/wireshark/profiles" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
cat >"$XDG_CONFIG_HOME/wireshark/recent_common" <<'EOF'
gui.geometry_main_x: 0
gui.geometry_main_y: 0
gui.geometry_main_width: 1280
gui.geometry_main_height: 800
gui.geometry_main_maximized: FALSE
EOF
hide=$(tshark -D 2>/dev/null | sed -n 's/^[0-9]*\. \([^ ]*\).*/\1/p' |
	grep -vxE 'eth0|lo|any|ebpfevents' | paste -sd, -)
# The user's own copy of the eBPF profile, as Wireshark makes when a setting changes.
cp -r "$conf/profiles/eBPF" "$XDG_CONFIG_HOME/wireshark/profiles/"
printf 'capture.devices_hide: %s\ngui.ask_unsaved: FALSE\n' "$hide" \
	>>"$XDG_CONFIG_HOME/wireshark/profiles/eBPF/preferences"

display=:$((200 + RANDOM % 300))
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
pids+=($!)
export DISPLAY=$display
sleep 2

# SHOTS="3 4" remakes only those pictures (3 needs 4's capture, and 4 needs 3's window).
want() { [[ " ${SHOTS:-1 2 3} " == *" $1 "* ]]; }
shot() { import -window root "$out/$1"; echo "wrote $out/$1"; }
click() { xdotool mousemove "$1" "$2" click 1; sleep "${3:-1}"; }
start_wireshark() {
	wireshark -C eBPF "$@" >>"$work/wireshark.log" 2>&1 &
	ws=$!
	pids+=("$ws")
}
stop_wireshark() { kill "$ws" 2>/dev/null || true; wait "$ws" 2>/dev/null || true; }

# Traffic with recognisable process names: python3 serves, curl fetches, one refused.
port=$((20000 + RANDOM % 20000)) refused=$((port + 1))
mkdir -p "$work/www"
head -c 20000 /dev/urandom | base64 >"$work/www/index.html"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/www" >/dev/null 2>&1 &
pids+=($!)
sleep 1
curl -sf -o /dev/null "http://127.0.0.1:$port/index.html" ||
	{ echo "the web server on port $port does not answer" >&2; exit 1; }
traffic() {
	local i
	for i in $(seq "$1"); do
		curl -s -o /dev/null "http://127.0.0.1:$port/index.html" || true
		[ $((i % 4)) = 0 ] && { curl -s -m 1 -o /dev/null "http://127.0.0.1:$refused/" || true; }
		sleep 0.5
	done
}

# 1. The interface list: "eBPF Events" among the capture interfaces.
if want 1; then
	start_wireshark
	sleep 30 # extcap interfaces are listed once every extcap program has answered
	shot wireshark-interfaces.png
	stop_wireshark
fi

# 2. A live capture on eBPF Events, filtered to the processes of interest.
if want 2; then
	start_wireshark -k -i ebpfevents -Y 'ebpf.comm == "curl" || ebpf.comm == "python3"'
	sleep 8
	traffic 12
	sleep 2
	xdotool key ctrl+Home # stop following the capture: first displayed row
	sleep 1
	click 400 120 1 # that row (a TCP_Connect of curl): its details below
	click 100 479 1 # the eBPF tree, expanded with the Right key
	xdotool key Right
	sleep 1
	shot wireshark-live-events.png
	stop_wireshark
fi
if ! want 3; then
	exit 0
fi

# 3. A saved capture with merged packets: packets of lo and events merged offline.
tcpdump -i lo -U -w "$work/packets.pcap" "tcp port $port or tcp port $refused" 2>/dev/null &
dump=$!
pids+=("$dump")
/usr/bin/env "$(sed -n 's/^EBPFDUMP_EXTCAP_DIR:[A-Z]*=//p' "$build/CMakeCache.txt")/ebpfdump" \
	--capture --extcap-interface ebpfevents --fifo "$work/events.pcapng" --duration 8 2>/dev/null &
cap=$!
sleep 2
traffic 6
wait "$cap" || true
kill "$dump"
wait "$dump" 2>/dev/null || true
"$build/tests/merge_files" "$work/packets.pcap" "$work/events.pcapng" "$work/all.pcapng" >/dev/null
# Keep the web traffic and its processes' events: other things happen on a test machine.
tshark -r "$work/all.pcapng" -w "$work/merged.pcapng" \
	-Y "tcp.port in {$port, $refused} || ebpf.lport in {$port, $refused} || ebpf.rport in {$port, $refused}" \
	2>/dev/null
first_data=$(tshark -r "$work/merged.pcapng" -Y 'tcp.len > 0 && ebpf.role' -T fields \
	-e frame.number 2>/dev/null | head -1)
start_wireshark -r "$work/merged.pcapng" -g "${first_data:-1}"
sleep 8
# In the details pane: collapse everything, then open the last tree (eBPF) fully.
click 300 470 1
xdotool key ctrl+Left End shift+Right
sleep 1
shot wireshark-merged-packets.png

# 4. Statistics > eBPF/Processes and eBPF/Containers on that file (made with 3).
stats_window() { # $1: menu row (y), $2: window title, $3: picture
	local win
	click 325 10 1 # Statistics menu
	[ "$3" = wireshark-statistics-processes.png ] && shot wireshark-statistics-menu.png
	click 367 "$1" 3
	# No window manager: place and size the text window ourselves.
	win=$(xdotool search --name "$2\$" | head -1) # "Wireshark · eBPF Processes"
	xdotool windowmove "$win" 40 120 windowsize "$win" 1100 420
	sleep 1
	shot "$3"
	xdotool key --window "$win" Escape
	sleep 1
}
stats_window 336 "eBPF Processes" wireshark-statistics-processes.png
stats_window 311 "eBPF Containers" wireshark-statistics-containers.png
stop_wireshark
