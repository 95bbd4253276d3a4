/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpod create, run and start. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cmd-container.h"
#include "sig-proxy.h"

/* Parse "[options] IMAGE [COMMAND [ARG...]]" into a; returns 0, -1 after --help, or an exit code. */
static int parse_create(Cli *cli, int argc, char **argv, CreateArgs *a) {
        int c;

        while ((c = cli_getopt(cli, argc, argv, create_short_options, create_long_options)) >= 0) {
                if (c == OPT_HELP)
                        return cli_command_help(cli, create_options_text) ?: -1;
                if (create_flag(a, c, optarg) != 0)
                        return CLI_EXIT_ERROR;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, INT32_MAX) < 0)
                return CLI_EXIT_ERROR;
        if (create_args_check(a) < 0)
                return CLI_EXIT_ERROR;
        a->o.image = argv[optind];
        for (int i = optind + 1; i < argc; i++)
                if (strv_push(&a->o.command, &a->o.n_command, argv[i]) < 0)
                        return cli_error(CLI_EXIT_ERROR, "out of memory");
        return 0;
}

static int write_cidfile(const char *path, const char *id) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        size_t n = strlen(id);

        if (fd < 0)
                return cli_error(-errno, "opening cidfile %s: %s", path, strerror(errno));
        if (write(fd, id, n) != (ssize_t)n) {
                close(fd);
                return cli_error(-EIO, "writing cidfile %s: %s", path, strerror(errno));
        }
        close(fd);
        return 0;
}

/* Parse and create; *ret_e and ret_id on success. Returns 0, -1 after --help, or an exit code. */
static int create_container(Cli *cli, int argc, char **argv, CreateArgs *a, Engine **ret_e,
                            char ret_id[65]) {
        CpodError err = {};
        Engine *e;
        int r;

        r = parse_create(cli, argc, argv, a);
        if (r != 0)
                return r;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = container_create(e, &a->o, ret_id, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        if (a->cidfile && write_cidfile(a->cidfile, ret_id) < 0)
                return CLI_EXIT_ERROR;
        *ret_e = e;
        return 0;
}

int cmd_create(Cli *cli, int argc, char **argv) {
        CreateArgs a = {};
        char id[65];
        Engine *e;
        int r;

        r = create_container(cli, argc, argv, &a, &e, id);
        create_args_done(&a);
        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        printf("%s\n", id);
        return CLI_EXIT_OK;
}

int cli_start_error(const CpodError *err, int r) {
        cli_engine_error(err, r);
        if (r == -ENOENT && err && strstr(err->message, "no such container") == NULL)
                return CLI_EXIT_NOT_FOUND;
        if (r == -EACCES || r == -ENOEXEC || r == -EPERM)
                return CLI_EXIT_CANNOT_INVOKE;
        return CLI_EXIT_ERROR;
}

int cmd_run(Cli *cli, int argc, char **argv) {
        CreateArgs a = {};
        CpodError err = {};
        ContainerStdio stdio = {.in_fd = -1, .out_fd = STDOUT_FILENO, .err_fd = STDERR_FILENO};
        int r, code = 0, rm_lock = -1;
        char id[65];
        Engine *e;

        /* --rm: the lock that holds the exit command back stays open until this process exits, after
         * main() closed the store (container.h) */
        stdio.keep_rm_lock = &rm_lock;
        r = create_container(cli, argc, argv, &a, &e, id);
        if (r != 0) {
                create_args_done(&a);
                return r < 0 ? CLI_EXIT_OK : r;
        }
        if (a.detach) {
                r = container_start(e, id, NULL, NULL, &err);
                if (r >= 0)
                        printf("%s\n", id);
        } else {
                SigProxy proxy;
                stdio.in_fd = a.o.interactive ? STDIN_FILENO : -1;
                stdio.detach_keys = a.o.detach_keys;
                fflush(stdout);
                (void)sig_proxy_start(&proxy, &cli->options, id);
                r = container_start(e, id, &stdio, &code, &err);
                sig_proxy_stop(&proxy);
        }
        /* a container that never ran is not kept around with --rm; one that ran was removed by
         * container_start, or is by its exit command if that removal failed */
        if (r < 0) {
                code = cli_start_error(&err, r);
                if (a.o.rm)
                        (void)container_remove(e, id, true, true, NULL);
        }
        create_args_done(&a);
        return code;
}

static const char start_options[] =
        "  -a, --attach               Attach container's STDOUT and STDERR\n"
        "      --all                  Start all containers regardless of their state or configuration\n"
        "      --detach-keys string   Select the key sequence for detaching a container\n"
        "  -i, --interactive          Keep STDIN open even if not attached\n";

static int start_attached(Cli *cli, Engine *e, const char *ref, bool interactive, const char *keys) {
        ContainerStdio stdio = {.in_fd = interactive ? STDIN_FILENO : -1,
                                .out_fd = STDOUT_FILENO,
                                .err_fd = STDERR_FILENO,
                                .detach_keys = keys};
        CpodError err = {};
        int code = 0, r;

        SigProxy proxy;

        fflush(stdout);
        (void)sig_proxy_start(&proxy, &cli->options, ref);
        r = container_start(e, ref, &stdio, &code, &err);
        sig_proxy_stop(&proxy);
        return r < 0 ? cli_start_error(&err, r) : code;
}

int cmd_start(Cli *cli, int argc, char **argv) {
        enum { ARG_ALL = 0x100, ARG_KEYS };
        static const struct option options[] = {
                {"attach", no_argument, NULL, 'a'},      {"all", no_argument, NULL, ARG_ALL},
                {"interactive", no_argument, NULL, 'i'}, {"detach-keys", required_argument, NULL, ARG_KEYS},
                {"help", no_argument, NULL, 'h'},        {},
        };
        bool attach = false, interactive = false, all = false;
        const char *keys = NULL;
        char **ids = NULL;
        size_t n = 0;
        int c, status = CLI_EXIT_OK;
        Engine *e;

        while ((c = cli_getopt(cli, argc, argv, "aih", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, start_options);
                attach = attach || c == 'a';
                interactive = interactive || c == 'i';
                all = all || c == ARG_ALL;
                if (c == ARG_KEYS)
                        keys = optarg;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, all ? 0 : 1, all ? 0 : INT32_MAX) < 0)
                return CLI_EXIT_ERROR;
        attach = attach || interactive;
        if (attach && argc - optind > 1)
                return cli_error(CLI_EXIT_ERROR, "you cannot start and attach multiple containers at once");
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        if (attach)
                return start_attached(cli, e, argv[optind], interactive, keys);
        if (all) {
                CpodError err = {};
                int r = cli_all_container_ids(e, true, &ids, &n, &err);
                if (r < 0)
                        return cli_engine_error(&err, r);
        }
        for (size_t i = 0; i < (all ? n : (size_t)(argc - optind)); i++) {
                const char *ref = all ? ids[i] : argv[optind + i];
                CpodError err = {};
                int r = container_start(e, ref, NULL, NULL, &err);
                if (r < 0)
                        status = cli_start_error(&err, r);
                else
                        printf("%s\n", ref);
        }
        strv_free_n(ids, n);
        return status;
}
