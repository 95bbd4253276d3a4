/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <getopt.h>

#include "varlink-tool.h"

/* The service's own address argument, optional when -A or -b say where to go. */
static int info_address(Cli *cli, int argc, char **argv, char **ret) {
        if (argc - optind > 1) {
                fprintf(stderr, "varlink: %s takes one ADDRESS\n", argv[0]);
                return CLI_EXIT_INVALID_ARGUMENT;
        }
        *ret = NULL;
        if (argc - optind == 1 && cli_normalize_address(argv[optind], ret) < 0)
                return cli_call_failed("info", -ENOMEM);
        return CLI_EXIT_OK;
}

static int get_info(Cli *cli, const char *address, VlJson **ret) {
        _cleanup_client_ VlClient *c = NULL;
        int r;

        r = cli_connect(cli, address, NULL, &c);
        if (r != CLI_EXIT_OK)
                return r;
        return cli_simple_call(c, "org.varlink.service.GetInfo", NULL, ret);
}

static void print_field(const char *label, const VlJson *info, const char *key) {
        const char *s = vl_json_get_string(vl_json_object_get(info, key));

        printf("%s: %s\n", label, s ? s : "");
}

int cmd_info(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"json", required_argument, NULL, 'j'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_free_ char *address = NULL;
        _cleanup_json_ VlJson *info = NULL;
        CliJsonMode mode = CLI_JSON_PRETTY;
        bool json = false;
        const VlJson *e;
        int c, r;

        while ((c = getopt_long(argc, argv, "hj:", options, NULL)) >= 0) {
                switch (c) {
                case 'j':
                        if (cli_parse_json_mode(optarg, &mode) < 0)
                                return CLI_EXIT_INVALID_ARGUMENT;
                        json = true;
                        break;
                case 'h':
                        return cli_command_usage(cli_find_command(argv[0]), stdout);
                default:
                        return CLI_EXIT_INVALID_ARGUMENT;
                }
        }
        r = info_address(cli, argc, argv, &address);
        if (r == CLI_EXIT_OK)
                r = get_info(cli, address, &info);
        if (r != CLI_EXIT_OK)
                return r;
        if (json)
                return cli_print_json(info, mode) < 0 ? CLI_EXIT_PANIC : CLI_EXIT_OK;

        print_field("Vendor", info, "vendor");
        print_field("Product", info, "product");
        print_field("Version", info, "version");
        print_field("URL", info, "url");
        printf("Interfaces:\n");
        VL_JSON_FOREACH_ELEMENT (e, vl_json_object_get(info, "interfaces")) {
                const char *name = vl_json_get_string(e);
                if (name)
                        printf("  %s\n", name);
        }
        return CLI_EXIT_OK;
}

int cmd_list_interfaces(Cli *cli, int argc, char **argv) {
        _cleanup_free_ char *address = NULL;
        _cleanup_json_ VlJson *info = NULL;
        const VlJson *e;
        int r;

        r = cli_parse_no_options(argc, argv);
        if (r <= 0)
                return -r;
        r = info_address(cli, argc, argv, &address);
        if (r == CLI_EXIT_OK)
                r = get_info(cli, address, &info);
        if (r != CLI_EXIT_OK)
                return r;
        VL_JSON_FOREACH_ELEMENT (e, vl_json_object_get(info, "interfaces")) {
                const char *name = vl_json_get_string(e);
                if (name)
                        printf("%s\n", name);
        }
        return CLI_EXIT_OK;
}

/* Prints "interface.Method" for each method of interface. */
static int list_methods_of(VlClient *c, const char *interface) {
        VlInterface *iface = NULL;
        int r;

        r = cli_get_interface(c, interface, &iface, NULL);
        if (r != CLI_EXIT_OK)
                return r;
        for (size_t i = 0; i < iface->n_members; i++)
                if (iface->members[i].kind == VL_MEMBER_METHOD)
                        printf("%s.%s\n", iface->name, iface->members[i].name);
        vl_interface_free(iface);
        return CLI_EXIT_OK;
}

int cmd_list_methods(Cli *cli, int argc, char **argv) {
        _cleanup_free_ char *address = NULL;
        _cleanup_client_ VlClient *c = NULL;
        _cleanup_json_ VlJson *info = NULL;
        const VlJson *e;
        int r, first;

        r = cli_parse_no_options(argc, argv);
        if (r <= 0)
                return -r;
        first = optind;
        /* The address may be omitted with -A or -b; then every argument is an interface. */
        if (first < argc && !((cli->activate || cli->bridge) && vl_interface_name_valid(argv[first]))) {
                if (cli_normalize_address(argv[first], &address) < 0)
                        return cli_call_failed("list-methods", -ENOMEM);
                first++;
        }
        r = cli_connect(cli, address, NULL, &c);
        if (r != CLI_EXIT_OK)
                return r;
        if (first < argc) {
                for (int i = first; i < argc; i++) {
                        r = list_methods_of(c, argv[i]);
                        if (r != CLI_EXIT_OK)
                                return r;
                }
                return CLI_EXIT_OK;
        }
        r = cli_simple_call(c, "org.varlink.service.GetInfo", NULL, &info);
        if (r != CLI_EXIT_OK)
                return r;
        VL_JSON_FOREACH_ELEMENT (e, vl_json_object_get(info, "interfaces")) {
                const char *name = vl_json_get_string(e);
                if (!name)
                        continue;
                r = list_methods_of(c, name);
                if (r != CLI_EXIT_OK)
                        return r;
        }
        return CLI_EXIT_OK;
}
