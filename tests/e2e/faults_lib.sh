# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the fault tests (sourced after lib.sh): the BPF programs and
# links of one ebpfdump process, found by our program names ("ebd_*") and
# the process's own fds, so that captures other tests run at the same time
# are never counted.

# IDs of the BPF programs process PID holds (its /proc/PID/fdinfo), on one
# line so that they can go into check's condition.
pid_prog_ids() {
	local f
	for f in /proc/"$1"/fdinfo/*; do
		sed -n 's/^prog_id:[[:space:]]*//p' "$f" 2>/dev/null
	done | sort -un | tr '\n' ' '
}

# IDs of BPF links whose program is one of the given program ids.
links_of_progs() {
	bpftool -j link list 2>/dev/null |
		python3 -c 'import json,sys
ids=set(int(a) for a in sys.argv[1:])
for l in json.load(sys.stdin):
    if l.get("prog_id") in ids: print(l["id"])' "$@"
}

# Wait (max 5 s) until none of the program ids is loaded any more.
wait_progs_gone() {
	local i id left
	for i in $(seq 50); do
		left=0
		for id in "$@"; do
			bpftool prog show id "$id" >/dev/null 2>&1 && left=1
		done
		[ $left = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# Wait (max 15 s) until process PID holds at least N BPF programs.
wait_pid_progs() { # PID N
	local i
	for i in $(seq 150); do
		[ "$(pid_prog_ids "$1" | wc -w)" -ge "$2" ] && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# Pinned objects under bpffs whose name says they are ours.
our_pins() { find /sys/fs/bpf -name '*ebd*' -o -name '*ebpfdump*' 2>/dev/null; }

# Wait up to MS milliseconds for PID (a child) to exit; sets rc to its
# status, or 124 after killing it with SIGKILL when it did not exit, so
# that a capture that ignores a signal fails the test instead of hanging it.
wait_exit() { # PID MS
	local i
	for i in $(seq $(($2 / 10))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.01
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -9 "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		rc=124
		return 1
	fi
	wait "$1"
	rc=$?
	return 0
}
