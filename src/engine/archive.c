/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Image archives: docker-archive (a tar with manifest.json), oci-archive (a
 * tar of an OCI layout) and OCI layout directories. Loading unpacks an
 * archive with the safe layer extractor into a staging directory, moves
 * every blob into the blob store (verified by digest) and hands the
 * manifest to image_commit_manifest. A docker-archive has no manifest of
 * its own: one is synthesised (OCI form) from the config and the layer
 * files as they are. Saving copies stored blobs unchanged, except that a
 * docker-archive carries uncompressed layers whose digests are the diff_ids.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "blob.h"
#include "db.h"
#include "dl.h"
#include "engine-internal.h"
#include "image.h"
#include "layer.h"
#include "manifest.h"
#include "reference.h"
#include "util.h"
#include "vl/json.h"

#define AR_MAX_IMAGES 1024u
#define AR_BUF_SIZE   (128u * 1024u)

typedef struct StrV {
        char **v;
        size_t n, cap;
} StrV;

static void strv_done(StrV *s) {
        for (size_t i = 0; i < s->n; i++)
                free(s->v[i]);
        free(s->v);
        *s = (StrV){};
}

static int strv_push(StrV *s, const char *x) {
        char *c = strdup(x);
        if (!c || VL_GROW(s->v, s->cap, s->n + 1) < 0) {
                free(c);
                return -ENOMEM;
        }
        s->v[s->n++] = c;
        return 0;
}

static void json_unrefp(VlJson **p) {
        vl_json_unref(*p);
}
#define _cleanup_json_ _cleanup_(json_unrefp)

/* Open a file of an unpacked archive or layout; nothing may lead outside it. */
static int ar_open(int dir_fd, const char *path, CpodError *err) {
        struct open_how how = {.flags = O_RDONLY | O_CLOEXEC,
                               .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
        int fd = (int)syscall(SYS_openat2, dir_fd, path, &how, sizeof(how));
        if (fd < 0 && errno == ENOSYS) {
                if (strstr(path, "..") || path[0] == '/')
                        return cpod_error(err, EXDEV, "`%s`: path outside the archive", path);
                fd = openat(dir_fd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0)
                return errno == EXDEV ? cpod_error(err, EXDEV, "`%s`: path outside the archive", path)
                                      : cpod_error_errno(err, errno, "open `%s`", path);
        return fd;
}

static int ar_read_json(int dir_fd, const char *path, VlJson **ret, char **ret_text, size_t *ret_len,
                        CpodError *err) {
        _cleanup_close_ int fd = ar_open(dir_fd, path, err);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        ssize_t n;
        VlJsonError jerr = {};

        if (fd < 0)
                return fd;
        buf = malloc(MANIFEST_MAX_SIZE + 1);
        if (!buf)
                return cpod_error(err, ENOMEM, "out of memory");
        while ((n = read(fd, buf + len, MANIFEST_MAX_SIZE + 1 - len)) > 0)
                if ((len += (size_t)n) > MANIFEST_MAX_SIZE)
                        return cpod_error(err, EFBIG, "`%s` is larger than %u bytes", path,
                                          MANIFEST_MAX_SIZE);
        if (n < 0)
                return cpod_error_errno(err, errno, "read `%s`", path);
        buf[len] = 0;
        if (ret) {
                int r = vl_json_parse(buf, len, NULL, ret, &jerr);
                if (r < 0)
                        return cpod_error(err, EINVAL, "`%s`: invalid JSON at line %u: %s", path, jerr.line,
                                          jerr.message);
        }
        if (ret_text)
                *ret_text = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

/* "busybox:latest" in a docker-archive means docker.io/library/busybox:latest; a short name in an
 * OCI ref.name annotation is local (localhost/NAME), as podman reads it. */
static int ar_normalize_name(const char *s, const char *domain, char **ret, CpodError *err) {
        Reference ref = {};
        int r = reference_parse(s, &ref, err);
        if (r < 0)
                return r;
        r = reference_normalize(&ref, domain);
        char *out = r < 0 ? NULL : reference_string(&ref);
        reference_done(&ref);
        if (!out)
                return cpod_error(err, r < 0 ? -r : ENOMEM, "invalid image name `%s`", s);
        *ret = out;
        return 0;
}

/* ---- loading ---- */

/* A load in progress: the blobs it added (a failed load removes them again) and whether the files it
 * reads are its own staging copies, which may become blobs without being copied. */
typedef struct Loading {
        StrV added;
        bool staged;
} Loading;

static void loading_done(Loading *ld) {
        strv_done(&ld->added);
}

static int ar_hash_fd(int fd, char ret[DIGEST_MAX]) {
        Sha256 *h = NULL;
        uint8_t buf[64 * 1024];
        ssize_t n;
        off_t off = 0;
        int r = sha256_new(&h);
        if (r < 0)
                return r;
        while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
                sha256_update(h, buf, (size_t)n);
                off += n;
        }
        if (n == 0)
                sha256_final(h, ret);
        sha256_free(h);
        return n < 0 ? -errno : 0;
}

/* Store the blob in fd, verified against expected when given; remember it when it is new to the store.
 * A staged file becomes the blob itself: hashed once, linked, never copied. */
static int ar_put_fd(Engine *e, Loading *ld, int fd, const char *expected, char ret[DIGEST_MAX],
                     uint64_t *ret_size, CpodError *err) {
        char d[DIGEST_MAX];
        bool created = false;
        /* Held before looking: a blob seen here stays until the image is recorded. */
        int h = engine_gc_hold(e, err);
        if (h < 0)
                return h;
        if (ld->staged) {
                int r = blob_adopt_fd(e, fd, expected, d, ret_size, &created, err);
                if (r < 0)
                        return r;
                if (ret)
                        memcpy(ret, d, DIGEST_MAX);
                if (created && strv_push(&ld->added, d) < 0)
                        return cpod_error(err, ENOMEM, "out of memory");
                return 0;
        }
        if (!expected) {
                int r = ar_hash_fd(fd, d);
                if (r < 0)
                        return cpod_error_errno(err, -r, "read");
                expected = d;
        }
        bool had = blob_exists(e, expected);
        int r = blob_put_fd(e, fd, expected, ret, ret_size, err);
        if (r >= 0 && !had && strv_push(&ld->added, expected) < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        return r;
}

static int ar_put_mem(Engine *e, Loading *ld, const char *p, size_t n, char ret[DIGEST_MAX],
                      CpodError *err) {
        char d[DIGEST_MAX];
        int h = engine_gc_hold(e, err);
        if (h < 0)
                return h;
        sha256_digest(p, n, d);
        bool had = blob_exists(e, d);
        int r = blob_put(e, p, n, ret, err);
        if (r >= 0 && !had && strv_push(&ld->added, d) < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        return r;
}

static int ar_put_layout_blob(Engine *e, Loading *ld, int dir_fd, const char *digest, CpodError *err) {
        char path[128];
        if (!digest_valid(digest))
                return cpod_error(err, EINVAL, "invalid digest `%s`", digest);
        int r = engine_gc_hold(e, err);
        if (r < 0)
                return r;
        if (blob_exists(e, digest))
                return 0;
        snprintf(path, sizeof(path), "blobs/sha256/%s", digest_hex(digest));
        _cleanup_close_ int fd = ar_open(dir_fd, path, err);
        if (fd < 0)
                return fd;
        return ar_put_fd(e, ld, fd, digest, NULL, NULL, err);
}

/* Store one manifest (and its config and layers) of a layout; an index is narrowed to this platform. */
static int ar_load_layout_manifest(Engine *e, Loading *ld, int dir_fd, const char *digest,
                                   const char *media_type, char ret_digest[DIGEST_MAX], CpodError *err) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        Manifest m = {};
        char path[128];
        int r;

        for (unsigned depth = 0;; depth++) {
                if (depth > 2)
                        return cpod_error(err, ELOOP, "image index nested too deeply");
                r = ar_put_layout_blob(e, ld, dir_fd, digest, err);
                if (r < 0)
                        return r;
                free(text);
                text = NULL;
                snprintf(path, sizeof(path), "blobs/sha256/%s", digest_hex(digest));
                r = ar_read_json(dir_fd, path, NULL, &text, &len, err);
                if (r >= 0)
                        r = manifest_parse(text, len, media_type, &m, err);
                if (r < 0)
                        return cpod_error_wrap(err, "manifest %s", digest);
                if (!m.is_index)
                        break;
                const Descriptor *d = manifest_select(&m, NULL, NULL, NULL);
                if (!d) {
                        manifest_done(&m);
                        return cpod_error(err, ENOENT, "index %s has no image for this platform", digest);
                }
                snprintf(ret_digest, DIGEST_MAX, "%s", d->digest);
                digest = ret_digest;
                media_type = NULL;
                manifest_done(&m);
        }
        r = ar_put_layout_blob(e, ld, dir_fd, m.config.digest, err);
        for (size_t i = 0; r >= 0 && i < m.n_layers; i++)
                r = ar_put_layout_blob(e, ld, dir_fd, m.layers[i].digest, err);
        manifest_done(&m);
        if (r >= 0 && digest != ret_digest)
                snprintf(ret_digest, DIGEST_MAX, "%s", digest);
        return r;
}

/* The name an index entry gives its image: a full name, never a bare tag. */
static int ar_layout_entry_name(const VlJson *entry, char **ret, CpodError *err) {
        const VlJson *ann = vl_json_object_get(entry, "annotations");
        const char *name = vl_json_get_string(vl_json_object_get(ann, "io.containerd.image.name"));
        const char *ref = vl_json_get_string(vl_json_object_get(ann, "org.opencontainers.image.ref.name"));

        *ret = NULL;
        if (name)
                return ar_normalize_name(name, "docker.io", ret, err);
        if (ref)
                return ar_normalize_name(ref, "localhost", ret, err);
        return 0;
}

static int ar_load_layout(Engine *e, Loading *ld, int dir_fd, StrV *loaded, CpodError *err) {
        _cleanup_json_ VlJson *index = NULL;
        const VlJson *entry;
        int r;

        r = ar_read_json(dir_fd, "index.json", &index, NULL, NULL, err);
        if (r < 0)
                return r;
        const VlJson *manifests = vl_json_object_get(index, "manifests");
        if (vl_json_type(manifests) != VL_JSON_ARRAY || vl_json_array_length(manifests) == 0)
                return cpod_error(err, EINVAL, "index.json lists no images");
        if (vl_json_array_length(manifests) > AR_MAX_IMAGES)
                return cpod_error(err, EFBIG, "index.json lists more than %u images", AR_MAX_IMAGES);
        VL_JSON_FOREACH_ELEMENT (entry, manifests) {
                const char *digest = vl_json_get_string(vl_json_object_get(entry, "digest"));
                const char *mt = vl_json_get_string(vl_json_object_get(entry, "mediaType"));
                char mdigest[DIGEST_MAX], id[65];
                _cleanup_free_ char *name = NULL;

                if (!digest || !digest_valid(digest))
                        return cpod_error(err, EINVAL, "index.json: an entry has no valid digest");
                r = ar_load_layout_manifest(e, ld, dir_fd, digest, mt, mdigest, err);
                if (r >= 0)
                        r = ar_layout_entry_name(entry, &name, err);
                if (r < 0)
                        return r;
                const char *names[1] = {name};
                r = image_commit_manifest(e, mdigest, names, name ? 1 : 0, id, err);
                if (r < 0)
                        return r;
                strv_done(&ld->added); /* the image holds them now */
                if (strv_push(loaded, name ? name : id) < 0)
                        return cpod_error(err, ENOMEM, "out of memory");
        }
        return 0;
}

static const char *ar_layer_media_type(int fd) {
        uint8_t m[4] = {};
        ssize_t n = pread(fd, m, sizeof(m), 0);
        if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
                return MT_OCI_LAYER_GZIP;
        if (n == 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
                return MT_OCI_LAYER_ZSTD;
        return MT_OCI_LAYER;
}

static VlJson *ar_descriptor(const char *media_type, const char *digest, uint64_t size) {
        VlJson *d = vl_json_new_object();
        if (!d || vl_json_object_set_string(d, "mediaType", media_type) < 0 ||
            vl_json_object_set_string(d, "digest", digest) < 0 ||
            vl_json_object_set_int(d, "size", (int64_t)size) < 0)
                return vl_json_unref(d);
        return d;
}

/* Store the config and layers of one manifest.json entry and synthesise its manifest. */
static int ar_docker_manifest(Engine *e, Loading *ld, int dir_fd, const char *config_path,
                              const VlJson *layers, char ret_digest[DIGEST_MAX], CpodError *err) {
        _cleanup_free_ char *config = NULL, *text = NULL;
        _cleanup_json_ VlJson *m = vl_json_new_object(), *ls = vl_json_new_array();
        ImageConfig ic = {};
        char cdigest[DIGEST_MAX];
        size_t clen;
        const VlJson *l;
        int r;

        if (!m || !ls)
                return cpod_error(err, ENOMEM, "out of memory");
        r = ar_read_json(dir_fd, config_path, NULL, &config, &clen, err);
        if (r >= 0)
                r = image_config_parse(config, clen, &ic, err);
        if (r < 0)
                return cpod_error_wrap(err, "config `%s`", config_path);
        size_t n_diff = ic.n_diff_ids;
        image_config_done(&ic);
        if (vl_json_array_length(layers) != n_diff)
                return cpod_error(err, EINVAL, "manifest.json lists %zu layers, the config %zu",
                                  vl_json_array_length(layers), n_diff);
        r = ar_put_mem(e, ld, config, clen, cdigest, err);
        if (r < 0)
                return r;
        VL_JSON_FOREACH_ELEMENT (l, layers) {
                const char *lp = vl_json_get_string(l);
                char ldigest[DIGEST_MAX];
                uint64_t size;
                if (!lp)
                        return cpod_error(err, EINVAL, "manifest.json: a layer path is not a string");
                _cleanup_close_ int fd = ar_open(dir_fd, lp, err);
                if (fd < 0)
                        return fd;
                const char *mt = ar_layer_media_type(fd);
                r = ar_put_fd(e, ld, fd, NULL, ldigest, &size, err);
                if (r < 0)
                        return cpod_error_wrap(err, "layer `%s`", lp);
                if (vl_json_array_append(ls, ar_descriptor(mt, ldigest, size)) < 0)
                        return cpod_error(err, ENOMEM, "out of memory");
        }
        if (vl_json_object_set_int(m, "schemaVersion", 2) < 0 ||
            vl_json_object_set_string(m, "mediaType", MT_OCI_MANIFEST) < 0 ||
            vl_json_object_set(m, "config", ar_descriptor(MT_OCI_CONFIG, cdigest, clen)) < 0 ||
            vl_json_object_set(m, "layers", vl_json_ref(ls)) < 0 || !(text = vl_json_to_string(m, 0)))
                return cpod_error(err, ENOMEM, "out of memory");
        return ar_put_mem(e, ld, text, strlen(text), ret_digest, err);
}

static int ar_load_docker(Engine *e, Loading *ld, int dir_fd, StrV *loaded, CpodError *err) {
        _cleanup_json_ VlJson *list = NULL;
        const VlJson *entry;
        int r;

        r = ar_read_json(dir_fd, "manifest.json", &list, NULL, NULL, err);
        if (r < 0)
                return r;
        if (vl_json_type(list) != VL_JSON_ARRAY || vl_json_array_length(list) == 0)
                return cpod_error(err, EINVAL, "manifest.json lists no images");
        if (vl_json_array_length(list) > AR_MAX_IMAGES)
                return cpod_error(err, EFBIG, "manifest.json lists more than %u images", AR_MAX_IMAGES);
        VL_JSON_FOREACH_ELEMENT (entry, list) {
                const char *config = vl_json_get_string(vl_json_object_get(entry, "Config"));
                const VlJson *tags = vl_json_object_get(entry, "RepoTags"), *t;
                const VlJson *layers = vl_json_object_get(entry, "Layers");
                _cleanup_(strv_done) StrV names = {};
                char mdigest[DIGEST_MAX], id[65];

                if (!config || vl_json_type(layers) != VL_JSON_ARRAY ||
                    (tags && !vl_json_is_null(tags) && vl_json_type(tags) != VL_JSON_ARRAY))
                        return cpod_error(err, EINVAL, "manifest.json: an entry lacks Config or Layers");
                VL_JSON_FOREACH_ELEMENT (t, tags) {
                        char *n = NULL;
                        if (!vl_json_get_string(t))
                                return cpod_error(err, EINVAL, "manifest.json: RepoTags holds a non-string");
                        r = ar_normalize_name(vl_json_get_string(t), "docker.io", &n, err);
                        if (r < 0)
                                return r;
                        r = strv_push(&names, n);
                        free(n);
                        if (r < 0)
                                return cpod_error(err, ENOMEM, "out of memory");
                }
                r = ar_docker_manifest(e, ld, dir_fd, config, layers, mdigest, err);
                if (r >= 0)
                        r = image_commit_manifest(e, mdigest, (const char *const *)names.v, names.n, id,
                                                  err);
                if (r < 0)
                        return r;
                strv_done(&ld->added); /* the image holds them now */
                for (size_t i = 0; i < names.n; i++)
                        if (strv_push(loaded, names.v[i]) < 0)
                                return cpod_error(err, ENOMEM, "out of memory");
                if (names.n == 0 && strv_push(loaded, id) < 0)
                        return cpod_error(err, ENOMEM, "out of memory");
        }
        return 0;
}

static int ar_load_dir(Engine *e, Loading *ld, int dir_fd, const char *what, StrV *loaded, CpodError *err) {
        int r;
        if (faccessat(dir_fd, "manifest.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                r = ar_load_docker(e, ld, dir_fd, loaded, err);
        else if (faccessat(dir_fd, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                r = ar_load_layout(e, ld, dir_fd, loaded, err);
        else
                return cpod_error(err, EINVAL, "`%s` is neither a docker-archive nor an OCI image", what);
        return r;
}

/* Unpack an archive file (any compression) with the safe extractor, then load from there. */
static int ar_load_file(Engine *e, Loading *ld, const char *path, StrV *loaded, CpodError *err) {
        _cleanup_free_ char *stage = NULL;
        _cleanup_close_ int fd = -1, stage_fd = -1;
        int r;

        fd = streq(path, "-") ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return cpod_error_errno(err, errno, "open `%s`", path);
        if (mkdirat(e->root_fd, "tmp", 0700) < 0 && errno != EEXIST)
                return cpod_error_errno(err, errno, "create `%s/tmp`", e->root);
        if (asprintf(&stage, "%s/tmp/load-XXXXXX", e->root) < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        if (!mkdtemp(stage))
                return cpod_error_errno(err, errno, "create a staging directory in `%s/tmp`", e->root);
        stage_fd = open(stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (stage_fd < 0)
                r = cpod_error_errno(err, errno, "open `%s`", stage);
        else
                r = layer_extract_to(fd, stage_fd, err);
        ld->staged = true; /* the unpacked files are ours: blobs are linked from there */
        if (r >= 0)
                r = ar_load_dir(e, ld, stage_fd, path, loaded, err);
        ld->staged = false;
        layer_rm_rf_at(AT_FDCWD, stage);
        return r;
}

int image_load(Engine *e, const char *path, char ***ret_names, size_t *ret_n, CpodError *err) {
        _cleanup_(strv_done) StrV loaded = {};
        _cleanup_(loading_done) Loading ld = {};
        const char *p;
        struct stat st;
        int r;

        if ((p = startswith(path, "docker-archive:")) || (p = startswith(path, "oci-archive:")) ||
            (p = startswith(path, "oci:")))
                path = p;
        if (streq(path, "-") || (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)))
                r = ar_load_file(e, &ld, path, &loaded, err);
        else {
                _cleanup_close_ int dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dir_fd < 0)
                        return cpod_error_errno(err, errno, "open `%s`", path);
                r = ar_load_dir(e, &ld, dir_fd, path, &loaded, err);
        }
        if (r < 0) {
                /* leave the store as it was: blobs this load brought and no image uses go again */
                blob_remove_unused(e, ld.added.v, ld.added.n);
                engine_gc_release(e);
                return cpod_error_wrap(err, "load `%s`", path);
        }
        engine_gc_release(e);
        *ret_names = TAKE_PTR(loaded.v);
        *ret_n = loaded.n;
        loaded.n = 0;
        return 0;
}

/* ---- saving ---- */

/* Where saved files go: a tar stream or an OCI layout directory. */
typedef struct Sink {
        struct archive *a;
        int out_fd;
        int dir_fd;
        int write_errno;
        char *buf;
        StrV written; /* names already in the output (shared layers and blobs) */
} Sink;

static la_ssize_t sink_write_cb(struct archive *a, void *userdata, const void *p, size_t n) {
        Sink *s = userdata;
        const uint8_t *q = p;
        (void)a;
        for (size_t left = n; left > 0;) {
                ssize_t k = write(s->out_fd, q, left);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        s->write_errno = errno;
                        return -1;
                }
                q += k;
                left -= (size_t)k;
        }
        return (la_ssize_t)n;
}

static bool sink_seen(Sink *s, const char *name) {
        for (size_t i = 0; i < s->written.n; i++)
                if (streq(s->written.v[i], name))
                        return true;
        return false;
}

static int sink_fail(Sink *s, const char *name, CpodError *err) {
        if (s->write_errno)
                return cpod_error_errno(err, s->write_errno, "write `%s`", name);
        return cpod_error(err, EIO, "write `%s`: %s", name, s->a ? archive_error_string(s->a) : "failed");
}

static int sink_header(Sink *s, const char *name, uint64_t size, CpodError *err) {
        struct archive_entry *ae = archive_entry_new();
        if (!ae)
                return cpod_error(err, ENOMEM, "out of memory");
        archive_entry_set_pathname(ae, name);
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, 0644);
        archive_entry_set_size(ae, (la_int64_t)size);
        int r = archive_write_header(s->a, ae) >= ARCHIVE_WARN ? 0 : sink_fail(s, name, err);
        archive_entry_free(ae);
        return r;
}

/* Add a file from fd (size bytes from the current offset). */
static int sink_add_fd(Sink *s, const char *name, int fd, uint64_t size, CpodError *err) {
        _cleanup_close_ int out = -1;
        int r;

        if (sink_seen(s, name))
                return 0;
        if (s->a)
                r = sink_header(s, name, size, err);
        else {
                out = openat(s->dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
                r = out < 0 ? cpod_error_errno(err, errno, "create `%s`", name) : 0;
        }
        for (uint64_t left = size; r >= 0 && left > 0;) {
                ssize_t n = read(fd, s->buf, MIN(left, (uint64_t)AR_BUF_SIZE));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = n < 0 ? cpod_error_errno(err, errno, "read `%s`", name)
                                  : cpod_error(err, EIO, "`%s` is shorter than expected", name);
                        break;
                }
                if (s->a ? archive_write_data(s->a, s->buf, (size_t)n) != n
                         : write(out, s->buf, (size_t)n) != n) /* regular files: no short writes */
                        r = s->a ? sink_fail(s, name, err)
                                 : cpod_error_errno(err, errno, "write `%s`", name);
                left -= (uint64_t)n;
        }
        if (r >= 0 && strv_push(&s->written, name) < 0)
                r = cpod_error(err, ENOMEM, "out of memory");
        return r;
}

static int sink_add_mem(Sink *s, const char *name, const char *data, size_t len, CpodError *err) {
        if (s->a) {
                int r = sink_header(s, name, len, err);
                if (r >= 0 && len > 0 && archive_write_data(s->a, data, len) != (la_ssize_t)len)
                        r = sink_fail(s, name, err);
                return r;
        }
        _cleanup_close_ int fd =
                openat(s->dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, data, len) != (ssize_t)len)
                return cpod_error_errno(err, errno, "write `%s`", name);
        return 0;
}

static int sink_add_json(Sink *s, const char *name, const VlJson *v, CpodError *err) {
        _cleanup_free_ char *text = vl_json_to_string(v, 0);
        if (!text)
                return cpod_error(err, ENOMEM, "out of memory");
        return sink_add_mem(s, name, text, strlen(text), err);
}

/* Copy a stored blob unchanged, under name (NULL: blobs/sha256/<hex>). */
static int sink_add_blob(Engine *e, Sink *s, const char *digest, const char *as, CpodError *err) {
        char name[128];
        struct stat st;

        snprintf(name, sizeof(name), "%s%s", as ? as : "blobs/sha256/", as ? "" : digest_hex(digest));
        if (!s->a && fstatat(s->dir_fd, name, &st, 0) == 0)
                return 0; /* content addressed: an existing blob is the same blob */
        _cleanup_close_ int fd = blob_open(e, digest, err);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return cpod_error_errno(err, errno, "stat blob %s", digest);
        return sink_add_fd(s, name, fd, (uint64_t)st.st_size, err);
}

typedef struct SaveImage {
        Image img;
        Manifest m;
        char *manifest;
        ImageConfig config;
} SaveImage;

static void save_image_done(SaveImage *si) {
        image_done(&si->img);
        manifest_done(&si->m);
        free(si->manifest);
        image_config_done(&si->config);
}

static int save_image_get(Engine *e, const char *ref, SaveImage *si, CpodError *err) {
        _cleanup_free_ char *config = NULL;
        int r = image_get(e, ref, &si->img, err);
        if (r >= 0)
                r = image_read_manifest(e, &si->img, &si->manifest, err);
        if (r >= 0)
                r = manifest_parse(si->manifest, strlen(si->manifest), NULL, &si->m, err);
        if (r >= 0)
                r = image_read_config(e, &si->img, &config, err);
        if (r >= 0)
                r = image_config_parse(config, strlen(config), &si->config, err);
        if (r >= 0 && si->config.n_diff_ids != si->m.n_layers)
                r = cpod_error(err, EINVAL, "image %s: config and manifest disagree on the layers",
                               si->img.id);
        return r;
}

/* A docker-archive layer: the stored blob, decompressed through an unnamed temp file. */
static int save_docker_layer(Engine *e, Sink *s, const char *blob, const char *diff_id, char *name,
                             CpodError *err) {
        char got[DIGEST_MAX];
        uint64_t size;

        snprintf(name, 80, "%s/layer.tar", digest_hex(diff_id));
        if (sink_seen(s, name))
                return 0;
        _cleanup_close_ int in = blob_open(e, blob, err);
        if (in < 0)
                return in;
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s/tmp", e->root);
        _cleanup_close_ int fd = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0)
                return cpod_error_errno(err, errno, "create a temporary file in `%s`", tmp);
        int r = layer_decompress_to(in, fd, got, &size, err);
        if (r < 0)
                return cpod_error_wrap(err, "layer %s", blob);
        if (!streq(got, diff_id))
                return cpod_error(err, EBADMSG, "layer %s: diff_id mismatch: got %s, want %s", blob, got,
                                  diff_id);
        if (lseek(fd, 0, SEEK_SET) < 0)
                return cpod_error_errno(err, errno, "seek");
        return sink_add_fd(s, name, fd, size, err);
}

static int save_docker_one(Engine *e, Sink *s, SaveImage *si, VlJson *manifest, VlJson *repos,
                           CpodError *err) {
        _cleanup_json_ VlJson *entry = vl_json_new_object(), *tags = vl_json_new_array(),
                              *ls = vl_json_new_array();
        char name[80], top[80] = "";
        int r;

        if (!entry || !tags || !ls)
                return cpod_error(err, ENOMEM, "out of memory");
        snprintf(name, sizeof(name), "%s.json", si->img.id);
        r = sink_add_blob(e, s, si->m.config.digest, name, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < si->m.n_layers; i++) {
                r = save_docker_layer(e, s, si->m.layers[i].digest, si->config.diff_ids[i], name, err);
                if (r < 0)
                        return r;
                if (vl_json_array_append(ls, vl_json_new_string(name)) < 0)
                        return cpod_error(err, ENOMEM, "out of memory");
                snprintf(top, sizeof(top), "%s", digest_hex(si->config.diff_ids[i]));
        }
        for (size_t i = 0; i < si->img.n_names; i++) {
                Reference ref = {};
                if (vl_json_array_append(tags, vl_json_new_string(si->img.names[i])) < 0)
                        return cpod_error(err, ENOMEM, "out of memory");
                if (reference_parse(si->img.names[i], &ref, NULL) >= 0 && ref.tag && *top) {
                        _cleanup_free_ char *repo = reference_repository(&ref);
                        VlJson *tagmap = repo ? vl_json_object_get(repos, repo) : NULL;
                        if (repo && !tagmap) {
                                tagmap = vl_json_new_object();
                                if (vl_json_object_set(repos, repo, tagmap) < 0)
                                        tagmap = NULL;
                        }
                        if (tagmap)
                                vl_json_object_set_string(tagmap, ref.tag, top);
                }
                reference_done(&ref);
        }
        snprintf(name, sizeof(name), "%s.json", si->img.id);
        if (vl_json_object_set_string(entry, "Config", name) < 0 ||
            vl_json_object_set(entry, "RepoTags", vl_json_ref(tags)) < 0 ||
            vl_json_object_set(entry, "Layers", vl_json_ref(ls)) < 0 ||
            vl_json_array_append(manifest, vl_json_ref(entry)) < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        return 0;
}

static int save_docker(Engine *e, Sink *s, SaveImage *imgs, size_t n, CpodError *err) {
        _cleanup_json_ VlJson *manifest = vl_json_new_array(), *repos = vl_json_new_object();
        int r;

        if (!manifest || !repos)
                return cpod_error(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                r = save_docker_one(e, s, &imgs[i], manifest, repos, err);
                if (r < 0)
                        return r;
        }
        r = sink_add_json(s, "manifest.json", manifest, err);
        if (r >= 0)
                r = sink_add_json(s, "repositories", repos, err);
        return r;
}

/* An index.json entry: the manifest, named as podman and containerd name it. */
static VlJson *save_index_entry(SaveImage *si, const char *name) {
        _cleanup_json_ VlJson *d = ar_descriptor(si->m.media_type ? si->m.media_type : MT_OCI_MANIFEST,
                                                 si->img.manifest_digest, strlen(si->manifest));
        VlJson *ann = vl_json_new_object();
        Reference ref = {};

        if (!d || !ann) {
                vl_json_unref(ann);
                return NULL;
        }
        if (name && reference_parse(name, &ref, NULL) >= 0) {
                vl_json_object_set_string(ann, "io.containerd.image.name", name);
                vl_json_object_set_string(ann, "org.opencontainers.image.ref.name",
                                          ref.tag ? ref.tag : "latest");
        }
        reference_done(&ref);
        if (vl_json_object_set(d, "annotations", ann) < 0)
                return NULL;
        return TAKE_PTR(d);
}

/* Entries of an existing index.json a new save keeps: those of other names. */
static int save_index_base(Sink *s, const SaveImage *imgs, size_t n, VlJson *manifests) {
        _cleanup_json_ VlJson *old = NULL;
        const VlJson *entry;

        if (s->a || ar_read_json(s->dir_fd, "index.json", &old, NULL, NULL, NULL) < 0)
                return 0;
        VL_JSON_FOREACH_ELEMENT (entry, vl_json_object_get(old, "manifests")) {
                const VlJson *ann = vl_json_object_get(entry, "annotations");
                const char *name = vl_json_get_string(vl_json_object_get(ann, "io.containerd.image.name"));
                bool replaced = false;
                for (size_t i = 0; name && i < n; i++)
                        for (size_t j = 0; j < imgs[i].img.n_names; j++)
                                replaced = replaced || streq(name, imgs[i].img.names[j]);
                if (!replaced && vl_json_array_append(manifests, vl_json_copy(entry)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int save_oci(Engine *e, Sink *s, SaveImage *imgs, size_t n, CpodError *err) {
        _cleanup_json_ VlJson *index = vl_json_new_object(), *manifests = vl_json_new_array(),
                              *layout = vl_json_new_object();
        int r;

        if (!index || !manifests || !layout || save_index_base(s, imgs, n, manifests) < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        if (vl_json_object_set_string(layout, "imageLayoutVersion", "1.0.0") < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        r = sink_add_json(s, "oci-layout", layout, err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                SaveImage *si = &imgs[i];
                r = sink_add_blob(e, s, si->img.manifest_digest, NULL, err);
                if (r >= 0)
                        r = sink_add_blob(e, s, si->m.config.digest, NULL, err);
                for (size_t j = 0; r >= 0 && j < si->m.n_layers; j++)
                        r = sink_add_blob(e, s, si->m.layers[j].digest, NULL, err);
                for (size_t j = 0; r >= 0 && j < MAX(si->img.n_names, (size_t)1); j++)
                        if (vl_json_array_append(
                                    manifests,
                                    save_index_entry(si, si->img.n_names ? si->img.names[j] : NULL)) < 0)
                                r = cpod_error(err, ENOMEM, "out of memory");
        }
        if (r < 0)
                return r;
        if (vl_json_object_set_int(index, "schemaVersion", 2) < 0 ||
            vl_json_object_set_string(index, "mediaType", MT_OCI_INDEX) < 0 ||
            vl_json_object_set(index, "manifests", vl_json_ref(manifests)) < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        return sink_add_json(s, "index.json", index, err);
}

static int sink_open(Sink *s, ImageFormat format, const char *path, CpodError *err) {
        /* Before anything is created or truncated: a missing library leaves the target alone. */
        int r = dl_archive_load(err);
        if (r < 0)
                return r;
        s->buf = malloc(AR_BUF_SIZE);
        if (!s->buf)
                return cpod_error(err, ENOMEM, "out of memory");
        if (format == IMAGE_FORMAT_OCI_DIR) {
                if (mkdir(path, 0755) < 0 && errno != EEXIST)
                        return cpod_error_errno(err, errno, "create `%s`", path);
                s->dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (s->dir_fd < 0)
                        return cpod_error_errno(err, errno, "open `%s`", path);
                if ((mkdirat(s->dir_fd, "blobs", 0755) < 0 && errno != EEXIST) ||
                    (mkdirat(s->dir_fd, "blobs/sha256", 0755) < 0 && errno != EEXIST))
                        return cpod_error_errno(err, errno, "create `%s/blobs/sha256`", path);
                return 0;
        }
        s->out_fd = streq(path, "-") ? dup(STDOUT_FILENO)
                                     : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (s->out_fd < 0)
                return cpod_error_errno(err, errno, "open `%s`", path);
        s->a = archive_write_new();
        if (!s->a)
                return cpod_error(err, ENOMEM, "out of memory");
        archive_write_set_format_pax_restricted(s->a);
        archive_write_set_bytes_in_last_block(s->a, 1);
        if (archive_write_open(s->a, s, NULL, sink_write_cb, NULL) != ARCHIVE_OK)
                return sink_fail(s, path, err);
        return 0;
}

static int sink_close(Sink *s, const char *path, int r, CpodError *err) {
        if (s->a) {
                if (r >= 0 && archive_write_close(s->a) != ARCHIVE_OK)
                        r = sink_fail(s, path, err);
                archive_write_free(s->a);
        }
        if (r >= 0 && s->out_fd >= 0 && fsync(s->out_fd) < 0 && errno != EINVAL && errno != EROFS)
                r = cpod_error_errno(err, errno, "sync `%s`", path);
        safe_close(s->out_fd);
        safe_close(s->dir_fd);
        free(s->buf);
        strv_done(&s->written);
        return r;
}

int image_save(Engine *e, const char *const *refs, size_t n_refs, ImageFormat format, const char *path,
               CpodError *err) {
        SaveImage *imgs = NULL;
        Sink s = {.out_fd = -1, .dir_fd = -1};
        int r = 0;

        if (n_refs == 0)
                return cpod_error(err, EINVAL, "no image to save");
        if (n_refs > AR_MAX_IMAGES)
                return cpod_error(err, E2BIG, "more than %u images to save", AR_MAX_IMAGES);
        imgs = calloc(n_refs, sizeof(*imgs));
        if (!imgs)
                return cpod_error(err, ENOMEM, "out of memory");
        for (size_t i = 0; r >= 0 && i < n_refs; i++)
                r = save_image_get(e, refs[i], &imgs[i], err);
        if (r >= 0)
                r = sink_open(&s, format, path, err);
        if (r >= 0)
                r = format == IMAGE_FORMAT_DOCKER_ARCHIVE ? save_docker(e, &s, imgs, n_refs, err)
                                                          : save_oci(e, &s, imgs, n_refs, err);
        r = sink_close(&s, path, r, err);
        for (size_t i = 0; i < n_refs; i++)
                save_image_done(&imgs[i]);
        free(imgs);
        if (r < 0 && format != IMAGE_FORMAT_OCI_DIR && !streq(path, "-"))
                (void)unlink(path);
        return r < 0 ? cpod_error_wrap(err, "save `%s`", path) : 0;
}
