/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Commands that read from or talk to one container: logs, exec, attach, top, stats. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd-container.h"
#include "output.h"
#include "sig-proxy.h"

typedef struct LogsPrinter {
        bool timestamps;
        const char *prefix; /* "name " with --names, else "" */
} LogsPrinter;

/* podman's log timestamp: RFC 3339 with nine fraction digits, "Z" in UTC. */
static void format_log_time(int64_t ns, char *buf, size_t n) {
        time_t secs = (time_t)(ns / 1000000000);
        struct tm tm;
        char date[40], zone[16];
        long off;

        localtime_r(&secs, &tm);
        strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
        off = tm.tm_gmtoff;
        if (off == 0)
                snprintf(zone, sizeof(zone), "Z");
        else
                snprintf(zone, sizeof(zone), "%c%02d:%02d", off < 0 ? '-' : '+',
                         (int)(labs(off) / 3600 % 100), (int)(labs(off) % 3600 / 60));
        snprintf(buf, n, "%s.%09lld%s", date, (long long)(ns % 1000000000), zone);
}

static int print_log_line(int64_t time_ns, const char *stream, bool partial, const char *msg, size_t len,
                          void *userdata) {
        const LogsPrinter *p = userdata;
        FILE *f = streq_ptr(stream, "stderr") ? stderr : stdout;
        char ts[96];

        if (f == stderr)
                fflush(stdout);
        fputs(p->prefix, f);
        if (p->timestamps) {
                format_log_time(time_ns, ts, sizeof(ts));
                fprintf(f, "%s ", ts);
        }
        fwrite(msg, 1, len, f);
        if (!partial)
                fputc('\n', f);
        fflush(f);
        return ferror(f) ? -EPIPE : 0;
}

static const char logs_help[] =
        "  -f, --follow          Follow log output.  The default is false\n"
        "  -n, --names           Output the container name in the log\n"
        "      --since string    Show logs since TIMESTAMP\n"
        "      --tail int        Output the specified number of LINES at the end of the logs.  Defaults to "
        "-1, which prints all lines (default -1)\n"
        "  -t, --timestamps      Output the timestamps in the log\n"
        "      --until string    Show logs until TIMESTAMP\n";

static int parse_logs(Cli *cli, int argc, char **argv, LogOptions *o, bool *names) {
        enum { ARG_SINCE = 0x100, ARG_UNTIL, ARG_TAIL };
        static const struct option options[] = {
                {"follow", no_argument, NULL, 'f'},
                {"names", no_argument, NULL, 'n'},
                {"since", required_argument, NULL, ARG_SINCE},
                {"until", required_argument, NULL, ARG_UNTIL},
                {"tail", required_argument, NULL, ARG_TAIL},
                {"timestamps", no_argument, NULL, 't'},
                {"latest", no_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        char *end;
        int c;

        o->tail = -1;
        while ((c = cli_getopt(cli, argc, argv, "fntlh", options)) >= 0) {
                switch (c) {
                case 'h':
                        return cli_command_help(cli, logs_help) ?: -1;
                case 'f':
                        o->follow = true;
                        break;
                case 'n':
                        *names = true;
                        break;
                case 't':
                        o->timestamps = true;
                        break;
                case ARG_SINCE:
                case ARG_UNTIL:
                        if (cli_parse_time(optarg, c == ARG_SINCE ? &o->since : &o->until) < 0)
                                return cli_error(CLI_EXIT_ERROR, "invalid time \"%s\" for --%s", optarg,
                                                 c == ARG_SINCE ? "since" : "until");
                        break;
                case ARG_TAIL:
                        o->tail = strtoll(optarg, &end, 10);
                        if (end == optarg || *end)
                                return cli_error(CLI_EXIT_ERROR,
                                                 "invalid argument \"%s\" for \"--tail\" flag", optarg);
                        if (o->tail < 0)
                                o->tail = -1;
                        break;
                case 'l':
                        return cli_error(CLI_EXIT_ERROR, "--latest is not supported yet");
                }
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, INT32_MAX) < 0)
                return CLI_EXIT_ERROR;
        return 0;
}

int cmd_logs(Cli *cli, int argc, char **argv) {
        LogOptions o = {};
        bool names = false;
        int r, status = CLI_EXIT_OK;
        Engine *e;

        r = parse_logs(cli, argc, argv, &o, &names);
        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *prefix = NULL;
                LogsPrinter p = {.timestamps = o.timestamps, .prefix = ""};
                CpodError err = {};
                Container ctr = {};

                if (names || argc - optind > 1) {
                        if (container_get(e, argv[i], &ctr, &err) < 0) {
                                status = cli_engine_error(&err, -ENOENT);
                                continue;
                        }
                        if (asprintf(&prefix, "%.12s ", names ? ctr.name : ctr.id) < 0)
                                prefix = NULL;
                        container_done(&ctr);
                        p.prefix = prefix ?: "";
                }
                /* the printer does the timestamps: the engine's flag is only for its own use */
                r = container_logs(e, argv[i], &o, print_log_line, &p, &err);
                if (r < 0 && r != -EPIPE)
                        status = cli_engine_error(&err, r);
        }
        return status;
}

static const char exec_help[] =
        "  -d, --detach               Run the exec session in detached mode (backgrounded)\n"
        "      --detach-keys string   Select the key sequence for detaching a container\n"
        "  -e, --env stringArray      Set environment variables\n"
        "      --env-file strings     Read in a file of environment variables\n"
        "  -i, --interactive          Keep STDIN open even if not attached\n"
        "      --privileged           Give the process extended Linux capabilities\n"
        "  -t, --tty                  Allocate a pseudo-TTY\n"
        "  -u, --user string          Sets the username or UID used and optionally "
        "the groupname or GID for the specified command\n"
        "  -w, --workdir string       Working directory inside the container\n";

static int exec_env_file(ExecOptions *o, const char *path) {
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        FILE *f = fopen(path, "re");

        if (!f)
                return cli_error(-errno, "open %s: %s", path, strerror(errno));
        while ((len = getline(&line, &cap, f)) >= 0) {
                while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
                        line[--len] = 0;
                if (line[0] == 0 || line[0] == '#')
                        continue;
                if (strv_push(&o->env, &o->n_env, line) < 0) {
                        fclose(f);
                        return cli_error(-ENOMEM, "out of memory");
                }
        }
        fclose(f);
        return 0;
}

int cli_parse_exec(Cli *cli, int argc, char **argv, ExecOptions *o, const char **keys) {
        enum { ARG_KEYS = 0x100, ARG_ENV_FILE, ARG_PRIVILEGED };
        static const struct option options[] = {
                {"detach", no_argument, NULL, 'd'},
                {"detach-keys", required_argument, NULL, ARG_KEYS},
                {"env", required_argument, NULL, 'e'},
                {"env-file", required_argument, NULL, ARG_ENV_FILE},
                {"interactive", no_argument, NULL, 'i'},
                {"privileged", no_argument, NULL, ARG_PRIVILEGED},
                {"tty", no_argument, NULL, 't'},
                {"user", required_argument, NULL, 'u'},
                {"workdir", required_argument, NULL, 'w'},
                {"latest", no_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;

        while ((c = cli_getopt(cli, argc, argv, "+de:itu:w:lh", options)) >= 0) {
                switch (c) {
                case 'h':
                        return cli_command_help(cli, exec_help) ?: -1;
                case 'd':
                        o->detach = true;
                        break;
                case ARG_KEYS:
                        *keys = optarg;
                        break;
                case 'e':
                        if (strv_push(&o->env, &o->n_env, optarg) < 0)
                                return cli_error(CLI_EXIT_ERROR, "out of memory");
                        break;
                case ARG_ENV_FILE:
                        if (exec_env_file(o, optarg) < 0)
                                return CLI_EXIT_ERROR;
                        break;
                case 'i':
                        o->interactive = true;
                        break;
                case ARG_PRIVILEGED:
                        o->privileged = true;
                        break;
                case 't':
                        o->tty = true;
                        break;
                case 'u':
                        o->user = optarg;
                        break;
                case 'w':
                        o->workdir = optarg;
                        break;
                case 'l':
                        return cli_error(CLI_EXIT_ERROR, "--latest is not supported yet");
                }
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 2, INT32_MAX) < 0)
                return CLI_EXIT_ERROR;
        o->command = argv + optind + 1;
        o->n_command = argc - optind - 1;
        return 0;
}

int cmd_exec(Cli *cli, int argc, char **argv) {
        ExecOptions o = {};
        ContainerStdio stdio = {.in_fd = -1, .out_fd = STDOUT_FILENO, .err_fd = STDERR_FILENO};
        CpodError err = {};
        int r, code = 0;
        Engine *e;

        r = cli_parse_exec(cli, argc, argv, &o, &stdio.detach_keys);
        if (r != 0) {
                strv_free_n(o.env, o.n_env);
                return r < 0 ? CLI_EXIT_OK : r;
        }
        if (!(e = cli_engine(cli))) {
                strv_free_n(o.env, o.n_env);
                return CLI_EXIT_ERROR;
        }
        stdio.in_fd = o.interactive ? STDIN_FILENO : -1;
        fflush(stdout);
        r = container_exec(e, argv[optind], &o, o.detach ? NULL : &stdio, &code, &err);
        strv_free_n(o.env, o.n_env);
        return r < 0 ? cli_start_error(&err, r) : code;
}

int cli_attach_args(Cli *cli, int argc, char **argv, const char **ret_keys, bool *ret_stdin,
                    bool *ret_sig_proxy) {
        enum { ARG_KEYS = 0x100, ARG_NO_STDIN, ARG_SIG_PROXY };
        static const struct option options[] = {
                {"detach-keys", required_argument, NULL, ARG_KEYS},
                {"no-stdin", no_argument, NULL, ARG_NO_STDIN},
                {"sig-proxy", optional_argument, NULL, ARG_SIG_PROXY},
                {"latest", no_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;

        *ret_keys = NULL;
        *ret_stdin = *ret_sig_proxy = true;
        while ((c = cli_getopt(cli, argc, argv, "lh", options)) >= 0) {
                if (c == 'h') {
                        cli_command_help(
                                cli,
                                "      --detach-keys string   Select the key sequence for detaching a "
                                "container\n"
                                "      --no-stdin             Do not attach STDIN. The default is false\n"
                                "      --sig-proxy            Proxy received signals to the process "
                                "(default "
                                "true)\n");
                        return -1;
                }
                if (c == ARG_KEYS)
                        *ret_keys = optarg;
                else if (c == ARG_NO_STDIN)
                        *ret_stdin = false;
                else if (c == ARG_SIG_PROXY && cli_parse_bool(optarg, ret_sig_proxy) < 0)
                        return cli_error(CLI_EXIT_ERROR, "invalid argument \"%s\" for \"--sig-proxy\"",
                                         optarg);
                else if (c == 'l')
                        return cli_error(CLI_EXIT_ERROR, "--latest is not supported yet");
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 1) < 0)
                return CLI_EXIT_ERROR;
        return 0;
}

int cmd_attach(Cli *cli, int argc, char **argv) {
        ContainerStdio stdio = {.in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO, .err_fd = STDERR_FILENO};
        CpodError err = {};
        SigProxy proxy = {};
        bool detached = false, sig_proxy, in;
        int r, code = 0;
        Engine *e;

        r = cli_attach_args(cli, argc, argv, &stdio.detach_keys, &in, &sig_proxy);
        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        if (!in)
                stdio.in_fd = -1;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        if (sig_proxy)
                (void)sig_proxy_start(&proxy, &cli->options, argv[optind]);
        r = container_attach(e, argv[optind], &stdio, &code, &detached, &err);
        sig_proxy_stop(&proxy);
        if (r < 0)
                return cli_engine_error(&err, r);
        return detached ? CLI_EXIT_OK : code;
}

/* ps(1) format descriptors (AIX and normal) and the headers they select in the engine's table. */
static const char *descriptor_header(const char *d) {
        static const char *const map[][2] = {
                {"pid", "PID"},       {"ppid", "PPID"},     {"user", "USER"},    {"ruser", "RUSER"},
                {"group", "GROUP"},   {"rgroup", "RGROUP"}, {"args", "COMMAND"}, {"comm", "COMMAND"},
                {"etime", "ELAPSED"}, {"time", "TIME"},     {"tty", "TTY"},      {"pcpu", "%CPU"},
                {"%cpu", "%CPU"},     {"nice", "NI"},       {"vsz", "VSZ"},      {"%C", "%CPU"},
                {"%p", "PID"},        {"%P", "PPID"},       {"%U", "USER"},      {"%a", "COMMAND"},
                {"%c", "COMMAND"},    {"%t", "ELAPSED"},    {"%x", "TIME"},      {"%y", "TTY"},
        };

        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(d, map[i][0]))
                        return map[i][1];
        return NULL;
}

static void top_free(char **header, size_t ncols, char ***rows, size_t nrows) {
        for (size_t i = 0; i < nrows; i++)
                strv_free_n(rows[i], ncols);
        free(rows);
        strv_free_n(header, ncols);
}

/* Print the engine's table, keeping the columns the descriptors select (all when none match). */
int cli_print_top(char **header, size_t ncols, char ***rows, size_t nrows, char **descs, size_t ndescs) {
        bool keep[64] = {};
        size_t nkeep = 0;
        VlBuf b = VL_BUF_INIT;

        for (size_t d = 0; d < ndescs; d++) {
                const char *h = descriptor_header(descs[d]);
                for (size_t c = 0; h && c < ncols && c < ELEMENTSOF(keep); c++)
                        if (streq(header[c], h) && !keep[c])
                                keep[c] = true, nkeep++;
        }
        for (size_t c = 0; c < ncols && c < ELEMENTSOF(keep); c++)
                keep[c] = nkeep == 0 || keep[c];
        for (size_t r = 0; r <= nrows; r++) {
                char **cells = r == 0 ? header : rows[r - 1];
                bool first = true;
                for (size_t c = 0; c < ncols && c < ELEMENTSOF(keep); c++) {
                        if (!keep[c])
                                continue;
                        if ((!first && vl_buf_append_char(&b, '\t') < 0) ||
                            vl_buf_append_str(&b, cells[c]) < 0)
                                goto oom;
                        first = false;
                }
                if (vl_buf_append_char(&b, '\n') < 0)
                        goto oom;
        }
        output_table_text(b.data, b.len);
        vl_buf_free(&b);
        return 0;
oom:
        vl_buf_free(&b);
        return -ENOMEM;
}

int cmd_top(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"latest", no_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'}, {}};
        char **header = NULL, ***rows = NULL;
        size_t ncols = 0, nrows = 0;
        CpodError err = {};
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "+lh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, "");
                if (c == 'l')
                        return cli_error(CLI_EXIT_ERROR, "--latest is not supported yet");
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, INT32_MAX) < 0)
                return CLI_EXIT_ERROR;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = container_top(e, argv[optind], &header, &ncols, &rows, &nrows, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        r = cli_print_top(header, ncols, rows, nrows, argv + optind + 1, argc - optind - 1);
        top_free(header, ncols, rows, nrows);
        return r < 0 ? cli_error(CLI_EXIT_ERROR, "out of memory") : CLI_EXIT_OK;
}
