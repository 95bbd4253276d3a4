/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Images in the database: listing, reference resolution, names, removal
 * and recording new images.
 *
 * Names are tags ("docker.io/library/busybox:latest"). Repo digests
 * ("docker.io/library/busybox@sha256:…") follow the names as podman's do:
 * an image has one for each repository it has a name in (plus those it was
 * pulled by), and loses it when its last name in that repository goes.
 *
 * Files are removed only after the rows that named them are committed, and
 * only while holding the write lock after checking nothing names them any
 * more; rows are committed only after every file they name is complete. A
 * crash in between leaves unreferenced files, which store_check removes.
 */

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "blob.h"
#include "container.h"
#include "db.h"
#include "engine-internal.h"
#include "image.h"
#include "layer.h"
#include "manifest.h"
#include "reference.h"
#include "registries.h"
#include "util.h"

#define CONFIG_MAX_SIZE (16u * 1024u * 1024u)
#define COMMIT_ATTEMPTS 3

/* One statement for the list and for single images: names, digests and
 * layers come aggregated, so listing N images is one indexed pass. Layers
 * carry their index because group_concat's order is unspecified. */
#define IMAGE_SELECT                                                                                  \
        "SELECT i.id, i.manifest_digest, i.created, i.size,"                                          \
        " (SELECT group_concat(name, ' ') FROM image_names WHERE image_id = i.id),"                   \
        " (SELECT group_concat(name || '@' || digest, ' ') FROM image_digests"                        \
        "   WHERE image_id = i.id),"                                                                  \
        " (SELECT group_concat(idx || ':' || layer_id, ' ') FROM image_layers WHERE image_id = i.id)" \
        " FROM images i"

static void strv_free(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

void image_done(Image *img) {
        if (!img)
                return;
        strv_free(img->names, img->n_names);
        strv_free(img->digests, img->n_digests);
        strv_free(img->layers, img->n_layers);
        *img = (Image){};
}

void image_array_free(Image *imgs, size_t n) {
        for (size_t i = 0; imgs && i < n; i++)
                image_done(&imgs[i]);
        free(imgs);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Split a space-separated list (NULL: empty). */
static int strv_split(const char *s, char ***ret, size_t *ret_n) {
        size_t n = 0, i = 0;
        if (!s || !*s) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        for (const char *p = s; *p; p++)
                n += *p == ' ';
        n++;
        char **v = calloc(n, sizeof *v);
        if (!v)
                return -ENOMEM;
        for (const char *p = s; i < n; i++) {
                const char *end = strchrnul(p, ' ');
                if (!(v[i] = strndup(p, (size_t)(end - p)))) {
                        strv_free(v, i);
                        return -ENOMEM;
                }
                p = *end ? end + 1 : end;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* "idx:chainid ..." into layers in index order. */
static int layers_split(const char *s, Image *img) {
        char **tok = NULL;
        size_t n = 0;
        int r = strv_split(s, &tok, &n);
        if (r < 0)
                return r;
        img->layers = n ? calloc(n, sizeof(char *)) : NULL;
        if (n && !img->layers) {
                strv_free(tok, n);
                return -ENOMEM;
        }
        img->n_layers = n;
        for (size_t i = 0; i < n && r >= 0; i++) {
                char *end = NULL;
                unsigned long idx = strtoul(tok[i], &end, 10);
                if (*end != ':' || idx >= n || img->layers[idx])
                        r = -EUCLEAN;
                else if (!(img->layers[idx] = strdup(end + 1)))
                        r = -ENOMEM;
        }
        strv_free(tok, n);
        return r;
}

static int image_from_stmt(sqlite3_stmt *st, Image *ret) {
        Image img = {};
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *md = (const char *)sqlite3_column_text(st, 1);
        int r;

        if (!id || strlen(id) != 64 || !md || strlen(md) >= DIGEST_MAX)
                return -EUCLEAN;
        memcpy(img.id, id, 65);
        strcpy(img.manifest_digest, md);
        img.created = sqlite3_column_int64(st, 2);
        img.size = (uint64_t)sqlite3_column_int64(st, 3);
        r = strv_split((const char *)sqlite3_column_text(st, 4), &img.names, &img.n_names);
        if (r >= 0)
                r = strv_split((const char *)sqlite3_column_text(st, 5), &img.digests, &img.n_digests);
        if (r >= 0)
                r = layers_split((const char *)sqlite3_column_text(st, 6), &img);
        if (r < 0) {
                image_done(&img);
                return r;
        }
        if (img.n_names > 1)
                qsort(img.names, img.n_names, sizeof(char *), cmp_str);
        if (img.n_digests > 1)
                qsort(img.digests, img.n_digests, sizeof(char *), cmp_str);
        *ret = img;
        return 0;
}

static int row_error(int r, CpodError *err) {
        if (r == -EUCLEAN)
                return cpod_error(err, EUCLEAN,
                                  "database: an image row is corrupt; run `cpod system check`");
        return cpod_error(err, -r, "read an image: %s", strerror(-r));
}

/* ---- listing ----
 *
 * Three flat queries (images, then names and repo digests, then layers)
 * merged here by image ID: per-image subqueries cost a statement step each
 * and made listing N images N times the work of one. */

/* Append a copy of s to v (n entries); the capacity is the next power of two of n. */
static int strv_append(char ***v, size_t *n, const char *s, size_t len) {
        if ((*n & (*n - 1)) == 0) {
                char **nv = realloc(*v, (*n ? *n * 2 : 1) * sizeof(char *));
                if (!nv)
                        return -ENOMEM;
                *v = nv;
        }
        char *copy = strndup(s, len);
        if (!copy)
                return -ENOMEM;
        (*v)[(*n)++] = copy;
        return 0;
}

/* Put layer s at index idx of img's layers (rows come in any order); the capacity is the next power of
 * two of n_layers, holes are NULL until filled. */
static int layer_place(Image *img, int64_t idx, const char *s, size_t len) {
        if (idx < 0 || idx >= MANIFEST_MAX_LAYERS)
                return -EUCLEAN;
        size_t i = (size_t)idx, cap = 1;
        while (cap < img->n_layers)
                cap *= 2;
        if (!img->layers || i >= cap) {
                size_t ncap = img->layers ? cap : 1;
                while (ncap <= i)
                        ncap *= 2;
                char **nv = realloc(img->layers, ncap * sizeof(char *));
                if (!nv)
                        return -ENOMEM;
                size_t old = img->layers ? cap : 0;
                memset(nv + old, 0, (ncap - old) * sizeof(char *));
                img->layers = nv;
        }
        if (img->layers[i])
                return -EUCLEAN;
        if (!(img->layers[i] = strndup(s, len)))
                return -ENOMEM;
        img->n_layers = MAX(img->n_layers, i + 1);
        return 0;
}

/* Images by ID for the merges: open addressing on the ID's leading hex digits
 * (IDs are digests, so those are uniformly spread). */
typedef struct IdIndex {
        Image **slots;
        size_t mask;
} IdIndex;

static uint64_t id_key(const char *id) {
        uint64_t k = 0;
        for (size_t i = 0; i < 16 && id[i]; i++)
                k = k << 4 | (uint64_t)((id[i] & 0xf) + (id[i] >> 6) * 9);
        return k;
}

static int id_index_build(IdIndex *x, Image *v, size_t n) {
        size_t size = 16;
        while (size < 2 * n)
                size *= 2;
        if (!(x->slots = calloc(size, sizeof *x->slots)))
                return -ENOMEM;
        x->mask = size - 1;
        for (size_t i = 0; i < n; i++) {
                size_t k = id_key(v[i].id) & x->mask;
                while (x->slots[k])
                        k = (k + 1) & x->mask;
                x->slots[k] = &v[i];
        }
        return 0;
}

static Image *id_index_find(const IdIndex *x, const char *id) {
        for (size_t k = id_key(id) & x->mask; x->slots[k]; k = (k + 1) & x->mask)
                if (streq(x->slots[k]->id, id))
                        return x->slots[k];
        return NULL;
}

static int list_rows(Engine *e, Image **v, size_t *ret_n, CpodError *err) {
        sqlite3_stmt *st = NULL;
        size_t n = 0, cap = 0;
        int rc, r = db_prepare(e->db,
                               "SELECT id, manifest_digest, created, size FROM images"
                               " ORDER BY created DESC, added DESC, id",
                               &st, err);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *id = (const char *)sqlite3_column_text(st, 0);
                const char *md = (const char *)sqlite3_column_text(st, 1);
                if (!id || sqlite3_column_bytes(st, 0) != 64 || !md ||
                    sqlite3_column_bytes(st, 1) >= DIGEST_MAX) {
                        r = row_error(-EUCLEAN, err);
                        break;
                }
                if (VL_GROW(*v, cap, n + 1) < 0) {
                        r = cpod_error(err, ENOMEM, "out of memory");
                        break;
                }
                Image *img = &(*v)[n++];
                *img = (Image){.created = sqlite3_column_int64(st, 2),
                               .size = (uint64_t)sqlite3_column_int64(st, 3)};
                memcpy(img->id, id, 65);
                memcpy(img->manifest_digest, md, (size_t)sqlite3_column_bytes(st, 1) + 1);
        }
        if (r >= 0 && rc != SQLITE_DONE)
                r = cpod_error(err, -db_errno(rc), "list images: %s", sqlite3_errmsg(e->db));
        sqlite3_finalize(st);
        *ret_n = n;
        return r;
}

typedef enum ListColumn {
        LIST_NAMES,
        LIST_DIGESTS,
        LIST_LAYERS,
} ListColumn;

/* Rows (image_id, text[, idx]) of sql added to the images they belong to;
 * rows of images not listed are skipped. Layers go to their index. */
static int list_merge(Engine *e, const IdIndex *x, const char *sql, ListColumn col, CpodError *err) {
        sqlite3_stmt *st = NULL;
        Image *img = NULL;
        int rc, r = db_prepare(e->db, sql, &st, err);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *id = (const char *)sqlite3_column_text(st, 0);
                const char *s = (const char *)sqlite3_column_text(st, 1);
                if (!id || !s)
                        continue;
                if (!img || !streq(img->id, id))
                        img = id_index_find(x, id);
                if (!img)
                        continue;
                size_t len = (size_t)sqlite3_column_bytes(st, 1);
                if (col == LIST_NAMES)
                        r = strv_append(&img->names, &img->n_names, s, len);
                else if (col == LIST_DIGESTS)
                        r = strv_append(&img->digests, &img->n_digests, s, len);
                else
                        r = layer_place(img, sqlite3_column_int64(st, 2), s, len);
                if (r < 0) {
                        row_error(r, err);
                        break;
                }
        }
        if (r >= 0 && rc != SQLITE_DONE)
                r = cpod_error(err, -db_errno(rc), "list images: %s", sqlite3_errmsg(e->db));
        sqlite3_finalize(st);
        return r;
}

static int list_all(Engine *e, Image **v, size_t *n, CpodError *err) {
        IdIndex x = {};
        int r = list_rows(e, v, n, err);
        if (r < 0 || *n == 0)
                return r;
        if (id_index_build(&x, *v, *n) < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        r = list_merge(e, &x, "SELECT image_id, name FROM image_names", LIST_NAMES, err);
        if (r >= 0)
                r = list_merge(e, &x, "SELECT image_id, name || '@' || digest FROM image_digests",
                               LIST_DIGESTS, err);
        if (r >= 0)
                r = list_merge(e, &x, "SELECT image_id, layer_id, idx FROM image_layers", LIST_LAYERS, err);
        free(x.slots);
        /* Every index from 0 up must have come. */
        for (size_t i = 0; r >= 0 && i < *n; i++)
                for (size_t k = 0; k < (*v)[i].n_layers; k++)
                        if (!(*v)[i].layers[k]) {
                                r = row_error(-EUCLEAN, err);
                                break;
                        }
        return r;
}

int image_list(Engine *e, Image **ret, size_t *ret_n, CpodError *err) {
        Image *v = NULL;
        size_t n = 0;
        /* One snapshot: the rows merged must be those of one moment. */
        int r = db_begin_read(e->db, err);
        if (r < 0)
                return r;
        r = list_all(e, &v, &n, err);
        db_rollback(e->db);
        if (r < 0) {
                image_array_free(v, n);
                return r;
        }
        for (size_t i = 0; i < n; i++) {
                if (v[i].n_names > 1)
                        qsort(v[i].names, v[i].n_names, sizeof(char *), cmp_str);
                if (v[i].n_digests > 1)
                        qsort(v[i].digests, v[i].n_digests, sizeof(char *), cmp_str);
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int image_layer_sizes(Engine *e, const Image *img, uint64_t *ret_sizes, CpodError *err) {
        sqlite3_stmt *st = NULL;
        int r = db_prepare(e->db, "SELECT size FROM layers WHERE id = ?1", &st, err);
        if (r < 0)
                return r;
        for (size_t i = 0; r >= 0 && i < img->n_layers; i++) {
                sqlite3_reset(st);
                sqlite3_bind_text(st, 1, img->layers[i], -1, SQLITE_STATIC);
                int rc = sqlite3_step(st);
                if (rc == SQLITE_ROW)
                        ret_sizes[i] = (uint64_t)sqlite3_column_int64(st, 0);
                else if (rc == SQLITE_DONE)
                        r = cpod_error(err, ENOENT, "image %s: layer %s is not known", img->id,
                                       img->layers[i]);
                else
                        r = cpod_error(err, -db_errno(rc), "look up layer %s: %s", img->layers[i],
                                       sqlite3_errmsg(e->db));
        }
        sqlite3_finalize(st);
        return r < 0 ? r : 0;
}

static int image_load_row(Engine *e, const char *id, Image *ret, CpodError *err) {
        sqlite3_stmt *st = NULL;
        int r = db_prepare_cached(e->db, IMAGE_SELECT " WHERE i.id = ?1", &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                r = image_from_stmt(st, ret);
                if (r < 0)
                        row_error(r, err);
        } else if (rc == SQLITE_DONE)
                r = cpod_error(err, ENOENT, "%s: image not known", id);
        else
                r = cpod_error(err, -db_errno(rc), "read image %s: %s", id, sqlite3_errmsg(e->db));
        db_finish(st);
        return r;
}

/* ---- reference resolution ---- */

typedef struct Resolved {
        char id[65];
        char *name; /* the name the reference matched, NULL when by ID or digest */
        bool by_id;
} Resolved;

static void resolved_done(Resolved *r) {
        free(r->name);
        *r = (Resolved){};
}

/* Run a lookup whose first column is an image ID and, when ret_name is
 * given, whose second is the matched name. 1 found, 0 not found. */
static int lookup(Engine *e, const char *sql, const char *p1, const char *p2, Resolved *ret, bool want_name,
                  CpodError *err) {
        sqlite3_stmt *st = NULL;
        int r = db_prepare_cached(e->db, sql, &st, err);
        if (r < 0)
                return r;
        r = db_bind_texts(e->db, st, (const char *const[]){p1, p2}, p2 ? 2 : 1, err);
        if (r < 0)
                goto out;
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
                r = 0;
                goto out;
        }
        if (rc != SQLITE_ROW) {
                r = cpod_error(err, -db_errno(rc), "look up an image: %s", sqlite3_errmsg(e->db));
                goto out;
        }
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *name = want_name ? (const char *)sqlite3_column_text(st, 1) : NULL;
        if (!id || strlen(id) != 64) {
                r = row_error(-EUCLEAN, err);
                goto out;
        }
        char *copy = name ? strdup(name) : NULL;
        if (name && !copy) {
                r = cpod_error(err, ENOMEM, "out of memory");
                goto out;
        }
        memcpy(ret->id, id, 65);
        free(ret->name);
        ret->name = copy;
        r = 1;
out:
        db_finish(st);
        return r;
}

/* A normalized full reference: by name, or by repository and digest. */
static int lookup_reference(Engine *e, const Reference *ref, Resolved *ret, CpodError *err) {
        if (ref->digest) {
                _cleanup_free_ char *repo = reference_repository(ref);
                if (!repo)
                        return cpod_error(err, ENOMEM, "out of memory");
                return lookup(e, "SELECT image_id FROM image_digests WHERE name = ?1 AND digest = ?2", repo,
                              ref->digest, ret, false, err);
        }
        _cleanup_free_ char *name = reference_string(ref);
        if (!name)
                return cpod_error(err, ENOMEM, "out of memory");
        return lookup(e, "SELECT image_id, name FROM image_names WHERE name = ?1", name, NULL, ret, true,
                      err);
}

/* The short reference r qualified with repository prefix repo ("docker.io",
 * or an alias "docker.io/library/busybox" when path is NULL). */
static int lookup_qualified(Engine *e, const char *repo, const char *path, const Reference *r, Resolved *ret,
                            CpodError *err) {
        _cleanup_free_ char *s = NULL;
        Reference q = {};

        if (asprintf(&s, "%s%s%s%s%s%s%s", repo, path ? "/" : "", path ? path : "", r->tag ? ":" : "",
                     r->tag ? r->tag : "", r->digest ? "@" : "", r->digest ? r->digest : "") < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        /* A candidate that is no valid reference (an odd registries.conf entry) matches nothing. */
        if (reference_parse(s, &q, NULL) < 0)
                return 0;
        int r2 = reference_normalize(&q, NULL);
        if (r2 >= 0)
                r2 = lookup_reference(e, &q, ret, err);
        else
                r2 = 0;
        reference_done(&q);
        return r2;
}

/* Any name whose repository ends in "/<path>" (podman matches "busybox" to
 * "docker.io/library/busybox:latest"); the newest image wins. */
static int lookup_suffix(Engine *e, const Reference *r, Resolved *ret, CpodError *err) {
        _cleanup_free_ char *suffix = NULL;

        if (r->digest) {
                if (asprintf(&suffix, "/%s", r->path) < 0)
                        return cpod_error(err, ENOMEM, "out of memory");
                return lookup(e,
                              "SELECT d.image_id FROM image_digests d JOIN images i ON i.id = d.image_id"
                              " WHERE d.digest = ?2 AND substr(d.name, -length(?1)) = ?1"
                              " ORDER BY i.created DESC, d.name LIMIT 1",
                              suffix, r->digest, ret, false, err);
        }
        if (asprintf(&suffix, "/%s:%s", r->path, r->tag ? r->tag : "latest") < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        return lookup(e,
                      "SELECT n.image_id, n.name FROM image_names n JOIN images i ON i.id = n.image_id"
                      " WHERE substr(n.name, -length(?1)) = ?1 ORDER BY i.created DESC, n.name LIMIT 1",
                      suffix, NULL, ret, true, err);
}

/* Short names, in podman's order: the alias, localhost, the unqualified
 * search registries, then any repository ending in the short name. */
static int lookup_short(Engine *e, const Reference *r, Resolved *ret, CpodError *err) {
        Registries regs = {};
        int k = registries_load(e->registries_conf, &regs, err);
        if (k < 0)
                return k;

        const char *alias = registries_alias(&regs, r->path);
        if (alias && !strchr(strrchr(alias, '/') ? strrchr(alias, '/') : alias, ':') && !strchr(alias, '@'))
                k = lookup_qualified(e, alias, NULL, r, ret, err);
        if (k == 0)
                k = lookup_qualified(e, "localhost", r->path, r, ret, err);
        for (size_t i = 0; k == 0 && i < regs.n_search; i++)
                k = lookup_qualified(e, regs.search[i], r->path, r, ret, err);
        if (k == 0)
                k = lookup_suffix(e, r, ret, err);
        registries_done(&regs);
        return k;
}

/* An ID or a unique prefix of one (3..64 hex digits, "sha256:" allowed). */
static int lookup_id(Engine *e, const char *ref, Resolved *ret, CpodError *err) {
        const char *hex = startswith(ref, "sha256:");
        char lo[65], hi[66];
        size_t n;

        hex = hex ? hex : ref;
        n = strlen(hex);
        if (n < 3 || n > 64 || strspn(hex, "0123456789abcdefABCDEF") != n)
                return 0;
        for (size_t i = 0; i <= n; i++)
                lo[i] = (char)(hex[i] >= 'A' && hex[i] <= 'F' ? hex[i] - 'A' + 'a' : hex[i]);
        /* Every ID with the prefix sorts in [prefix, prefix + "g"). */
        memcpy(hi, lo, n);
        memcpy(hi + n, "g", 2);

        sqlite3_stmt *st = NULL;
        int r = db_prepare(e->db, "SELECT id FROM images WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 2",
                           &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, lo, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
        int rc, rows = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *id = (const char *)sqlite3_column_text(st, 0);
                if (rows++ == 0 && id && strlen(id) == 64)
                        memcpy(ret->id, id, 65);
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
                return cpod_error(err, -db_errno(rc), "look up image %s: %s", ref, sqlite3_errmsg(e->db));
        if (rows > 1)
                return cpod_error(err, ENOTUNIQ, "image ID prefix %s is ambiguous", ref);
        if (rows == 1)
                ret->by_id = true;
        return rows;
}

/* Resolve ref to an image ID; runs inside the caller's transaction. */
static int image_resolve(Engine *e, const char *ref, Resolved *ret, CpodError *err) {
        Resolved res = {};
        Reference r = {};
        CpodError perr = {};
        int k = 0;

        if (!ref || !*ref)
                return cpod_error(err, EINVAL, "empty image reference");
        if (!startswith(ref, "sha256:")) {
                int p = reference_parse(ref, &r, &perr);
                if (p < 0 && !reference_is_id_prefix(ref)) {
                        if (err)
                                *err = perr;
                        return p;
                }
                if (p >= 0) {
                        if (reference_is_short(&r))
                                k = lookup_short(e, &r, &res, err);
                        else if ((k = reference_normalize(&r, NULL)) >= 0)
                                k = lookup_reference(e, &r, &res, err);
                        else
                                k = cpod_error(err, -k, "%s: invalid reference", ref);
                        reference_done(&r);
                }
        }
        if (k == 0)
                k = lookup_id(e, ref, &res, err);
        if (k == 0)
                k = cpod_error(err, ENOENT, "%s: image not known", ref);
        if (k < 0) {
                resolved_done(&res);
                return k;
        }
        *ret = res;
        return 0;
}

int image_get(Engine *e, const char *ref, Image *ret, CpodError *err) {
        Resolved res = {};
        int r = db_begin_read(e->db, err);
        if (r < 0)
                return r;
        r = image_resolve(e, ref, &res, err);
        if (r >= 0)
                r = image_load_row(e, res.id, ret, err);
        db_rollback(e->db);
        resolved_done(&res);
        return r < 0 ? r : 0;
}

int image_read_manifest(Engine *e, const Image *img, char **ret, CpodError *err) {
        return blob_read(e, img->manifest_digest, MANIFEST_MAX_SIZE, ret, NULL, err);
}

int image_read_config(Engine *e, const Image *img, char **ret, CpodError *err) {
        char digest[DIGEST_MAX];
        snprintf(digest, sizeof digest, "sha256:%s", img->id);
        return blob_read(e, digest, CONFIG_MAX_SIZE, ret, NULL, err);
}

/* ---- names ---- */

/* A name to store: normalized, a short name under localhost/ (podman's
 * rule for names it makes up). With ret_digest, a name may carry a digest
 * (a pull by digest); otherwise a digest is refused. */
static int name_normalize(const char *s, char **ret_name, char **ret_digest, CpodError *err) {
        Reference r = {};
        int k = reference_parse(s, &r, err);
        if (k < 0)
                return k;
        if (r.digest && !ret_digest) {
                reference_done(&r);
                return cpod_error(err, EINVAL, "%s: a tag cannot contain a digest", s);
        }
        k = reference_normalize(&r, reference_is_short(&r) ? "localhost" : NULL);
        if (k < 0) {
                reference_done(&r);
                return cpod_error(err, -k, "%s: invalid reference", s);
        }
        _cleanup_free_ char *digest = NULL, *name = NULL;
        if (r.digest) {
                digest = TAKE_PTR(r.digest);
                /* Only a tag given with the digest makes a name; the digest becomes a repo digest. */
                name = r.tag ? reference_string(&r) : reference_repository(&r);
        } else
                name = reference_string(&r);
        bool tagged = r.tag != NULL;
        reference_done(&r);
        if (!name)
                return cpod_error(err, ENOMEM, "out of memory");
        if (ret_digest) {
                *ret_digest = TAKE_PTR(digest);
                if (!tagged && *ret_digest) {
                        /* Only the repository: no name. */
                        *ret_name = NULL;
                        free(TAKE_PTR(name));
                        return 0;
                }
        }
        *ret_name = TAKE_PTR(name);
        return 0;
}

/* The repository of a stored name ("a.io:5000/x:tag" → "a.io:5000/x"). */
static char *name_repository(const char *name) {
        const char *slash = strrchr(name, '/');
        const char *colon = strrchr(slash ? slash : name, ':');
        return strndup(name, colon ? (size_t)(colon - name) : strlen(name));
}

static int digest_add(Engine *e, const char *id, const char *repo, const char *digest, CpodError *err) {
        return db_run(e->db,
                      "INSERT OR REPLACE INTO image_digests(name, digest, image_id) VALUES(?1, ?2, ?3)",
                      DB_PARAMS(repo, digest, id), err);
}

/* After name left image id: its repo digest goes too unless another of the
 * image's names is in that repository. */
static int digest_drop_for(Engine *e, const char *id, const char *name, CpodError *err) {
        _cleanup_free_ char *repo = name_repository(name);
        if (!repo)
                return cpod_error(err, ENOMEM, "out of memory");
        return db_run(e->db,
                      "DELETE FROM image_digests WHERE image_id = ?1 AND name = ?2 AND NOT EXISTS"
                      " (SELECT 1 FROM image_names WHERE image_id = ?1 AND substr(name, 1, length(?2) + 1) "
                      "= ?2 || ':'"
                      "  AND instr(substr(name, length(?2) + 2), '/') = 0)",
                      DB_PARAMS(id, repo), err);
}

/* Give name to image id, taking it from whichever image had it. */
static int name_assign(Engine *e, const char *id, const char *name, const char *manifest_digest,
                       CpodError *err) {
        _cleanup_free_ char *old = NULL, *repo = NULL;
        int r = db_get_text(e->db, "SELECT image_id FROM image_names WHERE name = ?1", DB_PARAMS(name), &old,
                            err);
        if (r < 0)
                return r;
        r = db_run(e->db,
                   "INSERT INTO image_names(name, image_id) VALUES(?1, ?2)"
                   " ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id",
                   DB_PARAMS(name, id), err);
        if (r >= 0 && old && !streq(old, id))
                r = digest_drop_for(e, old, name, err);
        if (r < 0)
                return r;
        if (!(repo = name_repository(name)))
                return cpod_error(err, ENOMEM, "out of memory");
        return digest_add(e, id, repo, manifest_digest, err);
}

static int name_drop(Engine *e, const char *id, const char *name, CpodError *err) {
        int r = db_run(e->db, "DELETE FROM image_names WHERE name = ?1 AND image_id = ?2",
                       DB_PARAMS(name, id), err);
        if (r < 0)
                return r;
        if (r == 0)
                return cpod_error(err, ENOENT, "%s: tag not known", name);
        return digest_drop_for(e, id, name, err);
}

static int image_manifest_digest(Engine *e, const char *id, char **ret, CpodError *err) {
        int r = db_get_text(e->db, "SELECT manifest_digest FROM images WHERE id = ?1", DB_PARAMS(id), ret,
                            err);
        if (r == 0)
                return cpod_error(err, ENOENT, "%s: image not known", id);
        return r < 0 ? r : 0;
}

int image_tag(Engine *e, const char *ref, const char *new_name, CpodError *err) {
        _cleanup_free_ char *name = NULL, *md = NULL;
        Resolved res = {};
        int r = name_normalize(new_name, &name, NULL, err);
        if (r < 0)
                return r;
        r = db_begin_write(e->db, err);
        if (r < 0)
                return r;
        r = image_resolve(e, ref, &res, err);
        if (r >= 0)
                r = image_manifest_digest(e, res.id, &md, err);
        if (r >= 0)
                r = name_assign(e, res.id, name, md, err);
        if (r >= 0)
                r = db_commit(e->db, err);
        else
                db_rollback(e->db);
        resolved_done(&res);
        return r < 0 ? r : 0;
}

/* Which of image id's names the user meant by s: the normalized name, or
 * for a short name one of the image's names ending in it. */
static int name_of_image(Engine *e, const char *id, const char *s, char **ret, CpodError *err) {
        _cleanup_free_ char *name = NULL;
        Reference r = {};
        int k = name_normalize(s, &name, NULL, err);
        if (k < 0)
                return k;
        k = db_get_text(e->db, "SELECT name FROM image_names WHERE name = ?1 AND image_id = ?2",
                        DB_PARAMS(name, id), NULL, err);
        if (k < 0)
                return k;
        if (k > 0) {
                *ret = TAKE_PTR(name);
                return 0;
        }
        if (reference_parse(s, &r, NULL) >= 0 && reference_is_short(&r)) {
                _cleanup_free_ char *suffix = NULL;
                if (asprintf(&suffix, "/%s:%s", r.path, r.tag ? r.tag : "latest") < 0)
                        k = cpod_error(err, ENOMEM, "out of memory");
                else
                        k = db_get_text(e->db,
                                        "SELECT name FROM image_names WHERE image_id = ?1"
                                        " AND substr(name, -length(?2)) = ?2 ORDER BY name LIMIT 1",
                                        DB_PARAMS(id, suffix), ret, err);
        }
        reference_done(&r);
        if (k == 0)
                return cpod_error(err, ENOENT, "%s: tag not known", s);
        return k < 0 ? k : 0;
}

int image_untag(Engine *e, const char *ref, const char *name, CpodError *err) {
        _cleanup_free_ char *full = NULL;
        Resolved res = {};
        int r = db_begin_write(e->db, err);
        if (r < 0)
                return r;
        r = image_resolve(e, ref, &res, err);
        if (r >= 0 && name) {
                r = name_of_image(e, res.id, name, &full, err);
                if (r >= 0)
                        r = name_drop(e, res.id, full, err);
        } else if (r >= 0) {
                r = db_run(e->db, "DELETE FROM image_names WHERE image_id = ?1", DB_PARAMS(res.id), err);
                if (r >= 0)
                        r = db_run(e->db, "DELETE FROM image_digests WHERE image_id = ?1", DB_PARAMS(res.id),
                                   err);
        }
        if (r >= 0)
                r = db_commit(e->db, err);
        else
                db_rollback(e->db);
        resolved_done(&res);
        return r < 0 ? r : 0;
}

/* ---- removal ---- */

/* Files an image removal may have freed, examined after the commit. */
typedef struct Garbage {
        char **layers; /* top first */
        size_t n_layers, cap_layers;
        char **blobs;
        size_t n_blobs, cap_blobs;
} Garbage;

static void garbage_done(Garbage *g) {
        strv_free(g->layers, g->n_layers);
        strv_free(g->blobs, g->n_blobs);
        *g = (Garbage){};
}

static int strv_push_query(Engine *e, const char *sql, const char *id, char ***v, size_t *n, size_t *cap,
                           CpodError *err) {
        sqlite3_stmt *st = NULL;
        int rc, r = db_prepare(e->db, sql, &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *t = (const char *)sqlite3_column_text(st, 0);
                char *copy = t ? strdup(t) : NULL;
                if (!copy || VL_GROW(*v, *cap, *n + 1) < 0) {
                        free(copy);
                        r = cpod_error(err, ENOMEM, "out of memory");
                        break;
                }
                (*v)[(*n)++] = copy;
        }
        if (r >= 0 && rc != SQLITE_DONE)
                r = cpod_error(err, -db_errno(rc), "read image %s: %s", id, sqlite3_errmsg(e->db));
        sqlite3_finalize(st);
        return r;
}

/* Delete an image's rows (names, digests and layer links go by cascade),
 * noting its layers and blobs in g. Inside the caller's write transaction. */
static int image_delete_rows(Engine *e, const char *id, Garbage *g, CpodError *err) {
        int r = strv_push_query(e, "SELECT layer_id FROM image_layers WHERE image_id = ?1 ORDER BY idx DESC",
                                id, &g->layers, &g->n_layers, &g->cap_layers, err);
        if (r >= 0)
                r = strv_push_query(e, "SELECT digest FROM image_blobs WHERE image_id = ?1", id, &g->blobs,
                                    &g->n_blobs, &g->cap_blobs, err);
        if (r >= 0)
                r = db_run(e->db, "DELETE FROM images WHERE id = ?1", DB_PARAMS(id), err);
        return r < 0 ? r : 0;
}

/* Remove what no image uses any more, under the exclusive garbage-collection
 * lock: a writer that still wants one of these files either recorded its
 * image already (its rows are seen here) or has not looked yet. Failures
 * leave files store_check finds; the removal itself has happened, so they
 * are not reported. */
static void garbage_collect(Engine *e, Garbage *g) {
        if ((g->n_layers == 0 && g->n_blobs == 0) || engine_gc_exclusive(e, NULL) < 0)
                return;
        /* Top first: a layer that is still a parent stays (layer_remove re-checks its users). */
        for (size_t i = 0; i < g->n_layers; i++)
                (void)layer_remove(e, g->layers[i], NULL);
        for (size_t i = 0; i < g->n_blobs; i++)
                if (db_get_text(e->db, "SELECT 1 FROM image_blobs WHERE digest = ?1 LIMIT 1",
                                DB_PARAMS(g->blobs[i]), NULL, NULL) == 0)
                        (void)blob_remove(e, g->blobs[i]);
        engine_gc_exclusive_end(e);
}

static int count_names(Engine *e, const char *id, CpodError *err) {
        sqlite3_stmt *st = NULL;
        int r = db_prepare(e->db, "SELECT count(*) FROM image_names WHERE image_id = ?1", &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        r = rc == SQLITE_ROW
                    ? sqlite3_column_int(st, 0)
                    : cpod_error(err, -db_errno(rc), "read image %s: %s", id, sqlite3_errmsg(e->db));
        sqlite3_finalize(st);
        return r;
}

/* Inside the write transaction: 1 when only the name went, 0 when the image is to go. */
static int image_remove_locked(Engine *e, const Resolved *res, bool force, Garbage *g, CpodError *err) {
        int n = count_names(e, res->id, err);
        if (n < 0)
                return n;
        if (res->name) {
                int r = name_drop(e, res->id, res->name, err);
                if (r < 0)
                        return r;
                if (n > 1)
                        return 1;
        } else if (n > 1 && !force)
                return cpod_error(
                        err, EBUSY,
                        "unable to delete image %s by %s with more than one tag: please force removal",
                        res->id, res->by_id ? "ID" : "digest");
        _cleanup_free_ char *user = NULL;
        int r = db_get_text(e->db, "SELECT name FROM containers WHERE image_id = ?1 LIMIT 1",
                            DB_PARAMS(res->id), &user, err);
        if (r < 0)
                return r;
        if (r > 0)
                return cpod_error(err, EBUSY, "image used by container %s: image is in use by a container",
                                  user);
        return image_delete_rows(e, res->id, g, err);
}

/* rmi --force: the containers of the image go first, as with podman. */
static int image_remove_containers(Engine *e, const char *ref, CpodError *err) {
        Image img = {};
        char **ids = NULL;
        size_t n = 0, cap = 0;
        int r = image_get(e, ref, &img, NULL);
        if (r < 0)
                return 0; /* the removal itself reports it */
        r = strv_push_query(e, "SELECT id FROM containers WHERE image_id = ?1", img.id, &ids, &n, &cap, err);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = container_remove(e, ids[i], true, false, err);
        strv_free(ids, n);
        image_done(&img);
        return r;
}

int image_remove(Engine *e, const char *ref, bool force, char **ret_removed_id, CpodError *err) {
        Resolved res = {};
        Garbage g = {};
        int r = force ? image_remove_containers(e, ref, err) : 0;
        if (r < 0)
                return r;
        r = db_begin_write(e->db, err);
        if (r < 0)
                return r;
        r = image_resolve(e, ref, &res, err);
        if (r >= 0)
                r = image_remove_locked(e, &res, force, &g, err);
        if (r >= 0) {
                int c = db_commit(e->db, err);
                if (c < 0)
                        r = c;
        } else
                db_rollback(e->db);
        if (r == 0) {
                garbage_collect(e, &g);
                char *id = strdup(res.id);
                if (!id)
                        r = cpod_error(err, ENOMEM, "out of memory");
                else if (ret_removed_id)
                        *ret_removed_id = id;
                else
                        free(id);
        } else if (r > 0 && ret_removed_id)
                *ret_removed_id = NULL;
        garbage_done(&g);
        resolved_done(&res);
        return r;
}

/* Remove image id if it still qualifies (dangling unless all). 1 removed, 0 not. */
static int image_prune_one(Engine *e, const char *id, bool all, CpodError *err) {
        Garbage g = {};
        int r = db_begin_write(e->db, err);
        if (r < 0)
                return r;
        /* images that containers use are never pruned */
        r = all ? db_get_text(e->db,
                              "SELECT 1 FROM images WHERE id = ?1 AND NOT EXISTS"
                              " (SELECT 1 FROM containers WHERE image_id = ?1)",
                              DB_PARAMS(id), NULL, err)
                : db_get_text(e->db,
                              "SELECT 1 FROM images WHERE id = ?1 AND NOT EXISTS"
                              " (SELECT 1 FROM image_names WHERE image_id = ?1) AND NOT EXISTS"
                              " (SELECT 1 FROM containers WHERE image_id = ?1)",
                              DB_PARAMS(id), NULL, err);
        if (r > 0) {
                r = image_delete_rows(e, id, &g, err);
                if (r >= 0)
                        r = 1;
        }
        if (r >= 0) {
                int c = db_commit(e->db, err);
                if (c < 0)
                        r = c;
        } else
                db_rollback(e->db);
        if (r > 0)
                garbage_collect(e, &g);
        garbage_done(&g);
        return r;
}

int image_prune(Engine *e, bool all, char ***ret_ids, size_t *ret_n, CpodError *err) {
        char **cand = NULL, **done = NULL;
        size_t n_cand = 0, cap_cand = 0, n_done = 0;
        int r;

        r = strv_push_query(e,
                            all ? "SELECT id FROM images WHERE ?1 IS NOT NULL ORDER BY created"
                                : "SELECT id FROM images i WHERE ?1 IS NOT NULL AND NOT EXISTS"
                                  " (SELECT 1 FROM image_names WHERE image_id = i.id) ORDER BY created",
                            "", &cand, &n_cand, &cap_cand, err);
        if (r >= 0 && n_cand && !(done = calloc(n_cand, sizeof *done)))
                r = cpod_error(err, ENOMEM, "out of memory");
        for (size_t i = 0; r >= 0 && i < n_cand; i++) {
                r = image_prune_one(e, cand[i], all, err);
                if (r > 0)
                        done[n_done++] = TAKE_PTR(cand[i]);
        }
        strv_free(cand, n_cand);
        if (r < 0) {
                strv_free(done, n_done);
                return r;
        }
        *ret_ids = done;
        *ret_n = n_done;
        return 0;
}

/* ---- recording new images ---- */

typedef struct CommitPlan {
        char id[65];
        char config_digest[DIGEST_MAX];
        const char *manifest_digest;
        Manifest manifest;
        ImageConfig config;
        char (*chain)[65]; /* chain ids, bottom first */
        bool *stored;      /* layers this commit extracted (removed again on failure) */
        char **names;      /* normalized tags */
        size_t n_names;
        char **repo_digests; /* repositories named with a digest */
        size_t n_repo_digests;
        LayerStaged **staged; /* layers extracted while downloading (may be NULL) */
        LayerInfo *renamed;   /* staged layers renamed into place, their rows not yet written */
        bool *is_renamed;
} CommitPlan;

static void commit_plan_done(CommitPlan *p) {
        manifest_done(&p->manifest);
        image_config_done(&p->config);
        free(p->chain);
        free(p->stored);
        free(p->renamed);
        free(p->is_renamed);
        strv_free(p->names, p->n_names);
        strv_free(p->repo_digests, p->n_repo_digests);
}

static int commit_plan_names(CommitPlan *p, const char *const *names, size_t n, CpodError *err) {
        if (n == 0)
                return 0;
        p->names = calloc(n, sizeof(char *));
        p->repo_digests = calloc(n, sizeof(char *));
        if (!p->names || !p->repo_digests)
                return cpod_error(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *name = NULL, *digest = NULL;
                int r = name_normalize(names[i], &name, &digest, err);
                if (r < 0)
                        return r;
                if (name)
                        p->names[p->n_names++] = TAKE_PTR(name);
                if (digest) {
                        /* The repository of "repo@digest" or "repo:tag@digest". */
                        char *repo = name ? name_repository(p->names[p->n_names - 1]) : NULL;
                        if (!name) {
                                Reference ref = {};
                                if (reference_parse(names[i], &ref, NULL) >= 0 &&
                                    reference_normalize(&ref,
                                                        reference_is_short(&ref) ? "localhost" : NULL) >= 0)
                                        repo = reference_repository(&ref);
                                reference_done(&ref);
                        }
                        if (!repo)
                                return cpod_error(err, ENOMEM, "out of memory");
                        p->repo_digests[p->n_repo_digests++] = repo;
                }
        }
        return 0;
}

static int commit_plan_load(Engine *e, CommitPlan *p, const char *manifest_digest, CpodError *err) {
        _cleanup_free_ char *mjson = NULL, *cjson = NULL;
        size_t mlen = 0, clen = 0;
        int r;

        if (!digest_valid(manifest_digest))
                return cpod_error(err, EINVAL, "invalid manifest digest `%.80s`", manifest_digest);
        p->manifest_digest = manifest_digest;
        r = blob_read(e, manifest_digest, MANIFEST_MAX_SIZE, &mjson, &mlen, err);
        if (r >= 0)
                r = manifest_parse(mjson, mlen, MT_OCI_MANIFEST, &p->manifest, err);
        if (r < 0)
                return cpod_error_wrap(err, "manifest %s", manifest_digest);
        if (p->manifest.is_index)
                return cpod_error(err, EINVAL, "manifest %s is an index, not an image manifest",
                                  manifest_digest);
        memcpy(p->config_digest, p->manifest.config.digest, DIGEST_MAX);
        const char *hex = digest_hex(p->config_digest);
        if (!hex)
                return cpod_error(err, EBADMSG, "manifest %s: invalid config digest", manifest_digest);
        memcpy(p->id, hex, 65);
        r = blob_read(e, p->config_digest, CONFIG_MAX_SIZE, &cjson, &clen, err);
        if (r >= 0)
                r = image_config_parse(cjson, clen, &p->config, err);
        if (r < 0)
                return cpod_error_wrap(err, "image config %s", p->config_digest);
        if (p->config.n_diff_ids != p->manifest.n_layers)
                return cpod_error(err, EBADMSG, "image %s: the config lists %zu layers but the manifest %zu",
                                  p->id, p->config.n_diff_ids, p->manifest.n_layers);
        if (p->manifest.n_layers > MANIFEST_MAX_LAYERS)
                return cpod_error(err, E2BIG, "image %s has more than %u layers", p->id,
                                  MANIFEST_MAX_LAYERS);
        if (p->manifest.n_layers && (!(p->chain = calloc(p->manifest.n_layers, sizeof *p->chain)) ||
                                     !(p->stored = calloc(p->manifest.n_layers, sizeof *p->stored)) ||
                                     !(p->renamed = calloc(p->manifest.n_layers, sizeof *p->renamed)) ||
                                     !(p->is_renamed = calloc(p->manifest.n_layers, sizeof *p->is_renamed))))
                return cpod_error(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < p->manifest.n_layers; i++) {
                if (!digest_valid(p->config.diff_ids[i]))
                        return cpod_error(err, EBADMSG, "image %s: invalid diff_id `%.80s`", p->id,
                                          p->config.diff_ids[i]);
                layer_chain_id(i ? p->chain[i - 1] : NULL, p->config.diff_ids[i], p->chain[i]);
        }
        return 0;
}

/* The rows of renamed staged layers, bottom first (a parent's row before its child's), inside the
 * caller's transaction. */
static int commit_rows_renamed(Engine *e, CommitPlan *p, CpodError *err) {
        for (size_t i = 0; i < p->manifest.n_layers; i++) {
                if (!p->is_renamed[i])
                        continue;
                int r = layer_record(e, i ? p->chain[i - 1] : NULL, &p->renamed[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Record the renamed layers now, in a transaction of their own (before layer_store adds a child). */
static int commit_record_renamed(Engine *e, CommitPlan *p, CpodError *err) {
        int r = layer_sync_names(e, err);
        if (r >= 0)
                r = db_begin_write(e->db, err);
        if (r < 0)
                return r;
        r = commit_rows_renamed(e, p, err);
        if (r < 0) {
                db_rollback(e->db);
                return r;
        }
        r = db_commit(e->db, err);
        if (r >= 0)
                memset(p->is_renamed, 0, p->manifest.n_layers * sizeof(*p->is_renamed));
        return r;
}

/* Extract the layers not yet in the store (layer_store records each), and rename staged ones into place
 * (their rows go into commit_rows' transaction, with the image's). */
static int commit_layers(Engine *e, CommitPlan *p, CpodError *err) {
        bool renamed = false;
        int k;

        /* one flush for all staged layers, before the first is renamed (a pull did it already) */
        if (p->staged && (k = layer_staged_sync(e, p->staged, p->manifest.n_layers, err)) < 0)
                return k;
        for (size_t i = 0; i < p->manifest.n_layers; i++) {
                if (p->is_renamed[i])
                        continue; /* by an earlier attempt */
                k = db_get_text(e->db, "SELECT 1 FROM layers WHERE id = ?1", DB_PARAMS(p->chain[i]), NULL,
                                err);
                if (k < 0)
                        return k;
                if (k > 0)
                        continue;
                const Descriptor *d = &p->manifest.layers[i];
                LayerInfo info = {};
                if (p->staged && streq_ptr(layer_staged_diff_id(p->staged[i]), p->config.diff_ids[i])) {
                        /* extracted and verified as it downloaded: only rename and record it */
                        p->stored[i] = true;
                        k = layer_stage_rename(e, p->staged[i], i ? p->chain[i - 1] : NULL, &info, err);
                        if (k < 0)
                                return cpod_error_wrap(err, "layer %zu of image %s", i + 1, p->id);
                        if (!streq(info.id, p->chain[i]))
                                return cpod_error(err, EBADMSG,
                                                  "layer %zu of image %s: chain id %s, expected %s", i + 1,
                                                  p->id, info.id, p->chain[i]);
                        p->renamed[i] = info;
                        p->is_renamed[i] = renamed = true;
                        continue;
                }
                /* a layer below needs its row before this one's (and layer_store commits its own) */
                if (renamed && (k = commit_record_renamed(e, p, err)) < 0)
                        return k;
                renamed = false;
                _cleanup_close_ int fd = blob_open(e, d->digest, err);
                if (fd < 0)
                        return cpod_error_wrap(err, "layer %zu of image %s", i + 1, p->id);
                p->stored[i] = true;
                k = layer_store(e, fd, i ? p->chain[i - 1] : NULL, d->digest, p->config.diff_ids[i], &info,
                                err);
                if (k < 0)
                        return cpod_error_wrap(err, "layer %zu of image %s", i + 1, p->id);
                if (!streq(info.id, p->chain[i]))
                        return cpod_error(err, EBADMSG, "layer %zu of image %s: chain id %s, expected %s",
                                          i + 1, p->id, info.id, p->chain[i]);
        }
        /* the renames are durable before commit_rows names them */
        return renamed ? layer_sync_names(e, err) : 0;
}

/* The blob at index i of the image's blob list: manifest, config, layers. */
static const char *commit_blob(const CommitPlan *p, size_t i) {
        return i == 0 ? p->manifest_digest : i == 1 ? p->config_digest : p->manifest.layers[i - 2].digest;
}

/* Inside the write transaction: every layer row and blob the image names
 * must exist, except compressed layer blobs: a layer extracted before (found
 * by chain id, so by its diff_id) needs no blob. -EAGAIN when a layer went
 * away since commit_layers (another process removed it). */
static int commit_check(Engine *e, CommitPlan *p, int64_t *ret_size, CpodError *err) {
        sqlite3_stmt *st = NULL;
        int64_t size = 0;
        int r = db_prepare(e->db, "SELECT size FROM layers WHERE id = ?1", &st, err);
        if (r < 0)
                return r;
        for (size_t i = 0; r >= 0 && i < p->manifest.n_layers; i++) {
                sqlite3_reset(st);
                sqlite3_bind_text(st, 1, p->chain[i], -1, SQLITE_STATIC);
                int rc = sqlite3_step(st);
                if (rc == SQLITE_ROW)
                        size += sqlite3_column_int64(st, 0);
                else if (rc == SQLITE_DONE)
                        r = -EAGAIN;
                else
                        r = cpod_error(err, -db_errno(rc), "look up layer %s: %s", p->chain[i],
                                       sqlite3_errmsg(e->db));
        }
        sqlite3_finalize(st);
        if (r < 0)
                return r;
        for (size_t i = 0; i < 2; i++)
                if (!blob_exists(e, commit_blob(p, i)))
                        return cpod_error(err, ENOENT, "image %s: blob %s is missing from the store", p->id,
                                          commit_blob(p, i));
        *ret_size = size;
        return 0;
}

static int commit_insert_image(Engine *e, CommitPlan *p, int64_t size, CpodError *err) {
        sqlite3_stmt *st = NULL;
        size_t n = p->manifest.n_layers;
        int r = db_prepare(e->db,
                           "INSERT INTO images(id, manifest_digest, created, size, top_layer, added)"
                           " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO NOTHING",
                           &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, p->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, p->manifest_digest, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, p->config.created);
        sqlite3_bind_int64(st, 4, size);
        if (n)
                sqlite3_bind_text(st, 5, p->chain[n - 1], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, (int64_t)time(NULL));
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
                return cpod_error(err, -db_errno(rc), "record image %s: %s", p->id, sqlite3_errmsg(e->db));
        if (sqlite3_changes(e->db) == 0)
                return 0; /* known already: only names and blobs are added */

        r = db_prepare(e->db, "INSERT INTO image_layers(image_id, idx, layer_id) VALUES(?1, ?2, ?3)", &st,
                       err);
        if (r < 0)
                return r;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                sqlite3_reset(st);
                sqlite3_bind_text(st, 1, p->id, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 2, (int64_t)i);
                sqlite3_bind_text(st, 3, p->chain[i], -1, SQLITE_STATIC);
                rc = sqlite3_step(st);
                if (rc != SQLITE_DONE)
                        r = cpod_error(err, -db_errno(rc), "record the layers of image %s: %s", p->id,
                                       sqlite3_errmsg(e->db));
        }
        sqlite3_finalize(st);
        return r;
}

static int commit_rows(Engine *e, CommitPlan *p, CpodError *err) {
        int64_t size = 0;
        int r = db_begin_write(e->db, err);
        if (r < 0)
                return r;
        r = commit_rows_renamed(e, p, err);
        if (r >= 0)
                r = commit_check(e, p, &size, err);
        if (r >= 0)
                r = commit_insert_image(e, p, size, err);
        for (size_t i = 0; r >= 0 && i < p->manifest.n_layers + 2; i++) {
                const char *d = commit_blob(p, i);
                /* Only blobs the store has: a missing layer blob was checked above. */
                if (i < 2 || blob_exists(e, d))
                        r = db_run(e->db,
                                   "INSERT OR IGNORE INTO image_blobs(image_id, digest) VALUES(?1, ?2)",
                                   DB_PARAMS(p->id, d), err);
        }
        for (size_t i = 0; r >= 0 && i < p->n_names; i++)
                r = name_assign(e, p->id, p->names[i], p->manifest_digest, err);
        for (size_t i = 0; r >= 0 && i < p->n_repo_digests; i++)
                r = digest_add(e, p->id, p->repo_digests[i], p->manifest_digest, err);
        if (r < 0) {
                db_rollback(e->db);
                return r;
        }
        return db_commit(e->db, err);
}

/* After a failure: the layers this commit extracted go again unless an image
 * (or a child layer) uses them by now. Top first, so children go before their parents. */
static void commit_discard_layers(Engine *e, CommitPlan *p) {
        size_t n = 0;
        for (size_t i = 0; p->stored && i < p->manifest.n_layers; i++)
                n += p->stored[i];
        if (n == 0 || engine_gc_exclusive(e, NULL) < 0)
                return;
        for (size_t i = p->manifest.n_layers; i > 0; i--)
                if (p->stored[i - 1])
                        (void)layer_remove(e, p->chain[i - 1], NULL);
        engine_gc_exclusive_end(e);
}

int image_commit_manifest(Engine *e, const char *manifest_digest, const char *const *names, size_t n_names,
                          char ret_id[65], CpodError *err) {
        return image_commit_manifest_staged(e, manifest_digest, names, n_names, NULL, ret_id, err);
}

int image_commit_manifest_staged(Engine *e, const char *manifest_digest, const char *const *names,
                                 size_t n_names, LayerStaged **staged, char ret_id[65], CpodError *err) {
        CommitPlan p = {};
        int r = engine_gc_hold(e, err);
        if (r < 0)
                return r;
        r = commit_plan_load(e, &p, manifest_digest, err);
        p.staged = staged;
        if (r >= 0)
                r = commit_plan_names(&p, names, n_names, err);
        for (unsigned attempt = 1; r >= 0; attempt++) {
                r = commit_layers(e, &p, err);
                if (r >= 0)
                        r = commit_rows(e, &p, err);
                if (r != -EAGAIN || attempt >= COMMIT_ATTEMPTS)
                        break;
                r = 0;
        }
        if (r == -EAGAIN)
                r = cpod_error(err, EAGAIN, "image %s: its layers keep being removed by another process",
                               p.id);
        if (r < 0)
                commit_discard_layers(e, &p);
        else if (ret_id)
                memcpy(ret_id, p.id, 65);
        /* Recorded (or failed): nothing of ours is unnamed any more. */
        engine_gc_release(e);
        commit_plan_done(&p);
        return r < 0 ? r : 0;
}
