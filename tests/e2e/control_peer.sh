# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by e2e tests that play Wireshark on ebpfdump's control pipes
# (--extcap-control-in/-out) with tests/wireshark_control_peer.

# control_pipes DIR: the pipes (DIR/cin, DIR/cout) and the peer's command
# input (DIR/cmds); made before ebpfdump starts.
control_pipes() { mkfifo "$1/cin" "$1/cout" "$1/cmds"; }

# control_peer_start PEER DIR LOG: PEER (wireshark_control_peer) on DIR's
# pipes, its output in DIR/peer.out, sent Wireshark's first message; fd 8
# stays open for more commands (close it with exec 8>&-). Then waits until
# ebpfdump's debug LOG says the probes are attached: under Wireshark
# "capture started" goes to the toolbar's log. Sets PEER_PID.
control_peer_start() {
	local _
	"$1" "$2/cin" "$2/cout" <"$2/cmds" >"$2/peer.out" 2>"$2/peer.err" &
	PEER_PID=$!
	exec 8<>"$2/cmds"
	echo init >&8
	for _ in $(seq 300); do
		grep -q "kernel probes attached" "$3" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "FAIL: no \"kernel probes attached\" in $3 after 30 s"
	return 1
}
