/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Image manifests, indexes and configs (OCI image spec v1 and Docker v2
 * schema 2), parsed strictly with limits: media types checked, digests
 * validated, sizes non-negative, at most MANIFEST_MAX_LAYERS layers.
 */

#include <stdint.h>

#include "digest.h"
#include "error.h"

#define MANIFEST_MAX_SIZE   (4u * 1024u * 1024u)
#define MANIFEST_MAX_LAYERS 1024u

#define MT_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG      "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER       "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZIP  "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD  "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG   "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER    "application/vnd.docker.image.rootfs.diff.tar.gzip"

typedef struct Descriptor {
        char *media_type;
        char digest[DIGEST_MAX];
        int64_t size;
        /* index entries only */
        char *os, *architecture, *variant;
} Descriptor;

typedef struct Manifest {
        bool is_index;
        char *media_type;
        Descriptor config;
        Descriptor *layers; /* or, for an index, the manifests */
        size_t n_layers;
} Manifest;

/* Parse a manifest or an index (media type from the document, or
 * media_type_hint when the document has none). */
int manifest_parse(const char *json, size_t len, const char *media_type_hint, Manifest *ret, CpodError *err);
void manifest_done(Manifest *m);

/* Pick the entry of an index for os/arch/variant (NULL: this machine's). */
const Descriptor *manifest_select(const Manifest *index, const char *os, const char *arch,
                                  const char *variant);

typedef struct ImageConfig {
        char *architecture, *os, *variant, *author;
        int64_t created; /* unix seconds, 0 if absent */
        char **diff_ids;
        size_t n_diff_ids;
        /* "config" */
        char **env, **cmd, **entrypoint, **volumes, **exposed_ports;
        size_t n_env, n_cmd, n_entrypoint, n_volumes, n_exposed_ports;
        char *user, *working_dir, *stop_signal;
        char **label_keys, **label_values;
        size_t n_labels;
        /* history */
        struct ImageHistory {
                int64_t created;
                char *created_by, *comment, *author;
                bool empty_layer;
        } * history;
        size_t n_history;
} ImageConfig;

int image_config_parse(const char *json, size_t len, ImageConfig *ret, CpodError *err);
void image_config_done(ImageConfig *c);

/* RFC 3339 timestamps (with fraction and zone) to unix seconds and back. */
int rfc3339_parse(const char *s, int64_t *ret_sec, int32_t *ret_nsec);
/* "2006-01-02T15:04:05Z" form, UTC, into buf (at least 40 bytes). */
void rfc3339_format(int64_t sec, int32_t nsec, char *buf, size_t n);
