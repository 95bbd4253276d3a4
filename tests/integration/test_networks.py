# SPDX-License-Identifier: LGPL-2.1-or-later
"""Bridge networks through netavark and aardvark-dns: published ports reached from the host, containers
reaching each other by name on a custom network, --network none, network create/ls/inspect/exists/rm/prune,
connect/disconnect, bad input; and after every test, nothing left behind (iptables rules, veths, network
namespaces, bind mounts, allocated addresses)."""

import json
import os
import re
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.request

import pytest

import cpodlib
import storelib

BUSYBOX = 'docker.io/library/busybox:latest'
HTTPD = 'docker.io/library/busybox:httpd'
ERROR = 125
PAGE = 'cpod test page'


def need(tool):
    for d in ('/usr/libexec/podman', '/usr/lib/podman'):
        if os.access(os.path.join(d, tool), os.X_OK):
            return
    pytest.skip('%s is not installed' % tool)


def iptables():
    return subprocess.run(['iptables-save'], capture_output=True, text=True).stdout


def veths():
    out = subprocess.run(['ip', '-o', 'link', 'show', 'type', 'veth'], capture_output=True, text=True).stdout
    return sorted(re.findall(r'^\d+: ([^:@]+)', out, re.M))


@pytest.fixture
def store():
    storelib.require_cpod()
    need('netavark')
    before = veths()
    s = cpodlib.Store(tempfile.mkdtemp(prefix='nw', dir='/tmp'))
    s.ok('load', '-i', cpodlib.image_path('busybox.docker.tar'))
    s.ok('load', '-i', cpodlib.image_path('busybox-httpd.docker.tar'))
    s.ids = []
    yield s
    ids = s.ok('ps', '-aq', '--no-trunc').split()
    s.run('rm', '-af', timeout=60)
    rules = iptables()
    for cid in ids + s.ids:
        assert cid not in rules, 'iptables rules of %s left behind' % cid
    netns = os.path.join(s.runroot, 'netns')
    left = os.listdir(netns) if os.path.isdir(netns) else []
    mounts = [line for line in open('/proc/self/mountinfo') if s.base in line and 'netns' in line]
    db = sqlite3.connect(os.path.join(s.root, 'cpod.db'))
    ips = db.execute('SELECT network, ip, container_id FROM network_ips').fetchall()
    db.close()
    s.run('network', 'prune', '-f')
    s.cleanup()
    assert left == [], left
    assert mounts == [], mounts
    assert ips == [], ips
    assert veths() == before


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def fetch(port, tries=50):
    """GET / on 127.0.0.1:port, retried while the server starts."""
    for _ in range(tries):
        try:
            with urllib.request.urlopen('http://127.0.0.1:%d/' % port, timeout=2) as r:
                return r.read().decode()
        except OSError:
            time.sleep(0.1)
    raise AssertionError('nothing answers on 127.0.0.1:%d' % port)


def fail(p, code=ERROR):
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    assert p.stderr.startswith('Error: '), p.stderr
    return p.stderr


def test_publish_on_default_bridge(store):
    port = free_port()
    cid = store.ok('run', '-d', '--name', 'web', '-p', '127.0.0.1:%d:8080' % port, HTTPD).strip()
    assert PAGE in fetch(port)
    assert store.ok('port', 'web') == '8080/tcp -> 127.0.0.1:%d\n' % port
    assert store.ok('port', 'web', '8080/tcp') == '127.0.0.1:%d\n' % port
    assert '127.0.0.1:%d->8080/tcp' % port in store.ok('ps', '--format', '{{.Ports}}')
    rules = iptables()
    assert cid in rules
    ip = store.ok('inspect', '--format', '{{.NetworkSettings.IPAddress}}', 'web').strip()
    assert ip.startswith('10.88.'), ip
    assert store.ok('inspect', '--format', '{{.HostConfig.NetworkMode}}', 'web').strip() == 'bridge'
    hosts = store.ok('exec', 'web', 'cat', '/etc/hosts')
    assert re.search(r'^%s\s.*\bweb\b' % re.escape(ip), hosts, re.M), hosts
    assert 'eth0' in store.ok('exec', 'web', 'cat', '/proc/net/dev')
    # stop tears the network down, start sets it up again
    store.ok('stop', '-t', '0', 'web')
    assert cid not in iptables()
    assert not os.path.exists(os.path.join(store.runroot, 'netns', cid))
    store.ok('start', 'web')
    assert PAGE in fetch(port)
    store.ok('rm', '-f', 'web')
    assert cid not in iptables()


def test_random_host_ports(store):
    store.ok('run', '-d', '--name', 'r', '-p', '127.0.0.1::8080', HTTPD)
    out = store.ok('port', 'r')
    m = re.fullmatch(r'8080/tcp -> 127\.0\.0\.1:(\d+)\n', out)
    assert m, out
    assert PAGE in fetch(int(m.group(1)))
    # -P publishes the image's exposed port (8080/tcp) on a random port of every address
    store.ok('run', '-d', '--name', 'all', '-P', HTTPD)
    out = store.ok('port', 'all')
    assert re.fullmatch(r'8080/tcp -> 0\.0\.0\.0:\d+\n', out), out
    # a range
    base = free_port()
    store.ok('create', '--name', 'rng', '-p', '127.0.0.1:%d-%d:80-81/udp' % (base, base + 1), BUSYBOX)
    assert store.ok('port', 'rng') == '80/udp -> 127.0.0.1:%d\n81/udp -> 127.0.0.1:%d\n' % (base, base + 1)


def test_run_rm_with_port_leaves_nothing(store):
    p = store.run('run', '--rm', '-p', '127.0.0.1:%d:80' % free_port(), BUSYBOX, 'true')
    assert p.returncode == 0, p.stderr
    assert store.ok('ps', '-aq') == ''
    # netavark sets the network up while the runtime creates the container: a start that fails after
    # both undoes both (the fixture checks rules, veths, namespaces, mounts and addresses)
    p = store.run('run', '--rm', '-p', '127.0.0.1:%d:80' % free_port(), BUSYBOX, '/nonexistent')
    assert p.returncode == 127 and 'not found' in p.stderr, (p.returncode, p.stderr)
    assert store.ok('ps', '-aq') == ''
    # the container's /etc/hosts and /etc/resolv.conf are written by then (in place, under the
    # runtime's bind mounts)
    out = store.ok('run', '--rm', '-p', '127.0.0.1:%d:80' % free_port(), '--hostname', 'h1', BUSYBOX, 'sh',
                   '-c', 'cat /etc/hosts /etc/resolv.conf; ip -4 -o addr show eth0')
    ip = re.search(r'inet (10\.88\.[0-9.]+)/16', out)
    assert ip and re.search(r'^%s\s+h1\b' % re.escape(ip.group(1)), out, re.M), out
    assert re.search(r'^10\.88\.0\.1\s+host\.containers\.internal$', out, re.M), out


def test_network_none_has_only_lo(store):
    out = store.ok('run', '--rm', '--network', 'none', BUSYBOX, 'cat', '/proc/net/dev')
    names = sorted(line.split(':')[0].strip() for line in out.splitlines()[2:])
    assert names == ['lo'], out


def test_custom_network_dns(store):
    need('aardvark-dns')
    store.ok('network', 'create', 'nwtest')
    store.ok('run', '-d', '--name', 'server', '--network', 'nwtest', '--network-alias', 'web', HTTPD)
    for name in ('server', 'web'):
        out = store.ok('run', '--rm', '--network', 'nwtest', BUSYBOX, 'wget', '-qO-', 'http://%s:8080/' % name)
        assert PAGE in out, out
    resolv = store.ok('run', '--rm', '--network', 'nwtest', BUSYBOX, 'cat', '/etc/resolv.conf')
    assert 'nameserver 10.89.' in resolv, resolv
    p = store.run('network', 'rm', 'nwtest')
    assert p.returncode == 2 and 'network is being used' in p.stderr, p.stderr
    store.ok('rm', '-f', 'server')
    assert store.ok('network', 'rm', 'nwtest') == 'nwtest\n'


def test_network_cli(store):
    ls = store.ok('network', 'ls')
    assert ls.splitlines()[0].split() == ['NETWORK', 'ID', 'NAME', 'DRIVER']
    assert re.search(r'^2f259bab93aa\s+podman\s+bridge$', ls, re.M), ls
    doc = store.json('network', 'inspect', 'podman')[0]
    assert doc['network_interface'] == 'cni-podman0'
    assert doc['subnets'] == [{'subnet': '10.88.0.0/16', 'gateway': '10.88.0.1'}]
    assert store.ok('network', 'create', '--subnet', '10.123.45.0/24', '--gateway', '10.123.45.254',
                    '--label', 'team=a', '--internal', 'n1') == 'n1\n'
    doc = store.json('network', 'inspect', 'n1')[0]
    assert doc['subnets'] == [{'subnet': '10.123.45.0/24', 'gateway': '10.123.45.254'}]
    assert doc['internal'] is True and doc['dns_enabled'] is True and doc['driver'] == 'bridge'
    assert doc['labels'] == {'team': 'a'} and doc['ipam_options'] == {'driver': 'host-local'}
    on_disk = json.load(open(os.path.join(store.root, 'networks', 'n1.json')))
    assert on_disk['id'] == doc['id']
    auto = store.ok('network', 'create').strip()
    assert re.fullmatch(r'podman\d+', auto), auto
    assert store.ok('network', 'ls', '-q') == 'n1\npodman\n%s\n' % auto
    assert store.ok('network', 'ls', '-q', '--filter', 'label=team=a') == 'n1\n'
    assert store.ok('network', 'ls', '--format', '{{.Name}} {{.Driver}}', '--filter', 'name=^n1$') == \
        'n1 bridge\n'
    assert store.run('network', 'exists', 'n1').returncode == 0
    assert store.run('network', 'exists', 'nope').returncode == 1
    assert store.ok('network', 'inspect', '--format', '{{.Name}}', doc['id'][:12]) == 'n1\n'
    assert sorted(store.ok('network', 'prune', '-f').split()) == sorted(['n1', auto])
    assert store.ok('network', 'ls', '-q') == 'podman\n'
    fail(store.run('network', 'rm', 'podman'))


def test_bad_input(store):
    store.ok('network', 'create', '--subnet', '10.124.0.0/16', 'b1')
    e = fail(store.run('network', 'create', '--subnet', '10.124.7.0/24', 'b2'))
    assert 'already used' in e and 'b1' in e
    e = fail(store.run('network', 'create', '--subnet', '10.88.1.0/24', 'b2'))
    assert 'podman' in e
    for bad in ('10.300.0.0/24', '10.125.0.1/24', 'nonsense', '10.125.0.0/33'):
        e = fail(store.run('network', 'create', '--subnet', bad, 'b2'))
        assert 'invalid subnet' in e, e
    fail(store.run('network', 'create', '--subnet', '10.125.0.0/24', '--gateway', '10.126.0.1', 'b2'))
    fail(store.run('network', 'create', '-d', 'weird', 'b2'))
    e = fail(store.run('network', 'create', 'b1'))
    assert 'already exists' in e
    assert store.ok('network', 'ls', '-q') == 'b1\npodman\n'
    e = fail(store.run('run', '--rm', '--network', 'nosuch', BUSYBOX, 'true'))
    assert 'network not found' in e
    for bad in ('127.0.0.1:99999:80', 'abc', '80/xyz', '1.2.3:80:80', '8080-8081:80'):
        fail(store.run('create', '-p', bad, BUSYBOX))
    assert store.ok('ps', '-aq') == ''
    # a host port already bound: a clear error, the --rm container gone, nothing set up
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        sock.listen()
        port = sock.getsockname()[1]
        e = fail(store.run('run', '--rm', '-p', '127.0.0.1:%d:8080' % port, HTTPD))
        assert 'cannot listen on the tcp port 127.0.0.1:%d' % port in e, e
    assert store.ok('ps', '-aq') == ''
    # a port another container of ours publishes
    port = free_port()
    store.ok('run', '-d', '--name', 'p1', '-p', '127.0.0.1:%d:8080' % port, HTTPD)
    store.ok('create', '--name', 'p2', '-p', '%d:8080' % port, HTTPD)
    e = fail(store.run('start', 'p2'))
    assert 'Address already in use' in e, e
    store.ids.append(store.ok('inspect', '--format', '{{.Id}}', 'p2').strip())
    assert PAGE in fetch(port)


def test_static_ip_and_hosts(store):
    store.ok('network', 'create', '--subnet', '10.127.0.0/24', 's1')
    out = store.ok('run', '--rm', '--network', 's1', '--ip', '10.127.0.50', '--add-host', 'db.local:10.1.2.3',
                   '--dns', '10.127.0.9', BUSYBOX, 'sh', '-c', 'ip -4 addr show eth0; cat /etc/hosts /etc/resolv.conf')
    assert 'inet 10.127.0.50/24' in out, out
    assert re.search(r'^10\.1\.2\.3\s+db\.local$', out, re.M), out
    assert 'nameserver 10.127.0.9' in out
    store.ok('run', '-d', '--name', 'holder', '--network', 's1', '--ip', '10.127.0.50', BUSYBOX, 'sleep', '60')
    e = fail(store.run('run', '--rm', '--network', 's1', '--ip', '10.127.0.50', BUSYBOX, 'true'))
    assert 'already allocated' in e, e
    # addresses are not shared: the next one gets another
    out = store.ok('run', '--rm', '--network', 's1', BUSYBOX, 'ip', '-4', 'addr', 'show', 'eth0')
    assert 'inet 10.127.0.50/' not in out and 'inet 10.127.0.' in out, out


def test_connect_disconnect(store):
    store.ok('network', 'create', '--subnet', '10.128.0.0/24', 'c1')
    store.ok('run', '-d', '--name', 'c', '--network', 'c1', BUSYBOX, 'sleep', '60')
    store.ok('network', 'connect', 'podman', 'c')
    out = store.ok('exec', 'c', 'ip', '-4', 'addr')
    assert 'inet 10.128.0.' in out and 'inet 10.88.' in out, out
    e = fail(store.run('network', 'connect', 'podman', 'c'))
    assert 'already connected' in e
    store.ok('network', 'disconnect', 'podman', 'c')
    out = store.ok('exec', 'c', 'ip', '-4', 'addr')
    assert 'inet 10.128.0.' in out and 'inet 10.88.' not in out, out
    e = fail(store.run('network', 'disconnect', 'podman', 'c'))
    assert 'not connected' in e
    # a stopped container: connected at its next start
    store.ok('stop', '-t', '0', 'c')
    store.ok('network', 'connect', 'podman', 'c')
    store.ok('start', 'c')
    out = store.ok('exec', 'c', 'ip', '-4', 'addr')
    assert 'inet 10.88.' in out, out
    e = fail(store.run('network', 'connect', 'nosuch', 'c'))
    assert 'network not found' in e


@pytest.fixture
def parent():
    """A parent interface for macvlan networks, removed afterwards: a dummy link, or a bridge where the
    kernel has no dummy driver (both carry macvlans in bridge mode, which reach each other)."""
    name = 'cpodtest%d' % (os.getpid() % 1000)
    subprocess.run(['ip', 'link', 'del', name], capture_output=True)
    for kind in ('dummy', 'bridge'):
        if subprocess.run(['ip', 'link', 'add', name, 'type', kind], capture_output=True).returncode == 0:
            break
    else:
        pytest.skip('cannot create a dummy or bridge link')
    subprocess.run(['ip', 'link', 'set', name, 'up'], check=True)
    yield name
    out = subprocess.run(['ip', '-o', 'link', 'show'], capture_output=True, text=True).stdout
    subprocess.run(['ip', 'link', 'del', name], check=True)
    assert '@%s:' % name not in out, out  # no macvlan of a container left on the host


def test_macvlan(store, parent):
    store.ok('network', 'create', '-d', 'macvlan', '--subnet', '10.129.0.0/24', '-o', 'parent=' + parent,
             'mv')
    doc = store.json('network', 'inspect', 'mv')[0]
    assert doc['driver'] == 'macvlan' and doc['network_interface'] == parent, doc
    assert doc['subnets'] == [{'subnet': '10.129.0.0/24', 'gateway': '10.129.0.1'}], doc
    assert doc['dns_enabled'] is False and 'parent' not in doc.get('options', {}), doc
    assert re.search(r'^\w{12}\s+mv\s+macvlan$', store.ok('network', 'ls'), re.M)
    cid = store.ok('run', '-d', '--name', 'srv', '--network', 'mv', '--ip', '10.129.0.10', HTTPD).strip()
    out = store.ok('exec', 'srv', 'ip', '-4', 'addr', 'show', 'eth0')
    assert 'inet 10.129.0.10/24' in out, out
    net = store.json('inspect', 'srv')[0]['NetworkSettings']
    assert net['IPAddress'] == '10.129.0.10' and net['Gateway'] == '10.129.0.1', net
    assert net['Networks']['mv']['NetworkID'] == doc['id'], net
    assert re.fullmatch(r'([0-9a-f]{2}:){5}[0-9a-f]{2}', net['Networks']['mv']['MacAddress']), net
    # a second container on the same parent reaches the first one's httpd, and its own address is the
    # one asked for
    out = store.ok('run', '--rm', '--network', 'mv', '--ip', '10.129.0.11', BUSYBOX, 'sh', '-c',
                   'ip -4 addr show eth0; wget -qO- http://10.129.0.10:8080/')
    assert 'inet 10.129.0.11/24' in out and PAGE in out, out
    e = fail(store.run('run', '--rm', '--network', 'mv', '--ip', '10.129.0.10', BUSYBOX, 'true'))
    assert 'already allocated' in e, e
    # the host side holds nothing of the containers: the macvlans live in their namespaces
    assert cid not in iptables()
    p = store.run('network', 'rm', 'mv')
    assert p.returncode == 2 and 'network is being used' in p.stderr, p.stderr
    store.ok('rm', '-f', 'srv')
    assert store.ok('network', 'rm', 'mv') == 'mv\n'


def test_macvlan_bad_input(store, parent):
    e = fail(store.run('network', 'create', '-d', 'macvlan', '--subnet', '10.130.0.0/24', 'm1'))
    assert 'parent' in e, e
    e = fail(store.run('network', 'create', '-d', 'macvlan', '--subnet', '10.130.0.0/24', '-o',
                       'parent=nosuchlink0', 'm1'))
    assert 'nosuchlink0 does not exist' in e, e
    e = fail(store.run('network', 'create', '-d', 'macvlan', '-o', 'parent=' + parent, 'm1'))
    assert '--subnet' in e, e
    e = fail(store.run('network', 'create', '-d', 'macvlan', '--subnet', '10.130.0.0/24', '-o',
                       'parent=' + parent, '-o', 'mode=sideways', 'm1'))
    assert 'mode' in e, e
    e = fail(store.run('network', 'create', '-d', 'macvlan', '--subnet', '10.130.0.0/24', '-o',
                       'parent=' + parent, '-o', 'color=blue', 'm1'))
    assert 'color' in e, e
    assert store.ok('network', 'ls', '-q') == 'podman\n'
    # --interface-name names the parent too; mode= and mtu= are kept for netavark
    store.ok('network', 'create', '-d', 'macvlan', '--subnet', '10.130.0.0/24', '--interface-name', parent,
             '-o', 'mode=bridge', '-o', 'mtu=1400', 'm1')
    doc = store.json('network', 'inspect', 'm1')[0]
    assert doc['network_interface'] == parent and doc['options'] == {'mode': 'bridge', 'mtu': '1400'}, doc
    out = store.ok('run', '--rm', '--network', 'm1', BUSYBOX, 'ip', 'link', 'show', 'eth0')
    assert 'mtu 1400' in out, out
