/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The listing of cpod ps, shared by local mode (cmd-ps.c, containers from the store) and remote mode
 * (remote-ps.c, containers from io.podman's Ps records): both fill Containers and ps_print() filters and
 * prints them. */

#include "cmd-container.h"
#include "output.h"

typedef struct PsArgs {
        bool all, quiet, no_trunc, size;
        int64_t last; /* -1: all */
        Output out;
        char **filters;
        size_t n_filters;
} PsArgs;

typedef struct PsSource PsSource;
struct PsSource {
        /* Whether the image REF names is the one with ID image_id (the ancestor= filter). */
        bool (*image_is)(PsSource *src, const char *ref, const char *image_id);
        /* Adds the cells only the source knows to a row and its JSON item; NULL: none. <0 on failure. */
        int (*decorate)(PsSource *src, const Container *c, const PsArgs *a, VlJson *row, VlJson *item);
        Engine *engine;
        Cli *cli;
};

/* Parses the options of cpod ps: 0 to go on, <0 to exit with CLI_EXIT_OK (--help), >0 the exit code. */
int ps_parse_args(Cli *cli, int argc, char **argv, PsArgs *a);

/* Prints the containers that pass the filters; -EINVAL (err unset) for a filter error, printed. */
int ps_print(PsSource *src, const Container *cs, size_t n, const PsArgs *a, CpodError *err);
