/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pull: a reference to the registries that may hold it (alias or
 * unqualified search registries for a short name, mirrors before the
 * registry itself), the manifest (an index narrowed to one platform), the
 * config and the layers downloaded in parallel into the blob store, each
 * layer extracted while it downloads: its bytes go both to the blob store
 * and through a pipe to a thread extracting into a staging directory of its
 * own (layers extract independently of each other and of the config; the
 * chain ids, from the config's diff_ids, are only needed to name them).
 * image_commit_manifest_staged then checks each staged layer's diff_id
 * against the config and renames it
 * into place and records the image under its name in one step, on this
 * thread (the database is only touched here). A layer whose blob was in the
 * store already (a retry) is extracted there from the blob.
 *
 * The store's garbage-collection lock is held shared from before the first
 * blob until the image is recorded, so no collector removes a blob we are
 * about to name. A pull that fails removes the blobs it added; a process
 * killed mid-pull leaves only complete, verified blobs (in-flight downloads
 * live in tmp/), which the next pull reuses and `system check` can remove.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "container.h"
#include "db.h"
#include "engine-internal.h"
#include "image.h"
#include "layer.h"
#include "manifest.h"
#include "reference.h"
#include "registries.h"
#include "registry-internal.h"
#include "util.h"

#define PULL_MAX_TAGS   10000u
#define PULL_CONFIG_MAX (16u * 1024u * 1024u)
#define PULL_PIPE_SIZE  (1024 * 1024)

typedef struct StrList {
        char **v;
        size_t n;
} StrList;

static int strlist_add(StrList *l, const char *s) {
        char **v = realloc(l->v, (l->n + 1) * sizeof(char *));
        if (!v)
                return -ENOMEM;
        l->v = v;
        if (!(v[l->n] = strdup(s)))
                return -ENOMEM;
        l->n++;
        return 0;
}

static void strlist_done(StrList *l) {
        registry_strv_free(l->v, l->n);
        *l = (StrList){};
}

static void say(const RegistryProgress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const RegistryProgress *p, const char *fmt, ...) {
        char line[512];
        va_list ap;
        if (!p || !p->message)
                return;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        p->message(line, p->userdata);
}

static int load_registries(const RegistryOptions *o, Registries *ret, CpodError *err) {
        const char *conf = o->registries_conf ? o->registries_conf : getenv("CONTAINERS_REGISTRIES_CONF");
        return registries_load(conf && *conf ? conf : NULL, ret, err);
}

/* The fully qualified references a user's reference may mean, in the order to try them. */
static int pull_candidates(const char *ref, const RegistryOptions *o, StrList *ret, CpodError *err) {
        Reference r = {};
        Registries regs = {};
        int k = reference_parse(ref, &r, err);
        if (k < 0)
                return k;
        if (!reference_is_short(&r)) {
                _cleanup_free_ char *s = NULL;
                k = reference_normalize(&r, NULL);
                if (k >= 0 && !(s = reference_string(&r)))
                        k = -ENOMEM;
                if (k >= 0)
                        k = strlist_add(ret, s);
                reference_done(&r);
                return k < 0 ? cpod_error(err, -k, "%s: %s", ref, strerror(-k)) : 0;
        }
        k = load_registries(o, &regs, err);
        const char *alias = k >= 0 ? registries_alias(&regs, r.path) : NULL;
        if (k >= 0 && !alias && regs.n_search == 0)
                k = cpod_error(err, ENOENT,
                               "short-name \"%s\" did not resolve to an alias and no unqualified-search "
                               "registries are defined in registries.conf",
                               ref);
        for (size_t i = 0; k >= 0 && i < (alias ? 1 : regs.n_search); i++) {
                Reference full = {};
                _cleanup_free_ char *name = NULL, *s = NULL;
                const char *suffix = r.digest ? "@" : ":";
                const char *what = r.digest ? r.digest : r.tag ? r.tag : "latest";
                if (alias)
                        k = asprintf(&name, "%s%s%s", alias,
                                     strchr(strrchr(alias, '/') ?: alias, ':') ? "" : suffix,
                                     strchr(strrchr(alias, '/') ?: alias, ':') ? "" : what);
                else
                        k = asprintf(&name, "%s/%s%s%s", regs.search[i], r.path, suffix, what);
                if (k < 0) {
                        k = -ENOMEM;
                        break;
                }
                k = reference_parse(name, &full, err);
                if (k >= 0 && (k = reference_normalize(&full, NULL)) >= 0 && !(s = reference_string(&full)))
                        k = -ENOMEM;
                if (k >= 0)
                        k = strlist_add(ret, s);
                reference_done(&full);
        }
        registries_done(&regs);
        reference_done(&r);
        if (k == -ENOMEM)
                return cpod_error(err, ENOMEM, "out of memory");
        return k < 0 ? k : 0;
}

/* Where to fetch a repository ("host/path"): its mirrors, then the registry (or its location). */
static int pull_sources(const char *repository, const RegistryOptions *o, StrList *ret, CpodError *err) {
        Registries regs = {};
        int k = load_registries(o, &regs, err);
        if (k < 0)
                return k;
        const Registry *reg = registries_find(&regs, repository);
        const char *rest = reg ? repository + strlen(reg->prefix) : "";
        for (size_t i = 0; reg && k >= 0 && i < reg->n_mirrors; i++) {
                _cleanup_free_ char *s = NULL;
                k = asprintf(&s, "%s%s", reg->mirrors[i], rest) < 0 ? -ENOMEM : strlist_add(ret, s);
        }
        if (k >= 0 && reg && reg->location && *reg->location && !reg->blocked) {
                _cleanup_free_ char *s = NULL;
                k = asprintf(&s, "%s%s", reg->location, rest) < 0 ? -ENOMEM : strlist_add(ret, s);
        } else if (k >= 0)
                k = strlist_add(ret, repository);
        registries_done(&regs);
        return k < 0 ? cpod_error(err, ENOMEM, "out of memory") : 0;
}

/* Fetch and parse a manifest, narrowing an index to the requested platform. */
static int pull_manifest(RegistryClient *c, const char *repo, const char *what, const RegistryOptions *o,
                         char **ret_body, size_t *ret_len, char ret_digest[DIGEST_MAX], Manifest *ret,
                         CpodError *err) {
        _cleanup_free_ char *body = NULL, *mt = NULL;
        size_t len = 0;
        Manifest m = {};

        int r = registry_get_manifest(c, repo, what, &body, &len, &mt, ret_digest, err);
        if (r >= 0)
                r = manifest_parse(body, len, mt, &m, err);
        if (r < 0)
                return r;
        if (m.is_index) {
                const Descriptor *d = manifest_select(&m, o->os, o->arch, o->variant);
                char digest[DIGEST_MAX];
                if (!d) {
                        manifest_done(&m);
                        return cpod_error(
                                err, ENOENT,
                                "no image found in manifest list for architecture %s, variant \"%s\", "
                                "OS %s",
                                o->arch ? o->arch : "(this machine's)", o->variant ? o->variant : "",
                                o->os ? o->os : "linux");
                }
                snprintf(digest, sizeof(digest), "%s", d->digest);
                manifest_done(&m);
                free(body);
                free(mt);
                body = mt = NULL;
                r = registry_get_manifest(c, repo, digest, &body, &len, &mt, ret_digest, err);
                if (r >= 0)
                        r = manifest_parse(body, len, mt, &m, err);
                if (r < 0)
                        return r;
                if (m.is_index) {
                        manifest_done(&m);
                        return cpod_error(err, EPROTO, "manifest %s: an index inside an index", digest);
                }
        }
        *ret = m;
        *ret_body = TAKE_PTR(body);
        *ret_len = len;
        return 0;
}

/* ---- extracting while downloading ---- */

typedef struct LayerTee {
        Engine *e;
        const char *digest; /* of the compressed blob: its writer checks it, the extraction need not */
        uint64_t size, sent;
        int pipe_r, pipe_w;
        bool started, failed;
        int end; /* the download's result (registry_fetch_blobs' on_end), 2 before it ends */
        pthread_t thread;
        int result;
        CpodError err;
        LayerStaged *staged;
} LayerTee;

static void *tee_thread(void *userdata) {
        LayerTee *t = userdata;
        char sink[16384];
        /* the blob writer hashes the same bytes against the manifest's digest (the layer is dropped
         * unless it matched), and the pull flushes once for all layers before publishing them */
        t->result = layer_stage_new(t->e, t->pipe_r, t->digest, NULL,
                                    LAYER_COMPRESSED_CHECKED | LAYER_NO_SYNC, &t->staged, &t->err);
        /* Read to the end whatever happened, so the download never blocks on a full pipe. */
        for (;;) {
                ssize_t k = read(t->pipe_r, sink, sizeof(sink));
                if (k == 0 || (k < 0 && errno != EINTR))
                        break;
        }
        t->pipe_r = safe_close(t->pipe_r);
        return NULL;
}

static int tee_start(LayerTee *t) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        (void)fcntl(p[1], F_SETPIPE_SZ, PULL_PIPE_SIZE);
        t->pipe_r = p[0];
        t->pipe_w = p[1];
        if (pthread_create(&t->thread, NULL, tee_thread, t) != 0) {
                t->pipe_r = safe_close(t->pipe_r);
                t->pipe_w = safe_close(t->pipe_w);
                return -EAGAIN;
        }
        t->started = true;
        return 0;
}

/* registry_fetch_blobs' on_data: the extraction's share of the bytes (on a download thread). */
static int tee_data(const void *p, size_t n, void *userdata) {
        LayerTee *t = userdata;
        const char *s = p;
        if (t->failed)
                return 0; /* the commit extracts it from the blob instead */
        if (!t->started && tee_start(t) < 0) {
                t->failed = true;
                return 0;
        }
        while (n > 0) {
                ssize_t k = write(t->pipe_w, s, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        t->failed = true;
                        t->pipe_w = safe_close(t->pipe_w);
                        return 0;
                }
                s += k;
                t->sent += (uint64_t)k;
                n -= (size_t)k;
        }
        /* All bytes sent: the extraction may finish while the blob is flushed (the download's result
         * still decides whether the layer is kept). */
        if (t->sent == t->size)
                t->pipe_w = safe_close(t->pipe_w);
        return 0;
}

static void tee_end(int result, void *userdata) {
        LayerTee *t = userdata;
        t->end = result;
        t->pipe_w = safe_close(t->pipe_w);
}

/* After the downloads: wait for the extractions; keep those of complete, verified blobs. */
static void tees_finish(LayerTee *tees, size_t n, LayerStaged **staged) {
        for (size_t i = 0; i < n; i++) {
                LayerTee *t = &tees[i];
                t->pipe_w = safe_close(t->pipe_w);
                if (t->started)
                        pthread_join(t->thread, NULL);
                if (t->started && !t->failed && t->end == 0 && t->result >= 0)
                        staged[i] = TAKE_PTR(t->staged);
                layer_staged_free(t->staged);
                t->staged = NULL;
        }
}

/* Extract while downloading every layer whose blob the store lacks. No chain id is needed for that:
 * a layer stages into a directory of its own, and the commit checks its diff_id against the config's
 * before it names it. (A layer already extracted under its chain id whose blob went away is extracted
 * again and the copy dropped: rare, and cheaper than waiting for the config before any layer.) */
static void pull_plan_tees(Engine *e, const Manifest *m, LayerTee *tees, RegistryBlob *blobs) {
        for (size_t i = 0; i < m->n_layers; i++) {
                if (blob_exists(e, m->layers[i].digest))
                        continue;
                tees[i] = (LayerTee){.e = e,
                                     .digest = m->layers[i].digest,
                                     .size = (uint64_t)m->layers[i].size,
                                     .pipe_r = -1,
                                     .pipe_w = -1,
                                     .end = 2};
                blobs[i].on_data = tee_data;
                blobs[i].on_end = tee_end;
                blobs[i].userdata = &tees[i];
        }
}

/* The manifest goes into the store while the blobs download (its fsync costs as much as a small blob's). */
typedef struct ManifestPut {
        Engine *e;
        const char *body;
        size_t len;
        char digest[DIGEST_MAX];
        int result;
        CpodError err;
} ManifestPut;

static void *manifest_put_thread(void *userdata) {
        ManifestPut *mp = userdata;
        mp->result = blob_put_flags(mp->e, mp->body, mp->len, BLOB_DEFER_NAME_SYNC, mp->digest, &mp->err);
        return NULL;
}

/* Download the config and layers (extracting layers as they arrive into staged) and store the manifest;
 * records which blobs are new in added. */
static int pull_blobs(Engine *e, RegistryClient *c, const char *repo, const Manifest *m, const char *body,
                      size_t len, const char *mdigest, const PullOptions *o, StrList *added,
                      LayerStaged **staged, CpodError *err) {
        RegistryBlob *blobs = calloc(m->n_layers + 1, sizeof(RegistryBlob));
        LayerTee *tees = calloc(m->n_layers + 1, sizeof(LayerTee));
        ManifestPut mp = {.e = e, .body = body, .len = len};
        pthread_t mt;
        bool mt_started = false;
        int r = 0;

        if (!blobs || !tees) {
                free(blobs);
                free(tees);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        for (size_t i = 0; i <= m->n_layers; i++) {
                const Descriptor *x = i < m->n_layers ? &m->layers[i] : &m->config;
                tees[i] = (LayerTee){.pipe_r = -1, .pipe_w = -1};
                if (x->size < 0) {
                        free(blobs);
                        free(tees);
                        return cpod_error(err, EINVAL, "manifest %s: negative blob size", mdigest);
                }
                blobs[i] = (RegistryBlob){
                        .digest = x->digest, .size = (uint64_t)x->size, .quiet = i == m->n_layers};
                if (!blob_exists(e, x->digest) && strlist_add(added, x->digest) < 0)
                        r = -ENOMEM;
        }
        if (!blob_exists(e, mdigest) && strlist_add(added, mdigest) < 0)
                r = -ENOMEM;
        if (r < 0)
                r = cpod_error(err, ENOMEM, "out of memory");
        if (r >= 0) {
                /* the config first: it is small, and the commit needs it */
                RegistryBlob config = blobs[m->n_layers];
                memmove(blobs + 1, blobs, m->n_layers * sizeof(*blobs));
                blobs[0] = config;
                pull_plan_tees(e, m, tees, blobs + 1);
                mt_started = pthread_create(&mt, NULL, manifest_put_thread, &mp) == 0;
                r = registry_fetch_blobs(c, e, repo, blobs, m->n_layers + 1, &o->progress, err);
        }
        tees_finish(tees, m->n_layers, staged);
        if (mt_started)
                pthread_join(mt, NULL);
        else if (r >= 0)
                manifest_put_thread(&mp);
        free(blobs);
        free(tees);
        if (r < 0)
                return r;
        say(&o->progress, "Copying config %s done", m->config.digest);
        say(&o->progress, "Writing manifest to image destination");
        if (mp.result < 0) {
                *err = mp.err;
                return mp.result;
        }
        if (!streq(mp.digest, mdigest))
                return cpod_error(err, EBADMSG, "manifest digest %s, expected %s", mp.digest, mdigest);
        return 0;
}

/*
 * The pull's one flush, after every download and extraction ended and before anything is published
 * or recorded. Each blob's data was flushed before its name appeared (a blob that exists is trusted),
 * but neither the blob names nor the staged layers' files were: one syncfs covers both. Then the
 * commit renames the staged layers into place, flushes those names (one fsync of layers/), and only
 * then commits the single transaction that names layers, blobs and image. A power loss at any point
 * leaves the database naming nothing that is not on disk; a kill leaves complete blobs and staging
 * directories `cpod system check` removes. Without staged layers (all blobs were there, or each
 * layer extracts from its blob and flushes on its own) the blob names need an fsync of their directory.
 */
static int pull_sync(Engine *e, LayerStaged **staged, size_t n, bool added, CpodError *err) {
        bool any = false;
        for (size_t i = 0; i < n; i++)
                any |= layer_staged_diff_id(staged[i]) != NULL;
        int r = any ? layer_staged_sync(e, staged, n, err) : 0;
        if (r == 0 && added)
                r = blob_sync_names(e, err);
        return r < 0 ? r : 0;
}

/* Pull one fully qualified reference from one source repository ("host/path"). */
static int pull_from(Engine *e, const char *source, const Reference *ref, const char *name,
                     const PullOptions *o, char ret_id[65], CpodError *err) {
        RegistryClient *c = NULL;
        _cleanup_free_ char *body = NULL, *host = strndup(source, strcspn(source, "/")), *full = NULL;
        const char *repo = source + strcspn(source, "/") + (strchr(source, '/') ? 1 : 0);
        char mdigest[DIGEST_MAX];
        StrList added = {};
        Manifest m = {};
        LayerStaged **staged = NULL;
        size_t len = 0;

        if (!host)
                return cpod_error(err, ENOMEM, "out of memory");
        int r = registry_client_new(host, &o->registry, &c, err);
        if (r >= 0)
                r = pull_manifest(c, repo, ref->digest ? ref->digest : ref->tag, &o->registry, &body, &len,
                                  mdigest, &m, err);
        if (r >= 0) {
                say(&o->progress, "Getting image source signatures");
                r = engine_gc_hold(e, err);
        }
        if (r >= 0 && !(staged = calloc(m.n_layers + 1, sizeof(*staged))))
                r = cpod_error(err, ENOMEM, "out of memory");
        if (r >= 0)
                r = pull_blobs(e, c, repo, &m, body, len, mdigest, o, &added, staged, err);
        if (r >= 0)
                r = pull_sync(e, staged, m.n_layers, added.n > 0, err);
        if (r >= 0 && asprintf(&full, "%s@%s", name, mdigest) < 0)
                r = cpod_error(err, ENOMEM, "out of memory");
        if (r >= 0) {
                const char *names[1] = {full};
                r = image_commit_manifest_staged(e, mdigest, names, 1, staged, ret_id, err);
        }
        for (size_t i = 0; staged && i < m.n_layers; i++)
                layer_staged_free(staged[i]);
        free(staged);
        if (r < 0)
                blob_remove_unused(e, added.v, added.n);
        else
                say(&o->progress, "Storing signatures");
        engine_gc_release(e);
        strlist_done(&added);
        manifest_done(&m);
        registry_client_free(c);
        return r;
}

/* Pull one fully qualified reference, trying its sources in turn. */
static int pull_qualified(Engine *e, const char *name, const PullOptions *o, char ret_id[65],
                          CpodError *err) {
        Reference ref = {};
        StrList sources = {};
        _cleanup_free_ char *repository = NULL;
        int r = reference_parse(name, &ref, err);
        if (r >= 0 && !(repository = reference_repository(&ref)))
                r = cpod_error(err, ENOMEM, "out of memory");
        if (r >= 0)
                r = pull_sources(repository, &o->registry, &sources, err);
        for (size_t i = 0; r >= 0 && i < sources.n; i++) {
                /* The recorded name is the one asked for, wherever the bytes came from. */
                const char *base = ref.digest ? repository : name;
                r = pull_from(e, sources.v[i], &ref, base, o, ret_id, err);
                if (r >= 0 || i + 1 == sources.n)
                        break;
                r = 0; /* a mirror failed: try the next source */
        }
        strlist_done(&sources);
        reference_done(&ref);
        return r;
}

static int ids_add(char ***ids, size_t *n, const char id[65]) {
        StrList l = {*ids, *n};
        int r = strlist_add(&l, id);
        *ids = l.v;
        *n = l.n;
        return r;
}

/* --all-tags: every tag of the repository. */
static int pull_all_tags(Engine *e, const char *name, const PullOptions *o, char ***ids, size_t *n_ids,
                         CpodError *err) {
        Reference ref = {};
        RegistryClient *c = NULL;
        char **tags = NULL;
        size_t n = 0;
        int r = reference_parse(name, &ref, err);
        if (r >= 0 && ref.digest)
                r = cpod_error(err, EINVAL, "tag or digest can't be used with --all-tags flag");
        if (r >= 0)
                r = registry_client_new(ref.domain, &o->registry, &c, err);
        if (r >= 0)
                r = registry_tags(c, ref.path, &tags, &n, err);
        if (r >= 0 && n > PULL_MAX_TAGS)
                r = cpod_error(err, E2BIG, "%s has more than %u tags", name, PULL_MAX_TAGS);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_free_ char *tagged = NULL;
                char id[65];
                if (asprintf(&tagged, "%s/%s:%s", ref.domain, ref.path, tags[i]) < 0) {
                        r = cpod_error(err, ENOMEM, "out of memory");
                        break;
                }
                say(&o->progress, "Trying to pull %s...", tagged);
                r = pull_qualified(e, tagged, o, id, err);
                if (r >= 0 && ids_add(ids, n_ids, id) < 0)
                        r = cpod_error(err, ENOMEM, "out of memory");
        }
        registry_strv_free(tags, n);
        registry_client_free(c);
        reference_done(&ref);
        return r;
}

int image_pull(Engine *e, const char *ref, const PullOptions *o, char ***ret_ids, size_t *ret_n,
               CpodError *err) {
        StrList cands = {};
        char **ids = NULL;
        size_t n_ids = 0;
        char id[65];
        int r = 0;
        PullOptions with_conf = *o;

        if (!with_conf.registry.registries_conf)
                with_conf.registry.registries_conf = e->registries_conf;
        o = &with_conf;
        if (o->all_tags) {
                Reference x = {};
                r = reference_parse(ref, &x, err);
                if (r >= 0 && (x.tag || x.digest))
                        r = cpod_error(err, EINVAL, "%s: tag or digest can't be used with --all-tags flag",
                                       ref);
                reference_done(&x);
        }
        if (r >= 0)
                r = pull_candidates(ref, &o->registry, &cands, err);

        for (size_t i = 0; r >= 0 && i < cands.n; i++) {
                if (o->all_tags) {
                        Reference x = {};
                        _cleanup_free_ char *repo = NULL;
                        r = reference_parse(cands.v[i], &x, err);
                        if (r >= 0 && !(repo = reference_repository(&x)))
                                r = -ENOMEM;
                        reference_done(&x);
                        if (r >= 0)
                                r = pull_all_tags(e, repo, o, &ids, &n_ids, err);
                } else {
                        say(&o->progress, "Trying to pull %s...", cands.v[i]);
                        r = pull_qualified(e, cands.v[i], o, id, err);
                        if (r >= 0 && ids_add(&ids, &n_ids, id) < 0)
                                r = -ENOMEM;
                        if (r >= 0)
                                (void)events_write(e, "image", "pull", id, cands.v[i], NULL, NULL);
                }
                if (r == -ENOMEM)
                        r = cpod_error(err, ENOMEM, "out of memory");
                if (r >= 0)
                        break;
                if (i + 1 < cands.n)
                        r = 0; /* the next registry may have it */
        }
        if (r >= 0 && n_ids == 0)
                r = cpod_error(err, ENOENT, "%s: no image pulled", ref);
        strlist_done(&cands);
        if (r < 0) {
                registry_strv_free(ids, n_ids);
                return cpod_error_wrap(err, "pull %s", ref);
        }
        *ret_ids = ids;
        *ret_n = n_ids;
        return 0;
}

int registry_inspect_manifest(const char *ref, const RegistryOptions *o, char **ret, size_t *ret_len,
                              CpodError *err) {
        StrList cands = {};
        int r = pull_candidates(ref, o, &cands, err);
        for (size_t i = 0; r >= 0 && i < cands.n; i++) {
                Reference x = {};
                RegistryClient *c = NULL;
                r = reference_parse(cands.v[i], &x, err);
                if (r >= 0)
                        r = registry_client_new(x.domain, o, &c, err);
                if (r >= 0)
                        r = registry_get_manifest(c, x.path, x.digest ? x.digest : x.tag, ret, ret_len, NULL,
                                                  NULL, err);
                registry_client_free(c);
                reference_done(&x);
                if (r >= 0 || i + 1 == cands.n)
                        break;
                r = 0;
        }
        strlist_done(&cands);
        return r < 0 ? r : 0;
}
