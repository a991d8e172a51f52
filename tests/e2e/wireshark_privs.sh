#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Capabilities instead of root: a copy of ebpfdump in a temp dir, run as the unprivileged
# user nobody the way Wireshark runs it (tshark with WIRESHARK_EXTCAP_DIR, which Wireshark
# honours for non-root users).
#  * without capabilities: it fails at once with one line naming the missing ones and the
#    setcap command that grants them, and tshark shows that line;
#  * with the capabilities `cmake -DEBPFDUMP_SETCAP=ON` grants: a capture works, with the
#    process details that need CAP_SYS_PTRACE, and once running it keeps only what the
#    loop needs (extcap/privs.h, PRIVS_KEEP_DURING_LOOP).
#
# usage: wireshark_privs.sh BUILD_DIR SOURCE_DIR TOOLS_DIR   (root)
set -uo pipefail
build=$1 src=$2 tools=$3
. "$src/tests/e2e/lib.sh"
. "$src/tests/e2e/wireshark_lib.sh"
need_root
need_tools tshark setcap setpriv
N=4321 M=1234

dir=$E2E_TMP/extcap
mkdir -p "$dir" "$E2E_TMP/plugins" "$E2E_TMP/home" "$E2E_TMP/out"
cp "$build/extcap/ebpfdump" "$dir/ebpfdump"
cp "$src/dissector/ebpf.lua" "$E2E_TMP/plugins/"
chmod 755 "$E2E_TMP" "$dir" "$dir/ebpfdump"
chmod 777 "$E2E_TMP/out" "$E2E_TMP/home"
chmod -R a+rX "$E2E_TMP/plugins"
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
		env HOME="$E2E_TMP/home" WIRESHARK_EXTCAP_DIR="$dir" \
		WIRESHARK_PLUGIN_DIR="$E2E_TMP/plugins" "$@"
}
caps=$(cache_var "$build" EBPFDUMP_SETCAP_CAPS)
progs_before=$(bpf_prog_count)

# --- without capabilities -------------------------------------------------------------
start=$(date +%s%N)
as_nobody "$dir/ebpfdump" --capture --extcap-interface ebpfevents \
	--fifo "$E2E_TMP/out/none.pcapng" --duration 5 >"$E2E_TMP/none.out" 2>"$E2E_TMP/none.err"
rc=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
msg=$(cat "$E2E_TMP/none.err")
check "without capabilities: exit status 1 ($rc)" '[ "$rc" = 1 ]'
check "without capabilities: fails at once (${elapsed_ms} ms)" '[ "$elapsed_ms" -lt 3000 ]'
check "the message is one line: $msg" '[ "$(wc -l <"$E2E_TMP/none.err")" = 1 ]'
check "the message names the missing capabilities" \
	'grep -q "missing capabilities CAP_BPF, CAP_PERFMON" <<<"$msg"'
check "the message gives the setcap command for this very file" \
	'grep -qF "setcap $caps+ep $dir/ebpfdump" <<<"$msg"'
check "nothing on stdout" '[ ! -s "$E2E_TMP/none.out" ]'
check "no BPF program left behind" 'wait_bpf_progs_back "$progs_before"'
# What a Wireshark user sees: tshark shows the extcap's message.
as_nobody timeout 30 tshark -i ebpfevents -a duration:3 -w "$E2E_TMP/out/none-ts.pcapng" \
	>/dev/null 2>"$E2E_TMP/tshark-none.err"
check "tshark as nobody shows it: $(grep -m1 -i cap_ "$E2E_TMP/tshark-none.err")" \
	'grep -q "missing capabilities CAP_BPF" "$E2E_TMP/tshark-none.err"'

# --- with the capabilities the install grants -------------------------------------------
setcap "$caps+ep" "$dir/ebpfdump" || { bad "setcap $caps+ep on the copy"; finish; exit; }
make_netns_pair || { bad "network namespaces"; finish; exit; }
cap=$E2E_TMP/out/capture.pcapng
as_nobody timeout 60 tshark -i ebpfevents -a duration:8 -w "$cap" >/dev/null \
	2>"$E2E_TMP/tshark.err" &
ts=$!
E2E_PIDS+=("$ts")
if ! wait_bpf_progs "$progs_before" 3; then
	bad "as nobody with $caps, ebpfdump did not attach its programs: $(grep -v '^Capturing' "$E2E_TMP/tshark.err" | head -3)"
	finish
	exit
fi
ok
ebpfdump_pid=$(pgrep -u nobody -x ebpfdump | head -1)
sleep 1
cap_eff=$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$ebpfdump_pid/status" 2>/dev/null)
# CAP_BPF (39), CAP_SYS_PTRACE (19), CAP_DAC_READ_SEARCH (2)
check "running ebpfdump dropped to CAP_BPF, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH ($cap_eff)" \
	'[ "$cap_eff" = 0000008000080004 ]'
ip netns exec "$NS_S" "$tools/tcp_server" --listen "$V4_S" --port 5201 --send $M --recv $N \
	--count 1 >"$E2E_TMP/srv" &
spid=$!
for _ in $(seq 50); do grep -q listening "$E2E_TMP/srv" 2>/dev/null && break; sleep 0.05; done
ip netns exec "$NS_C" "$tools/tcp_client" --connect "$V4_S" --port 5201 --send $N --recv $M \
	>"$E2E_TMP/cli"
wait "$spid"
wait "$ts"
check "tshark as nobody ended cleanly ($(grep -vE '^(Capturing|[0-9]+ packets)' "$E2E_TMP/tshark.err" | head -2))" \
	'[ $? = 0 ]'
check "no BPF program left behind" 'wait_bpf_progs_back "$progs_before"'
cpid=$(sed -n 's/.*[ ^]pid=\([0-9]*\).*/\1/p' "$E2E_TMP/cli" | head -1)
as_nobody tshark -r "$cap" -Y "ebpf.pid == ${cpid:-0} && ebpf.rport == 5201" -T fields \
	-E separator='|' -e ebpf.event -e ebpf.comm -e ebpf.exe -e ebpf.bytes_sent \
	>"$E2E_TMP/fields" 2>/dev/null
check "the unprivileged capture has the client's connect: $(head -1 "$E2E_TMP/fields")" \
	'grep -q "^TCP_Connect|tcp_client|" "$E2E_TMP/fields"'
check "and its executable (root's process: CAP_SYS_PTRACE at work)" \
	'grep -q "^TCP_Connect|tcp_client|.*/tcp_client|" "$E2E_TMP/fields"'
check "and the bytes at close" 'grep -q "^TCP_Close|tcp_client|.*|$N$" "$E2E_TMP/fields"'
finish
