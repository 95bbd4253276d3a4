/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Remote container commands that talk to a container or read more than a record: attach (and through it
 * the foreground run and start -a), exec, top, stats, diff, export, commit, mount, unmount, events,
 * container exists and container prune. Each parses its flags as local mode does and prints through the
 * local printers.
 *
 * Attach and ExecContainer upgrade the connection to frames: an 8-byte header (byte 0 the stream: 0
 * stdout, 1 stdin, 2 stderr, 3 resize {"Width","Height"}, 4 the exit code as a big-endian uint32, 5
 * hang-up; bytes 4-7 the big-endian payload length), then the payload. A stdin frame of length 0 is the
 * end of the input.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <vl/varlink.h>

#include "cmd-container.h"
#include "output.h"
#include "remote.h"
#include "transfer.h"

enum { FRAME_STDOUT, FRAME_STDIN, FRAME_STDERR, FRAME_RESIZE, FRAME_EXIT, FRAME_HANGUP };

#define FRAME_MAX (1u << 20)
#define CHUNK     32768

/* ---- the upgraded session ---- */

typedef struct Session {
        int sock;
        VlBuf in, out;        /* bytes received and not yet handled; frames not yet sent */
        bool interactive;     /* relay stdin */
        bool tty;             /* the container's (or exec's) terminal: raw stdin, sizes */
        const char *kill_ref; /* the container that gets the signals cpod receives, or NULL */
        int code;             /* from the exit frame; -1 before it */
} Session;

static int sig_pipe[2] = {-1, -1};
static const int session_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

static void on_signal(int sig) {
        int saved = errno;
        unsigned char b = (unsigned char)sig;

        (void)!write(sig_pipe[1], &b, 1);
        errno = saved;
}

static int queue_frame(VlBuf *b, int kind, const void *p, size_t n) {
        const char h[8] = {(char)kind, 0, 0, 0, (char)(n >> 24), (char)(n >> 16), (char)(n >> 8), (char)n};
        int r = vl_buf_append(b, h, sizeof(h));

        return r < 0 || n == 0 ? r : vl_buf_append(b, p, n);
}

static int queue_resize(Session *s) {
        struct winsize ws;
        char json[64];

        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
                return 0;
        int n = snprintf(json, sizeof(json), "{\"Width\":%u,\"Height\":%u}", ws.ws_col, ws.ws_row);
        return queue_frame(&s->out, FRAME_RESIZE, json, (size_t)n);
}

/* A signal for the container goes through a connection of its own: the session's carries frames. */
static void forward_signal(Cli *cli, const char *ref, int sig) {
        Cli side = *cli;
        CpodError err = {};
        VlJson *p = remote_params1("name", ref);

        side.client = NULL;
        if (p && vl_json_object_set_int(p, "signal", sig) < 0)
                p = vl_json_unref(p);
        if (p)
                (void)remote_call(&side, "KillContainer", p, NULL, &err);
        remote_close(&side);
}

/* Handle the complete frames received; -EPROTO for a frame over the limit. */
static int handle_frames(Session *s) {
        size_t off = 0;
        int r = 0;

        while (s->in.len - off >= 8) {
                const unsigned char *h = (const unsigned char *)s->in.data + off;
                size_t n = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
                if (n > FRAME_MAX) {
                        r = -EPROTO;
                        break;
                }
                if (s->in.len - off < 8 + n)
                        break;
                const char *p = s->in.data + off + 8;
                if (h[0] == FRAME_STDOUT)
                        (void)transfer_write_all(STDOUT_FILENO, p, n);
                else if (h[0] == FRAME_STDERR)
                        (void)transfer_write_all(STDERR_FILENO, p, n);
                else if (h[0] == FRAME_EXIT && n == 4)
                        s->code = (int)((unsigned)(unsigned char)p[0] << 24 |
                                        (unsigned)(unsigned char)p[1] << 16 |
                                        (unsigned)(unsigned char)p[2] << 8 | (unsigned)(unsigned char)p[3]);
                off += 8 + n;
        }
        memmove(s->in.data, s->in.data + off, s->in.len - off);
        s->in.len -= off;
        return r;
}

static int flush_out(Session *s) {
        while (s->out.len > 0) {
                ssize_t k = send(s->sock, s->out.data, s->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (k < 0 && errno == ENOTSOCK)
                        k = write(s->sock, s->out.data, s->out.len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        return 0;
                if (k <= 0)
                        return -EPIPE;
                memmove(s->out.data, s->out.data + k, s->out.len - (size_t)k);
                s->out.len -= (size_t)k;
        }
        return 0;
}

/* Relay until the service closes the connection. */
static int session_loop(Cli *cli, Session *s) {
        char *buf = malloc(CHUNK);
        bool in_open = s->interactive, can_send = true;
        int r = buf ? 0 : -ENOMEM;

        while (r >= 0) {
                if (can_send && flush_out(s) < 0) {
                        can_send = in_open = false;
                        vl_buf_clear(&s->out);
                }
                struct pollfd p[3] = {
                        {.fd = s->sock, .events = POLLIN | (s->out.len > 0 ? POLLOUT : 0)},
                        {.fd = in_open && s->out.len < 4 * CHUNK ? STDIN_FILENO : -1, .events = POLLIN},
                        {.fd = sig_pipe[0], .events = POLLIN},
                };
                if (poll(p, 3, -1) < 0) {
                        if (errno != EINTR)
                                r = -errno;
                        continue;
                }
                unsigned char sig;
                while (p[2].revents && read(sig_pipe[0], &sig, 1) == 1) {
                        if (sig == SIGWINCH)
                                r = s->tty ? queue_resize(s) : 0;
                        else if (s->kill_ref)
                                forward_signal(cli, s->kill_ref, sig);
                }
                if (p[1].revents) {
                        ssize_t k = read(STDIN_FILENO, buf, CHUNK);
                        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (k <= 0) { /* the end of the input reaches the container */
                                in_open = false;
                                r = queue_frame(&s->out, FRAME_STDIN, NULL, 0);
                        } else
                                r = queue_frame(&s->out, FRAME_STDIN, buf, (size_t)k);
                }
                if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                        ssize_t k = read(s->sock, buf, CHUNK);
                        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (k <= 0)
                                break;
                        r = vl_buf_append(&s->in, buf, (size_t)k);
                        r = r < 0 ? r : handle_frames(s);
                }
        }
        free(buf);
        return r;
}

/* Take the upgraded connection of the last call and relay on it; the exit code, or 125 (printed). */
static int session_run(Cli *cli, Session *s) {
        struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART},
                         saved[ELEMENTSOF(session_signals)];
        struct termios term;
        _cleanup_free_ char *pending = NULL;
        size_t n_pending = 0;
        bool raw = false;
        int r;

        s->code = -1;
        r = vl_client_take_upgraded(cli->client, &s->sock, &pending, &n_pending);
        if (r < 0)
                return cli_error(CLI_EXIT_ERROR, "the upgraded connection: %s", strerror(-r));
        (void)fcntl(s->sock, F_SETFL, fcntl(s->sock, F_GETFL) | O_NONBLOCK);
        r = vl_buf_append(&s->in, pending, n_pending);
        r = r < 0 ? r : handle_frames(s);
        if (r >= 0 && pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
                r = -errno;
        if (r >= 0 && s->tty && s->interactive && isatty(STDIN_FILENO) &&
            tcgetattr(STDIN_FILENO, &term) == 0) {
                struct termios t = term;
                cfmakeraw(&t);
                raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
                r = raw ? queue_resize(s) : 0;
        }
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(session_signals); i++)
                sigaction(session_signals[i], &sa, &saved[i]);
        if (r >= 0)
                r = session_loop(cli, s);
        for (size_t i = 0; sig_pipe[0] >= 0 && i < ELEMENTSOF(session_signals); i++)
                sigaction(session_signals[i], &saved[i], NULL);
        if (raw)
                (void)tcsetattr(STDIN_FILENO, TCSANOW, &term);
        sig_pipe[0] = safe_close(sig_pipe[0]);
        sig_pipe[1] = safe_close(sig_pipe[1]);
        s->sock = safe_close(s->sock);
        vl_buf_free(&s->in);
        vl_buf_free(&s->out);
        remote_close(cli); /* the connection is spent; another call opens a new one */
        if (r < 0)
                return cli_error(CLI_EXIT_ERROR, "relaying the container's terminal: %s", strerror(-r));
        if (s->code < 0)
                return cli_error(CLI_EXIT_ERROR, "the service closed the connection before the exit code");
        return s->code;
}

/* Config.Tty of a container; false when it cannot be read (the attach then reports the error). */
static bool container_tty(Cli *cli, const char *ref) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL, *config = NULL;
        CpodError err = {};
        const VlJson *s;

        if (remote_call(cli, "ContainerConfig", remote_params1("name", ref), &reply, &err) < 0)
                return false;
        s = vl_json_object_get(reply, "config");
        if (vl_json_parse(vl_json_get_string(s) ?: "", vl_json_get_string_length(s), NULL, &config, NULL) <
            0)
                return false;
        return vl_json_get_bool(vl_json_object_get(config, "Tty"));
}

int remote_attach(Cli *cli, const char *ref, bool start, bool interactive, int tty, const char *detach_keys,
                  bool sig_proxy) {
        _cleanup_(vl_json_unrefp) VlJson *params = remote_params1("name", ref);
        Session s = {.interactive = interactive, .kill_ref = sig_proxy ? ref : NULL};
        CpodError err = {};
        int r;

        s.tty = tty < 0 ? container_tty(cli, ref) : tty > 0;
        if (!params || vl_json_object_set_string(params, "detachKeys", detach_keys ?: "") < 0 ||
            vl_json_object_set_bool(params, "start", start) < 0)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        fflush(stdout);
        r = remote_call_flags(cli, "Attach", TAKE_PTR(params), VL_CALL_UPGRADE, NULL, &err);
        if (r < 0)
                return start ? cli_start_error(&err, r) : cli_engine_error(&err, r);
        return session_run(cli, &s);
}

/* ---- attach ---- */

static int remote_attach_command(Cli *cli, int argc, char **argv) {
        bool interactive, sig_proxy;
        const char *keys;
        int r = cli_attach_args(cli, argc, argv, &keys, &interactive, &sig_proxy);

        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        return remote_attach(cli, argv[optind], false, interactive, -1, keys, sig_proxy);
}

/* ---- exec ---- */

static VlJson *strv_json(char *const *v, size_t n) {
        VlJson *a = vl_json_new_array();

        for (size_t i = 0; a && i < n; i++)
                if (vl_json_array_append(a, vl_json_new_string(v[i])) < 0)
                        a = vl_json_unref(a);
        return a;
}

static VlJson *exec_opts(const char *ref, const ExecOptions *o, const char *keys) {
        _cleanup_(vl_json_unrefp) VlJson *opts = remote_params1("name", ref), *params = vl_json_new_object();
        int r = opts && params ? 0 : -ENOMEM;

        r = r ?: vl_json_object_set_bool(opts, "tty", o->tty);
        r = r ?: vl_json_object_set_bool(opts, "privileged", o->privileged);
        r = r ?: vl_json_object_set(opts, "cmd", strv_json(o->command, o->n_command));
        if (r >= 0 && o->user)
                r = vl_json_object_set_string(opts, "user", o->user);
        if (r >= 0 && o->workdir)
                r = vl_json_object_set_string(opts, "workdir", o->workdir);
        if (r >= 0 && o->n_env > 0)
                r = vl_json_object_set(opts, "env", strv_json(o->env, o->n_env));
        if (r >= 0 && keys)
                r = vl_json_object_set_string(opts, "detachKeys", keys);
        r = r ?: vl_json_object_set(params, "opts", TAKE_PTR(opts));
        return r < 0 ? NULL : TAKE_PTR(params);
}

/* With a terminal, io.cpod's ExecContainer gives the exec's terminal the size of cpod's, as local mode does
 * (its input's, else its output's); -ENOSYS (err unset) when there is no size to give or the service lacks
 * io.cpod, for io.podman's. */
static int exec_sized(Cli *cli, const ExecOptions *o, const VlJson *params, CpodError *err) {
        struct winsize ws;
        VlJson *p;
        int r;

        if (!o->tty || o->detach ||
            ((!o->interactive || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0) &&
             ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0) ||
            ws.ws_row == 0 || ws.ws_col == 0)
                return -ENOSYS;
        if (!(p = vl_json_copy(params)) || vl_json_object_set_int(p, "width", ws.ws_col) < 0 ||
            vl_json_object_set_int(p, "height", ws.ws_row) < 0) {
                vl_json_unref(p);
                return cpod_error(err, ENOMEM, "out of memory");
        }
        r = remote_cpod_call_flags(cli, "ExecContainer", p, VL_CALL_UPGRADE, NULL, err);
        if (r == -ENOSYS)
                *err = (CpodError){};
        return r;
}

static int remote_exec(Cli *cli, int argc, char **argv) {
        ExecOptions o = {};
        const char *keys = NULL;
        CpodError err = {};
        VlJson *params;
        int r;

        r = cli_parse_exec(cli, argc, argv, &o, &keys);
        if (r == 0 && !(params = exec_opts(argv[optind], &o, keys)))
                r = cli_error(CLI_EXIT_ERROR, "out of memory");
        strv_free_n(o.env, o.n_env);
        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        fflush(stdout);
        if (o.detach) {
                /* io.cpod's answers once the command runs, or why it could not start it */
                r = remote_cpod_call_flags(cli, "ExecDetached", vl_json_copy(params), 0, NULL, &err);
                if (r != -ENOSYS) {
                        vl_json_unref(params);
                        return r < 0 ? cli_start_error(&err, r) : CLI_EXIT_OK;
                }
                err = (CpodError){};
        }
        r = exec_sized(cli, &o, params, &err);
        if (r == -ENOSYS)
                r = remote_call_flags(cli, "ExecContainer", params, VL_CALL_UPGRADE, NULL, &err);
        else
                vl_json_unref(params);
        if (r < 0)
                return cli_start_error(&err, r);
        Session s = {.interactive = o.interactive && !o.detach, .tty = o.tty};
        if (o.detach) { /* a service without io.cpod (podman 1.x): no word of a start failure */
                /* the command runs on in the service once the connection hangs up */
                int fd = -1;
                _cleanup_free_ char *pending = NULL;
                size_t n = 0;
                if (vl_client_take_upgraded(cli->client, &fd, &pending, &n) >= 0) {
                        VlBuf b = VL_BUF_INIT;
                        if (queue_frame(&b, FRAME_STDIN, NULL, 0) >= 0 &&
                            queue_frame(&b, FRAME_HANGUP, NULL, 0) >= 0)
                                (void)transfer_write_all(fd, b.data, b.len);
                        vl_buf_free(&b);
                        safe_close(fd);
                }
                remote_close(cli);
                return CLI_EXIT_OK;
        }
        /* without -i the command reads the end of its input at once, as from /dev/null locally */
        if (!s.interactive && queue_frame(&s.out, FRAME_STDIN, NULL, 0) < 0)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        return session_run(cli, &s);
}

/* ---- top ---- */

/* "a\tb\tc" into at most max cells (the last keeps any further tabs), padded with "" to max. */
static char **split_cells(const char *line, size_t max) {
        char **v = calloc(max + 1, sizeof(char *));

        for (size_t i = 0; v && i < max; i++) {
                const char *tab = i + 1 < max ? strchr(line, '\t') : NULL;
                size_t n = tab ? (size_t)(tab - line) : strlen(line);
                if (!(v[i] = strndup(line, n))) {
                        strv_free_n(v, i);
                        return NULL;
                }
                line += n + (tab ? 1 : 0);
        }
        return v;
}

static int remote_top(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"latest", no_argument, NULL, 'l'}, {"help", no_argument, NULL, 'h'}, {}};
        _cleanup_(vl_json_unrefp) VlJson *params = NULL, *reply = NULL;
        char **header = NULL, ***rows = NULL;
        size_t ncols = 0, nrows = 0;
        CpodError err = {};
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "+lh", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                if (c == 'l')
                        return cli_error(CLI_EXIT_ERROR, "--latest is not supported yet");
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, INT32_MAX) < 0)
                return CLI_EXIT_ERROR;
        /* every column: the descriptors select among them here, as local mode does */
        params = remote_params1("name", argv[optind]);
        if (!params || vl_json_object_set(params, "opts", vl_json_new_array()) < 0)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        r = remote_call(cli, "ListContainerProcesses", TAKE_PTR(params), &reply, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        const VlJson *lines = vl_json_object_get(reply, "container");
        size_t n = vl_json_array_length(lines);
        const char *first = n > 0 ? vl_json_get_string(vl_json_array_get(lines, 0)) : "";
        ncols = 1;
        for (const char *p = first; (p = strchr(p, '\t')); p++)
                ncols++;
        r = (header = split_cells(first, ncols)) ? 0 : -ENOMEM;
        if (r >= 0 && n > 1 && !(rows = calloc(n - 1, sizeof(char **))))
                r = -ENOMEM;
        for (size_t i = 1; r >= 0 && i < n; i++, nrows++)
                if (!(rows[i - 1] =
                              split_cells(vl_json_get_string(vl_json_array_get(lines, i)) ?: "", ncols)))
                        r = -ENOMEM;
        if (r >= 0)
                r = cli_print_top(header, ncols, rows, nrows, argv + optind + 1, argc - optind - 1);
        for (size_t i = 0; i < nrows; i++)
                strv_free_n(rows[i], ncols);
        free(rows);
        strv_free_n(header, ncols);
        return r < 0 ? cli_error(CLI_EXIT_ERROR, "out of memory") : CLI_EXIT_OK;
}

/* ---- stats ---- */

/* IDs of the running containers, newest first (the order ListContainers gives). */
static int running_ids(Cli *cli, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL, *ids = vl_json_new_array();
        int r = ids ? remote_call(cli, "ListContainers", NULL, &reply, err) : -ENOMEM;
        const VlJson *cs = vl_json_object_get(reply, "containers");

        for (size_t i = 0; r >= 0 && i < vl_json_array_length(cs); i++) {
                const VlJson *c = vl_json_array_get(cs, i);
                if (streq_ptr(vl_json_get_string(vl_json_object_get(c, "status")), "running"))
                        r = vl_json_array_append(ids, vl_json_copy(vl_json_object_get(c, "id")));
        }
        if (r < 0)
                return r == -ENOMEM ? cpod_error(err, ENOMEM, "out of memory") : r;
        *ret = TAKE_PTR(ids);
        return 0;
}

static int stats_one(Cli *cli, const char *ref, VlJson *rows, VlJson *items, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        int r = remote_call(cli, "GetContainerStats", remote_params1("name", ref), &reply, err);

        if (r < 0)
                return r;
        const VlJson *v = vl_json_object_get(reply, "container");
#define U(k) ((uint64_t)vl_json_get_int(vl_json_object_get(v, k)))
        ContainerStats s = {
                .name = (char *)(vl_json_get_string(vl_json_object_get(v, "name")) ?: ""),
                .cpu_percent = vl_json_get_double(vl_json_object_get(v, "cpu")),
                .cpu_nano = U("cpu_nano"),
                .mem_usage = U("mem_usage"),
                .mem_limit = U("mem_limit"),
                .net_in = U("net_input"),
                .net_out = U("net_output"),
                .block_in = U("block_input"),
                .block_out = U("block_output"),
                .pids = U("pids"),
        };
#undef U
        snprintf(s.id, sizeof(s.id), "%s", vl_json_get_string(vl_json_object_get(v, "id")) ?: "");
        return cli_stats_add(&s, rows, items) < 0 ? cpod_error(err, ENOMEM, "out of memory") : 0;
}

static int stats_round(void *userdata, char **refs, size_t n, const Output *out) {
        Cli *cli = userdata;
        _cleanup_(vl_json_unrefp) VlJson *rows = vl_json_new_array(), *items = vl_json_new_array(),
                                         *ids = NULL;
        CpodError err = {};
        int r = rows && items ? 0 : cpod_error(&err, ENOMEM, "out of memory");

        if (r == 0 && n == 0 && (r = running_ids(cli, &ids, &err)) >= 0)
                n = vl_json_array_length(ids);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = stats_one(cli, ids ? vl_json_get_string(vl_json_array_get(ids, i)) : refs[i], rows,
                              items, &err);
        if (r >= 0)
                r = output_print(out, cli_stats_columns, rows, items, &err);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

static int remote_stats(Cli *cli, int argc, char **argv) {
        return cli_stats_with(cli, argc, argv, stats_round, cli);
}

/* ---- diff ---- */

static int remote_diff(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"format", required_argument, NULL, 'f'},
                {"latest", no_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        _cleanup_free_ char **paths = NULL, *kinds = NULL;
        const char *format = NULL;
        CpodError err = {};
        int r = remote_args_value(cli, argc, argv, "lh", options, 'f', &format, 1, 1);

        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        if (format && !output_is_json(format))
                return cli_error(CLI_EXIT_ERROR, "only json format is supported");
        r = remote_call(cli, "Diff", remote_params1("name", argv[optind]), &reply, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        const VlJson *diffs = vl_json_object_get(reply, "diffs");
        size_t n = vl_json_array_length(diffs);
        if (!(paths = calloc(n + 1, sizeof(char *))) || !(kinds = calloc(n + 1, 1)))
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        for (size_t i = 0; i < n; i++) {
                const VlJson *d = vl_json_array_get(diffs, i);
                paths[i] = (char *)(vl_json_get_string(vl_json_object_get(d, "path")) ?: "");
                kinds[i] = (vl_json_get_string(vl_json_object_get(d, "changeType")) ?: "?")[0];
        }
        if (format)
                r = cli_print_diff_json(paths, kinds, n);
        else
                for (size_t i = 0; i < n; i++)
                        printf("%c %s\n", kinds[i], paths[i]);
        return r < 0 ? cli_error(CLI_EXIT_ERROR, "out of memory") : CLI_EXIT_OK;
}

/* ---- export ---- */

static int remote_export(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'}, {}};
        _cleanup_(vl_json_unrefp) VlJson *params = NULL, *reply = NULL;
        _cleanup_close_ int fd = -1;
        const char *output = NULL;
        CpodError err = {};
        int r = remote_args_value(cli, argc, argv, "o:h", options, 'o', &output, 1, 1);

        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        if (!output && isatty(STDOUT_FILENO))
                return cli_error(CLI_EXIT_ERROR, "refusing to export to terminal. Use -o flag or redirect");
        bool created = output && access(output, F_OK) < 0;
        if (output && (fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
                return cli_error(CLI_EXIT_ERROR, "opening `%s`: %s", output, strerror(errno));
        /* an empty path: the service writes a temporary file for ReceiveFile */
        params = remote_params1("name", argv[optind]);
        if (!params || vl_json_object_set_string(params, "path", "") < 0)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        r = remote_call(cli, "ExportContainer", TAKE_PTR(params), &reply, &err);
        if (r < 0) {
                if (created)
                        (void)unlink(output);
                return cli_engine_error(&err, r);
        }
        const char *tarfile = vl_json_get_string(vl_json_object_get(reply, "tarfile")) ?: "";
        fflush(stdout);
        r = remote_receive_file(cli, tarfile, output ? fd : STDOUT_FILENO, &err);
        if (r >= 0 && fd >= 0 && fsync(fd) < 0)
                r = cpod_error_errno(&err, errno, "writing `%s`", output);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

/* ---- commit ---- */

static int remote_commit(Cli *cli, int argc, char **argv) {
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
        _cleanup_(vl_json_unrefp) VlJson *params = vl_json_new_object(), *changes = vl_json_new_array(),
                                         *reply = NULL;
        const char *author = "", *message = "", *format = "oci";
        bool pause = false;
        CpodError err = {};
        int c, r;

        if (!params || !changes)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        while ((c = cli_getopt(cli, argc, argv, "a:c:f:m:pqh", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                if (c == 'a')
                        author = optarg;
                else if (c == 'm')
                        message = optarg;
                else if (c == 'p' && cli_parse_bool(optarg, &pause) < 0)
                        return cli_error(CLI_EXIT_ERROR, "invalid argument \"%s\" for \"-p, --pause\"",
                                         optarg);
                else if (c == 'c' && vl_json_array_append(changes, vl_json_new_string(optarg)) < 0)
                        return cli_error(CLI_EXIT_ERROR, "out of memory");
                else if (c == 'f' && !streq(optarg, "oci") && !streq(optarg, "docker"))
                        return cli_error(CLI_EXIT_ERROR, "unrecognized image type \"%s\"", optarg);
                else if (c == 'f')
                        format = optarg;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 2) < 0)
                return CLI_EXIT_ERROR;
        r = vl_json_object_set_string(params, "name", argv[optind]);
        r = r ?: vl_json_object_set_string(params, "image_name", argc - optind > 1 ? argv[optind + 1] : "");
        r = r ?: vl_json_object_set(params, "changes", TAKE_PTR(changes));
        r = r ?: vl_json_object_set_string(params, "author", author);
        r = r ?: vl_json_object_set_string(params, "message", message);
        r = r ?: vl_json_object_set_bool(params, "pause", pause);
        r = r ?: vl_json_object_set_string(params, "manifestType", format);
        if (r < 0)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        r = remote_call(cli, "Commit", TAKE_PTR(params), &reply, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        printf("%s\n",
               vl_json_get_string(vl_json_object_get(vl_json_object_get(reply, "reply"), "id")) ?: "");
        return CLI_EXIT_OK;
}

/* ---- mount, unmount ---- */

/* The IDs of every container, newest first. */
static int all_ids(Cli *cli, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL, *ids = vl_json_new_array();
        int r = ids ? remote_call(cli, "ListContainers", NULL, &reply, err) : -ENOMEM;
        const VlJson *cs = vl_json_object_get(reply, "containers");

        for (size_t i = 0; r >= 0 && i < vl_json_array_length(cs); i++)
                r = vl_json_array_append(ids,
                                         vl_json_copy(vl_json_object_get(vl_json_array_get(cs, i), "id")));
        if (r < 0)
                return r == -ENOMEM ? cpod_error(err, ENOMEM, "out of memory") : r;
        *ret = TAKE_PTR(ids);
        return 0;
}

static int list_mounted(Cli *cli, bool no_trunc) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        CpodError err = {};
        VlBuf b = VL_BUF_INIT;
        int r = remote_call(cli, "ListContainerMounts", NULL, &reply, &err);

        if (r < 0)
                return cli_engine_error(&err, r);
        const VlJson *m = vl_json_object_get(reply, "mounts");
        for (size_t i = 0; r >= 0 && i < vl_json_object_length(m); i++) {
                const char *id = vl_json_object_key(m, i);
                r = vl_buf_append(&b, id, MIN(strlen(id), no_trunc ? (size_t)64 : 12));
                r = r ?: vl_buf_append_char(&b, '\t');
                r = r ?: vl_buf_append_str(&b, vl_json_get_string(vl_json_object_value(m, i)) ?: "");
                r = r ?: vl_buf_append_char(&b, '\n');
        }
        if (r >= 0 && b.len > 0)
                r = output_table_text(b.data, b.len);
        vl_buf_free(&b);
        return r < 0 ? cli_error(CLI_EXIT_ERROR, "%s", strerror(-r)) : CLI_EXIT_OK;
}

static int remote_mount(Cli *cli, int argc, char **argv) {
        enum { ARG_NO_TRUNC = 0x100, ARG_FORMAT };
        static const struct option options[] = {
                {"all", no_argument, NULL, 'a'},
                {"format", required_argument, NULL, ARG_FORMAT},
                {"no-trunc", no_argument, NULL, ARG_NO_TRUNC},
                {"latest", no_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *ids = NULL;
        bool all = false, no_trunc = false;
        int c, status = CLI_EXIT_OK;

        while ((c = cli_getopt(cli, argc, argv, "alh", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                all = all || c == 'a';
                no_trunc = no_trunc || c == ARG_NO_TRUNC;
                if (c == 'l')
                        return cli_error(CLI_EXIT_ERROR, "--latest is not supported yet");
        }
        if (c == -2 || (all && cli_check_args(cli, argc - optind, 0, 0) < 0))
                return CLI_EXIT_ERROR;
        if (!all && optind == argc)
                return list_mounted(cli, no_trunc);
        if (all) {
                CpodError err = {};
                int r = all_ids(cli, &ids, &err);
                if (r < 0)
                        return cli_engine_error(&err, r);
        }
        size_t n = all ? vl_json_array_length(ids) : (size_t)(argc - optind);
        for (size_t i = 0; i < n; i++) {
                _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
                const char *ref = all ? vl_json_get_string(vl_json_array_get(ids, i)) : argv[optind + i];
                CpodError err = {};
                int r = remote_call(cli, "MountContainer", remote_params1("name", ref), &reply, &err);
                if (r < 0)
                        status = cli_engine_error(&err, r);
                else
                        printf("%s\n", vl_json_get_string(vl_json_object_get(reply, "path")) ?: "");
        }
        return status;
}

static int remote_umount(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"all", no_argument, NULL, 'a'},
                {"force", no_argument, NULL, 'f'},
                {"latest", no_argument, NULL, 'l'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *ids = NULL;
        bool all = false, force = false;
        int c, status = CLI_EXIT_OK;

        while ((c = cli_getopt(cli, argc, argv, "aflh", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                all = all || c == 'a';
                force = force || c == 'f';
        }
        if (c == -2 || cli_check_args(cli, argc - optind, all ? 0 : 1, all ? 0 : INT32_MAX) < 0)
                return CLI_EXIT_ERROR;
        if (all) {
                CpodError err = {};
                int r = all_ids(cli, &ids, &err);
                if (r < 0)
                        return cli_engine_error(&err, r);
        }
        size_t n = all ? vl_json_array_length(ids) : (size_t)(argc - optind);
        for (size_t i = 0; i < n; i++) {
                _cleanup_(vl_json_unrefp) VlJson *params = NULL;
                const char *ref = all ? vl_json_get_string(vl_json_array_get(ids, i)) : argv[optind + i];
                CpodError err = {};
                int r = (params = remote_params1("name", ref))
                                ? vl_json_object_set_bool(params, "force", force)
                                : -ENOMEM;
                r = r < 0 ? cpod_error(&err, ENOMEM, "out of memory")
                          : remote_call(cli, "UnmountContainer", TAKE_PTR(params), NULL, &err);
                if (r < 0 && !all)
                        status = cli_engine_error(&err, r);
                else if (r >= 0 && !all)
                        printf("%s\n", ref);
        }
        return status;
}

/* ---- container exists, container prune ---- */

static int remote_container_exists(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"external", no_argument, NULL, 'x'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        return remote_exists(cli, argc, argv, options, false, "ContainerExists");
}

static int remote_container_prune(Cli *cli, int argc, char **argv) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        CpodError err = {};
        bool force;
        int r = remote_force_args(cli, argc, argv, 0, 0, "container prune filters are not supported yet",
                                  &force);

        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        if (!force && !cli_confirm("WARNING! This will remove all non running containers.\n"
                                   "Are you sure you want to continue?"))
                return CLI_EXIT_OK;
        r = remote_call(cli, "DeleteStoppedContainers", NULL, &reply, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        const VlJson *ids = vl_json_object_get(reply, "containers");
        for (size_t i = 0; i < vl_json_array_length(ids); i++)
                printf("%s\n", vl_json_get_string(vl_json_array_get(ids, i)));
        return CLI_EXIT_OK;
}

/* ---- events ---- */

static int set_time(VlJson *params, const char *key, int64_t secs) {
        char buf[64] = "";
        time_t t = (time_t)secs;
        struct tm tm;

        if (secs > 0 && gmtime_r(&t, &tm))
                strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
        return vl_json_object_set_string(params, key, buf);
}

/* One Event record as the log's line, for the local printer. */
static int event_line(const VlJson *ev, EventsLineFn line, void *userdata) {
        static const char *const keys[][2] = {{"time", "Time"}, {"type", "Type"}, {"status", "Status"},
                                              {"id", "ID"},     {"name", "Name"}, {"image", "Image"}};
        _cleanup_(vl_json_unrefp) VlJson *o = vl_json_new_object();
        _cleanup_free_ char *s = NULL;

        if (!vl_json_get_string(vl_json_object_get(ev, "type")) ||
            !*vl_json_get_string(vl_json_object_get(ev, "type")))
                return 0; /* an empty record */
        for (size_t i = 0; o && i < ELEMENTSOF(keys); i++) {
                const char *v = vl_json_get_string(vl_json_object_get(ev, keys[i][0]));
                if (v && *v && vl_json_object_set_string(o, keys[i][1], v) < 0)
                        return -ENOMEM;
        }
        if (!o || !(s = vl_json_to_string(o, 0)))
                return -ENOMEM;
        return line(s, strlen(s), userdata);
}

static int events_source(Cli *cli, const EventsQuery *q, EventsLineFn line, void *userdata) {
        _cleanup_(vl_json_unrefp) VlJson *params = vl_json_new_object();
        const char *error = NULL;
        bool more = true;
        VlClient *c;
        int r;

        /* whole seconds around the asked times; the printer keeps exactly what local mode keeps */
        int64_t until = q->until ? (q->until + 999999999) / 1000000000 : q->stream ? 0 : (int64_t)time(NULL);
        if (!params || vl_json_object_set(params, "filter", vl_json_new_array()) < 0 ||
            set_time(params, "since", q->since / 1000000000) < 0 || set_time(params, "until", until) < 0)
                return cli_error(-ENOMEM, "out of memory");
        if (!(c = remote_client(cli)))
                return -ECONNREFUSED;
        for (bool first = true; more; first = false) {
                _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
                if (first) {
                        r = vl_client_call(c, "io.podman.GetEvents", params, VL_CALL_MORE, &reply, &error);
                        more = r >= 0 && vl_client_continues(c);
                } else
                        r = vl_client_next(c, &reply, &error, &more);
                if (r < 0)
                        return cli_error(r, "reading the events: %s", strerror(-r));
                if (error) {
                        const char *reason = vl_json_get_string(vl_json_object_get(reply, "reason"));
                        return cli_error(-EIO, "%s", reason ?: error);
                }
                r = event_line(vl_json_object_get(reply, "events"), line, userdata);
                if (r < 0)
                        return cli_error(r, "%s", strerror(-r));
                if (r > 0)
                        break;
        }
        remote_close(cli); /* a stream left unread ends with the connection */
        return 0;
}

static int remote_events(Cli *cli, int argc, char **argv) {
        return cli_events(cli, argc, argv, events_source);
}

const RemoteCommand remote_container_commands[] = {
        {"attach", remote_attach_command},
        {"container attach", remote_attach_command},
        {"exec", remote_exec},
        {"container exec", remote_exec},
        {"top", remote_top},
        {"container top", remote_top},
        {"stats", remote_stats},
        {"container stats", remote_stats},
        {"diff", remote_diff},
        {"container diff", remote_diff},
        {"export", remote_export},
        {"container export", remote_export},
        {"commit", remote_commit},
        {"container commit", remote_commit},
        {"mount", remote_mount},
        {"container mount", remote_mount},
        {"umount", remote_umount},
        {"unmount", remote_umount},
        {"container umount", remote_umount},
        {"container unmount", remote_umount},
        {"events", remote_events},
        {"container exists", remote_container_exists},
        {"container prune", remote_container_prune},
        {},
};
