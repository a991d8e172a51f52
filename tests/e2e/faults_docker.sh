#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Docker engine stops in the middle of a container capture. The shared
# engine other tests use is not stopped: ebpfdump runs in a private mount
# namespace where /run/docker.sock is our forwarding proxy to the real
# socket, and "the engine stops" is the proxy going away (connects are
# refused, as with a stopped dockerd). Then a container ebpfdump has not
# seen yet talks to the captured one, so that a name lookup must fail.
# Expected: a degraded continue (capture goes on, packets of the known
# container still tagged) with a message saying why names are missing,
# then a clean stop on SIGINT with a valid file.
#
# usage: faults_docker.sh EBPFDUMP SOURCE_DIR TOOLS_DIR   (as root)
set -uo pipefail
tool=$1 src=$2
. "$src/tests/e2e/lib.sh"
. "$src/tests/e2e/faults_lib.sh"
. "$src/tests/e2e/docker_lib.sh"
need_root
command -v python3 >/dev/null || { echo "SKIP: no python3 for the socket proxy"; exit 77; }
docker_need_engine
docker_make_image || { bad "docker import"; finish; exit; }
T=$E2E_TMP
web=ebd-fd-web-$E2E_SFX late=ebd-fd-late-$E2E_SFX
docker_run "$web" "$DOCKER_IMAGE" httpd -f -p 80 -h /www || { bad "docker run $web"; finish; exit; }
web_ip=$($DOCKER inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$web")
web_veth=$(docker_host_veth "$web")
[ -n "$web_ip" ] && [ -n "$web_veth" ] || { bad "container address/veth"; finish; exit; }

# The proxy: one thread pair per connection, forwarding bytes both ways.
cat >"$T/proxy.py" <<'PY'
import os, socket, sys, threading
listen, target = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX)
srv.bind(listen)
srv.listen(64)
def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
while True:
    c, _ = srv.accept()
    u = socket.socket(socket.AF_UNIX)
    u.connect(target)
    threading.Thread(target=pump, args=(c, u), daemon=True).start()
    threading.Thread(target=pump, args=(u, c), daemon=True).start()
PY
real_sock=$(readlink -f /var/run/docker.sock)
python3 "$T/proxy.py" "$T/docker.sock" "$real_sock" &
proxy=$!
E2E_PIDS+=("$proxy")
for _ in $(seq 100); do [ -S "$T/docker.sock" ] && break; sleep 0.05; done

out=$T/docker-stop.pcapng
unshare -m --propagation private bash -c \
	'mount --bind "$1" "$2" && exec "$0" --capture --extcap-interface "$3" --fifo "$4" --debug' \
	"$tool" "$T/docker.sock" "$real_sock" "$web_veth@$web" "$out" >/dev/null 2>"$T/cap.err" &
cap=$!
E2E_PIDS+=("$cap")
for _ in $(seq 200); do [ -s "$out" ] && break; sleep 0.05; done
fetch() { # the host fetches the page: tagged with the web container's names
	bash -c "exec 3<>/dev/tcp/$web_ip/80; printf 'GET /index.html HTTP/1.0\r\n\r\n' >&3; cat <&3" \
		>"$T/page" 2>/dev/null
}
fetch
check "page fetched before the stop" 'grep -q "hello from ebpfdump" "$T/page"'

# The engine "stops" for ebpfdump.
kill "$proxy"
wait "$proxy" 2>/dev/null
sleep 0.3
# A container it has never seen talks to the captured one.
docker_run "$late" "$DOCKER_IMAGE" sh -c "sleep 1; wget -q -O - http://$web_ip/index.html; sleep 2" ||
	bad "docker run $late"
sleep 4
fetch
check "page fetched after the stop" 'grep -q "hello from ebpfdump" "$T/page"'
sleep 0.5
check "capture still running after the engine stopped (degraded continue)" 'kill -0 "$cap" 2>/dev/null'
check "a message says names are missing and why: $(grep -m1 -i 'container names' "$T/cap.err")" \
	'grep -qi "container names unavailable.*" "$T/cap.err"'
start=$(date +%s%N)
kill -INT "$cap"
wait_exit "$cap" 3000
ms=$((($(date +%s%N) - start) / 1000000))
check "clean stop on SIGINT ($rc in $ms ms: $(grep -vi debug "$T/cap.err" | head -1))" '[ $rc = 0 ]'
check "the file reads back" 'capinfos "$out" >/dev/null 2>&1'
n=$(tshark -r "$out" -Y "tcp.port == 80 && frame.comment contains \"@$web#\"" 2>/dev/null | wc -l)
check "packets of the known container still tagged after the stop ($n)" '[ "$n" -ge 10 ]'
finish
