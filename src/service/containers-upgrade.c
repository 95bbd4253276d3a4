/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Attach and ExecContainer: calls with `upgrade`. After the reply {} the
 * connection carries frames both ways, each an 8-byte header (byte 0 the
 * stream: 0 stdout, 1 stdin, 2 stderr, 3 resize JSON {Width,Height}, 4 the
 * exit code as a big-endian uint32, 5 the client hangs up; bytes 4-7 the
 * big-endian payload length) and its payload.
 *
 * A worker process forked from the connection's process runs the engine
 * call with pipes as the container's stdio; this process relays between
 * the pipes and the frames, and sends the exit code frame when the worker
 * ends. A hang-up (frame 5 or the socket closing) detaches an attach (the
 * container runs on) and closes the standard input of an exec. A stdin
 * frame of length 0 is the end of the client's input: the container's
 * standard input is closed, as a local `run -i` does at the end of its
 * input. A resize frame reaches the container's terminal (attach, start);
 * an exec's terminal keeps the size it started with (io.cpod's ExecContainer
 * gives the client's: the worker's stdout is then a pty of that size).
 */

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "containers-internal.h"
#include "util.h"
#include "transfer.h"

enum { FRAME_STDOUT, FRAME_STDIN, FRAME_STDERR, FRAME_RESIZE, FRAME_EXIT, FRAME_HANGUP };

#define FRAME_MAX (1u << 20)
#define CHUNK     65536

typedef struct Job {
        bool attach, start;
        const char *id;
        const char *detach_keys;
        ExecOptions exec;
        unsigned short rows, cols; /* an exec's terminal size, when the client gave one */
} Job;

typedef struct Relay {
        int sock, in_w, out_r, err_r;
        pid_t pid;
        bool attach, sock_open;
        const char *winsz; /* the container's terminal size fifo (attach with a terminal), or NULL */
        char size[64];     /* a size for it not written yet, or "" */
        char *frame;       /* the frame being read from the client */
        size_t have;
} Relay;

static int send_frame(int sock, int kind, const void *p, size_t n) {
        unsigned char h[8] = {(unsigned char)kind,
                              0,
                              0,
                              0,
                              (unsigned char)(n >> 24),
                              (unsigned char)(n >> 16),
                              (unsigned char)(n >> 8),
                              (unsigned char)n};
        int r = transfer_write_all(sock, h, sizeof(h));
        return r < 0 || n == 0 ? r : transfer_write_all(sock, p, n);
}

/* In the worker: run the engine call; the exit status is the container's (or 125). */
static _Noreturn void worker_run(Engine *e, const Job *j, int in, int out, int errfd) {
        ContainerStdio stdio = {.in_fd = in, .out_fd = out, .err_fd = errfd, .detach_keys = j->detach_keys};
        CpodError err = {};
        bool detached = false;
        int code = 0, r; /* a detach leaves it unset: 0, as local mode exits */

        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        (void)signal(SIGPIPE, SIG_IGN);
        if (j->attach && j->start)
                r = container_start(e, j->id, &stdio, &code, &err);
        else if (j->attach)
                r = container_attach(e, j->id, &stdio, &code, &detached, &err);
        else
                r = container_exec(e, j->id, &j->exec, &stdio, &code, &err);
        if (r < 0) {
                dprintf(errfd, "Error: %s\n", err.message[0] ? err.message : strerror(-r));
                if (!j->attach && code == 0)
                        code = 125;
                if (j->attach) /* what a local start exits with: 127 no command, 126 cannot run it */
                        code = r == -ENOENT && !strstr(err.message, "no such container") ? 127
                               : r == -EACCES || r == -ENOEXEC || r == -EPERM            ? 126
                                                                                         : 125;
        }
        _exit(code & 0xff);
}

/* Write the pending size to conmon's fifo; it stays pending while conmon has not opened the fifo yet
 * (a container that is being started). */
static void size_flush(Relay *rl) {
        int fd = open(rl->winsz, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

        if (fd < 0) {
                if (errno != ENXIO && errno != ENOENT)
                        rl->size[0] = 0; /* no such terminal: drop it */
                return;
        }
        (void)!write(fd, rl->size, strlen(rl->size));
        close(fd);
        rl->size[0] = 0;
}

/* {"Width": W, "Height": H} for the container's terminal: conmon takes "ROWS COLS\n". */
static void resize(Relay *rl, const char *p, size_t n) {
        _cleanup_(vl_json_unrefp) VlJson *v = NULL;

        if (!rl->winsz || vl_json_parse(p, n, NULL, &v, NULL) < 0)
                return;
        int64_t w = vl_json_get_int(vl_json_object_get(v, "Width"));
        int64_t h = vl_json_get_int(vl_json_object_get(v, "Height"));
        if (w < 0 || h < 0 || w > 65535 || h > 65535)
                return;
        snprintf(rl->size, sizeof(rl->size), "%lld %lld\n", (long long)h, (long long)w);
        size_flush(rl);
}

/* A frame from the client is complete: act on it. Returns 1 for a hang-up. */
static int client_frame(Relay *rl, int kind, const char *p, size_t n) {
        switch (kind) {
        case FRAME_STDIN:
                if (n == 0) /* the end of the client's input */
                        rl->in_w = safe_close(rl->in_w);
                else if (rl->in_w >= 0 && transfer_write_all(rl->in_w, p, n) < 0)
                        rl->in_w = safe_close(rl->in_w);
                return 0;
        case FRAME_RESIZE:
                resize(rl, p, n);
                return 0;
        case FRAME_HANGUP:
                return 1;
        default:
                return 0;
        }
}

static int read_client(Relay *rl) {
        ssize_t k = recv(rl->sock, rl->frame + rl->have, (rl->have < 8 ? 8 : 8 + FRAME_MAX) - rl->have, 0);
        if (k < 0 && errno == EINTR)
                return 0;
        if (k <= 0)
                return -ECONNRESET;
        rl->have += (size_t)k;
        while (rl->have >= 8) {
                const unsigned char *h = (const unsigned char *)rl->frame;
                size_t n = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
                if (n > FRAME_MAX)
                        return -EPROTO;
                if (rl->have < 8 + n)
                        break;
                int r = client_frame(rl, h[0], rl->frame + 8, n);
                memmove(rl->frame, rl->frame + 8 + n, rl->have - 8 - n);
                rl->have -= 8 + n;
                if (r != 0)
                        return r;
        }
        return 0;
}

/* Pass what a pipe has on as frames of kind; -1 at its end. */
static int pump(Relay *rl, int *fd, int kind, char *buf) {
        ssize_t k = read(*fd, buf, CHUNK);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (k <= 0) {
                *fd = safe_close(*fd);
                return -1;
        }
        if (rl->sock_open && send_frame(rl->sock, kind, buf, (size_t)k) < 0)
                rl->sock_open = false;
        return 0;
}

/* The client hung up (hup) or went away: an attach detaches (the container
 * runs on), an exec loses its standard input and runs to its end. */
static void client_gone(Relay *rl, bool hup) {
        rl->in_w = safe_close(rl->in_w);
        if (!hup || rl->attach)
                rl->sock_open = false;
        if (rl->attach)
                (void)kill(rl->pid, SIGKILL);
}

/* Relay until the worker's pipes are drained and it ended; returns its exit status. */
static int relay_run(Relay *rl) {
        char *buf = malloc(CHUNK);
        int status = 0;
        bool reading = true;

        rl->frame = malloc(8 + FRAME_MAX);
        if (!buf || !rl->frame) {
                free(buf);
                return -ENOMEM;
        }
        while (rl->out_r >= 0 || rl->err_r >= 0) {
                struct pollfd p[3] = {{.fd = reading ? rl->sock : -1, .events = POLLIN},
                                      {.fd = rl->out_r, .events = POLLIN},
                                      {.fd = rl->err_r, .events = POLLIN}};
                /* a pending size is retried until conmon reads its fifo */
                if (poll(p, 3, rl->size[0] ? 20 : -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (rl->size[0])
                        size_flush(rl);
                int k = p[0].revents ? read_client(rl) : 0;
                if (k == 1)
                        client_gone(rl, true);
                else if (k < 0) {
                        reading = false;
                        client_gone(rl, false);
                }
                if (p[1].revents)
                        (void)pump(rl, &rl->out_r, FRAME_STDOUT, buf);
                if (p[2].revents)
                        (void)pump(rl, &rl->err_r, FRAME_STDERR, buf);
        }
        free(buf);
        while (waitpid(rl->pid, &status, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* A pty in place of the pipe for the worker's stdout (master read, raw slave written), sized rows x cols:
 * the engine sizes an exec's terminal after the worker's stdout. */
static int sized_stdout(const Job *j, int out[2]) {
        struct winsize ws = {.ws_row = j->rows, .ws_col = j->cols};
        struct termios t;
        int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), slave = -1;

        if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 || !ptsname(master) ||
            (slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 || tcgetattr(slave, &t) < 0) {
                safe_close(master);
                safe_close(slave);
                return -errno;
        }
        cfmakeraw(&t);
        (void)tcsetattr(slave, TCSANOW, &t);
        (void)ioctl(master, TIOCSWINSZ, &ws);
        safe_close(out[0]);
        safe_close(out[1]);
        out[0] = master;
        out[1] = slave;
        return 0;
}

/* Start the worker and relay for it on the upgraded socket (owned). winsz: see Relay. */
static int session(Engine *e, const Job *j, const char *winsz, int sock) {
        int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
        Relay rl = {.sock = sock, .attach = j->attach, .sock_open = true, .winsz = winsz};

        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
            (j->rows > 0 && j->cols > 0 && sized_stdout(j, out) < 0)) {
                int r = -errno;
                const char *msg = "Error: cannot create pipes\n";
                (void)send_frame(sock, FRAME_STDERR, msg, strlen(msg));
                for (int i = 0; i < 2; i++) {
                        safe_close(in[i]);
                        safe_close(out[i]);
                        safe_close(err[i]);
                }
                close(sock);
                return r;
        }
        rl.pid = fork();
        if (rl.pid == 0) {
                close(sock);
                close(in[1]);
                close(out[0]);
                close(err[0]);
                worker_run(e, j, in[0], out[1], err[1]);
        }
        close(in[0]);
        close(out[1]);
        close(err[1]);
        rl.in_w = in[1];
        rl.out_r = out[0];
        rl.err_r = err[0];
        int code = rl.pid < 0 ? 125 : relay_run(&rl);
        unsigned char be[4] = {(unsigned char)(code >> 24), (unsigned char)(code >> 16),
                               (unsigned char)(code >> 8), (unsigned char)code};
        if (rl.sock_open)
                (void)send_frame(sock, FRAME_EXIT, be, sizeof(be));
        safe_close(rl.in_w);
        safe_close(rl.out_r);
        safe_close(rl.err_r);
        free(rl.frame);
        (void)shutdown(sock, SHUT_WR);
        close(sock);
        return 0;
}

/* Checks shared by both methods; on failure the call has been answered. */
static int upgrade_prepare(VlCall *call, unsigned flags, Service *svc, const char *ref, bool may_start,
                           Engine **ret_e, Container *ret) {
        if (!(flags & VL_CALL_UPGRADE)) {
                (void)vl_call_reply_error_string(
                        call, PODMAN_IFACE ".ErrorOccurred", "reason",
                        "this method needs a connection upgrade (call it with upgrade)");
                return -EPROTO;
        }
        int r = svc_get_container(call, svc, ref, ret_e, ret);
        if (r < 0)
                return r;
        bool running = ret->state == CONTAINER_RUNNING || ret->state == CONTAINER_PAUSED;
        if (!running && !may_start) {
                CpodError err = {};
                (void)cpod_error(&err, EINVAL, "container %s is %s, not running", ref,
                                 container_state_name(ret->state));
                (void)reply_container_error(call, -EINVAL, &err, ref);
                container_done(ret);
                return -EINVAL;
        }
        return 0;
}

static int method_attach(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        ContainerArgs a;
        Container c = {};
        Engine *e;
        int sock;

        if (svc_container_args(call, params, &a) < 0 ||
            upgrade_prepare(call, flags, userdata, a.name, a.flag, &e, &c) < 0)
                return 0;
        Job j = {.attach = true,
                 .id = c.id,
                 .detach_keys = a.other[0] ? a.other : NULL,
                 .start = a.flag && c.state != CONTAINER_RUNNING && c.state != CONTAINER_PAUSED};
        _cleanup_free_ char *winsz = NULL;
        if (c.tty && asprintf(&winsz, "%s/containers/%s/winsz", engine_runroot(e), c.id) < 0)
                winsz = NULL;
        int r = vl_call_reply_upgrade(call, NULL, &sock);
        if (r >= 0)
                r = session(e, &j, winsz, sock);
        container_done(&c);
        return 0;
}

typedef struct ExecArgs {
        const char *name, *user, *workdir, *detach_keys;
        bool tty, privileged;
        const VlJson *cmd, *env;
} ExecArgs;

static int method_exec(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        return svc_exec_session(call, vl_json_object_get(params, "opts"), flags, userdata, 0, 0);
}

int svc_exec_session(VlCall *call, const VlJson *opts, unsigned flags, Service *svc, unsigned rows,
                     unsigned cols) {
        static const VlJsonField fields[] = {
                {"name", VL_JSON_STRING, vl_json_dispatch_string, offsetof(ExecArgs, name), 0},
                {"user", VL_JSON_STRING, vl_json_dispatch_string, offsetof(ExecArgs, user), 0},
                {"workdir", VL_JSON_STRING, vl_json_dispatch_string, offsetof(ExecArgs, workdir), 0},
                {"detachKeys", VL_JSON_STRING, vl_json_dispatch_string, offsetof(ExecArgs, detach_keys), 0},
                {"tty", VL_JSON_BOOL, vl_json_dispatch_bool, offsetof(ExecArgs, tty), 0},
                {"privileged", VL_JSON_BOOL, vl_json_dispatch_bool, offsetof(ExecArgs, privileged), 0},
                {"cmd", -1, vl_json_dispatch_json, offsetof(ExecArgs, cmd), 0},
                {"env", -1, vl_json_dispatch_json, offsetof(ExecArgs, env), 0},
                {},
        };
        _cleanup_free_ const char **cmd = NULL, **env = NULL;
        ExecArgs x = {};
        Container c = {};
        Engine *e;
        int sock;

        if (vl_json_dispatch(opts, fields, &x, VL_JSON_ALLOW_EXTRA, NULL) < 0)
                return vl_call_reply_invalid_parameter(call, "opts");
        size_t n_cmd = vl_json_array_length(x.cmd), n_env = vl_json_array_length(x.env);
        if (n_cmd == 0 && (flags & VL_CALL_UPGRADE))
                return vl_call_reply_invalid_parameter(call, "opts.cmd");
        if (!(cmd = calloc(n_cmd + 1, sizeof(char *))) || !(env = calloc(n_env + 1, sizeof(char *))))
                return -ENOMEM;
        for (size_t i = 0; i < n_cmd; i++)
                cmd[i] = vl_json_get_string(vl_json_array_get(x.cmd, i));
        for (size_t i = 0; i < n_env; i++)
                env[i] = vl_json_get_string(vl_json_array_get(x.env, i));
        if (upgrade_prepare(call, flags, svc, x.name ? x.name : "", false, &e, &c) < 0)
                return 0;
        Job j = {.id = c.id,
                 .rows = (unsigned short)MIN(rows, 65535u),
                 .cols = (unsigned short)MIN(cols, 65535u),
                 .detach_keys = x.detach_keys,
                 .exec = {.command = (char **)cmd,
                          .n_command = n_cmd,
                          .env = (char **)env,
                          .n_env = n_env,
                          .user = x.user && x.user[0] ? x.user : NULL,
                          .workdir = x.workdir && x.workdir[0] ? x.workdir : NULL,
                          .tty = x.tty,
                          .interactive = true,
                          .privileged = x.privileged}};
        if (vl_call_reply_upgrade(call, NULL, &sock) >= 0)
                (void)session(e, &j, NULL, sock);
        container_done(&c);
        return 0;
}

int containers_upgrade_bind(VlServer *s, Service *svc) {
        int r = vl_server_bind_upgrade(s, PODMAN_IFACE ".Attach", method_attach, svc);
        return r < 0 ? r : vl_server_bind_upgrade(s, PODMAN_IFACE ".ExecContainer", method_exec, svc);
}
