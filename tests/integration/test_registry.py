# SPDX-License-Identifier: LGPL-2.1-or-later
"""cpod pull, push, login, logout, search and manifest inspect against real
registries on 127.0.0.1: Debian's docker-registry (anonymous, htpasswd Basic
auth, token auth with our token server, TLS with a private CA), and a fake
registry in Python that misbehaves on purpose."""

import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cpodlib import IMAGES, Store, image_path
from token_server import TokenServer, make_key_and_cert

with open(image_path('images.json')) as f:
    IMG = json.load(f)
BUSYBOX = IMG['busybox']
HTTPD = IMG['busybox-httpd']
TIMEOUT = 60


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_port(port, proc, what):
    deadline = time.time() + 15
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError('%s exited: %s' % (what, proc.stderr.read() if proc.stderr else ''))
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError('%s did not start' % what)


class Registry:
    """docker-registry serving a temporary storage root on a free loopback port."""

    def __init__(self, auth=None, tls=None):
        self.dir = tempfile.mkdtemp(prefix='cpod-registry-')
        self.port = free_port()
        self.host = '127.0.0.1:%d' % self.port
        self.tls = tls
        lines = ['version: 0.1',
                 'log: {level: error, accesslog: {disabled: true}}',
                 'storage:',
                 '  filesystem: {rootdirectory: %s}' % os.path.join(self.dir, 'data'),
                 '  delete: {enabled: true}',
                 'http:',
                 '  addr: 127.0.0.1:%d' % self.port,
                 '  secret: test-only']
        if tls:
            lines.append('  tls: {certificate: %s, key: %s}' % tls)
        if auth:
            lines += ['auth:'] + ['  ' + line for line in auth]
        self.config = os.path.join(self.dir, 'config.yml')
        with open(self.config, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        self.proc = subprocess.Popen(['docker-registry', 'serve', self.config], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        wait_port(self.port, self.proc, 'docker-registry')

    def url(self, path):
        return '%s://%s%s' % ('https' if self.tls else 'http', self.host, path)

    def request(self, method, path, body=None, headers=None):
        req = urllib.request.Request(self.url(path), data=body, method=method, headers=headers or {})
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            return r.status, dict(r.headers), r.read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def skopeo(*args, check=True):
    p = subprocess.run(['skopeo'] + list(args), capture_output=True, text=True, timeout=TIMEOUT)
    if check and p.returncode != 0:
        raise AssertionError('skopeo %s: %s' % (' '.join(args), p.stderr))
    return p


def oci_source(name):
    tag = {'busybox': 'latest', 'busybox-httpd': 'httpd'}[name]
    return 'oci:%s:%s' % (os.path.join(IMAGES, name + '.oci'), tag)


def remote_digest(host, ref, *extra):
    out = skopeo('inspect', '--raw', '--tls-verify=false', *extra, 'docker://%s/%s' % (host, ref)).stdout
    return 'sha256:' + hashlib.sha256(out.encode()).hexdigest()


def put_blob(reg, repo, data):
    digest = 'sha256:' + hashlib.sha256(data).hexdigest()
    _, h, _ = reg.request('POST', '/v2/%s/blobs/uploads/' % repo)
    loc = h['Location']
    loc += ('&' if '?' in loc else '?') + 'digest=' + digest
    if loc.startswith('/'):
        loc = reg.url(loc)
    req = urllib.request.Request(loc, data=data, method='PUT',
                                 headers={'Content-Type': 'application/octet-stream'})
    urllib.request.urlopen(req, timeout=TIMEOUT).read()
    return digest


def put_manifest(reg, repo, ref, doc, media_type):
    body = json.dumps(doc).encode()
    reg.request('PUT', '/v2/%s/manifests/%s' % (repo, ref), body, {'Content-Type': media_type})
    return 'sha256:' + hashlib.sha256(body).hexdigest(), len(body)


def make_index(reg):
    """multi:latest, an OCI index of busybox for amd64 and a copy whose config says arm64/v8."""
    skopeo('copy', '-q', '--dest-tls-verify=false', oci_source('busybox'), 'docker://%s/multi:amd64' % reg.host)
    _, _, raw = reg.request('GET', '/v2/multi/manifests/amd64',
                            headers={'Accept': 'application/vnd.oci.image.manifest.v1+json'})
    manifest = json.loads(raw)
    _, _, cfg = reg.request('GET', '/v2/multi/blobs/' + manifest['config']['digest'])
    config = json.loads(cfg)
    config['architecture'] = 'arm64'
    config['variant'] = 'v8'
    cfg2 = json.dumps(config).encode()
    manifest['config']['digest'] = put_blob(reg, 'multi', cfg2)
    manifest['config']['size'] = len(cfg2)
    mt = 'application/vnd.oci.image.manifest.v1+json'
    arm_digest, arm_size = put_manifest(reg, 'multi', 'arm64', manifest, mt)
    index = {'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json', 'manifests': [
        {'mediaType': mt, 'digest': BUSYBOX['manifest_digest'], 'size': len(raw),
         'platform': {'os': 'linux', 'architecture': 'amd64'}},
        {'mediaType': mt, 'digest': arm_digest, 'size': arm_size,
         'platform': {'os': 'linux', 'architecture': 'arm64', 'variant': 'v8'}}]}
    put_manifest(reg, 'multi', 'latest', index, 'application/vnd.oci.image.index.v1+json')
    return manifest['config']['digest'][7:]


@pytest.fixture(scope='module')
def registry():
    reg = Registry()
    skopeo('copy', '-q', '--dest-tls-verify=false', oci_source('busybox'), 'docker://%s/busybox:latest' % reg.host)
    skopeo('copy', '-q', '--dest-tls-verify=false', '--format', 'v2s2', oci_source('busybox-httpd'),
           'docker://%s/httpd:v2s2' % reg.host)
    reg.arm64_id = make_index(reg)
    yield reg
    reg.stop()


@pytest.fixture
def store():
    s = Store()
    yield s
    s.cleanup()


def check_clean(store):
    p = store.run('system', 'check')
    assert p.returncode == 0, p.stdout + p.stderr


def image_ids(store):
    return sorted(i.replace('sha256:', '') for i in store.ok('images', '-q', '--no-trunc').split())


# ---- pulls from docker-registry ----

def test_pull_oci_image(registry, store):
    p = store.run('pull', '--tls-verify=false', '%s/busybox:latest' % registry.host)
    assert p.returncode == 0, p.stderr
    assert p.stdout == BUSYBOX['id'] + '\n'
    lines = p.stderr.splitlines()
    assert lines[0] == 'Trying to pull %s/busybox:latest...' % registry.host
    assert 'Copying blob %s done' % BUSYBOX['layer_digests'][0] in lines
    assert 'Copying config %s done' % BUSYBOX['config_digest'] in lines
    assert 'Writing manifest to image destination' in lines
    img = store.json('image', 'inspect', '%s/busybox' % registry.host)[0]
    assert img['RepoTags'] == ['%s/busybox:latest' % registry.host]
    assert img['RepoDigests'] == ['%s/busybox@%s' % (registry.host, BUSYBOX['manifest_digest'])]
    check_clean(store)
    # again: everything is there already
    p = store.run('pull', '--tls-verify=false', '%s/busybox:latest' % registry.host)
    assert p.returncode == 0 and p.stdout == BUSYBOX['id'] + '\n'
    assert 'skipped: already exists' in p.stderr
    assert store.run('run', '--rm', '--network', 'none', '%s/busybox' % registry.host, 'true').returncode in (0, 125)


def test_pull_v2s2_multilayer_quiet(registry, store):
    p = store.run('pull', '-q', '--tls-verify=false', '%s/httpd:v2s2' % registry.host)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ''
    assert p.stdout.strip() == HTTPD['id'] and image_ids(store) == [HTTPD['id']]
    img = store.json('image', 'inspect', HTTPD['id'])[0]
    assert img['RepoDigests'] == ['%s/httpd@%s' % (registry.host, remote_digest(registry.host, 'httpd:v2s2'))]
    assert len(img['RootFS']['Layers']) == 2
    check_clean(store)


def test_pull_layers_match_their_tarballs(registry, store):
    # each layer is hashed once while it downloads: the store records the digest its blob was checked
    # against; and every entry of every layer tarball is on disk with its type, mode, owner and time
    ref = '%s/httpd:v2s2' % registry.host
    assert store.ok('pull', '-q', '--tls-verify=false', ref).strip() == HTTPD['id']
    db = sqlite3.connect(os.path.join(store.root, 'cpod.db'))
    rows = db.execute('SELECT l.id, l.compressed_digest, l.diff_id FROM image_layers il JOIN layers l '
                      'ON l.id = il.layer_id WHERE il.image_id = ? ORDER BY il.idx', (HTTPD['id'],)).fetchall()
    db.close()
    assert [r[2] for r in rows] == store.json('image', 'inspect', HTTPD['id'])[0]['RootFS']['Layers']
    blobs = os.path.join(store.root, 'blobs', 'sha256')
    checked = 0
    for layer_id, compressed, _ in rows:
        blob = os.path.join(blobs, compressed[7:])
        with open(blob, 'rb') as f:
            assert 'sha256:' + hashlib.sha256(f.read()).hexdigest() == compressed
        root = os.path.join(store.root, 'layers', layer_id, 'diff')
        with tarfile.open(blob) as t:
            for m in t.getmembers():
                name = os.path.normpath(m.name)
                if os.path.basename(name).startswith('.wh.'):
                    continue
                p = os.path.join(root, name) if name != '.' else root
                st = os.lstat(p)
                assert (st.st_uid, st.st_gid) == (m.uid, m.gid), name
                assert int(st.st_mtime) == int(m.mtime), name
                if m.issym():
                    assert os.readlink(p) == m.linkname, name
                    continue
                assert st.st_mode & 0o7777 == m.mode & 0o7777, (name, oct(st.st_mode), oct(m.mode))
                if m.isdir():
                    assert os.path.isdir(p) and not os.path.islink(p), name
                elif m.islnk():
                    assert os.path.samefile(p, os.path.join(root, os.path.normpath(m.linkname))), name
                elif m.isreg():
                    assert st.st_size == m.size, name
                checked += 1
    assert checked > 20
    check_clean(store)


def test_pull_by_digest(registry, store):
    ref = '%s/busybox@%s' % (registry.host, BUSYBOX['manifest_digest'])
    assert store.ok('pull', '-q', '--tls-verify=false', ref).strip() == BUSYBOX['id']
    img = store.json('image', 'inspect', BUSYBOX['id'])[0]
    assert img['RepoDigests'] == [ref]
    bad = '%s/busybox@sha256:%s' % (registry.host, '0' * 64)
    p = store.run('pull', '--tls-verify=false', bad)
    assert p.returncode == 125 and '404' in p.stderr


def test_pull_index_platforms(registry, store):
    ref = '%s/multi:latest' % registry.host
    assert store.ok('pull', '-q', '--tls-verify=false', ref).strip() == BUSYBOX['id']
    assert store.ok('pull', '-q', '--tls-verify=false', '--arch', 'arm64', ref).strip() == registry.arm64_id
    store.ok('rmi', registry.arm64_id)
    assert store.ok('pull', '-q', '--tls-verify=false', '--platform', 'linux/arm64/v8', ref).strip() == \
        registry.arm64_id
    p = store.run('pull', '--tls-verify=false', '--arch', 's390x', ref)
    assert p.returncode == 125
    assert 'no image found in manifest list for architecture s390x' in p.stderr
    p = store.run('pull', '--tls-verify=false', '--platform', 'linux', ref)
    assert p.returncode == 125 and 'platform' in p.stderr
    check_clean(store)


def test_pull_all_tags_and_short_names(registry, store):
    conf = os.path.join(store.base, 'registries.conf')
    with open(conf, 'w') as f:
        f.write('unqualified-search-registries = ["127.0.0.1:1", "%s"]\n'
                '[[registry]]\nlocation = "%s"\ninsecure = true\n' % (registry.host, registry.host))
    env = dict(os.environ, CONTAINERS_REGISTRIES_CONF=conf)
    p = store.run('--registries-conf', conf, 'pull', 'multi', env=env)
    assert p.returncode == 0, p.stderr
    assert 'Trying to pull 127.0.0.1:1/multi:latest...' in p.stderr
    assert 'Trying to pull %s/multi:latest...' % registry.host in p.stderr
    p = store.run('--registries-conf', conf, 'pull', '-q', '--all-tags', '%s/multi' % registry.host, env=env)
    assert p.returncode == 0, p.stderr
    assert sorted(set(p.stdout.split())) == sorted({BUSYBOX['id'], registry.arm64_id})
    names = store.ok('images', '--format', '{{.Repository}}:{{.Tag}}').split()
    assert {'%s/multi:%s' % (registry.host, t) for t in ('amd64', 'arm64', 'latest')} <= set(names)
    p = store.run('--registries-conf', conf, 'pull', '--all-tags', '%s/multi:latest' % registry.host, env=env)
    assert p.returncode == 125


def test_pull_unreachable(store):
    port = free_port()
    p = store.run('pull', '--tls-verify=false', '127.0.0.1:%d/busybox:latest' % port)
    assert p.returncode == 125
    assert ("Couldn't connect" in p.stderr or 'Connection refused' in p.stderr) and '127.0.0.1:%d' % port in p.stderr
    assert image_ids(store) == []


def test_manifest_inspect(registry, store):
    doc = json.loads(store.ok('manifest', 'inspect', '--tls-verify=false', '%s/multi' % registry.host))
    assert doc['mediaType'] == 'application/vnd.oci.image.index.v1+json'
    assert [m['platform']['architecture'] for m in doc['manifests']] == ['amd64', 'arm64']
    doc = json.loads(store.ok('manifest', 'inspect', '--tls-verify=false', '%s/busybox' % registry.host))
    assert doc['layers'][0]['digest'] == BUSYBOX['layer_digests'][0]


def test_image_exists_remote(registry, store):
    assert store.run('image', 'exists', '--remote', '--tls-verify=false', '%s/busybox' % registry.host).returncode == 0
    assert store.run('image', 'exists', '--remote', '--tls-verify=false', '%s/nosuch' % registry.host).returncode == 1
    assert store.run('image', 'exists', '--tls-verify=false', '%s/busybox' % registry.host).returncode == 125
    assert store.run('image', 'exists', '%s/busybox' % registry.host).returncode == 1, 'not in local storage'
    p = store.run('image', 'exists', '--remote', '--tls-verify=false', '127.0.0.1:%d/busybox' % free_port())
    assert p.returncode == 125 and 'Error:' in p.stderr


def test_search(registry, store):
    out = store.ok('search', '--tls-verify=false', '%s/bus' % registry.host)
    assert out.splitlines()[0].split() == ['NAME', 'DESCRIPTION']
    assert [line.split()[0] for line in out.splitlines()[1:]] == ['%s/busybox' % registry.host]
    out = store.ok('search', '--tls-verify=false', '--format', '{{.Name}}', '%s/' % registry.host)
    assert {'%s/%s' % (registry.host, r) for r in ('busybox', 'httpd', 'multi')} <= set(out.split())
    out = store.ok('search', '--tls-verify=false', '--limit', '1', '--format', '{{.Name}}', '%s/' % registry.host)
    assert len(out.split()) == 1
    out = store.ok('search', '--tls-verify=false', '--list-tags', '%s/multi' % registry.host)
    rows = [line.split() for line in out.splitlines()]
    assert rows[0] == ['NAME', 'TAG']
    assert sorted(r[1] for r in rows[1:]) == ['amd64', 'arm64', 'latest']
    out = store.ok('search', '--tls-verify=false', '--format', 'json', '%s/httpd' % registry.host)
    assert json.loads(out)[0]['Name'] == '%s/httpd' % registry.host


# ---- pushes ----

def test_push_roundtrip_keeps_digests(registry, store, tmp_path):
    h = registry.host
    store.ok('pull', '-q', '--tls-verify=false', '%s/httpd:v2s2' % h)
    v2s2 = remote_digest(h, 'httpd:v2s2')
    p = store.run('push', '--tls-verify=false', '%s/httpd:v2s2' % h, '%s/copy/httpd:v1' % h)
    assert p.returncode == 0, p.stderr
    # blobs come from the repository the image was pulled from
    assert 'skipped: already exists' in p.stderr
    assert remote_digest(h, 'copy/httpd:v1') == v2s2
    # a loaded image, pushed with chunked uploads, keeps the bundled digest
    store.ok('load', '-i', image_path('busybox.oci.tar'))
    env = dict(os.environ, CPOD_PUSH_CHUNK_SIZE='100000')
    digestfile = str(tmp_path / 'digest')
    p = store.run('push', '--tls-verify=false', '--digestfile', digestfile, 'docker.io/library/busybox:latest',
                  'docker://%s/pushed/busybox:latest' % h, env=env)
    assert p.returncode == 0, p.stderr
    assert 'Copying blob %s done' % BUSYBOX['layer_digests'][0] in p.stderr
    assert open(digestfile).read() == BUSYBOX['manifest_digest']
    assert remote_digest(h, 'pushed/busybox:latest') == BUSYBOX['manifest_digest']
    # skopeo reads it back
    out = tmp_path / 'oci'
    skopeo('copy', '-q', '--src-tls-verify=false', 'docker://%s/pushed/busybox:latest' % h, 'oci:%s:x' % out)
    index = json.load(open(out / 'index.json'))
    assert index['manifests'][0]['digest'] == BUSYBOX['manifest_digest']
    # and so does podman, with a private store
    pod = tempfile.mkdtemp(prefix='cpr-')  # podman limits the runroot's length
    p = subprocess.run(['podman', '--root', pod + '/root', '--runroot', pod + '/run', '--storage-driver',
                        'vfs', 'pull', '-q', '--tls-verify=false', '%s/pushed/busybox:latest' % h],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == BUSYBOX['id']
    shutil.rmtree(pod, ignore_errors=True)
    # pulled back by cpod into a fresh store
    s2 = Store()
    try:
        assert s2.ok('pull', '-q', '--tls-verify=false', '%s/pushed/busybox:latest' % h).strip() == BUSYBOX['id']
    finally:
        s2.cleanup()


def test_push_to_archives(store, tmp_path):
    store.ok('load', '-i', image_path('busybox.oci.tar'))
    for transport in ('oci-archive', 'docker-archive', 'oci'):
        dest = str(tmp_path / transport)
        p = store.run('push', 'busybox', '%s:%s' % (transport, dest))
        assert p.returncode == 0, p.stderr
        out = skopeo('inspect', '--raw', '%s:%s' % (transport, dest)).stdout
        doc = json.loads(out)
        if transport != 'docker-archive':
            assert 'sha256:' + hashlib.sha256(out.encode()).hexdigest() == BUSYBOX['manifest_digest']
        assert doc['config']['digest'] == BUSYBOX['config_digest']
    p = store.run('push', 'nosuchimage', 'oci:%s' % (tmp_path / 'x'))
    assert p.returncode == 125


# ---- authentication ----

@pytest.fixture(scope='module')
def basic_registry():
    d = tempfile.mkdtemp(prefix='cpod-htpasswd-')
    pw = os.path.join(d, 'htpasswd')
    out = subprocess.run(['htpasswd', '-Bbn', 'alice', 's3cret'], capture_output=True, text=True, check=True)
    with open(pw, 'w') as f:
        f.write(out.stdout)
    reg = Registry(auth=['htpasswd: {realm: cpod-test, path: %s}' % pw])
    skopeo('copy', '-q', '--dest-tls-verify=false', '--dest-creds', 'alice:s3cret', oci_source('busybox'),
           'docker://%s/busybox:latest' % reg.host)
    yield reg
    reg.stop()
    shutil.rmtree(d, ignore_errors=True)


def test_basic_auth_login_pull_logout(basic_registry, store):
    h = basic_registry.host
    authfile = os.path.join(store.base, 'auth.json')
    p = store.run('pull', '--tls-verify=false', '--authfile', authfile, '%s/busybox' % h)
    assert p.returncode == 125 and 'authentication required' in p.stderr
    p = store.run('login', '--tls-verify=false', '--authfile', authfile, '-u', 'alice', '-p', 'wrong', h)
    assert p.returncode == 125 and 'invalid username/password' in p.stderr
    assert not os.path.exists(authfile)
    p = store.run('login', '--tls-verify=false', '--authfile', authfile, '-u', 'alice', '--password-stdin', h,
                  input='s3cret\n')
    assert p.returncode == 0 and p.stdout == 'Login Succeeded!\n', p.stderr
    auths = json.load(open(authfile))['auths']
    assert base64.b64decode(auths[h]['auth']) == b'alice:s3cret'
    assert os.stat(authfile).st_mode & 0o077 == 0
    assert store.ok('pull', '-q', '--tls-verify=false', '--authfile', authfile, '%s/busybox' % h).strip() == \
        BUSYBOX['id']
    # REGISTRY_AUTH_FILE works the same
    env = dict(os.environ, REGISTRY_AUTH_FILE=authfile)
    assert store.run('push', '--tls-verify=false', '%s/busybox' % h, '%s/other:1' % h, env=env).returncode == 0
    assert store.ok('logout', '--authfile', authfile, h) == 'Removed login credentials for %s\n' % h
    assert h not in json.load(open(authfile))['auths']
    p = store.run('logout', '--authfile', authfile, h)
    assert p.returncode == 125 and 'not logged into' in p.stderr
    # --creds without a file
    p = store.run('pull', '-q', '--tls-verify=false', '--creds', 'alice:s3cret', '%s/other:1' % h)
    assert p.returncode == 0, p.stderr
    p = store.run('pull', '--tls-verify=false', '--creds', 'alice:nope', '%s/other:1' % h)
    assert p.returncode == 125 and '401' in p.stderr
    store.ok('login', '--tls-verify=false', '--authfile', authfile, '--creds', 'alice:s3cret', h)
    assert store.ok('logout', '--authfile', authfile, '-a') == 'Removed login credentials for all registries\n'
    assert json.load(open(authfile))['auths'] == {}
    check_clean(store)


@pytest.fixture(scope='module')
def token_registry():
    d = tempfile.mkdtemp(prefix='cpod-token-')
    key, cert = make_key_and_cert(d)
    ts = TokenServer(key, cert, 'cpod-registry', 'cpod-issuer', 'bob', 'hunter2').start()
    reg = Registry(auth=['token:', '  realm: %s' % ts.realm, '  service: cpod-registry', '  issuer: cpod-issuer',
                         '  rootcertbundle: %s' % cert])
    reg.tokens = ts
    skopeo('copy', '-q', '--dest-tls-verify=false', '--dest-creds', 'bob:hunter2', oci_source('busybox'),
           'docker://%s/public/busybox:latest' % reg.host)
    skopeo('copy', '-q', '--dest-tls-verify=false', '--dest-creds', 'bob:hunter2', oci_source('busybox'),
           'docker://%s/private/busybox:latest' % reg.host)
    yield reg
    reg.stop()
    ts.stop()
    shutil.rmtree(d, ignore_errors=True)


def test_token_auth(token_registry, store):
    h, ts = token_registry.host, token_registry.tokens
    authfile = os.path.join(store.base, 'auth.json')
    # anonymous pull of a public repository
    del ts.requests[:]
    assert store.ok('pull', '-q', '--tls-verify=false', '--authfile', authfile, '%s/public/busybox' % h).strip() \
        == BUSYBOX['id']
    # one token for the pull scope, reused for the manifest and both blobs
    assert [r['scopes'] for r in ts.requests] == [['repository:public/busybox:pull']]
    assert ts.requests[0]['who'] == 'anonymous'
    p = store.run('pull', '--tls-verify=false', '--authfile', authfile, '%s/private/busybox' % h)
    assert p.returncode == 125 and '401' in p.stderr and 'private/busybox' in p.stderr
    p = store.run('login', '--tls-verify=false', '--authfile', authfile, '-u', 'bob', '-p', 'wrong', h)
    assert p.returncode == 125 and 'invalid username/password' in p.stderr
    store.ok('login', '--tls-verify=false', '--authfile', authfile, '-u', 'bob', '-p', 'hunter2', h)
    assert store.ok('pull', '-q', '--tls-verify=false', '--authfile', authfile, '%s/private/busybox' % h).strip() \
        == BUSYBOX['id']
    del ts.requests[:]
    p = store.run('push', '--tls-verify=false', '--authfile', authfile, '%s/private/busybox' % h,
                  '%s/private/copy:1' % h)
    assert p.returncode == 0, p.stderr
    assert any('repository:private/copy:pull,push' in r['scopes'] for r in ts.requests)
    assert all(r['who'] == 'bob' for r in ts.requests)
    assert remote_digest(h, 'private/copy:1', '--creds', 'bob:hunter2') == BUSYBOX['manifest_digest']


# ---- TLS ----

@pytest.fixture(scope='module')
def tls_registry():
    d = tempfile.mkdtemp(prefix='cpod-tls-')

    def ossl(*args):
        subprocess.run(['openssl'] + list(args), check=True, capture_output=True, cwd=d)
    ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2',
         '-subj', '/CN=cpod test CA')
    ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj',
         '/CN=127.0.0.1')
    with open(os.path.join(d, 'ext.cnf'), 'w') as f:
        f.write('subjectAltName = IP:127.0.0.1\n')
    ossl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out',
         'server.crt', '-days', '2', '-extfile', 'ext.cnf')
    certs = os.path.join(d, 'certs')
    os.mkdir(certs)
    shutil.copy(os.path.join(d, 'ca.crt'), certs)
    reg = Registry(tls=(os.path.join(d, 'server.crt'), os.path.join(d, 'server.key')))
    reg.certs = certs
    skopeo('copy', '-q', '--dest-cert-dir', certs, oci_source('busybox'), 'docker://%s/busybox:latest' % reg.host)
    yield reg
    reg.stop()
    shutil.rmtree(d, ignore_errors=True)


def test_tls(tls_registry, store):
    h = tls_registry.host
    p = store.run('pull', '%s/busybox' % h)
    assert p.returncode == 125 and 'https://%s/v2/busybox/manifests/latest' % h in p.stderr
    assert 'certificate' in p.stderr.lower()
    assert store.ok('pull', '-q', '--cert-dir', tls_registry.certs, '%s/busybox' % h).strip() == BUSYBOX['id']
    store.ok('rmi', BUSYBOX['id'])
    assert store.ok('pull', '-q', '--tls-verify=false', '%s/busybox' % h).strip() == BUSYBOX['id']
    p = store.run('push', '--cert-dir', tls_registry.certs, '%s/busybox' % h, '%s/again:1' % h)
    assert p.returncode == 0, p.stderr
    out = store.ok('search', '--cert-dir', tls_registry.certs, '--format', '{{.Name}}', '%s/again' % h)
    assert out.split() == ['%s/again' % h]


# ---- a registry that misbehaves ----

class FakeRegistry:
    """Serves busybox from its OCI layout, broken in the way `mode` says."""

    def __init__(self):
        layout = os.path.join(IMAGES, 'busybox.oci')

        def blob(d):
            return open(os.path.join(layout, 'blobs', 'sha256', d[7:]), 'rb').read()
        self.manifest = blob(BUSYBOX['manifest_digest'])
        self.blobs = {d: blob(d) for d in [BUSYBOX['config_digest']] + BUSYBOX['layer_digests']}
        # a config whose diff_id does not match the layer (the layer blob itself is intact)
        config = json.loads(self.blobs[BUSYBOX['config_digest']])
        config['rootfs']['diff_ids'][0] = 'sha256:' + '0' * 64
        bad_config = json.dumps(config).encode()
        bad_config_digest = 'sha256:' + hashlib.sha256(bad_config).hexdigest()
        self.blobs[bad_config_digest] = bad_config
        doc = json.loads(self.manifest)
        doc['config'].update(digest=bad_config_digest, size=len(bad_config))
        self.bad_diffid_manifest = json.dumps(doc).encode()
        self.mode = 'good'
        self.gets = []
        self.conns = []  # the client's (address, port) of each GET: one per connection it kept
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def send(self, code, body=b'', ctype='application/json', length=None):
                self.send_response(code)
                self.send_header('Content-Type', ctype)
                self.send_header('Content-Length', str(len(body) if length is None else length))
                self.end_headers()
                return body

            def do_GET(self):
                fake.gets.append(self.path)
                fake.conns.append(self.client_address)
                try:
                    body = fake.answer(self)
                    if body:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.httpd.daemon_threads = True
        self.host = '127.0.0.1:%d' % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def answer(self, h):
        path = h.path
        if self.mode == 'chunked':
            return self.answer_chunked(h)
        if path.startswith('/v2/') and '/blobs/' in path and self.mode == 'redirect':
            # relative, then absolute: both resolved against the registry's own http URL
            h.send_response(307)
            h.send_header('Location', '/elsewhere' + path)
            h.send_header('Content-Length', '0')
            h.end_headers()
            return b''
        if path.startswith('/elsewhere/'):
            path = path[len('/elsewhere'):]
        if path == '/v2/':
            return h.send(200, b'{}')
        if '/manifests/' in path:
            body = self.bad_diffid_manifest if self.mode == 'bad-diffid' else self.manifest
            if self.mode == 'huge-manifest':
                doc = json.loads(body)
                doc['annotations'] = {'pad': 'x' * (5 << 20)}
                body = json.dumps(doc).encode()
            return h.send(200, body, 'application/vnd.oci.image.manifest.v1+json')
        digest = path.rsplit('/', 1)[-1]
        if digest not in self.blobs:
            return h.send(404, b'{"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown"}]}')
        data = self.blobs[digest]
        layer = digest == BUSYBOX['layer_digests'][0]
        if layer and self.mode == 'error500':
            return h.send(500, b'{"errors": [{"code": "UNKNOWN", "message": "disk on fire"}]}')
        if layer and self.mode == 'bad-digest':
            data = data[:100] + bytes([data[100] ^ 1]) + data[101:]
        if layer and self.mode in ('truncated', 'stall'):
            h.send(200, b'', 'application/octet-stream', len(data))
            h.wfile.write(data[:len(data) // 2])
            h.wfile.flush()
            if self.mode == 'stall':
                time.sleep(30)
            h.close_connection = True
            return b''
        return h.send(200, data, 'application/octet-stream')

    def answer_chunked(self, h):
        """Every answer in chunks of odd sizes, with a chunk extension and a trailer."""
        if '/manifests/' in h.path:
            body, ctype = self.manifest, 'application/vnd.oci.image.manifest.v1+json'
        else:
            body, ctype = self.blobs.get(h.path.rsplit('/', 1)[-1]), 'application/octet-stream'
            if body is None:
                return h.send(404, b'{}')
        h.send_response(200)
        h.send_header('Content-Type', ctype)
        h.send_header('Transfer-Encoding', 'chunked')
        h.end_headers()
        out, i, size = [], 0, 1
        while i < len(body):
            part = body[i:i + size]
            out.append(b'%x;ext=1\r\n%s\r\n' % (len(part), part))
            i += len(part)
            size = size * 3 + 7
        out.append(b'0\r\nX-Trailer: yes\r\n\r\n')
        return b''.join(out)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake():
    f = FakeRegistry()
    yield f
    f.stop()


@pytest.mark.parametrize('mode,message', [
    ('bad-digest', 'digest'),
    ('bad-diffid', 'sha256:' + '0' * 64),
    ('truncated', 'after'),
    ('huge-manifest', 'larger than 4194304 bytes'),
    ('error500', '500 Internal Server Error: UNKNOWN: disk on fire'),
])
def test_bad_registry_then_retry(fake, store, mode, message):
    ref = '%s/busybox:latest' % fake.host
    fake.mode = mode
    p = store.run('pull', '--tls-verify=false', ref, timeout=TIMEOUT)
    assert p.returncode == 125
    assert p.stderr.splitlines()[-1].startswith('Error: pull %s: ' % ref)
    assert message in p.stderr, p.stderr
    assert image_ids(store) == []
    blobs = os.path.join(store.root, 'blobs', 'sha256')
    assert not os.path.isdir(blobs) or os.listdir(blobs) == []
    check_clean(store)
    fake.mode = 'good'
    assert store.ok('pull', '-q', '--tls-verify=false', ref).strip() == BUSYBOX['id']
    check_clean(store)


def test_interrupted_pull_reuses_complete_blobs(fake, store):
    ref = '%s/busybox:latest' % fake.host
    fake.mode = 'stall'
    proc = subprocess.Popen(store.args() + ['pull', '--tls-verify=false', ref], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    config = os.path.join(store.root, 'blobs', 'sha256', BUSYBOX['config_digest'][7:])
    deadline = time.time() + 20
    while not os.path.exists(config) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert os.path.exists(config)
    # the half-downloaded layer is nowhere in the blob store
    assert not os.path.exists(os.path.join(store.root, 'blobs', 'sha256', BUSYBOX['layer_digests'][0][7:]))
    assert image_ids(store) == []
    fake.mode = 'good'
    del fake.gets[:]
    assert store.ok('pull', '-q', '--tls-verify=false', ref).strip() == BUSYBOX['id']
    assert not any(BUSYBOX['config_digest'] in g for g in fake.gets)
    assert any(BUSYBOX['layer_digests'][0] in g for g in fake.gets)
    store.ok('system', 'check', '--repair')
    check_clean(store)


# ---- the plain-http client ----

def test_http_keepalive_chunked_redirect(fake, store):
    ref = '%s/busybox:latest' % fake.host
    # the manifest's kept-alive connection carries one of the two blobs downloaded side by side
    assert store.ok('pull', '-q', '--tls-verify=false', ref).strip() == BUSYBOX['id']
    assert len(fake.gets) == 3 and len(set(fake.conns)) <= 2, (fake.gets, fake.conns)
    store.ok('rmi', BUSYBOX['id'])
    check_clean(store)
    for mode in ('chunked', 'redirect'):
        fake.mode = mode
        del fake.gets[:]
        assert store.ok('pull', '-q', '--tls-verify=false', ref).strip() == BUSYBOX['id'], mode
        if mode == 'redirect':
            assert any(g.startswith('/elsewhere/') for g in fake.gets)
        store.ok('rmi', BUSYBOX['id'])
        check_clean(store)


def loaded_libraries(store, *args):
    """The shared objects the dynamic linker loaded for a cpod command (LD_DEBUG=libs)."""
    p = store.run(*args, env=dict(os.environ, LD_DEBUG='libs'))
    assert p.returncode == 0, p.stderr
    return p.stderr


def test_scheme_probe_http_and_tls(registry, tls_registry, store):
    # an insecure http registry: the TLS probe says http, and libcurl is never loaded
    out = loaded_libraries(store, 'pull', '-q', '--tls-verify=false', '%s/busybox:latest' % registry.host)
    assert 'libcurl' not in out
    assert BUSYBOX['id'] in store.ok('images', '-q', '--no-trunc')
    store.ok('rmi', BUSYBOX['id'])
    # an insecure TLS registry: the probe finds TLS, and libcurl speaks it without verifying
    out = loaded_libraries(store, 'pull', '-q', '--tls-verify=false', '%s/busybox' % tls_registry.host)
    assert 'libcurl' in out
    assert BUSYBOX['id'] in store.ok('images', '-q', '--no-trunc')
    # an insecure registry from registries.conf behaves alike
    conf = os.path.join(store.base, 'registries.conf')
    with open(conf, 'w') as f:
        f.write('[[registry]]\nlocation = "%s"\ninsecure = true\n' % registry.host)
    p = store.run('pull', '-q', '%s/busybox:latest' % registry.host,
                  env=dict(os.environ, CONTAINERS_REGISTRIES_CONF=conf))
    assert p.returncode == 0, p.stderr
    check_clean(store)


def test_pull_and_push_events(registry, store):
    store.ok('pull', '-q', '--tls-verify=false', '%s/busybox:latest' % registry.host)
    store.ok('push', '-q', '--tls-verify=false', '%s/busybox:latest' % registry.host,
             '%s/events-copy:latest' % registry.host)
    out = store.ok('events', '--stream=false', '--filter', 'type=image', '--format', '{{.Status}} {{.Name}}')
    lines = out.splitlines()
    assert 'pull %s/busybox:latest' % registry.host in lines, out
    assert any(line.startswith('push ') and 'events-copy' in line for line in lines), out
