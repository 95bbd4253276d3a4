/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "varlink-tool.h"

int cmd_resolve(Cli *cli, int argc, char **argv) {
        _cleanup_free_ char *address = NULL;
        int r;

        r = cli_parse_no_options(argc, argv);
        if (r <= 0)
                return -r;
        if (optind >= argc) {
                fprintf(stderr, "varlink: missing INTERFACE\n");
                return CLI_EXIT_MISSING_ARGUMENT;
        }
        if (argc - optind > 1 || !vl_interface_name_valid(argv[optind])) {
                fprintf(stderr, "varlink: resolve takes one INTERFACE name\n");
                return CLI_EXIT_INVALID_ARGUMENT;
        }
        r = cli_resolve(cli, argv[optind], &address);
        if (r != CLI_EXIT_OK)
                return r;
        printf("%s\n", address);
        return CLI_EXIT_OK;
}
