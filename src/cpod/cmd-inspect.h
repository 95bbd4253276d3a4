/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* cpod inspect, shared by local mode (cmd-image.c, documents from the store) and remote mode
 * (remote-inspect.c, the service's documents): a container first, then an image, printed together. */

#include "cpod.h"

typedef struct InspectSource InspectSource;
struct InspectSource {
        /* The inspect document of the container or image REF names; -ENOENT: none. */
        int (*container)(InspectSource *src, const char *ref, VlJson **ret, CpodError *err);
        int (*image)(InspectSource *src, const char *ref, VlJson **ret, CpodError *err);
        Engine *engine;
        Cli *cli;
};

/* Parses the options of cpod inspect into *type and *format: 0 to go on, <0 for --help, >0 the exit code. */
int inspect_parse_args(Cli *cli, int argc, char **argv, const char **type, const char **format);

/* Inspects each of refs and prints the documents found, then the errors: the exit code. */
int inspect_print(InspectSource *src, const char *type, char **refs, int n_refs, const char *format);
