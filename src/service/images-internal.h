/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Parameters of the image methods (images.c, images-io.c). */

#include <stdbool.h>
#include <stddef.h>

#include "registry.h"
#include "service-internal.h"

/* Names a caller may pass in one list (tags, changes). */
#define MAX_LIST 1024

typedef struct ImageArgs {
        const char *name;  /* "name" or "id" */
        const char *other; /* tagged, tag, destination, reference, inputFile */
        const char *source, *message;
        const VlJson *list; /* changes, tags, filter */
        bool force, flag;   /* force; compress, delete, all, quiet */
        bool delete_file;
} ImageArgs;

/* Fill a from params; on failure the call has been answered (InvalidParameter). */
int svc_image_args(VlCall *call, const VlJson *params, ImageArgs *a);
/* The strings of a []string parameter (borrowed, NULL-terminated array
 * malloc'ed), at most MAX_LIST; on failure the call may have been answered. */

/* The engine and the image a.name names; on failure the call has been
 * answered (ErrorOccurred or ImageNotFound). */
int svc_get_image(VlCall *call, Service *svc, const ImageArgs *a, Engine **ret_e, Image *ret);

/* Where the status lines of a pull or push go (images-registry.c): each one as its own
 * MoreResponse reply with more, else collected for the final reply. */
typedef struct Progress {
        VlCall *call;
        VlJson *logs; /* without more */
        char **seen;  /* digests already reported on, so a blob gets one line */
        size_t n_seen;
        int error; /* first failure to reply or allocate */
} Progress;

int progress_init(Progress *p, VlCall *call, RegistryProgress *ret);
/* The final reply {reply: MoreResponse}: the logs collected (none with more) and id. */
int progress_finish(Progress *p, const char *id);
void progress_done(Progress *p);

int images_io_bind(VlServer *s, Service *svc);
