# SPDX-License-Identifier: LGPL-2.1-or-later
"""cpod pod create, start, stop, restart, kill, pause, unpause, rm, ps, inspect, top, stats, exists and
prune through the CLI, run --pod and --pod new:NAME, and members sharing the infra container's network, IPC
and UTS namespaces."""

import json
import os
import tempfile
import time

import pytest

import cpodlib
import storelib

BUSYBOX = 'docker.io/library/busybox:latest'
ERROR = 125


@pytest.fixture
def store():
    storelib.require_cpod()
    s = cpodlib.Store(tempfile.mkdtemp(prefix='po', dir='/tmp'))
    s.ok('load', '-i', cpodlib.image_path('busybox.docker.tar'))
    yield s
    s.run('pod', 'rm', '-af', timeout=60)
    s.run('rm', '-af', timeout=60)
    s.cleanup()


def fail(p, code=ERROR):
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    assert p.stderr.startswith('Error: '), p.stderr
    return p.stderr


def states(store):
    return {c['Names'][0] if isinstance(c['Names'], list) else c['Names']: c['State']
            for c in store.json('ps', '-a', '--format', 'json')}


def pod_ps(store):
    return {p['Name']: p for p in store.json('pod', 'ps', '--format', 'json')}


def test_create_builds_infra_image_and_lists(store):
    pid = store.ok('pod', 'create', '--name', 'p1', '--label', 'a=b').strip()
    assert len(pid) == 64
    assert 'localhost/cpod-infra' in store.ok('images')
    p = pod_ps(store)['p1']
    assert p['Id'] == pid and p['Status'] == 'Created' and p['Labels'] == {'a': 'b'}
    assert len(p['Containers']) == 1 and p['Containers'][0]['Id'] == p['InfraId']
    table = store.ok('pod', 'ps').splitlines()
    assert table[0].split() == ['POD', 'ID', 'NAME', 'STATUS', 'CREATED', 'INFRA', 'ID', '#', 'OF', 'CONTAINERS']
    assert store.ok('pod', 'ps', '-q').strip() == pid[:12]
    assert store.run('pod', 'exists', 'p1').returncode == 0
    assert store.run('pod', 'exists', 'nope').returncode == 1
    doc = store.json('pod', 'inspect', 'p1')
    assert doc['Name'] == 'p1' and doc['Hostname'] == 'p1' and doc['SharedNamespaces'] == ['ipc', 'net', 'uts']
    assert doc['InfraContainerID'] == p['InfraId'] and doc['NumContainers'] == 1


def test_members_share_network_and_hostname(store):
    store.ok('pod', 'create', '--name', 'web')
    store.ok('run', '-d', '--pod', 'web', '--name', 'srv', BUSYBOX, 'sh', '-c',
             'nc -l -p 1234 > /tmp/got; sleep 300')
    assert pod_ps(store)['web']['Status'] == 'Running'
    assert store.ok('run', '--rm', '--pod', 'web', BUSYBOX, 'hostname').strip() == 'web'
    assert store.ok('exec', 'srv', 'hostname').strip() == 'web'
    # the listener may not be up yet right after run -d: retry the client until the data arrived
    for _ in range(50):
        store.run('run', '--rm', '--pod', 'web', BUSYBOX, 'sh', '-c', 'echo hi | nc 127.0.0.1 1234')
        if store.run('exec', 'srv', 'cat', '/tmp/got').stdout.strip() == 'hi':
            break
        time.sleep(0.1)
    assert store.ok('exec', 'srv', 'cat', '/tmp/got').strip() == 'hi'
    top = store.ok('pod', 'top', 'web')
    assert 'catatonit' in top and 'sleep 300' in top
    assert 'srv' in store.ok('pod', 'stats', '--no-stream', 'web')


def test_stop_start_stops_all_members(store):
    store.ok('pod', 'create', '--name', 'p')
    store.ok('run', '-d', '--pod', 'p', '--name', 'a', BUSYBOX, 'sleep', '300')
    store.ok('run', '-d', '--pod', 'p', '--name', 'b', BUSYBOX, 'sleep', '300')
    store.ok('pod', 'stop', '-t', '1', 'p')
    st = states(store)
    assert all(st[n] in ('exited', 'stopped') for n in st), st
    assert pod_ps(store)['p']['Status'] == 'Exited'
    store.ok('pod', 'start', 'p')
    assert all(s == 'running' for s in states(store).values())
    store.ok('pod', 'pause', 'p')
    assert pod_ps(store)['p']['Status'] == 'Paused'
    store.ok('pod', 'unpause', 'p')
    assert pod_ps(store)['p']['Status'] == 'Running'
    store.ok('pod', 'kill', 'p')
    # kill returns once the signals are sent; conmon records the exits just after
    for _ in range(200):
        if pod_ps(store)['p']['Status'] == 'Exited':
            break
        time.sleep(0.05)
    assert pod_ps(store)['p']['Status'] == 'Exited'
    store.ok('pod', 'restart', 'p')
    assert pod_ps(store)['p']['Status'] == 'Running'


def test_rm_force_removes_members_and_infra(store):
    store.ok('pod', 'create', '--name', 'p')
    store.ok('run', '-d', '--pod', 'p', '--name', 'a', BUSYBOX, 'sleep', '300')
    infra = pod_ps(store)['p']['InfraId']
    assert 'infra container' in fail(store.run('rm', '-f', infra), code=2)
    assert 'without force' in fail(store.run('pod', 'rm', 'p'))
    store.ok('pod', 'rm', '-f', 'p')
    assert store.json('ps', '-a', '--format', 'json') == []
    assert pod_ps(store) == {}
    assert store.run('pod', 'exists', 'p').returncode == 1


def processes_of(store):
    """The pids of processes whose command line names the store (conmon, crun, the exit command)."""
    found = []
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                if store.base.encode() + b'/' in f.read():
                    found.append(pid)
        except OSError:
            pass
    return found


def test_rm_force_kills_running_paused_and_exited_members(store):
    store.ok('pod', 'create', '--name', 'p')
    # a restart policy must not bring a member back while the pod goes
    store.ok('run', '-d', '--pod', 'p', '--name', 'run', '--restart', 'always', BUSYBOX, 'sleep', '300')
    store.ok('run', '-d', '--pod', 'p', '--name', 'paused', BUSYBOX, 'sleep', '300')
    store.ok('run', '--pod', 'p', '--name', 'done', BUSYBOX, 'true')
    store.ok('pause', 'paused')
    pid = pod_ps(store)['p']['Id']
    assert store.ok('pod', 'rm', '-f', 'p').strip() == pid
    assert store.json('ps', '-a', '--format', 'json') == []
    assert pod_ps(store) == {}
    # every conmon has seen its container exit and gone (the exit commands finish after the rm)
    for _ in range(200):
        if not processes_of(store):
            break
        time.sleep(0.05)
    assert processes_of(store) == []
    # the name is free again, and the new pod starts
    store.ok('pod', 'create', '--name', 'p')
    store.ok('pod', 'start', 'p')
    assert pod_ps(store)['p']['Status'] == 'Running'


def test_pod_new_and_prune(store):
    assert store.ok('run', '--rm', '--pod', 'new:fresh', BUSYBOX, 'hostname').strip() == 'fresh'
    assert 'fresh' in pod_ps(store)
    store.ok('pod', 'stop', 'fresh')
    pid = pod_ps(store)['fresh']['Id']
    assert store.ok('pod', 'prune', '-f').split() == [pid]
    assert pod_ps(store) == {}


def test_bad_input(store):
    store.ok('pod', 'create', '--name', 'taken')
    err = fail(store.run('pod', 'create', '--name', 'taken'))
    assert 'in use' in err
    assert len(pod_ps(store)) == 1
    assert len(store.json('ps', '-a', '--format', 'json')) == 1
    assert 'no such pod' in fail(store.run('run', '--rm', '--pod', 'missing', BUSYBOX, 'true'))
    assert 'namespace' in fail(store.run('pod', 'create', '--share', 'net,bogus'))
    assert 'invalid pod name' in fail(store.run('pod', 'create', '--name', '-x'))
    assert 'hostname' in fail(store.run('create', '--pod', 'taken', '--hostname', 'h', BUSYBOX))
    # a failed run --pod new: leaves no pod behind
    fail(store.run('run', '--rm', '--pod', 'new:gone', 'no-such-image'))
    assert 'gone' not in pod_ps(store)
    assert 'no pod' in fail(store.run('pod', 'rm', 'nope'))
