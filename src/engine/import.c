/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * import (a root filesystem tarball as a one-layer image), export (an
 * image's merged root filesystem as a tarball) and image mounts (a
 * read-only overlay of the image's layers under <runroot>/images/<id>/merged,
 * reference-counted in the mounts table so concurrent users share it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "blob.h"
#include "db.h"
#include "engine-internal.h"
#include "image.h"
#include "layer.h"
#include "manifest.h"
#include "util.h"
#include "vl/json.h"

#define IMPORT_MAX_CHANGES 1024u
#define IMPORT_MAX_CHANGE  (64u * 1024u)

static void json_unrefp(VlJson **p) {
        vl_json_unref(*p);
}
#define _cleanup_json_ _cleanup_(json_unrefp)

/* ---- Dockerfile-style changes ---- */

/* CMD and ENTRYPOINT: a JSON array as given, anything else runs through a shell. */
static int change_argv(const char *arg, VlJson **ret, CpodError *err) {
        VlJson *v = NULL, *x;

        if (arg[0] == '[') {
                if (vl_json_parse(arg, strlen(arg), NULL, &v, NULL) < 0 ||
                    vl_json_type(v) != VL_JSON_ARRAY) {
                        vl_json_unref(v);
                        return cpod_error(err, EINVAL, "`%s`: not a JSON array of strings", arg);
                }
                VL_JSON_FOREACH_ELEMENT (x, v)
                        if (vl_json_type(x) != VL_JSON_STRING) {
                                vl_json_unref(v);
                                return cpod_error(err, EINVAL, "`%s`: not a JSON array of strings", arg);
                        }
                *ret = v;
                return 0;
        }
        v = vl_json_new_array();
        if (!v || vl_json_array_append(v, vl_json_new_string("/bin/sh")) < 0 ||
            vl_json_array_append(v, vl_json_new_string("-c")) < 0 ||
            vl_json_array_append(v, vl_json_new_string(arg)) < 0) {
                vl_json_unref(v);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        *ret = v;
        return 0;
}

static VlJson *object_member(VlJson *o, const char *key) {
        VlJson *m = vl_json_object_get(o, key);
        if (m)
                return m;
        if (vl_json_object_set(o, key, vl_json_new_object()) < 0)
                return NULL;
        return vl_json_object_get(o, key);
}

static char *strip_quotes(char *s) {
        size_t n = strlen(s);
        if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
                s[n - 1] = 0;
                return s + 1;
        }
        return s;
}

/* ENV k=v (or ENV k v): a later value of a key replaces the earlier one. */
static int change_env(VlJson *cfg, char *arg, CpodError *err) {
        char *eq = strchr(arg, '='), *sp = strchr(arg, ' ');
        _cleanup_free_ char *kv = NULL;
        VlJson *env = vl_json_object_get(cfg, "Env");

        if (eq && (!sp || eq < sp))
                *eq = 0;
        else if (sp)
                *sp = 0, eq = sp;
        else
                return cpod_error(err, EINVAL, "ENV `%s`: expected KEY=VALUE", arg);
        if (asprintf(&kv, "%s=%s", arg, strip_quotes(eq + 1)) < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        if (!env) {
                if (vl_json_object_set(cfg, "Env", vl_json_new_array()) < 0)
                        return cpod_error(err, ENOMEM, "out of memory");
                env = vl_json_object_get(cfg, "Env");
        }
        _cleanup_json_ VlJson *next = vl_json_new_array();
        const VlJson *x;
        size_t klen = strlen(arg);
        if (!next)
                return cpod_error(err, ENOMEM, "out of memory");
        VL_JSON_FOREACH_ELEMENT (x, env) {
                const char *s = vl_json_get_string(x);
                if (s && strncmp(s, arg, klen) == 0 && s[klen] == '=')
                        continue;
                if (vl_json_array_append(next, vl_json_copy(x)) < 0)
                        return cpod_error(err, ENOMEM, "out of memory");
        }
        if (vl_json_array_append(next, vl_json_new_string(kv)) < 0 ||
            vl_json_object_set(cfg, "Env", vl_json_ref(next)) < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        return 0;
}

/* The next blank-separated word of *p, with quotes ('a b', "a b") removed in place; NULL at the end. */
static char *next_word(char **p) {
        char *s = *p + strspn(*p, " \t"), *out = s, *in = s;
        char quote = 0;

        if (!*s)
                return NULL;
        for (; *in && (quote || (*in != ' ' && *in != '\t')); in++) {
                if (!quote && (*in == '"' || *in == '\''))
                        quote = *in;
                else if (quote && *in == quote)
                        quote = 0;
                else
                        *out++ = *in;
        }
        *p = *in ? in + 1 : in;
        *out = 0;
        return s;
}

/* EXPOSE, VOLUME and LABEL take several words; each becomes a member of an object. */
static int change_words(VlJson *cfg, const char *key, const char *instr, char *arg, CpodError *err) {
        VlJson *o = object_member(cfg, key);

        if (!o)
                return cpod_error(err, ENOMEM, "out of memory");
        if (streq(instr, "VOLUME") && arg[0] == '[') {
                _cleanup_json_ VlJson *list = NULL;
                const VlJson *x;
                int r = change_argv(arg, &list, err);
                if (r < 0)
                        return r;
                VL_JSON_FOREACH_ELEMENT (x, list)
                        if (vl_json_object_set(o, vl_json_get_string(x), vl_json_new_object()) < 0)
                                return cpod_error(err, ENOMEM, "out of memory");
                return 0;
        }
        for (char *w; (w = next_word(&arg));) {
                char port[64];
                VlJson *v = NULL;
                const char *k = w;
                if (streq(instr, "LABEL")) {
                        char *eq = strchr(w, '=');
                        if (!eq)
                                return cpod_error(err, EINVAL, "LABEL `%s`: expected KEY=VALUE", w);
                        *eq = 0;
                        k = w;
                        v = vl_json_new_string(eq + 1);
                } else if (streq(instr, "EXPOSE")) {
                        if (!strchr(w, '/') && snprintf(port, sizeof(port), "%s/tcp", w) < (int)sizeof(port))
                                k = port;
                        v = vl_json_new_object();
                } else
                        v = vl_json_new_object();
                if (vl_json_object_set(o, k, v) < 0)
                        return cpod_error(err, ENOMEM, "out of memory");
        }
        return 0;
}

static int change_apply(VlJson *cfg, const char *change, CpodError *err) {
        _cleanup_free_ char *copy = strndup(change, IMPORT_MAX_CHANGE);
        char *arg;
        int r = 0;

        if (!copy)
                return cpod_error(err, ENOMEM, "out of memory");
        /* "CMD /bin/sh" and podman's "CMD=/bin/sh" both work */
        arg = copy + strcspn(copy, " \t=");
        if (*arg)
                *arg++ = 0;
        arg += strspn(arg, " \t");
        for (char *p = copy; *p; p++)
                *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        if (!*arg)
                return cpod_error(err, EINVAL, "change `%s`: missing argument", change);
        if (streq(copy, "CMD") || streq(copy, "ENTRYPOINT")) {
                VlJson *v = NULL;
                r = change_argv(arg, &v, err);
                if (r >= 0 && vl_json_object_set(cfg, streq(copy, "CMD") ? "Cmd" : "Entrypoint", v) < 0)
                        r = cpod_error(err, ENOMEM, "out of memory");
        } else if (streq(copy, "ENV"))
                r = change_env(cfg, arg, err);
        else if (streq(copy, "EXPOSE"))
                r = change_words(cfg, "ExposedPorts", copy, arg, err);
        else if (streq(copy, "VOLUME"))
                r = change_words(cfg, "Volumes", copy, arg, err);
        else if (streq(copy, "LABEL"))
                r = change_words(cfg, "Labels", copy, arg, err);
        else if (streq(copy, "USER") || streq(copy, "WORKDIR") || streq(copy, "STOPSIGNAL")) {
                const char *key = streq(copy, "USER")      ? "User"
                                  : streq(copy, "WORKDIR") ? "WorkingDir"
                                                           : "StopSignal";
                if (vl_json_object_set_string(cfg, key, strip_quotes(arg)) < 0)
                        r = cpod_error(err, ENOMEM, "out of memory");
        } else
                return cpod_error(
                        err, EINVAL,
                        "change `%s`: unknown instruction (use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, "
                        "USER, WORKDIR, VOLUME or STOPSIGNAL)",
                        change);
        return r < 0 ? cpod_error_wrap(err, "change `%s`", change) : 0;
}

/* ---- import ---- */

static const char *import_arch(void) {
        static const struct {
                const char *uname, *oci;
        } map[] = {
                {"x86_64", "amd64"},    {"aarch64", "arm64"}, {"armv7l", "arm"},      {"i686", "386"},
                {"ppc64le", "ppc64le"}, {"s390x", "s390x"},   {"riscv64", "riscv64"},
        };
        static struct utsname u;
        if (uname(&u) < 0)
                return "amd64";
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(u.machine, map[i].uname))
                        return map[i].oci;
        return u.machine;
}

static VlJson *import_descriptor(const char *media_type, const char *digest, uint64_t size) {
        VlJson *d = vl_json_new_object();
        if (!d || vl_json_object_set_string(d, "mediaType", media_type) < 0 ||
            vl_json_object_set_string(d, "digest", digest) < 0 ||
            vl_json_object_set_int(d, "size", (int64_t)size) < 0)
                return vl_json_unref(d);
        return d;
}

/* Apply the changes to a scratch config: a typo fails before anything is stored. */
static int import_config_check(const char *const *changes, size_t n_changes, CpodError *err) {
        _cleanup_json_ VlJson *cfg = vl_json_new_object();
        if (!cfg)
                return cpod_error(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n_changes; i++) {
                int r = change_apply(cfg, changes[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int import_config(const char *diff_id, const char *message, const char *const *changes,
                         size_t n_changes, char **ret, CpodError *err) {
        _cleanup_json_ VlJson *c = vl_json_new_object(), *cfg = vl_json_new_object(),
                              *rootfs = vl_json_new_object(), *ids = vl_json_new_array(),
                              *hist = vl_json_new_array(), *h = vl_json_new_object();
        char created[64];
        int r;

        if (!c || !cfg || !rootfs || !ids || !hist || !h)
                return cpod_error(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n_changes; i++) {
                r = change_apply(cfg, changes[i], err);
                if (r < 0)
                        return r;
        }
        rfc3339_format((int64_t)time(NULL), 0, created, sizeof(created));
        if (vl_json_object_set_string(c, "created", created) < 0 ||
            vl_json_object_set_string(c, "architecture", import_arch()) < 0 ||
            vl_json_object_set_string(c, "os", "linux") < 0 ||
            vl_json_object_set(c, "config", vl_json_ref(cfg)) < 0 ||
            vl_json_object_set_string(rootfs, "type", "layers") < 0 ||
            vl_json_array_append(ids, vl_json_new_string(diff_id)) < 0 ||
            vl_json_object_set(rootfs, "diff_ids", vl_json_ref(ids)) < 0 ||
            vl_json_object_set(c, "rootfs", vl_json_ref(rootfs)) < 0 ||
            vl_json_object_set_string(h, "created", created) < 0 ||
            vl_json_object_set_string(h, "created_by", "/bin/sh -c #(nop) ADD file in / ") < 0 ||
            (message && *message && vl_json_object_set_string(h, "comment", message) < 0) ||
            vl_json_array_append(hist, vl_json_ref(h)) < 0 ||
            vl_json_object_set(c, "history", vl_json_ref(hist)) < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        *ret = vl_json_to_string(c, 0);
        return *ret ? 0 : cpod_error(err, ENOMEM, "out of memory");
}

static const char *import_media_type(int fd) {
        uint8_t m[4] = {};
        ssize_t n = pread(fd, m, sizeof(m), 0);
        if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
                return MT_OCI_LAYER_GZIP;
        if (n == 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
                return MT_OCI_LAYER_ZSTD;
        return MT_OCI_LAYER;
}

/* Store the tarball as the layer blob, verified as a tar; had tells whether the blob was there before. */
static int import_layer_blob(Engine *e, int in, char digest[DIGEST_MAX], uint64_t *size, LayerInfo *info,
                             bool *had, CpodError *err) {
        struct stat st;
        int r;

        /* a file is checked before anything is stored; a pipe can only be read once */
        if (fstat(in, &st) == 0 && S_ISREG(st.st_mode)) {
                r = layer_extract_verify(in, -1, NULL, NULL, info, err);
                if (r < 0)
                        return r;
                *had = blob_exists(e, info->compressed_digest);
                if (lseek(in, 0, SEEK_SET) < 0)
                        return cpod_error_errno(err, errno, "seek");
                return blob_put_fd(e, in, info->compressed_digest, digest, size, err);
        }
        *had = true; /* unknown: never removed on failure */
        r = blob_put_fd(e, in, NULL, digest, size, err);
        if (r < 0)
                return r;
        _cleanup_close_ int blob = blob_open(e, digest, err);
        if (blob < 0)
                return blob;
        return layer_extract_verify(blob, -1, digest, NULL, info, err);
}

static int import_put(Engine *e, const char *text, char digest[DIGEST_MAX], bool *had, CpodError *err) {
        char d[DIGEST_MAX];
        sha256_digest(text, strlen(text), d);
        *had = blob_exists(e, d);
        return blob_put(e, text, strlen(text), digest, err);
}

int image_import(Engine *e, const char *tarball, const char *name, const char *message,
                 const char *const *changes, size_t n_changes, char ret_id[65], CpodError *err) {
        _cleanup_free_ char *config = NULL, *manifest = NULL;
        _cleanup_json_ VlJson *m = vl_json_new_object(), *layers = vl_json_new_array();
        char ldigest[DIGEST_MAX] = "", cdigest[DIGEST_MAX] = "", mdigest[DIGEST_MAX] = "";
        bool had_l = true, had_c = true, had_m = true;
        uint64_t lsize;
        LayerInfo info;
        int r;

        if (n_changes > IMPORT_MAX_CHANGES)
                return cpod_error(err, E2BIG, "more than %u changes", IMPORT_MAX_CHANGES);
        if (!m || !layers)
                return cpod_error(err, ENOMEM, "out of memory");
        /* the tarball is stored as it is (a plain tar's digest is its diff_id) */
        _cleanup_close_ int in =
                streq(tarball, "-") ? dup(STDIN_FILENO) : open(tarball, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return cpod_error_errno(err, errno, "open `%s`", tarball);
        /* Held before the first existence check, until the image is recorded. */
        r = engine_gc_hold(e, err);
        if (r >= 0)
                r = import_config_check(changes, n_changes, err);
        if (r >= 0)
                r = import_layer_blob(e, in, ldigest, &lsize, &info, &had_l, err);
        if (r >= 0)
                r = import_config(info.diff_id, message, changes, n_changes, &config, err);
        if (r >= 0)
                r = import_put(e, config, cdigest, &had_c, err);
        if (r >= 0) {
                _cleanup_close_ int blob = blob_open(e, ldigest, err);
                if (blob < 0 || vl_json_object_set_int(m, "schemaVersion", 2) < 0 ||
                    vl_json_object_set_string(m, "mediaType", MT_OCI_MANIFEST) < 0 ||
                    vl_json_object_set(m, "config",
                                       import_descriptor(MT_OCI_CONFIG, cdigest, strlen(config))) < 0 ||
                    vl_json_array_append(layers,
                                         import_descriptor(import_media_type(blob), ldigest, lsize)) < 0 ||
                    vl_json_object_set(m, "layers", vl_json_ref(layers)) < 0 ||
                    !(manifest = vl_json_to_string(m, 0)))
                        r = blob < 0 ? blob : cpod_error(err, ENOMEM, "out of memory");
        }
        if (r >= 0)
                r = import_put(e, manifest, mdigest, &had_m, err);
        if (r >= 0) {
                const char *names[1] = {name};
                r = image_commit_manifest(e, mdigest, names, name && *name ? 1 : 0, ret_id, err);
        }
        if (r < 0) {
                /* a failed import leaves the store as it was */
                char *mine[3];
                size_t n = 0;
                if (!had_m)
                        mine[n++] = mdigest;
                if (!had_c)
                        mine[n++] = cdigest;
                if (!had_l)
                        mine[n++] = ldigest;
                blob_remove_unused(e, mine, n);
                engine_gc_release(e);
                return cpod_error_wrap(err, "import `%s`", tarball);
        }
        engine_gc_release(e);
        return 0;
}

/* ---- mounts ---- */

static int mount_count(Engine *e, const char *id, char **ret_path, CpodError *err) {
        sqlite3_stmt *st = NULL;
        int r = db_prepare(e->db, "SELECT path, count FROM mounts WHERE kind = 'image' AND id = ?", &st,
                           err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        int n = 0;
        if (r == SQLITE_ROW) {
                n = sqlite3_column_int(st, 1);
                if (ret_path && !(*ret_path = strdup((const char *)sqlite3_column_text(st, 0))))
                        n = -ENOMEM;
        } else if (r != SQLITE_DONE)
                n = -db_errno(r);
        sqlite3_finalize(st);
        if (n < 0)
                return cpod_error(err, -n, "look up the mount of image %s", id);
        return n;
}

static int mount_set_count(Engine *e, const char *id, const char *path, int count, CpodError *err) {
        sqlite3_stmt *st = NULL;
        int r = db_prepare(
                e->db,
                count > 0
                        ? "INSERT OR REPLACE INTO mounts(kind, id, path, count) VALUES ('image', ?1, ?2, ?3)"
                        : "DELETE FROM mounts WHERE kind = 'image' AND id = ?1",
                &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (count > 0) {
                sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
                sqlite3_bind_int(st, 3, count);
        }
        r = sqlite3_step(st);
        sqlite3_finalize(st);
        if (r != SQLITE_DONE)
                return cpod_error(err, -db_errno(r), "record the mount of image %s: %s", id,
                                  sqlite3_errstr(r));
        return 0;
}

/* A directory is a mount point when it lives on another device than its parent, or is the root of a
 * bind mount of the same device (then /proc/self/mountinfo would tell; overlay always differs). */
static bool is_mounted(const char *path) {
        char parent[4200];
        struct stat a, b;
        snprintf(parent, sizeof(parent), "%s/..", path);
        if (stat(path, &a) < 0 || stat(parent, &b) < 0)
                return false;
        if (a.st_dev != b.st_dev)
                return true;
        FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[8192];
        bool found = false;
        while (f && !found && fgets(line, sizeof(line), f)) {
                char mp[4200];
                if (sscanf(line, "%*s %*s %*s %*s %4199s", mp) == 1 && streq(mp, path))
                        found = true;
        }
        if (f)
                fclose(f);
        return found;
}

static int mkdir_p(const char *path, mode_t mode) {
        char buf[4200];
        if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
                return -ENAMETOOLONG;
        for (char *p = buf + 1; *p; p++)
                if (*p == '/') {
                        *p = 0;
                        if (mkdir(buf, mode) < 0 && errno != EEXIST)
                                return -errno;
                        *p = '/';
                }
        return mkdir(buf, mode) < 0 && errno != EEXIST ? -errno : 0;
}

static int mount_layers(Engine *e, const Image *img, const char *target, CpodError *err) {
        _cleanup_free_ char *opts = NULL;
        size_t len = 0;

        if (img->n_layers == 0)
                return 0; /* an image without layers is an empty directory */
        if (img->n_layers == 1) {
                _cleanup_free_ char *diff = NULL;
                if (layer_diff_path(e, img->layers[0], &diff) < 0)
                        return cpod_error(err, EINVAL, "invalid layer id `%s`", img->layers[0]);
                if (mount(diff, target, NULL, MS_BIND, NULL) < 0)
                        return cpod_error_errno(err, errno, "bind mount `%s` on `%s`", diff, target);
                if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0) {
                        int k = errno;
                        umount2(target, MNT_DETACH);
                        return cpod_error_errno(err, k, "make `%s` read-only", target);
                }
                return 0;
        }
        /* overlay lists lower directories top first */
        opts = strdup("lowerdir=");
        len = opts ? strlen(opts) : 0;
        for (size_t i = img->n_layers; opts && i-- > 0;) {
                _cleanup_free_ char *diff = NULL;
                if (layer_diff_path(e, img->layers[i], &diff) < 0)
                        return cpod_error(err, EINVAL, "invalid layer id `%s`", img->layers[i]);
                size_t dl = strlen(diff);
                char *n = realloc(opts, len + dl + 2);
                if (!n)
                        break;
                opts = n;
                if (i != img->n_layers - 1)
                        opts[len++] = ':';
                memcpy(opts + len, diff, dl + 1);
                len += dl;
        }
        if (!opts)
                return cpod_error(err, ENOMEM, "out of memory");
        if (len >= (size_t)sysconf(_SC_PAGESIZE))
                return cpod_error(err, E2BIG, "image has too many layers for one overlay mount (%zu)",
                                  img->n_layers);
        if (mount("overlay", target, "overlay", MS_RDONLY, opts) < 0)
                return cpod_error_errno(err, errno, "mount overlay on `%s`", target);
        return 0;
}

int image_mount(Engine *e, const char *ref, char **ret_path, CpodError *err) {
        _cleanup_free_ char *path = NULL;
        Image img = {};
        int r = image_get(e, ref, &img, err);

        if (r < 0)
                return r;
        if (!streq(e->storage_driver, "overlay")) {
                image_done(&img);
                return cpod_error(err, EOPNOTSUPP, "image mounts need the overlay storage driver (not `%s`)",
                                  e->storage_driver);
        }
        if (asprintf(&path, "%s/images/%s/merged", e->runroot, img.id) < 0) {
                image_done(&img);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        r = db_begin_write(e->db, err);
        if (r < 0)
                goto out;
        r = mount_count(e, img.id, NULL, err);
        /* a count survives a reboot that emptied the run root: only a live mount is shared */
        bool live = r > 0 && (img.n_layers == 0 || is_mounted(path));
        int count = live ? r + 1 : 1;
        if (r >= 0 && !live) {
                r = mkdir_p(path, 0700);
                if (r < 0)
                        cpod_error_errno(err, -r, "create `%s`", path);
                else
                        r = mount_layers(e, &img, path, err);
        }
        if (r >= 0)
                r = mount_set_count(e, img.id, path, count, err);
        if (r >= 0)
                r = db_commit(e->db, err);
        else
                db_rollback(e->db);
        if (r < 0 && !live)
                (void)umount2(path, MNT_DETACH);
out:
        image_done(&img);
        if (r < 0)
                return r;
        *ret_path = TAKE_PTR(path);
        return 0;
}

int image_unmount(Engine *e, const char *ref, bool force, CpodError *err) {
        _cleanup_free_ char *path = NULL;
        Image img = {};
        int r = image_get(e, ref, &img, err);

        if (r < 0)
                return r;
        r = db_begin_write(e->db, err);
        if (r < 0)
                goto out;
        r = mount_count(e, img.id, &path, err);
        if (r == 0)
                r = cpod_error(err, EINVAL, "image %s is not mounted", img.id);
        int count = r > 0 && !force ? r - 1 : 0;
        if (r > 0 && count == 0 && path) {
                /* still busy (a process inside): detach it, it goes away with its last user */
                int k = umount2(path, 0) < 0 ? errno : 0;
                if (k == EBUSY && umount2(path, MNT_DETACH) == 0)
                        k = 0;
                if (k != 0 && k != EINVAL && k != ENOENT) /* EINVAL: not mounted (after a reboot) */
                        r = cpod_error_errno(err, k, "unmount `%s`", path);
                else
                        (void)rmdir(path);
        }
        if (r > 0)
                r = mount_set_count(e, img.id, path, count, err);
        if (r >= 0)
                r = db_commit(e->db, err);
        else
                db_rollback(e->db);
out:
        image_done(&img);
        return r < 0 ? r : 0;
}

int image_export(Engine *e, const char *ref, const char *path, CpodError *err) {
        _cleanup_free_ char *root = NULL;
        _cleanup_close_ int out = -1, dir = -1;
        int r = image_mount(e, ref, &root, err);

        if (r < 0)
                return cpod_error_wrap(err, "export `%s`", ref);
        dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        out = streq(path, "-") ? dup(STDOUT_FILENO)
                               : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (dir < 0 || out < 0)
                r = cpod_error_errno(err, errno, "open `%s`", dir < 0 ? root : path);
        else
                r = tar_write_dir(dir, out, false, err);
        dir = safe_close(dir); /* an open directory would keep the mount busy */
        (void)image_unmount(e, ref, false, NULL);
        if (r < 0 && out >= 0 && !streq(path, "-"))
                (void)unlink(path);
        return r < 0 ? cpod_error_wrap(err, "export `%s`", ref) : 0;
}
