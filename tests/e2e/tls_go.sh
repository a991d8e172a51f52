#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --tls with a Go crypto/tls client (issue 19): a Go program started during
# the capture fetches a random path from a python3 HTTPS server in a network
# namespace over a veth; ebpfdump --tls --ifname captures the host end. The
# Go program's TLS secrets must be in the file as Decryption Secrets Blocks
# before the packets they decrypt, so that tshark, from the file alone,
# decrypts the captured packets: the request URI in a packet of the veth
# tagged with the Go client's pid, the 200 response tagged likewise; the
# server's (OpenSSL) plaintext frames name the server's pid.
#
# usage: tls_go.sh EBPFDUMP SOURCE_DIR   (as root)
set -uo pipefail
ebpfdump=$1 src=$2
. "$src/tests/e2e/lib.sh"
need_root
for t in go python3 openssl tshark; do
	command -v $t >/dev/null || { echo "SKIP: $t missing (golang-go for go)"; exit 77; }
done
T=$E2E_TMP
lua=(-X "lua_script:$src/dissector/ebpf.lua")
tshark -G protocols 2>/dev/null | cut -f3 | grep -qx ebpf && lua=()
path=/go-$E2E_SFX-$RANDOM
port=$((20000 + RANDOM % 20000))

GOCACHE=$T/gocache GO111MODULE=off go build -o "$T/goclient" "$src/tests/e2e/tls_go_client.go" \
	2>"$T/go.err" || { bad "go build: $(head -3 "$T/go.err")"; finish; exit; }
check "the Go client has crypto/tls's key-log writer" \
	'go tool nm "$T/goclient" >"$T/nm" && grep -qF "crypto/tls.(*Config).writeKeyLog" "$T/nm"'

NS=ebpfdump-g-$E2E_SFX VH=egh$E2E_SFX VN=egn$E2E_SFX
ip netns add "$NS" && E2E_NETNS+=("$NS")
ip link add "$VH" type veth peer name "$VN" netns "$NS" && E2E_CLEANUP+=("ip link del $VH 2>/dev/null")
ip addr add 198.18.11.1/24 dev "$VH" && ip link set "$VH" up
ip -n "$NS" addr add 198.18.11.2/24 dev "$VN"
ip -n "$NS" link set "$VN" up
ip -n "$NS" link set lo up

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
	-subj /CN=ebpfdump-test >/dev/null 2>&1 || { bad "openssl req"; finish; exit; }
cat >"$T/server.py" <<'PY'
import http.server, ssl, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from python"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
srv = http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[3], sys.argv[4])
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("listening", flush=True)
srv.serve_forever()
PY
ip netns exec "$NS" python3 "$T/server.py" 198.18.11.2 $port "$T/cert.pem" "$T/key.pem" \
	>"$T/server.out" 2>&1 &
spid=$!
E2E_PIDS+=("$spid")
wait_for_line "$T/server.out" listening || { bad "HTTPS server did not start"; finish; exit; }

out=$T/go.pcapng
"$ebpfdump" --capture --extcap-interface ebpfevents --tls --ifname "$VH" \
	--extcap-capture-filter "tcp port $port" --fifo "$out" --duration 60 2>"$T/ebpfdump.err" &
epid=$!
E2E_PIDS+=("$epid")
wait_for_line "$T/ebpfdump.err" "recording TLS plaintext" || sleep 5

# Started after ebpfdump: found through its exec; the delay covers the
# moment between the exec and the hook.
"$T/goclient" "https://198.18.11.2:$port$path" 300ms >"$T/goclient.out" 2>&1 &
gpid=$!
wait $gpid
check "the Go client got 200 ($(cat "$T/goclient.out"))" 'grep -q "^200 " "$T/goclient.out"'
sleep 0.5
kill -INT "$epid"
wait "$epid"
check "ebpfdump --tls --ifname exits 0 after SIGINT" '[ $? = 0 ]'
check "secrets were written" 'grep -qE "[1-9][0-9]* TLS secrets written" "$T/ebpfdump.err"'

# The secrets are in the file: no key log file is given to tshark.
f() { tshark -r "$out" "${lua[@]}" -Y "$1" -T fields -e frame.number 2>/dev/null | head -1; }
req="http.request.uri == \"$path\""
# pcapng blocks: count the DSBs (type 0x0A, secrets type TLSK) with Go's
# TLS 1.3 application traffic secret; write a copy of the file without them.
cat >"$T/dsb.py" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
out, off, n = bytearray(), 0, 0
while off + 12 <= len(data):
    btype, blen = struct.unpack_from("<II", data, off)
    block = data[off:off + blen]
    if btype == 0x0A:
        stype, slen = struct.unpack_from("<II", block, 8)
        if stype == 0x544C534B and b"CLIENT_TRAFFIC_SECRET_0 " in block[16:16 + slen]:
            n += 1
    else:
        out += block
    off += blen
open(sys.argv[2], "wb").write(out)
print(n)
PY
dsbs=$(python3 "$T/dsb.py" "$out" "$T/nodsb.pcapng")
check "the file has DSBs with the Go client's TLS 1.3 traffic secret ($dsbs)" '[ "${dsbs:-0}" -ge 1 ]'
check "without the DSBs the request is not readable (decryption comes from them)" \
	'[ -z "$(tshark -r "$T/nodsb.pcapng" -Y "http.request.uri == \"$path\" && frame.interface_name == \"$VH\"" 2>/dev/null)" ]'
check "the request, decrypted from the veth's packets, is tagged with the Go client's pid ($gpid)" \
	'[ -n "$(f "$req && frame.interface_name == \"$VH\" && tcp.dstport == $port && ebpf.pid == $gpid")" ]'
check "the 200 response, decrypted from the veth's packets, is tagged with the Go client's pid" \
	'[ -n "$(f "http.response.code == 200 && frame.interface_name == \"$VH\" && tcp.srcport == $port && ebpf.pid == $gpid")" ]'
check "the server's plaintext frame of the request names the server ($spid)" \
	'[ -n "$(f "$req && frame.interface_name == \"tls\" && ebpf.pid == $spid")" ]'
finish
