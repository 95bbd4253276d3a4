/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stats, and the commands on a container's root filesystem: mount, umount, export, commit, diff, cp. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd-container.h"
#include "output.h"

const OutputColumn cli_stats_columns[] = {
        {"ID", "ID"},
        {"Name", "NAME"},
        {"CPUPerc", "CPU %"},
        {"MemUsage", "MEM USAGE / LIMIT"},
        {"MemPerc", "MEM %"},
        {"NetIO", "NET IO"},
        {"BlockIO", "BLOCK IO"},
        {"PIDS", "PIDS"},
        {"CPU", "CPU TIME"},
        {"AvgCPU", "AVG CPU %"},
        {},
};

/* A Go time.Duration as text ("1.5s", "12.345ms", "2m3.5s"), close enough for CPU times. */
static const char *go_duration(uint64_t ns, char *buf, size_t n) {
        if (ns < 1000)
                snprintf(buf, n, "%lluns", (unsigned long long)ns);
        else if (ns < 1000000)
                snprintf(buf, n, "%.6gµs", ns / 1e3);
        else if (ns < 1000000000)
                snprintf(buf, n, "%.6gms", ns / 1e6);
        else if (ns < 60000000000ULL)
                snprintf(buf, n, "%.9gs", ns / 1e9);
        else
                snprintf(buf, n, "%llum%.9gs", (unsigned long long)(ns / 60000000000ULL),
                         (ns % 60000000000ULL) / 1e9);
        return buf;
}

static const char *io_pair(uint64_t a, uint64_t b, char *buf, size_t n) {
        char x[32], y[32];

        snprintf(buf, n, "%s / %s", output_size(a, 3, false, x, sizeof(x)),
                 output_size(b, 3, false, y, sizeof(y)));
        return buf;
}

int cli_stats_add(const ContainerStats *s, VlJson *rows, VlJson *items) {
        _cleanup_(vl_json_unrefp) VlJson *row = vl_json_new_object(), *item = vl_json_new_object();
        char cpu[32], mem[80], memp[32], net[80], blk[80], pids[32], t[64], id[16];
        double mem_percent = s->mem_limit ? 100.0 * s->mem_usage / s->mem_limit : 0;
        int r = row && item ? 0 : -ENOMEM;

        snprintf(cpu, sizeof(cpu), "%.2f%%", s->cpu_percent);
        snprintf(memp, sizeof(memp), "%.2f%%", mem_percent);
        snprintf(pids, sizeof(pids), "%llu", (unsigned long long)s->pids);
        snprintf(id, sizeof(id), "%.12s", s->id);
        io_pair(s->mem_usage, s->mem_limit, mem, sizeof(mem));
        io_pair(s->net_in, s->net_out, net, sizeof(net));
        io_pair(s->block_in, s->block_out, blk, sizeof(blk));
        go_duration(s->cpu_nano, t, sizeof(t));
        r = r ?: vl_json_object_set_string(row, "ID", id);
        r = r ?: vl_json_object_set_string(row, "Name", s->name ?: "");
        r = r ?: vl_json_object_set_string(row, "CPUPerc", cpu);
        r = r ?: vl_json_object_set_string(row, "MemUsage", mem);
        r = r ?: vl_json_object_set_string(row, "MemPerc", memp);
        r = r ?: vl_json_object_set_string(row, "NetIO", net);
        r = r ?: vl_json_object_set_string(row, "BlockIO", blk);
        r = r ?: vl_json_object_set_string(row, "PIDS", pids);
        r = r ?: vl_json_object_set_string(row, "CPU", t);
        r = r ?: vl_json_object_set_string(row, "AvgCPU", cpu);
        r = r ?: vl_json_object_set_string(item, "id", id);
        r = r ?: vl_json_object_set_string(item, "name", s->name ?: "");
        r = r ?: vl_json_object_set_string(item, "cpu_time", t);
        r = r ?: vl_json_object_set_string(item, "cpu_percent", cpu);
        r = r ?: vl_json_object_set_string(item, "avg_cpu", cpu);
        r = r ?: vl_json_object_set_string(item, "mem_usage", mem);
        r = r ?: vl_json_object_set_string(item, "mem_percent", memp);
        r = r ?: vl_json_object_set_string(item, "net_io", net);
        r = r ?: vl_json_object_set_string(item, "block_io", blk);
        r = r ?: vl_json_object_set_string(item, "pids", pids);
        r = r ?: vl_json_array_append(rows, TAKE_PTR(row));
        r = r ?: vl_json_array_append(items, TAKE_PTR(item));
        return r;
}

/* One round of stats for refs (all running containers when none). */
static int stats_round(void *userdata, char **refs, size_t n, const Output *out) {
        Engine *e = userdata;
        _cleanup_(vl_json_unrefp) VlJson *rows = vl_json_new_array(), *items = vl_json_new_array();
        char **ids = NULL;
        size_t nids = 0;
        CpodError err = {};
        int r = rows && items ? 0 : -ENOMEM;

        if (r == 0 && n == 0) {
                r = cli_all_container_ids(e, false, &ids, &nids, &err);
                if (r < 0)
                        return cli_engine_error(&err, r);
                refs = ids;
                n = nids;
        }
        for (size_t i = 0; i < n && r >= 0; i++) {
                ContainerStats s = {};
                r = container_stats(e, refs[i], &s, &err);
                if (r >= 0)
                        r = cli_stats_add(&s, rows, items) < 0 ? cpod_error(&err, ENOMEM, "out of memory")
                                                               : 0;
                free(s.name);
        }
        if (r >= 0)
                r = output_print(out, cli_stats_columns, rows, items, &err);
        strv_free_n(ids, nids);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

int cli_stats_with(Cli *cli, int argc, char **argv, StatsRoundFn round, void *userdata) {
        enum { ARG_FORMAT = 0x100, ARG_NO_STREAM, ARG_NO_RESET };
        static const struct option options[] = {
                {"all", no_argument, NULL, 'a'},
                {"format", required_argument, NULL, ARG_FORMAT},
                {"no-stream", no_argument, NULL, ARG_NO_STREAM},
                {"no-reset", no_argument, NULL, ARG_NO_RESET},
                {"interval", required_argument, NULL, 'i'},
                {"latest", no_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        Output out = {};
        bool stream = true, reset = true;
        long interval = 5;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "ai:lh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(
                                cli,
                                "  -a, --all              Show all containers. Only running containers are "
                                "shown by default. The default is false\n"
                                "      --format string    Pretty-print container statistics to JSON or "
                                "using a Go template\n"
                                "  -i, --interval int     Time in seconds between stats reports (default "
                                "5)\n"
                                "      --no-reset         Disable resetting the screen between intervals\n"
                                "      --no-stream        Disable streaming stats and only pull the first "
                                "result, default setting is false\n");
                if (c == ARG_FORMAT)
                        out.format = optarg;
                else if (c == ARG_NO_STREAM)
                        stream = false;
                else if (c == ARG_NO_RESET)
                        reset = false;
                else if (c == 'i' && (interval = strtol(optarg, NULL, 10)) < 1)
                        return cli_error(CLI_EXIT_ERROR, "\"interval\" should be greater than 0");
                else if (c == 'l')
                        return cli_error(CLI_EXIT_ERROR, "--latest is not supported yet");
        }
        if (c == -2)
                return CLI_EXIT_ERROR;
        if (!round && !(userdata = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        for (;;) {
                if (stream && reset)
                        fputs("\033[2J\033[H", stdout);
                r = (round ?: stats_round)(userdata, argv + optind, (size_t)(argc - optind), &out);
                fflush(stdout);
                if (r != CLI_EXIT_OK || !stream)
                        return r;
                sleep((unsigned)interval);
        }
}

int cmd_stats(Cli *cli, int argc, char **argv) {
        return cli_stats_with(cli, argc, argv, NULL, NULL);
}

/* Whether path is a mount point now (listed in /proc/self/mounts). */
static bool is_mounted(const char *path) {
        _cleanup_free_ char *line = NULL;
        size_t cap = 0, n = strlen(path);
        FILE *f = fopen("/proc/self/mounts", "re");
        bool found = false;

        if (!f)
                return false;
        while (!found && getline(&line, &cap, f) > 0) {
                const char *target = strchr(line, ' ');
                found = target && strncmp(target + 1, path, n) == 0 && target[1 + n] == ' ';
        }
        fclose(f);
        return found;
}

/* Without arguments: the mounted containers, "ID  PATH" (podman's listing). */
static int list_mounted(Engine *e, bool no_trunc) {
        Container *cs = NULL;
        size_t n = 0;
        CpodError err = {};
        VlBuf b = VL_BUF_INIT;
        int r = container_list(e, true, &cs, &n, &err);

        if (r < 0)
                return cli_engine_error(&err, r);
        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/containers/%s/merged", engine_runroot(e), cs[i].id) < 0) {
                        path = NULL;
                        r = -ENOMEM;
                } else if (is_mounted(path)) {
                        r = vl_buf_append(&b, cs[i].id, no_trunc ? 64 : 12);
                        r = r ?: vl_buf_append_char(&b, '\t');
                        r = r ?: vl_buf_append_str(&b, path);
                        r = r ?: vl_buf_append_char(&b, '\n');
                }
        }
        if (r >= 0 && b.len > 0)
                r = output_table_text(b.data, b.len);
        vl_buf_free(&b);
        container_array_free(cs, n);
        return r < 0 ? cli_error(CLI_EXIT_ERROR, "%s", strerror(-r)) : CLI_EXIT_OK;
}

int cmd_mount(Cli *cli, int argc, char **argv) {
        enum { ARG_NO_TRUNC = 0x100, ARG_FORMAT };
        static const struct option options[] = {
                {"all", no_argument, NULL, 'a'},
                {"format", required_argument, NULL, ARG_FORMAT},
                {"no-trunc", no_argument, NULL, ARG_NO_TRUNC},
                {"latest", no_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        bool all = false, no_trunc = false;
        char **ids = NULL;
        size_t n = 0;
        int c, status = CLI_EXIT_OK;
        Engine *e;

        while ((c = cli_getopt(cli, argc, argv, "alh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, "  -a, --all        Mount all containers\n"
                                                     "      --no-trunc   Do not truncate output\n");
                all = all || c == 'a';
                no_trunc = no_trunc || c == ARG_NO_TRUNC;
                if (c == 'l')
                        return cli_error(CLI_EXIT_ERROR, "--latest is not supported yet");
        }
        if (c == -2 || (all && cli_check_args(cli, argc - optind, 0, 0) < 0))
                return CLI_EXIT_ERROR;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        if (!all && optind == argc)
                return list_mounted(e, no_trunc);
        if (all) {
                CpodError err = {};
                int r = cli_all_container_ids(e, true, &ids, &n, &err);
                if (r < 0)
                        return cli_engine_error(&err, r);
        }
        for (size_t i = 0; i < (all ? n : (size_t)(argc - optind)); i++) {
                CpodError err = {};
                char *path = NULL;
                int r = container_mount(e, all ? ids[i] : argv[optind + i], &path, &err);
                if (r < 0)
                        status = cli_engine_error(&err, r);
                else
                        printf("%s\n", path);
                free(path);
        }
        strv_free_n(ids, n);
        return status;
}

int cmd_umount(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"all", no_argument, NULL, 'a'},
                {"force", no_argument, NULL, 'f'},
                {"latest", no_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        bool all = false, force = false;
        char **ids = NULL;
        size_t n = 0;
        int c, status = CLI_EXIT_OK;
        Engine *e;

        while ((c = cli_getopt(cli, argc, argv, "aflh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, "  -a, --all     Unmount all of the currently mounted "
                                                     "containers\n"
                                                     "  -f, --force   Force the complete unmount of the "
                                                     "specified mounted containers\n");
                all = all || c == 'a';
                force = force || c == 'f';
        }
        if (c == -2 || cli_check_args(cli, argc - optind, all ? 0 : 1, all ? 0 : INT32_MAX) < 0)
                return CLI_EXIT_ERROR;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        if (all) {
                CpodError err = {};
                int r = cli_all_container_ids(e, true, &ids, &n, &err);
                if (r < 0)
                        return cli_engine_error(&err, r);
        }
        for (size_t i = 0; i < (all ? n : (size_t)(argc - optind)); i++) {
                const char *ref = all ? ids[i] : argv[optind + i];
                CpodError err = {};
                int r = container_unmount(e, ref, force, &err);
                if (r < 0 && !all)
                        status = cli_engine_error(&err, r);
                else if (r >= 0 && !all)
                        printf("%s\n", ref);
        }
        strv_free_n(ids, n);
        return status;
}

int cmd_export(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'}, {}};
        const char *output = NULL;
        CpodError err = {};
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "o:h", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, "  -o, --output string   Write to a specified file "
                                                     "(default: stdout, which must be redirected)\n");
                if (c == 'o')
                        output = optarg;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 1) < 0)
                return CLI_EXIT_ERROR;
        if (!output && isatty(STDOUT_FILENO))
                return cli_error(CLI_EXIT_ERROR, "refusing to export to terminal. Use -o flag or redirect");
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        fflush(stdout);
        r = container_export(e, argv[optind], output ?: "-", &err);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

static const char commit_help[] =
        "  -a, --author string        Set the author for the image committed\n"
        "  -c, --change stringArray   Apply the following possible instructions to the created image "
        "(default "
        "[]): CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | ONBUILD | STOPSIGNAL | USER | VOLUME | WORKDIR\n"
        "  -f, --format string        Format of the image manifest and metadata (default \"oci\")\n"
        "  -m, --message string       Set commit message for imported image\n"
        "  -p, --pause                Pause container during commit\n"
        "  -q, --quiet                Suppress output\n";

int cmd_commit(Cli *cli, int argc, char **argv) {
        enum { ARG_SQUASH = 0x100, ARG_INCLUDE_VOLUMES };
        static const struct option options[] = {
                {"author", required_argument, NULL, 'a'},
                {"change", required_argument, NULL, 'c'},
                {"format", required_argument, NULL, 'f'},
                {"message", required_argument, NULL, 'm'},
                {"pause", optional_argument, NULL, 'p'},
                {"quiet", no_argument, NULL, 'q'},
                {"squash", no_argument, NULL, ARG_SQUASH},
                {"include-volumes", no_argument, NULL, ARG_INCLUDE_VOLUMES},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        CommitOptions o = {};
        char id[65];
        CpodError err = {};
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "a:c:f:m:pqh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, commit_help);
                if (c == 'a')
                        o.author = optarg;
                else if (c == 'm')
                        o.message = optarg;
                else if (c == 'p' && cli_parse_bool(optarg, &o.pause) < 0)
                        return cli_error(CLI_EXIT_ERROR, "invalid argument \"%s\" for \"-p, --pause\"",
                                         optarg);
                else if (c == 'c' && strv_push(&o.changes, &o.n_changes, optarg) < 0)
                        return cli_error(CLI_EXIT_ERROR, "out of memory");
                else if (c == 'f' && !streq(optarg, "oci") && !streq(optarg, "docker"))
                        return cli_error(CLI_EXIT_ERROR, "unrecognized image type \"%s\"", optarg);
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 2) < 0) {
                strv_free_n(o.changes, o.n_changes);
                return CLI_EXIT_ERROR;
        }
        o.name = argc - optind > 1 ? argv[optind + 1] : NULL;
        if (!(e = cli_engine(cli))) {
                strv_free_n(o.changes, o.n_changes);
                return CLI_EXIT_ERROR;
        }
        r = container_commit(e, argv[optind], &o, id, &err);
        strv_free_n(o.changes, o.n_changes);
        if (r < 0)
                return cli_engine_error(&err, r);
        printf("%s\n", id);
        return CLI_EXIT_OK;
}

int cli_print_diff_json(char **paths, const char *kinds, size_t n) {
        static const struct {
                char kind;
                const char *key;
        } groups[] = {{'C', "changed"}, {'A', "added"}, {'D', "deleted"}};
        _cleanup_(vl_json_unrefp) VlJson *o = vl_json_new_object();

        if (!o)
                return -ENOMEM;
        for (size_t g = 0; g < ELEMENTSOF(groups); g++) {
                VlJson *a = NULL;
                for (size_t i = 0; i < n; i++) {
                        if (kinds[i] != groups[g].kind)
                                continue;
                        if ((!a && !(a = vl_json_new_array())) ||
                            vl_json_array_append(a, vl_json_new_string(paths[i])) < 0) {
                                vl_json_unref(a);
                                return -ENOMEM;
                        }
                }
                if (a && vl_json_object_set(o, groups[g].key, a) < 0)
                        return -ENOMEM;
        }
        return output_json(o, 4);
}

int cmd_diff(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"format", required_argument, NULL, 'f'},
                {"latest", no_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *format = NULL;
        char **paths = NULL, *kinds = NULL;
        size_t n = 0;
        CpodError err = {};
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "lh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli,
                                                "      --format string   Change the output format (json)\n");
                if (c == 'f')
                        format = optarg;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 1) < 0)
                return CLI_EXIT_ERROR;
        if (format && !output_is_json(format))
                return cli_error(CLI_EXIT_ERROR, "only json format is supported");
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = container_diff(e, argv[optind], &paths, &kinds, &n, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        if (format)
                r = cli_print_diff_json(paths, kinds, n);
        else
                for (size_t i = 0; i < n; i++)
                        printf("%c %s\n", kinds[i], paths[i]);
        strv_free_n(paths, n);
        free(kinds);
        return r < 0 ? cli_error(CLI_EXIT_ERROR, "out of memory") : CLI_EXIT_OK;
}

/* "CONTAINER:PATH" (the part before ':' names no local path) → the container and the path. */
static bool split_container_path(const char *arg, char **ret_ctr, const char **ret_path) {
        const char *colon = strchr(arg, ':');

        if (!colon || colon == arg || arg[0] == '/' || arg[0] == '.' || memchr(arg, '/', colon - arg))
                return false;
        *ret_ctr = strndup(arg, colon - arg);
        *ret_path = colon + 1;
        return *ret_ctr != NULL;
}

int cmd_cp(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"archive", optional_argument, NULL, 'a'},
                {"overwrite", no_argument, NULL, 'o'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_free_ char *src_ctr = NULL, *dst_ctr = NULL;
        const char *src_path = NULL, *dst_path = NULL;
        CpodError err = {};
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "h", options)) >= 0)
                if (c == 'h')
                        return cli_command_help(cli,
                                                "  -a, --archive     Chown copied files to the primary "
                                                "uid/gid of the destination container (default true)\n"
                                                "      --overwrite   Allow to overwrite directories with "
                                                "non-directories and vice versa\n");
        if (c == -2 || cli_check_args(cli, argc - optind, 2, 2) < 0)
                return CLI_EXIT_ERROR;
        split_container_path(argv[optind], &src_ctr, &src_path);
        split_container_path(argv[optind + 1], &dst_ctr, &dst_path);
        if (src_ctr && dst_ctr)
                return cli_error(CLI_EXIT_ERROR, "copying from a container to another container is not "
                                                 "supported");
        if (!src_ctr && !dst_ctr)
                return cli_error(CLI_EXIT_ERROR, "invalid arguments %s, %s you must use just one container",
                                 argv[optind], argv[optind + 1]);
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        if (src_ctr)
                r = container_copy(e, src_ctr, false, src_path, argv[optind + 1], &err);
        else
                r = container_copy(e, dst_ctr, true, argv[optind], dst_path, &err);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}
