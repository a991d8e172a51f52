#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The capabilities install lends nobody root's eyes: a test user runs a
# copy of ebpfdump holding the capabilities -DEBPFDUMP_SETCAP=ON grants.
#   --merge of a root-only capture (0600 in a 0700 directory) fails with
#   "Permission denied" and prints none of its bytes; so does a root-only
#   text file; --merge runs with no capability at all; --help too;
#   --debug-file and --fifo into a root-only directory are refused; a
#   capture still loads its probes and writes the user's own file.
# Without the capabilities, the same user gets the one-line message naming
# them once ("ebpfdump: missing capabilities ...", not "ebpfdump: ebpfdump").
#
# usage: faults_borrowed.sh EBPFDUMP SOURCE_DIR TOOLS_DIR   (as root)
set -uo pipefail
tool=$1 src=$2 tools=$3
. "$src/tests/e2e/lib.sh"
need_root
need_tools setcap useradd userdel runuser tshark
user=ebd$E2E_SFX
useradd --no-create-home --shell /bin/sh "$user" || { bad "useradd $user"; finish; exit; }
cleanup_user() { userdel "$user" 2>/dev/null; }
trap 'cleanup_user; e2e_cleanup' EXIT # lib.sh's cleanup too: E2E_TMP, daemons
caps=cap_bpf,cap_perfmon,cap_dac_read_search,cap_sys_admin,cap_sys_ptrace,cap_net_raw,cap_net_admin

bin=$E2E_TMP/bin
mkdir -p "$bin" "$E2E_TMP/secret" "$E2E_TMP/mine"
chmod 0755 "$E2E_TMP" "$bin"
cp "$tool" "$bin/ebpfdump-caps"
cp "$tool" "$bin/ebpfdump-plain"
chmod 0755 "$bin"/ebpfdump-*
setcap "$caps+ep" "$bin/ebpfdump-caps" || { bad "setcap"; finish; exit; }
chown "$user" "$E2E_TMP/mine"

# Root's secrets: a real capture and a text file, 0600 in a 0700 directory.
chmod 0700 "$E2E_TMP/secret"
printf 'root-only-secret-%s\n' "$E2E_SFX" >"$E2E_TMP/secret/notes.txt"
"$tool" --capture --extcap-interface ebpfevents --fifo "$E2E_TMP/secret/events.pcapng" \
	--duration 1 >/dev/null 2>&1
cp "$E2E_TMP/secret/events.pcapng" "$E2E_TMP/secret/packets.pcapng"
chmod 0600 "$E2E_TMP/secret"/*
as_user() { runuser -u "$user" -- "$@"; }

as_user "$bin/ebpfdump-caps" --merge "$E2E_TMP/secret/packets.pcapng" "$E2E_TMP/secret/events.pcapng" \
	--fifo "$E2E_TMP/mine/stolen.pcapng" >/dev/null 2>"$E2E_TMP/merge.err"
rc=$?
check "--merge of root-only files fails ($rc: $(head -c 200 "$E2E_TMP/merge.err"))" \
	'[ $rc != 0 ] && grep -q "Permission denied" "$E2E_TMP/merge.err"'
check "nothing of them reached the user's file" \
	'! [ -s "$E2E_TMP/mine/stolen.pcapng" ] || ! tshark -r "$E2E_TMP/mine/stolen.pcapng" -c 1 2>/dev/null | grep -q .'
as_user "$bin/ebpfdump-caps" --merge "$E2E_TMP/secret/notes.txt" "$E2E_TMP/secret/notes.txt" \
	--fifo "$E2E_TMP/mine/notes.pcapng" >/dev/null 2>"$E2E_TMP/notes.err"
check "a root-only text file: refused, none of its bytes printed ($(head -c 200 "$E2E_TMP/notes.err"))" \
	'! grep -qi -e "root-only" -e "72 6f 6f 74" -e "726f6f74" "$E2E_TMP/notes.err" && grep -q "Permission denied" "$E2E_TMP/notes.err"'

# --merge holds no capability: its status as it runs (reading a fifo that
# nobody writes keeps it there).
mkfifo "$E2E_TMP/mine/wait.fifo" && chown "$user" "$E2E_TMP/mine/wait.fifo"
as_user "$bin/ebpfdump-caps" --merge "$E2E_TMP/mine/wait.fifo" "$E2E_TMP/mine/wait.fifo" \
	--fifo "$E2E_TMP/mine/w.pcapng" >/dev/null 2>&1 &
mpid=$!
E2E_PIDS+=("$mpid")
eff= prm=
for _ in $(seq 50); do
	epid=$(pgrep -u "$user" -f ebpfdump-caps | head -1) # runuser's child
	[ -n "$epid" ] || { sleep 0.1; continue; }
	eff=$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$epid/status" 2>/dev/null)
	prm=$(sed -n 's/^CapPrm:[[:space:]]*//p' "/proc/$epid/status" 2>/dev/null)
	[ "$eff" = 0000000000000000 ] && break
	sleep 0.1
done
check "--merge runs with no effective capability ($eff)" '[ "$eff" = 0000000000000000 ]'
check "nor a permitted one ($prm)" '[ "$prm" = 0000000000000000 ]'
pkill -u "$user" -f ebpfdump-caps 2>/dev/null
exec 9<>"$E2E_TMP/mine/wait.fifo" # lets a blocked open return
wait "$mpid" 2>/dev/null
exec 9>&-

as_user "$bin/ebpfdump-caps" --capture --extcap-interface ebpfevents \
	--debug-file "$E2E_TMP/secret/debug.log" --fifo "$E2E_TMP/mine/d.pcapng" --duration 1 \
	>/dev/null 2>"$E2E_TMP/debug.err"
check "--debug-file into a root-only directory is refused ($(head -c 200 "$E2E_TMP/debug.err"))" \
	'! [ -e "$E2E_TMP/secret/debug.log" ] && grep -q "Permission denied" "$E2E_TMP/debug.err"'
as_user "$bin/ebpfdump-caps" --capture --extcap-interface ebpfevents \
	--fifo "$E2E_TMP/secret/out.pcapng" --duration 1 >/dev/null 2>"$E2E_TMP/out.err"
check "--fifo into a root-only directory is refused ($(head -c 200 "$E2E_TMP/out.err"))" \
	'! [ -e "$E2E_TMP/secret/out.pcapng" ]'
as_user "$bin/ebpfdump-caps" --capture --extcap-interface ebpfevents \
	--fifo "$E2E_TMP/mine/ok.pcapng" --duration 1 >/dev/null 2>"$E2E_TMP/ok.err"
rc=$?
check "with the capabilities a capture into the user's own file works ($rc: $(head -c 200 "$E2E_TMP/ok.err"))" \
	'[ $rc = 0 ] && tshark -r "$E2E_TMP/mine/ok.pcapng" -c 1 >/dev/null 2>&1'

as_user "$bin/ebpfdump-plain" --capture --extcap-interface ebpfevents \
	--fifo "$E2E_TMP/mine/no.pcapng" --duration 1 >/dev/null 2>"$E2E_TMP/plain.err"
check "without them: one line naming them, the program named once ($(head -c 120 "$E2E_TMP/plain.err"))" \
	'grep -q "^ebpfdump: missing capabilities CAP_BPF" "$E2E_TMP/plain.err" && ! grep -q "ebpfdump: ebpfdump" "$E2E_TMP/plain.err"'
finish
