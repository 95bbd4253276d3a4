/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The listing of cpod images, shared by local mode (cmd-images.c, images from the store) and remote mode
 * (remote-images.c, images from io.podman's records): both fill an ImageSet and images_list() filters,
 * sorts, and prints its rows. */

#include "cpod.h"
#include "output.h"

typedef struct ImagesArgs {
        bool all, quiet, no_trunc, digests;
        Output out;
        const char *sort;
        const char **filters;
        size_t n_filters, cap_filters;
} ImagesArgs;

typedef struct ImageSet ImageSet;
struct ImageSet {
        Image *imgs;
        size_t n;
        VlJson **configs; /* per image, parsed on demand */
        VlJson **names;   /* per image, its names as a JSON array shared by its rows, built on demand */
        bool *listed;     /* per image, whether a row shows it */

        /* Where the images come from. load_config fills configs[i] (NULL: configs are filled up front);
         * created_of gives the creation time of the image REF names, for the before= and since= filters;
         * still_there says whether an image whose config is gone is still in the store (NULL: it is). */
        int (*load_config)(ImageSet *set, size_t i, VlJson **ret, CpodError *err);
        int (*created_of)(ImageSet *set, const char *ref, int64_t *ret, CpodError *err);
        bool (*still_there)(ImageSet *set, const Image *img);
        bool direct_table; /* print the default table straight from the rows */
        Engine *engine;
        Cli *cli;
};

/* Parses the options of cpod images, and its NAME argument into a reference= filter kept in *ref_filter:
 * 0 to go on, <0 to exit with CLI_EXIT_OK (--help), >0 to exit with that code (a->filters freed then). */
int images_parse_args(Cli *cli, int argc, char **argv, ImagesArgs *a, char **ref_filter);

/* Filters, sorts and prints the rows of set. */
int images_list(ImageSet *set, const ImagesArgs *a, CpodError *err);

/* Allocates configs, names and listed for set->n images; image_set_free_rows frees them. */
int image_set_alloc(ImageSet *set);
void image_set_free_rows(ImageSet *set);
