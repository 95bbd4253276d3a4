/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpod system check, df, info and reset: the store as a whole; cpod system service: the API service; cpod
 * info. */
#include <string.h>

#include "cpod.h"
#include "output.h"
#include "remote-ext.h"
#include "service.h"
#include "yaml.h"

static int cmd_system_service(Cli *cli, int argc, char **argv);

const CliCommand cli_system_commands[] = {
        {"check", "[options]", "Check the store for consistency and repair it", cmd_system_check, NULL},
        {"df", "[options]", "Show cpod disk usage", cmd_system_df, NULL},
        {"info", "[options]", "Display cpod system information", cmd_info, NULL},
        {"reset", "[options]", "Reset cpod storage", cmd_system_reset, NULL},
        {"service", "[options] [ADDRESS]", "Run the API service", cmd_system_service, NULL},
        {},
};

int cmd_system_check(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"repair", no_argument, NULL, 'r'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        StoreReport report = {};
        CpodError err = {};
        bool repair = false;
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "rh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(
                                cli, "  -r, --repair   Remove inconsistent images and leftovers\n");
                repair = repair || c == 'r';
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0)
                return CLI_EXIT_ERROR;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = store_check(e, repair, &report, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        return system_check_print(&report);
}

int system_check_print(StoreReport *report) {
        size_t left;

        for (size_t i = 0; i < report->n_problems; i++)
                puts(report->problems[i]);
        if (report->repaired > 0)
                printf("Repaired %u problem%s\n", report->repaired, report->repaired == 1 ? "" : "s");
        left = report->n_problems > report->repaired ? report->n_problems - report->repaired : 0;
        store_report_done(report);
        if (left > 0)
                return cli_error(CLI_EXIT_ERROR, "%zu problem%s found; run 'cpod system check --repair'",
                                 left, left == 1 ? "" : "s");
        return CLI_EXIT_OK;
}

static const OutputColumn df_columns[] = {
        {"Type", "TYPE"},
        {"Total", "TOTAL"},
        {"Active", "ACTIVE"},
        {"Size", "SIZE"},
        {"Reclaimable", "RECLAIMABLE"},
        {},
};

static VlJson *df_row(const char *type, unsigned total, unsigned active, uint64_t size,
                      uint64_t reclaimable) {
        char s[32], rs[32], rec[48];
        VlJson *o = vl_json_new_object();
        int r = 0;

        if (!o)
                return NULL;
        snprintf(rec, sizeof(rec), "%s (%u%%)", output_size(reclaimable, 4, false, rs, sizeof(rs)),
                 size > 0 ? (unsigned)(reclaimable * 100 / size) : 0);
        r |= vl_json_object_set_string(o, "Type", type);
        r |= vl_json_object_set_int(o, "Total", total);
        r |= vl_json_object_set_int(o, "Active", active);
        r |= vl_json_object_set_string(o, "Size", output_size(size, 4, false, s, sizeof(s)));
        r |= vl_json_object_set_string(o, "Reclaimable", rec);
        r |= vl_json_object_set_int(o, "RawSize", (int64_t)size);
        r |= vl_json_object_set_int(o, "RawReclaimable", (int64_t)reclaimable);
        return r < 0 ? vl_json_unref(o) : o;
}

int cmd_system_df(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"format", required_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        StoreUsage u = {};
        CpodError err = {};
        Output out = {};
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "h", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli,
                                                "      --format string   Pretty-print images using a Go "
                                                "template\n");
                out.format = optarg;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0)
                return CLI_EXIT_ERROR;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = store_usage(e, &u, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        r = system_df_print(&u, &out, &err);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

int system_df_print(const StoreUsage *u, const Output *out, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *rows = vl_json_new_array();

        if (!rows ||
            vl_json_array_append(rows, df_row("Images", u->images, u->images_active, u->images_size,
                                              u->images_reclaimable)) < 0 ||
            vl_json_array_append(rows, df_row("Containers", u->containers, 0, 0, 0)) < 0 ||
            vl_json_array_append(rows, df_row("Local Volumes", u->volumes, 0, 0, 0)) < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        return output_print(out, df_columns, rows, NULL, err);
}

int cmd_system_reset(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"force", no_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        CpodError err = {};
        bool force = false;
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "fh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, "  -f, --force   Do not prompt for confirmation\n");
                force = force || c == 'f';
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0)
                return CLI_EXIT_ERROR;
        if (!force && !cli_confirm("WARNING! This will remove:\n"
                                   "        - all containers\n"
                                   "        - all pods\n"
                                   "        - all images\n"
                                   "        - all volumes\n"
                                   "Are you sure you want to continue?"))
                return CLI_EXIT_OK;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = store_reset(e, &err);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

static const char service_help[] =
        "  -t, --timeout MS   exit after MS milliseconds without connections (0: never, the default)\n"
        "      --varlink      serve the Varlink API (the only one cpod serves; accepted for podman's\n"
        "                     command line)\n"
        "\n"
        "Serves io.podman, io.projectatomic.podman and io.cpod as `cpod varlink` does: socket\n"
        "activation first, else ADDRESS (default unix:/run/podman/io.podman, or\n"
        "unix:$XDG_RUNTIME_DIR/podman/io.podman when not root).\n";

/* podman 1.x's `podman system service --varlink [--timeout MS] [ADDRESS]`: `cpod varlink` under another
 * name, --varlink accepted and implied. */
static int cmd_system_service(Cli *cli, int argc, char **argv) {
        _cleanup_free_ char **v = calloc((size_t)argc + 1, sizeof(char *));
        bool options = true;
        int n = 0;

        if (!v)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        v[n++] = "varlink";
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (options && streq(a, "--"))
                        options = false; /* and passed on: the address may start with '-' */
                else if (options && (streq(a, "--varlink") || streq(a, "--varlink=true")))
                        continue;
                else if (options && startswith(a, "--varlink="))
                        return cli_error(CLI_EXIT_ERROR,
                                         "only the Varlink API is served: %s is not supported", a);
                else if (options && (streq(a, "-h") || streq(a, "--help")))
                        return cli_command_help(cli, service_help);
                else if (options && (streq(a, "-t") || streq(a, "--timeout")) && i + 1 < argc) {
                        v[n++] = argv[i++];
                        v[n++] = argv[i];
                        continue;
                }
                v[n++] = argv[i];
        }
        return cmd_varlink(cli, n, v);
}

static const char info_help[] =
        "  -f, --format string   Change the output format to JSON or a Go template\n";

int system_info_print(const VlJson *info, const char *format, CpodError *err) {
        if (format && output_is_json(format))
                return output_json(info, 4);
        if (format) {
                _cleanup_(vl_json_unrefp) VlJson *items = vl_json_new_array();
                if (!items || vl_json_array_append(items, vl_json_ref((VlJson *)info)) < 0)
                        return cpod_error(err, ENOMEM, "out of memory");
                return output_print_each(format, items, err);
        }
        VlBuf b = VL_BUF_INIT;
        int r = yaml_write(&b, info);
        if (r >= 0)
                fwrite(b.data, 1, b.len, stdout);
        vl_buf_free(&b);
        return r < 0 ? cpod_error(err, -r, "out of memory") : 0;
}

int cli_info_args(Cli *cli, int argc, char **argv, const char **ret_format) {
        static const struct option options[] = {
                {"format", required_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;

        *ret_format = NULL;
        while ((c = cli_getopt(cli, argc, argv, "f:h", options)) >= 0) {
                if (c == 'h') {
                        cli_command_help(cli, info_help);
                        return -1;
                }
                *ret_format = optarg;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0)
                return CLI_EXIT_ERROR;
        return 0;
}

/* `cpod info`, `cpod system info`: what the service's GetInfo answers, as YAML, JSON or a template. */
int cmd_info(Cli *cli, int argc, char **argv) {
        _cleanup_(vl_json_unrefp) VlJson *info = NULL;
        const char *format;
        CpodError err = {};
        Engine *e;
        int r = cli_info_args(cli, argc, argv, &format);

        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = service_info(e, &cli->options, true, &info, &err);
        if (r >= 0)
                r = system_info_print(info, format, &err);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}
