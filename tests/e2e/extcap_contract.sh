#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# extcap contract test: --help, --extcap-interfaces, then --extcap-dlts and
# --extcap-config for every interface listed; every line is well formed,
# stdout holds only protocol sentences and stderr stays empty. Then bad
# command lines: each a one-line reason and exit code 2.
set -uo pipefail
tool=$1
tmp=$(mktemp -d /tmp/ebpfdump-contract.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if eval "$2"; then ok; else bad "$1"; fi; }

run() { # run NAME ARGS...: stdout in $tmp/NAME.out, stderr in .err, status in $rc
	local name=$1; shift
	"$tool" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"; rc=$?
}

run help --help
check "--help exits 0" '[ $rc = 0 ]'
check "--help prints usage" 'grep -q "^Usage: ebpfdump" "$tmp/help.out"'
check "--help mentions --capture" 'grep -q -- "--capture" "$tmp/help.out"'

run ifaces --extcap-interfaces --extcap-version=4.0
check "--extcap-interfaces exits 0" '[ $rc = 0 ]'
check "--extcap-interfaces: stderr empty" '[ ! -s "$tmp/ifaces.err" ]'
check "--extcap-interfaces: extcap line first" 'head -1 "$tmp/ifaces.out" | grep -qE "^extcap \{version=[0-9]+\.[0-9]+\.[0-9]+\}"'
check "--extcap-interfaces: only extcap/interface/control sentences" \
	'! grep -vE "^(extcap|interface|control|value) (\{[a-z]+=[^{}]*\})+$" "$tmp/ifaces.out"'
check "--extcap-interfaces: eBPF Events listed" \
	'grep -qx "interface {value=ebpfevents}{display=eBPF Events}" "$tmp/ifaces.out"'

ifaces=$(sed -n 's/^interface {value=\([^}]*\)}.*/\1/p' "$tmp/ifaces.out")
for i in $ifaces; do
	run "dlts-$i" --extcap-interface "$i" --extcap-dlts
	check "$i --extcap-dlts exits 0" '[ $rc = 0 ]'
	check "$i --extcap-dlts: stderr empty" '[ ! -s "$tmp/dlts-$i.err" ]'
	check "$i --extcap-dlts: one well-formed dlt line" \
		'[ "$(grep -cE "^dlt \{number=[0-9]+\}\{name=[^{}]+\}\{display=[^{}]+\}$" "$tmp/dlts-$i.out")" -ge 1 ] && ! grep -qv "^dlt " "$tmp/dlts-$i.out"'

	run "config-$i" --extcap-interface "$i" --extcap-config
	check "$i --extcap-config exits 0" '[ $rc = 0 ]'
	check "$i --extcap-config: stderr empty" '[ ! -s "$tmp/config-$i.err" ]'
	check "$i --extcap-config: only arg/value sentences" \
		'! grep -vE "^(arg|value) (\{[a-z]+=[^{}]*\})+$" "$tmp/config-$i.out"'
	check "$i --extcap-config: every arg has number, call, display, type" \
		'! grep "^arg " "$tmp/config-$i.out" | grep -vE "\{number=[0-9]+\}.*\{call=--[a-z-]+\}.*\{display=[^}]+\}.*\{type=[a-z]+\}"'
	args=$(sed -n 's/^arg {number=\([0-9]*\)}.*/\1/p' "$tmp/config-$i.out" | sort -u | tr '\n' ' ')
	vals=$(sed -n 's/^value {arg=\([0-9]*\)}.*/\1/p' "$tmp/config-$i.out" | sort -u)
	for v in $vals; do
		check "$i --extcap-config: value refers to arg $v which exists" '[[ " $args" == *" $v "* ]]'
	done
	# Wireshark 4.0's dialog must accept every argument as offered, or it
	# cannot be saved: integer/unsigned ranges within a 32-bit int (Qt's
	# validator) and a default inside the range (an empty number is
	# invalid); a validation regex that accepts the default, or the empty
	# field when there is none; a selector or radio with one default value.
	while IFS= read -r line; do
		num=$(sed -n 's/^arg {number=\([0-9]*\)}.*/\1/p' <<<"$line")
		type=$(sed -n 's/.*{type=\([a-z]*\)}.*/\1/p' <<<"$line")
		def=$(sed -n 's/.*{default=\([^}]*\)}.*/\1/p' <<<"$line")
		range=$(sed -n 's/.*{range=\([^}]*\)}.*/\1/p' <<<"$line")
		valid=$(sed -n 's/.*{validation=\([^}]*\)}.*/\1/p' <<<"$line")
		what="$i arg $num ($type)"
		case $type in
		integer | unsigned | long | double)
			check "$what: has a default" '[ -n "$def" ]'
			if [ -n "$range" ]; then
				lo=${range%,*} hi=${range#*,}
				check "$what: range $range within a 32-bit int" \
					'[ "$lo" -ge -2147483648 ] && [ "$hi" -le 2147483647 ]'
				check "$what: default $def within $range" \
					'[ -n "$def" ] && [ "$def" -ge "$lo" ] && [ "$def" -le "$hi" ]'
			fi
			;;
		selector | radio)
			check "$what: one default value" \
				'[ "$(grep -c "^value {arg=$num}.*{default=true}" "$tmp/config-$i.out")" = 1 ]'
			;;
		multicheck)
			# Wireshark 4.0 takes a multicheck's saved preference (empty when
			# never saved) over the values' defaults: save=false keeps them.
			check "$what: values' defaults honoured (save=false)" '[[ $line == *"{save=false}"* ]]'
			;;
		esac
		if [ -n "$valid" ]; then
			check "$what: validation $valid accepts '${def}'" 'grep -qP -- "$valid" <<<"$def"'
		fi
	done < <(grep "^arg " "$tmp/config-$i.out")
	# Every call= option must be accepted by the parser (no unknown options).
	for call in $(sed -n 's/^arg .*{call=\(--[a-z-]*\)}.*/\1/p' "$tmp/config-$i.out"); do
		# In $tmp: "--debug-file --help" writes a file named --help.
		(cd "$tmp" && run opt "$call" --help 2>/dev/null)
		check "$i --extcap-config: $call is a known option" '! grep -q "unknown option" "$tmp/opt.err"'
	done
done

# Bad command lines: exit 2, one line on stderr naming the problem, nothing on stdout.
expect_usage_error() { # NAME PATTERN ARGS...
	local name=$1 pattern=$2; shift 2
	run "$name" "$@"
	check "$name: exit 2" '[ $rc = 2 ]'
	check "$name: one line on stderr" '[ "$(wc -l <"$tmp/$name.err")" = 1 ]'
	check "$name: names the cause ($pattern)" 'grep -q -- "$pattern" "$tmp/$name.err"'
	check "$name: stdout empty" '[ ! -s "$tmp/$name.out" ]'
}
expect_usage_error unknown-iface "unknown interface 'eth99'" --extcap-interface eth99 --extcap-dlts
expect_usage_error unknown-option "unknown option '--frobnicate'" --frobnicate
expect_usage_error bad-events "unknown event type 'TCP_Bogus'" --capture --extcap-interface ebpfevents --fifo - --events TCP_Connect,TCP_Bogus
expect_usage_error empty-events "lists no event type" --capture --extcap-interface ebpfevents --fifo - --events ,
expect_usage_error ringbuf-range "expected a number from 1 to 1024" --capture --extcap-interface ebpfevents --fifo - --ring-buffer-size 4096
expect_usage_error ringbuf-pow2 "power of two" --capture --extcap-interface ebpfevents --fifo - --ring-buffer-size 3
expect_usage_error packet-comment "expected compact, full or brief" --capture --extcap-interface ebpfevents --fifo - --packet-comment short
expect_usage_error duration-neg "invalid value '-5' for --duration" --capture --extcap-interface ebpfevents --fifo - --duration -5
# Bad values of every kind (issue 22): empty, leading space, sign, overflow,
# conflicting options, a host label that would break the section header.
cap=(--capture --extcap-interface ebpfevents --fifo -)
while IFS='|' read -r name pattern opt val; do
	expect_usage_error "bad-$name" "$pattern" "${cap[@]}" "$opt" "$val"
done <<'TABLE'
pid-empty|invalid value '' for --pid|--pid|
pid-space|invalid value ' 5' for --pid|--pid| 5
pid-plus|invalid value '+5' for --pid|--pid|+5
pid-zero|invalid value '0' for --pid|--pid|0
pid-overflow|invalid value '4294967296' for --pid|--pid|4294967296
pid-tree-empty|invalid value '' for --pid-tree|--pid-tree|
pid-tree-space|invalid value ' 5' for --pid-tree|--pid-tree| 5
uid-empty|invalid value '' for --uid|--uid|
uid-space|invalid value ' 0' for --uid|--uid| 0
cgroup-empty|invalid value '' for --cgroup|--cgroup|
cgroup-space|invalid value ' 7' for --cgroup|--cgroup| 7
cgroup-overflow|invalid value '18446744073709551616' for --cgroup|--cgroup|18446744073709551616
duration-space|invalid value ' 5' for --duration|--duration| 5
buffer-space|invalid value ' 5' for --buffer-size|--buffer-size| 5
window-space|invalid value ' 5' for --reorder-window|--reorder-window| 5
linger-space|invalid value ' 5' for --linger|--linger| 5
snaplen-hex|invalid value '0x100' for --snaplen|--snaplen|0x100
flows-trailing|invalid value '2048k' for --flows|--flows|2048k
udp-interval-space|invalid value ' 100' for --udp-interval|--udp-interval| 100
ringbuf-space|invalid value ' 8' for --ring-buffer-size|--ring-buffer-size| 8
netns-empty|--netns needs|--netns|
netns-space|invalid value ' 1' for --netns|--netns| 1
comm-empty|--comm needs a task name|--comm|
ifname-empty|--ifname needs an interface name|--ifname|
TABLE
expect_usage_error bad-pid-and-tree "exclude each other" "${cap[@]}" --pid 5 --pid-tree 6
expect_usage_error bad-tree-and-pid "exclude each other" "${cap[@]}" --pid-tree 6 --pid 5
expect_usage_error bad-host-newline "without control characters" "${cap[@]}" --host "$(printf 'a\nb')"
expect_usage_error bad-host-utf8 "UTF-8" "${cap[@]}" --host "$(printf 'h\xe9te')"
expect_usage_error bad-host-overlong "UTF-8" "${cap[@]}" --host "$(printf '\xc0\xafx')"
expect_usage_error bad-zmq-listen "go with --extcap-interface ebpfzmqevents" "${cap[@]}" --zmq-listen tcp://127.0.0.1:5556
expect_usage_error bad-zmq-connect "go with --extcap-interface ebpfzmqevents" "${cap[@]}" --zmq-connect tcp://127.0.0.1:5556
# ... while the good forms still parse (--help stops before any capture).
for good in "--pid 5" "--pid-tree 1" "--uid 0" "--cgroup 18446744073709551615" "--comm sshd" \
	"--netns any" "--netns self" "--ifname none" "--host h\xc3\xa9te" "--pid 5 --pid 6"; do
	# shellcheck disable=SC2046 # split the option from its value
	run good $(printf -- "$good") --help
	check "good: $good parses" '[ $rc = 0 ]'
done
expect_usage_error no-fifo "needs --fifo" --capture --extcap-interface ebpfevents
expect_usage_error no-iface "needs --extcap-interface" --extcap-config
expect_usage_error missing-value "needs a value" --extcap-interface
expect_usage_error nothing "nothing to do"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
