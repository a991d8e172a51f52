#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Golden tests of dissector/ebpf.lua: decode mkcapture's captures with tshark and compare
# with a table of (name, capture, mode, filter, expression, expected output).
#
#   dissector_golden.sh MKCAPTURE EBPF_LUA GOLDEN_TSV [CAPTURE...]
#
# CAPTURE limits the run to rows of those captures (events, malformed, merged, all, or
# "-" for rows that need no capture). Modes:
#   fields  tshark -Y FILTER -T fields -e EXPR... ; fields joined by '|', lines by ';'
#   count   number of frames matching FILTER
#   type    the FT_ type of field EXPR (tshark -G fields)
#   tree    lines of tshark -V (FILTER applied) matching the regex EXPR, trimmed, ';'-joined
#   expert  summary lines of tshark -z expert ("Errors (13)"), ';'-joined
# FILTER "-" means no display filter. Besides the table, every capture must decode
# without a Lua error and without anything on stderr but tshark's root warning.
set -u

if [ $# -lt 3 ]; then
	echo "usage: $0 MKCAPTURE EBPF_LUA GOLDEN_TSV [CAPTURE...]" >&2
	exit 2
fi
mkcapture=$1
lua=$2
golden=$3
shift 3
only=" $* "
tshark=${TSHARK:-tshark}

work=$(mktemp -d "${TMPDIR:-/tmp}/ebpf-dissector.$$.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

# A scratch HOME: no personal plugins or preferences of whoever runs the tests.
mkdir -p "$work/home-clean"
export HOME=$work/home-clean

# How tshark gets the dissector: the source file. If a copy is installed in the global
# Lua plugin folder, Wireshark loads that one first and a second Proto("ebpf") fails;
# then the installed copy is used, but only when it is the same file as the source.
load=(-X "lua_script:$lua")
if "$tshark" -G protocols 2>/dev/null </dev/null | awk -F'\t' '$3 == "ebpf" { f = 1 } END { exit !f }'; then
	global_lua=$("$tshark" -G folders 2>/dev/null </dev/null |
		sed -n 's/^Global Lua Plugins:[[:space:]]*//p')
	installed=$(find "$global_lua" -name ebpf.lua 2>/dev/null | head -n 1)
	if [ -n "$installed" ] && cmp -s "$installed" "$lua"; then
		echo "note: testing the installed copy $installed (same as $lua)"
		load=()
	else
		echo "FAIL an installed ebpf.lua (${installed:-unknown path}) differs from $lua;" \
			"reinstall or remove it to test the source"
		exit 1
	fi
fi

failed=0
passed=0
joined() {
	paste -sd ';' -
}
fail() {
	echo "FAIL $*"
	failed=$((failed + 1))
}

wanted() {
	[ "$only" = "  " ] || [[ $only == *" $1 "* ]]
}

# The captures; "all" holds events and merged packets together.
declare -A capture_args=(
	[events]="--events"
	[malformed]="--malformed"
	[merged]="--merged"
	[all]="--events --merged"
	[random]="--random 1500"
)
for cap in "${!capture_args[@]}"; do
	wanted "$cap" || continue
	# shellcheck disable=SC2086 # the options are meant to split
	if ! "$mkcapture" ${capture_args[$cap]} "$work/$cap.pcapng"; then
		fail "mkcapture ${capture_args[$cap]}"
		continue
	fi
	# No Lua error in one-line, verbose and two-pass output; stderr clean.
	for opts in "" "-V" "-2 -V"; do
		# shellcheck disable=SC2086
		"$tshark" -r "$work/$cap.pcapng" "${load[@]}" $opts \
			>"$work/out" 2>"$work/err"
		grep -v '^Running as user "root" and group "root"' "$work/err" >"$work/err.real"
		if [ -s "$work/err.real" ]; then
			fail "$cap tshark $opts stderr: $(head -c 500 "$work/err.real")"
		elif grep -q 'Lua Error' "$work/out"; then
			fail "$cap tshark $opts: $(grep -m1 'Lua Error' "$work/out")"
		else
			passed=$((passed + 1))
		fi
	done
done

# The dissector and the C codec (record_decode, via mkcapture --decode) must reject the
# same event frames, for the same reason in the same words (docs/event-format.md 5.5).
for cap in events malformed random; do
	if ! wanted "$cap" || [ ! -f "$work/$cap.pcapng" ]; then
		continue
	fi
	# shellcheck disable=SC2086
	"$mkcapture" ${capture_args[$cap]} --decode "$work/decode.pcapng" >"$work/decoded"
	sed -n 's/^\([0-9]*\) rejected: /\1:/p' "$work/decoded" | joined >"$work/codec_rejects"
	"$tshark" -r "$work/$cap.pcapng" "${load[@]}" -Y ebpf.malformed -T fields \
		-E separator=: -e frame.number -e _ws.expert.message 2>/dev/null </dev/null |
		joined >"$work/lua_rejects"
	if cmp -s "$work/codec_rejects" "$work/lua_rejects"; then
		passed=$((passed + 1))
	else
		fail "$cap: codec rejects frames '$(head -c 300 "$work/codec_rejects")'," \
			"dissector '$(head -c 300 "$work/lua_rejects")'"
	fi
	# ... and show of every accepted one what the codec decoded: the last of repeated
	# items (5.3), addresses of the family that wins.
	awk '$2 == "accepted" { $2 = ""; print }' "$work/decoded" | tr -s ' ' >"$work/codec_values"
	"$tshark" -r "$work/$cap.pcapng" "${load[@]}" -Y 'ebpf.event' -T fields \
		-E occurrence=a -E aggregator=, -e frame.number -e ebpf.pid -e ebpf.tid -e ebpf.lport \
		-e ebpf.rport -e ebpf.bytes_sent -e ebpf.laddr -e ebpf.laddr6 -e ebpf.raddr \
		-e ebpf.raddr6 2>/dev/null </dev/null | awk -F'\t' '{
			for (i = 2; i <= 6; i++) if ($i == "") $i = "-"
			l = $7 $8; r = $9 $10
			print $1, $2, $3, $4, $5, $6, (l == "" ? "-" : l), (r == "" ? "-" : r)
		}' >"$work/lua_values"
	if cmp -s "$work/codec_values" "$work/lua_values"; then
		passed=$((passed + 1))
	else
		fail "$cap: values of accepted records differ (codec <, dissector >):" \
			"$(diff "$work/codec_values" "$work/lua_values" | head -5)"
	fi
done

# Merged-packet comments likewise: the dissector and event_comment_parse (mkcapture
# --decode) reject the same lines for the same reason (docs/event-format.md 9) and find
# the same sender and receiver pids in the others.
for cap in merged random; do
	if ! wanted "$cap" || [ ! -f "$work/$cap.pcapng" ]; then
		continue
	fi
	# shellcheck disable=SC2086
	"$mkcapture" ${capture_args[$cap]} --decode "$work/decode.pcapng" |
		grep ' comment ' >"$work/codec_comments"
	"$tshark" -r "$work/$cap.pcapng" "${load[@]}" -V 2>/dev/null </dev/null | awk '
		function flush() {
			if (frame == "")
				return
			if (bad != "")
				print frame " comment rejected: " bad
			else if (tagged)
				print frame " comment accepted " src " " dst
		}
		/^Frame [0-9]+:/ {
			flush()
			frame = $2; sub(/:$/, "", frame)
			src = "-"; dst = "-"; bad = ""; tagged = 0; side = ""
		}
		/^eBPF:/ { tagged = 1 }
		/^    (Sender|Receiver): / { side = $1 }
		/^        \[PID: [0-9]+\]$/ {
			v = $2; gsub(/[^0-9]/, "", v)
			if (side == "Sender:") src = v; else if (side == "Receiver:") dst = v
		}
		/^    \[Expert Info \(Warning\/Malformed\): Malformed ebpf:1 comment: / {
			bad = $0
			sub(/.*Malformed ebpf:1 comment: /, "", bad)
			sub(/\]$/, "", bad)
			sub(/ in \047.*/, "", bad)
		}
		END { flush() }' >"$work/lua_comments"
	if [ ! -s "$work/codec_comments" ]; then
		fail "$cap: mkcapture --decode printed no comment verdicts"
	elif cmp -s "$work/codec_comments" "$work/lua_comments"; then
		passed=$((passed + 1))
	else
		fail "$cap: comment verdicts differ (codec <, dissector >):" \
			"$(diff "$work/codec_comments" "$work/lua_comments" | head -6)"
	fi
done

# Installed as a plugin (personal plugin folder under a scratch HOME) it must decode the
# same as with -X lua_script: no dependence on being loaded by path.
if wanted all && [ -f "$work/all.pcapng" ] && [ ${#load[@]} -gt 0 ]; then
	mkdir -p "$work/home/.local/lib/wireshark/plugins"
	cp "$lua" "$work/home/.local/lib/wireshark/plugins/ebpf.lua"
	"$tshark" -r "$work/all.pcapng" "${load[@]}" -T fields -e _ws.col.Info \
		-e ebpf.comm >"$work/by_path" 2>/dev/null </dev/null
	HOME=$work/home "$tshark" -r "$work/all.pcapng" -T fields -e _ws.col.Info -e ebpf.comm \
		>"$work/by_plugin" 2>/dev/null </dev/null
	if ! grep -q 'TCP_Connect curl' "$work/by_plugin" ||
		! cmp -s "$work/by_path" "$work/by_plugin"; then
		fail "all: plugin folder load differs from -X lua_script"
	else
		passed=$((passed + 1))
	fi
	# Installed AND named with -X lua_script (issue 21.9): the second copy steps aside
	# without "two protocols with the same description", and its statistics arguments
	# still reach the copy that serves.
	HOME=$work/home "$tshark" -r "$work/all.pcapng" "${load[@]}" -T fields -e _ws.col.Info \
		-e ebpf.comm >"$work/by_both" 2>"$work/both_err" </dev/null
	HOME=$work/home "$tshark" -q -r "$work/all.pcapng" "${load[@]}" \
		-X lua_script1:stats=processes -X lua_script1:tsv >"$work/both_stats" 2>&1 </dev/null
	if grep -v '^Running as user' "$work/both_err" | grep -q . ||
		grep -q 'Lua Error\|two protocols' "$work/by_both" "$work/both_stats" ||
		! cmp -s "$work/by_path" "$work/by_both"; then
		fail "all: plugin installed plus -X lua_script: $(head -c 300 "$work/both_err" "$work/both_stats")"
	elif ! grep -q "^curl	4242	" "$work/both_stats"; then
		fail "all: statistics arguments lost when loaded twice: $(head -c 300 "$work/both_stats")"
	else
		passed=$((passed + 1))
	fi
fi

run_tshark() {
	local cap=$1 filter=$2
	shift 2
	if [ "$filter" = "-" ]; then
		"$tshark" -r "$work/$cap.pcapng" "${load[@]}" "$@" 2>/dev/null </dev/null
	else
		"$tshark" -r "$work/$cap.pcapng" "${load[@]}" -Y "$filter" "$@" 2>/dev/null </dev/null
	fi
}

# Rows are read once; "fields" rows filtered by one frame number are answered from one
# tshark run per capture (a tshark start costs ~0.4 s), every other row runs tshark.
names=() caps=() modes=() filters=() exprs=() expecteds=()
declare -A dump_fields=()
while IFS=$'\t' read -r name cap mode filter expr expected; do
	case "$name" in '' | '#'*) continue ;; esac
	wanted "$cap" || continue
	names+=("$name") caps+=("$cap") modes+=("$mode") filters+=("$filter")
	exprs+=("$expr") expecteds+=("$expected")
	if [ "$mode" = fields ] && [[ $filter =~ ^frame\.number\ ==\ [0-9]+$ ]]; then
		dump_fields[$cap]+=" $expr"
	fi
done <"$golden"

# Per capture: "$work/$cap.dump" has one line per frame, frame.number first, then the
# fields in the order of "$work/$cap.cols" (one name per line), separated by \x1f.
for cap in "${!dump_fields[@]}"; do
	[ -f "$work/$cap.pcapng" ] || continue
	# shellcheck disable=SC2086 # field names have no spaces
	printf '%s\n' ${dump_fields[$cap]} | awk '!seen[$0]++' >"$work/$cap.cols"
	args=(-T fields -E "separator=$(printf '\037')" -E occurrence=a -E 'aggregator=,' -e frame.number)
	while read -r e; do
		args+=(-e "$e")
	done <"$work/$cap.cols"
	run_tshark "$cap" - "${args[@]}" >"$work/$cap.dump"
done

# The fields of frame N from the dump, '|'-joined; fails when the frame is missing.
from_dump() {
	local cap=$1 frame=$2 expr=$3
	awk -F'\037' -v frame="$frame" -v want="$expr" -v cols="$work/$cap.cols" '
		BEGIN {
			n = 0
			while ((getline c < cols) > 0)
				index_of[c] = ++n + 1
			k = split(want, w, " ")
		}
		$1 == frame {
			line = ""
			for (i = 1; i <= k; i++)
				line = line (i > 1 ? "|" : "") $(index_of[w[i]])
			print line
			found = 1
		}
		END { exit !found }' "$work/$cap.dump"
}

for i in "${!names[@]}"; do
	name=${names[$i]} cap=${caps[$i]} mode=${modes[$i]} filter=${filters[$i]}
	expr=${exprs[$i]} expected=${expecteds[$i]}
	if [ "$cap" != "-" ] && [ ! -f "$work/$cap.pcapng" ]; then
		fail "$name: no capture $cap"
		continue
	fi
	case "$mode" in
	fields)
		if [[ $filter =~ ^frame\.number\ ==\ ([0-9]+)$ ]]; then
			actual=$(from_dump "$cap" "${BASH_REMATCH[1]}" "$expr")
		else
			args=(-T fields -E separator='|' -E occurrence=a -E 'aggregator=,')
			for e in $expr; do
				args+=(-e "$e")
			done
			actual=$(run_tshark "$cap" "$filter" "${args[@]}" | joined)
		fi
		;;
	count)
		actual=$(run_tshark "$cap" "$filter" -T fields -e frame.number | wc -l)
		;;
	type)
		if [ ! -f "$work/fields" ]; then
			# Only our protocol's lines: the whole list has ~250k fields.
			"$tshark" -G fields "${load[@]}" 2>/dev/null </dev/null |
				awk -F'\t' '$1 == "F" && $5 == "ebpf"' >"$work/fields"
		fi
		actual=$(awk -F'\t' -v f="$expr" '$3 == f { print $4 }' "$work/fields" | joined)
		;;
	tree)
		actual=$(run_tshark "$cap" "$filter" -V | grep -E -- "$expr" |
			sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' | joined)
		;;
	expert)
		actual=$(run_tshark "$cap" "$filter" -q -z expert |
			grep -E '^(Errors|Warns|Notes|Chats|Comments) \(' | joined)
		;;
	*)
		fail "$name: unknown mode $mode"
		continue
		;;
	esac
	if [ "$actual" = "$expected" ]; then
		passed=$((passed + 1))
	else
		fail "$name ($cap, $mode, $filter, $expr)"
		echo "  expected: $expected"
		echo "  actual:   $actual"
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
