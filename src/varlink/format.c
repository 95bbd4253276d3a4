/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>

#include "varlink-tool.h"

/* Reads and parses one file; prints "file:line:col: message" when it does not parse. */
static int load(const char *path, char **ret_text, VlInterface **ret) {
        VlIdlError err = {};
        size_t len;
        int r;

        r = cli_read_file(path, ret_text, &len);
        if (r < 0) {
                fprintf(stderr, "varlink: cannot read %s: %s\n", path, strerror(-r));
                return CLI_EXIT_INVALID_ARGUMENT;
        }
        r = vl_interface_parse(*ret_text, len, ret, &err);
        if (r == -ENOMEM)
                return cli_call_failed("parse", r);
        if (r < 0) {
                fprintf(stderr, "%s:%u:%u: %s\n", streq(path, "-") ? "<stdin>" : path, err.line, err.column,
                        err.message);
                return CLI_EXIT_INVALID_ARGUMENT;
        }
        return CLI_EXIT_OK;
}

/* Replaces path's content without a window where it is half written. */
static int write_in_place(const char *path, const char *text) {
        _cleanup_free_ char *tmp = NULL;
        struct stat st;
        int fd, r;

        if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (stat(path, &st) == 0)
                (void)fchmod(fd, st.st_mode & 07777);
        r = cli_write_all(fd, text, strlen(text));
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                unlink(tmp);
        return r;
}

static int format_one(const char *path, bool check, bool in_place) {
        _cleanup_free_ char *text = NULL, *canonical = NULL;
        VlInterface *iface = NULL;
        int r;

        r = load(path, &text, &iface);
        if (r != CLI_EXIT_OK)
                return r;
        canonical = vl_interface_format(iface, !check && !in_place && cli_color() ? VL_IDL_FORMAT_COLOR : 0);
        vl_interface_free(iface);
        if (!canonical)
                return cli_call_failed("format", -ENOMEM);
        if (check) {
                if (streq(canonical, text))
                        return CLI_EXIT_OK;
                fprintf(stderr, "%s: not in canonical form\n", path);
                return CLI_EXIT_PANIC;
        }
        if (in_place) {
                if (streq(canonical, text))
                        return CLI_EXIT_OK;
                r = write_in_place(path, canonical);
                if (r < 0) {
                        fprintf(stderr, "varlink: cannot write %s: %s\n", path, strerror(-r));
                        return CLI_EXIT_PANIC;
                }
                return CLI_EXIT_OK;
        }
        fputs(canonical, stdout);
        return CLI_EXIT_OK;
}

/* Invalid input outranks "not canonical": it is the more serious finding. */
static int worse(int a, int b) {
        if (a == CLI_EXIT_OK)
                return b;
        if (b == CLI_EXIT_OK)
                return a;
        return a == CLI_EXIT_INVALID_ARGUMENT ? a : b;
}

int cmd_format(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"check", no_argument, NULL, 'c'},
                {"in-place", no_argument, NULL, 'i'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        bool check = false, in_place = false;
        int c, result = CLI_EXIT_OK;

        while ((c = getopt_long(argc, argv, "cih", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        check = true;
                        break;
                case 'i':
                        in_place = true;
                        break;
                case 'h':
                        return cli_command_usage(cli_find_command(argv[0]), stdout);
                default:
                        return CLI_EXIT_INVALID_ARGUMENT;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "varlink: missing FILE\n");
                return CLI_EXIT_MISSING_ARGUMENT;
        }
        for (int i = optind; i < argc; i++) {
                if (in_place && streq(argv[i], "-")) {
                        fprintf(stderr, "varlink: --in-place needs a file, not standard input\n");
                        result = worse(result, CLI_EXIT_INVALID_ARGUMENT);
                        continue;
                }
                result = worse(result, format_one(argv[i], check, in_place));
        }
        return result;
}

int cmd_validate(Cli *cli, int argc, char **argv) {
        int r, result = CLI_EXIT_OK;

        r = cli_parse_no_options(argc, argv);
        if (r <= 0)
                return -r;
        if (optind >= argc) {
                fprintf(stderr, "varlink: missing FILE\n");
                return CLI_EXIT_MISSING_ARGUMENT;
        }
        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *text = NULL;
                VlInterface *iface = NULL;

                r = load(argv[i], &text, &iface);
                vl_interface_free(iface);
                if (r != CLI_EXIT_OK)
                        result = r;
        }
        return result;
}
