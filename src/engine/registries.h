/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * registries.conf (containers-registries.conf(5), v2 format): the file and
 * every *.conf in registries.conf.d/ beside it, later files overriding.
 */

#include <stdbool.h>

#include "error.h"

typedef struct Registry {
        char *prefix; /* "location" or "prefix" */
        char *location;
        bool insecure, blocked;
        char **mirrors;
        size_t n_mirrors;
} Registry;

typedef struct Registries {
        char **search; /* unqualified-search-registries */
        size_t n_search;
        char **alias_names, **alias_values; /* [aliases] */
        size_t n_aliases;
        Registry *registries;
        size_t n_registries;
        char *short_name_mode; /* "enforcing", "permissive", "disabled" */
} Registries;

/* Load path (NULL: /etc/containers/registries.conf); a missing file is an
 * empty configuration. */
int registries_load(const char *path, Registries *ret, CpodError *err);
void registries_done(Registries *r);
/* The alias for a short name ("busybox" -> "docker.io/library/busybox"), or NULL. */
const char *registries_alias(const Registries *r, const char *short_name);
/* The [[registry]] entry that matches a full reference's repository, or NULL. */
const Registry *registries_find(const Registries *r, const char *repository);
