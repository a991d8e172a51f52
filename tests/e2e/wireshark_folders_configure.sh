#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Wireshark's folders at configure time (cmake/WiresharkDirs.cmake), on real
# configures of this project: without a working tshark the folders are guessed;
# configured again once tshark answers, the build directory asks it (before, the
# guess stayed: `cmake --install` then put ebpfdump where Debian's Wireshark never
# looks, and the eBPF profile lacked Wireshark's own coloring rules); a folder the
# user set is kept.
#
# usage: wireshark_folders_configure.sh SOURCE_DIR
set -uo pipefail
src=$1
. "$src/tests/e2e/lib.sh"
need_tools tshark
cache() { sed -n "s/^$2:[A-Z]*=//p" "$1/CMakeCache.txt"; }
configure() { # DIR ARGS...
	local dir=$1
	shift
	cmake -S "$src" -B "$dir" -DBUILD_TESTING=OFF -DEBPFDUMP_WITH_BPF=OFF "$@" >"$dir.log" 2>&1
}
real=$(tshark -G folders 2>/dev/null | sed -n 's/^\(Global \)\{0,1\}Extcap path:[[:space:]]*//p' | head -1)
real_lua=$(tshark -G folders 2>/dev/null | sed -n 's/^Global Lua Plugins:[[:space:]]*//p' | head -1)
check "tshark names its extcap and Lua folders ($real, $real_lua)" '[ -n "$real" ] && [ -n "$real_lua" ]'

b=$E2E_TMP/build
configure "$b" -DEBPFDUMP_TSHARK="$E2E_TMP/no-tshark"
check "without tshark: configured ($(tail -1 "$b.log"))" '[ $? = 0 ]'
guess=$(cache "$b" EBPFDUMP_WIRESHARK_DIRS_GUESSED)
check "without tshark: the extcap folder is the guess, not tshark's ($(cache "$b" EBPFDUMP_EXTCAP_DIR); guessed: $guess)" \
	'[ "$(cache "$b" EBPFDUMP_EXTCAP_DIR)" = "${guess%%;*}" ] && [ "${guess%%;*}" != "$real" ]'
check "without tshark: it says so, and how to fix it" \
	'grep -q "configure again once Wireshark is installed" "$b.log"'

configure "$b" -DEBPFDUMP_TSHARK="$(command -v tshark)"
check "with tshark: configured again ($(tail -1 "$b.log"))" '[ $? = 0 ]'
check "with tshark: it asks again" 'grep -q "asking it for its folders again" "$b.log"'
check "with tshark: the extcap folder is tshark's ($(cache "$b" EBPFDUMP_EXTCAP_DIR))" \
	'[ "$(cache "$b" EBPFDUMP_EXTCAP_DIR)" = "$real" ]'
check "with tshark: the guess is forgotten" \
	'[ -z "$(cache "$b" EBPFDUMP_WIRESHARK_DIRS_GUESSED)" ]'

# A folder the user chose is not a guess, even when the rest was guessed.
u=$E2E_TMP/user
configure "$u" -DEBPFDUMP_TSHARK="$E2E_TMP/no-tshark" -DEBPFDUMP_EXTCAP_DIR=/opt/ebpfdump-extcap
configure "$u" -DEBPFDUMP_TSHARK="$(command -v tshark)"
check "a folder set with -D stays ($(cache "$u" EBPFDUMP_EXTCAP_DIR))" \
	'[ "$(cache "$u" EBPFDUMP_EXTCAP_DIR)" = /opt/ebpfdump-extcap ]'
check "the others are asked again ($(cache "$u" EBPFDUMP_LUA_DIR))" \
	'[ "$(cache "$u" EBPFDUMP_LUA_DIR)" = "$real_lua" ]'
finish
