#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --tls end to end (issue 19): curl (OpenSSL 3) fetches a random path from a
# python3 HTTPS server (ssl module, OpenSSL 3) over a veth between two
# network namespaces while ebpfdump --tls captures; tshark with
# dissector/ebpf.lua must find the request URI in a frame of the client's
# pid and the 200 response in a frame of the server's, on the right
# addresses and ports; a body above 16 KiB is cut and counted; the file is
# created 0600 and an output others can read is refused; curl's HTTP/2
# request to openssl s_server is decoded by the http2 dissector.
#
# usage: tls_openssl.sh EBPFDUMP SOURCE_DIR   (as root)
set -uo pipefail
ebpfdump=$1 src=$2
. "$src/tests/e2e/lib.sh"
need_root
for t in curl python3 openssl tshark; do
	command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
T=$E2E_TMP
lua=(-X "lua_script:$src/dissector/ebpf.lua")
tshark -G protocols 2>/dev/null | cut -f3 | grep -qx ebpf && lua=()
path=/tls-$E2E_SFX-$RANDOM
port=$((20000 + RANDOM % 20000))

make_netns_pair || { bad "network namespaces"; finish; exit; }
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
	-subj /CN=ebpfdump-test >/dev/null 2>&1 || { bad "openssl req"; finish; exit; }
cat >"$T/server.py" <<'PY'
import http.server, ssl, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"x" * int(self.headers.get("X-Body", "5"))
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
# ip netns exec execs its command: $! is the server's own pid.
ip netns exec "$NS_S" python3 "$T/server.py" "$V4_S" $port "$T/cert.pem" "$T/key.pem" \
	>"$T/server.out" 2>&1 &
spid=$!
E2E_PIDS+=("$spid")
wait_for_line "$T/server.out" listening || { bad "HTTPS server did not start"; finish; exit; }

# An output others can read is refused, and left as it was.
echo keep >"$T/open.pcapng"
chmod 644 "$T/open.pcapng"
"$ebpfdump" --capture --extcap-interface ebpfevents --tls --fifo "$T/open.pcapng" \
	--duration 1 2>"$T/refused.err"
rc=$?
check "--tls refuses a 0644 output (exit $rc)" '[ $rc != 0 ]'
check "the refusal names the mode" 'grep -q "can be read by others (mode 0644)" "$T/refused.err"'
check "the refused file is untouched" '[ "$(cat "$T/open.pcapng")" = keep ]'

"$ebpfdump" --tls --merge "$T/a" "$T/b" --fifo "$T/c" 2>"$T/merge.err"
rc=$?
check "--tls with --merge is a usage error (exit $rc)" '[ $rc = 2 ] && grep -q "^ebpfdump: --tls needs a live capture" "$T/merge.err"'

out=$T/tls.pcapng
"$ebpfdump" --capture --extcap-interface ebpfevents --tls --fifo "$out" --duration 60 \
	2>"$T/ebpfdump.err" &
epid=$!
E2E_PIDS+=("$epid")
wait_for_line "$T/ebpfdump.err" "recording TLS plaintext" || sleep 5
check "the system's libssl.so.3 is attached" 'grep -q "libssl.so.3 (SSL_write SSL_read SSL_write_ex SSL_read_ex)" "$T/ebpfdump.err"'

ip netns exec "$NS_C" curl -sk "https://$V4_S:$port$path" -o "$T/small.body" &
cpid=$!
wait $cpid
check "curl got the small body" '[ "$(cat "$T/small.body")" = xxxxx ]'
ip netns exec "$NS_C" curl -sk -H "X-Body: 40000" "https://$V4_S:$port$path-big" -o "$T/big.body" &
cpid2=$!
wait $cpid2
check "curl got the 40000-byte body" '[ "$(stat -c %s "$T/big.body")" = 40000 ]'
# HTTP/2: curl's request to an openssl s_server that offers h2 (it answers
# nothing; the request alone is checked).
port2=$((port + 1))
ip netns exec "$NS_S" openssl s_server -accept "$V4_S:$port2" -cert "$T/cert.pem" \
	-key "$T/key.pem" -alpn h2 -quiet >/dev/null 2>&1 </dev/null &
E2E_PIDS+=("$!")
for _ in $(seq 50); do ip netns exec "$NS_S" ss -ltn | grep -q ":$port2 " && break; sleep 0.1; done
ip netns exec "$NS_C" curl -sk --http2 -m 2 "https://$V4_S:$port2$path-h2" -o /dev/null &
cpid3=$!
wait $cpid3
sleep 0.5
kill -INT "$epid"
wait "$epid"
check "ebpfdump --tls exits 0 after SIGINT" '[ $? = 0 ]'
check "the output is created 0600" '[ "$(stat -c %a "$out")" = 600 ]'
check "the summary counts the cut call" 'grep -qE "TLS frames written, [1-9][0-9]* cut at 16384 bytes" "$T/ebpfdump.err"'

f() { tshark -r "$out" "${lua[@]}" -Y "$1" -T fields -e frame.number 2>/dev/null | head -1; }
req="http.request.uri == \"$path\""
check "request URI in a frame of curl's pid ($cpid)" \
	'[ -n "$(f "$req && ebpf.pid == $cpid && ebpf.comm == \"curl\"")" ]'
check "the request frame is on the tls interface, client → server" \
	'[ -n "$(f "$req && frame.interface_name == \"tls\" && exported_pdu.ipv4_src == $V4_C && exported_pdu.ipv4_dst == $V4_S && exported_pdu.dst_port == $port")" ]'
check "the request frame's comment names curl as sender" \
	'[ -n "$(f "$req && frame.comment contains \"src.pid=$cpid \"")" ]'
check "the server's read of the request names the server ($spid) as receiver" \
	'[ -n "$(f "$req && ebpf.pid == $spid && frame.comment contains \"dst.pid=$spid \"")" ]'
check "the 200 response in a frame of the server's pid ($spid)" \
	'[ -n "$(f "http.response.code == 200 && ebpf.pid == $spid && exported_pdu.ipv4_src == $V4_S && exported_pdu.src_port == $port")" ]'
check "curl's read of the response names curl as receiver" \
	'[ -n "$(f "http.response.code == 200 && ebpf.pid == $cpid && frame.comment contains \"dst.pid=$cpid \"")" ]'
check "HTTP/2: curl's request decoded by Wireshark's http2 dissector, with curl's pid ($cpid3)" \
	'[ -n "$(f "http2.headers.path == \"$path-h2\" && ebpf.pid == $cpid3 && exported_pdu.prot_name == \"http2\"")" ]'
check "a 40000-byte write is cut at 16384 bytes of plaintext" \
	'[ -n "$(f "ebpf.pid == $spid && frame.len > frame.cap_len && frame.cap_len <= 16384 + 128")" ]'
check "every frame of curl and the server is between the two namespaces' addresses" \
	'[ -z "$(f "frame.interface_name == \"tls\" && ebpf.pid in {$cpid $cpid2 $spid} && !(exported_pdu.ipv4_src in {$V4_C $V4_S} && exported_pdu.ipv4_dst in {$V4_C $V4_S})")" ]'
finish
