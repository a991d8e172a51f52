#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""An OCI image archive from a root directory, for `ctr images import`
(no registry, no Docker).

usage: oci_image.py ROOTFS_DIR NAME ENTRYPOINT... > image.tar
"""
import hashlib
import io
import json
import sys
import tarfile


def blob(data):
    return "sha256:" + hashlib.sha256(data).hexdigest(), data


def main():
    root, name, entry = sys.argv[1], sys.argv[2], sys.argv[3:]
    layer_io = io.BytesIO()
    with tarfile.open(fileobj=layer_io, mode="w") as t:
        t.add(root, arcname=".")
    layer_digest, layer = blob(layer_io.getvalue())
    config_digest, config = blob(json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Entrypoint": entry},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    }).encode())
    manifest_digest, manifest = blob(json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": layer_digest, "size": len(layer)}],
    }).encode())
    index = json.dumps({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": manifest_digest, "size": len(manifest),
                       "annotations": {"io.containerd.image.name": name}}],
    }).encode()
    with tarfile.open(fileobj=sys.stdout.buffer, mode="w|") as out:
        files = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index)]
        for digest, data in ((layer_digest, layer), (config_digest, config),
                             (manifest_digest, manifest)):
            files.append(("blobs/sha256/" + digest.split(":")[1], data))
        for path, data in files:
            info = tarfile.TarInfo(path)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))


main()
