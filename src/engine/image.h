/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Images: what the CLI's image commands and the API's image methods do.
 * References resolve like podman: a full name, a short name (matched
 * against local names through registries.conf's unqualified search
 * registries and aliases, then "localhost/"), an image ID or a unique
 * prefix of one, or name@digest.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "engine.h"

typedef struct Image {
        char id[65]; /* config digest hex */
        char manifest_digest[DIGEST_MAX];
        char **names; /* "docker.io/library/busybox:latest", sorted */
        size_t n_names;
        char **digests; /* "docker.io/library/busybox@sha256:…" */
        size_t n_digests;
        int64_t created; /* from the config, unix seconds */
        uint64_t size;   /* uncompressed bytes of the layers */
        char **layers;   /* chain ids, bottom first */
        size_t n_layers;
        unsigned containers; /* containers using it */
} Image;

void image_done(Image *img);
void image_array_free(Image *imgs, size_t n);

/* All images, newest first. */
int image_list(Engine *e, Image **ret, size_t *ret_n, CpodError *err);
/* The uncompressed size of each of the image's layers (ret_sizes holds
 * img->n_layers entries, bottom first); -ENOENT when a layer is gone. */
int image_layer_sizes(Engine *e, const Image *img, uint64_t *ret_sizes, CpodError *err);
/* Resolve a reference to one image; -ENOENT "image not known", -EINVAL for
 * a malformed reference, -ENOTUNIQ for an ambiguous ID prefix. */
int image_get(Engine *e, const char *ref, Image *ret, CpodError *err);
/* The raw manifest and config of an image (malloc'ed, NUL-terminated). */
int image_read_manifest(Engine *e, const Image *img, char **ret, CpodError *err);
int image_read_config(Engine *e, const Image *img, char **ret, CpodError *err);

/* Add a name (normalized; a short name becomes localhost/NAME:latest, as podman does). */
int image_tag(Engine *e, const char *ref, const char *new_name, CpodError *err);
/* Remove a name (NULL: every name of the image). */
int image_untag(Engine *e, const char *ref, const char *name, CpodError *err);
/* Remove an image by reference: a name that is one of several only drops
 * that name; otherwise the image, its unused layers and blobs go. force
 * also removes images used by containers (and those containers, later), and
 * images referenced by ID or digest that have several names (refused with
 * -EBUSY otherwise, as podman does). Returns 1 when only the name was
 * dropped (*ret_removed_id NULL: "Untagged"), 0 when the image went
 * (*ret_removed_id its ID: "Deleted"). */
int image_remove(Engine *e, const char *ref, bool force, char **ret_removed_id, CpodError *err);
/* Remove dangling images (all: every image no container uses). */
int image_prune(Engine *e, bool all, char ***ret_ids, size_t *ret_n, CpodError *err);

/*
 * Store an image whose manifest, config and layer blobs are in the blob
 * store: extract missing layers, verify diff_ids against the config, and
 * record the image with names (may be empty) atomically. Returns the ID.
 * Names already on another image move to this one (podman's behaviour).
 */
int image_commit_manifest(Engine *e, const char *manifest_digest, const char *const *names, size_t n_names,
                          char ret_id[65], CpodError *err);
/* As image_commit_manifest, with layers already extracted and verified while they downloaded:
 * staged[i] (the array may be NULL, or hold NULLs) is layer i, published instead of extracted again.
 * The caller frees them afterwards with layer_staged_free (a published one has nothing left to remove). */
struct LayerStaged;
int image_commit_manifest_staged(Engine *e, const char *manifest_digest, const char *const *names,
                                 size_t n_names, struct LayerStaged **staged, char ret_id[65],
                                 CpodError *err);

/* load: docker-archive (tar with manifest.json), oci-archive (tar of an OCI
 * layout), or an oci layout directory; format detected. Returns the names
 * (or IDs for untagged images) loaded. */
int image_load(Engine *e, const char *path, char ***ret_names, size_t *ret_n, CpodError *err);

typedef enum ImageFormat {
        IMAGE_FORMAT_DOCKER_ARCHIVE,
        IMAGE_FORMAT_OCI_ARCHIVE,
        IMAGE_FORMAT_OCI_DIR,
} ImageFormat;

/* save one or more images (a docker-archive may hold several; OCI forms
 * take one per call unless multi is given). path "-" is stdout. */
int image_save(Engine *e, const char *const *refs, size_t n_refs, ImageFormat format, const char *path,
               CpodError *err);

/* import: a rootfs tarball (plain or compressed, path or "-") as a one-layer
 * image, with Dockerfile-style changes (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL,
 * USER, WORKDIR, VOLUME, STOPSIGNAL) and a history comment. */
int image_import(Engine *e, const char *tarball, const char *name, const char *message,
                 const char *const *changes, size_t n_changes, char ret_id[65], CpodError *err);
/* export: the image's flattened root filesystem as a tar to path ("-" stdout). */
int image_export(Engine *e, const char *ref, const char *path, CpodError *err);

/* Mount the image's root filesystem read-only (overlay of its layers) and
 * return the mount point; counted, unmount releases. */
int image_mount(Engine *e, const char *ref, char **ret_path, CpodError *err);
int image_unmount(Engine *e, const char *ref, bool force, CpodError *err);

/* Store-wide maintenance (cpod system ...). */
typedef struct StoreReport {
        char **problems; /* human-readable, one per finding */
        size_t n_problems;
        unsigned repaired;
} StoreReport;
int store_check(Engine *e, bool repair, StoreReport *ret, CpodError *err);
void store_report_done(StoreReport *r);
int store_reset(Engine *e, CpodError *err);
typedef struct StoreUsage {
        unsigned images, images_active, layers, containers, volumes;
        uint64_t images_size, images_reclaimable, layers_size;
} StoreUsage;
int store_usage(Engine *e, StoreUsage *ret, CpodError *err);
