# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for the Docker end-to-end tests (sourced after lib.sh): a
# running Docker engine (Debian's docker.io, installed and started when
# missing; only what the test started is stopped), a local busybox image
# made with `docker import` (no registry needed), and cleanup of every
# container and image the test created. Names carry $E2E_SFX.

DOCKER_IMAGE=ebpfdump-e2e-img:$E2E_SFX
DOCKER_CONTAINERS=()
DOCKERD_PID=
DOCKER=docker

docker_cleanup() {
	local c
	for c in "${DOCKER_CONTAINERS[@]}"; do
		$DOCKER rm -f "$c" >/dev/null 2>&1
	done
	$DOCKER rmi -f "$DOCKER_IMAGE" >/dev/null 2>&1
	if [ -n "$DOCKERD_PID" ]; then
		kill "$DOCKERD_PID" 2>/dev/null
		for _ in $(seq 100); do
			kill -0 "$DOCKERD_PID" 2>/dev/null || break
			sleep 0.1
		done
	fi
}
E2E_CLEANUP+=(docker_cleanup)

# Install (if missing) and start (if not running) a Docker engine, or exit
# 77: a machine without one cannot run these tests, which is not a failure.
docker_need_engine() {
	need_root
	if ! command -v dockerd >/dev/null || ! command -v busybox >/dev/null ||
		! busybox --list >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static \
			>"$E2E_TMP/apt.log" 2>&1 || true
	fi
	if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
		echo "SKIP: docker.io cannot be installed"
		exit 77
	fi
	if ! $DOCKER info >/dev/null 2>&1; then
		dockerd >"$E2E_TMP/dockerd.log" 2>&1 &
		DOCKERD_PID=$!
		for _ in $(seq 200); do
			$DOCKER info >/dev/null 2>&1 && break
			kill -0 "$DOCKERD_PID" 2>/dev/null || break
			sleep 0.1
		done
		if ! $DOCKER info >/dev/null 2>&1; then
			echo "SKIP: dockerd does not start:"
			tail -5 "$E2E_TMP/dockerd.log"
			exit 77
		fi
	fi
}

# A busybox rootfs imported as $DOCKER_IMAGE.
docker_make_image() {
	local root=$E2E_TMP/rootfs bb a
	bb=$(command -v busybox)
	mkdir -p "$root/bin" "$root/tmp" "$root/www"
	cp "$bb" "$root/bin/busybox"
	for a in sh httpd sleep cat ls wget; do ln -s busybox "$root/bin/$a"; done
	# Where the host's /usr, mounted by a test, has the C library.
	ln -s usr/lib "$root/lib" && ln -s usr/lib64 "$root/lib64"
	echo "hello from ebpfdump e2e" >"$root/www/index.html"
	tar -C "$root" -c . | $DOCKER import - "$DOCKER_IMAGE" >/dev/null
}

# docker_run NAME [docker run options...] -- COMMAND...
docker_run() {
	local name=$1
	shift
	DOCKER_CONTAINERS+=("$name")
	$DOCKER run -d --name "$name" "$@" >/dev/null
}

docker_pid() { $DOCKER inspect -f '{{.State.Pid}}' "$1"; }
docker_id() { $DOCKER inspect -f '{{.Id}}' "$1"; }

# The host-side interface of a container's eth0: its peer's ifindex
# ("eth0@ifN" inside; sysfs would show the host's view), looked up on the
# host.
docker_host_veth() {
	local idx f
	idx=$(nsenter -t "$(docker_pid "$1")" -n ip -o link show eth0 |
		sed -n 's/^[0-9]*: eth0@if\([0-9]*\):.*/\1/p')
	[ -n "$idx" ] || return 1
	for f in /sys/class/net/*/ifindex; do
		if [ "$(cat "$f")" = "$idx" ]; then
			basename "$(dirname "$f")"
			return 0
		fi
	done
	return 1
}
