#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The few CRI calls a test needs, over a runtime's socket: curl speaks
HTTP/2 (gRPC), the protocol buffers are built here.

usage: cri_call.py SOCKET run POD NAMESPACE CONTAINER IMAGE COMMAND...
           prints "SANDBOX_ID CONTAINER_ID" (host network, pid and ipc:
           no CNI needed)
       cri_call.py SOCKET remove SANDBOX_ID
"""
import struct
import subprocess
import sys


def varint(n):
    out = b""
    while True:
        low = n & 0x7F
        n >>= 7
        if not n:
            return out + bytes([low])
        out += bytes([low | 0x80])


def field(num, val):
    """A varint (int) or length-delimited (str, bytes) field."""
    if isinstance(val, int):
        return varint(num << 3) + varint(val)
    if isinstance(val, str):
        val = val.encode()
    return varint(num << 3 | 2) + varint(len(val)) + val


def string_map(num, d):
    return b"".join(field(num, field(1, k) + field(2, v)) for k, v in d.items())


def call(sock, method, msg):
    body = b"\0" + struct.pack(">I", len(msg)) + msg
    r = subprocess.run(
        ["curl", "-s", "--http2-prior-knowledge", "--unix-socket", sock, "-X", "POST",
         "-H", "content-type: application/grpc", "-H", "te: trailers", "--data-binary", "@-",
         "-D", "/dev/stderr", "http://localhost/runtime.v1.RuntimeService/" + method],
        input=body, capture_output=True, timeout=60)
    head = r.stderr.decode(errors="replace")
    if "grpc-status: 0" not in head:
        sys.exit("%s failed: %s" % (method, " ".join(head.split())))
    return r.stdout[5:]


def first_string(msg):
    """Field 1 of a message, a string (the ids of the answers)."""
    if not msg or msg[0] != 0x0A:
        sys.exit("unexpected answer")
    i, n, shift = 1, 0, 0
    while True:
        b = msg[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return msg[i:i + n].decode()


def run(sock, pod, namespace, container, image, command):
    meta = field(1, pod) + field(2, pod + "-uid") + field(3, namespace) + field(4, 0)
    # LinuxPodSandboxConfig.security_context.namespace_options: network,
    # pid and ipc NODE (2)
    linux = field(2, field(1, field(1, 2) + field(2, 2) + field(3, 2)))
    sandbox = field(1, meta) + field(8, linux)
    sid = first_string(call(sock, "RunPodSandbox", field(1, sandbox)))
    labels = {"io.kubernetes.pod.name": pod, "io.kubernetes.pod.namespace": namespace,
              "io.kubernetes.container.name": container}
    config = (field(1, field(1, container)) + field(2, field(1, image)) +
              b"".join(field(3, c) for c in command) + string_map(9, labels))
    cid = first_string(call(sock, "CreateContainer",
                            field(1, sid) + field(2, config) + field(3, sandbox)))
    call(sock, "StartContainer", field(1, cid))
    print(sid, cid)


def main():
    sock, verb = sys.argv[1], sys.argv[2]
    if verb == "run":
        run(sock, sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7:])
    elif verb == "remove":
        call(sock, "RemovePodSandbox", field(1, sys.argv[3]))
    else:
        sys.exit(__doc__)


main()
