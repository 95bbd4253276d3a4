/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A test service for the protocol tests, run in a forked child on an
 * abstract socket: echo, errors, streams, asynchronous replies, a method
 * that never answers, an upgrade and fd passing.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vl/vl.h>

static const char test_idl[] = "# A service for tests.\n"
                               "interface org.example.test\n"
                               "\n"
                               "method Echo(s: string, n: ?int) -> (s: string, n: ?int)\n"
                               "\n"
                               "method Fail(reason: string) -> ()\n"
                               "\n"
                               "method Stream(count: int) -> (i: int)\n"
                               "\n"
                               "method Later(ms: int, s: string) -> (s: string)\n"
                               "\n"
                               "method Never() -> ()\n"
                               "\n"
                               "method Unbound() -> ()\n"
                               "\n"
                               "method Raw() -> ()\n"
                               "\n"
                               "method PassFd() -> (n: int)\n"
                               "\n"
                               "method BadReply() -> (s: string)\n"
                               "\n"
                               "error Failed (reason: string)\n";

static int t_echo(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        return vl_call_reply(call, vl_json_copy(params));
}

static int t_fail(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        return vl_call_reply_error(call, "org.example.test.Failed", vl_json_copy(params));
}

static int t_stream(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        int64_t n = vl_json_get_int(vl_json_object_get(params, "count"));
        if (!(flags & VL_CALL_MORE))
                return vl_call_reply_error(call, VL_ERROR_EXPECTED_MORE, NULL);
        for (int64_t i = 0; i < n; i++) {
                VlJson *r = vl_json_new_object();
                vl_json_object_set_int(r, "i", i);
                int k = i + 1 < n ? vl_call_reply_more(call, r) : vl_call_reply(call, r);
                if (k < 0)
                        return 0; /* the client went away: stop streaming */
        }
        return 0;
}

typedef struct Later {
        VlCall *call;
        VlJson *s;
} Later;

static int t_later_fire(VlSource *src, uint64_t now, void *userdata) {
        Later *l = userdata;
        VlJson *r = vl_json_new_object();
        vl_json_object_set(r, "s", l->s);
        vl_call_reply(l->call, r);
        vl_call_unref(l->call);
        free(l);
        vl_source_free(src);
        return 0;
}

static int t_later(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        VlServer *s = vl_call_server(call);
        Later *l = calloc(1, sizeof(Later));
        l->call = vl_call_ref(call);
        l->s = vl_json_copy(vl_json_object_get(params, "s"));
        int64_t ms = vl_json_get_int(vl_json_object_get(params, "ms"));
        return vl_loop_add_timer(vl_server_get_loop(s), vl_now_usec() + (uint64_t)ms * 1000, t_later_fire, l,
                                 NULL);
}

static VlCall *t_never_call;
static int t_never(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        vl_call_unref(t_never_call);
        t_never_call = vl_call_ref(call); /* kept, never answered */
        return 0;
}

/* Upgrade: reply, then echo the raw bytes back until the peer closes. */
static int t_raw(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        int fd = -1;
        if (!(flags & VL_CALL_UPGRADE))
                return vl_call_reply_error(call, VL_ERROR_EXPECTED_UPGRADE, NULL);
        int r = vl_call_reply_upgrade(call, NULL, &fd);
        if (r < 0)
                return 0;
        char buf[256];
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                if (write(fd, buf, (size_t)n) != n)
                        break;
        close(fd);
        return 0;
}

/* Counts the fds received and answers with a pipe's read end. */
static int t_passfd(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        int n = vl_call_n_fds(call);
        int p[2];
        if (pipe(p) < 0)
                return -errno;
        if (write(p[1], "fd!", 3) != 3)
                return -EIO;
        vl_call_push_fd(call, p[0]);
        close(p[0]);
        close(p[1]);
        VlJson *r = vl_json_new_object();
        vl_json_object_set_int(r, "n", n);
        return vl_call_reply(call, r);
}

static int t_badreply(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        VlJson *r = vl_json_new_object();
        vl_json_object_set_int(r, "s", 1); /* wrong type on purpose */
        int k = vl_call_reply(call, r);
        if (k < 0)
                return vl_call_reply_error_string(call, "org.example.test.Failed", "reason", "bad reply");
        return 0;
}

static int t_quit(VlSource *s, int signo, void *userdata) {
        vl_loop_quit(userdata, 0);
        return 0;
}

/* Fork a service listening on address; returns the child's pid. */
static pid_t test_service_start(const char *address, bool accept_fds) {
        int ready[2];
        if (pipe(ready) < 0)
                return -1;
        pid_t pid = fork();
        if (pid != 0) {
                char c;
                close(ready[1]);
                if (read(ready[0], &c, 1) != 1)
                        pid = -1;
                close(ready[0]);
                return pid;
        }
        close(ready[0]);
        signal(SIGPIPE, SIG_IGN);
        VlServer *s = NULL;
        if (vl_server_new(&s, "cpod", "test", "1", "https://example.org") < 0 ||
            vl_server_add_interface(s, test_idl, NULL) < 0)
                _exit(3);
        vl_server_bind(s, "org.example.test.Echo", t_echo, NULL);
        vl_server_bind(s, "org.example.test.Fail", t_fail, NULL);
        vl_server_bind(s, "org.example.test.Stream", t_stream, NULL);
        vl_server_bind(s, "org.example.test.Later", t_later, NULL);
        vl_server_bind(s, "org.example.test.Never", t_never, NULL);
        vl_server_bind_upgrade(s, "org.example.test.Raw", t_raw, NULL);
        vl_server_bind(s, "org.example.test.PassFd", t_passfd, NULL);
        vl_server_bind(s, "org.example.test.BadReply", t_badreply, NULL);
        vl_server_set_accept_fds(s, accept_fds);
        VlServerLimits lim = {.max_message_size = 64 * 1024, .max_json_depth = 16};
        vl_server_set_limits(s, &lim);
        if (vl_server_listen(s, address) < 0)
                _exit(4);
        VlLoop *loop = vl_server_get_loop(s);
        vl_loop_add_signal(loop, SIGTERM, t_quit, loop, NULL);
        if (write(ready[1], "x", 1) != 1)
                _exit(5);
        close(ready[1]);
        int r = vl_server_run(s);
        vl_call_unref(t_never_call);
        vl_server_free(s);
        _exit(r < 0 ? 6 : 0);
}

/* Stop the service; returns its exit status (0 when it ended cleanly). */
static int test_service_stop(pid_t pid) {
        int status = 0;
        kill(pid, SIGTERM);
        if (waitpid(pid, &status, 0) < 0)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_address(char *buf, size_t n, const char *tag) {
        snprintf(buf, n, "unix:@vl-test-%s-%d", tag, (int)getpid());
}
