/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pull: a reference to the registries that may hold it (alias or
 * unqualified search registries for a short name, mirrors before the
 * registry itself), the manifest (an index narrowed to one platform), the
 * config and layers downloaded in parallel into the blob store, and
 * image_commit_manifest, which extracts the layers and records the image
 * under its name in one step.
 *
 * The store's garbage-collection lock is held shared from before the first
 * blob until the image is recorded, so no collector removes a blob we are
 * about to name. A pull that fails removes the blobs it added; a process
 * killed mid-pull leaves only complete, verified blobs (in-flight downloads
 * live in tmp/), which the next pull reuses and `system check` can remove.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "container.h"
#include "engine-internal.h"
#include "image.h"
#include "manifest.h"
#include "reference.h"
#include "registries.h"
#include "registry-internal.h"
#include "util.h"

#define PULL_MAX_TAGS 10000u

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

/* Download the config and layers and store the manifest; records which blobs are new in added. */
static int pull_blobs(Engine *e, RegistryClient *c, const char *repo, const Manifest *m, const char *body,
                      size_t len, const char *mdigest, const PullOptions *o, StrList *added,
                      CpodError *err) {
        RegistryBlob *blobs = calloc(m->n_layers + 1, sizeof(RegistryBlob));
        char d[DIGEST_MAX];
        int r = 0;

        if (!blobs)
                return cpod_error(err, ENOMEM, "out of memory");
        for (size_t i = 0; i <= m->n_layers; i++) {
                const Descriptor *x = i < m->n_layers ? &m->layers[i] : &m->config;
                if (x->size < 0) {
                        free(blobs);
                        return cpod_error(err, EINVAL, "manifest %s: negative blob size", mdigest);
                }
                blobs[i] = (RegistryBlob){
                        .digest = x->digest, .size = (uint64_t)x->size, .quiet = i == m->n_layers};
                if (!blob_exists(e, x->digest) && strlist_add(added, x->digest) < 0)
                        r = -ENOMEM;
        }
        if (!blob_exists(e, mdigest) && strlist_add(added, mdigest) < 0)
                r = -ENOMEM;
        if (r < 0) {
                free(blobs);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        r = registry_fetch_blobs(c, e, repo, blobs, m->n_layers + 1, &o->progress, err);
        free(blobs);
        if (r < 0)
                return r;
        say(&o->progress, "Copying config %s done", m->config.digest);
        say(&o->progress, "Writing manifest to image destination");
        r = blob_put(e, body, len, d, err);
        if (r >= 0 && !streq(d, mdigest))
                r = cpod_error(err, EBADMSG, "manifest digest %s, expected %s", d, mdigest);
        return r;
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
        if (r >= 0)
                r = pull_blobs(e, c, repo, &m, body, len, mdigest, o, &added, err);
        if (r >= 0 && asprintf(&full, "%s@%s", name, mdigest) < 0)
                r = cpod_error(err, ENOMEM, "out of memory");
        if (r >= 0) {
                const char *names[1] = {full};
                r = image_commit_manifest(e, mdigest, names, 1, ret_id, err);
        }
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
