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
	# Every call= option must be accepted by the parser (no unknown options).
	for call in $(sed -n 's/^arg .*{call=\(--[a-z-]*\)}.*/\1/p' "$tmp/config-$i.out"); do
		run opt "$call" --help 2>/dev/null
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
expect_usage_error packet-comment "expected full or brief" --capture --extcap-interface ebpfevents --fifo - --packet-comment short
expect_usage_error duration-neg "invalid value '-5' for --duration" --capture --extcap-interface ebpfevents --fifo - --duration -5
expect_usage_error no-fifo "needs --fifo" --capture --extcap-interface ebpfevents
expect_usage_error no-iface "needs --extcap-interface" --extcap-config
expect_usage_error missing-value "needs a value" --extcap-interface
expect_usage_error nothing "nothing to do"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
