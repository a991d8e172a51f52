#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Install and uninstall: a staged install (DESTDIR) has every part where Wireshark's
# folders say, EBPFDUMP_SETCAP=1 grants the capabilities, and the uninstall target leaves
# no file and none of our directories; a real install is seen by tshark (interface list,
# global eBPF profile, Lua plugin) and man, and uninstalling it leaves nothing behind.
# Whatever was installed before is put back at the end.
#
# usage: wireshark_install.sh BUILD_DIR SOURCE_DIR   (root)
set -uo pipefail
build=$1 src=$2
. "$src/tests/e2e/lib.sh"
. "$src/tests/e2e/wireshark_lib.sh"
need_root
need_tools tshark getcap

extcap_dir=$(cache_var "$build" EBPFDUMP_EXTCAP_DIR)
lua_dir=$(cache_var "$build" EBPFDUMP_LUA_DIR)
conf_dir=$(cache_var "$build" EBPFDUMP_WIRESHARK_CONF_DIR)
prefix=$(cache_var "$build" CMAKE_INSTALL_PREFIX)
folders=$(tshark -G folders 2>/dev/null)
check "extcap dir is the one tshark reports ($extcap_dir)" \
	'grep -qE "Extcap path:[[:space:]]+$extcap_dir\$" <<<"$folders"'
check "Lua dir is tshark's global Lua plugin dir ($lua_dir)" \
	'grep -qE "^Global Lua Plugins:[[:space:]]+$lua_dir\$" <<<"$folders"'
check "profile parent is tshark's global configuration dir ($conf_dir)" \
	'grep -qE "^Global configuration:[[:space:]]+$conf_dir\$" <<<"$folders"'

# --- another prefix at install time: refused before anything is written --------------
other=$E2E_TMP/other-prefix
before=$(ls -l --time-style=+%s.%N "$extcap_dir" "$lua_dir" 2>/dev/null | md5sum)
cmake --install "$build" --prefix "$other" >"$E2E_TMP/prefix.log" 2>&1
rc=$?
check "cmake --install --prefix elsewhere: refused ($rc)" '[ "$rc" != 0 ]'
said=$(tr -s ' \n' ' ' <"$E2E_TMP/prefix.log") # CMake folds its messages
check "--prefix elsewhere: says what to do instead ($(grep -o "For a staged tree use DESTDIR" <<<"$said"))" \
	'grep -q "Nothing was installed. For a staged tree use DESTDIR=$other" <<<"$said"'
check "--prefix elsewhere: nothing written there or in Wireshark's directories" \
	'[ ! -e "$other" ] && [ "$(ls -l --time-style=+%s.%N "$extcap_dir" "$lua_dir" 2>/dev/null | md5sum)" = "$before" ]'

# --- staged ---------------------------------------------------------------------------
dest=$E2E_TMP/dest
EBPFDUMP_SETCAP=1 DESTDIR=$dest cmake --install "$build" >"$E2E_TMP/staged.log" 2>&1
check "staged install with EBPFDUMP_SETCAP=1 succeeds" '[ $? = 0 ]'
expect_file() { if [ -f "$dest$1" ]; then ok; else bad "staged: no $1"; fi; }
expect_file "$extcap_dir/ebpfdump"
expect_file "$lua_dir/ebpf.lua"
expect_file "$conf_dir/profiles/eBPF/colorfilters"
expect_file "$conf_dir/profiles/eBPF/preferences"
expect_file "$conf_dir/profiles/eBPF/recent"
expect_file "$prefix/share/man/man1/ebpfdump.1"
expect_file "$prefix/share/doc/ebpfdump/user-guide.md"
expect_file "$prefix/share/doc/ebpfdump/remote.md"
unit=$prefix/lib/systemd/system/ebpfdump-publish.service
expect_file "$unit"
check "the publisher unit starts the installed ebpfdump" \
	'grep -q "^ExecStart=$extcap_dir/ebpfdump --zmq-publish " "$dest$unit"'
if command -v systemd-analyze >/dev/null; then
	# verify resolves ExecStart=: point it at the staged binary;
	sed "s|^ExecStart=$extcap_dir|ExecStart=$dest$extcap_dir|" "$dest$unit" \
		>"$E2E_TMP/ebpfdump-publish.service"
	# and finds the Documentation= man page in the staged tree.
	MANPATH=$dest$prefix/share/man systemd-analyze verify "$E2E_TMP/ebpfdump-publish.service" \
		>"$E2E_TMP/verify.log" 2>&1
	rc=$?
	# Without a running systemd, verify may complain about the machine; only
	# complaints about our unit count.
	check "systemd-analyze verify accepts the unit ($rc: $(grep -v "^$" "$E2E_TMP/verify.log" | head -2))" \
		'[ $rc = 0 ] || ! grep -q "ebpfdump-publish.service:" "$E2E_TMP/verify.log"'
fi
check "staged ebpfdump is executable and answers" '"$dest$extcap_dir/ebpfdump" --extcap-interfaces | grep -q ebpfevents'
caps=$(getcap "$dest$extcap_dir/ebpfdump" 2>/dev/null)
for c in $(cache_var "$build" EBPFDUMP_SETCAP_CAPS | tr , ' '); do
	check "EBPFDUMP_SETCAP=1 granted $c ($caps)" 'grep -q "$c" <<<"$caps"'
done
check "the granted set is effective and permitted (=ep)" 'grep -q "=ep" <<<"$caps"'
check "the profile's colorfilters start with ours and keep Wireshark's" \
	'grep -m1 "^@" "$dest$conf_dir/profiles/eBPF/colorfilters" | grep -q "^@eBPF" && grep -q "^@TCP@tcp@" "$dest$conf_dir/profiles/eBPF/colorfilters"'
# A staged uninstall must touch the staging tree only: the system copy is a witness.
witness=$extcap_dir/ebpfdump
witness_before=$(stat -c %i:%Y "$witness" 2>/dev/null || echo none)
DESTDIR=$dest cmake --build "$build" --target uninstall >"$E2E_TMP/unstaged.log" 2>&1
check "staged uninstall succeeds" '[ $? = 0 ]'
check "staged uninstall left no file: $(cd "$dest" && find . -type f -o -type l | head -3)" \
	'[ -z "$(find "$dest" -type f -o -type l)" ]'
check "staged uninstall removed our own directories" \
	'[ -z "$(find "$dest" -name eBPF -o -name ebpfdump)" ]'
check "staged uninstall did not touch the system's files" \
	'[ "$(stat -c %i:%Y "$witness" 2>/dev/null || echo none)" = "$witness_before" ]'

# --- real -----------------------------------------------------------------------------
system_install "$build" || { bad "cmake --install"; finish; exit; }
check "tshark -D lists the installed tool" 'tshark -D 2>/dev/null | grep -q "ebpfevents (eBPF Events)"'
check "man finds ebpfdump(1)" 'man -w ebpfdump 2>/dev/null | grep -q "ebpfdump.1"'
"$build/tests/mkcapture" --events "$E2E_TMP/mk.pcapng" >/dev/null
# The global profile and the global plugin, with no -X option (a private HOME:
# tshark copies a global profile it uses into the personal configuration).
mkdir -p "$E2E_TMP/home"
HOME=$E2E_TMP/home XDG_CONFIG_HOME=$E2E_TMP/home/.config tshark -C eBPF -r "$E2E_TMP/mk.pcapng" >"$E2E_TMP/list" 2>"$E2E_TMP/list.err"
check "tshark -C eBPF uses the installed profile and plugin" \
	'grep -qE "^ +1 .* curl 4242 .*TCP_Connect curl\[4242\]" "$E2E_TMP/list"'
cmake --build "$build" --target uninstall >"$E2E_TMP/uninstall.log" 2>&1
check "uninstall succeeds" '[ $? = 0 ]'
left=()
while read -r f; do
	[ -n "$f" ] && { [ -e "$f" ] || [ -L "$f" ]; } && left+=("$f")
done <<<"$WS_FILES"
check "uninstall removed every installed file (left: ${left[*]:-none})" '[ ${#left[@]} = 0 ]'
check "uninstall removed the eBPF profile and doc directories" \
	'[ ! -e "$conf_dir/profiles/eBPF" ] && [ ! -e "$prefix/share/doc/ebpfdump" ]'
check "tshark no longer lists it" '! tshark -D 2>/dev/null | grep -q ebpfevents'
cmake --build "$build" --target uninstall >"$E2E_TMP/uninstall2.log" 2>&1
check "uninstalling twice is harmless" '[ $? = 0 ] && grep -q "already gone" "$E2E_TMP/uninstall2.log"'
finish
