#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The documentation stays true to the program: `ebpfdump --help` names every option
# of the OPTIONS list in extcap/options.c and no other, the extcap dialog calls
# none outside it, ebpfdump(1) names every option that `ebpfdump --help` lists and
# renders without groff warnings; the user guide's pictures
# exist and are PNG files, and every ebpf.* field it mentions is one the dissector has.
#
# usage: wireshark_docs.sh EBPFDUMP SOURCE_DIR
set -uo pipefail
ebpfdump=$1 src=$2
. "$src/tests/e2e/lib.sh"
man=$src/docs/ebpfdump.1 guide=$src/docs/user-guide.md lua=$src/dissector/ebpf.lua

"$ebpfdump" --help >"$E2E_TMP/help" || { bad "ebpfdump --help"; finish; exit; }
options=$(grep -oE '(^|[ ,])--[a-z0-9][a-z0-9-]*' "$E2E_TMP/help" | tr -d ' ,' | sort -u)
check "--help lists options ($(wc -w <<<"$options"))" '[ "$(wc -w <<<"$options")" -ge 20 ]'
for opt in $options; do
	roff=${opt//-/\\-}
	if grep -qF -- "$roff" "$man"; then ok; else bad "ebpfdump(1) does not document $opt"; fi
done
# One list of options (OPTIONS in extcap/options.c): --help names each of
# them and no other, and every option the extcap dialog calls is one of them.
table=$(grep -oE "^\s*X\([A-Z_0-9]+, (0|'[a-z]'), \"[a-z0-9-]+\"" "$src/extcap/options.c" |
	sed 's/.*"\(.*\)"/--\1/' | sort -u)
check "the OPTIONS list has options ($(wc -w <<<"$table"))" '[ "$(wc -w <<<"$table")" -ge 40 ]'
for opt in $table; do
	if grep -qx -- "$opt" <<<"$options"; then ok; else bad "--help does not name $opt (in OPTIONS)"; fi
done
for opt in $options; do
	if grep -qx -- "$opt" <<<"$table"; then ok; else bad "--help names $opt, which OPTIONS does not have"; fi
done
for iface in ebpfevents ebpfzmqevents; do
	calls=$("$ebpfdump" --extcap-interface $iface --extcap-config | grep -oE 'call=--[a-z0-9-]+' | cut -d= -f2 | sort -u)
	check "$iface's dialog calls options ($(wc -w <<<"$calls"))" '[ "$(wc -w <<<"$calls")" -ge 5 ]'
	for opt in $calls; do
		if grep -qx -- "$opt" <<<"$table"; then ok; else bad "$iface's dialog calls $opt, which OPTIONS does not have"; fi
	done
done
if command -v groff >/dev/null; then
	LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$man" 2>"$E2E_TMP/groff.err"
	check "ebpfdump(1) renders without warnings: $(head -2 "$E2E_TMP/groff.err")" \
		'[ ! -s "$E2E_TMP/groff.err" ]'
fi

images=$(grep -oE '\]\(images/[^)]+\)' "$guide" | sed 's/^](//; s/)$//' | sort -u)
check "the user guide shows pictures ($(wc -w <<<"$images"))" '[ "$(wc -w <<<"$images")" -ge 4 ]'
for img in $images; do
	if [ -f "$src/docs/$img" ] && head -c 8 "$src/docs/$img" | grep -q PNG; then
		ok
	else
		bad "user guide picture $img is missing or not a PNG"
	fi
done
fields=$(grep -oE '\bebpf\.[a-z_0-9]+' "$guide" | sort -u)
for f in $fields; do
	case $f in ebpf.lua | ebpf.colorfilters) continue ;; esac
	if grep -qF "\"$f\"" "$lua"; then ok; else bad "user guide mentions $f, which ebpf.lua does not define"; fi
done
finish
