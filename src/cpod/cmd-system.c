/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpod system check, df and reset: the store as a whole. */
#include <string.h>

#include "cpod.h"
#include "output.h"

const CliCommand cli_system_commands[] = {
        {"check", "[options]", "Check the store for consistency and repair it", cmd_system_check, NULL},
        {"df", "[options]", "Show cpod disk usage", cmd_system_df, NULL},
        {"reset", "[options]", "Reset cpod storage", cmd_system_reset, NULL},
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
        size_t left;
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
        for (size_t i = 0; i < report.n_problems; i++)
                puts(report.problems[i]);
        if (report.repaired > 0)
                printf("Repaired %u problem%s\n", report.repaired, report.repaired == 1 ? "" : "s");
        left = report.n_problems > report.repaired ? report.n_problems - report.repaired : 0;
        store_report_done(&report);
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
        _cleanup_(vl_json_unrefp) VlJson *rows = vl_json_new_array();
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
        if (!rows)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = store_usage(e, &u, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        if (vl_json_array_append(rows, df_row("Images", u.images, u.images_active, u.images_size,
                                              u.images_reclaimable)) < 0 ||
            vl_json_array_append(rows, df_row("Containers", u.containers, 0, 0, 0)) < 0 ||
            vl_json_array_append(rows, df_row("Local Volumes", u.volumes, 0, 0, 0)) < 0)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        r = output_print(&out, df_columns, rows, NULL, &err);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
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
