# SPDX-License-Identifier: LGPL-2.1-or-later
"""cpod generate kube and play kube: a pod with a busybox container (command, env, a named volume) becomes
Kubernetes Pod and Service YAML that a YAML reader of its own checks against the schema; the YAML played
back gives an equivalent running pod, which play kube --down removes; malformed YAML or an unknown kind
fails and leaves nothing behind."""

import os
import tempfile
import time

import pytest

import cpodlib
import storelib

yaml = pytest.importorskip('yaml')

BUSYBOX = 'docker.io/library/busybox:latest'
ERROR = 125


@pytest.fixture
def store():
    storelib.require_cpod()
    s = cpodlib.Store(tempfile.mkdtemp(prefix='kb', dir='/tmp'))
    s.ok('load', '-i', cpodlib.image_path('busybox.docker.tar'))
    yield s
    s.run('pod', 'rm', '-af', timeout=60)
    s.run('rm', '-af', timeout=60)
    s.cleanup()


def fail(p, code=ERROR):
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    assert p.stderr.startswith('Error: '), p.stderr
    return p.stderr


def need(obj, key, kind):
    assert key in obj, 'missing %s in %r' % (key, obj)
    assert isinstance(obj[key], kind), '%s is %r, not %s' % (key, obj[key], kind)
    return obj[key]


def check_pod(doc, name):
    """Required keys and types of a v1 Pod as generate kube writes it."""
    assert doc['apiVersion'] == 'v1' and doc['kind'] == 'Pod'
    meta = need(doc, 'metadata', dict)
    assert need(meta, 'name', str) == name
    assert need(meta, 'labels', dict).get('app') == name
    spec = need(doc, 'spec', dict)
    assert need(spec, 'restartPolicy', str) in ('Always', 'OnFailure', 'Never')
    for c in need(spec, 'containers', list):
        need(c, 'name', str)
        need(c, 'image', str)
        for key in ('command', 'args'):
            if key in c:
                assert all(isinstance(a, str) for a in need(c, key, list))
        for e in c.get('env', []):
            need(e, 'name', str)
            need(e, 'value', str)
        for p in c.get('ports', []):
            need(p, 'containerPort', int)
            need(p, 'protocol', str)
            if 'hostPort' in p:
                need(p, 'hostPort', int)
        for m in c.get('volumeMounts', []):
            need(m, 'name', str)
            assert need(m, 'mountPath', str).startswith('/')
            need(m, 'readOnly', bool)
    names = set()
    for v in spec.get('volumes', []):
        names.add(need(v, 'name', str))
        if 'hostPath' in v:
            need(need(v, 'hostPath', dict), 'path', str)
        else:
            need(need(v, 'persistentVolumeClaim', dict), 'claimName', str)
    mounted = {m['name'] for c in spec['containers'] for m in c.get('volumeMounts', [])}
    assert mounted <= names, (mounted, names)
    return spec


def check_service(doc, name):
    assert doc['apiVersion'] == 'v1' and doc['kind'] == 'Service'
    assert need(need(doc, 'metadata', dict), 'name', str) == name
    spec = need(doc, 'spec', dict)
    assert spec['type'] == 'NodePort' and need(spec, 'selector', dict) == {'app': name}
    for p in need(spec, 'ports', list):
        need(p, 'name', str)
        need(p, 'port', int)
        need(p, 'targetPort', int)
        need(p, 'protocol', str)
        if 'nodePort' in p:
            assert 30000 <= need(p, 'nodePort', int) <= 32767


def pod_names(store):
    return {p['Name'] for p in store.json('pod', 'ps', '--format', 'json')}


def members(store, pod):
    doc = store.json('pod', 'inspect', pod)
    return [c for c in doc['Containers'] if c['Id'] != doc['InfraContainerID']]


def wait_running(store, ref, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if store.json('inspect', ref)[0]['State']['Status'] == 'running':
            return
        time.sleep(0.2)
    raise AssertionError('%s is not running' % ref)


def write(store, name, text):
    path = os.path.join(store.base, name)
    with open(path, 'w') as f:
        f.write(text)
    return path


def test_generate_play_down_round_trip(store):
    store.ok('pod', 'create', '--name', 'kp', '-p', '31080:80')
    store.ok('volume', 'create', 'kdata')
    store.ok('create', '--pod', 'kp', '--name', 'box', '-e', 'GREETING=hello world', '-e', 'N=1',
             '-v', 'kdata:/data', BUSYBOX, 'sh', '-c', 'echo made > /data/mark; exec sleep 1000')
    store.ok('pod', 'start', 'kp')

    out = store.ok('generate', 'kube', '--service', 'kp')
    docs = [d for d in yaml.safe_load_all(out) if d is not None]
    assert len(docs) == 2
    spec = check_pod(docs[0], 'kp')
    check_service(docs[1], 'kp')
    assert len(spec['containers']) == 1
    c = spec['containers'][0]
    assert c['image'] == BUSYBOX and c['name'] == 'box'
    assert c['args'] == ['sh', '-c', 'echo made > /data/mark; exec sleep 1000']
    assert {e['name']: e['value'] for e in c['env']} == {'GREETING': 'hello world', 'N': '1'}
    assert c['ports'] == [{'containerPort': 80, 'hostPort': 31080, 'protocol': 'TCP'}]
    assert c['volumeMounts'] == [{'mountPath': '/data', 'name': 'kdata-pvc', 'readOnly': False}]
    assert spec['volumes'] == [{'name': 'kdata-pvc', 'persistentVolumeClaim': {'claimName': 'kdata'}}]
    assert docs[1]['spec']['ports'][0]['port'] == 80 and docs[1]['spec']['ports'][0]['nodePort'] == 31080

    path = write(store, 'kp.yaml', out)
    assert os.path.exists(path)
    fail(store.run('generate', 'kube', '-f', path, 'kp'))  # an existing file is not overwritten
    store.ok('pod', 'rm', '-f', 'kp')
    assert 'kp' not in pod_names(store)

    lines = store.ok('play', 'kube', path).splitlines()
    assert lines[0] == 'Pod:' and len(lines[1]) == 64 and lines[2] == 'Containers:' and len(lines[3]) == 64
    assert pod_names(store) == {'kp'}
    ms = members(store, 'kp')
    assert len(ms) == 1
    wait_running(store, 'kp-box')
    ctr = store.json('inspect', 'kp-box')[0]
    assert ctr['ImageName'] == BUSYBOX
    assert ctr['Config']['Cmd'] == ['sh', '-c', 'echo made > /data/mark; exec sleep 1000']
    assert 'GREETING=hello world' in ctr['Config']['Env'] and 'N=1' in ctr['Config']['Env']
    assert store.ok('exec', 'kp-box', 'sh', '-c', 'echo "$GREETING"; cat /data/mark') == 'hello world\nmade\n'
    assert store.json('volume', 'inspect', 'kdata')[0]['Name'] == 'kdata'
    # the same YAML again describes the same pod
    again = [d for d in yaml.safe_load_all(store.ok('generate', 'kube', 'kp')) if d is not None]
    assert again[0]['spec']['containers'][0]['args'] == c['args']

    down = store.ok('play', 'kube', '--down', path).splitlines()
    assert down[0] == 'Pods stopped:' and 'Pods removed:' in down
    assert pod_names(store) == set()
    assert store.ok('ps', '-aq').strip() == ''


def test_generate_container(store):
    store.ok('create', '--name', 'solo', '-e', 'A=b c', BUSYBOX, 'true')
    docs = [d for d in yaml.safe_load_all(store.ok('generate', 'kube', 'solo')) if d is not None]
    assert len(docs) == 1
    spec = check_pod(docs[0], 'solo-pod')
    assert spec['containers'][0]['args'] == ['true'] and spec['containers'][0]['env'] == [
        {'name': 'A', 'value': 'b c'}]
    fail(store.run('generate', 'kube', 'nosuch'))


def test_play_hostpath_and_flow_yaml(store):
    host = tempfile.mkdtemp(dir=store.base)
    with open(os.path.join(host, 'f'), 'w') as f:
        f.write('from host\n')
    path = write(store, 'h.yaml', """# written by hand
apiVersion: v1
kind: Pod
metadata:
  name: hp
spec:
  restartPolicy: Never
  containers:
    - name: c
      image: '%s'
      command: ["sh", "-c"]
      args: ['cat /h/f; sleep 1000']
      volumeMounts:
        - {name: h, mountPath: /h, readOnly: "true"}
  volumes:
    - name: h
      hostPath:
        path: %s
        type: Directory
""" % (BUSYBOX, host))
    store.ok('play', 'kube', path)
    wait_running(store, 'hp-c')
    assert store.ok('exec', 'hp-c', 'cat', '/h/f') == 'from host\n'
    assert store.run('exec', 'hp-c', 'touch', '/h/g').returncode != 0  # read-only
    store.ok('play', 'kube', '--down', path)
    assert pod_names(store) == set()


def test_play_malformed_or_unknown_leaves_nothing(store):
    bad = write(store, 'bad.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\n   labels: x\n')
    err = fail(store.run('play', 'kube', bad))
    assert 'line 5' in err, err
    unknown = write(store, 'unk.yaml', 'apiVersion: apps/v1\nkind: Frobnicator\nmetadata:\n  name: x\n')
    assert 'unsupported kind "Frobnicator"' in fail(store.run('play', 'kube', unknown))
    # a pod whose second container cannot be created is rolled back, volume included
    half = write(store, 'half.yaml', """kind: Pod
metadata:
  name: half
spec:
  containers:
  - name: ok
    image: %s
    args: [sleep, "1000"]
    volumeMounts:
    - name: v
      mountPath: /v
  - name: broken
    image: localhost/no-such-image:latest
  volumes:
  - name: v
    persistentVolumeClaim:
      claimName: halfvol
""" % BUSYBOX)
    assert 'no-such-image' in fail(store.run('play', 'kube', half))
    assert pod_names(store) == set()
    assert store.ok('ps', '-aq').strip() == ''
    assert store.run('volume', 'exists', 'halfvol').returncode == 1
