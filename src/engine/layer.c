/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The layer store. A layer is extracted into <root>/tmp/layer-XXXXXX/diff,
 * synced, and renamed to <root>/layers/<chain id> in one step, so a layer
 * directory that exists is always complete; its database row is written only
 * after the rename is synced too (a directory without a row is a leftover
 * `cpod system check` removes, or the next store of the same layer adopts).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "engine-internal.h"
#include "layer.h"
#include "util.h"

void layer_chain_id(const char *parent_hex, const char *diff_id, char ret_hex[65]) {
        char buf[2 * DIGEST_MAX + 8], d[DIGEST_MAX];

        if (!parent_hex) {
                const char *hex = digest_hex(diff_id);
                snprintf(ret_hex, 65, "%s", hex ? hex : "");
                return;
        }
        snprintf(buf, sizeof(buf), "sha256:%s %s", parent_hex, diff_id);
        sha256_digest(buf, strlen(buf), d);
        memcpy(ret_hex, d + 7, 64);
        ret_hex[64] = 0;
}

static bool layer_id_valid(const char *id) {
        if (!id || strlen(id) != 64)
                return false;
        for (const char *p = id; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

int layer_diff_path(Engine *e, const char *id, char **ret) {
        char *p;

        if (!layer_id_valid(id))
                return -EINVAL;
        if (asprintf(&p, "%s/layers/%s/diff", e->root, id) < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

static int layer_row_exists(Engine *e, const char *id, CpodError *err) {
        sqlite3_stmt *st = NULL;
        int r = db_prepare(e->db, "SELECT 1 FROM layers WHERE id = ?", &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        sqlite3_finalize(st);
        if (r == SQLITE_ROW)
                return 1;
        if (r == SQLITE_DONE)
                return 0;
        return cpod_error(err, -db_errno(r), "look up layer %s: %s", id, sqlite3_errstr(r));
}

static bool layer_dir_exists(Engine *e, const char *id) {
        char path[128];
        struct stat st;
        snprintf(path, sizeof(path), "layers/%s/diff", id);
        return fstatat(e->root_fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

int layer_record(Engine *e, const char *parent, const LayerInfo *info, CpodError *err) {
        sqlite3_stmt *st = NULL;
        int r = db_prepare(e->db,
                           "INSERT OR IGNORE INTO layers(id, parent, diff_id, compressed_digest, size) "
                           "VALUES (?, ?, ?, ?, ?)",
                           &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, info->id, -1, SQLITE_STATIC);
        if (parent)
                sqlite3_bind_text(st, 2, parent, -1, SQLITE_STATIC);
        else
                sqlite3_bind_null(st, 2);
        sqlite3_bind_text(st, 3, info->diff_id, -1, SQLITE_STATIC);
        if (info->compressed_digest[0])
                sqlite3_bind_text(st, 4, info->compressed_digest, -1, SQLITE_STATIC);
        else
                sqlite3_bind_null(st, 4);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)info->size);
        r = sqlite3_step(st);
        sqlite3_finalize(st);
        if (r != SQLITE_DONE)
                return cpod_error(err, -db_errno(r), "record layer %s: %s", info->id, sqlite3_errstr(r));
        return 0;
}

static int layer_insert_row(Engine *e, const char *parent, const LayerInfo *info, CpodError *err) {
        int r = db_begin_write(e->db, err);
        if (r < 0)
                return r;
        r = layer_record(e, parent, info, err);
        if (r < 0) {
                db_rollback(e->db);
                return r;
        }
        return db_commit(e->db, err);
}

int layer_sync_names(Engine *e, CpodError *err) {
        _cleanup_close_ int fd = openat(e->root_fd, "layers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0)
                return cpod_error_errno(err, errno, "sync `%s/layers`", e->root);
        return 0;
}

/* Extract into a fresh staging directory; returns its path (malloc'ed). */
static int layer_stage(Engine *e, int fd, const char *expected_compressed, const char *expected_diff_id,
                       unsigned flags, LayerInfo *info, char **ret_stage, CpodError *err) {
        _cleanup_free_ char *stage = NULL;
        _cleanup_close_ int stage_fd = -1, diff_fd = -1;
        int r;

        if (mkdirat(e->root_fd, "tmp", 0700) < 0 && errno != EEXIST)
                return cpod_error_errno(err, errno, "create `%s/tmp`", e->root);
        if (asprintf(&stage, "%s/tmp/layer-XXXXXX", e->root) < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        if (!mkdtemp(stage))
                return cpod_error_errno(err, errno, "create staging directory in `%s/tmp`", e->root);
        stage_fd = open(stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (stage_fd < 0 || mkdirat(stage_fd, "diff", 0755) < 0) {
                r = cpod_error_errno(err, errno, "create `%s/diff`", stage);
                goto fail;
        }
        diff_fd = openat(stage_fd, "diff", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (diff_fd < 0) {
                r = cpod_error_errno(err, errno, "open `%s/diff`", stage);
                goto fail;
        }
        r = layer_extract_verify_flags(fd, diff_fd, expected_compressed, expected_diff_id, flags, info, err);
        if (r < 0)
                goto fail;
        /* the rename that publishes the layer must not land before its files do */
        if (!(flags & LAYER_NO_SYNC) && syncfs(diff_fd) < 0) {
                r = cpod_error_errno(err, errno, "sync `%s`", stage);
                goto fail;
        }
        *ret_stage = TAKE_PTR(stage);
        return 0;
fail:
        layer_rm_rf_at(AT_FDCWD, stage);
        return r;
}

struct LayerStaged {
        char *stage;
        LayerInfo info;
        bool synced; /* its files are on disk */
};

int layer_stage_new(Engine *e, int fd, const char *expected_compressed, const char *expected_diff_id,
                    unsigned flags, LayerStaged **ret, CpodError *err) {
        LayerStaged *s = calloc(1, sizeof(*s));
        if (!s)
                return cpod_error(err, ENOMEM, "out of memory");
        if (expected_diff_id && !digest_valid(expected_diff_id)) {
                free(s);
                return cpod_error(err, EINVAL, "invalid diff_id `%s`", expected_diff_id);
        }
        int r = layer_stage(e, fd, expected_compressed, expected_diff_id, flags, &s->info, &s->stage, err);
        if (r < 0) {
                free(s);
                return r;
        }
        s->synced = !(flags & LAYER_NO_SYNC);
        *ret = s;
        return 0;
}

int layer_staged_sync(Engine *e, LayerStaged *const *staged, size_t n, CpodError *err) {
        bool needed = false;
        for (size_t i = 0; i < n; i++)
                needed |= staged[i] && staged[i]->stage && !staged[i]->synced;
        if (!needed)
                return 0;
        /* one flush for all of them (and whatever else the store wrote meanwhile); root_fd is an O_PATH
         * descriptor, which syncfs does not take */
        _cleanup_close_ int fd = openat(e->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || syncfs(fd) < 0)
                return cpod_error_errno(err, errno, "sync `%s`", e->root);
        for (size_t i = 0; i < n; i++)
                if (staged[i])
                        staged[i]->synced = true;
        return 1;
}

const char *layer_staged_diff_id(const LayerStaged *s) {
        return s && s->stage ? s->info.diff_id : NULL;
}

void layer_staged_free(LayerStaged *s) {
        if (!s)
                return;
        if (s->stage)
                layer_rm_rf_at(AT_FDCWD, s->stage);
        free(s->stage);
        free(s);
}

int layer_stage_rename(Engine *e, LayerStaged *s, const char *parent, LayerInfo *ret, CpodError *err) {
        _cleanup_free_ char *dest = NULL;
        LayerInfo info = s->info;
        int r;

        if (!s->stage)
                return cpod_error(err, EALREADY, "staged layer %s was published already", info.diff_id);
        if (parent && !layer_id_valid(parent))
                return cpod_error(err, EINVAL, "invalid parent layer id `%s`", parent);
        layer_chain_id(parent, info.diff_id, info.id);
        if (mkdirat(e->root_fd, "layers", 0700) < 0 && errno != EEXIST)
                return cpod_error_errno(err, errno, "create `%s/layers`", e->root);
        if (asprintf(&dest, "%s/layers/%s", e->root, info.id) < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        r = layer_staged_sync(e, &s, 1, err);
        if (r < 0)
                return r;
        if (rename(s->stage, dest) < 0) {
                /* another process stored the same layer first: theirs is as good as ours */
                if ((errno != EEXIST && errno != ENOTEMPTY) || !layer_dir_exists(e, info.id))
                        return cpod_error_errno(err, errno, "rename `%s` to `%s`", s->stage, dest);
        } else {
                free(s->stage);
                s->stage = NULL;
        }
        if (ret)
                *ret = info;
        return 0;
}

int layer_stage_publish(Engine *e, LayerStaged *s, const char *parent, LayerInfo *ret, CpodError *err) {
        LayerInfo info;
        int r = layer_stage_rename(e, s, parent, &info, err);
        /* the row must not outlive a power loss that the rename does not */
        if (r >= 0)
                r = layer_sync_names(e, err);
        if (r >= 0)
                r = layer_insert_row(e, parent, &info, err);
        if (r >= 0 && ret)
                *ret = info;
        return r < 0 ? r : 0;
}

int layer_store(Engine *e, int fd, const char *parent, const char *expected_compressed,
                const char *expected_diff_id, LayerInfo *ret, CpodError *err) {
        LayerStaged *s = NULL;
        LayerInfo info = {};
        int r;

        if (parent && !layer_id_valid(parent))
                return cpod_error(err, EINVAL, "invalid parent layer id `%s`", parent);
        if (expected_diff_id && !digest_valid(expected_diff_id))
                return cpod_error(err, EINVAL, "invalid diff_id `%s`", expected_diff_id);

        /* Known layer: verify the stream, extract nothing. */
        if (expected_diff_id) {
                layer_chain_id(parent, expected_diff_id, info.id);
                r = layer_row_exists(e, info.id, err);
                if (r < 0)
                        return r;
                if (r > 0 && layer_dir_exists(e, info.id)) {
                        char id[65];
                        memcpy(id, info.id, sizeof(id));
                        r = layer_extract_verify(fd, -1, expected_compressed, expected_diff_id, &info, err);
                        if (r < 0)
                                return r;
                        memcpy(info.id, id, sizeof(id));
                        if (ret)
                                *ret = info;
                        return 0;
                }
        }

        r = layer_stage_new(e, fd, expected_compressed, expected_diff_id, 0, &s, err);
        if (r < 0)
                return r;
        r = layer_stage_publish(e, s, parent, ret, err);
        layer_staged_free(s);
        return r;
}

static int layer_count_users(Engine *e, const char *id, CpodError *err) {
        sqlite3_stmt *st = NULL;
        int r = db_prepare(e->db,
                           "SELECT (SELECT count(*) FROM image_layers WHERE layer_id = ?1) + "
                           "(SELECT count(*) FROM layers WHERE parent = ?1)",
                           &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        r = sqlite3_step(st);
        int n = r == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
        sqlite3_finalize(st);
        if (n < 0)
                return cpod_error(err, -db_errno(r), "look up users of layer %s: %s", id, sqlite3_errstr(r));
        return n;
}

int layer_remove(Engine *e, const char *id, CpodError *err) {
        _cleanup_free_ char *src = NULL, *trash = NULL;
        sqlite3_stmt *st = NULL;
        int r;

        if (!layer_id_valid(id))
                return cpod_error(err, EINVAL, "invalid layer id `%s`", id ? id : "");
        r = db_begin_write(e->db, err);
        if (r < 0)
                return r;
        r = layer_count_users(e, id, err);
        if (r > 0)
                r = cpod_error(err, EBUSY, "layer %s is in use", id);
        if (r >= 0)
                r = db_prepare(e->db, "DELETE FROM layers WHERE id = ?", &st, err);
        if (r >= 0) {
                sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
                int k = sqlite3_step(st);
                sqlite3_finalize(st);
                if (k != SQLITE_DONE)
                        r = cpod_error(err, -db_errno(k), "remove layer %s: %s", id, sqlite3_errstr(k));
        }
        if (r < 0) {
                db_rollback(e->db);
                return r;
        }
        /* move the files aside first so a crash leaves no half-removed layer under layers/ */
        if (asprintf(&src, "%s/layers/%s", e->root, id) < 0 ||
            asprintf(&trash, "%s/tmp/removing-%s", e->root, id) < 0) {
                db_rollback(e->db);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        (void)mkdirat(e->root_fd, "tmp", 0700);
        layer_rm_rf_at(AT_FDCWD, trash);
        if (rename(src, trash) < 0 && errno != ENOENT) {
                r = cpod_error_errno(err, errno, "remove layer directory `%s`", src);
                db_rollback(e->db);
                return r;
        }
        r = db_commit(e->db, err);
        if (r < 0) {
                (void)rename(trash, src);
                return r;
        }
        r = layer_rm_rf_at(AT_FDCWD, trash);
        if (r < 0)
                return cpod_error_errno(err, -r, "remove `%s`", trash);
        return 0;
}
