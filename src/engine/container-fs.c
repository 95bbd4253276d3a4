/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A container's root filesystem from the outside: mount and unmount it
 * (counted in the mounts table, kind 'container', so a running container
 * and every `cpod mount` share one overlay), export it as a tar, list what
 * changed against the image (the overlay's upper directory), commit those
 * changes as a new image layer, and copy files in and out.
 *
 * Paths inside the container are resolved with openat2(RESOLVE_IN_ROOT) on
 * the mounted root, and everything below is opened relative to a parent
 * directory without following symlinks, so a symlink in the container
 * cannot make cpod read or write a host file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "blob.h"
#include "container-internal.h"
#include "db.h"
#include "engine-internal.h"
#include "layer.h"
#include "manifest.h"
#include "util.h"

#define FS_MAX_DEPTH   256u
#define DIFF_MAX_PATHS (1u << 22)

static void json_unrefp_(VlJson **p) {
        vl_json_unref(*p);
}
#define _cleanup_json_ _cleanup_(json_unrefp_)

static int oom(CpodError *err) {
        return cpod_error(err, ENOMEM, "out of memory");
}

/* ---- mounts ---- */

static int mount_count_get(Engine *e, const char *id, CpodError *err) {
        _cleanup_free_ char *s = NULL;
        int r = db_get_text(e->db, "SELECT count FROM mounts WHERE kind = 'container' AND id = ?1",
                            DB_PARAMS(id), &s, err);
        if (r <= 0)
                return r;
        return s ? atoi(s) : 0;
}

static int mount_count_set(Engine *e, const char *id, const char *path, int count, CpodError *err) {
        char n[32];
        snprintf(n, sizeof(n), "%d", count);
        int r = count > 0 ? db_run(e->db,
                                   "INSERT OR REPLACE INTO mounts(kind, id, path, count) "
                                   "VALUES ('container', ?1, ?2, ?3)",
                                   DB_PARAMS(id, path, n), err)
                          : db_run(e->db, "DELETE FROM mounts WHERE kind = 'container' AND id = ?1",
                                   DB_PARAMS(id), err);
        return r < 0 ? r : 0;
}

/* Add delta to the container's mount count, in one transaction. Returns the new count. */
static int mount_count_add(Engine *e, const char *id, const char *path, int delta, bool force,
                           CpodError *err) {
        int r = db_begin_write(e->db, err);
        if (r < 0)
                return r;
        r = mount_count_get(e, id, err);
        int count = r < 0 ? r : force ? 0 : MAX(r + delta, 0);
        if (r >= 0)
                r = mount_count_set(e, id, path, count, err);
        if (r >= 0)
                r = db_commit(e->db, err);
        else
                db_rollback(e->db);
        return r < 0 ? r : count;
}

/* Mount the root filesystem (when not mounted yet) and count one user, under the container's lock. */
static int rootfs_acquire(Engine *e, const char *ref, Container *c, char **ret_path, CpodError *err) {
        char id[65];
        int lock = -1;
        int r = container_resolve(e, ref, id, err);

        if (r < 0)
                return r;
        r = container_lock(e, id, &lock, err);
        if (r < 0)
                return r;
        r = container_get(e, id, c, err);
        _cleanup_free_ char *merged = r >= 0 ? container_run_path(e, id, "merged") : NULL;
        if (r >= 0 && !merged)
                r = oom(err);
        if (r >= 0 && c->state == CONTAINER_REMOVING)
                r = cpod_error(err, EBUSY, "container %s is being removed", c->name);
        if (r >= 0)
                r = container_mount_rootfs(e, c, err);
        if (r >= 0 && (r = mount_count_add(e, id, merged, 1, false, err)) < 0)
                (void)container_unmount_rootfs(e, id, NULL);
        container_unlock(lock);
        if (r < 0) {
                container_done(c);
                return r;
        }
        if (ret_path)
                *ret_path = TAKE_PTR(merged);
        return 0;
}

/* Drop one user (or all with force); the last one unmounts unless the container runs. */
static int rootfs_release(Engine *e, const char *id, bool force, CpodError *err) {
        Container c = {};
        int lock = -1;
        int r = container_lock(e, id, &lock, err);

        if (r < 0)
                return r;
        _cleanup_free_ char *merged = container_run_path(e, id, "merged");
        r = merged ? container_get(e, id, &c, err) : oom(err);
        if (r >= 0)
                r = mount_count_get(e, id, err);
        if (r == 0 && !force)
                r = cpod_error(err, EINVAL, "container %s is not mounted", c.name);
        if (r >= 0)
                r = mount_count_add(e, id, merged, -1, force, err);
        bool active =
                c.state == CONTAINER_RUNNING || c.state == CONTAINER_PAUSED || c.state == CONTAINER_CREATED;
        if (r == 0 && !active)
                r = container_unmount_rootfs(e, id, err);
        container_unlock(lock);
        container_done(&c);
        return r < 0 ? r : 0;
}

int container_mount(Engine *e, const char *ref, char **ret_path, CpodError *err) {
        Container c = {};
        int r = rootfs_acquire(e, ref, &c, ret_path, err);
        container_done(&c);
        return r;
}

int container_unmount(Engine *e, const char *ref, bool force, CpodError *err) {
        char id[65];
        int r = container_resolve(e, ref, id, err);
        return r < 0 ? r : rootfs_release(e, id, force, err);
}

/* ---- export ---- */

int container_export(Engine *e, const char *ref, const char *path, CpodError *err) {
        _cleanup_free_ char *root = NULL;
        _cleanup_close_ int out = -1, dir = -1;
        Container c = {};
        int r = rootfs_acquire(e, ref, &c, &root, err);

        if (r < 0)
                return cpod_error_wrap(err, "export `%s`", ref);
        dir = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        out = streq(path, "-") ? fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3)
                               : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (dir < 0 || out < 0)
                r = cpod_error_errno(err, errno, "open `%s`", dir < 0 ? root : path);
        else
                r = tar_write_dir(dir, out, false, err);
        dir = safe_close(dir); /* an open directory would keep the mount busy */
        (void)rootfs_release(e, c.id, false, NULL);
        if (r < 0 && out >= 0 && !streq(path, "-"))
                (void)unlink(path);
        container_done(&c);
        return r < 0 ? cpod_error_wrap(err, "export `%s`", ref) : 0;
}

/* ---- diff ---- */

static int read_json_file(const char *path, VlJson **ret, CpodError *err) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0, cap = 0;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return cpod_error_errno(err, errno, "open `%s`", path);
        for (;;) {
                if (VL_GROW(text, cap, len + 65536) < 0)
                        return oom(err);
                ssize_t n = read(fd, text + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return cpod_error_errno(err, errno, "read `%s`", path);
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        if (vl_json_parse(text, len, NULL, ret, NULL) < 0)
                return cpod_error(err, EBADMSG, "`%s` is not valid JSON", path);
        return 0;
}

typedef struct Diff {
        int *layers; /* the image's layer directories, top first */
        size_t n_layers;
        VlJson *mounts; /* the spec's mounts: their mount points are not changes */
        char **entries; /* "K/path": the kind, then the path */
        size_t n, cap;
} Diff;

static bool is_whiteout(const struct stat *st) {
        return S_ISCHR(st->st_mode) && st->st_rdev == 0;
}

/* Does path exist in the image (the topmost layer that has it is not a whiteout)? */
static bool diff_in_image(const Diff *d, const char *path) {
        for (size_t i = 0; i < d->n_layers; i++) {
                struct open_how how = {.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
                                       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS};
                _cleanup_close_ int fd = (int)syscall(SYS_openat2, d->layers[i], path, &how, sizeof(how));
                struct stat st;
                if (fd >= 0 && fstat(fd, &st) == 0)
                        return !is_whiteout(&st);
        }
        return false;
}

static bool diff_is_mount_point(const Diff *d, const char *path) {
        VlJson *m;
        VL_JSON_FOREACH_ELEMENT (m, d->mounts) {
                const char *dest = vl_json_get_string(vl_json_object_get(m, "destination"));
                while (dest && *dest == '/')
                        dest++;
                if (dest && streq(dest, path))
                        return true;
        }
        return false;
}

static int diff_add(Diff *d, const char *path, char kind) {
        if (d->n >= DIFF_MAX_PATHS)
                return -E2BIG;
        if (VL_GROW(d->entries, d->cap, d->n + 1) < 0)
                return -ENOMEM;
        if (asprintf(&d->entries[d->n], "%c/%s", kind, path) < 0)
                return -ENOMEM;
        d->n++;
        return 0;
}

static int diff_walk(Diff *d, int dir_fd, char *path, size_t len, unsigned depth) {
        if (depth > FS_MAX_DEPTH)
                return -ELOOP;
        DIR *dir = fdopendir(dir_fd);
        if (!dir) {
                safe_close(dir_fd);
                return -errno;
        }
        int r = 0;
        struct dirent *de;
        while (r >= 0 && (errno = 0, de = readdir(dir))) {
                struct stat st;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                size_t nl = strlen(de->d_name);
                if (len + nl + 2 > PATH_MAX) {
                        r = -ENAMETOOLONG;
                        break;
                }
                if (len)
                        path[len] = '/';
                memcpy(path + len + (len ? 1 : 0), de->d_name, nl + 1);
                size_t plen = len + (len ? 1 : 0) + nl;
                if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        break;
                }
                if (is_whiteout(&st))
                        r = diff_add(d, path, 'D');
                else if (!diff_is_mount_point(d, path))
                        r = diff_add(d, path, diff_in_image(d, path) ? 'C' : 'A');
                if (r >= 0 && S_ISDIR(st.st_mode)) {
                        int sub = openat(dirfd(dir), de->d_name,
                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        r = sub < 0 ? -errno : diff_walk(d, sub, path, plen, depth + 1);
                }
                path[len] = 0;
        }
        if (r >= 0 && errno)
                r = -errno;
        closedir(dir);
        return r;
}

static int diff_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *)a + 1, *(char *const *)b + 1);
}

static void diff_done(Diff *d) {
        for (size_t i = 0; i < d->n_layers; i++)
                safe_close(d->layers[i]);
        free(d->layers);
        vl_json_unref(d->mounts);
        for (size_t i = 0; i < d->n; i++)
                free(d->entries[i]);
        free(d->entries);
}

static int diff_open_layers(Engine *e, const Container *c, Diff *d, CpodError *err) {
        Image img = {};
        int r = image_get(e, c->image_id, &img, err);
        if (r < 0)
                return cpod_error_wrap(err, "image of container %s", c->name);
        d->layers = calloc(img.n_layers ? img.n_layers : 1, sizeof(int));
        if (!d->layers)
                r = oom(err);
        for (size_t i = img.n_layers; r >= 0 && i-- > 0;) {
                _cleanup_free_ char *dir = NULL;
                if (layer_diff_path(e, img.layers[i], &dir) < 0)
                        r = oom(err);
                else if ((d->layers[d->n_layers] = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
                        r = cpod_error_errno(err, errno, "open layer `%s`", dir);
                else
                        d->n_layers++;
        }
        image_done(&img);
        return r;
}

int container_diff(Engine *e, const char *ref, char ***ret_paths, char **ret_kinds, size_t *ret_n,
                   CpodError *err) {
        _cleanup_json_ VlJson *spec = NULL;
        _cleanup_free_ char *upper = NULL, *path = malloc(PATH_MAX);
        Container c = {};
        Diff d = {};
        int r = container_get(e, ref, &c, err);

        if (r < 0)
                return r;
        if (!path || !(upper = container_path(e, c.id, "upper")))
                r = oom(err);
        if (r >= 0)
                r = diff_open_layers(e, &c, &d, err);
        if (r >= 0 && read_json_file(c.spec_path, &spec, NULL) >= 0)
                d.mounts = vl_json_ref(vl_json_object_get(spec, "mounts"));
        if (r >= 0) {
                int fd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                path[0] = 0;
                r = fd < 0 ? -errno : diff_walk(&d, fd, path, 0, 0);
                if (r < 0)
                        r = cpod_error_errno(err, -r, "read the changes of container %s in `%s`", c.name,
                                             upper);
        }
        char *kinds = r >= 0 ? malloc(d.n + 1) : NULL;
        if (r >= 0 && !kinds)
                r = oom(err);
        container_done(&c);
        if (r >= 0) {
                /* sorted by path, as podman lists them; the entries become the paths */
                qsort(d.entries, d.n, sizeof(char *), diff_cmp);
                for (size_t i = 0; i < d.n; i++) {
                        kinds[i] = d.entries[i][0];
                        memmove(d.entries[i], d.entries[i] + 1, strlen(d.entries[i]));
                }
                *ret_paths = TAKE_PTR(d.entries);
                *ret_kinds = kinds;
                *ret_n = d.n;
                d.n = 0;
        }
        diff_done(&d);
        return r;
}

/* ---- commit ---- */

static VlJson *object_member(VlJson *o, const char *key) {
        VlJson *v = vl_json_object_get(o, key);
        if (vl_json_type(v) == VL_JSON_OBJECT)
                return v;
        v = vl_json_new_object();
        if (!v || vl_json_object_set(o, key, v) < 0)
                return NULL;
        return v;
}

static VlJson *words_array(const char *arg, bool json_ok) {
        VlJson *a = NULL;
        if (json_ok && arg[0] == '[') {
                if (vl_json_parse(arg, strlen(arg), NULL, &a, NULL) < 0 || vl_json_type(a) != VL_JSON_ARRAY)
                        return vl_json_unref(a);
                return a;
        }
        _cleanup_free_ char *copy = strdup(arg);
        char *save = NULL;
        a = copy ? vl_json_new_array() : NULL;
        for (char *w = a ? strtok_r(copy, " \t", &save) : NULL; a && w; w = strtok_r(NULL, " \t", &save))
                if (vl_json_array_append(a, vl_json_new_string(w)) < 0)
                        a = vl_json_unref(a);
        return a;
}

/* "K=V K2=V2" or "K V" into (key, value) calls; double quotes around values are dropped. */
static int key_values(const char *arg, int (*fn)(VlJson *, const char *, const char *), VlJson *target) {
        _cleanup_free_ char *copy = strdup(arg);
        if (!copy)
                return -ENOMEM;
        char *sp = strpbrk(copy, " \t"), *eq = strchr(copy, '=');
        if (!eq || (sp && sp < eq)) {
                if (!sp)
                        return -EINVAL;
                *sp++ = 0;
                return fn(target, copy, sp + strspn(sp, " \t"));
        }
        char *save = NULL;
        for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                char *v = strchr(w, '=');
                if (!v)
                        return -EINVAL;
                *v++ = 0;
                size_t l = strlen(v);
                if (l >= 2 && v[0] == '"' && v[l - 1] == '"') {
                        v[l - 1] = 0;
                        v++;
                }
                int r = fn(target, w, v);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int env_set(VlJson *cfg, const char *k, const char *v) {
        VlJson *env = vl_json_object_get(cfg, "Env"), *n = vl_json_new_array(), *x;
        _cleanup_free_ char *kv = NULL;
        if (!n || asprintf(&kv, "%s=%s", k, v) < 0) {
                vl_json_unref(n);
                return -ENOMEM;
        }
        size_t kl = strlen(k);
        VL_JSON_FOREACH_ELEMENT (x, env) {
                const char *s = vl_json_get_string(x);
                if (s && !(strncmp(s, k, kl) == 0 && s[kl] == '=') &&
                    vl_json_array_append(n, vl_json_ref(x)) < 0)
                        return vl_json_unref(n), -ENOMEM;
        }
        if (vl_json_array_append(n, vl_json_new_string(kv)) < 0)
                return vl_json_unref(n), -ENOMEM;
        return vl_json_object_set(cfg, "Env", n);
}

static int label_set(VlJson *cfg, const char *k, const char *v) {
        VlJson *labels = object_member(cfg, "Labels");
        return labels ? vl_json_object_set_string(labels, k, v) : -ENOMEM;
}

static int set_keys(VlJson *cfg, const char *member, const char *arg, bool add_proto) {
        _cleanup_json_ VlJson *w = words_array(arg, !add_proto);
        VlJson *o = object_member(cfg, member), *x;
        if (!w || !o)
                return -EINVAL;
        VL_JSON_FOREACH_ELEMENT (x, w) {
                _cleanup_free_ char *k = NULL;
                const char *s = vl_json_get_string(x);
                if (!s || asprintf(&k, "%s%s", s, add_proto && !strchr(s, '/') ? "/tcp" : "") < 0 ||
                    vl_json_object_set(o, k, vl_json_new_object()) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* One Dockerfile-style change ("CMD ...", "ENV K=V", ...) applied to the image's "config" object. */
static int commit_change(VlJson *cfg, const char *change, CpodError *err) {
        char instr[16];
        size_t il = strcspn(change, " \t=");
        const char *arg = change + il;
        arg += strspn(arg, " \t=");
        if (il == 0 || il >= sizeof(instr))
                return cpod_error(err, EINVAL, "invalid change `%s`", change);
        for (size_t i = 0; i < il; i++)
                instr[i] = (char)(change[i] >= 'a' && change[i] <= 'z' ? change[i] - 32 : change[i]);
        instr[il] = 0;
        int r = -EINVAL;
        if (streq(instr, "CMD") || streq(instr, "ENTRYPOINT")) {
                VlJson *v = arg[0] == '[' ? words_array(arg, true) : vl_json_new_array();
                if (v && arg[0] != '[' &&
                    (vl_json_array_append(v, vl_json_new_string("/bin/sh")) < 0 ||
                     vl_json_array_append(v, vl_json_new_string("-c")) < 0 ||
                     vl_json_array_append(v, vl_json_new_string(arg)) < 0))
                        v = vl_json_unref(v);
                r = v ? vl_json_object_set(cfg, streq(instr, "CMD") ? "Cmd" : "Entrypoint", v) : -EINVAL;
        } else if (streq(instr, "ENV"))
                r = key_values(arg, env_set, cfg);
        else if (streq(instr, "LABEL"))
                r = key_values(arg, label_set, cfg);
        else if (streq(instr, "EXPOSE"))
                r = set_keys(cfg, "ExposedPorts", arg, true);
        else if (streq(instr, "VOLUME"))
                r = set_keys(cfg, "Volumes", arg, false);
        else if (streq(instr, "USER") || streq(instr, "WORKDIR") || streq(instr, "STOPSIGNAL"))
                r = *arg ? vl_json_object_set_string(cfg,
                                                     streq(instr, "USER")      ? "User"
                                                     : streq(instr, "WORKDIR") ? "WorkingDir"
                                                                               : "StopSignal",
                                                     arg)
                         : -EINVAL;
        else
                return cpod_error(err, EINVAL, "invalid change `%s`: %s is not a supported instruction",
                                  change, instr);
        if (r == -ENOMEM)
                return oom(err);
        return r < 0 ? cpod_error(err, EINVAL, "invalid change `%s`", change) : 0;
}

/* The upper directory as a layer tar (overlay whiteouts as OCI .wh. entries), stored as a blob. */
static int commit_layer(Engine *e, const Container *c, char digest[DIGEST_MAX], uint64_t *size,
                        CpodError *err) {
        _cleanup_free_ char *upper = container_path(e, c->id, "upper");
        if (!upper)
                return oom(err);
        _cleanup_close_ int dir = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return cpod_error_errno(err, errno, "open `%s`", upper);
        _cleanup_close_ int tmp = openat(e->root_fd, "tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (tmp < 0) {
                char name[] = "/tmp/cpod-commit-XXXXXX";
                tmp = mkostemp(name, O_CLOEXEC);
                if (tmp < 0)
                        return cpod_error_errno(err, errno, "create a temporary file");
                (void)unlink(name);
        }
        int r = tar_write_dir(dir, tmp, true, err);
        if (r < 0)
                return cpod_error_wrap(err, "archive `%s`", upper);
        if (lseek(tmp, 0, SEEK_SET) < 0)
                return cpod_error_errno(err, errno, "seek");
        return blob_put_fd(e, tmp, NULL, digest, size, err);
}

/* What the container runs with becomes the image's defaults, as with podman commit. */
static int commit_container_config(Engine *e, const Container *c, VlJson *cfg, CpodError *err) {
        _cleanup_json_ VlJson *stored = NULL;
        if (container_load_config(e, c->id, &stored, NULL) < 0)
                return 0; /* nothing kept: the image's defaults stay */
        VlJson *sc = vl_json_object_get(stored, "Config") ? vl_json_object_get(stored, "Config") : stored,
               *x;
        const char *k;
        int r = 0;
        VL_JSON_FOREACH_ELEMENT (x, vl_json_object_get(sc, "Env")) {
                const char *s = vl_json_get_string(x), *eq = s ? strchr(s, '=') : NULL;
                if (!eq || startswith(s, "HOSTNAME="))
                        continue;
                _cleanup_free_ char *key = strndup(s, (size_t)(eq - s));
                if (!key || (r = env_set(cfg, key, eq + 1)) < 0)
                        return oom(err);
        }
        static const char *const copy[] = {"Cmd", "Entrypoint"};
        for (size_t i = 0; i < ELEMENTSOF(copy); i++) {
                VlJson *v = vl_json_object_get(sc, copy[i]);
                if (vl_json_type(v) == VL_JSON_ARRAY &&
                    vl_json_object_set(cfg, copy[i], vl_json_copy(v)) < 0)
                        return oom(err);
        }
        static const char *const strings[] = {"User", "WorkingDir"};
        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                const char *s = vl_json_get_string(vl_json_object_get(sc, strings[i]));
                if (s && *s && vl_json_object_set_string(cfg, strings[i], s) < 0)
                        return oom(err);
        }
        VL_JSON_FOREACH_MEMBER (k, x, vl_json_object_get(sc, "Labels"))
                if (vl_json_get_string(x) && label_set(cfg, k, vl_json_get_string(x)) < 0)
                        return oom(err);
        return r;
}

static char *command_line(const Container *c) {
        size_t len = 1;
        for (size_t i = 0; i < c->n_command; i++)
                len += strlen(c->command[i]) + 1;
        char *s = calloc(1, len);
        for (size_t i = 0; s && i < c->n_command; i++) {
                if (i)
                        strcat(s, " ");
                strcat(s, c->command[i]);
        }
        return s;
}

/* The new image config: the image's, the container's settings, the changes, the new layer and its history.
 */
static int commit_config(Engine *e, const Container *c, const char *image_config, const char *diff_id,
                         const CommitOptions *o, char **ret, CpodError *err) {
        _cleanup_json_ VlJson *root = NULL, *h = vl_json_new_object();
        _cleanup_free_ char *cmd = command_line(c);
        char created[64];

        if (vl_json_parse(image_config, strlen(image_config), NULL, &root, NULL) < 0 ||
            vl_json_type(root) != VL_JSON_OBJECT)
                return cpod_error(err, EBADMSG, "the config of image %s is not a JSON object", c->image_id);
        VlJson *cfg = object_member(root, "config"), *rootfs = object_member(root, "rootfs");
        if (!cfg || !rootfs || !h || !cmd)
                return oom(err);
        int r = commit_container_config(e, c, cfg, err);
        for (size_t i = 0; r >= 0 && i < o->n_changes; i++)
                r = commit_change(cfg, o->changes[i], err);
        if (r < 0)
                return r;
        VlJson *ids = vl_json_object_get(rootfs, "diff_ids"), *hist = vl_json_object_get(root, "history");
        if (vl_json_type(ids) != VL_JSON_ARRAY)
                return cpod_error(err, EBADMSG, "the config of image %s has no diff_ids", c->image_id);
        if (vl_json_type(hist) != VL_JSON_ARRAY &&
            (!(hist = vl_json_new_array()) || vl_json_object_set(root, "history", hist) < 0))
                return oom(err);
        rfc3339_format((int64_t)time(NULL), 0, created, sizeof(created));
        if (vl_json_array_append(ids, vl_json_new_string(diff_id)) < 0 ||
            vl_json_object_set_string(root, "created", created) < 0 ||
            (o->author && *o->author && vl_json_object_set_string(root, "author", o->author) < 0) ||
            vl_json_object_set_string(h, "created", created) < 0 ||
            vl_json_object_set_string(h, "created_by", cmd) < 0 ||
            (o->author && *o->author && vl_json_object_set_string(h, "author", o->author) < 0) ||
            (o->message && *o->message && vl_json_object_set_string(h, "comment", o->message) < 0) ||
            vl_json_array_append(hist, vl_json_ref(h)) < 0)
                return oom(err);
        *ret = vl_json_to_string(root, 0);
        return *ret ? 0 : oom(err);
}

static VlJson *descriptor(const char *media_type, const char *digest, uint64_t size) {
        VlJson *d = vl_json_new_object();
        if (!d || vl_json_object_set_string(d, "mediaType", media_type) < 0 ||
            vl_json_object_set_string(d, "digest", digest) < 0 ||
            vl_json_object_set_int(d, "size", (int64_t)size) < 0)
                return vl_json_unref(d);
        return d;
}

/* An OCI manifest: the image's layers (Docker media types translated), then the new one. */
static int commit_manifest(const char *image_manifest, const char *config_digest, size_t config_size,
                           const char *layer_digest, uint64_t layer_size, char **ret, CpodError *err) {
        _cleanup_json_ VlJson *m = vl_json_new_object(), *layers = vl_json_new_array();
        Manifest im = {};
        int r = manifest_parse(image_manifest, strlen(image_manifest), NULL, &im, err);
        if (r < 0)
                return cpod_error_wrap(err, "the image's manifest");
        for (size_t i = 0; layers && i < im.n_layers; i++) {
                const char *mt = im.layers[i].media_type;
                if (streq_ptr(mt, MT_DOCKER_LAYER))
                        mt = MT_OCI_LAYER_GZIP;
                else if (!mt || streq(mt, "application/vnd.docker.image.rootfs.diff.tar"))
                        mt = MT_OCI_LAYER;
                if (vl_json_array_append(
                            layers, descriptor(mt, im.layers[i].digest, (uint64_t)im.layers[i].size)) < 0)
                        layers = vl_json_unref(layers);
        }
        manifest_done(&im);
        if (!m || !layers || vl_json_object_set_int(m, "schemaVersion", 2) < 0 ||
            vl_json_object_set_string(m, "mediaType", MT_OCI_MANIFEST) < 0 ||
            vl_json_object_set(m, "config", descriptor(MT_OCI_CONFIG, config_digest, config_size)) < 0 ||
            vl_json_array_append(layers, descriptor(MT_OCI_LAYER, layer_digest, layer_size)) < 0 ||
            vl_json_object_set(m, "layers", vl_json_ref(layers)) < 0 || !(*ret = vl_json_to_string(m, 0)))
                return oom(err);
        return 0;
}

static int commit_blobs(Engine *e, const Container *c, const CommitOptions *o, char mdigest[DIGEST_MAX],
                        CpodError *err) {
        _cleanup_free_ char *iconfig = NULL, *imanifest = NULL, *config = NULL, *manifest = NULL;
        char ldigest[DIGEST_MAX], cdigest[DIGEST_MAX];
        uint64_t lsize = 0;
        Image img = {};
        int r = image_get(e, c->image_id, &img, err);

        if (r < 0)
                return cpod_error_wrap(err, "image of container %s", c->name);
        r = image_read_config(e, &img, &iconfig, err);
        if (r >= 0)
                r = image_read_manifest(e, &img, &imanifest, err);
        image_done(&img);
        if (r >= 0 && c->state == CONTAINER_RUNNING && o->pause) {
                /* a consistent snapshot; a runtime that cannot pause still gets its changes committed */
                bool paused = container_pause(e, c->id, NULL) >= 0;
                r = commit_layer(e, c, ldigest, &lsize, err);
                if (paused)
                        (void)container_unpause(e, c->id, NULL);
        } else if (r >= 0)
                r = commit_layer(e, c, ldigest, &lsize, err);
        if (r >= 0)
                r = commit_config(e, c, iconfig, ldigest, o, &config, err);
        if (r >= 0)
                r = blob_put(e, config, strlen(config), cdigest, err);
        if (r >= 0)
                r = commit_manifest(imanifest, cdigest, strlen(config), ldigest, lsize, &manifest, err);
        if (r >= 0)
                r = blob_put(e, manifest, strlen(manifest), mdigest, err);
        return r;
}

int container_commit(Engine *e, const char *ref, const CommitOptions *o, char ret_image_id[65],
                     CpodError *err) {
        static const CommitOptions defaults = {.pause = true};
        char mdigest[DIGEST_MAX];
        Container c = {};

        if (!o)
                o = &defaults;
        int r = container_get(e, ref, &c, err);
        if (r < 0)
                return r;
        /* the new blobs are safe from a concurrent prune until the image names them */
        r = engine_gc_hold(e, err);
        if (r >= 0)
                r = commit_blobs(e, &c, o, mdigest, err);
        if (r >= 0) {
                const char *names[1] = {o->name};
                r = image_commit_manifest(e, mdigest, names, o->name && *o->name ? 1 : 0, ret_image_id, err);
        }
        engine_gc_release(e);
        if (r < 0)
                r = cpod_error_wrap(err, "commit container %s", c.name);
        container_done(&c);
        return r < 0 ? r : 0;
}

/* ---- copy ---- */

typedef struct CopyCtx {
        bool chown; /* set the owner to uid:gid (copies into the container) */
        uid_t uid;
        gid_t gid;
        unsigned depth;
} CopyCtx;

/* Open path on one side: the host (root -1), or inside the container's root (root the mounted root). */
static int side_open(int root, const char *path, int flags) {
        if (root < 0) {
                int fd = openat(AT_FDCWD, path, flags | O_CLOEXEC);
                return fd < 0 ? -errno : fd;
        }
        struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
                               .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        int fd = (int)syscall(SYS_openat2, root, *path ? path : "/", &how, sizeof(how));
        return fd < 0 ? -errno : fd;
}

/* Split path into its parent (opened as a directory on its side) and last name ("" for "/"). */
static int side_open_parent(int root, const char *path, char **ret_name) {
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        size_t l = strlen(copy);
        while (l > 1 && copy[l - 1] == '/')
                copy[--l] = 0;
        char *slash = strrchr(copy, '/');
        const char *dir = slash ? (slash == copy ? "/" : copy) : ".";
        char *name = strdup(slash ? slash + 1 : copy);
        if (!name)
                return -ENOMEM;
        if (slash && slash != copy)
                *slash = 0;
        int fd = side_open(root, root >= 0 && streq(dir, ".") ? "/" : dir, O_PATH | O_DIRECTORY);
        if (fd < 0) {
                free(name);
                return fd;
        }
        *ret_name = name;
        return fd;
}

static int copy_data(int in, int out) {
        char buf[65536];
        for (;;) {
                ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
                if (n > 0)
                        continue;
                if (n == 0)
                        return 0;
                if (errno == EINTR)
                        continue;
                if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP && errno != ENOSYS)
                        return -errno;
                break;
        }
        for (;;) {
                ssize_t n = read(in, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : 0;
                for (ssize_t off = 0; off < n;) {
                        ssize_t w = write(out, buf + off, (size_t)(n - off));
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0)
                                return -errno;
                        off += w;
                }
        }
}

/* Make room for a non-directory at name: an existing file or link goes, a directory is an error. */
static int replace_prepare(int dfd, const char *name) {
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        return unlinkat(dfd, name, 0) < 0 ? -errno : 0;
}

static int copy_attrs(int dfd, const char *name, const struct stat *st, const CopyCtx *cx) {
        struct timespec ts[2] = {st->st_atim, st->st_mtim};
        uid_t uid = cx->chown ? cx->uid : st->st_uid;
        gid_t gid = cx->chown ? cx->gid : st->st_gid;
        if (geteuid() == 0 && fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISLNK(st->st_mode) && fchmodat(dfd, name, st->st_mode & 07777, 0) < 0)
                return -errno;
        return utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int copy_entry(int sfd, const char *sname, int dfd, const char *dname, CopyCtx *cx);

static int copy_dir_contents(int sdir, int ddir, CopyCtx *cx) {
        int dup_fd = fcntl(sdir, F_DUPFD_CLOEXEC, 3);
        DIR *d = dup_fd < 0 ? NULL : fdopendir(dup_fd);
        if (!d) {
                safe_close(dup_fd);
                return -errno;
        }
        int r = 0;
        struct dirent *de;
        while (r >= 0 && (errno = 0, de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        r = copy_entry(sdir, de->d_name, ddir, de->d_name, cx);
        if (r >= 0 && errno)
                r = -errno;
        closedir(d);
        return r;
}

static int copy_dir(int sfd, const char *sname, int dfd, const char *dname, const struct stat *st,
                    CopyCtx *cx) {
        struct stat dst;
        if (cx->depth >= FS_MAX_DEPTH)
                return -ELOOP;
        if (fstatat(dfd, dname, &dst, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(dst.st_mode))
                return -ENOTDIR;
        if (mkdirat(dfd, dname, 0700) < 0 && errno != EEXIST)
                return -errno;
        _cleanup_close_ int s = openat(sfd, sname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int d = openat(dfd, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s < 0 || d < 0)
                return -errno;
        cx->depth++;
        int r = copy_dir_contents(s, d, cx);
        cx->depth--;
        return r < 0 ? r : copy_attrs(dfd, dname, st, cx);
}

static int copy_entry(int sfd, const char *sname, int dfd, const char *dname, CopyCtx *cx) {
        struct stat st;
        if (fstatat(sfd, sname, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return copy_dir(sfd, sname, dfd, dname, &st, cx);
        if (S_ISSOCK(st.st_mode))
                return 0; /* a socket means nothing without its listener */
        int r = replace_prepare(dfd, dname);
        if (r < 0)
                return r;
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(sfd, sname, target, sizeof(target) - 1);
                if (n < 0)
                        return -errno;
                target[n] = 0;
                if (symlinkat(target, dfd, dname) < 0)
                        return -errno;
        } else if (S_ISREG(st.st_mode)) {
                _cleanup_close_ int in = openat(sfd, sname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                _cleanup_close_ int out =
                        in < 0 ? -1
                               : openat(dfd, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                        0600);
                if (in < 0 || out < 0)
                        return -errno;
                if ((r = copy_data(in, out)) < 0)
                        return r;
        } else if (mknodat(dfd, dname, st.st_mode, st.st_rdev) < 0)
                return -errno;
        return copy_attrs(dfd, dname, &st, cx);
}

/* The owner of files copied in: the container's user (process.user of its spec), else root. */
static void copy_owner(const Container *c, CopyCtx *cx) {
        _cleanup_json_ VlJson *spec = NULL;
        cx->chown = true;
        cx->uid = 0;
        cx->gid = 0;
        if (read_json_file(c->spec_path, &spec, NULL) < 0)
                return;
        VlJson *user = vl_json_object_get(vl_json_object_get(spec, "process"), "user");
        if (vl_json_is_number(vl_json_object_get(user, "uid")))
                cx->uid = (uid_t)vl_json_get_int(vl_json_object_get(user, "uid"));
        if (vl_json_is_number(vl_json_object_get(user, "gid")))
                cx->gid = (gid_t)vl_json_get_int(vl_json_object_get(user, "gid"));
}

static bool ends_with_dot(const char *p) {
        size_t l = strlen(p);
        return (l == 1 && p[0] == '.') || (l >= 2 && p[l - 1] == '.' && p[l - 2] == '/');
}

/* docker cp's rules, with src on side sroot and dst on side droot. */
static int copy_paths(int sroot, const char *src, int droot, const char *dst, CopyCtx *cx, CpodError *err) {
        _cleanup_free_ char *sname = NULL, *dname = NULL;
        _cleanup_close_ int sparent = side_open_parent(sroot, src, &sname);
        struct stat st, dt;

        if (sparent < 0)
                return cpod_error_errno(err, -sparent, "`%s`", src);
        bool contents = ends_with_dot(src);
        if (!*sname || streq(sname, ".")) { /* "/" or "dir/.": the directory itself */
                free(sname);
                sname = strdup(".");
                safe_close(sparent);
                sparent = side_open(sroot, src, O_PATH | O_DIRECTORY);
                if (!sname || sparent < 0)
                        return cpod_error_errno(err, sparent < 0 ? -sparent : ENOMEM, "`%s`", src);
                contents = true;
        }
        if (fstatat(sparent, sname, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return cpod_error_errno(err, errno, "`%s`", src);
        size_t dl = strlen(dst);
        bool dst_is_dir_syntax = dl > 0 && (dst[dl - 1] == '/' || ends_with_dot(dst));
        _cleanup_close_ int dfd = side_open(droot, dst, O_PATH);
        if (dfd >= 0 && fstat(dfd, &dt) == 0 && S_ISDIR(dt.st_mode)) {
                dfd = safe_close(dfd);
                _cleanup_close_ int dir = side_open(droot, dst, O_RDONLY | O_DIRECTORY);
                if (dir < 0)
                        return cpod_error_errno(err, -dir, "`%s`", dst);
                if (S_ISDIR(st.st_mode) && contents) {
                        _cleanup_close_ int s =
                                openat(sparent, sname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        int r = s < 0 ? -errno : copy_dir_contents(s, dir, cx);
                        return r < 0 ? cpod_error_errno(err, -r, "copy `%s` to `%s`", src, dst) : 0;
                }
                int r = copy_entry(sparent, sname, dir, sname, cx);
                return r < 0 ? cpod_error_errno(err, -r, "copy `%s` to `%s`", src, dst) : 0;
        }
        if (dfd >= 0 && S_ISDIR(st.st_mode))
                return cpod_error(err, ENOTDIR, "cannot copy directory `%s` to file `%s`", src, dst);
        if (dfd < 0 && dfd != -ENOENT)
                return cpod_error_errno(err, -dfd, "`%s`", dst);
        if (dfd < 0 && dst_is_dir_syntax && !S_ISDIR(st.st_mode))
                return cpod_error(err, ENOENT, "destination directory `%s` does not exist", dst);
        /* dst names the copy itself: a new entry, or a file replaced */
        _cleanup_close_ int dparent = side_open_parent(droot, dst, &dname);
        if (dparent < 0)
                return cpod_error_errno(err, -dparent, "`%s`", dst);
        _cleanup_close_ int dp = openat(dparent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dp < 0)
                return cpod_error_errno(err, errno, "`%s`", dst);
        int r = copy_entry(sparent, sname, dp, dname, cx);
        return r < 0 ? cpod_error_errno(err, -r, "copy `%s` to `%s`", src, dst) : 0;
}

int container_copy(Engine *e, const char *ref, bool to_container, const char *src, const char *dst,
                   CpodError *err) {
        _cleanup_free_ char *merged = NULL;
        Container c = {};
        CopyCtx cx = {};

        if (!src || !dst || !*src || !*dst)
                return cpod_error(err, EINVAL, "copy needs a source and a destination");
        int r = rootfs_acquire(e, ref, &c, &merged, err);
        if (r < 0)
                return r;
        int root = open(merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                r = cpod_error_errno(err, errno, "open `%s`", merged);
        else {
                if (to_container)
                        copy_owner(&c, &cx);
                r = copy_paths(to_container ? -1 : root, src, to_container ? root : -1, dst, &cx, err);
                safe_close(root);
        }
        (void)rootfs_release(e, c.id, false, NULL);
        container_done(&c);
        return r;
}

int container_copy_host(const char *src, const char *dst, CpodError *err) {
        CopyCtx cx = {};

        if (!src || !dst || !*src || !*dst)
                return cpod_error(err, EINVAL, "copy needs a source and a destination");
        return copy_paths(-1, src, -1, dst, &cx, err);
}
