/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Volumes: rows in the volumes table, files in <root>/volumes/<name>/_data.
 * Mount and unmount decisions for volumes with options are taken inside a
 * write transaction, so two cpod processes never both mount (or one unmount
 * what the other just started to use).
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "container.h"
#include "db.h"
#include "engine-internal.h"
#include "layer.h"
#include "util.h"
#include "volume.h"

#define VOLUME_COLUMNS                                                                                   \
        "v.name, v.driver, v.mountpoint, v.created, v.labels, v.options, v.anonymous, v.needs_copy_up, " \
        "v.needs_chown, (SELECT count(*) FROM container_volumes cv WHERE cv.volume_name = v.name AND "   \
        "EXISTS (SELECT 1 FROM containers c WHERE c.id = cv.container_id))"
#define COPY_MAX_DEPTH 256

static int oom(CpodError *err) {
        return cpod_error(err, ENOMEM, "out of memory");
}

void volume_done(Volume *v) {
        if (!v)
                return;
        free(v->name);
        free(v->driver);
        free(v->mountpoint);
        vl_json_unref(v->labels);
        vl_json_unref(v->options);
        *v = (Volume){};
}

void volume_array_free(Volume *v, size_t n) {
        for (size_t i = 0; v && i < n; i++)
                volume_done(&v[i]);
        free(v);
}

bool volume_name_valid(const char *name) {
        if (!name || !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
                       (name[0] >= '0' && name[0] <= '9')))
                return false;
        for (const char *p = name; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", *p))
                        return false;
        return strlen(name) <= 255; /* one path component */
}

static char *volume_path(Engine *e, const char *name, const char *sub) {
        char *p = NULL;
        if (asprintf(&p, "%s/volumes%s%s%s%s", e->root, name ? "/" : "", name ? name : "", sub ? "/" : "",
                     sub ? sub : "") < 0)
                return NULL;
        return p;
}

static int64_t now_nsec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Go's RFC3339Nano in local time: trailing zeros of the fraction dropped, "Z" for UTC. */
static void format_time(int64_t ns, char *buf, size_t size) {
        time_t t = (time_t)(ns / 1000000000);
        char base[32], frac[16] = "", zone[32] = "Z";
        struct tm tm;

        localtime_r(&t, &tm);
        strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
        if (ns % 1000000000) {
                snprintf(frac, sizeof frac, ".%09lld", (long long)(ns % 1000000000));
                for (size_t l = strlen(frac); l > 1 && frac[l - 1] == '0'; l--)
                        frac[l - 1] = 0;
        }
        if (tm.tm_gmtoff != 0) {
                long off = tm.tm_gmtoff < 0 ? -tm.tm_gmtoff : tm.tm_gmtoff;
                snprintf(zone, sizeof zone, "%c%02ld:%02ld", tm.tm_gmtoff < 0 ? '-' : '+', off / 3600,
                         off / 60 % 60);
        }
        snprintf(buf, size, "%s%s%s", base, frac, zone);
}

static int random_name(char ret[65]) {
        uint8_t b[32];
        if (getrandom(b, sizeof b, 0) != sizeof b)
                return -EIO;
        for (size_t i = 0; i < sizeof b; i++)
                snprintf(ret + 2 * i, 3, "%02x", b[i]);
        return 0;
}

/* True when path is the root of a mount (a volume with options is mounted). */
static bool is_mountpoint(const char *path) {
        struct statx sx, parent;
        _cleanup_free_ char *up = NULL;

        if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) < 0)
                return false;
        if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
                return sx.stx_attributes & STATX_ATTR_MOUNT_ROOT;
        if (asprintf(&up, "%s/..", path) < 0 || statx(AT_FDCWD, up, 0, STATX_BASIC_STATS, &parent) < 0)
                return false;
        return sx.stx_dev_major != parent.stx_dev_major || sx.stx_dev_minor != parent.stx_dev_minor;
}

/* ---- labels and options ---- */

static int compare_strp(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "K=V" (or "K" for an empty value) strings into an object with sorted keys, as Go prints maps. */
static int pairs_object(char **pairs, size_t n, VlJson **ret) {
        _cleanup_(vl_json_unrefp) VlJson *o = vl_json_new_object();
        _cleanup_free_ char **sorted = n ? calloc(n, sizeof(char *)) : NULL;

        if (!o || (n && !sorted))
                return -ENOMEM;
        if (n) {
                memcpy(sorted, pairs, n * sizeof(char *));
                qsort(sorted, n, sizeof(char *), compare_strp);
        }
        for (size_t i = 0; i < n; i++) {
                const char *eq = strchr(sorted[i], '=');
                _cleanup_free_ char *k = eq ? strndup(sorted[i], eq - sorted[i]) : strdup(sorted[i]);
                if (!k || vl_json_object_set_string(o, k, eq ? eq + 1 : "") < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(o);
        return 0;
}

static const char *opt_get(const VlJson *options, const char *key) {
        return vl_json_get_string(vl_json_object_get(options, key));
}

/* Whether the comma-separated list has the word. */
static bool list_has(const char *list, const char *word) {
        size_t l = strlen(word);
        for (const char *p = list; p && *p;) {
                size_t n = strcspn(p, ",");
                if (n == l && strncmp(p, word, l) == 0)
                        return true;
                p += n + (p[n] == ',');
        }
        return false;
}

static bool opt_is_bind(const VlJson *options) {
        const char *type = opt_get(options, "type"), *o = opt_get(options, "o");
        return (type && streq(type, "bind")) || list_has(o, "bind") || list_has(o, "rbind");
}

/* A volume with type or device is mounted while in use; o alone only tunes copy-up. */
static bool opt_needs_mount(const VlJson *options) {
        return opt_get(options, "type") || opt_get(options, "device");
}

static int options_check(const VlJson *options, CpodError *err) {
        const char *k, *type = opt_get(options, "type"), *device = opt_get(options, "device");
        const char *o = opt_get(options, "o");
        const VlJson *v;

        VL_JSON_FOREACH_MEMBER (k, v, options)
                if (!streq(k, "type") && !streq(k, "device") && !streq(k, "o"))
                        return cpod_error(err, EINVAL,
                                          "invalid mount option %s for driver 'local': must be type, device "
                                          "or o",
                                          k);
        if (opt_is_bind(options)) {
                struct stat st;
                if (!device || device[0] != '/')
                        return cpod_error(err, EINVAL, "a bind volume needs device=ABSOLUTE-PATH");
                if (stat(device, &st) < 0)
                        return cpod_error_errno(err, errno, "bind volume device `%s`", device);
                return 0;
        }
        if (device && !type)
                return cpod_error(err, EINVAL, "volume option device=%s needs type=FSTYPE", device);
        if (type && !device && !streq(type, "tmpfs"))
                return cpod_error(err, EINVAL, "volume option type=%s needs device=", type);
        if (o && !type)
                for (const char *p = o; *p;) {
                        size_t n = strcspn(p, ",");
                        if (!(n == 6 && strncmp(p, "nocopy", 6) == 0) &&
                            !(n == 4 && strncmp(p, "copy", 4) == 0))
                                return cpod_error(err, EINVAL,
                                                  "volume option o=%s needs type= and device=", o);
                        p += n + (p[n] == ',');
                }
        return 0;
}

/* ---- mounting ---- */

static const struct {
        const char *name;
        unsigned long set, clear;
} mount_flags[] = {
        {"ro", MS_RDONLY, 0},
        {"rw", 0, MS_RDONLY},
        {"nosuid", MS_NOSUID, 0},
        {"suid", 0, MS_NOSUID},
        {"nodev", MS_NODEV, 0},
        {"dev", 0, MS_NODEV},
        {"noexec", MS_NOEXEC, 0},
        {"exec", 0, MS_NOEXEC},
        {"sync", MS_SYNCHRONOUS, 0},
        {"async", 0, MS_SYNCHRONOUS},
        {"noatime", MS_NOATIME, 0},
        {"atime", 0, MS_NOATIME},
        {"nodiratime", MS_NODIRATIME, 0},
        {"relatime", MS_RELATIME, 0},
        {"strictatime", MS_STRICTATIME, 0},
        {"bind", MS_BIND, 0},
        {"rbind", MS_BIND | MS_REC, 0},
        {"defaults", 0, 0},
        {"nocopy", 0, 0},
        {"copy", 0, 0},
};

/* Split o= into mount(2) flags and the filesystem's data string. */
static int parse_o(const char *o, unsigned long *ret_flags, char **ret_data) {
        _cleanup_free_ char *data = calloc(1, o ? strlen(o) + 1 : 1);
        unsigned long flags = 0;

        if (!data)
                return -ENOMEM;
        for (const char *p = o; p && *p;) {
                size_t n = strcspn(p, ",");
                bool known = false;
                for (size_t i = 0; i < ELEMENTSOF(mount_flags) && !known; i++)
                        if (strlen(mount_flags[i].name) == n && strncmp(p, mount_flags[i].name, n) == 0) {
                                flags = (flags & ~mount_flags[i].clear) | mount_flags[i].set;
                                known = true;
                        }
                if (!known && n > 0) {
                        if (data[0])
                                strcat(data, ",");
                        strncat(data, p, n);
                }
                p += n + (p[n] == ',');
        }
        *ret_flags = flags;
        *ret_data = TAKE_PTR(data);
        return 0;
}

static int volume_mount(const Volume *v, CpodError *err) {
        const char *type = opt_get(v->options, "type"), *device = opt_get(v->options, "device");
        _cleanup_free_ char *data = NULL;
        unsigned long flags;

        if (is_mountpoint(v->mountpoint))
                return 0;
        if (parse_o(opt_get(v->options, "o"), &flags, &data) < 0)
                return oom(err);
        if (opt_is_bind(v->options)) {
                flags |= MS_BIND;
                if (mount(device, v->mountpoint, NULL, flags & (MS_BIND | MS_REC), NULL) < 0)
                        return cpod_error_errno(err, errno, "volume %s: bind mount `%s`", v->name, device);
                if ((flags & ~(MS_BIND | MS_REC)) &&
                    mount(NULL, v->mountpoint, NULL, MS_REMOUNT | MS_BIND | (flags & ~MS_REC), NULL) < 0) {
                        int saved = errno;
                        (void)umount2(v->mountpoint, MNT_DETACH);
                        return cpod_error_errno(err, saved, "volume %s: remount `%s`", v->name, device);
                }
                return 0;
        }
        if (mount(device ? device : type, v->mountpoint, type, flags, data[0] ? data : NULL) < 0)
                return cpod_error_errno(err, errno, "volume %s: mount %s `%s` (o=%s)", v->name, type,
                                        device ? device : type, data);
        return 0;
}

static int volume_unmount(const Volume *v, CpodError *err) {
        if (!is_mountpoint(v->mountpoint))
                return 0;
        if (umount2(v->mountpoint, UMOUNT_NOFOLLOW) < 0 &&
            (errno != EBUSY || umount2(v->mountpoint, MNT_DETACH | UMOUNT_NOFOLLOW) < 0) && errno != EINVAL)
                return cpod_error_errno(err, errno, "volume %s: unmount `%s`", v->name, v->mountpoint);
        return 0;
}

/* ---- rows ---- */

static int parse_object(const char *text, VlJson **ret) {
        VlJson *o = NULL;
        if (!text || vl_json_parse(text, strlen(text), NULL, &o, NULL) < 0 ||
            vl_json_type(o) != VL_JSON_OBJECT) {
                vl_json_unref(o);
                o = vl_json_new_object();
        }
        *ret = o;
        return o ? 0 : -ENOMEM;
}

static int row_read(sqlite3_stmt *st, Volume *v) {
        const char *t;
        *v = (Volume){};
        v->name = strdup((const char *)sqlite3_column_text(st, 0) ?: "");
        v->driver = strdup((t = (const char *)sqlite3_column_text(st, 1)) ? t : "local");
        v->mountpoint = strdup((const char *)sqlite3_column_text(st, 2) ?: "");
        v->created = sqlite3_column_int64(st, 3);
        v->anonymous = sqlite3_column_int(st, 6);
        v->needs_copy_up = sqlite3_column_int(st, 7);
        v->needs_chown = sqlite3_column_int(st, 8);
        v->users = (unsigned)sqlite3_column_int(st, 9);
        if (!v->name || !v->driver || !v->mountpoint ||
            parse_object((const char *)sqlite3_column_text(st, 4), &v->labels) < 0 ||
            parse_object((const char *)sqlite3_column_text(st, 5), &v->options) < 0) {
                volume_done(v);
                return -ENOMEM;
        }
        return 0;
}

/* Rows of a query over "volumes v" with ?1 bound to param (may be NULL). */
static int query_volumes(Engine *e, const char *where, const char *param, Volume **ret, size_t *ret_n,
                         CpodError *err) {
        _cleanup_free_ char *sql = NULL;
        sqlite3_stmt *st = NULL;
        Volume *v = NULL;
        size_t n = 0, cap = 0;
        int r, rc;

        if (asprintf(&sql, "SELECT " VOLUME_COLUMNS " FROM volumes v %s ORDER BY v.name", where) < 0)
                return oom(err);
        r = db_prepare_cached(e->db, sql, &st, err);
        if (r >= 0 && param)
                r = db_bind_texts(e->db, st, DB_PARAMS(param), err);
        while (r >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (VL_GROW(v, cap, n + 1) < 0 || row_read(st, &v[n]) < 0) {
                        r = oom(err);
                        break;
                }
                n++;
        }
        if (r >= 0 && rc != SQLITE_DONE)
                r = cpod_error(err, -db_errno(rc), "database: list volumes: %s", sqlite3_errmsg(e->db));
        db_finish(st);
        if (r < 0) {
                volume_array_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int volume_get(Engine *e, const char *name, Volume *ret, CpodError *err) {
        Volume *v = NULL;
        size_t n = 0;
        int r = query_volumes(e, "WHERE v.name = ?1", name ? name : "", &v, &n, err);
        if (r < 0)
                return r;
        if (n == 0) {
                free(v);
                return cpod_error(err, ENOENT, "no volume with name \"%s\" found: no such volume",
                                  name ? name : "");
        }
        *ret = v[0];
        free(v);
        return 0;
}

int volume_exists(Engine *e, const char *name, CpodError *err) {
        int r = db_get_text(e->db, "SELECT name FROM volumes WHERE name = ?1", DB_PARAMS(name ? name : ""),
                            NULL, err);
        return r < 0 ? r : r > 0;
}

/* ---- create ---- */

/* A leftover directory without a row (a create killed half-way) is removed first. */
static int make_dirs(Engine *e, const char *name, CpodError *err) {
        _cleanup_free_ char *base = volume_path(e, NULL, NULL), *dir = volume_path(e, name, NULL);
        _cleanup_free_ char *data = volume_path(e, name, "_data");

        if (!base || !dir || !data)
                return oom(err);
        if (mkdir(base, 0700) < 0 && errno != EEXIST)
                return cpod_error_errno(err, errno, "create `%s`", base);
        if (is_mountpoint(data))
                return cpod_error(err, EBUSY, "`%s` is still mounted", data);
        _cleanup_close_ int dfd = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return cpod_error_errno(err, errno, "open `%s`", base);
        (void)layer_rm_rf_at(dfd, name);
        if (mkdir(dir, 0700) < 0)
                return cpod_error_errno(err, errno, "create `%s`", dir);
        if (mkdir(data, 0755) < 0)
                return cpod_error_errno(err, errno, "create `%s`", data);
        return 0;
}

static int create_row(Engine *e, const char *name, const VolumeCreateOptions *o, const char *labels,
                      const char *options, CpodError *err) {
        _cleanup_free_ char *mountpoint = volume_path(e, name, "_data");
        char created[24];
        int r;

        if (!mountpoint)
                return oom(err);
        snprintf(created, sizeof created, "%lld", (long long)now_nsec());
        r = db_begin_write(e->db, err);
        if (r < 0)
                return r;
        r = volume_exists(e, name, err);
        if (r > 0)
                r = cpod_error(err, EEXIST, "volume with name %s already exists: volume already exists",
                               name);
        if (r >= 0)
                r = make_dirs(e, name, err);
        if (r >= 0)
                r = db_run(
                        e->db,
                        "INSERT INTO volumes(name, driver, mountpoint, created, labels, options, anonymous, "
                        "needs_copy_up, needs_chown) VALUES (?1, 'local', ?2, ?3, ?4, ?5, ?6, 1, 1)",
                        DB_PARAMS(name, mountpoint, created, labels, options, o->anonymous ? "1" : "0"),
                        err);
        if (r >= 0)
                return db_commit(e->db, err);
        db_rollback(e->db);
        return r;
}

int volume_create(Engine *e, const VolumeCreateOptions *o, char **ret_name, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *labels = NULL, *options = NULL;
        _cleanup_free_ char *labels_text = NULL, *options_text = NULL;
        char generated[65];
        const char *name = o->name;
        int r;

        if (o->driver && *o->driver && !streq(o->driver, "local"))
                return cpod_error(err, EINVAL, "volume driver \"%s\" is not supported: only \"local\" is",
                                  o->driver);
        if (!name || !*name) {
                if (random_name(generated) < 0)
                        return cpod_error(err, EIO, "generate a volume name");
                name = generated;
        } else if (!volume_name_valid(name))
                return cpod_error(err, EINVAL,
                                  "invalid volume name \"%s\": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*",
                                  name);
        for (size_t i = 0; i < o->n_options; i++)
                if (!strchr(o->options[i], '=') || o->options[i][0] == '=')
                        return cpod_error(err, EINVAL, "invalid volume option \"%s\": must be KEY=VALUE",
                                          o->options[i]);
        if (pairs_object(o->labels, o->n_labels, &labels) < 0 ||
            pairs_object(o->options, o->n_options, &options) < 0)
                return oom(err);
        r = options_check(options, err);
        if (r < 0)
                return r;
        if (!(labels_text = vl_json_to_string(labels, 0)) || !(options_text = vl_json_to_string(options, 0)))
                return oom(err);
        r = create_row(e, name, o, labels_text, options_text, err);
        if (r < 0)
                return r;
        if (ret_name && !(*ret_name = strdup(name)))
                return oom(err);
        (void)events_write(e, "volume", "create", name, name, NULL, NULL);
        return 0;
}

/* ---- list and inspect ---- */

static bool object_matches(const VlJson *o, const char *want) {
        const char *eq = strchr(want, '='), *k;
        size_t kl = eq ? (size_t)(eq - want) : strlen(want);
        const VlJson *v;

        VL_JSON_FOREACH_MEMBER (k, v, o)
                if (strlen(k) == kl && strncmp(k, want, kl) == 0 &&
                    (!eq || streq_ptr(vl_json_get_string(v), eq + 1)))
                        return true;
        return false;
}

static int bool_value(const char *s, bool *ret) {
        if (streq(s, "true") || streq(s, "1"))
                *ret = true;
        else if (streq(s, "false") || streq(s, "0"))
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

/* One filter against one volume: 1 match, 0 no match, <0 error. */
static int filter_one(const Volume *v, const char *filter, CpodError *err) {
        const char *x;
        bool b;

        if ((x = startswith(filter, "name="))) {
                regex_t re;
                if (regcomp(&re, x, REG_EXTENDED | REG_NOSUB) != 0)
                        return cpod_error(err, EINVAL, "invalid name filter \"%s\": bad regular expression",
                                          x);
                int m = regexec(&re, v->name, 0, NULL, 0) == 0;
                regfree(&re);
                return m;
        }
        if ((x = startswith(filter, "label=")))
                return object_matches(v->labels, x);
        if ((x = startswith(filter, "label!=")))
                return !object_matches(v->labels, x);
        if ((x = startswith(filter, "opt=")))
                return object_matches(v->options, x);
        if ((x = startswith(filter, "driver=")))
                return streq(v->driver, x);
        if ((x = startswith(filter, "scope=")))
                return streq(x, "local");
        if ((x = startswith(filter, "dangling="))) {
                if (bool_value(x, &b) < 0)
                        return cpod_error(err, EINVAL,
                                          "%s is not a valid value for the \"dangling\" filter - "
                                          "must be true or false",
                                          x);
                return (v->users == 0) == b;
        }
        size_t kl = strcspn(filter, "=");
        return cpod_error(err, EINVAL, "\"%.*s\" is an invalid volume filter", (int)kl, filter);
}

/* Filters with the same key are alternatives; different keys must all match. */
static int filters_match(const Volume *v, const char *const *filters, size_t n, CpodError *err) {
        for (size_t f = 0; f < n; f++) {
                size_t kl = strcspn(filters[f], "=");
                bool any = false;
                if (!filters[f][kl])
                        return cpod_error(err, EINVAL, "invalid filter \"%s\": must be KEY=VALUE",
                                          filters[f]);
                for (size_t g = 0; g < n; g++) {
                        if (strncmp(filters[g], filters[f], kl + 1) != 0)
                                continue;
                        int r = filter_one(v, filters[g], err);
                        if (r < 0)
                                return r;
                        any = any || r > 0;
                }
                if (!any)
                        return 0;
        }
        return 1;
}

int volume_list(Engine *e, const char *const *filters, size_t n_filters, Volume **ret, size_t *ret_n,
                CpodError *err) {
        Volume *v = NULL;
        size_t n = 0, kept = 0;
        int r = query_volumes(e, "", NULL, &v, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = r < 0 ? r : filters_match(&v[i], filters, n_filters, err);
                if (r > 0) {
                        v[kept++] = v[i];
                        continue;
                }
                volume_done(&v[i]);
        }
        if (r < 0) {
                volume_array_free(v, kept);
                return r;
        }
        *ret = v;
        *ret_n = kept;
        return 0;
}

VlJson *volume_to_json(const Volume *v) {
        _cleanup_(vl_json_unrefp) VlJson *o = vl_json_new_object();
        char created[48];
        /* podman counts mounts of volumes it mounts itself; plain directories stay at 0 */
        unsigned count = opt_needs_mount(v->options) && is_mountpoint(v->mountpoint) ? v->users : 0;
        int r = o ? 0 : -ENOMEM;

        format_time(v->created, created, sizeof created);
        r = r < 0 ? r : vl_json_object_set_string(o, "Name", v->name);
        r = r < 0 ? r : vl_json_object_set_string(o, "Driver", v->driver);
        r = r < 0 ? r : vl_json_object_set_string(o, "Mountpoint", v->mountpoint);
        r = r < 0 ? r : vl_json_object_set_string(o, "CreatedAt", created);
        r = r < 0 ? r : vl_json_object_set(o, "Labels", vl_json_copy(v->labels));
        r = r < 0 ? r : vl_json_object_set_string(o, "Scope", "local");
        r = r < 0 ? r : vl_json_object_set(o, "Options", vl_json_copy(v->options));
        r = r < 0 ? r : vl_json_object_set_int(o, "MountCount", count);
        r = r < 0 ? r : vl_json_object_set_bool(o, "NeedsCopyUp", v->needs_copy_up);
        r = r < 0 ? r : vl_json_object_set_bool(o, "NeedsChown", v->needs_chown);
        if (r >= 0 && v->anonymous)
                r = vl_json_object_set_bool(o, "Anonymous", true);
        return r < 0 ? NULL : TAKE_PTR(o);
}

int volume_inspect(Engine *e, const char *name, VlJson **ret, CpodError *err) {
        Volume v = {};
        int r = volume_get(e, name, &v, err);
        if (r < 0)
                return r;
        *ret = volume_to_json(&v);
        volume_done(&v);
        return *ret ? 0 : oom(err);
}

/* ---- remove and prune ---- */

/* Delete a volume's files once its row is gone; never below a mount that is still there. */
static int remove_files(Engine *e, const Volume *v, CpodError *err) {
        _cleanup_free_ char *base = volume_path(e, NULL, NULL);
        if (!base)
                return oom(err);
        if (is_mountpoint(v->mountpoint))
                return cpod_error(err, EBUSY, "volume %s: `%s` is still mounted, its files are kept",
                                  v->name, v->mountpoint);
        _cleanup_close_ int dfd = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? 0 : cpod_error_errno(err, errno, "open `%s`", base);
        int r = layer_rm_rf_at(dfd, v->name);
        return r < 0 ? cpod_error_errno(err, -r, "remove `%s/%s`", base, v->name) : 0;
}

/* The IDs of the containers using a volume, as "id1, id2" (malloc'ed), and whether one runs. */
static int users_text(Engine *e, const char *name, char **ret, bool *ret_running, CpodError *err) {
        sqlite3_stmt *st = NULL;
        VlBuf b = VL_BUF_INIT;
        bool running = false;
        int rc, r = db_prepare(
                        e->db,
                        "SELECT cv.container_id FROM container_volumes cv JOIN containers c ON c.id = "
                        "cv.container_id WHERE cv.volume_name = ?1 ORDER BY cv.container_id",
                        &st, err);
        if (r >= 0)
                r = db_bind_texts(e->db, st, DB_PARAMS(name), err);
        while (r >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *id = (const char *)sqlite3_column_text(st, 0);
                Container c = {};
                if (container_get(e, id, &c, NULL) >= 0 &&
                    (c.state == CONTAINER_RUNNING || c.state == CONTAINER_PAUSED))
                        running = true;
                container_done(&c);
                if ((b.len && vl_buf_append_str(&b, ", ") < 0) || vl_buf_append_str(&b, id) < 0)
                        r = oom(err);
        }
        sqlite3_finalize(st);
        if (r >= 0 && vl_buf_append_char(&b, 0) < 0)
                r = oom(err);
        if (r < 0) {
                vl_buf_free(&b);
                return r;
        }
        *ret = b.data;
        *ret_running = running;
        return 0;
}

/* Drop the row (and the uses, by cascade) after unmounting; files go after the commit. */
static int remove_row(Engine *e, const Volume *v, CpodError *err) {
        int r = db_begin_write(e->db, err);
        if (r < 0)
                return r;
        r = volume_unmount(v, err);
        if (r >= 0)
                r = db_run(e->db, "DELETE FROM container_volumes WHERE volume_name = ?1", DB_PARAMS(v->name),
                           err);
        if (r >= 0)
                r = db_run(e->db, "DELETE FROM volumes WHERE name = ?1", DB_PARAMS(v->name), err);
        if (r >= 0)
                return db_commit(e->db, err);
        db_rollback(e->db);
        return r;
}

int volume_remove(Engine *e, const char *name, bool force, CpodError *err) {
        _cleanup_free_ char *users = NULL;
        Volume v = {};
        bool running = false;
        int r = volume_get(e, name, &v, err);

        if (r >= 0 && v.users > 0)
                r = users_text(e, v.name, &users, &running, err);
        if (r >= 0 && v.users > 0 && (!force || running))
                r = cpod_error(err, EBUSY,
                               "volume %s is being used by the following container(s): %s: volume is being "
                               "used%s",
                               v.name, users, force ? " by a running container" : "");
        /* as podman: --force removes the (stopped) containers using the volume first */
        for (char *id = users, *next; r >= 0 && v.users > 0 && id && *id; id = next) {
                next = id + strcspn(id, ",");
                if (*next)
                        *next++ = 0;
                next += strspn(next, " ");
                r = container_remove(e, id, false, false, err);
                if (r == -ENOENT)
                        r = 0; /* removed meanwhile */
        }
        if (r >= 0)
                r = remove_row(e, &v, err);
        if (r >= 0) {
                r = remove_files(e, &v, err);
                (void)events_write(e, "volume", "remove", v.name, v.name, NULL, NULL);
        }
        volume_done(&v);
        return r;
}

static int prune_filter_check(const char *const *filters, size_t n, CpodError *err) {
        for (size_t i = 0; i < n; i++)
                if (!startswith(filters[i], "label=") && !startswith(filters[i], "label!="))
                        return cpod_error(err, EINVAL, "%s is an invalid filter for volume prune",
                                          filters[i]);
        return 0;
}

int volume_prune(Engine *e, const char *const *filters, size_t n_filters, char ***ret_names, size_t *ret_n,
                 CpodError *err) {
        char **names = NULL;
        size_t n_names = 0, cap = 0, n = 0;
        Volume *v = NULL;
        int r = prune_filter_check(filters, n_filters, err);

        if (r >= 0)
                r = volume_list(e, filters, n_filters, &v, &n, err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                CpodError e2 = {};
                if (v[i].users > 0 || volume_remove(e, v[i].name, false, &e2) < 0)
                        continue; /* in use, or taken into use since the listing */
                if (VL_GROW(names, cap, n_names + 2) < 0 || !(names[n_names] = strdup(v[i].name)))
                        r = oom(err);
                else
                        names[++n_names] = NULL;
        }
        volume_array_free(v, n);
        if (r < 0 || !ret_names) {
                for (size_t i = 0; i < n_names; i++)
                        free(names[i]);
                free(names);
        } else {
                *ret_names = names;
        }
        if (r >= 0 && ret_n)
                *ret_n = n_names;
        return r;
}

/* ---- copy-up ---- */

static int copy_entry(int sfd, int dfd, const char *name, int depth);

static int copy_attrs(int dfd, const char *name, const struct stat *st) {
        struct timespec ts[2] = {st->st_atim, st->st_mtim};
        if (fchownat(dfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISLNK(st->st_mode) && fchmodat(dfd, name, st->st_mode & 07777, 0) < 0)
                return -errno;
        return utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static int copy_dir(int sfd, int dfd, int depth) {
        int fd = fcntl(sfd, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;
        int r = 0;

        if (!d) {
                r = -errno;
                safe_close(fd);
                return r;
        }
        while (r >= 0 && (errno = 0, de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        r = copy_entry(sfd, dfd, de->d_name, depth);
        if (r >= 0 && errno)
                r = -errno;
        closedir(d);
        return r;
}

static int copy_file(int sfd, int dfd, const char *name) {
        _cleanup_close_ int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int out =
                in < 0 ? -1 : openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        char buf[65536];
        ssize_t n;

        if (in < 0 || out < 0)
                return -errno;
        while ((n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0)) > 0)
                ;
        if (n == 0)
                return 0;
        if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
                return -errno;
        while ((n = read(in, buf, sizeof buf)) > 0)
                for (ssize_t off = 0; off < n;) {
                        ssize_t w = write(out, buf + off, n - off);
                        if (w < 0)
                                return -errno;
                        off += w;
                }
        return n < 0 ? -errno : 0;
}

/* Copy one entry, never following symlinks: files, directories, symlinks and device nodes, with owners,
 * modes and times. Hard links become separate files. */
static int copy_entry(int sfd, int dfd, const char *name, int depth) {
        struct stat st;
        int r = 0;

        if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode)) {
                if (depth >= COPY_MAX_DEPTH)
                        return -ELOOP;
                if (mkdirat(dfd, name, 0700) < 0)
                        return -errno;
                _cleanup_close_ int s = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                _cleanup_close_ int d = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                r = s < 0 || d < 0 ? -errno : copy_dir(s, d, depth + 1);
        } else if (S_ISREG(st.st_mode))
                r = copy_file(sfd, dfd, name);
        else if (S_ISLNK(st.st_mode)) {
                char target[4097];
                ssize_t n = readlinkat(sfd, name, target, sizeof target - 1);
                if (n < 0)
                        return -errno;
                target[n] = 0;
                r = symlinkat(target, dfd, name) < 0 ? -errno : 0;
        } else
                r = mknodat(dfd, name, st.st_mode, st.st_rdev) < 0 ? -errno : 0;
        return r < 0 ? r : copy_attrs(dfd, name, &st);
}

static bool dir_empty(int fd) {
        int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
        struct dirent *de;
        bool empty = true;

        if (!d) {
                safe_close(dup_fd);
                return false;
        }
        while (empty && (de = readdir(d)))
                empty = streq(de->d_name, ".") || streq(de->d_name, "..");
        closedir(d);
        return empty;
}

/* Copy the image's directory into the (empty) volume, which takes the directory's owner and mode. */
static int copy_contents(const Volume *v, const char *src, CpodError *err) {
        _cleanup_close_ int s = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int d = -1;
        struct stat st;
        int r;

        if (s < 0)
                return 0; /* nothing at the destination in the image, or not a directory */
        d = open(v->mountpoint, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (d < 0)
                return cpod_error_errno(err, errno, "volume %s: open `%s`", v->name, v->mountpoint);
        if (!dir_empty(d))
                return 0;
        if (fstat(s, &st) < 0)
                return cpod_error_errno(err, errno, "volume %s: stat `%s`", v->name, src);
        r = copy_dir(s, d, 0);
        if (r < 0)
                return cpod_error_errno(err, -r, "volume %s: copy `%s` up", v->name, src);
        if (fchown(d, st.st_uid, st.st_gid) < 0 || fchmod(d, st.st_mode & 07777) < 0)
                return cpod_error_errno(err, errno, "volume %s: set owner and mode of `%s`", v->name,
                                        v->mountpoint);
        return 0;
}

/* Claim the copy-up in a transaction (one process copies), mounting a volume with options first. */
static int copy_up(Engine *e, const char *name, const char *src, CpodError *err) {
        Volume v = {};
        bool copy = false;
        int r = db_begin_write(e->db, err);

        if (r < 0)
                return r;
        r = volume_get(e, name, &v, err);
        if (r >= 0 && v.needs_copy_up) {
                copy = !list_has(opt_get(v.options, "o"), "nocopy");
                if (opt_needs_mount(v.options))
                        r = volume_mount(&v, err);
                if (r >= 0)
                        r = db_run(e->db,
                                   "UPDATE volumes SET needs_copy_up = 0, needs_chown = 0 WHERE name = ?1",
                                   DB_PARAMS(name), err);
        }
        r = r < 0 ? r : db_commit(e->db, err);
        if (r < 0)
                db_rollback(e->db);
        if (r >= 0 && copy)
                r = copy_contents(&v, src, err);
        volume_done(&v);
        return r;
}

/* ---- containers ---- */

int volume_resolve_mount_named(Engine *e, const char *name_or_empty, bool create,
                               const char *image_path_for_copy_up, char **ret_host_path, char **ret_name,
                               bool *ret_created, CpodError *err) {
        const char *name = name_or_empty && *name_or_empty ? name_or_empty : NULL;
        _cleanup_free_ char *made = NULL;
        bool created = false;
        Volume v = {};
        int r;

        if (name && !volume_name_valid(name))
                return cpod_error(err, EINVAL,
                                  "invalid volume name \"%s\": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*",
                                  name);
        r = name ? volume_get(e, name, &v, err) : -ENOENT;
        if (r == -ENOENT && (create || !name)) {
                VolumeCreateOptions o = {.name = name, .anonymous = !name};
                cpod_error_clear(err);
                r = volume_create(e, &o, &made, err);
                created = r >= 0;
                if (r == -EEXIST) /* another process created it meanwhile */
                        cpod_error_clear(err);
                if (r >= 0 || r == -EEXIST)
                        r = volume_get(e, made ? made : name, &v, err);
        }
        if (r >= 0 && image_path_for_copy_up && v.needs_copy_up)
                r = copy_up(e, v.name, image_path_for_copy_up, err);
        if (r >= 0 && !(*ret_host_path = strdup(v.mountpoint)))
                r = oom(err);
        if (r >= 0 && ret_name && !(*ret_name = strdup(v.name))) {
                free(*ret_host_path);
                r = oom(err);
        }
        if (r < 0 && created)
                (void)volume_remove(e, made, true, NULL);
        if (r >= 0 && ret_created)
                *ret_created = created;
        volume_done(&v);
        return r;
}

int volume_resolve_mount(Engine *e, const char *name_or_empty, bool create,
                         const char *image_path_for_copy_up, char **ret_host_path, bool *ret_created,
                         CpodError *err) {
        return volume_resolve_mount_named(e, name_or_empty, create, image_path_for_copy_up, ret_host_path,
                                          NULL, ret_created, err);
}

int volume_container_use(Engine *e, const char *container_id, const char *volume, bool anonymous,
                         CpodError *err) {
        Volume v = {};
        int r = db_begin_write(e->db, err);

        if (r < 0)
                return r;
        r = volume_get(e, volume, &v, err);
        if (r >= 0)
                r = db_run(e->db,
                           "INSERT OR IGNORE INTO container_volumes(container_id, volume_name, anonymous) "
                           "VALUES (?1, ?2, ?3)",
                           DB_PARAMS(container_id, v.name, anonymous ? "1" : "0"), err);
        if (r >= 0 && opt_needs_mount(v.options))
                r = volume_mount(&v, err);
        r = r < 0 ? r : db_commit(e->db, err);
        if (r < 0)
                db_rollback(e->db);
        volume_done(&v);
        return r;
}

static const char container_volumes_where[] =
        "WHERE v.name IN (SELECT volume_name FROM container_volumes WHERE container_id = ?1)";

int volume_container_mount(Engine *e, const char *container_id, CpodError *err) {
        Volume *v = NULL;
        size_t n = 0;
        int r = db_begin_write(e->db, err);

        if (r >= 0)
                r = query_volumes(e, container_volumes_where, container_id, &v, &n, err);
        for (size_t i = 0; r >= 0 && i < n; i++)
                if (opt_needs_mount(v[i].options))
                        r = volume_mount(&v[i], err);
        r = r < 0 ? r : db_commit(e->db, err);
        if (r < 0)
                db_rollback(e->db);
        volume_array_free(v, n);
        return r;
}

/* Unmount a volume nobody uses any more; with remove, also drop an anonymous one's row (1: dropped). */
static int release_one(Engine *e, const Volume *v, bool remove, CpodError *err) {
        _cleanup_free_ char *left = NULL;
        int r = db_get_text(e->db, "SELECT count(*) FROM container_volumes WHERE volume_name = ?1",
                            DB_PARAMS(v->name), &left, err);
        if (r < 0 || (left && !streq(left, "0")))
                return r < 0 ? r : 0;
        if (opt_needs_mount(v->options) && (r = volume_unmount(v, err)) < 0)
                return r;
        if (!remove || !v->anonymous)
                return 0;
        r = db_run(e->db, "DELETE FROM volumes WHERE name = ?1", DB_PARAMS(v->name), err);
        return r < 0 ? r : 1;
}

int volume_container_release(Engine *e, const char *container_id, bool remove_anonymous, CpodError *err) {
        _cleanup_free_ bool *drop = NULL;
        Volume *v = NULL;
        size_t n = 0;
        int r = db_begin_write(e->db, err);

        if (r >= 0)
                r = query_volumes(e, container_volumes_where, container_id, &v, &n, err);
        if (r >= 0 && n > 0 && !(drop = calloc(n, sizeof(bool))))
                r = oom(err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                /* only the container that made an anonymous volume removes it */
                int own = db_get_text(
                        e->db,
                        "SELECT 1 FROM container_volumes WHERE container_id = ?1 AND volume_name = "
                        "?2 AND anonymous = 1",
                        DB_PARAMS(container_id, v[i].name), NULL, err);
                r = own < 0 ? own
                            : db_run(e->db,
                                     "DELETE FROM container_volumes WHERE container_id = ?1 AND volume_name "
                                     "= ?2",
                                     DB_PARAMS(container_id, v[i].name), err);
                if (r >= 0)
                        r = release_one(e, &v[i], remove_anonymous && own > 0, err);
                if (r > 0)
                        drop[i] = true;
        }
        if (r >= 0)
                r = db_run(e->db, "DELETE FROM container_volumes WHERE container_id = ?1",
                           DB_PARAMS(container_id), err);
        r = r < 0 ? r : db_commit(e->db, err);
        if (r < 0)
                db_rollback(e->db);
        for (size_t i = 0; r >= 0 && i < n; i++)
                if (drop[i]) {
                        (void)remove_files(e, &v[i], NULL);
                        (void)events_write(e, "volume", "remove", v[i].name, v[i].name, NULL, NULL);
                }
        volume_array_free(v, n);
        return r < 0 ? r : 0;
}

bool volume_in_use(Engine *e, const char *name) {
        Volume v = {};
        bool used = volume_get(e, name, &v, NULL) >= 0 && v.users > 0;
        volume_done(&v);
        return used;
}
