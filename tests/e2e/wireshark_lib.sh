# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the Wireshark tests (sourced after lib.sh): a real `cmake --install` into
# the directories Wireshark reads, with everything that was there before put back
# afterwards, and the tools a test needs.
#
# Wireshark and tshark ignore WIRESHARK_EXTCAP_DIR when run as root, so a root test that
# needs ebpfdump found as an extcap must install for real (a lock serialises those that
# take it: extcap_tcp.sh, wireshark_install.sh), or run Wireshark as an unprivileged user
# with a private copy (private_wireshark below: the GUI tests).

WS_INSTALL_LOCK=/run/lock/ebpfdump-system-install.lock

# The files `cmake --install BUILD` writes, one absolute path a line (a DESTDIR dry run).
install_file_list() {
	local build=$1 dest=$E2E_TMP/install-list
	rm -rf "$dest"
	DESTDIR=$dest cmake --install "$build" >/dev/null 2>&1 || return 1
	(cd "$dest" && find . -type f -o -type l) | sed 's|^\.||' | sort
	rm -rf "$dest"
}

# system_install BUILD: take the lock, back up every file the install will overwrite,
# note the directories it will create, install. Undone by system_restore (registered for
# the exit trap here).
system_install() {
	local build=$1 f d
	exec {WS_LOCK_FD}>"$WS_INSTALL_LOCK"
	flock -w 50 "$WS_LOCK_FD" || { echo "another install holds $WS_INSTALL_LOCK"; return 1; }
	WS_FILES=$(install_file_list "$build") || return 1
	WS_NEW_DIRS=()
	mkdir -p "$E2E_TMP/backup"
	while read -r f; do
		[ -n "$f" ] || continue
		if [ -e "$f" ] || [ -L "$f" ]; then
			mkdir -p "$E2E_TMP/backup$(dirname "$f")"
			cp -a "$f" "$E2E_TMP/backup$f"
		fi
		d=$(dirname "$f")
		while [ ! -d "$d" ]; do
			WS_NEW_DIRS+=("$d")
			d=$(dirname "$d")
		done
	done <<<"$WS_FILES"
	E2E_CLEANUP+=(system_restore)
	cmake --install "$build" >"$E2E_TMP/install.log" 2>&1
}

# Put back what was there before system_install, remove what it added.
system_restore() {
	local f d
	while read -r f; do
		[ -n "$f" ] || continue
		rm -f "$f" # unlink first: a binary still running cannot be overwritten
		if [ -e "$E2E_TMP/backup$f" ] || [ -L "$E2E_TMP/backup$f" ]; then
			cp -a "$E2E_TMP/backup$f" "$f"
		fi
	done <<<"$WS_FILES"
	for d in "${WS_NEW_DIRS[@]}"; do
		rmdir "$d" 2>/dev/null || true # deepest first: listed so
	done
	WS_FILES=""
}

# The value of a cache variable of BUILD.
cache_var() { sed -n "s/^$2:[A-Z]*=//p" "$1/CMakeCache.txt"; }

# --- Wireshark itself, as an unprivileged user, with a private ebpfdump -----------------
#
# Wireshark 4.0 has no personal extcap folder and ignores WIRESHARK_EXTCAP_DIR and
# WIRESHARK_PLUGIN_DIR when run as root; a user's Wireshark honours both. So these tests
# run it as nobody with a private HOME, ebpfdump copied into a temp folder with the
# capabilities `cmake -DEBPFDUMP_SETCAP=ON` grants, ebpf.lua in a private plugin folder
# and the eBPF profile in the private HOME: nothing outside $E2E_TMP is touched.

# private_wireshark BUILD SRC: sets WS_EXTCAP (ebpfdump with capabilities), WS_NOCAPS (a
# copy without), WS_HOME, WS_OUT (writable by nobody). Returns 1 when setcap fails.
private_wireshark() {
	local build=$1 src=$2 prof
	WS_EXTCAP=$E2E_TMP/extcap WS_NOCAPS=$E2E_TMP/extcap-nocaps WS_HOME=$E2E_TMP/home
	WS_OUT=$E2E_TMP/out
	prof=$WS_HOME/.config/wireshark/profiles/eBPF
	mkdir -p "$WS_EXTCAP" "$WS_NOCAPS" "$E2E_TMP/plugins" "$prof" "$WS_HOME/run" "$WS_OUT"
	cp "$build/extcap/ebpfdump" "$WS_EXTCAP/ebpfdump"
	cp "$build/extcap/ebpfdump" "$WS_NOCAPS/ebpfdump"
	cp "$src/dissector/ebpf.lua" "$E2E_TMP/plugins/"
	cp "$build/profile-eBPF/colorfilters" "$build/profile-eBPF/preferences" \
		"$build/profile-eBPF/recent" "$prof/"
	# A known window, and no "unsaved packets" prompt when the test closes Wireshark.
	printf 'gui.geometry_main_x: 0\ngui.geometry_main_y: 0\ngui.geometry_main_width: 1280\ngui.geometry_main_height: 800\ngui.geometry_main_maximized: FALSE\n' \
		>"$WS_HOME/.config/wireshark/recent_common"
	printf 'gui.ask_unsaved: FALSE\n' >>"$prof/preferences"
	chmod 755 "$E2E_TMP" "$WS_EXTCAP" "$WS_NOCAPS" "$WS_EXTCAP/ebpfdump" "$WS_NOCAPS/ebpfdump"
	chmod -R a+rX "$E2E_TMP/plugins"
	chown -R nobody:nogroup "$WS_HOME" "$WS_OUT"
	chmod 700 "$WS_HOME/run"
	setcap "$(cache_var "$build" EBPFDUMP_SETCAP_CAPS)+ep" "$WS_EXTCAP/ebpfdump"
}

# as_nobody EXTCAP_DIR COMMAND...: COMMAND as nobody, finding ebpfdump in EXTCAP_DIR.
as_nobody() {
	local dir=$1
	shift
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
		env HOME="$WS_HOME" XDG_CONFIG_HOME="$WS_HOME/.config" XDG_RUNTIME_DIR="$WS_HOME/run" \
		WIRESHARK_EXTCAP_DIR="$dir" WIRESHARK_PLUGIN_DIR="$E2E_TMP/plugins" "$@"
}

# start_xvfb: an X server on a display no one uses (Xvfb picks it), DISPLAY exported;
# stopped with the test.
start_xvfb() {
	local i
	Xvfb -displayfd 5 -screen 0 1280x800x24 -nolisten tcp 5>"$E2E_TMP/xvfb.display" \
		>"$E2E_TMP/xvfb.log" 2>&1 &
	E2E_PIDS+=($!)
	for i in $(seq 50); do [ -s "$E2E_TMP/xvfb.display" ] && break; sleep 0.1; done
	[ -s "$E2E_TMP/xvfb.display" ] || return 1
	export DISPLAY=:$(head -1 "$E2E_TMP/xvfb.display")
}

# stop_wireshark PID: close it, and make sure its dumpcap and ebpfdump go too.
stop_wireshark() {
	local pid=$1 kids i
	kids=$(pgrep -P "$pid")
	kill "$pid" 2>/dev/null
	for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# shellcheck disable=SC2086
	[ -z "$kids" ] || kill $kids 2>/dev/null
	return 0
}

# Wireshark's message boxes: top-level windows titled "Wireshark" (class wireshark),
# smaller than the main window (also titled "Wireshark" while it starts): "WxH+X+Y" a line.
wireshark_dialogs() {
	xwininfo -root -children 2>/dev/null |
		sed -n 's/.*"Wireshark": ("wireshark" "Wireshark")  *\([0-9]*x[0-9]*+[0-9]*+[0-9]*\) .*/\1/p' |
		awk -F'[x+]' '$1 >= 100 && $1 < 1200 && $2 >= 50 && $2 < 700'
}

# wait_main_window PATTERN: until Wireshark's main window has a title matching PATTERN
# (e.g. "Capturing from"), at most 20 s.
wait_main_window() {
	local i
	for i in $(seq 200); do
		xwininfo -root -children 2>/dev/null | grep -q "\"[^\"]*$1[^\"]*\": (\"wireshark\"" && return 0
		sleep 0.1
	done
	return 1
}

# shot FILE [GEOMETRY]: a screenshot of the screen, or of GEOMETRY (WxH+X+Y) in it.
shot() {
	command -v import >/dev/null || return 0
	import -window root "$1" 2>/dev/null || return 0
	[ -z "${2:-}" ] || mogrify -crop "$2" +repage "$1" 2>/dev/null
}

# live_children PID NAME: true when PID has a child NAME that is not a zombie.
live_children() {
	local p
	for p in $(pgrep -P "$1" -x "$2"); do
		[ "$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null)" = Z ] || return 0
	done
	return 1
}

# error_dialogs: the message boxes of wireshark_dialogs that are error boxes (Qt draws
# their icon in pure red; Wireshark's own "No packets captured" is an information box,
# blue): "WxH+X+Y" a line.
error_dialogs() {
	local g
	for g in $(wireshark_dialogs); do
		[ "$(import -window root -crop "$g" -depth 8 txt:- 2>/dev/null | grep -c "#FF0000")" -ge 100 ] &&
			echo "$g"
	done
}
