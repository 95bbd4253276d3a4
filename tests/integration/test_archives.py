# SPDX-License-Identifier: LGPL-2.1-or-later
"""Image archives beyond the CLI basics: compressed archives, digests kept
through save and load, layer contents seen through a mount, whiteouts in
exports, and archives whose own files try to lead out of them."""

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile

import pytest

import cpodlib
import storelib

BUSYBOX = 'docker.io/library/busybox:latest'
HTTPD = 'docker.io/library/busybox:httpd'


@pytest.fixture
def store():
    storelib.require_cpod()
    s = cpodlib.Store()
    yield s
    s.cleanup()


def sha256(b):
    return 'sha256:' + hashlib.sha256(b).hexdigest()


def tar_bytes(members):
    """members: (name, bytes or None for a directory, extra TarInfo attributes)."""
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode='w', format=tarfile.PAX_FORMAT) as t:
        for name, data, attrs in members:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            if data is None:
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
            else:
                ti.size = len(data)
                ti.mode = 0o644
            for k, v in attrs.items():
                setattr(ti, k, v)
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return b.getvalue()


def docker_archive(path, layers, name='localhost/test/app:1'):
    """A docker-archive of the given layer blobs (plain or compressed tars)."""
    diff_ids = []
    for blob in layers:
        raw = gzip.decompress(blob) if blob[:2] == b'\x1f\x8b' else blob
        diff_ids.append(sha256(raw))
    config = json.dumps({'architecture': 'amd64', 'os': 'linux', 'created': '2023-11-14T22:13:20Z',
                         'config': {'Cmd': ['sh']}, 'rootfs': {'type': 'layers', 'diff_ids': diff_ids}}).encode()
    members = [('%s.json' % sha256(config)[7:], config, {})]
    paths = []
    for i, blob in enumerate(layers):
        paths.append('l%d/layer.tar' % i)
        members.append((paths[-1], blob, {}))
    members.append(('manifest.json', json.dumps([{'Config': members[0][0], 'RepoTags': [name],
                                                  'Layers': paths}]).encode(), {}))
    with open(path, 'wb') as f:
        f.write(tar_bytes(members))
    return sha256(config)[7:], diff_ids


def test_compressed_archives_load(store, tmp_path):
    """`docker save | gzip` and zstd-compressed archives load like plain ones."""
    raw = open(storelib.image_file('busybox.docker.tar'), 'rb').read()
    gz = tmp_path / 'busybox.tar.gz'
    gz.write_bytes(gzip.compress(raw))
    assert store.ok('load', '-i', str(gz)) == 'Loaded image: %s\n' % BUSYBOX
    if shutil.which('zstd'):
        zst = tmp_path / 'busybox-httpd.tar.zst'
        subprocess.run(['zstd', '-q', '-o', str(zst), storelib.image_file('busybox-httpd.oci.tar')], check=True)
        assert store.ok('load', '-i', str(zst)) == 'Loaded image: %s\n' % HTTPD
    storelib.assert_clean(store)


def test_oci_save_keeps_digests(store, tmp_path):
    """Blobs are copied unchanged: the manifest digest and every blob survive save and load."""
    info = storelib.image_info('busybox-httpd')
    store.ok('load', '-i', storelib.image_file('busybox-httpd.oci.tar'))
    out = tmp_path / 'layout'
    store.ok('save', '--format', 'oci-dir', '-o', str(out), HTTPD)
    index = json.loads((out / 'index.json').read_text())
    entry = index['manifests'][0]
    assert entry['digest'] == info['manifest_digest']
    assert entry['annotations']['io.containerd.image.name'] == HTTPD
    assert entry['annotations']['org.opencontainers.image.ref.name'] == 'httpd'
    for blob in (out / 'blobs' / 'sha256').iterdir():
        assert sha256(blob.read_bytes())[7:] == blob.name
    # a second save into the same layout adds to its index
    store.ok('load', '-i', storelib.image_file('busybox.oci.tar'))
    store.ok('save', '--format', 'oci-dir', '-o', str(out), BUSYBOX)
    names = sorted(m['annotations']['io.containerd.image.name']
                   for m in json.loads((out / 'index.json').read_text())['manifests'])
    assert names == [HTTPD, BUSYBOX]


def test_docker_save_uncompresses_layers(store, tmp_path):
    """docker-archive layers are plain tars whose digests are the config's diff_ids."""
    info = storelib.image_info('busybox-httpd')
    store.ok('load', '-i', storelib.image_file('busybox-httpd.oci.tar'))
    out = tmp_path / 'saved.tar'
    store.ok('save', '-o', str(out), HTTPD)
    with tarfile.open(out) as t:
        manifest = json.load(t.extractfile('manifest.json'))
        assert manifest[0]['RepoTags'] == [HTTPD]
        config = json.load(t.extractfile(manifest[0]['Config']))
        digests = [sha256(t.extractfile(p).read()) for p in manifest[0]['Layers']]
        repos = json.load(t.extractfile('repositories'))
    assert digests == config['rootfs']['diff_ids'] == info['diff_ids']
    assert 'httpd' in repos[HTTPD.rsplit(':', 1)[0]]
    if shutil.which('skopeo'):
        p = subprocess.run(['skopeo', 'inspect', 'docker-archive:%s' % out], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout)['Layers'] == info['diff_ids']


def test_layer_contents_through_mount(store, tmp_path):
    """Whiteouts and opaque directories of an upper layer hide lower files in the mounted image;
    owners, modes and links arrive as the tar said."""
    lower = tar_bytes([('etc', None, {}), ('etc/gone', b'old\n', {}), ('opt', None, {}),
                       ('opt/hidden', b'x\n', {}), ('bin', None, {}),
                       ('bin/tool', b'#!/bin/sh\n', {'mode': 0o4755, 'uid': 1000, 'gid': 100}),
                       ('bin/alias', None, {'type': tarfile.LNKTYPE, 'linkname': 'bin/tool'}),
                       ('bin/sym', None, {'type': tarfile.SYMTYPE, 'linkname': 'tool'})])
    upper = tar_bytes([('etc', None, {}), ('etc/.wh.gone', b'', {}), ('opt', None, {}),
                       ('opt/.wh..wh..opq', b'', {}), ('opt/new', b'new\n', {})])
    path = tmp_path / 'app.tar'
    docker_archive(str(path), [gzip.compress(lower), upper])
    store.ok('load', '-i', str(path))
    p = store.run('image', 'mount', 'localhost/test/app:1')
    if p.returncode != 0 and ('ermission' in p.stderr or 'not supported' in p.stderr):
        pytest.skip('cannot mount here: ' + p.stderr)
    assert p.returncode == 0, p.stderr
    root = p.stdout.strip()
    try:
        assert not os.path.exists(os.path.join(root, 'etc/gone'))
        assert sorted(os.listdir(os.path.join(root, 'opt'))) == ['new']
        st = os.stat(os.path.join(root, 'bin/tool'))
        assert (st.st_mode & 0o7777, st.st_uid, st.st_gid, st.st_nlink) == (0o4755, 1000, 100, 2)
        assert os.readlink(os.path.join(root, 'bin/sym')) == 'tool'
    finally:
        store.ok('image', 'unmount', 'localhost/test/app:1')
    export = tmp_path / 'rootfs.tar'
    store.ok('image', 'export', '-o', str(export), 'localhost/test/app:1')
    with tarfile.open(export) as t:
        names = set(n.lstrip('./') for n in t.getnames())
    assert 'opt/new' in names and 'opt/hidden' not in names and 'etc/gone' not in names
    assert not [n for n in names if '.wh.' in n]
    storelib.assert_clean(store)


def test_archive_files_cannot_lead_out(store, tmp_path):
    """An OCI layout inside an archive whose blob is a symlink to a host file is refused."""
    secret = tmp_path / 'secret'
    secret.write_bytes(b'{"schemaVersion":2}')
    digest = sha256(secret.read_bytes())
    index = json.dumps({'schemaVersion': 2, 'manifests': [{
        'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': digest, 'size': 19}]}).encode()
    path = tmp_path / 'evil.tar'
    path.write_bytes(tar_bytes([('oci-layout', b'{"imageLayoutVersion":"1.0.0"}', {}), ('index.json', index, {}),
                                ('blobs', None, {}), ('blobs/sha256', None, {}),
                                ('blobs/sha256/' + digest[7:], None,
                                 {'type': tarfile.SYMTYPE, 'linkname': str(secret)})]))
    p = store.run('load', '-i', str(path))
    assert p.returncode == 125 and p.stderr.startswith('Error: ')
    assert 'outside' in p.stderr, p.stderr
    assert store.ok('images', '-q') == ''


def test_layer_digest_mismatch_refused(store, tmp_path):
    """A docker-archive whose config lists a diff_id its layer does not have loads nothing."""
    path = tmp_path / 'bad.tar'
    layer = tar_bytes([('file', b'data\n', {})])
    config = json.dumps({'architecture': 'amd64', 'os': 'linux',
                         'rootfs': {'type': 'layers', 'diff_ids': [sha256(b'other')]}}).encode()
    path.write_bytes(tar_bytes([('c.json', config, {}), ('l/layer.tar', layer, {}),
                                ('manifest.json', json.dumps([{'Config': 'c.json', 'RepoTags': ['bad:1'],
                                                               'Layers': ['l/layer.tar']}]).encode(), {})]))
    p = store.run('load', '-i', str(path))
    assert p.returncode == 125
    assert 'mismatch' in p.stderr or 'diff_id' in p.stderr, p.stderr
    assert store.ok('images', '-q') == ''
