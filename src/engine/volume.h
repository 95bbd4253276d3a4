/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Named and anonymous volumes (driver "local"): a directory
 * <root>/volumes/<name>/_data that containers bind-mount, and a row in the
 * volumes table. A volume created with options (--opt type=tmpfs|bind|<fs>,
 * device=, o=) is mounted with mount(2) on its _data directory while at
 * least one container uses it, and unmounted when the last user releases
 * it: a tmpfs volume's content is gone then.
 *
 * A container "uses" a volume from its creation to its removal
 * (container_volumes rows, written by volume_container_use and dropped by
 * volume_container_release). A volume in use is not removed or pruned,
 * unless removal is forced and no running container uses it: then the
 * stopped containers keep a mount whose source is gone, and fail to start.
 *
 * The first time a container mounts a volume that is empty (NeedsCopyUp),
 * the image's content at the mount destination is copied into it, with
 * the owner and mode of the image's directory, as podman does.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vl/json.h>

#include "engine.h"

typedef struct Volume {
        char *name;
        char *driver;     /* "local" */
        char *mountpoint; /* <root>/volumes/<name>/_data */
        int64_t created;  /* unix nanoseconds */
        VlJson *labels;   /* object of strings */
        VlJson *options;  /* object of strings: type, device, o */
        bool anonymous, needs_copy_up, needs_chown;
        unsigned users; /* containers using it */
} Volume;

void volume_done(Volume *v);
void volume_array_free(Volume *v, size_t n);

typedef struct VolumeCreateOptions {
        const char *name;   /* NULL or "": a generated 64-hex name */
        const char *driver; /* NULL or "local" */
        char **labels;      /* "K=V" or "K" */
        size_t n_labels;
        char **options; /* "type=tmpfs", "device=tmpfs", "o=size=10m,mode=700" */
        size_t n_options;
        bool anonymous;
} VolumeCreateOptions;

/* True for names podman accepts: [a-zA-Z0-9][a-zA-Z0-9_.-]*. */
bool volume_name_valid(const char *name);

/* Create a volume; *ret_name (malloc'ed, may be NULL) gets its name. -EEXIST
 * when the name is taken, -EINVAL for a bad name, driver or option. */
int volume_create(Engine *e, const VolumeCreateOptions *o, char **ret_name, CpodError *err);
/* Load one volume by exact name. -ENOENT "no such volume NAME". */
int volume_get(Engine *e, const char *name, Volume *ret, CpodError *err);
/* 1 when the volume exists, 0 when not, <0 on error. */
int volume_exists(Engine *e, const char *name, CpodError *err);
/* Volumes sorted by name, filtered by "key=value" filters: name= (regular
 * expression), label=K or label=K=V, driver=, dangling=true|false, opt=K or
 * opt=K=V. Filters with the same key are alternatives, different keys must
 * all match. -EINVAL for an unknown filter. */
int volume_list(Engine *e, const char *const *filters, size_t n_filters, Volume **ret, size_t *ret_n,
                CpodError *err);
/* podman's volume inspect document of v. NULL when out of memory. */
VlJson *volume_to_json(const Volume *v);
int volume_inspect(Engine *e, const char *name, VlJson **ret, CpodError *err);
/* Remove a volume and its files. In use: -EBUSY unless force; with force it
 * is removed unless a running (or paused) container uses it. */
int volume_remove(Engine *e, const char *name, bool force, CpodError *err);
/* Remove every volume no container uses that matches all filters (label=,
 * label!=); *ret_names (may be NULL) gets the removed names. */
int volume_prune(Engine *e, const char *const *filters, size_t n_filters, char ***ret_names, size_t *ret_n,
                 CpodError *err);

/* ---- for container creation, start and removal ---- */

/*
 * The host path to bind-mount for a volume mount. An empty name (or NULL)
 * creates an anonymous volume with a generated name; a named volume that
 * does not exist is created when create is true (else -ENOENT).
 * image_path_for_copy_up is the host path of the image's content at the
 * mount destination (NULL: nothing to copy): when the volume still needs
 * copy-up and is empty, that content is copied in first. A volume with
 * options is mounted before the copy. *ret_host_path is malloc'ed;
 * *ret_created (may be NULL) tells whether the volume was created now, so
 * a caller that fails later can remove it. ret_name (may be NULL) gets the
 * volume's name (malloc'ed; the generated one for an anonymous volume).
 */
int volume_resolve_mount(Engine *e, const char *name_or_empty, bool create,
                         const char *image_path_for_copy_up, char **ret_host_path, bool *ret_created,
                         CpodError *err);
/* As volume_resolve_mount, also returning the volume's name. */
int volume_resolve_mount_named(Engine *e, const char *name_or_empty, bool create,
                               const char *image_path_for_copy_up, char **ret_host_path, char **ret_name,
                               bool *ret_created, CpodError *err);
/* Record that a container uses a volume (idempotent) and mount the volume
 * when it has options and is not mounted. anonymous marks a volume the
 * container created for itself, removed with the container (rm -v). */
int volume_container_use(Engine *e, const char *container_id, const char *volume, bool anonymous,
                         CpodError *err);
/* Make sure every volume with options that the container uses is mounted
 * (after a reboot mounts are gone); call before starting it. */
int volume_container_mount(Engine *e, const char *container_id, CpodError *err);
/* Drop every use by the container: volumes with options nobody uses any
 * more are unmounted, and with remove_anonymous the container's anonymous
 * volumes nobody else uses are removed. */
int volume_container_release(Engine *e, const char *container_id, bool remove_anonymous, CpodError *err);
/* True when at least one container uses the volume. */
bool volume_in_use(Engine *e, const char *name);
