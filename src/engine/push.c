/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Push: a local image to a registry (blobs first, each skipped when the
 * repository has it or mounted from a repository of the same registry the
 * image came from, then the manifest exactly as stored, so a pulled image
 * keeps its digest), or to an archive or layout through image_save.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob.h"
#include "container.h"
#include "engine-internal.h"
#include "image.h"
#include "manifest.h"
#include "reference.h"
#include "registry-internal.h"
#include "util.h"

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

/* A repository of the same registry that already holds the image (from its digest names), into buf;
 * NULL when there is none. */
static const char *mount_source(const Image *img, const char *host, const char *repo, char *buf, size_t n) {
        size_t hl = strlen(host);
        for (size_t i = 0; i < img->n_digests; i++) {
                const char *d = img->digests[i];
                const char *at = strchr(d, '@');
                if (!at || strncmp(d, host, hl) != 0 || d[hl] != '/')
                        continue;
                size_t rl = (size_t)(at - d) - hl - 1;
                if (rl != strlen(repo) || strncmp(d + hl + 1, repo, rl) != 0) {
                        snprintf(buf, n, "%.*s", (int)rl, d + hl + 1);
                        return buf;
                }
        }
        return NULL;
}

static int push_blob(Engine *e, RegistryClient *c, const char *repo, const Descriptor *d, const char *from,
                     bool config, const PushOptions *o, CpodError *err) {
        const char *what = config ? "config" : "blob";
        int r = registry_blob_exists(c, repo, d->digest, err);
        if (r > 0) {
                say(&o->progress, "Copying %s %s skipped: already exists", what, d->digest);
                return 0;
        }
        if (r >= 0 && from) {
                r = registry_blob_mount(c, repo, d->digest, from, err);
                if (r > 0) {
                        say(&o->progress, "Copying %s %s skipped: already exists", what, d->digest);
                        return 0;
                }
        }
        if (r < 0)
                return r;
        _cleanup_close_ int fd = blob_open(e, d->digest, err);
        struct stat st;
        if (fd < 0)
                return cpod_error_wrap(err, "%s %s", what, d->digest);
        if (fstat(fd, &st) < 0)
                return cpod_error_errno(err, errno, "stat blob %s", d->digest);
        if (d->size >= 0 && (uint64_t)st.st_size != (uint64_t)d->size)
                return cpod_error(err, EBADMSG, "blob %s is %lld bytes, the manifest says %lld", d->digest,
                                  (long long)st.st_size, (long long)d->size);
        r = registry_blob_upload(c, repo, d->digest, fd, (uint64_t)st.st_size, o->chunk_size,
                                 config ? NULL : &o->progress, err);
        if (r < 0)
                return r;
        if (!config && o->progress.progress)
                o->progress.progress(d->digest, (uint64_t)st.st_size, (uint64_t)st.st_size,
                                     o->progress.userdata);
        if (config)
                say(&o->progress, "Copying config %s done", d->digest);
        return 0;
}

static int push_registry(Engine *e, const Image *img, const Reference *dest, const PushOptions *o,
                         char ret_digest[DIGEST_MAX], CpodError *err) {
        _cleanup_free_ char *body = NULL;
        RegistryClient *c = NULL;
        Manifest m = {};
        char d[DIGEST_MAX];

        int r = image_read_manifest(e, img, &body, err);
        if (r >= 0)
                r = manifest_parse(body, strlen(body), NULL, &m, err);
        if (r >= 0)
                r = registry_client_new(dest->domain, &o->registry, &c, err);
        if (r < 0)
                goto out;
        sha256_digest(body, strlen(body), d);
        char from_buf[512];
        const char *from = mount_source(img, dest->domain, dest->path, from_buf, sizeof(from_buf));
        say(&o->progress, "Getting image source signatures");
        for (size_t i = 0; r >= 0 && i < m.n_layers; i++)
                r = push_blob(e, c, dest->path, &m.layers[i], from, false, o, err);
        if (r >= 0)
                r = push_blob(e, c, dest->path, &m.config, from, true, o, err);
        if (r >= 0) {
                say(&o->progress, "Writing manifest to image destination");
                r = registry_put_manifest(c, dest->path, dest->tag ? dest->tag : d, body, strlen(body),
                                          m.media_type ? m.media_type : MT_OCI_MANIFEST, err);
        }
        if (r >= 0) {
                say(&o->progress, "Storing signatures");
                if (ret_digest)
                        memcpy(ret_digest, d, DIGEST_MAX);
        }
out:
        registry_client_free(c);
        manifest_done(&m);
        return r;
}

/* "oci-archive:PATH[:REF]" and friends: the format and the path (malloc'ed), or 0 when dest is no archive.
 */
static int archive_dest(const char *dest, ImageFormat *ret_format, char **ret_path) {
        static const struct {
                const char *prefix;
                ImageFormat format;
        } table[] = {
                {"oci-archive:", IMAGE_FORMAT_OCI_ARCHIVE},
                {"docker-archive:", IMAGE_FORMAT_DOCKER_ARCHIVE},
                {"oci:", IMAGE_FORMAT_OCI_DIR},
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                const char *p = startswith(dest, table[i].prefix);
                if (!p)
                        continue;
                *ret_format = table[i].format;
                *ret_path = strndup(p, strcspn(p, ":"));
                return *ret_path ? 1 : -ENOMEM;
        }
        return 0;
}

/* The registry reference to push to: dest, or the image's own name. */
static int push_target(const Image *img, const char *src, const char *dest, Reference *ret, CpodError *err) {
        const char *s = dest ? dest : NULL;
        if (!s) {
                Reference x = {};
                if (reference_parse(src, &x, NULL) >= 0 && !reference_is_short(&x))
                        s = src;
                reference_done(&x);
        }
        if (!s && img->n_names > 0)
                s = img->names[0];
        if (!s)
                return cpod_error(err, EINVAL, "%s: no destination given and the image has no name", src);
        int r = reference_parse(s, ret, err);
        if (r >= 0 && (r = reference_normalize(ret, "docker.io")) < 0)
                r = cpod_error(err, -r, "%s: %s", s, strerror(-r));
        if (r >= 0 && !ret->tag && !ret->digest)
                r = cpod_error(err, EINVAL, "%s: no tag", s);
        if (r < 0)
                reference_done(ret);
        return r;
}

int image_push(Engine *e, const char *src, const char *dest, const PushOptions *o,
               char ret_digest[DIGEST_MAX], CpodError *err) {
        _cleanup_free_ char *path = NULL, *shown = NULL;
        Image img = {};
        ImageFormat format;
        Reference target = {};

        PushOptions x = *o;
        if (!x.registry.registries_conf)
                x.registry.registries_conf = e->registries_conf;
        o = &x;
        int r = image_get(e, src, &img, err);
        if (r < 0)
                return cpod_error_wrap(err, "push %s", src);
        if (dest && startswith(dest, "docker://"))
                dest += strlen("docker://");
        r = dest ? archive_dest(dest, &format, &path) : 0;
        if (r < 0) {
                image_done(&img);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        if (r > 0) {
                const char *refs[1] = {src};
                r = image_save(e, refs, 1, format, path, err);
        } else {
                r = push_target(&img, src, dest, &target, err);
                if (r >= 0 && !(shown = reference_string(&target)))
                        r = cpod_error(err, ENOMEM, "out of memory");
                if (r >= 0)
                        r = push_registry(e, &img, &target, o, ret_digest, err);
        }
        if (r >= 0)
                (void)events_write(e, "image", "push", img.id, shown ? shown : dest, NULL, NULL);
        reference_done(&target);
        image_done(&img);
        return r < 0 ? cpod_error_wrap(err, "push %s", shown ? shown : dest ? dest : src) : 0;
}
