# SPDX-License-Identifier: LGPL-2.1-or-later
"""io.podman's pod and volume methods on `cpod varlink` (socket-activated): raw calls and the varlink
tool on a private store, the lifecycle of a pod with a member container, volume creation, listing,
removal (also of volumes in use) and pruning, and the errors (PodNotFound, VolumeNotFound,
NoContainerRunning, ErrorOccurred), and Kubernetes YAML of a pod."""

import json
import os
import shutil
import socket
import subprocess
import time

import pytest

from conftest import build_dir

PODMAN = "io.podman"
CALL_TIMEOUT = 60


class Service:
    """The address of the service and the cpod command line of its store (the CLI shares the store)."""

    def __init__(self, address, cli):
        self.address = address
        self.cli = cli

    def cpod(self, *args):
        p = subprocess.run([*self.cli, *args], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        return p.stdout.strip()

    def call(self, method, parameters=None):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(CALL_TIMEOUT)
            s.connect(self.address[len("unix:"):])
            s.sendall(json.dumps({"method": f"{PODMAN}.{method}", "parameters": parameters or {}}).encode() + b"\0")
            buf = b""
            while b"\0" not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    raise EOFError
                buf += chunk
        return json.loads(buf.partition(b"\0")[0])

    def ok(self, method, parameters=None):
        r = self.call(method, parameters)
        assert "error" not in r, r
        return r["parameters"]

    def error(self, method, parameters=None):
        r = self.call(method, parameters)
        assert "error" in r, r
        return r["error"], r.get("parameters", {})


@pytest.fixture
def service(servers, tmp_sock_dir):
    """`cpod varlink` behind systemd-socket-activate on a private store holding busybox."""
    sa = shutil.which("systemd-socket-activate")
    cli = build_dir() / "src" / "cpod" / "cpod"
    image = build_dir() / "images" / "busybox.docker.tar"
    if not sa:
        pytest.skip("systemd-socket-activate is not installed")
    if not os.access(cli, os.X_OK) or not image.exists():
        pytest.skip("cpod or the bundled test images are not built")
    store = [str(cli), "--root", str(tmp_sock_dir / "root"), "--runroot", str(tmp_sock_dir / "run")]
    subprocess.run([*store, "load", "-i", str(image)], check=True, capture_output=True, timeout=120)
    path = tmp_sock_dir / "io.podman"
    address = f"unix:{path}"
    servers.start([sa, "-l", str(path), *store, "varlink"], address=address)
    yield Service(address, store)
    subprocess.run([*store, "pod", "rm", "-af"], capture_output=True, timeout=120)
    subprocess.run([*store, "rm", "-af"], capture_output=True, timeout=120)
    subprocess.run(["sh", "-c", f'grep -o " {tmp_sock_dir}[^ ]*" /proc/self/mounts | sort -r | '
                                f'xargs -r -n1 umount -l'], capture_output=True)


def wait_for(pred, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return False


# ---- volumes ----

def test_volume_create_list_inspect(service):
    assert service.ok("VolumeCreate", {"options": {"volumeName": "data", "driver": "local",
                                                   "labels": {"app": "web", "tier": ""},
                                                   "options": {}}}) == {"volumeName": "data"}
    # an empty name asks for a generated one; missing fields are zero values
    generated = service.ok("VolumeCreate", {"options": {}})["volumeName"]
    assert len(generated) == 64 and all(c in "0123456789abcdef" for c in generated)
    tmpfs = {"type": "tmpfs", "device": "tmpfs", "o": "size=4m"}
    service.ok("VolumeCreate", {"options": {"volumeName": "scratch", "options": tmpfs}})

    vols = service.ok("GetVolumes", {"args": [], "all": True})["volumes"]
    assert sorted(v["name"] for v in vols) == sorted(["data", "scratch", generated])
    data = [v for v in vols if v["name"] == "data"][0]
    assert data["labels"] == {"app": "web", "tier": ""} and data["driver"] == "local"
    assert data["options"] == {} and data["mountPoint"].endswith("/volumes/data/_data")
    assert os.path.isdir(data["mountPoint"])
    scratch = service.ok("GetVolumes", {"args": ["scratch"], "all": False})["volumes"]
    assert [v["options"] for v in scratch] == [tmpfs]
    assert service.ok("GetVolumes", {"args": [], "all": False}) == {"volumes": []}
    err, params = service.error("GetVolumes", {"args": ["data", "nope"], "all": False})
    assert err == f"{PODMAN}.VolumeNotFound" and params["id"] == "nope" and "nope" in params["reason"]

    doc = json.loads(service.ok("InspectVolume", {"name": "data"})["volume"])
    assert doc["Name"] == "data" and doc["Driver"] == "local" and doc["Labels"] == data["labels"]
    assert doc["Mountpoint"] == data["mountPoint"] and doc["Scope"] == "local" and doc["CreatedAt"]
    err, params = service.error("InspectVolume", {"name": "nope"})
    assert err == f"{PODMAN}.VolumeNotFound" and params["id"] == "nope" and params["reason"]

    # the CLI sees what the service created: one store
    assert json.loads(service.cpod("volume", "inspect", "data"))[0]["Labels"] == data["labels"]
    err, params = service.error("VolumeCreate", {"options": {"volumeName": "data"}})
    assert err == f"{PODMAN}.ErrorOccurred" and "data" in params["reason"]
    err, params = service.error("VolumeCreate", {"options": {"volumeName": "bad/name"}})
    assert err == f"{PODMAN}.ErrorOccurred" and params["reason"]
    err, _ = service.error("VolumeCreate", {"options": {"volumeName": "x", "driver": "nfs-plugin"}})
    assert err == f"{PODMAN}.ErrorOccurred"


def test_volume_remove_in_use_and_prune(service):
    for name in ("used", "free1", "free2"):
        service.ok("VolumeCreate", {"options": {"volumeName": name}})
    ident = service.ok("CreateContainer", {"create": {"args": ["busybox", "sh", "-c", "echo hi > /v/f"],
                                                       "volume": ["used:/v"]}})["container"]
    service.ok("StartContainer", {"name": ident})
    assert service.ok("WaitContainer", {"name": ident, "interval": 100}) == {"exitcode": 0}

    r = service.ok("VolumeRemove", {"options": {"volumes": ["free1", "used", "missing"], "all": False,
                                                "force": False}})
    assert r["successes"] == ["free1"]
    assert set(r["failures"]) == {"used", "missing"} and all(r["failures"].values())
    assert "missing" in r["failures"]["missing"]
    # pruning keeps what a container uses
    assert service.ok("VolumesPrune") == {"prunedNames": ["free2"], "prunedErrors": []}
    assert [v["name"] for v in service.ok("GetVolumes", {"args": [], "all": True})["volumes"]] == ["used"]
    assert service.ok("VolumesPrune") == {"prunedNames": [], "prunedErrors": []}
    # force removes a volume only stopped containers use
    r = service.ok("VolumeRemove", {"options": {"volumes": ["used"], "force": True}})
    assert r == {"successes": ["used"], "failures": {}}
    for name in ("a", "b"):
        service.ok("VolumeCreate", {"options": {"volumeName": name}})
    r = service.ok("VolumeRemove", {"options": {"volumes": [], "all": True, "force": False}})
    assert sorted(r["successes"]) == ["a", "b"] and r["failures"] == {}
    assert service.ok("GetVolumes", {"args": [], "all": True}) == {"volumes": []}


def test_volumes_with_the_varlink_tool(service, varlink_bin):
    def vl(method, params=None, check=True):
        p = subprocess.run([str(varlink_bin), "call", f"{service.address}/{PODMAN}.{method}",
                            json.dumps(params or {})], capture_output=True, text=True, timeout=CALL_TIMEOUT)
        if check:
            assert p.returncode == 0, p.stderr
            return json.loads(p.stdout)
        return p

    assert vl("VolumeCreate", {"options": {"volumeName": "tool", "labels": {"k": "v"}}}) == {"volumeName": "tool"}
    assert vl("GetVolumes", {"args": ["tool"], "all": False})["volumes"][0]["labels"] == {"k": "v"}
    p = vl("InspectVolume", {"name": "gone"}, check=False)
    assert p.returncode != 0 and "VolumeNotFound" in p.stderr
    assert vl("VolumesPrune") == {"prunedNames": ["tool"], "prunedErrors": []}


# ---- pods ----

def pod_status(service, ref):
    return service.ok("GetPod", {"name": ref})["pod"]["status"]


def test_pod_lifecycle(service):
    pod = service.ok("CreatePod", {"create": {"name": "web", "labels": {"app": "web"}, "share": [],
                                              "infra": True}})["pod"]
    assert len(pod) == 64
    member = service.cpod("create", "--pod", "web", "--name", "web-app", "busybox", "sleep", "300")

    got = service.ok("GetPod", {"name": "web"})["pod"]
    assert got["id"] == pod and got["name"] == "web" and got["labels"] == {"app": "web"}
    assert got["status"] == "Created" and got["numberofcontainers"] == "2" and got["cgroup"] == ""
    assert got["createdat"].endswith("Z") and "T" in got["createdat"]
    infra = got["containersinfo"][0]
    assert [c["id"] for c in got["containersinfo"]] == [infra["id"], member]
    assert got["containersinfo"][1]["name"] == "web-app"
    assert service.ok("GetPod", {"name": pod[:12]})["pod"]["id"] == pod
    assert service.ok("ListPods")["pods"] == [got]

    assert service.ok("StartPod", {"name": "web"}) == {"pod": pod}
    assert pod_status(service, pod) == "Running"
    assert {c["status"] for c in service.ok("GetPod", {"name": pod})["pod"]["containersinfo"]} == {"running"}
    assert service.ok("GetPodsByStatus", {"statuses": ["Running"]}) == {"pods": [pod]}
    assert service.ok("GetPodsByStatus", {"statuses": ["running", "exited"]}) == {"pods": [pod]}
    assert service.ok("GetPodsByStatus", {"statuses": ["Exited"]}) == {"pods": []}

    top = service.ok("TopPod", {"pod": "web", "latest": False, "descriptors": ["pid", "args"]})["stats"]
    assert top[0].split("\t") == ["PID", "COMMAND"]
    assert any("sleep 300" in line for line in top[1:]) and any("catatonit" in line for line in top[1:])
    full = service.ok("TopPod", {"pod": "", "latest": True, "descriptors": []})["stats"]
    assert full[0].split("\t")[:2] == ["USER", "PID"] and len(full) == len(top)

    stats = service.ok("GetPodStats", {"name": "web"})
    assert stats["pod"] == pod and {s["id"] for s in stats["containers"]} == {infra["id"], member}
    assert all(s["pids"] >= 1 and s["mem_usage"] > 0 for s in stats["containers"])

    doc = json.loads(service.ok("InspectPod", {"name": "web"})["pod"])
    assert doc["Id"] == pod and doc["Name"] == "web" and doc["State"] == "Running"
    assert doc["InfraContainerID"] == infra["id"] and doc["NumContainers"] == 2
    assert sorted(doc["SharedNamespaces"]) == ["ipc", "net", "uts"] and doc["Labels"] == {"app": "web"}
    state = json.loads(service.ok("PodStateData", {"name": "web"})["config"])
    assert state["Id"] == pod and state["Containers"] == doc["Containers"]

    assert service.ok("PausePod", {"name": "web"}) == {"pod": pod}
    assert pod_status(service, pod) == "Paused"
    assert service.ok("UnpausePod", {"name": "web"}) == {"pod": pod}
    assert pod_status(service, pod) == "Running"
    assert service.ok("RestartPod", {"name": "web"}) == {"pod": pod}
    assert pod_status(service, pod) == "Running"

    # a running member needs force
    err, params = service.error("RemovePod", {"name": "web", "force": False})
    assert err == f"{PODMAN}.ErrorOccurred" and params["reason"]
    assert service.ok("KillPod", {"name": "web", "signal": 9}) == {"pod": pod}
    assert wait_for(lambda: pod_status(service, pod) == "Exited")
    assert service.ok("StartPod", {"name": "web"}) == {"pod": pod}
    assert service.ok("StopPod", {"name": "web", "timeout": 1}) == {"pod": pod}
    assert pod_status(service, pod) == "Exited"
    assert service.error("GetPodStats", {"name": "web"})[0] == f"{PODMAN}.NoContainerRunning"
    err, params = service.error("TopPod", {"pod": "web", "latest": False, "descriptors": []})
    assert err == f"{PODMAN}.ErrorOccurred" and "running" in params["reason"]

    assert service.ok("RemovePod", {"name": "web", "force": False}) == {"pod": pod}
    assert service.ok("ListPods") == {"pods": []}
    err, params = service.error("GetPod", {"name": "web"})
    assert err == f"{PODMAN}.PodNotFound" and params["name"] == "web" and "web" in params["reason"]
    assert service.ok("ContainerExists", {"name": member}) == {"exists": 1}


def test_pod_force_remove_and_context(service):
    first = service.ok("CreatePod", {"create": {"name": "one"}})["pod"]
    second = service.ok("CreatePod", {"create": {"name": "two"}})["pod"]
    service.cpod("create", "--pod", "two", "busybox", "sleep", "300")
    service.ok("StartPod", {"name": "two"})

    assert service.ok("GetPodsByContext", {"all": True, "latest": False, "args": []}) == {"pods": [second, first]}
    assert service.ok("GetPodsByContext", {"all": False, "latest": True, "args": []}) == {"pods": [second]}
    assert service.ok("GetPodsByContext", {"args": ["one", second[:10]]}) == {"pods": [first, second]}
    err, params = service.error("GetPodsByContext", {"args": ["one", "three"]})
    assert err == f"{PODMAN}.PodNotFound" and params["name"] == "three"
    assert service.ok("GetPodsByStatus", {"statuses": ["Created"]}) == {"pods": [first]}

    assert service.ok("RemovePod", {"name": "two", "force": True}) == {"pod": second}
    assert [p["id"] for p in service.ok("ListPods")["pods"]] == [first]
    # missing fields are zero values
    assert service.ok("RemovePod", {"name": "one"}) == {"pod": first}
    assert service.ok("ListContainers") == {"containers": []}


def test_pod_create_options_and_errors(service, varlink_bin):
    pid = service.ok("CreatePod", {"create": {"name": "shared", "share": ["cgroup", "pid", "net"]}})["pod"]
    doc = json.loads(service.ok("InspectPod", {"name": pid})["pod"])
    assert sorted(doc["SharedNamespaces"]) == ["net", "pid"]
    alone = service.ok("CreatePod", {"create": {"name": "alone", "share": ["none"]}})["pod"]
    assert json.loads(service.ok("InspectPod", {"name": alone})["pod"])["SharedNamespaces"] == []
    named = service.ok("CreatePod", {"create": {}})["pod"]
    assert service.ok("GetPod", {"name": named})["pod"]["name"]

    def error_occurred(create):
        err, params = service.error("CreatePod", {"create": create})
        assert err == f"{PODMAN}.ErrorOccurred" and params["reason"], (create, err)
        return params["reason"]

    assert "shared" in error_occurred({"name": "shared"})
    assert "mnt" in error_occurred({"name": "x", "share": ["mnt"]})
    assert "infra" in error_occurred({"name": "x", "infra": False})
    assert "cgroupParent" in error_occurred({"name": "x", "cgroupParent": "/machine"})
    assert "infraCommand" in error_occurred({"name": "x", "infraCommand": "/pause"})
    error_occurred({"name": "bad name"})
    assert "x" not in [p["name"] for p in service.ok("ListPods")["pods"]]

    for method, params in [("InspectPod", {"name": "nope"}), ("PodStateData", {"name": "nope"}),
                           ("StartPod", {"name": "nope"}), ("StopPod", {"name": "nope", "timeout": 1}),
                           ("KillPod", {"name": "nope", "signal": 15}), ("RemovePod", {"name": "nope"}),
                           ("TopPod", {"pod": "nope", "latest": False, "descriptors": []}),
                           ("GetPodStats", {"name": "nope"})]:
        err, p = service.error(method, params)
        assert err == f"{PODMAN}.PodNotFound" and p["name"] == "nope" and p["reason"], method
    err, p = service.error("KillPod", {"name": "shared", "signal": 99})
    assert err == f"{PODMAN}.ErrorOccurred" and "signal" in p["reason"]
    err, p = service.error("StopPod", {"name": 5, "timeout": 1})
    assert err == "org.varlink.service.InvalidParameter" and p == {"parameter": "name"}

    # the varlink tool, and the CLI on the same store
    out = subprocess.run([str(varlink_bin), "call", f"{service.address}/{PODMAN}.GetPod",
                          json.dumps({"name": "shared"})], capture_output=True, text=True, timeout=CALL_TIMEOUT)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["pod"]["id"] == pid
    assert service.cpod("pod", "exists", "alone") == ""
    p = subprocess.run([str(varlink_bin), "call", f"{service.address}/{PODMAN}.GetPod",
                        json.dumps({"name": "gone"})], capture_output=True, text=True, timeout=CALL_TIMEOUT)
    assert p.returncode != 0 and "PodNotFound" in p.stderr


def test_generate_kube(service):
    service.ok("CreatePod", {"create": {"name": "kube", "labels": {"tier": "web"}}})
    service.cpod("create", "--pod", "kube", "--name", "kube-app", "-e", "A=1", "busybox", "sleep", "300")
    kube = service.ok("GenerateKube", {"name": "kube", "service": True})["pod"]
    pod, svc = kube["pod"], kube["service"]
    assert pod.startswith("apiVersion: v1\n") and "kind: Pod\n" in pod and "  name: kube\n" in pod
    assert "- name: kube-app\n" in pod and "image: docker.io/library/busybox:latest" in pod
    assert "infra" not in pod and "sleep" in pod
    assert "kind: Service\n" in svc and "type: NodePort" in svc
    assert service.ok("GenerateKube", {"name": "kube", "service": False})["pod"] == {"pod": pod, "service": ""}
    # a container outside a pod becomes a pod of its own
    service.cpod("create", "--name", "lonely", "busybox", "true")
    alone = service.ok("GenerateKube", {"name": "lonely"})["pod"]
    assert "name: lonely-pod" in alone["pod"] and alone["service"] == ""
    err, params = service.error("GenerateKube", {"name": "nothing", "service": False})
    assert err == f"{PODMAN}.ErrorOccurred" and "nothing" in params["reason"]
