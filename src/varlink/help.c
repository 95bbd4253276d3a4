/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <getopt.h>

#include "varlink-tool.h"

static void print_text(const char *s) {
        size_t n = strlen(s);

        fwrite(s, 1, n, stdout);
        if (n == 0 || s[n - 1] != '\n')
                putchar('\n');
}

/* The canonical form when the description parses; the service's own text when it does not, so that a
 * description we cannot read is still shown. */
static int describe(VlClient *c, const char *interface) {
        _cleanup_free_ char *description = NULL, *text = NULL;
        VlInterface *iface = NULL;
        int r;

        r = cli_get_interface(c, interface, &iface, &description);
        if (r == CLI_EXIT_INVALID_MESSAGE && description) {
                print_text(description);
                return CLI_EXIT_OK;
        }
        if (r != CLI_EXIT_OK)
                return r;
        text = vl_interface_format(iface, cli_color() ? VL_IDL_FORMAT_COLOR : 0);
        vl_interface_free(iface);
        if (!text)
                return cli_call_failed("format", -ENOMEM);
        print_text(text);
        return CLI_EXIT_OK;
}

static int describe_all(VlClient *c) {
        _cleanup_json_ VlJson *info = NULL;
        const VlJson *e;
        bool first = true;
        int r;

        r = cli_simple_call(c, "org.varlink.service.GetInfo", NULL, &info);
        if (r != CLI_EXIT_OK)
                return r;
        VL_JSON_FOREACH_ELEMENT (e, vl_json_object_get(info, "interfaces")) {
                const char *name = vl_json_get_string(e);
                if (!name)
                        continue;
                if (!first)
                        putchar('\n');
                first = false;
                r = describe(c, name);
                if (r != CLI_EXIT_OK)
                        return r;
        }
        return CLI_EXIT_OK;
}

int cmd_help(Cli *cli, int argc, char **argv) {
        _cleanup_client_ VlClient *c = NULL;
        const CliCommand *cmd;
        const char *name = argv[0];
        CliTarget t = {};
        int r, consumed = 0;

        r = cli_parse_no_options(argc, argv);
        if (r <= 0)
                return -r;
        argc -= optind;
        argv += optind;
        if (argc == 0 && !cli->activate && !cli->bridge) {
                if (streq(name, "help")) {
                        cli_usage(stdout);
                        return CLI_EXIT_OK;
                }
                fprintf(stderr, "varlink: missing ADDRESS\n");
                return CLI_EXIT_MISSING_ARGUMENT;
        }
        if (argc == 1 && (cmd = cli_find_command(argv[0])))
                return cli_command_usage(cmd, stdout);

        if (argc > 0) {
                r = cli_target_interface(cli, argc, argv, &t, &consumed);
                if (r != CLI_EXIT_OK)
                        return r;
                if (consumed < argc) {
                        fprintf(stderr, "varlink: unexpected argument '%s'\n", argv[consumed]);
                        cli_target_done(&t);
                        return CLI_EXIT_INVALID_ARGUMENT;
                }
        }
        r = cli_connect(cli, t.address, t.interface, &c);
        if (r == CLI_EXIT_OK)
                r = t.interface ? describe(c, t.interface) : describe_all(c);
        cli_target_done(&t);
        return r;
}
