#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Build the offline test images from the host's static busybox.

usage: mkimage.py [--busybox PATH] [--epoch SECONDS] OUTDIR

Writes into OUTDIR:
  busybox.oci/              OCI image layout, ref "latest"
  busybox.oci.tar           the same as oci-archive
  busybox.docker.tar        docker-archive, RepoTags docker.io/library/busybox:latest
  busybox-httpd.oci/        OCI layout of the two-layer httpd image, ref "httpd"
  busybox-httpd.oci.tar     oci-archive of it
  busybox-httpd.docker.tar  docker-archive, RepoTags docker.io/library/busybox:httpd
  busybox-rootfs.tar        the plain root filesystem (for `import`)
  images.json               IDs, manifest digests, diff_ids and names of both images

Every byte is reproducible: tar members are sorted, owned by 0:0 with a
pinned mtime (SOURCE_DATE_EPOCH, else a constant), written in ustar format
(no pax headers), and gzip streams carry mtime 0 and no file name. Running
the script twice gives identical files.

The image "busybox" has one layer and runs `sh`; "busybox:httpd" adds a
second layer with /www/index.html and /etc/httpd.conf and runs
`httpd -f -p 8080 -h /www`, exposing 8080/tcp. Both share the first layer.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

DEFAULT_EPOCH = 1700000000  # 2023-11-14T22:13:20Z

# Applets linked into /bin, when the busybox at hand has them.
APPLETS = sorted(set('''
    [ [[ ash awk basename cat chgrp chmod chown cksum clear cmp cp cut date dd df diff dirname
    dmesg du echo egrep env expr false fgrep find free grep gunzip gzip head hexdump hostname
    httpd id ifconfig ip kill killall less ln ls md5sum mkdir mkfifo mknod mktemp more mount mv
    nc netstat nohup nproc nslookup od patch ping pidof printenv printf ps pwd readlink realpath
    rm rmdir sed seq sh sha1sum sha256sum sleep sort stat su sync tail tar tee test timeout top
    touch tr true tty umount uname uniq unzip uptime usleep vi watch wc wget which whoami xargs
    yes zcat
'''.split()))

PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

PASSWD = '''root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
'''
GROUP = '''root:x:0:
daemon:x:1:
tty:x:5:
nogroup:x:65534:
'''
HOSTS = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
INDEX_HTML = '<!DOCTYPE html>\n<html><body><h1>cpod test page</h1><p>served by busybox httpd</p></body></html>\n'
HTTPD_CONF = '# busybox httpd: serve /www to everyone\nA:*\n.html:text/html\n'

MT_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
MT_OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
MT_OCI_CONFIG = 'application/vnd.oci.image.config.v1+json'
MT_OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip'

ARCHES = {
    'x86_64': ('amd64', None), 'amd64': ('amd64', None),
    'aarch64': ('arm64', 'v8'), 'arm64': ('arm64', 'v8'),
    'armv7l': ('arm', 'v7'), 'armv6l': ('arm', 'v6'),
    'i386': ('386', None), 'i686': ('386', None),
    'ppc64le': ('ppc64le', None), 's390x': ('s390x', None), 'riscv64': ('riscv64', None),
    'mips64': ('mips64le', None),
}


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def canonical_json(obj):
    return json.dumps(obj, sort_keys=True, separators=(',', ':')).encode()


class Tree:
    """Files of a tar stream, written sorted with fixed owners and times."""

    def __init__(self, epoch):
        self.epoch = epoch
        self.entries = {}  # name -> (TarInfo, data or None)

    def _info(self, name, kind, mode):
        ti = tarfile.TarInfo(name)
        ti.type = kind
        ti.mode = mode
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = ''
        ti.mtime = self.epoch
        return ti

    def dir(self, name, mode=0o755):
        self.entries[name.rstrip('/') + '/'] = (self._info(name.rstrip('/'), tarfile.DIRTYPE, mode), None)

    def file(self, name, data, mode=0o644):
        if isinstance(data, str):
            data = data.encode()
        ti = self._info(name, tarfile.REGTYPE, mode)
        ti.size = len(data)
        self.entries[name] = (ti, data)

    def symlink(self, name, target):
        ti = self._info(name, tarfile.SYMTYPE, 0o777)
        ti.linkname = target
        self.entries[name] = (ti, None)

    def tar(self):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode='w', format=tarfile.USTAR_FORMAT) as tf:
            for name in sorted(self.entries):
                ti, data = self.entries[name]
                tf.addfile(ti, io.BytesIO(data) if data is not None else None)
        return buf.getvalue()


def gzip_bytes(data):
    buf = io.BytesIO()
    with gzip.GzipFile(filename='', mode='wb', fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buf.getvalue()


def busybox_applets(busybox):
    try:
        out = subprocess.run([busybox, '--list'], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit('mkimage: cannot run %s --list: %s' % (busybox, e))
    have = set(out.split())
    missing = [a for a in ('sh', 'ls', 'cat', 'echo', 'true', 'sleep', 'httpd') if a not in have]
    if missing:
        sys.exit('mkimage: %s lacks applets: %s' % (busybox, ' '.join(missing)))
    return [a for a in APPLETS if a in have]


def base_layer(epoch, busybox):
    with open(busybox, 'rb') as f:
        binary = f.read()
    t = Tree(epoch)
    for d in ('bin', 'dev', 'etc', 'home', 'proc', 'sys', 'usr', 'usr/bin', 'usr/sbin', 'var', 'var/log',
              'var/run'):
        t.dir(d)
    t.dir('root', 0o700)
    t.dir('tmp', 0o1777)
    t.dir('var/tmp', 0o1777)
    t.file('bin/busybox', binary, 0o755)
    for applet in busybox_applets(busybox):
        t.symlink('bin/' + applet, 'busybox')
    t.file('etc/passwd', PASSWD)
    t.file('etc/group', GROUP)
    t.file('etc/hosts', HOSTS)
    t.file('etc/hostname', 'busybox\n')
    t.file('etc/os-release', 'NAME="cpod test busybox"\nID=busybox\n')
    return t.tar()


def httpd_layer(epoch):
    t = Tree(epoch)
    t.dir('etc')
    t.file('etc/httpd.conf', HTTPD_CONF)
    t.dir('www')
    t.file('www/index.html', INDEX_HTML)
    return t.tar()


class Image:
    """An image built from uncompressed layer tars."""

    def __init__(self, name, tag, layers, cmd, epoch, history, exposed=None, arch=None):
        self.name, self.tag = name, tag  # "docker.io/library/busybox", "latest"
        self.layers = layers  # [(tar bytes, gzip bytes)]
        self.diff_ids = ['sha256:' + sha256(tar) for tar, _ in layers]
        created = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(epoch))
        arch_name, variant = arch
        cfg = {'Env': [PATH_ENV], 'Cmd': cmd}
        if exposed:
            cfg['ExposedPorts'] = {p: {} for p in exposed}
        config = {
            'architecture': arch_name,
            'os': 'linux',
            'created': created,
            'config': cfg,
            'rootfs': {'type': 'layers', 'diff_ids': self.diff_ids},
            'history': [{'created': created, 'created_by': h} for h in history],
        }
        if variant:
            config['variant'] = variant
        self.config = canonical_json(config)
        self.id = sha256(self.config)
        manifest = {
            'schemaVersion': 2,
            'mediaType': MT_OCI_MANIFEST,
            'config': {'mediaType': MT_OCI_CONFIG, 'digest': 'sha256:' + self.id, 'size': len(self.config)},
            'layers': [{'mediaType': MT_OCI_LAYER_GZIP, 'digest': 'sha256:' + sha256(gz), 'size': len(gz)}
                       for _, gz in layers],
        }
        self.manifest = canonical_json(manifest)
        self.manifest_digest = 'sha256:' + sha256(self.manifest)

    @property
    def ref(self):
        return '%s:%s' % (self.name, self.tag)

    def oci_tree(self, epoch):
        t = Tree(epoch)
        t.file('oci-layout', canonical_json({'imageLayoutVersion': '1.0.0'}))
        index = {
            'schemaVersion': 2,
            'mediaType': MT_OCI_INDEX,
            'manifests': [{
                'mediaType': MT_OCI_MANIFEST,
                'digest': self.manifest_digest,
                'size': len(self.manifest),
                'annotations': {
                    'io.containerd.image.name': self.ref,
                    'org.opencontainers.image.ref.name': self.tag,
                },
            }],
        }
        t.file('index.json', canonical_json(index))
        t.dir('blobs')
        t.dir('blobs/sha256')
        t.file('blobs/sha256/' + self.manifest_digest[7:], self.manifest)
        t.file('blobs/sha256/' + self.id, self.config)
        for _, gz in self.layers:
            t.file('blobs/sha256/' + sha256(gz), gz)
        return t

    def docker_tree(self, epoch):
        t = Tree(epoch)
        layer_paths = []
        for tar, _ in self.layers:
            h = sha256(tar)
            t.dir(h)
            t.file(h + '/VERSION', '1.0')
            t.file(h + '/layer.tar', tar)
            layer_paths.append(h + '/layer.tar')
        t.file(self.id + '.json', self.config)
        manifest = [{'Config': self.id + '.json', 'RepoTags': [self.ref], 'Layers': layer_paths}]
        t.file('manifest.json', canonical_json(manifest))
        short = self.name[len('docker.io/library/'):] if self.name.startswith('docker.io/library/') else self.name
        top = layer_paths[-1].split('/')[0]
        t.file('repositories', canonical_json({short: {self.tag: top}}))
        return t

    def summary(self):
        return {
            'name': self.ref,
            'id': self.id,
            'manifest_digest': self.manifest_digest,
            'config_digest': 'sha256:' + self.id,
            'diff_ids': self.diff_ids,
            'layer_digests': ['sha256:' + sha256(gz) for _, gz in self.layers],
            'size': sum(len(tar) for tar, _ in self.layers),
        }


def write_tree_dir(tree, path):
    """Unpack a Tree into a directory (the OCI layout dir)."""
    for name in sorted(tree.entries):
        ti, data = tree.entries[name]
        target = os.path.join(path, name.rstrip('/'))
        if ti.isdir():
            os.makedirs(target, exist_ok=True)
            os.chmod(target, ti.mode)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, 'wb') as f:
                f.write(data)
            os.chmod(target, ti.mode)
    for name in sorted(tree.entries, reverse=True):
        os.utime(os.path.join(path, name.rstrip('/')), (tree.epoch, tree.epoch))
    os.utime(path, (tree.epoch, tree.epoch))


def host_arch():
    m = platform.machine()
    if m not in ARCHES:
        sys.exit('mkimage: unknown machine %s' % m)
    return ARCHES[m]


def main():
    ap = argparse.ArgumentParser(description='Build reproducible busybox test images.')
    ap.add_argument('outdir')
    ap.add_argument('--busybox', default=None, help='static busybox binary (default: /bin/busybox)')
    ap.add_argument('--epoch', type=int, default=None,
                    help='timestamp of every file (default: $SOURCE_DATE_EPOCH or %d)' % DEFAULT_EPOCH)
    args = ap.parse_args()

    epoch = args.epoch
    if epoch is None:
        epoch = int(os.environ.get('SOURCE_DATE_EPOCH') or DEFAULT_EPOCH)
    busybox = args.busybox
    if busybox is None:
        busybox = next((p for p in ('/bin/busybox', '/usr/bin/busybox') if os.access(p, os.X_OK)), None)
        if busybox is None:
            sys.exit('mkimage: no /bin/busybox; install busybox-static')
    arch = host_arch()

    base_tar = base_layer(epoch, busybox)
    base = (base_tar, gzip_bytes(base_tar))
    httpd_tar = httpd_layer(epoch)
    httpd = (httpd_tar, gzip_bytes(httpd_tar))

    images = {
        'busybox': Image('docker.io/library/busybox', 'latest', [base], ['sh'], epoch,
                         ['mkimage.py: busybox-static root filesystem'], arch=arch),
        'busybox-httpd': Image('docker.io/library/busybox', 'httpd', [base, httpd],
                               ['httpd', '-f', '-p', '8080', '-h', '/www'], epoch,
                               ['mkimage.py: busybox-static root filesystem',
                                'mkimage.py: /www/index.html and /etc/httpd.conf'],
                               exposed=['8080/tcp'], arch=arch),
    }

    outdir = os.path.abspath(args.outdir)
    os.makedirs(outdir, exist_ok=True)
    # build everything in a staging dir next to the output, then rename into place
    stage = tempfile.mkdtemp(prefix='.mkimage-', dir=outdir)
    try:
        outputs = []
        for key, img in images.items():
            oci = img.oci_tree(epoch)
            write_tree_dir(oci, os.path.join(stage, key + '.oci'))
            outputs.append(key + '.oci')
            for suffix, data in (('.oci.tar', oci.tar()), ('.docker.tar', img.docker_tree(epoch).tar())):
                with open(os.path.join(stage, key + suffix), 'wb') as f:
                    f.write(data)
                outputs.append(key + suffix)
        with open(os.path.join(stage, 'busybox-rootfs.tar'), 'wb') as f:
            f.write(base_tar)
        outputs.append('busybox-rootfs.tar')
        with open(os.path.join(stage, 'images.json'), 'w') as f:
            json.dump({k: v.summary() for k, v in images.items()}, f, indent=2, sort_keys=True)
            f.write('\n')
        outputs.append('images.json')
        for name in outputs:
            src, dst = os.path.join(stage, name), os.path.join(outdir, name)
            if os.path.isdir(dst) and not os.path.islink(dst):
                shutil.rmtree(dst)
            os.replace(src, dst)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


if __name__ == '__main__':
    main()
