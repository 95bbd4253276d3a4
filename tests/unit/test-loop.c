/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vl/loop.h>

#include "tests.h"

#define MSEC 1000ull

/* ---- io ---- */

typedef struct IoRecord {
        int calls;
        int fd;
        uint32_t revents;
        int ret;
} IoRecord;

static int on_io(VlSource *s, int fd, uint32_t revents, void *userdata) {
        IoRecord *rec = userdata;
        rec->calls++;
        rec->fd = fd;
        rec->revents = revents;
        return rec->ret;
}

TEST(io_pipe) {
        VlLoop *loop = NULL;
        VlSource *s = NULL;
        IoRecord rec = {};
        int p[2];

        is_int(vl_loop_new(&loop), 0, "vl_loop_new");
        ok(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0, "pipe");
        is_int(vl_loop_add_io(loop, p[0], EPOLLIN, on_io, &rec, &s), 0, "add io on the read end");
        ok(vl_source_get_userdata(s) == &rec, "userdata is kept");

        uint64_t t0 = vl_now_usec();
        is_int(vl_loop_process(loop, 0), 0, "nothing ready: nothing dispatched");
        ok(vl_now_usec() - t0 < 100 * MSEC, "process(0) does not block");
        is_int(vl_loop_get_timeout(loop), -1, "no timers: timeout -1");

        ok(write(p[1], "x", 1) == 1, "write a byte");
        is_int(vl_loop_process(loop, 1000), 1, "one source dispatched");
        is_int(rec.calls, 1, "callback called once");
        is_int(rec.fd, p[0], "callback gets the fd");
        ok(rec.revents & EPOLLIN, "revents has EPOLLIN");

        /* Level-triggered: still readable until drained. */
        is_int(vl_loop_process(loop, 0), 1, "still readable: dispatched again");
        char c;
        ok(read(p[0], &c, 1) == 1 && c == 'x', "drain");
        is_int(vl_loop_process(loop, 0), 0, "drained: nothing");

        /* Watch for writability instead. */
        IoRecord wrec = {};
        VlSource *w = NULL;
        is_int(vl_loop_add_io(loop, p[1], 0, on_io, &wrec, &w), 0, "add io on the write end, no events");
        is_int(vl_loop_process(loop, 0), 0, "no events asked for: nothing");
        is_int(vl_source_set_io_events(w, EPOLLOUT), 0, "set EPOLLOUT");
        is_int(vl_loop_process(loop, 0), 1, "writable: dispatched");
        ok(wrec.calls == 1 && (wrec.revents & EPOLLOUT), "EPOLLOUT reported");
        is_int(vl_loop_add_io(loop, p[1], EPOLLOUT, on_io, &wrec, NULL), -EEXIST,
               "an fd is watched once per loop");
        is_int(vl_source_set_io_events(s, 0), 0, "set_io_events(0) keeps the source");

        /* Hang-up is reported even without asking for it. */
        vl_source_free(w);
        close(p[1]);
        rec.calls = 0;
        is_int(vl_loop_process(loop, 0), 1, "writer closed: hang-up dispatched");
        ok(rec.calls == 1 && (rec.revents & EPOLLHUP), "EPOLLHUP reported");

        vl_source_free(s);
        close(p[0]);
        vl_loop_free(loop);
}

TEST(io_disable) {
        VlLoop *loop = NULL;
        VlSource *s = NULL;
        IoRecord rec = {};
        int p[2];

        vl_loop_new(&loop);
        ok(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0, "pipe");
        vl_loop_add_io(loop, p[0], EPOLLIN, on_io, &rec, &s);
        ok(write(p[1], "x", 1) == 1, "write a byte");
        is_int(vl_source_set_enabled(s, false), 0, "disable");
        is_int(vl_loop_process(loop, 0), 0, "disabled: not dispatched");
        close(p[1]);
        is_int(vl_loop_process(loop, 0), 0, "disabled: not even for a hang-up");
        is_int(vl_source_set_io_events(s, EPOLLIN | EPOLLRDHUP), 0, "events can change while disabled");
        is_int(vl_source_set_enabled(s, true), 0, "enable");
        is_int(vl_loop_process(loop, 0), 1, "enabled: dispatched");
        is_int(rec.calls, 1, "callback called once");
        is_int(vl_source_set_enabled(s, true), 0, "enabling twice is harmless");
        vl_loop_free(loop); /* frees s */
        close(p[0]);
}

/* ---- timers ---- */

typedef struct TimerLog {
        int order[16];
        int n;
        int rearm;      /* how many times the periodic timer re-arms */
        int quit_after; /* quit the loop when this many fired */
        VlLoop *loop;
} TimerLog;

static int log_index(TimerLog *log, int id) {
        if (log->n < 16)
                log->order[log->n++] = id;
        if (log->quit_after && log->n == log->quit_after)
                vl_loop_quit(log->loop, 0);
        return 0;
}

static TimerLog *current_log;

static int on_timer(VlSource *s, uint64_t now, void *userdata) {
        return log_index(current_log, (int)(intptr_t)userdata);
}

static int on_periodic(VlSource *s, uint64_t now, void *userdata) {
        TimerLog *log = userdata;
        log_index(log, 100);
        if (log->rearm-- > 0)
                vl_source_set_time(s, now + 2 * MSEC);
        return 0;
}

TEST(timer_order) {
        VlLoop *loop = NULL;
        TimerLog log = {.quit_after = 4};
        uint64_t now = vl_now_usec();

        vl_loop_new(&loop);
        log.loop = loop;
        current_log = &log;
        vl_loop_add_timer(loop, now + 30 * MSEC, on_timer, (void *)1, NULL);
        vl_loop_add_timer(loop, now + 10 * MSEC, on_timer, (void *)2, NULL);
        vl_loop_add_timer(loop, now + 20 * MSEC, on_timer, (void *)3, NULL);
        vl_loop_add_timer(loop, now + 10 * MSEC, on_timer, (void *)4, NULL);
        int t = vl_loop_get_timeout(loop);
        ok(t > 0 && t <= 10, "timeout is the earliest timer (%d ms)", t);

        is_int(vl_loop_run(loop), 0, "run returns the quit code");
        is_int(log.n, 4, "four timers fired");
        ok(log.order[0] == 2 && log.order[1] == 4 && log.order[2] == 3 && log.order[3] == 1,
           "in time order, ties in arming order (%d %d %d %d)", log.order[0], log.order[1], log.order[2],
           log.order[3]);
        ok(vl_now_usec() - now >= 30 * MSEC, "not before their time");
        is_int(vl_loop_get_timeout(loop), -1, "one-shot: none left armed");
        vl_loop_free(loop);
}

TEST(timer_rearm) {
        VlLoop *loop = NULL;
        VlSource *s = NULL;
        TimerLog log = {.rearm = 2, .quit_after = 3};

        vl_loop_new(&loop);
        log.loop = loop;
        is_int(vl_loop_add_timer(loop, vl_now_usec(), on_periodic, &log, &s), 0, "add a due timer");
        is_int(vl_loop_get_timeout(loop), 0, "due now: timeout 0");
        is_int(vl_loop_run(loop), 0, "run");
        is_int(log.n, 3, "fired three times (re-armed twice)");

        /* A fired timer is re-armed by set_time, also in the past. */
        log.n = 0;
        log.quit_after = 0;
        is_int(vl_loop_process(loop, 0), 0, "spent: nothing");
        is_int(vl_source_set_time(s, 0), 0, "re-arm in the past");
        is_int(vl_loop_process(loop, 0), 1, "fires at once");
        vl_loop_free(loop);
}

static int on_rearm_now(VlSource *s, uint64_t now, void *userdata) {
        int *n = userdata;
        (*n)++;
        vl_source_set_time(s, now); /* due again: must wait for the next iteration */
        return 0;
}

TEST(timer_no_spin) {
        VlLoop *loop = NULL;
        int n = 0;

        vl_loop_new(&loop);
        vl_loop_add_timer(loop, 0, on_rearm_now, &n, NULL);
        is_int(vl_loop_process(loop, 0), 1, "a timer re-armed for now fires once per iteration");
        is_int(vl_loop_process(loop, 0), 1, "and again in the next");
        is_int(n, 2, "two calls");
        vl_loop_free(loop);
}

TEST(timer_disable) {
        VlLoop *loop = NULL;
        VlSource *a = NULL, *b = NULL;
        TimerLog log = {};

        vl_loop_new(&loop);
        current_log = &log;
        vl_loop_add_timer(loop, 0, on_timer, (void *)1, &a);
        vl_loop_add_timer(loop, 0, on_timer, (void *)2, &b);
        is_int(vl_source_set_enabled(a, false), 0, "disable a due timer");
        is_int(vl_loop_process(loop, 0), 1, "only the enabled one fires");
        ok(log.n == 1 && log.order[0] == 2, "it is the enabled one");
        is_int(vl_source_set_enabled(a, true), 0, "enable again");
        is_int(vl_loop_get_timeout(loop), 0, "due: timeout 0");
        is_int(vl_loop_process(loop, 0), 1, "now it fires");
        ok(log.n == 2 && log.order[1] == 1, "it is the re-enabled one");
        is_int(vl_source_set_time(a, vl_now_usec() + 3600 * 1000000ull), 0, "set an hour ahead");
        int t = vl_loop_get_timeout(loop);
        ok(t > 3590 * 1000 && t <= 3600 * 1000, "timeout about an hour (%d)", t);
        is_int(vl_source_set_enabled(a, false), 0, "disable");
        is_int(vl_loop_get_timeout(loop), -1, "disabled: no timeout");
        is_int(vl_source_set_io_events(a, EPOLLIN), -EINVAL, "io events on a timer: -EINVAL");
        vl_loop_free(loop);
}

/* ---- freeing sources from callbacks ---- */

typedef struct FreeCtx {
        VlSource *self, *other;
        int calls_self, calls_other;
} FreeCtx;

static int on_free_self(VlSource *s, int fd, uint32_t revents, void *userdata) {
        FreeCtx *c = userdata;
        c->calls_self++;
        c->self = vl_source_free(s);
        return 0;
}

typedef struct Peer {
        VlSource **other;
        int calls;
} Peer;

static int on_free_peer(VlSource *s, int fd, uint32_t revents, void *userdata) {
        Peer *peer = userdata;
        peer->calls++;
        *peer->other = vl_source_free(*peer->other);
        return 0;
}

static int on_timer_free_other(VlSource *s, uint64_t now, void *userdata) {
        FreeCtx *c = userdata;
        c->calls_self++;
        c->other = vl_source_free(c->other);
        vl_source_free(s);
        return 0;
}

static int on_timer_other(VlSource *s, uint64_t now, void *userdata) {
        FreeCtx *c = userdata;
        c->calls_other++;
        return 0;
}

TEST(free_in_callback) {
        VlLoop *loop = NULL;
        FreeCtx c = {};
        int p[2], q[2];

        vl_loop_new(&loop);
        ok(pipe2(p, O_CLOEXEC) == 0 && pipe2(q, O_CLOEXEC) == 0, "pipes");

        /* A source that frees itself. */
        vl_loop_add_io(loop, p[1], EPOLLOUT, on_free_self, &c, &c.self);
        is_int(vl_loop_process(loop, 0), 1, "self-freeing source dispatched");
        ok(c.self == NULL && c.calls_self == 1, "freed itself");
        is_int(vl_loop_process(loop, 0), 0, "gone afterwards");

        /* Two ready sources; whichever runs first frees the other. */
        VlSource *a = NULL, *b = NULL;
        Peer pa = {.other = &b}, pb = {.other = &a};
        vl_loop_add_io(loop, p[1], EPOLLOUT, on_free_peer, &pa, &a);
        vl_loop_add_io(loop, q[1], EPOLLOUT, on_free_peer, &pb, &b);
        is_int(vl_loop_process(loop, 0), 1, "only one of two ready sources ran: it freed the other");
        is_int(pa.calls + pb.calls, 1, "exactly one callback");
        ok(!a != !b, "one source is left");
        vl_source_free(a ? a : b);
        is_int(vl_loop_process(loop, 0), 0, "both gone");

        /* A timer frees another due timer and itself. */
        c = (FreeCtx){};
        vl_loop_add_timer(loop, 0, on_timer_free_other, &c, NULL);
        vl_loop_add_timer(loop, 0, on_timer_other, &c, &c.other);
        is_int(vl_loop_process(loop, 0), 1, "the freed due timer does not fire");
        ok(c.calls_self == 1 && c.calls_other == 0, "callbacks as expected");
        is_int(vl_loop_get_timeout(loop), -1, "no timers left");

        vl_source_free(NULL);
        close(p[0]);
        close(p[1]);
        close(q[0]);
        close(q[1]);
        vl_loop_free(loop);
}

static int on_timer_disable_other(VlSource *s, uint64_t now, void *userdata) {
        FreeCtx *c = userdata;
        c->calls_self++;
        vl_source_set_enabled(c->other, false);
        return 0;
}

TEST(disable_in_callback) {
        VlLoop *loop = NULL;
        FreeCtx c = {};

        vl_loop_new(&loop);
        vl_loop_add_timer(loop, 0, on_timer_disable_other, &c, NULL);
        vl_loop_add_timer(loop, 0, on_timer_other, &c, &c.other);
        is_int(vl_loop_process(loop, 0), 1, "a due timer disabled by an earlier callback does not fire");
        is_int(c.calls_other, 0, "not called");
        vl_source_set_enabled(c.other, true);
        is_int(vl_loop_process(loop, 0), 1, "enabled again: fires");
        is_int(c.calls_other, 1, "called");
        vl_loop_free(loop);
}

/* A callback may run the loop itself (a blocking call inside a handler). */
typedef struct Nest {
        VlLoop *loop;
        int outer, inner, nested_result;
        VlSource *victim;
} Nest;

static int on_nest_inner(VlSource *s, uint64_t now, void *userdata) {
        Nest *n = userdata;
        n->inner++;
        return 0;
}

static int on_nest_outer(VlSource *s, uint64_t now, void *userdata) {
        Nest *n = userdata;
        n->outer++;
        vl_loop_add_timer(n->loop, 0, on_nest_inner, n, NULL);
        n->nested_result = vl_loop_process(n->loop, 0);
        n->victim = vl_source_free(n->victim); /* due in the outer iteration */
        return 0;
}

TEST(nested_process) {
        VlLoop *loop = NULL;
        Nest n = {};

        vl_loop_new(&loop);
        n.loop = loop;
        vl_loop_add_timer(loop, 0, on_nest_outer, &n, NULL);
        vl_loop_add_timer(loop, 0, on_nest_inner, &n, &n.victim);
        is_int(vl_loop_process(loop, 0), 1, "outer iteration ran one callback");
        is_int(n.nested_result, 1, "the nested iteration ran the new timer only");
        ok(n.outer == 1 && n.inner == 1, "outer once, inner once (the victim was freed)");
        is_int(vl_loop_get_timeout(loop), -1, "nothing left");
        vl_loop_free(loop);
}

static int count_calls(VlSource *s, uint64_t now, void *userdata) {
        (*(int *)userdata)++;
        return 0;
}

typedef struct Rearm {
        VlLoop *loop;
        VlSource *b;
} Rearm;

static int on_rearm_and_nest(VlSource *s, uint64_t now, void *userdata) {
        Rearm *r = userdata;
        vl_source_set_time(r->b, 0); /* b was due in this iteration too */
        vl_loop_process(r->loop, 0); /* fires b in the nested iteration */
        return 0;
}

TEST(many_due_timers) {
        VlLoop *loop = NULL;
        int calls = 0;

        vl_loop_new(&loop);
        for (int i = 0; i < 100; i++)
                vl_loop_add_timer(loop, (uint64_t)i, count_calls, &calls, NULL);
        is_int(vl_loop_process(loop, 0), 100, "100 due timers dispatched in one iteration");
        is_int(calls, 100, "each once");

        /* A due timer re-armed and fired by a nested iteration must not make
         * the outer one lose the timers after it. */
        Rearm r = {.loop = loop};
        int b_calls = 0, c_calls = 0;
        vl_loop_add_timer(loop, 0, on_rearm_and_nest, &r, NULL);
        vl_loop_add_timer(loop, 0, count_calls, &b_calls, &r.b);
        vl_loop_add_timer(loop, 0, count_calls, &c_calls, NULL);
        vl_loop_process(loop, 0);
        is_int(b_calls, 1, "b fired once (nested)");
        is_int(c_calls, 1, "c fired too");
        is_int(vl_loop_get_timeout(loop), -1, "nothing left armed");
        vl_loop_free(loop);
}

/* ---- signals ---- */

static int on_signal(VlSource *s, int signo, void *userdata) {
        int *got = userdata;
        *got = signo;
        return 0;
}

TEST(signals) {
        VlLoop *loop = NULL;
        VlSource *s = NULL;
        int got = 0;

        vl_loop_new(&loop);
        is_int(vl_loop_add_signal(loop, SIGUSR1, on_signal, &got, &s), 0, "add SIGUSR1");
        is_int(vl_loop_add_signal(loop, SIGUSR1, on_signal, &got, NULL), -EBUSY, "a signal has one source");
        is_int(vl_loop_add_signal(loop, SIGKILL, on_signal, &got, NULL), -EINVAL,
               "SIGKILL cannot be handled");
        ok(raise(SIGUSR1) == 0, "raise SIGUSR1 (blocked: does not kill us)");
        is_int(vl_loop_process(loop, 1000), 1, "signal dispatched");
        is_int(got, SIGUSR1, "callback got SIGUSR1");

        got = 0;
        vl_source_set_enabled(s, false);
        raise(SIGUSR1);
        is_int(vl_loop_process(loop, 0), 0, "disabled: not dispatched");
        vl_source_set_enabled(s, true);
        is_int(vl_loop_process(loop, 0), 1, "enabled: the pending signal arrives");
        is_int(got, SIGUSR1, "callback got it");

        vl_source_free(s);
        is_int(vl_loop_add_signal(loop, SIGUSR1, on_signal, &got, NULL), 0, "free, then add again");
        vl_loop_free(loop);
}

static int on_signal_fail(VlSource *s, int signo, void *userdata) {
        int *got = userdata;
        *got = signo;
        return -EINTR;
}

TEST(signals_quit) {
        VlLoop *loop = NULL;
        int got1 = 0, got2 = 0;

        vl_loop_new(&loop);
        vl_loop_add_signal(loop, SIGUSR1, on_signal_fail, &got1, NULL);
        vl_loop_add_signal(loop, SIGUSR2, on_signal_fail, &got2, NULL);
        raise(SIGUSR1);
        raise(SIGUSR2);
        is_int(vl_loop_process(loop, 1000), -EINTR, "the first signal's callback fails");
        ok(!!got1 + !!got2 == 1, "only one signal delivered");
        is_int(vl_loop_process(loop, 1000), -EINTR, "the other one is still queued");
        ok(got1 && got2, "both delivered");
        vl_loop_free(loop);
}

/* ---- children ---- */

typedef struct ChildRec {
        pid_t pid;
        int status;
        int calls;
} ChildRec;

static int on_child(VlSource *s, pid_t pid, int status, void *userdata) {
        ChildRec *rec = userdata;
        rec->pid = pid;
        rec->status = status;
        rec->calls++;
        return -ECHILD; /* quit the loop: tests the quit code too */
}

TEST(child) {
        VlLoop *loop = NULL;
        VlSource *s = NULL;
        ChildRec rec = {};

        vl_loop_new(&loop);
        pid_t pid = fork();
        if (pid == 0)
                _exit(7);
        ok(pid > 0, "fork");
        if (!is_int(vl_loop_add_child(loop, pid, on_child, &rec, &s), 0, "add child")) {
                waitpid(pid, NULL, 0); /* no pidfd_open (valgrind?): nothing else to test */
                vl_loop_free(loop);
                return;
        }
        is_int(vl_loop_run(loop), -ECHILD, "run returns the callback's error");
        is_int(rec.calls, 1, "called once");
        is_int(rec.pid, pid, "with the pid");
        ok(WIFEXITED(rec.status) && WEXITSTATUS(rec.status) == 7, "exit status 7 (0x%x)", rec.status);
        ok(waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD, "reaped");
        is_int(vl_source_set_enabled(s, true), -ESTALE, "a spent child source cannot be enabled");
        vl_source_free(s);

        /* Killed by a signal, and already exited when added. */
        rec = (ChildRec){};
        pid = fork();
        if (pid == 0) {
                pause();
                _exit(0);
        }
        kill(pid, SIGTERM);
        siginfo_t si;
        waitid(P_PID, pid, &si, WEXITED | WNOWAIT); /* a zombie now */
        is_int(vl_loop_add_child(loop, pid, on_child, &rec, NULL), 0, "add an exited child");
        is_int(vl_loop_process(loop, 1000), -ECHILD, "process returns the callback's error");
        ok(WIFSIGNALED(rec.status) && WTERMSIG(rec.status) == SIGTERM, "killed by SIGTERM");

        is_int(vl_loop_add_child(loop, pid, on_child, &rec, NULL), -ESRCH, "a reaped pid: -ESRCH");
        vl_loop_free(loop);
}

/* ---- quitting ---- */

static int on_quit_timer(VlSource *s, uint64_t now, void *userdata) {
        vl_loop_quit(userdata, 42);
        return 0;
}

static int on_fail_timer(VlSource *s, uint64_t now, void *userdata) {
        return -EIO;
}

TEST(quit) {
        VlLoop *loop = NULL;
        int calls = 0;

        vl_loop_new(&loop);
        vl_loop_add_timer(loop, vl_now_usec() + MSEC, on_quit_timer, loop, NULL);
        is_int(vl_loop_run(loop), 42, "vl_loop_quit's code");

        vl_loop_add_timer(loop, 0, on_fail_timer, NULL, NULL);
        is_int(vl_loop_run(loop), -EIO, "a callback's negative return");

        vl_loop_quit(loop, 5);
        is_int(vl_loop_run(loop), 5, "quit before run: returns at once");
        vl_loop_quit(loop, -ECANCELED);
        is_int(vl_loop_process(loop, -1), -ECANCELED, "process reports a pending quit");

        /* After a failing callback, the rest of the iteration waits. */
        VlSource *t = NULL;
        vl_loop_add_timer(loop, 0, on_fail_timer, NULL, NULL);
        vl_loop_add_timer(loop, 0, on_rearm_now, &calls, &t);
        is_int(vl_loop_process(loop, 0), -EIO, "process returns the error");
        is_int(calls, 0, "the second due timer did not run");
        is_int(vl_loop_process(loop, 0), 1, "it runs in the next iteration");
        is_int(calls, 1, "called");
        vl_source_free(t);
        vl_loop_free(loop);
        vl_loop_free(NULL);
}

/* ---- embedding in a foreign loop ---- */

TEST(embed) {
        VlLoop *loop = NULL;
        IoRecord rec = {};
        TimerLog log = {};
        int p[2];

        vl_loop_new(&loop);
        current_log = &log;
        ok(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0, "pipe");
        vl_loop_add_io(loop, p[0], EPOLLIN, on_io, &rec, NULL);
        vl_loop_add_timer(loop, vl_now_usec() + 20 * MSEC, on_timer, (void *)9, NULL);
        ok(vl_loop_get_fd(loop) >= 0, "loop fd");

        struct pollfd pfd = {.fd = vl_loop_get_fd(loop), .events = POLLIN};
        int t = vl_loop_get_timeout(loop);
        ok(t > 0 && t <= 20, "timeout from the timer (%d)", t);
        is_int(poll(&pfd, 1, 0), 0, "loop fd not readable while nothing is ready");

        ok(write(p[1], "x", 1) == 1, "write");
        is_int(poll(&pfd, 1, 1000), 1, "loop fd readable when a source is ready");
        is_int(vl_loop_process(loop, 0), 1, "process dispatches it");
        is_int(rec.calls, 1, "io callback ran");
        char c;
        (void)!read(p[0], &c, 1);

        /* The foreign loop waits on the timeout, then processes. */
        uint64_t t0 = vl_now_usec();
        while (log.n == 0 && vl_now_usec() - t0 < 2000 * MSEC) {
                pfd.revents = 0;
                poll(&pfd, 1, vl_loop_get_timeout(loop));
                vl_loop_process(loop, 0);
        }
        ok(log.n == 1 && log.order[0] == 9, "timer fired through the foreign loop");
        is_int(vl_loop_get_timeout(loop), -1, "no more timers");

        close(p[0]);
        close(p[1]);
        vl_loop_free(loop);
}

TEST(bad_args) {
        VlLoop *loop = NULL;

        is_int(vl_loop_new(NULL), -EINVAL, "vl_loop_new(NULL)");
        vl_loop_new(&loop);
        is_int(vl_loop_add_io(loop, -1, EPOLLIN, on_io, NULL, NULL), -EINVAL, "negative fd");
        is_int(vl_loop_add_io(loop, 0, EPOLLIN, NULL, NULL, NULL), -EINVAL, "no callback");
        is_int(vl_loop_add_io(loop, 12345, EPOLLIN, on_io, NULL, NULL), -EBADF, "closed fd");
        is_int(vl_loop_add_child(loop, 0, on_child, NULL, NULL), -EINVAL, "pid 0");
        vl_loop_free(loop);
}

TESTS_MAIN
