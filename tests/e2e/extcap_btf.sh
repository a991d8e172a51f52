#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A kernel without its own BTF (issue 16): in a private mount namespace an
# empty file hides /sys/kernel/btf/vmlinux (the host is left alone). Then a
# capture without --btf exits 1 and names --btf; --btf with a file that is
# not BTF exits 1 and says so; --hooks fentry exits 1 (fexit needs the
# kernel's own BTF); and --btf with a copy of the kernel's BTF captures a
# TCP connection between two namespaces with its owners (the CO-RE
# relocations came from the file).
#
# usage: extcap_btf.sh EBPFDUMP SOURCE_DIR TOOLS_DIR   (as root)
set -uo pipefail
tool=$1 src=$2 tools=$3
if [ -z "${BTF_INNER:-}" ]; then
	BTF_INNER=1 exec unshare -m bash "$0" "$@"
fi
. "$src/tests/e2e/lib.sh"
need_root
need_tools tshark
T=$E2E_TMP
use_dissector "$src"
fields() { tshark -r "$1" "${tshark_lua[@]}" -Y "$2" -T fields "${@:3}" 2>/dev/null; }
kv() { sed -n "s/.*[ ^]$2=\([^ ]*\).*/\1/p" "$1" | head -1; }
[ -r /sys/kernel/btf/vmlinux ] || { echo "SKIP: this kernel has no BTF to copy"; exit 77; }
cp /sys/kernel/btf/vmlinux "$T/vmlinux.btf"
: >"$T/empty"
mount --bind "$T/empty" /sys/kernel/btf/vmlinux || { echo "SKIP: cannot hide the kernel's BTF"; exit 77; }
make_netns_pair || { echo "FAIL: cannot make the namespaces"; exit 1; }

run() { # NAME ARGS...: a one-second capture; its exit status in $rc
	local name=$1
	shift
	"$tool" --capture --extcap-interface ebpfevents --fifo "$T/$name.pcapng" --duration 1 "$@" \
		>/dev/null 2>"$T/$name.err"
	rc=$?
}
run none
check "no BTF, no --btf: exit 1 ($rc)" '[ "$rc" = 1 ]'
check "no BTF: the message names --btf ($(head -1 "$T/none.err"))" \
	'grep -q "no BTF.*--btf FILE" "$T/none.err"'
run notbtf --btf /etc/hostname
check "--btf of a file that is not BTF: exit 1 ($rc)" '[ "$rc" = 1 ]'
check "--btf of a file that is not BTF: says so ($(head -1 "$T/notbtf.err"))" \
	'grep -q "cannot read BTF from --btf /etc/hostname" "$T/notbtf.err"'
run fentry --btf "$T/vmlinux.btf" --hooks fentry
check "--hooks fentry without the kernel's own BTF: exit 1 ($rc)" '[ "$rc" = 1 ]'
check "--hooks fentry: says it needs the kernel's own BTF ($(head -1 "$T/fentry.err"))" \
	'grep -q "needs the kernel.s own BTF" "$T/fentry.err"'

"$tool" --capture --extcap-interface ebpfevents --btf "$T/vmlinux.btf" --debug \
	--events TCP_Connect,TCP_Accept,TCP_Close --fifo "$T/ok.pcapng" --debug-file "$T/ok.pcapng.log" >/dev/null 2>"$T/ok.err" &
cap=$!
E2E_PIDS+=("$cap")
wait_started "$T/ok.pcapng.log"
sleep 0.5
ip netns exec "$NS_S" "$tools/tcp_server" --listen "$V4_S" --port 7611 --count 1 >"$T/srv" 2>&1 &
E2E_PIDS+=("$!")
wait_for_line "$T/srv" listening
ip netns exec "$NS_C" "$tools/tcp_client" --connect "$V4_S" --port 7611 >"$T/cli" 2>&1
wait_for_line "$T/srv" accepted
sleep 0.5
kill -INT "$cap"
wait "$cap"
rc=$?
check "--btf FILE: capture exits 0 ($rc; $(grep -o 'loaded ([a-z -]* hooks' "$T/ok.err"))" '[ "$rc" = 0 ]'
spid=$(kv "$T/srv" pid) cpid=$(kv "$T/cli" pid)
check "--btf FILE: TCP_Connect owned by the client ($cpid)" \
	'[ -n "$(fields "$T/ok.pcapng" "ebpf.event == \"TCP_Connect\" && ebpf.pid == $cpid && ebpf.rport == 7611" -e ebpf.pid)" ]'
check "--btf FILE: TCP_Accept owned by the server ($spid)" \
	'[ -n "$(fields "$T/ok.pcapng" "ebpf.event == \"TCP_Accept\" && ebpf.pid == $spid && ebpf.lport == 7611" -e ebpf.pid)" ]'
check "--btf FILE: two TCP_Close of the connection" \
	'[ "$(fields "$T/ok.pcapng" "ebpf.event == \"TCP_Close\" && (ebpf.lport == 7611 || ebpf.rport == 7611)" -e ebpf.pid | wc -l)" = 2 ]'
finish
