# SPDX-License-Identifier: LGPL-2.1-or-later
"""Image archives across tools, and hostile input.

- archives written by skopeo (oci-archive, docker-archive) load into cpod;
- archives saved by cpod are read by skopeo (the oci-archive keeps the
  stored manifest digest) and loaded by podman into a private store;
- hostile archives (path traversal, absolute names, symlink and hardlink
  escapes, digest and diff_id mismatches, truncation, missing blobs, invalid
  names) and invalid references on the command line are rejected with exit
  125 and an error message, write nothing outside the store (a sentinel
  directory and the working directory stay as they were), and leave the
  store as it was (images, `system check`, blobs and layers).
"""

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

EPOCH = 1700000000


def sha256(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def store():
    storelib.require_cpod()
    s = cpodlib.Store()
    yield s
    s.cleanup()


def need(tool):
    path = shutil.which(tool)
    if not path:
        pytest.skip('%s is not installed' % tool)
    return path


def podman_private(base):
    """podman with a private store below base (never the host's)."""
    return ['podman', '--root', os.path.join(base, 'proot'), '--runroot', os.path.join(base, 'prun'),
            '--storage-driver', 'vfs']


def inspect_one(store, ref):
    out = json.loads(store.ok('image', 'inspect', ref))
    assert isinstance(out, list) and len(out) == 1, out
    return out[0]


# ---------------------------------------------------------------- interop

@pytest.mark.parametrize('fmt', ['oci-archive', 'docker-archive'])
def test_skopeo_archive_loads(store, fmt):
    need('skopeo')
    info = storelib.image_info('busybox-httpd')
    layout = storelib.image_file('busybox-httpd.oci')
    out = os.path.join(store.base, 'skopeo.tar')
    subprocess.run(['skopeo', 'copy', '-q', 'oci:%s:httpd' % layout, '%s:%s:%s' % (fmt, out, info['name'])],
                   check=True, capture_output=True)
    p = store.run('load', '-i', out)
    assert p.returncode == 0, p.stderr
    assert storelib.list_images(store) == {info['id']: [info['name']]}
    if fmt == 'oci-archive':
        assert inspect_one(store, info['name']).get('Digest') == info['manifest_digest']
    storelib.assert_clean(store)


def test_skopeo_oci_archive_short_ref(store):
    """An oci-archive whose only name is the ref annotation "httpd" loads as podman names it."""
    need('skopeo')
    info = storelib.image_info('busybox-httpd')
    out = os.path.join(store.base, 'short.tar')
    subprocess.run(['skopeo', 'copy', '-q', 'oci:%s:httpd' % storelib.image_file('busybox-httpd.oci'),
                    'oci-archive:%s:httpd' % out], check=True, capture_output=True)
    store.ok('load', '-i', out)
    assert storelib.list_images(store) == {info['id']: ['localhost/httpd:latest']}


@pytest.mark.parametrize('source', ['busybox-httpd.oci.tar', 'busybox-httpd.docker.tar', 'busybox-httpd.oci'])
def test_bundled_archives_load(store, source):
    info = storelib.image_info('busybox-httpd')
    store.ok('load', '-i', storelib.image_file(source))
    assert storelib.list_images(store) == {info['id']: [info['name']]}
    storelib.assert_clean(store)


def test_save_oci_archive_read_by_skopeo_and_podman(store):
    need('skopeo')
    need('podman')
    info = storelib.image_info('busybox-httpd')
    store.ok('load', '-i', storelib.image_file('busybox-httpd.oci.tar'))
    stored = inspect_one(store, info['name']).get('Digest')
    assert stored == info['manifest_digest'], 'a loaded oci-archive keeps its manifest digest'
    out = os.path.join(store.base, 'saved.oci.tar')
    store.ok('save', '--format', 'oci-archive', '-o', out, info['name'])

    sk = json.loads(subprocess.run(['skopeo', 'inspect', 'oci-archive:' + out], check=True,
                                   capture_output=True, text=True).stdout)
    assert sk['Digest'] == stored
    assert sk['Layers'] == info['layer_digests']
    raw = json.loads(subprocess.run(['skopeo', 'inspect', '--raw', 'oci-archive:' + out], check=True,
                                    capture_output=True, text=True).stdout)
    assert raw['config']['digest'] == 'sha256:' + info['id']

    pm = podman_private(store.base)
    p = subprocess.run(pm + ['load', '-i', out], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    ids = subprocess.run(pm + ['images', '--no-trunc', '--format', '{{.ID}}'], capture_output=True, text=True,
                         check=True).stdout.split()
    assert [i.split(':')[-1] for i in ids] == [info['id']]
    subprocess.run(pm + ['rmi', '-a', '-f'], capture_output=True)


def test_save_docker_archive_read_by_skopeo_and_podman(store):
    need('skopeo')
    need('podman')
    info = storelib.image_info('busybox-httpd')
    store.ok('load', '-i', storelib.image_file('busybox-httpd.docker.tar'))
    out = os.path.join(store.base, 'saved.docker.tar')
    store.ok('save', '--format', 'docker-archive', '-o', out, info['name'])

    sk = json.loads(subprocess.run(['skopeo', 'inspect', 'docker-archive:' + out], check=True,
                                   capture_output=True, text=True).stdout)
    assert sk['Layers'] == info['diff_ids']  # docker-archive layers are the uncompressed tars
    with tarfile.open(out) as tf:
        manifest = json.load(tf.extractfile('manifest.json'))
    assert manifest[0]['RepoTags'] == [info['name']]

    pm = podman_private(store.base)
    p = subprocess.run(pm + ['load', '-i', out], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    listed = subprocess.run(pm + ['images', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}'],
                            capture_output=True, text=True, check=True).stdout.split()
    assert listed[0].split(':')[-1] == info['id'] and listed[1] == info['name']
    subprocess.run(pm + ['rmi', '-a', '-f'], capture_output=True)


@pytest.mark.parametrize('fmt', ['oci-archive', 'docker-archive'])
def test_save_load_round_trip(store, fmt):
    info = storelib.image_info('busybox-httpd')
    store.ok('load', '-i', storelib.image_file('busybox-httpd.oci.tar'))
    out = os.path.join(store.base, 'rt.tar')
    store.ok('save', '--format', fmt, '-o', out, info['name'])
    other = cpodlib.Store()
    try:
        other.ok('load', '-i', out)
        assert storelib.list_images(other) == {info['id']: [info['name']]}
        storelib.assert_clean(other)
    finally:
        other.cleanup()


# ---------------------------------------------------------------- hostile input

class Layer:
    """A layer tar built entry by entry (no checks: it may be hostile)."""

    def __init__(self):
        self.buf = io.BytesIO()
        self.tf = tarfile.open(fileobj=self.buf, mode='w', format=tarfile.GNU_FORMAT)

    def _info(self, name, kind, mode):
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.mtime = kind, mode, EPOCH
        return ti

    def dir(self, name):
        self.tf.addfile(self._info(name, tarfile.DIRTYPE, 0o755))
        return self

    def file(self, name, data=b'evil\n'):
        ti = self._info(name, tarfile.REGTYPE, 0o644)
        ti.size = len(data)
        self.tf.addfile(ti, io.BytesIO(data))
        return self

    def symlink(self, name, target):
        ti = self._info(name, tarfile.SYMTYPE, 0o777)
        ti.linkname = target
        self.tf.addfile(ti)
        return self

    def hardlink(self, name, target):
        ti = self._info(name, tarfile.LNKTYPE, 0o644)
        ti.linkname = target
        self.tf.addfile(ti)
        return self

    def bytes(self):
        self.tf.close()
        return self.buf.getvalue()


def base_layer(tag):
    """A small, fresh layer (not in the store yet), so a failed load has something to clean up."""
    return Layer().dir('etc').file('etc/marker', ('hostile test %s\n' % tag).encode()).bytes()


def config_for(diff_ids):
    return json.dumps({
        'architecture': 'amd64', 'os': 'linux', 'created': '2023-11-14T22:13:20Z',
        'config': {'Cmd': ['sh']}, 'rootfs': {'type': 'layers', 'diff_ids': diff_ids},
        'history': [{'created': '2023-11-14T22:13:20Z'} for _ in diff_ids],
    }, sort_keys=True).encode()


def tar_of(path, files):
    """Write a tar of {name: bytes} (sorted)."""
    with tarfile.open(path, 'w', format=tarfile.GNU_FORMAT) as tf:
        for name in sorted(files):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime, ti.mode = len(files[name]), EPOCH, 0o644
            tf.addfile(ti, io.BytesIO(files[name]))


def docker_archive(path, layers, repo_tag='localhost/hostile:latest', diff_ids=None, manifest_layers=None,
                   drop=()):
    files = {}
    names = []
    for data in layers:
        name = sha256(data) + '/layer.tar'
        files[name] = data
        names.append(name)
    cfg = config_for(diff_ids if diff_ids is not None else ['sha256:' + sha256(d) for d in layers])
    files[sha256(cfg) + '.json'] = cfg
    files['manifest.json'] = json.dumps([{'Config': sha256(cfg) + '.json', 'RepoTags': [repo_tag],
                                          'Layers': manifest_layers or names}]).encode()
    for name in drop:
        del files[name]
    tar_of(path, files)
    return path


def oci_layout(path, layers, ref='localhost/hostile:latest', blob_override=None, drop_layer=False):
    """An OCI layout dir; blob_override replaces the bytes of the last layer blob (its name keeps the
    digest the manifest names)."""
    blobs = os.path.join(path, 'blobs', 'sha256')
    os.makedirs(blobs)

    def put(data):
        with open(os.path.join(blobs, sha256(data)), 'wb') as f:
            f.write(data)
        return {'digest': 'sha256:' + sha256(data), 'size': len(data)}

    gzs = [gzip.compress(d, mtime=0) for d in layers]
    cfg = config_for(['sha256:' + sha256(d) for d in layers])
    manifest = json.dumps({
        'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
        'config': dict(mediaType='application/vnd.oci.image.config.v1+json', **put(cfg)),
        'layers': [dict(mediaType='application/vnd.oci.image.layer.v1.tar+gzip', **put(g)) for g in gzs],
    }).encode()
    desc = put(manifest)
    last = os.path.join(blobs, sha256(gzs[-1]))
    if blob_override is not None:
        with open(last, 'wb') as f:
            f.write(blob_override)
    if drop_layer:
        os.unlink(last)
    with open(os.path.join(path, 'index.json'), 'w') as f:
        json.dump({'schemaVersion': 2, 'manifests': [dict(
            mediaType='application/vnd.oci.image.manifest.v1+json',
            annotations={'org.opencontainers.image.ref.name': ref}, **desc)]}, f)
    with open(os.path.join(path, 'oci-layout'), 'w') as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    return path


def oci_archive_of(layout, path):
    with tarfile.open(path, 'w') as tf:
        for name in sorted(os.listdir(layout)):
            tf.add(os.path.join(layout, name), arcname=name)
    return path


def truncated(src, path, fraction):
    with open(src, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * fraction)])
    return path


# Each builder gets (work dir, sentinel dir) and returns the path to give to `cpod load -i`.
def h_dotdot(d, s):
    return docker_archive(os.path.join(d, 'a.tar'), [base_layer('dotdot'), Layer().dir('bin').file('../../evil')
                                                     .file('bin/../../evil2').bytes()])


def h_deep_dotdot(d, s):
    return docker_archive(os.path.join(d, 'a.tar'),
                          [base_layer('deep'), Layer().file('../' * 40 + s.lstrip('/') + '/evil').bytes()])


def h_absolute(d, s):
    return docker_archive(os.path.join(d, 'a.tar'), [base_layer('abs'), Layer().file(s + '/evil-abs').bytes()])


def h_symlink_abs(d, s):
    return docker_archive(os.path.join(d, 'a.tar'),
                          [base_layer('symabs'), Layer().symlink('escape', s).file('escape/evil').bytes()])


def h_symlink_rel(d, s):
    return docker_archive(os.path.join(d, 'a.tar'),
                          [base_layer('symrel'), Layer().symlink('up', '../' * 40)
                           .file('up/' + s.lstrip('/') + '/evil').bytes()])


def h_symlink_dir_chain(d, s):
    # a directory symlink inside the layer, then a second link through it
    return docker_archive(os.path.join(d, 'a.tar'),
                          [base_layer('symchain'), Layer().dir('a').symlink('a/b', '../..').symlink('c', 'a/b')
                           .file('c/' + '../' * 40 + s.lstrip('/') + '/evil').bytes()])


def h_hardlink_abs(d, s):
    return docker_archive(os.path.join(d, 'a.tar'),
                          [base_layer('hlabs'), Layer().hardlink('hl', s + '/victim').file('hl', b'pwned\n').bytes()])


def h_hardlink_rel(d, s):
    return docker_archive(os.path.join(d, 'a.tar'),
                          [base_layer('hlrel'), Layer().hardlink('hl', '../' * 40 + s.lstrip('/') + '/victim')
                           .file('hl', b'pwned\n').bytes()])


def h_hardlink_via_symlink(d, s):
    return docker_archive(os.path.join(d, 'a.tar'),
                          [base_layer('hlsym'), Layer().symlink('out', s).hardlink('hl', 'out/victim')
                           .file('hl', b'pwned\n').bytes()])


def h_oci_digest_mismatch_dir(d, s):
    other = gzip.compress(Layer().file('etc/replaced', b'not the layer the manifest names\n').bytes(), mtime=0)
    return oci_layout(os.path.join(d, 'layout'), [base_layer('mismatch')], blob_override=other)


def h_oci_digest_mismatch_archive(d, s):
    return oci_archive_of(h_oci_digest_mismatch_dir(d, s), os.path.join(d, 'a.tar'))


def h_bundled_layout_edited(d, s):
    """The bundled busybox-httpd layout with its second layer blob's bytes changed (one byte flipped)."""
    layout = os.path.join(d, 'layout')
    shutil.copytree(storelib.image_file('busybox-httpd.oci'), layout)
    blob = os.path.join(layout, 'blobs', 'sha256', storelib.image_info('busybox-httpd')['layer_digests'][1][7:])
    with open(blob, 'rb') as f:
        data = bytearray(f.read())
    data[len(data) // 2] ^= 0xff
    os.chmod(blob, 0o644)
    with open(blob, 'wb') as f:
        f.write(data)
    return layout


def h_diff_id_mismatch(d, s):
    layer = base_layer('diffid')
    return docker_archive(os.path.join(d, 'a.tar'), [layer], diff_ids=['sha256:' + sha256(b'something else')])


def h_truncated_docker(d, s):
    return truncated(storelib.image_file('busybox-httpd.docker.tar'), os.path.join(d, 'a.tar'), 0.6)


def h_truncated_oci(d, s):
    return truncated(storelib.image_file('busybox-httpd.oci.tar'), os.path.join(d, 'a.tar'), 0.6)


def h_truncated_header(d, s):
    return truncated(storelib.image_file('busybox.docker.tar'), os.path.join(d, 'a.tar'), 0.0002)


def h_oci_missing_blob(d, s):
    return oci_archive_of(oci_layout(os.path.join(d, 'layout'), [base_layer('missing')], drop_layer=True),
                          os.path.join(d, 'a.tar'))


def h_docker_missing_layer(d, s):
    layer = base_layer('dmissing')
    return docker_archive(os.path.join(d, 'a.tar'), [layer], manifest_layers=['nothere/layer.tar'])


def h_docker_missing_config(d, s):
    layer = base_layer('dcfg')
    cfg = config_for(['sha256:' + sha256(layer)])
    return docker_archive(os.path.join(d, 'a.tar'), [layer], drop=[sha256(cfg) + '.json'])


def h_docker_manifest_escape(d, s):
    # manifest.json naming a file outside the archive
    layer = base_layer('mescape')
    return docker_archive(os.path.join(d, 'a.tar'), [layer], manifest_layers=['../../../../../../../etc/passwd'])


def h_invalid_repo_tag(d, s):
    return docker_archive(os.path.join(d, 'a.tar'), [base_layer('badname')], repo_tag='Bad/UPPER:x:y')


def h_not_an_archive(d, s):
    path = os.path.join(d, 'a.tar')
    with open(path, 'wb') as f:
        f.write(os.urandom(4096))
    return path


HOSTILE = {name[2:]: fn for name, fn in sorted(globals().items()) if name.startswith('h_')}


def snapshot(store, sentinel, cwd):
    images = storelib.list_images(store)
    chk = storelib.check(store)
    files = {}
    for root in (sentinel,):
        for dirpath, _, filenames in os.walk(root):
            for n in filenames:
                p = os.path.join(dirpath, n)
                st = os.lstat(p)
                with open(p, 'rb') as f:
                    files[p] = (st.st_nlink, st.st_mode, f.read())
    return {
        'images': images,
        'check': chk.returncode,
        'sentinel': storelib.tree_listing(sentinel),
        'sentinel-files': files,
        'cwd': storelib.tree_listing(cwd),
        'store': storelib.tree_listing(store.root, skip=('cpod.db', 'cpod.db-wal', 'cpod.db-shm', 'tmp')),
        'store-tmp': storelib.tree_listing(os.path.join(store.root, 'tmp'))
                     if os.path.isdir(os.path.join(store.root, 'tmp')) else [],
    }


@pytest.fixture
def hostile_env(store, tmp_path):
    """A store holding the busybox image, a sentinel dir with a victim file, an empty working dir."""
    store.ok('load', '-i', storelib.image_file('busybox.docker.tar'))
    sentinel = tmp_path / 'sentinel'
    sentinel.mkdir()
    (sentinel / 'victim').write_bytes(b'original\n')
    work = tmp_path / 'work'
    work.mkdir()
    cwd = tmp_path / 'cwd'
    cwd.mkdir()
    return store, str(sentinel), str(work), str(cwd)


def assert_rejected(p, what):
    assert p.returncode == 125, '%s: exit %d, want 125\nstdout: %s\nstderr: %s' % (what, p.returncode, p.stdout,
                                                                                  p.stderr)
    msg = p.stderr.strip()
    assert msg.startswith('Error: ') and len(msg) > len('Error: ') + 5, '%s: no clear message: %r' % (what, msg)
    assert 'Traceback' not in msg and 'Segmentation' not in msg


def run_in(store, cwd, *args):
    return subprocess.run(store.args() + list(args), capture_output=True, text=True, timeout=60, cwd=cwd)


@pytest.mark.parametrize('case', sorted(HOSTILE))
def test_hostile_archive_rejected(hostile_env, case):
    store, sentinel, work, cwd = hostile_env
    path = HOSTILE[case](work, sentinel)
    before = snapshot(store, sentinel, cwd)
    assert before['check'] == 0
    p = run_in(store, cwd, 'load', '-i', path)
    assert_rejected(p, case)
    after = snapshot(store, sentinel, cwd)
    for key in before:
        assert after[key] == before[key], '%s changed %s:\nbefore %r\nafter  %r' % (case, key, before[key],
                                                                                     after[key])
    # nothing named evil anywhere near: not in the test's tree outside the store either
    base = os.path.dirname(sentinel)
    for dirpath, _, filenames in os.walk(base):
        assert not [n for n in filenames if n.startswith('evil')], 'evil file written in %s' % dirpath


INVALID_REFS = [
    ['tag', 'docker.io/library/busybox:latest', 'Bad/UPPER'],
    ['tag', 'docker.io/library/busybox:latest', 'a:b:c'],
    ['tag', 'docker.io/library/busybox:latest', 'foo/../bar'],
    ['tag', 'docker.io/library/busybox:latest', 'name:' + 'x' * 129],
    ['tag', 'docker.io/library/busybox:latest', 'x' * 300],
    ['tag', 'docker.io/library/busybox:latest', 'busybox@sha256:abc'],
    ['tag', 'docker.io/library/busybox:latest', ''],
    ['tag', 'docker.io/library/busybox:latest', 'white space'],
    ['tag', 'UPPER:x', 'ok'],
    ['untag', 'docker.io/library/busybox:latest', 'a:b:c'],
    ['rmi', 'bad@@ref'],
    ['rmi', 'a:b:c'],
    ['image', 'inspect', '::'],
    ['save', '-o', 'out.tar', 'a:b:c'],
]


@pytest.mark.parametrize('args', INVALID_REFS, ids=lambda a: ' '.join(a)[:60])
def test_invalid_reference_rejected(hostile_env, args):
    store, sentinel, work, cwd = hostile_env
    before = snapshot(store, sentinel, cwd)
    p = run_in(store, cwd, *args)
    assert_rejected(p, ' '.join(args))
    after = snapshot(store, sentinel, cwd)
    assert after == before
