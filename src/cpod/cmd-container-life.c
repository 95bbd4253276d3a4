/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Lifecycle commands that act on several containers: stop, kill, restart, rm, pause, unpause, wait; and
 * rename, exists, prune, cleanup, port. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-container.h"
#include "network.h"

typedef struct EachArgs {
        bool all, latest, force, volumes, ignore, running_only, paused_only;
        int timeout, signo;
        const char *condition;
} EachArgs;

/* Act on one container; prints what podman prints on success. Returns 0 or -errno with err set. */
typedef int (*EachFn)(Engine *e, const char *ref, const EachArgs *a, CpodError *err);

/* Exit status of rm (podman-rm(1)): 1 no such container, 2 running without --force, else 125. */
static int rm_status(int r) {
        return r == -ENOENT ? CLI_EXIT_FAILURE : r == -EBUSY ? CLI_EXIT_IN_USE : CLI_EXIT_ERROR;
}

/* The containers to act on (owned copies): all of them (in the state wanted), the newest, or the arguments.
 */
static int targets(Cli *cli, Engine *e, const EachArgs *a, int argc, char **argv, char ***ret,
                   size_t *ret_n) {
        bool implicit = a->all || a->latest;
        CpodError err = {};
        int r;

        if (cli_check_args(cli, argc - optind, implicit ? 0 : 1, implicit ? 0 : INT32_MAX) < 0)
                return -EINVAL;
        if (implicit) {
                r = cli_container_ids_in_state(e, !a->running_only || a->latest,
                                               a->paused_only && !a->latest ? CONTAINER_PAUSED : -1, ret,
                                               ret_n, &err);
                if (r < 0) {
                        cli_engine_error(&err, r);
                        return r;
                }
                if (a->latest && *ret_n > 1) { /* the list is newest first */
                        for (size_t i = 1; i < *ret_n; i++)
                                free((*ret)[i]);
                        (*ret)[1] = NULL;
                        *ret_n = 1;
                }
                return 0;
        }
        for (int i = optind; i < argc; i++)
                if (strv_push(ret, ret_n, argv[i]) < 0) {
                        strv_free_n(*ret, *ret_n);
                        return cli_error(-ENOMEM, "out of memory");
                }
        return 0;
}

static int run_each(Cli *cli, int argc, char **argv, const EachArgs *a, EachFn fn) {
        char **ids = NULL;
        size_t n = 0;
        int status = CLI_EXIT_OK;
        Engine *e;

        if (!(e = cli_engine(cli)) || targets(cli, e, a, argc, argv, &ids, &n) < 0)
                return CLI_EXIT_ERROR;
        for (size_t i = 0; i < n; i++) {
                CpodError err = {};
                int r = fn(e, ids[i], a, &err);
                if (r == -ENOENT && a->ignore)
                        continue;
                if (r < 0)
                        status = cli_container_failed(&err, r);
        }
        strv_free_n(ids, n);
        return status;
}

/* Parse the flags shared by the commands below; returns 0, -1 after --help, or an exit code. */
static int parse_each(Cli *cli, int argc, char **argv, const char *shortopts, const struct option *options,
                      const char *help, EachArgs *a) {
        int64_t v;
        int c;

        while ((c = cli_getopt(cli, argc, argv, shortopts, options)) >= 0) {
                switch (c) {
                case 'h':
                        return cli_command_help(cli, help) ?: -1;
                case 'a':
                        a->all = true;
                        break;
                case 'f':
                        a->force = true;
                        break;
                case 'v':
                        a->volumes = true;
                        break;
                case 'i':
                        a->ignore = true;
                        break;
                case 'r':
                        a->running_only = true;
                        break;
                case 't': {
                        char *end;
                        v = strtoll(optarg, &end, 10);
                        if (end == optarg || *end || v < 0)
                                return cli_error(CLI_EXIT_ERROR,
                                                 "invalid argument \"%s\" for \"-t, --time\" flag", optarg);
                        a->timeout = v > INT32_MAX ? INT32_MAX : (int)v;
                        break;
                }
                case 's':
                        a->signo = cli_parse_signal(optarg);
                        if (a->signo < 0)
                                return cli_error(CLI_EXIT_ERROR, "invalid signal: %s", optarg);
                        break;
                case 'c':
                        a->condition = optarg;
                        break;
                case 'l':
                        a->latest = true;
                        break;
                default:
                        break;
                }
        }
        return c == -2 ? CLI_EXIT_ERROR : 0;
}

static int status_of(int r) {
        return r < 0 ? CLI_EXIT_ERROR : r;
}

#define EACH_COMMAND(fn_name, shortopts, options, help, init, each)                \
        int fn_name(Cli *cli, int argc, char **argv) {                             \
                EachArgs a = init;                                                 \
                int r = parse_each(cli, argc, argv, shortopts, options, help, &a); \
                if (r != 0)                                                        \
                        return r < 0 ? CLI_EXIT_OK : r;                            \
                return status_of(run_each(cli, argc, argv, &a, each));             \
        }

static int do_stop(Engine *e, const char *ref, const EachArgs *a, CpodError *err) {
        int r = container_stop(e, ref, a->timeout, err);
        if (r >= 0)
                printf("%s\n", ref);
        return r;
}

static int do_kill(Engine *e, const char *ref, const EachArgs *a, CpodError *err) {
        int r = container_kill(e, ref, a->signo, err);
        if (r >= 0)
                printf("%s\n", ref);
        return r;
}

static int do_restart(Engine *e, const char *ref, const EachArgs *a, CpodError *err) {
        Container c = {};
        int r = container_restart(e, ref, a->timeout, err);

        if (r < 0)
                return r;
        if (container_get(e, ref, &c, NULL) >= 0) {
                printf("%s\n", c.id);
                container_done(&c);
        } else
                printf("%s\n", ref);
        return 0;
}

static int do_pause(Engine *e, const char *ref, const EachArgs *a, CpodError *err) {
        int r = container_pause(e, ref, err);
        (void)a;
        if (r >= 0)
                printf("%s\n", ref);
        return r;
}

static int do_unpause(Engine *e, const char *ref, const EachArgs *a, CpodError *err) {
        int r = container_unpause(e, ref, err);
        (void)a;
        if (r >= 0)
                printf("%s\n", ref);
        return r;
}

static const struct option stop_options[] = {
        {"all", no_argument, NULL, 'a'},        {"ignore", no_argument, NULL, 'i'},
        {"time", required_argument, NULL, 't'}, {"latest", no_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},       {},
};
static const char stop_help[] = "  -a, --all          Stop all running containers\n"
                                "  -i, --ignore       Ignore errors when a specified container is missing\n"
                                "  -t, --time uint    Seconds to wait for stop before killing the container "
                                "(default 10)\n";
EACH_COMMAND(cmd_stop, "ait:lh", stop_options, stop_help, ((EachArgs){.timeout = 10, .running_only = true}),
             do_stop)

static const struct option kill_options[] = {
        {"all", no_argument, NULL, 'a'},
        {"signal", required_argument, NULL, 's'},
        {"latest", no_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {},
};
static const char kill_help[] =
        "  -a, --all             Signal all running containers\n"
        "  -s, --signal string   Signal to send to the container (default \"KILL\")\n";
EACH_COMMAND(cmd_kill, "as:lh", kill_options, kill_help,
             ((EachArgs){.signo = SIGKILL, .running_only = true}), do_kill)

static const struct option restart_options[] = {
        {"all", no_argument, NULL, 'a'},        {"running", no_argument, NULL, 'r'},
        {"time", required_argument, NULL, 't'}, {"latest", no_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},       {},
};
static const char restart_help[] =
        "  -a, --all         Restart all non-running containers\n"
        "      --running     Restart only running containers\n"
        "  -t, --time uint   Seconds to wait for stop before killing the container "
        "(default 10)\n";
EACH_COMMAND(cmd_restart, "at:lh", restart_options, restart_help, ((EachArgs){.timeout = 10}), do_restart)

static const struct option pause_options[] = {
        {"all", no_argument, NULL, 'a'},
        {"latest", no_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {},
};
static const char pause_help[] = "  -a, --all   Act on all running containers\n";
EACH_COMMAND(cmd_pause, "alh", pause_options, pause_help, ((EachArgs){.running_only = true}), do_pause)
EACH_COMMAND(cmd_unpause, "alh", pause_options, pause_help, ((EachArgs){.paused_only = true}), do_unpause)

static int do_rm(Engine *e, const char *ref, const EachArgs *a, CpodError *err) {
        int r = container_remove(e, ref, a->force, a->volumes, err);
        if (r >= 0)
                printf("%s\n", ref);
        return r;
}

static const char rm_help[] =
        "  -a, --all      Remove all containers\n"
        "  -f, --force    Force removal of a running or unusable container\n"
        "  -i, --ignore   Ignore errors when a specified container is missing\n"
        "  -t, --time int Seconds to wait for stop before killing the container (default 10)\n"
        "  -v, --volumes  Remove anonymous volumes associated with the container\n";

int cmd_rm(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"all", no_argument, NULL, 'a'},        {"force", no_argument, NULL, 'f'},
                {"ignore", no_argument, NULL, 'i'},     {"volumes", no_argument, NULL, 'v'},
                {"time", required_argument, NULL, 't'}, {"latest", no_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},       {},
        };
        EachArgs a = {.timeout = 10};
        char **ids = NULL;
        size_t n = 0;
        int r, status = CLI_EXIT_OK;
        Engine *e;

        r = parse_each(cli, argc, argv, "afivt:lh", options, rm_help, &a);
        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        if (!(e = cli_engine(cli)) || targets(cli, e, &a, argc, argv, &ids, &n) < 0)
                return CLI_EXIT_ERROR;
        for (size_t i = 0; i < n; i++) {
                CpodError err = {};
                r = do_rm(e, ids[i], &a, &err);
                if (r == -ENOENT && (a.ignore || a.all))
                        continue;
                if (r < 0) {
                        cli_container_failed(&err, r);
                        if (status == CLI_EXIT_OK || rm_status(r) == CLI_EXIT_ERROR)
                                status = rm_status(r);
                }
        }
        strv_free_n(ids, n);
        return status;
}

static const char wait_help[] = "  -c, --condition strings   Condition to wait on (default [stopped])\n"
                                "  -i, --interval string     Time Interval to wait before polling for "
                                "completion (default \"250ms\")\n"
                                "      --ignore              Ignore if a container does not exist\n";

int cmd_wait(Cli *cli, int argc, char **argv) {
        enum { ARG_IGNORE = 0x100 };
        static const struct option options[] = {
                {"condition", required_argument, NULL, 'c'},
                {"interval", required_argument, NULL, 'n'},
                {"ignore", no_argument, NULL, ARG_IGNORE},
                {"latest", no_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const char *condition = NULL;
        bool ignore = false;
        int c, status = CLI_EXIT_OK;
        Engine *e;

        while ((c = cli_getopt(cli, argc, argv, "c:i:lh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, wait_help);
                if (c == 'c')
                        condition = optarg;
                else if (c == ARG_IGNORE)
                        ignore = true;
                else if (c == 'l')
                        return cli_error(CLI_EXIT_ERROR, "--latest is not supported yet");
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, INT32_MAX) < 0)
                return CLI_EXIT_ERROR;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        for (int i = optind; i < argc; i++) {
                CpodError err = {};
                int code = 0, r = container_wait(e, argv[i], condition, &code, &err);
                if (r == -ENOENT && ignore) {
                        printf("-1\n");
                        continue;
                }
                if (r < 0)
                        status = cli_container_failed(&err, r);
                else
                        printf("%d\n", code);
        }
        return status;
}

int cmd_rename(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {}};
        CpodError err = {};
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "h", options)) >= 0)
                if (c == 'h')
                        return cli_command_help(cli, "");
        if (c == -2 || cli_check_args(cli, argc - optind, 2, 2) < 0)
                return CLI_EXIT_ERROR;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = container_rename(e, argv[optind], argv[optind + 1], &err);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

int cmd_container_exists(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"external", no_argument, NULL, 'x'}, {"help", no_argument, NULL, 'h'}, {}};
        CpodError err = {};
        Container ctr = {};
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "h", options)) >= 0)
                if (c == 'h')
                        return cli_command_help(cli,
                                                "      --external   Check external storage containers as "
                                                "well as Podman containers\n");
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 1) < 0)
                return CLI_EXIT_ERROR;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = container_get(e, argv[optind], &ctr, &err);
        if (r == -ENOENT)
                return CLI_EXIT_FAILURE;
        if (r < 0)
                return cli_engine_error(&err, r);
        container_done(&ctr);
        return CLI_EXIT_OK;
}

int cmd_container_prune(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"force", no_argument, NULL, 'f'},
                {"filter", required_argument, NULL, 'F'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        CpodError err = {};
        bool force = false;
        char **ids = NULL;
        size_t n = 0;
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "fh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, "  -f, --force   Do not prompt for confirmation\n");
                if (c == 'f')
                        force = true;
                if (c == 'F')
                        return cli_error(CLI_EXIT_ERROR, "container prune filters are not supported yet");
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0)
                return CLI_EXIT_ERROR;
        if (!force && !cli_confirm("WARNING! This will remove all non running containers.\n"
                                   "Are you sure you want to continue?"))
                return CLI_EXIT_OK;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = container_prune(e, &ids, &n, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        for (size_t i = 0; i < n; i++)
                printf("%s\n", ids[i]);
        strv_free_n(ids, n);
        return CLI_EXIT_OK;
}

/* Hidden: conmon's exit command. Quiet on success; conmon does not show its output to anyone. */
int cmd_container_cleanup(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"all", no_argument, NULL, 'a'},
                {"rm", no_argument, NULL, 'r'},
                {"rmi", no_argument, NULL, 'R'},
                {"exec", required_argument, NULL, 'x'},
                {"stopped-only", no_argument, NULL, 's'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c, status = CLI_EXIT_OK, n_gone = 0;
        _cleanup_free_ char *runroot = NULL;
        Engine *e;

        while ((c = cli_getopt(cli, argc, argv, "ah", options)) >= 0)
                if (c == 'h')
                        return cli_command_help(cli, "");
        if (c == -2 || cli_check_args(cli, argc - optind, 1, INT32_MAX) < 0)
                return CLI_EXIT_ERROR;
        /* An attached run --rm removes its container itself: wait for it before opening the store, so
         * nothing of this process runs beside that removal. The store is still opened (and closed, last):
         * the run left the checkpoint of its changes to this process (container_start). */
        if (cli->options.runroot)
                runroot = strdup(cli->options.runroot);
        else
                (void)engine_default_runroot(&runroot);
        for (int i = optind; i < argc; i++)
                if (container_cleanup_wait(runroot, argv[i])) {
                        argv[i] = NULL;
                        n_gone++;
                }
        if (!(e = cli_engine(cli)))
                return n_gone == argc - optind ? CLI_EXIT_OK : CLI_EXIT_ERROR;
        for (int i = optind; i < argc; i++) {
                CpodError err = {};
                if (!argv[i])
                        continue;
                int r = container_cleanup(e, argv[i], &err);
                if (r < 0 && r != -ENOENT)
                        status = cli_engine_error(&err, r);
        }
        return status;
}

/* One container's published ports ("8080/tcp -> 127.0.0.1:41235"); with filter ("8080" or "8080/tcp") only
 * the host side of that port. */
static int port_print(Engine *e, const Container *c, const char *filter, bool prefix) {
        CpodError err = {};
        char **v = NULL, want[64] = "";
        size_t n = 0;
        int r = net_container_ports(e, c->id, false, &v, &n, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        if (filter)
                snprintf(want, sizeof want, "%s%s -> ", filter, strchr(filter, '/') ? "" : "/tcp");
        for (size_t i = 0; i < n; i++) {
                if (filter && startswith(v[i], want))
                        printf("%s\n", v[i] + strlen(want));
                else if (!filter && prefix)
                        printf("%.12s\t%s\n", c->id, v[i]);
                else if (!filter)
                        printf("%s\n", v[i]);
                free(v[i]);
        }
        free(v);
        return CLI_EXIT_OK;
}

/* Published ports of bridge networks; none, host and joined namespaces have none. */
int cmd_port(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"all", no_argument, NULL, 'a'},
                {"latest", no_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        bool all = false;
        Engine *e;
        int c;

        while ((c = cli_getopt(cli, argc, argv, "alh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, "  -a, --all   Display port information for all "
                                                     "containers\n");
                all = all || c == 'a';
        }
        if (c == -2 || cli_check_args(cli, argc - optind, all ? 0 : 1, all ? 0 : 2) < 0)
                return CLI_EXIT_ERROR;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        if (!all) {
                CpodError err = {};
                Container ctr = {};
                int r = container_get(e, argv[optind], &ctr, &err);
                if (r < 0)
                        return cli_engine_error(&err, r);
                r = port_print(e, &ctr, optind + 1 < argc ? argv[optind + 1] : NULL, false);
                container_done(&ctr);
                return r;
        }
        CpodError err = {};
        Container *cs = NULL;
        size_t n = 0;
        int r = container_list(e, false, &cs, &n, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        for (size_t i = 0; i < n; i++)
                (void)port_print(e, &cs[i], NULL, true);
        container_array_free(cs, n);
        return CLI_EXIT_OK;
}
