# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the Wireshark tests (sourced after lib.sh): a real `cmake --install` into
# the directories Wireshark reads, with everything that was there before put back
# afterwards, and the tools a test needs.
#
# Wireshark and tshark ignore WIRESHARK_EXTCAP_DIR when run as root, so a root test that
# needs ebpfdump found as an extcap must install for real. Other tests of this project do
# the same (extcap_tcp.sh): a lock serialises those that take it.

WS_INSTALL_LOCK=/run/lock/ebpfdump-system-install.lock

# need_tools TOOL... : exit 77 (skipped) naming the first one missing.
need_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t is not installed"; exit 77; }
	done
}

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
