/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Store-wide maintenance: `cpod system check`, `reset` and `df`.
 *
 * A process killed mid-operation leaves files no row names (a blob or layer
 * written before its image was recorded, a staging directory in tmp/) or,
 * after outside damage, rows whose files are gone. Telling a leftover from
 * the files of an operation still running needs the store to ourselves, so
 * check and reset take the engine lock exclusively.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "blob.h"
#include "container-internal.h"
#include "db.h"
#include "engine-internal.h"
#include "image.h"
#include "util.h"

#define RM_MAX_DEPTH 512

/* Remove name below dfd, recursively. Directories without write or search
 * permission for us (layer contents may have any mode) are opened up first. */
static int rm_rf_at(int dfd, const char *name, unsigned depth) {
        if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR && errno != EPERM)
                return -errno;
        if (depth >= RM_MAX_DEPTH)
                return -ELOOP;
        (void)fchmodat(dfd, name, 0700, 0);
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                close(fd);
                return r;
        }
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int k = rm_rf_at(dirfd(d), de->d_name, depth + 1);
                if (k < 0 && r == 0)
                        r = k;
        }
        closedir(d);
        if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                r = -errno;
        return r;
}

static int report_add(StoreReport *rep, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int report_add(StoreReport *rep, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;
        va_start(ap, fmt);
        int k = vasprintf(&s, fmt, ap);
        va_end(ap);
        char **v = k < 0 ? NULL : realloc(rep->problems, (rep->n_problems + 1) * sizeof(char *));
        if (!v) {
                free(k < 0 ? NULL : s);
                return -ENOMEM;
        }
        rep->problems = v;
        rep->problems[rep->n_problems++] = s;
        return 0;
}

void store_report_done(StoreReport *r) {
        if (!r)
                return;
        for (size_t i = 0; i < r->n_problems; i++)
                free(r->problems[i]);
        free(r->problems);
        *r = (StoreReport){};
}

static int oom(CpodError *err) {
        return cpod_error(err, ENOMEM, "out of memory");
}

static bool layer_dir_exists(Engine *e, const char *id) {
        char rel[128];
        snprintf(rel, sizeof rel, "layers/%.64s", id);
        return faccessat(e->root_fd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Images whose blobs or layer directories are gone: reported, and with
 * repair removed (their leftovers go in the later passes). */
static int check_images(Engine *e, bool repair, StoreReport *rep, CpodError *err) {
        sqlite3_stmt *st = NULL;
        char **broken = NULL;
        size_t n_broken = 0, cap = 0;
        int rc, r = db_prepare(e->db,
                               "SELECT image_id, 'blob', digest FROM image_blobs UNION ALL"
                               " SELECT image_id, 'layer', layer_id FROM image_layers ORDER BY 1",
                               &st, err);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && r >= 0) {
                const char *id = (const char *)sqlite3_column_text(st, 0);
                const char *kind = (const char *)sqlite3_column_text(st, 1);
                const char *what = (const char *)sqlite3_column_text(st, 2);
                if (!id || !kind || !what)
                        continue;
                bool present = streq(kind, "blob") ? blob_exists(e, what) : layer_dir_exists(e, what);
                if (present)
                        continue;
                if (report_add(rep, "image %s: %s %s is missing", id, kind, what) < 0)
                        r = oom(err);
                else if (n_broken == 0 || !streq(broken[n_broken - 1], id)) {
                        char *copy = strdup(id);
                        if (!copy || VL_GROW(broken, cap, n_broken + 1) < 0) {
                                free(copy);
                                r = oom(err);
                        } else
                                broken[n_broken++] = copy;
                }
        }
        sqlite3_finalize(st);
        if (r >= 0 && repair && n_broken) {
                r = db_begin_write(e->db, err);
                for (size_t i = 0; r >= 0 && i < n_broken; i++)
                        r = db_run(e->db, "DELETE FROM images WHERE id = ?1", DB_PARAMS(broken[i]), err);
                if (r >= 0)
                        r = db_commit(e->db, err);
                else
                        db_rollback(e->db);
                if (r >= 0)
                        rep->repaired += (unsigned)n_broken;
        }
        for (size_t i = 0; i < n_broken; i++)
                free(broken[i]);
        free(broken);
        return r < 0 ? r : 0;
}

/* Layer rows no image uses, and rows whose directory is gone. */
static int check_layer_rows(Engine *e, bool repair, StoreReport *rep, CpodError *err) {
        sqlite3_stmt *st = NULL;
        int rc, r = db_prepare(
                        e->db,
                        "SELECT id, EXISTS (SELECT 1 FROM image_layers WHERE layer_id = l.id) FROM layers l",
                        &st, err);
        if (r < 0)
                return r;
        unsigned found = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && r >= 0) {
                const char *id = (const char *)sqlite3_column_text(st, 0);
                if (!id)
                        continue;
                if (!sqlite3_column_int(st, 1)) {
                        found++;
                        if (report_add(rep, "layer %s is not used by any image", id) < 0)
                                r = oom(err);
                } else if (!layer_dir_exists(e, id) &&
                           report_add(rep, "layer %s: directory is missing", id) < 0)
                        r = oom(err);
        }
        sqlite3_finalize(st);
        if (r < 0 || !repair || !found)
                return r;

        /* Children before parents (layers.parent references layers). */
        r = db_begin_write(e->db, err);
        int n = 0;
        while (r >= 0 && (n = db_run(e->db,
                                     "DELETE FROM layers WHERE id NOT IN (SELECT layer_id FROM image_layers)"
                                     " AND id NOT IN (SELECT parent FROM layers WHERE parent IS NOT NULL)",
                                     NULL, 0, err)) > 0)
                rep->repaired += (unsigned)n;
        if (r >= 0 && n < 0)
                r = n;
        if (r >= 0)
                return db_commit(e->db, err);
        db_rollback(e->db);
        return r;
}

/* Is the file `name` in directory `dir` (a blob or a layer) named by a row? */
static int file_referenced(Engine *e, const char *dir, const char *name, CpodError *err) {
        if (strlen(name) != 64 || strspn(name, "0123456789abcdef") != 64)
                return 0;
        if (streq(dir, "layers"))
                return db_get_text(e->db, "SELECT 1 FROM layers WHERE id = ?1", DB_PARAMS(name), NULL, err);
        char digest[DIGEST_MAX];
        snprintf(digest, sizeof digest, "sha256:%s", name);
        return db_get_text(e->db, "SELECT 1 FROM image_blobs WHERE digest = ?1 LIMIT 1", DB_PARAMS(digest),
                           NULL, err);
}

/* Files in dir that no row names (every file, for tmp). */
static int check_dir(Engine *e, const char *dir, bool repair, StoreReport *rep, CpodError *err) {
        int fd = openat(e->root_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : cpod_error_errno(err, errno, "open `%s/%s`", e->root, dir);
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return oom(err);
        }
        bool is_tmp = streq(dir, "tmp");
        struct dirent *de;
        int r = 0;
        while (r >= 0 && (de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int k = is_tmp ? 0 : file_referenced(e, dir, de->d_name, err);
                if (k < 0) {
                        r = k;
                        break;
                }
                if (k > 0)
                        continue;
                if (report_add(rep, "%s `%s/%s` is left over from an interrupted operation",
                               is_tmp                 ? "temporary file"
                               : streq(dir, "layers") ? "layer directory"
                                                      : "blob",
                               dir, de->d_name) < 0) {
                        r = oom(err);
                        break;
                }
                if (!repair)
                        continue;
                k = rm_rf_at(dirfd(d), de->d_name, 0);
                if (k < 0)
                        r = cpod_error(err, -k, "remove `%s/%s/%s`: %s", e->root, dir, de->d_name,
                                       strerror(-k));
                else
                        rep->repaired++;
        }
        closedir(d);
        return r;
}

int store_check(Engine *e, bool repair, StoreReport *ret, CpodError *err) {
        StoreReport rep = {};
        int r = engine_lock_exclusive(e, err);
        if (r < 0)
                return r;
        /* No other engine is open; the collectors' lock is taken for the rule's sake (and is free). */
        r = engine_gc_exclusive(e, err);
        if (r < 0) {
                engine_unlock_exclusive(e);
                return r;
        }
        r = check_images(e, repair, &rep, err);
        if (r >= 0)
                r = check_layer_rows(e, repair, &rep, err);
        if (r >= 0)
                r = check_dir(e, "layers", repair, &rep, err);
        if (r >= 0)
                r = check_dir(e, "blobs/sha256", repair, &rep, err);
        if (r >= 0)
                r = check_dir(e, "tmp", repair, &rep, err);
        if (r >= 0)
                r = container_check(e, repair, &rep, err);
        engine_gc_exclusive_end(e);
        engine_unlock_exclusive(e);
        if (r < 0) {
                store_report_done(&rep);
                return r;
        }
        *ret = rep;
        return 0;
}

int store_reset(Engine *e, CpodError *err) {
        static const char *const subdirs[] = {"blobs", "blobs/sha256", "layers", "tmp"};
        int r = engine_lock_exclusive(e, err);
        if (r < 0)
                return r;
        db_close(e->db);
        e->db = NULL;

        int fd = openat(e->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                r = cpod_error_errno(err, errno, "open `%s`", e->root);
                safe_close(fd);
                goto out;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, "..") || streq(de->d_name, "lock") ||
                    streq(de->d_name, "gc.lock"))
                        continue;
                int k = rm_rf_at(dirfd(d), de->d_name, 0);
                if (k < 0 && r >= 0)
                        r = cpod_error(err, -k, "remove `%s/%s`: %s", e->root, de->d_name, strerror(-k));
        }
        closedir(d);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(subdirs); i++)
                if (mkdirat(e->root_fd, subdirs[i], 0700) < 0 && errno != EEXIST)
                        r = cpod_error_errno(err, errno, "create directory `%s/%s`", e->root, subdirs[i]);
out:;
        /* The engine needs a database afterwards whatever happened. */
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/cpod.db", e->root) < 0)
                r = r < 0 ? r : oom(err);
        else {
                CpodError dberr = {};
                int k = db_open(path, &e->db, &dberr);
                if (k < 0 && r >= 0) {
                        if (err)
                                *err = dberr;
                        r = k;
                }
        }
        engine_unlock_exclusive(e);
        return r < 0 ? r : 0;
}

static unsigned count_dir_entries(Engine *e, const char *dir) {
        int fd = openat(e->root_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return 0;
        }
        unsigned n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                n += de->d_name[0] != '.';
        closedir(d);
        return n;
}

int store_usage(Engine *e, StoreUsage *ret, CpodError *err) {
        sqlite3_stmt *st = NULL;
        int r = db_prepare(e->db,
                           "SELECT (SELECT count(*) FROM images), (SELECT count(*) FROM layers),"
                           " (SELECT coalesce(sum(size), 0) FROM layers),"
                           " (SELECT coalesce(sum(size), 0) FROM layers"
                           "   WHERE id IN (SELECT layer_id FROM image_layers))",
                           &st, err);
        if (r < 0)
                return r;
        int rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
                r = cpod_error(err, -db_errno(rc), "read store usage: %s", sqlite3_errmsg(e->db));
                sqlite3_finalize(st);
                return r;
        }
        StoreUsage u = {
                .images = (unsigned)sqlite3_column_int64(st, 0),
                .layers = (unsigned)sqlite3_column_int64(st, 1),
                .layers_size = (uint64_t)sqlite3_column_int64(st, 2),
                .images_size = (uint64_t)sqlite3_column_int64(st, 3),
        };
        sqlite3_finalize(st);
        /* No container uses an image yet, so all of it could be reclaimed. */
        u.images_reclaimable = u.images_size;
        u.volumes = count_dir_entries(e, "volumes");
        *ret = u;
        return 0;
}
