/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Weak stand-ins for engine functions, linked only into cpod-varlink-dev so
 * that the service can be run and tested while parts of the engine are
 * still being written. Each fails with ENOSYS; a real definition in the
 * engine replaces it at link time. Not part of cpod itself.
 */

#include <errno.h>
#include <stdlib.h>

#include "engine.h"
#include "image.h"
#include "registries.h"

#define FALLBACK     __attribute__((weak))
#define MISSING(err) cpod_error((err), ENOSYS, "%s: not implemented yet", __func__)

FALLBACK int engine_open(const EngineOptions *o, Engine **ret, CpodError *err) {
        return MISSING(err);
}
FALLBACK Engine *engine_close(Engine *e) {
        return NULL;
}
FALLBACK const char *engine_root(Engine *e) {
        return "";
}
FALLBACK const char *engine_runroot(Engine *e) {
        return "";
}
FALLBACK const char *engine_storage_driver(Engine *e) {
        return "";
}
FALLBACK void image_done(Image *img) {
}
FALLBACK void image_array_free(Image *imgs, size_t n) {
        free(imgs);
}
FALLBACK int image_list(Engine *e, Image **ret, size_t *ret_n, CpodError *err) {
        return MISSING(err);
}
FALLBACK int image_get(Engine *e, const char *ref, Image *ret, CpodError *err) {
        return MISSING(err);
}
FALLBACK int image_read_manifest(Engine *e, const Image *img, char **ret, CpodError *err) {
        return MISSING(err);
}
FALLBACK int image_read_config(Engine *e, const Image *img, char **ret, CpodError *err) {
        return MISSING(err);
}
FALLBACK int image_tag(Engine *e, const char *ref, const char *new_name, CpodError *err) {
        return MISSING(err);
}
FALLBACK int image_untag(Engine *e, const char *ref, const char *name, CpodError *err) {
        return MISSING(err);
}
FALLBACK int image_remove(Engine *e, const char *ref, bool force, char **ret_removed_id, CpodError *err) {
        return MISSING(err);
}
FALLBACK int image_prune(Engine *e, bool all, char ***ret_ids, size_t *ret_n, CpodError *err) {
        return MISSING(err);
}
FALLBACK int image_load(Engine *e, const char *path, char ***ret_names, size_t *ret_n, CpodError *err) {
        return MISSING(err);
}
FALLBACK int image_save(Engine *e, const char *const *refs, size_t n_refs, ImageFormat format,
                        const char *path, CpodError *err) {
        return MISSING(err);
}
FALLBACK int image_import(Engine *e, const char *tarball, const char *name, const char *message,
                          const char *const *changes, size_t n_changes, char ret_id[65], CpodError *err) {
        return MISSING(err);
}
FALLBACK int store_usage(Engine *e, StoreUsage *ret, CpodError *err) {
        return MISSING(err);
}
FALLBACK int store_reset(Engine *e, CpodError *err) {
        return MISSING(err);
}
FALLBACK int registries_load(const char *path, Registries *ret, CpodError *err) {
        return MISSING(err);
}
FALLBACK void registries_done(Registries *r) {
}
