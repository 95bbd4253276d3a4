# SPDX-License-Identifier: LGPL-2.1-or-later
"""io.podman's registry methods on `cpod varlink`: PullImage and PushImage (streamed with more, and
not), SearchImages, against Debian's docker-registry on 127.0.0.1 (plain http, marked insecure in the
service's registries.conf)."""

import json
import os
import subprocess

import pytest

from conftest import build_dir
from test_registry import BUSYBOX, Registry, oci_source, skopeo

PODMAN = "io.podman"
CALL_TIMEOUT = 60


@pytest.fixture(scope="module")
def registry():
    reg = Registry()
    skopeo("copy", "-q", "--dest-tls-verify=false", oci_source("busybox"), "docker://%s/busybox:latest" % reg.host)
    yield reg
    reg.stop()


@pytest.fixture
def service(registry, servers, tmp_sock_dir):
    """`cpod varlink` on a temporary socket with a private, empty store and a registries.conf that
    marks the test registry insecure."""
    cli = build_dir() / "src" / "cpod" / "cpod"
    if not os.access(cli, os.X_OK):
        pytest.skip("cpod is not built")
    conf = tmp_sock_dir / "registries.conf"
    conf.write_text('[[registry]]\nlocation = "%s"\ninsecure = true\n' % registry.host)
    store = ["--root", str(tmp_sock_dir / "root"), "--runroot", str(tmp_sock_dir / "run")]
    address = "unix:%s" % (tmp_sock_dir / "io.podman")
    servers.start([str(cli), "varlink", *store, "--registries-conf", str(conf), address], address=address)
    yield address, store, cli
    subprocess.run([str(cli), *store, "rmi", "-af"], capture_output=True, timeout=120)


def vl(varlink_bin, address, method, params, *flags):
    p = subprocess.run([str(varlink_bin), "call", *flags, "%s/%s.%s" % (address, PODMAN, method), json.dumps(params)],
                       capture_output=True, text=True, timeout=CALL_TIMEOUT)
    return p


def replies(out):
    """The replies printed by `varlink call --more`: one JSON document after another."""
    dec = json.JSONDecoder()
    docs, i, out = [], 0, out.strip()
    while i < len(out):
        doc, i = dec.raw_decode(out, i)
        docs.append(doc)
        while i < len(out) and out[i].isspace():
            i += 1
    return docs


def test_pull_search_push(registry, service, varlink_bin):
    address, store, cli = service
    ref = "%s/busybox:latest" % registry.host

    # PullImage with more: progress replies, then the image ID
    p = vl(varlink_bin, address, "PullImage", {"name": ref}, "--more")
    assert p.returncode == 0, p.stderr
    docs = replies(p.stdout)
    assert len(docs) >= 2
    assert all(d["reply"]["id"] == "" and d["reply"]["logs"] for d in docs[:-1])
    assert docs[-1]["reply"]["id"] == BUSYBOX["id"]
    logs = [line for d in docs for line in d["reply"]["logs"]]
    assert any("Copying blob" in line for line in logs)
    images = subprocess.run([str(cli), *store, "images", "-q", "--no-trunc"], capture_output=True, text=True,
                            timeout=CALL_TIMEOUT).stdout.split()
    assert [i.replace("sha256:", "") for i in images] == [BUSYBOX["id"]]

    # without more: one reply holding the logs and the ID
    p = vl(varlink_bin, address, "PullImage", {"name": ref})
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["reply"]["id"] == BUSYBOX["id"]

    # errors
    p = vl(varlink_bin, address, "PullImage", {"name": "%s/nosuch:latest" % registry.host})
    assert p.returncode != 0 and ("ImageNotFound" in p.stderr or "ErrorOccurred" in p.stderr)

    # SearchImages in the registry's catalog
    p = vl(varlink_bin, address, "SearchImages", {"query": "%s/bus" % registry.host, "filter": {"star_count": 0}})
    assert p.returncode == 0, p.stderr
    results = json.loads(p.stdout)["results"]
    assert [(r["name"], r["registry"]) for r in results] == [("%s/busybox" % registry.host, registry.host)]
    p = vl(varlink_bin, address, "SearchImages",
           {"query": "%s/bus" % registry.host, "filter": {"is_official": True, "star_count": 0}})
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["results"] == []

    # PushImage to another repository, streamed; the manifest digest comes last
    dest = "%s/copy:v1" % registry.host
    p = vl(varlink_bin, address, "PushImage", {"name": ref, "tag": dest, "compress": False, "format": "",
                                               "removeSignatures": False, "signBy": ""}, "--more")
    assert p.returncode == 0, p.stderr
    docs = replies(p.stdout)
    assert len(docs) >= 2
    digest = docs[-1]["reply"]["id"]
    assert digest == BUSYBOX["manifest_digest"]
    raw = skopeo("inspect", "--raw", "--tls-verify=false", "docker://" + dest).stdout
    assert json.loads(raw)["config"]["digest"] == "sha256:" + BUSYBOX["id"]

    # an unknown local image
    p = vl(varlink_bin, address, "PushImage", {"name": "nosuch", "tag": dest, "compress": False, "format": "",
                                               "removeSignatures": False, "signBy": ""})
    assert p.returncode != 0 and "ImageNotFound" in p.stderr
