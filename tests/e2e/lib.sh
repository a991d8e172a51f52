# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for end-to-end tests (sourced): result counting, a pair of
# network namespaces joined by a veth, cleanup of everything a test started.
# Names carry a per-run suffix so parallel runs cannot collide.

E2E_SFX=$(printf '%x%04x' $$ $RANDOM)
E2E_TMP=$(mktemp -d /tmp/ebpfdump-e2e.XXXXXX)
E2E_PIDS=()
E2E_NETNS=()
E2E_CLEANUP=()
pass=0 fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if eval "$2"; then ok; [ -z "${E2E_VERBOSE:-}" ] || echo "ok: $1"; else bad "$1"; fi; } # check DESCRIPTION CONDITION (E2E_VERBOSE=1: print passes too)
finish() { echo "$pass passed, $fail failed"; [ "$fail" = 0 ]; }

e2e_cleanup() {
	local pid c
	for pid in "${E2E_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	# Only these: a bare wait would also wait for daemons a cleanup
	# command stops (dockerd).
	for pid in "${E2E_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	for c in "${E2E_CLEANUP[@]}"; do eval "$c"; done
	for c in "${E2E_NETNS[@]}"; do ip netns del "$c" 2>/dev/null; done
	rm -rf "$E2E_TMP"
}
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM

# wait_started LOG: wait (up to 60 s) until an ebpfdump run with
# --debug-file LOG says "capture started": the kernel's events are being
# collected from then on. (The pcapng header reaches the output earlier,
# before the programs load: a slow or loaded machine took over a second
# between the two, and the connections made meanwhile were never seen.)
wait_started() {
	local _
	for _ in $(seq 600); do
		grep -q "capture started" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "FAIL: no \"capture started\" in $1 after 60 s"
	return 1
}

# use_dissector SOURCE_DIR: tshark_lua=(-X lua_script:.../ebpf.lua) for
# tshark's command line, or empty when an installed ebpf.lua is loaded
# already (a second copy cannot register); lua is the script's path.
use_dissector() {
	lua=$1/dissector/ebpf.lua
	tshark_lua=(-X "lua_script:$lua")
	tshark -G protocols 2>/dev/null | cut -f3 | grep -qx ebpf && tshark_lua=()
}

need_root() {
	if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root"; exit 77; fi
}

# Two namespaces, server (S) and client (C), on one veth link:
# IPv4 192.0.2.2 (S) / 192.0.2.1 (C), IPv6 fd00:ebd::2 / fd00:ebd::1.
# Sets NS_S NS_C V4_S V4_C V6_S V6_C.
make_netns_pair() {
	NS_S=ebpfdump-s-$E2E_SFX NS_C=ebpfdump-c-$E2E_SFX
	V4_C=192.0.2.1 V4_S=192.0.2.2 V6_C=fd00:ebd::1 V6_S=fd00:ebd::2
	local vs=ebs$E2E_SFX vc=ebc$E2E_SFX
	ip netns add "$NS_S" && E2E_NETNS+=("$NS_S")
	ip netns add "$NS_C" && E2E_NETNS+=("$NS_C")
	ip link add "$vs" netns "$NS_S" type veth peer name "$vc" netns "$NS_C" || return 1
	ip -n "$NS_S" addr add "$V4_S/24" dev "$vs"
	ip -n "$NS_C" addr add "$V4_C/24" dev "$vc"
	ip -n "$NS_S" addr add "$V6_S/64" dev "$vs" nodad
	ip -n "$NS_C" addr add "$V6_C/64" dev "$vc" nodad
	for ns in "$NS_S" "$NS_C"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_S" link set "$vs" up
	ip -n "$NS_C" link set "$vc" up
}

# Number of BPF programs loaded in the kernel right now.
# BPF programs loaded, but for ebd_sweep: ebpfdump loads it and never
# attaches it (probe_detach runs it once), so it has no link to wait for.
bpf_prog_count() { bpftool prog list 2>/dev/null | grep '^[0-9]*:' | grep -vc ' name ebd_sweep '; }

# Wait until at least N more BPF programs than BASE are loaded and all of
# them attached (max 15 s). Call it right after starting the capture: the
# links present at the call are taken as the base (loading the programs
# takes far longer than that).
wait_bpf_progs() {
	wait_bpf_attached "$1" "$(bpf_link_count)" "$2"
}

# Number of BPF links (attachments) in the kernel right now.
bpf_link_count() { bpftool link list 2>/dev/null | grep -c '^[0-9]*:'; }

# Wait until more than MIN programs were loaded since BASE_PROGS and every
# one of them is attached (as many new links), max 15 s: loading comes
# before attaching, so a loaded program alone does not yet see events.
wait_bpf_attached() { # BASE_PROGS BASE_LINKS MIN
	local i p l
	for i in $(seq 150); do
		p=$(($(bpf_prog_count) - $1)) l=$(($(bpf_link_count) - $2))
		[ "$p" -ge "$3" ] && [ "$l" -ge "$p" ] && return 0
		sleep 0.1
	done
	return 1
}

# Wait until the BPF program count is back to BASE (max 5 s).
wait_bpf_progs_back() {
	local base=$1 i
	for i in $(seq 50); do
		[ "$(bpf_prog_count)" -le "$base" ] && return 0
		sleep 0.1
	done
	return 1
}

# Wireshark ignores WIRESHARK_EXTCAP_DIR when run as root, so tests that go
# through Wireshark's own extcap path install for real into the directories
# Wireshark reports (system_install in wireshark_lib.sh: every file the
# install writes is backed up or noted, and put back or removed at exit).
# Sets extcap_dir and lua_dir.
install_for_wireshark() { # BUILD_DIR
	. "$(dirname "${BASH_SOURCE[0]}")/wireshark_lib.sh"
	extcap_dir=$(cache_var "$1" EBPFDUMP_EXTCAP_DIR) lua_dir=$(cache_var "$1" EBPFDUMP_LUA_DIR)
	system_install "$1"
}

# Wait until FILE contains PATTERN (max 5 s).
wait_for_line() { # FILE PATTERN
	local i
	for i in $(seq 100); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# need_tools TOOL... : exit 77 (skipped) naming the first one missing.
need_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t is not installed"; exit 77; }
	done
}
