#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Memory: ebpfdump's RSS when idle (events only, and with --ifname on lo),
# then merge_bench's bytes per tracked flow and RSS with 1M flows.
#
# usage: bench/memory.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: memory.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
tmp=$(mktemp -d /dev/shm/ebpfdump-memory.XXXXXX)
cleanup() { tracer_stop; rm -rf "$tmp"; }
trap cleanup EXIT
rss() { awk '/^VmRSS/ {print $2}' /proc/"$1"/status; }
for extra in "" "--ifname lo"; do
	# shellcheck disable=SC2086 # $extra is two words or none
	SETTLE=3 tracer_start ebpfdump "$build/extcap/ebpfdump" --capture --extcap-interface \
		ebpfevents --fifo "$tmp/out.pcapng" --no-containers $extra 2>/dev/null
	echo "ebpfdump idle RSS ${extra:-(events only)}: $(rss "$TRACER_PID") KiB"
	tracer_stop
done
"$build/merge/merge_bench"
