/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpod volume create, exists, inspect, ls, prune and rm, with podman's flags, output and exit codes. */
#include <string.h>

#include "cmd-volume.h"
#include "output.h"
#include "template.h"
#include "volume.h"

const CliCommand cli_volume_commands[] = {
        {"create", "[options] [NAME]", "Create a new volume", cmd_volume_create, NULL},
        {"exists", "VOLUME", "Volume exists", cmd_volume_exists, NULL},
        {"inspect", "[options] VOLUME [VOLUME...]", "Display detailed information on one or more volumes",
         cmd_volume_inspect, NULL},
        {"list", "[options]", "List volumes", cmd_volume_ls, NULL},
        {"ls", "[options]", "List volumes", cmd_volume_ls, NULL},
        {"prune", "[options]", "Remove all unused volumes", cmd_volume_prune, NULL},
        {"remove", "[options] VOLUME [VOLUME...]", "Remove one or more volumes", cmd_volume_rm, NULL},
        {"rm", "[options] VOLUME [VOLUME...]", "Remove one or more volumes", cmd_volume_rm, NULL},
        {},
};

static const OutputColumn volume_columns[] = {
        {"Driver", "DRIVER"},
        {"Name", "VOLUME NAME"},
        {"Mountpoint", "MOUNTPOINT", true},
        {"CreatedAt", "CREATED AT", true},
        {"Labels", "LABELS", true},
        {"Scope", "SCOPE", true},
        {"Options", "OPTIONS", true},
        {"MountCount", "MOUNT COUNT", true},
        {"NeedsCopyUp", "NEEDS COPY UP", true},
        {"NeedsChown", "NEEDS CHOWN", true},
        {},
};

/* A growable list of option values (the strings stay in argv). */
typedef struct StrList {
        char **v;
        size_t n, cap;
} StrList;

static int strlist_add(StrList *l, char *s) {
        if (VL_GROW(l->v, l->cap, l->n + 1) < 0)
                return cli_error(-ENOMEM, "out of memory");
        l->v[l->n++] = s;
        return 0;
}

/* ---- create ---- */

static const char create_options[] =
        "      --driver string     Specify volume driver name (default \"local\")\n"
        "  -l, --label strings     Set metadata for a volume (default [])\n"
        "  -o, --opt stringArray   Set driver specific options (default [])\n";

int cmd_volume_create(Cli *cli, int argc, char **argv) {
        enum { ARG_DRIVER = 0x100 };
        static const struct option options[] = {
                {"driver", required_argument, NULL, ARG_DRIVER},
                {"label", required_argument, NULL, 'l'},
                {"opt", required_argument, NULL, 'o'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        VolumeCreateOptions o = {};
        StrList labels = {}, opts = {};
        _cleanup_free_ char *name = NULL;
        CpodError err = {};
        int c, r = 0;
        Engine *e;

        while (r >= 0 && (c = cli_getopt(cli, argc, argv, "l:o:h", options)) >= 0) {
                if (c == 'h') {
                        r = -1;
                        cli_command_help(cli, create_options);
                } else if (c == ARG_DRIVER)
                        o.driver = optarg;
                else
                        r = strlist_add(c == 'l' ? &labels : &opts, optarg);
        }
        if (r >= 0 && (c == -2 || cli_check_args(cli, argc - optind, 0, 1) < 0))
                r = -EINVAL;
        if (r >= 0 && !(e = cli_engine(cli)))
                r = -EIO;
        if (r >= 0) {
                o.name = optind < argc ? argv[optind] : NULL;
                o.labels = labels.v, o.n_labels = labels.n;
                o.options = opts.v, o.n_options = opts.n;
                r = volume_create(e, &o, &name, &err);
                if (r < 0)
                        cli_engine_error(&err, r);
                else
                        puts(name);
        }
        free(labels.v);
        free(opts.v);
        return r == -1 ? CLI_EXIT_OK : r < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

/* ---- exists ---- */

int cmd_volume_exists(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {},
        };
        CpodError err = {};
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "h", options)) >= 0)
                if (c == 'h')
                        return cli_command_help(cli, "");
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 1) < 0)
                return CLI_EXIT_ERROR;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = volume_exists(e, argv[optind], &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        return r > 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

/* ---- inspect ---- */

/* The inspect documents of every volume, or of the named ones (errors printed after the output). */
static int inspect_collect(Engine *e, char **names, int n, bool all, VlJson *items, VlBuf *errors) {
        CpodError err = {};
        int status = CLI_EXIT_OK, r;

        if (all) {
                Volume *v = NULL;
                size_t nv = 0;
                r = volume_list(e, NULL, 0, &v, &nv, &err);
                if (r < 0)
                        return cli_engine_error(&err, r);
                for (size_t i = 0; i < nv; i++)
                        if (vl_json_array_append(items, volume_to_json(&v[i])) < 0)
                                status = cli_error(CLI_EXIT_ERROR, "out of memory");
                volume_array_free(v, nv);
                return status;
        }
        for (int i = 0; i < n; i++) {
                VlJson *one = NULL;
                cpod_error_clear(&err);
                r = volume_inspect(e, names[i], &one, &err);
                if (r >= 0) {
                        vl_json_array_append(items, one);
                        continue;
                }
                status = CLI_EXIT_ERROR;
                if ((errors->len > 0 && vl_buf_append_char(errors, '\n') < 0) ||
                    vl_buf_append_str(errors, "Error: inspecting object: ") < 0 ||
                    (r == -ENOENT ? (vl_buf_append_str(errors, "no such volume ") < 0 ||
                                     vl_buf_append_str(errors, names[i]) < 0)
                                  : vl_buf_append_str(errors, err.message) < 0))
                        return cli_error(CLI_EXIT_ERROR, "out of memory");
        }
        return status;
}

int cmd_volume_inspect(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"all", no_argument, NULL, 'a'},
                {"format", required_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *items = NULL;
        const char *format = NULL;
        VlBuf errors = VL_BUF_INIT;
        bool all = false;
        int c, status;
        Engine *e;

        while ((c = cli_getopt(cli, argc, argv, "af:h", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, "  -a, --all             Inspect all volumes\n"
                                                     "  -f, --format string   Format volume output using Go "
                                                     "template (default \"json\")\n");
                if (c == 'a')
                        all = true;
                else if (c == 'f')
                        format = optarg;
        }
        if (c == -2)
                return CLI_EXIT_ERROR;
        if (all == (optind < argc))
                return cli_error(CLI_EXIT_ERROR, "provide one or more volume names or use --all");
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        if (!(items = vl_json_new_array()))
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        status = inspect_collect(e, argv + optind, argc - optind, all, items, &errors);
        return cli_volume_print_inspect(format, items, &errors, status);
}

int cli_volume_print_inspect(const char *format, const VlJson *items, VlBuf *errors, int status) {
        if (format && !output_is_json(format)) {
                CpodError err = {};
                int r = output_print_each(format, items, &err);
                if (r < 0) {
                        vl_buf_free(errors);
                        return cli_engine_error(&err, r);
                }
        } else
                output_json(items, 5);
        if (errors->len > 0) {
                fflush(stdout);
                fprintf(stderr, "%.*s\n", (int)errors->len, errors->data);
        }
        vl_buf_free(errors);
        return status;
}

/* ---- ls ---- */

static const char ls_options[] = "  -f, --filter strings   Filter volume output\n"
                                 "      --format string    Format volume output using Go template (default "
                                 "\"{{range .}}{{.Driver}}\\t{{.Name}}\\n{{end -}}\")\n"
                                 "      --noheading        Do not print headers\n"
                                 "  -q, --quiet            Print volume output in quiet mode\n";

int cli_volume_print_rows(const VlJson *rows, const Output *out, bool quiet, CpodError *err) {
        if (quiet) {
                for (size_t i = 0; i < vl_json_array_length(rows); i++)
                        puts(vl_json_get_string(vl_json_object_get(vl_json_array_get(rows, i), "Name"))
                                     ?: "");
                return 0;
        }
        if (output_is_json(out->format)) /* podman's ls indents by two */
                return output_json(rows, 2);
        return output_print(out, volume_columns, rows, NULL, err);
}

static int print_volumes(const Volume *v, size_t n, const Output *out, bool quiet, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *rows = vl_json_new_array();

        if (!rows)
                return cpod_error(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++)
                if (vl_json_array_append(rows, volume_to_json(&v[i])) < 0)
                        return cpod_error(err, ENOMEM, "out of memory");
        return cli_volume_print_rows(rows, out, quiet, err);
}

int cmd_volume_ls(Cli *cli, int argc, char **argv) {
        enum { ARG_FORMAT = 0x100, ARG_NOHEADING };
        static const struct option options[] = {
                {"filter", required_argument, NULL, 'f'},
                {"format", required_argument, NULL, ARG_FORMAT},
                {"noheading", no_argument, NULL, ARG_NOHEADING},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        Output out = {};
        StrList filters = {};
        CpodError err = {};
        Volume *v = NULL;
        bool quiet = false;
        size_t n = 0;
        int c, r = 0;
        Engine *e;

        while (r >= 0 && (c = cli_getopt(cli, argc, argv, "f:qh", options)) >= 0) {
                if (c == 'h') {
                        free(filters.v);
                        return cli_command_help(cli, ls_options);
                }
                if (c == 'f')
                        r = strlist_add(&filters, optarg);
                else if (c == ARG_FORMAT)
                        out.format = optarg;
                else if (c == ARG_NOHEADING)
                        out.noheading = true;
                else if (c == 'q')
                        quiet = true;
        }
        if (r >= 0 && (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0))
                r = -EINVAL;
        if (r >= 0 && !(e = cli_engine(cli)))
                r = -EIO;
        if (r >= 0) {
                r = volume_list(e, (const char *const *)filters.v, filters.n, &v, &n, &err);
                if (r >= 0)
                        r = print_volumes(v, n, &out, quiet, &err);
                if (r < 0)
                        cli_engine_error(&err, r);
        }
        volume_array_free(v, n);
        free(filters.v);
        return r < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

/* ---- rm ---- */

/* podman's exit codes: 1 when a volume was not found, 2 when one is in use, 125 otherwise. */
static int rm_status(int status, int r) {
        int s = r == -ENOENT ? CLI_EXIT_FAILURE : r == -EBUSY ? CLI_EXIT_IN_USE : CLI_EXIT_ERROR;
        return MAX(status, s);
}

static int rm_one(Engine *e, const char *name, bool force, int status) {
        CpodError err = {};
        int r = volume_remove(e, name, force, &err);
        if (r >= 0) {
                puts(name);
                return status;
        }
        cli_engine_error(&err, r);
        return rm_status(status, r);
}

int cli_volume_rm_args(Cli *cli, int argc, char **argv, bool *ret_all, bool *ret_force) {
        static const struct option options[] = {
                {"all", no_argument, NULL, 'a'},
                {"force", no_argument, NULL, 'f'},
                {"time", required_argument, NULL, 't'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        bool all = false, force = false;
        int c;

        while ((c = cli_getopt(cli, argc, argv, "aft:h", options)) >= 0) {
                if (c == 'h') {
                        cli_command_help(
                                cli, "  -a, --all         Remove all volumes\n"
                                     "  -f, --force       Remove a volume even if containers that are not "
                                     "running use it\n"
                                     "  -t, --time uint   Seconds to wait for running containers to stop "
                                     "(accepted; running users always refuse removal) (default 10)\n");
                        return -1;
                }
                all = all || c == 'a';
                force = force || c == 'f';
                if (c == 't' && strspn(optarg, "0123456789") != strlen(optarg))
                        return cli_error(CLI_EXIT_ERROR,
                                         "invalid argument \"%s\" for \"-t, --time\" flag: invalid syntax",
                                         optarg);
        }
        if (c == -2)
                return CLI_EXIT_ERROR;
        if (all == (optind < argc))
                return cli_error(CLI_EXIT_ERROR, "choose either one or more volumes or all");
        *ret_all = all;
        *ret_force = force;
        return 0;
}

int cmd_volume_rm(Cli *cli, int argc, char **argv) {
        bool all, force;
        int status = CLI_EXIT_OK;
        Engine *e;
        int r = cli_volume_rm_args(cli, argc, argv, &all, &force);

        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        if (all) {
                CpodError err = {};
                Volume *v = NULL;
                size_t n = 0;
                r = volume_list(e, NULL, 0, &v, &n, &err);
                if (r < 0)
                        return cli_engine_error(&err, r);
                for (size_t i = 0; i < n; i++)
                        status = rm_one(e, v[i].name, force, status);
                volume_array_free(v, n);
                return status;
        }
        for (int i = optind; i < argc; i++)
                status = rm_one(e, argv[i], force, status);
        return status;
}

/* ---- prune ---- */

/* podman's question names the volumes that would go. */
static bool prune_confirm(Engine *e, const StrList *filters) {
        CpodError err = {};
        Volume *v = NULL;
        size_t n = 0;

        fputs("WARNING! This will remove all volumes not used by at least one container. The following "
              "volumes will be removed:\n",
              stderr);
        if (volume_list(e, (const char *const *)filters->v, filters->n, &v, &n, &err) >= 0)
                for (size_t i = 0; i < n; i++)
                        if (v[i].users == 0)
                                fprintf(stderr, "%s\n", v[i].name);
        volume_array_free(v, n);
        return cli_confirm("Are you sure you want to continue?");
}

int cmd_volume_prune(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"filter", required_argument, NULL, 'F'},
                {"force", no_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        StrList filters = {};
        CpodError err = {};
        char **names = NULL;
        bool force = false;
        size_t n = 0;
        int c, r = 0;
        Engine *e;

        while (r >= 0 && (c = cli_getopt(cli, argc, argv, "fh", options)) >= 0) {
                if (c == 'h') {
                        free(filters.v);
                        return cli_command_help(cli,
                                                "      --filter stringArray   Provide filter values (e.g. "
                                                "'label=<key>=<value>')\n"
                                                "  -f, --force                Do not prompt for "
                                                "confirmation\n");
                }
                if (c == 'F')
                        r = strlist_add(&filters, optarg);
                force = force || c == 'f';
        }
        if (r >= 0 && (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0))
                r = -EINVAL;
        if (r >= 0 && !(e = cli_engine(cli)))
                r = -EIO;
        if (r >= 0 && (force || prune_confirm(e, &filters))) {
                r = volume_prune(e, (const char *const *)filters.v, filters.n, &names, &n, &err);
                if (r < 0)
                        cli_engine_error(&err, r);
                for (size_t i = 0; i < n; i++) {
                        puts(names[i]);
                        free(names[i]);
                }
                free(names);
        }
        free(filters.v);
        return r < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}
