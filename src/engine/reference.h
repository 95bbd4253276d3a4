/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Image references, with the grammar and normalization users know from
 * podman and docker:
 *   [domain[:port]/]path[:tag][@sha256:hex]
 * A domain is the first component when it contains '.' or ':' or is
 * "localhost". A name without a domain is a short name (resolved through
 * registries.conf, see registries.h). "docker.io/busybox" normalizes to
 * "docker.io/library/busybox"; a missing tag is "latest" when there is no
 * digest. Path components are lowercase [a-z0-9] separated by '.', '_',
 * '__' or '-'+; tags are [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; the whole name
 * is at most 255 characters.
 */

#include <stdbool.h>

#include "error.h"

typedef struct Reference {
        char *domain; /* NULL for a short name */
        char *path;   /* "library/busybox" */
        char *tag;    /* NULL if absent */
        char *digest; /* "sha256:..." or NULL */
} Reference;

/* Parse; -EINVAL with a message that says what is wrong ("invalid reference
 * format: repository name must be lowercase"). */
int reference_parse(const char *s, Reference *ret, CpodError *err);
void reference_done(Reference *r);

bool reference_is_short(const Reference *r);
/* Fill in the docker.io "library/" prefix and the "latest" tag where they
 * are implied (a short name gets domain when given, else stays short). */
int reference_normalize(Reference *r, const char *domain);
/* "domain/path:tag" or "domain/path@digest" or both ("…:tag@digest"). */
char *reference_string(const Reference *r);
/* "domain/path" */
char *reference_repository(const Reference *r);

/* True if s looks like an image ID or a prefix of one (3..64 hex digits),
 * optionally "sha256:"-prefixed. */
bool reference_is_id_prefix(const char *s);
