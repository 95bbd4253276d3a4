/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The event loop: one epoll fd watches io sources, one signalfd (for all
 * signal sources) and one pidfd per child source. Timers have no fd: they
 * live in a binary heap ordered by (time, arm order), and epoll_wait's
 * timeout is the earliest of them, which is also what vl_loop_get_timeout()
 * tells a foreign loop.
 *
 * Freeing a source while callbacks run is the delicate part: an epoll event
 * of this very iteration may still point at it. A source freed during
 * dispatch is therefore detached at once (no longer watched, never called
 * again) but its memory is kept on a garbage list until the outermost
 * vl_loop_process() is done with its event array.
 */

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vl/loop.h>

#include "util.h"

#define N_EVENTS 64
#define NO_INDEX SIZE_MAX

typedef enum SourceType {
        SOURCE_IO,
        SOURCE_TIMER,
        SOURCE_SIGNAL,
        SOURCE_CHILD,
} SourceType;

struct VlSource {
        VlLoop *loop;
        SourceType type;
        void *userdata;
        bool enabled;
        bool dead;             /* freed during dispatch, waiting on the garbage list */
        bool pending;          /* timer: due in the current iteration */
        VlSource *prev, *next; /* every live source of the loop */
        VlSource *gc_next;

        union {
                struct {
                        int fd;
                        uint32_t events;
                        bool watched; /* registered with epoll */
                        VlIoFn fn;
                } io;
                struct {
                        uint64_t usec;
                        uint64_t seq; /* arm order: ties fire first-armed first */
                        size_t idx;   /* position in the heap, NO_INDEX if not armed */
                        VlTimerFn fn;
                } timer;
                struct {
                        int signo;
                        VlSignalFn fn;
                } signal;
                struct {
                        pid_t pid;
                        int pidfd;
                        bool watched;
                        bool exited; /* reaped and reported: the source is spent */
                        VlChildFn fn;
                } child;
        };
};

struct VlLoop {
        int epfd;
        int sigfd;        /* -1 until the first signal source */
        sigset_t sigmask; /* signals read through sigfd */
        VlSource *signals[_NSIG];

        VlSource **timers; /* binary min-heap */
        size_t n_timers, cap_timers;
        uint64_t timer_seq;

        VlSource *sources;
        VlSource *gc;
        unsigned dispatching; /* depth of vl_loop_process() calls in progress */

        bool quit;
        int quit_code;
};

/* epoll_event.data.ptr of the signalfd; sources use their own address. */
static char sigfd_tag;

_public_ uint64_t vl_now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

_public_ int vl_loop_new(VlLoop **ret) {
        if (!ret)
                return -EINVAL;

        VlLoop *loop = calloc(1, sizeof(*loop));
        if (!loop)
                return -ENOMEM;
        loop->sigfd = -1;
        sigemptyset(&loop->sigmask);
        loop->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (loop->epfd < 0) {
                int r = -errno;
                free(loop);
                return r;
        }
        *ret = loop;
        return 0;
}

/* ---- timer heap ---- */

static bool timer_before(const VlSource *a, const VlSource *b) {
        if (a->timer.usec != b->timer.usec)
                return a->timer.usec < b->timer.usec;
        return a->timer.seq < b->timer.seq;
}

static void heap_set(VlLoop *loop, size_t i, VlSource *s) {
        loop->timers[i] = s;
        s->timer.idx = i;
}

static void heap_up(VlLoop *loop, size_t i) {
        VlSource *s = loop->timers[i];

        while (i > 0) {
                size_t parent = (i - 1) / 2;
                if (!timer_before(s, loop->timers[parent]))
                        break;
                heap_set(loop, i, loop->timers[parent]);
                i = parent;
        }
        heap_set(loop, i, s);
}

static void heap_down(VlLoop *loop, size_t i) {
        VlSource *s = loop->timers[i];

        for (;;) {
                size_t child = 2 * i + 1;
                if (child >= loop->n_timers)
                        break;
                if (child + 1 < loop->n_timers && timer_before(loop->timers[child + 1], loop->timers[child]))
                        child++;
                if (!timer_before(loop->timers[child], s))
                        break;
                heap_set(loop, i, loop->timers[child]);
                i = child;
        }
        heap_set(loop, i, s);
}

static int heap_insert(VlLoop *loop, VlSource *s) {
        if (VL_GROW(loop->timers, loop->cap_timers, loop->n_timers + 1) < 0)
                return -ENOMEM;
        s->timer.seq = loop->timer_seq++;
        loop->timers[loop->n_timers++] = s;
        heap_up(loop, loop->n_timers - 1);
        return 0;
}

static void heap_remove(VlLoop *loop, VlSource *s) {
        size_t i = s->timer.idx;

        if (i == NO_INDEX)
                return;
        s->timer.idx = NO_INDEX;
        VlSource *last = loop->timers[--loop->n_timers];
        if (last == s)
                return;
        heap_set(loop, i, last);
        if (i > 0 && timer_before(last, loop->timers[(i - 1) / 2]))
                heap_up(loop, i);
        else
                heap_down(loop, i);
}

/* ---- attaching and detaching sources from the kernel objects ---- */

static int epoll_watch(VlLoop *loop, int fd, uint32_t events, void *ptr, bool modify) {
        struct epoll_event ev = {.events = events, .data.ptr = ptr};

        if (epoll_ctl(loop->epfd, modify ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0)
                return -errno;
        return 0;
}

static void epoll_unwatch(VlLoop *loop, int fd) {
        /* The fd may already be closed by its owner: nothing to undo then. */
        (void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static int signalfd_update(VlLoop *loop) {
        int fd = signalfd(loop->sigfd, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (loop->sigfd < 0) {
                int r = epoll_watch(loop, fd, EPOLLIN, &sigfd_tag, false);
                if (r < 0) {
                        close(fd);
                        return r;
                }
                loop->sigfd = fd;
        }
        return 0;
}

/* Make the kernel side match s->enabled. */
static int source_sync(VlSource *s) {
        VlLoop *loop = s->loop;
        bool on = s->enabled && !s->dead;
        int r = 0;

        switch (s->type) {
        case SOURCE_IO:
                if (on && !s->io.watched) {
                        r = epoll_watch(loop, s->io.fd, s->io.events, s, false);
                        s->io.watched = r >= 0;
                } else if (!on && s->io.watched) {
                        epoll_unwatch(loop, s->io.fd);
                        s->io.watched = false;
                }
                break;
        case SOURCE_TIMER:
                s->pending = false;
                if (on && s->timer.idx == NO_INDEX)
                        r = heap_insert(loop, s);
                else if (!on)
                        heap_remove(loop, s);
                break;
        case SOURCE_SIGNAL:
                /* A disabled signal stays blocked and pending until it is enabled again. */
                if (on == (sigismember(&loop->sigmask, s->signal.signo) == 1))
                        break;
                if (on)
                        sigaddset(&loop->sigmask, s->signal.signo);
                else
                        sigdelset(&loop->sigmask, s->signal.signo);
                r = signalfd_update(loop);
                if (r < 0 && on)
                        sigdelset(&loop->sigmask, s->signal.signo);
                break;
        case SOURCE_CHILD:
                if (on && s->child.exited)
                        r = -ESTALE;
                else if (on && !s->child.watched) {
                        r = epoll_watch(loop, s->child.pidfd, EPOLLIN, s, false);
                        s->child.watched = r >= 0;
                } else if (!on && s->child.watched) {
                        epoll_unwatch(loop, s->child.pidfd);
                        s->child.watched = false;
                }
                break;
        }
        return r;
}

static VlSource *source_new(VlLoop *loop, SourceType type, void *userdata) {
        VlSource *s = calloc(1, sizeof(*s));
        if (!s)
                return NULL;
        s->loop = loop;
        s->type = type;
        s->userdata = userdata;
        s->enabled = true;
        if (type == SOURCE_TIMER)
                s->timer.idx = NO_INDEX;
        return s;
}

static void source_link(VlSource *s) {
        VlLoop *loop = s->loop;

        s->next = loop->sources;
        if (loop->sources)
                loop->sources->prev = s;
        loop->sources = s;
}

static void source_detach(VlSource *s) {
        VlLoop *loop = s->loop;

        s->enabled = false;
        source_sync(s);
        if (s->type == SOURCE_SIGNAL)
                loop->signals[s->signal.signo] = NULL;
        if (s->type == SOURCE_CHILD)
                s->child.pidfd = safe_close(s->child.pidfd);

        if (s->prev)
                s->prev->next = s->next;
        else
                loop->sources = s->next;
        if (s->next)
                s->next->prev = s->prev;
        s->prev = s->next = NULL;
}

/* Registers a fully set up source, or frees it. */
static int source_add(VlSource *s, VlSource **ret) {
        int r = source_sync(s);
        if (r < 0) {
                if (s->type == SOURCE_CHILD)
                        safe_close(s->child.pidfd);
                free(s);
                return r;
        }
        source_link(s);
        if (ret)
                *ret = s;
        return 0;
}

_public_ int vl_loop_add_io(VlLoop *loop, int fd, uint32_t events, VlIoFn fn, void *userdata,
                            VlSource **ret) {
        if (!loop || fd < 0 || !fn)
                return -EINVAL;

        VlSource *s = source_new(loop, SOURCE_IO, userdata);
        if (!s)
                return -ENOMEM;
        s->io.fd = fd;
        s->io.events = events;
        s->io.fn = fn;
        return source_add(s, ret);
}

_public_ int vl_source_set_io_events(VlSource *s, uint32_t events) {
        if (!s || s->dead || s->type != SOURCE_IO)
                return -EINVAL;
        if (s->io.watched && events != s->io.events) {
                int r = epoll_watch(s->loop, s->io.fd, events, s, true);
                if (r < 0)
                        return r;
        }
        s->io.events = events;
        return 0;
}

_public_ int vl_loop_add_timer(VlLoop *loop, uint64_t usec, VlTimerFn fn, void *userdata, VlSource **ret) {
        if (!loop || !fn)
                return -EINVAL;

        VlSource *s = source_new(loop, SOURCE_TIMER, userdata);
        if (!s)
                return -ENOMEM;
        s->timer.usec = usec;
        s->timer.fn = fn;
        return source_add(s, ret);
}

/* Sets the time and arms the timer (also one that fired or was disabled). */
_public_ int vl_source_set_time(VlSource *s, uint64_t usec) {
        if (!s || s->dead || s->type != SOURCE_TIMER)
                return -EINVAL;

        heap_remove(s->loop, s);
        s->timer.usec = usec;
        s->enabled = true;
        int r = source_sync(s);
        if (r < 0)
                s->enabled = false;
        return r;
}

_public_ int vl_loop_add_signal(VlLoop *loop, int signo, VlSignalFn fn, void *userdata, VlSource **ret) {
        if (!loop || !fn || signo <= 0 || signo >= _NSIG || signo == SIGKILL || signo == SIGSTOP)
                return -EINVAL;
        if (loop->signals[signo])
                return -EBUSY;

        sigset_t block;
        sigemptyset(&block);
        sigaddset(&block, signo);
        int r = -pthread_sigmask(SIG_BLOCK, &block, NULL);
        if (r < 0)
                return r;

        VlSource *s = source_new(loop, SOURCE_SIGNAL, userdata);
        if (!s)
                return -ENOMEM;
        s->signal.signo = signo;
        s->signal.fn = fn;
        r = source_add(s, ret);
        if (r < 0)
                return r;
        loop->signals[signo] = s;
        return 0;
}

_public_ int vl_loop_add_child(VlLoop *loop, pid_t pid, VlChildFn fn, void *userdata, VlSource **ret) {
        if (!loop || !fn || pid <= 0)
                return -EINVAL;

        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0)
                return -errno;

        VlSource *s = source_new(loop, SOURCE_CHILD, userdata);
        if (!s) {
                close(pidfd);
                return -ENOMEM;
        }
        s->child.pid = pid;
        s->child.pidfd = pidfd; /* pidfd_open() sets O_CLOEXEC itself */
        s->child.fn = fn;
        return source_add(s, ret);
}

_public_ int vl_source_set_enabled(VlSource *s, bool enabled) {
        if (!s || s->dead)
                return -EINVAL;
        if (s->enabled == enabled)
                return 0;

        s->enabled = enabled;
        int r = source_sync(s);
        if (r < 0)
                s->enabled = !enabled;
        return r;
}

_public_ VlSource *vl_source_free(VlSource *s) {
        if (!s || s->dead)
                return NULL;

        VlLoop *loop = s->loop;
        source_detach(s);
        s->dead = true;
        if (loop->dispatching > 0) {
                s->gc_next = loop->gc;
                loop->gc = s;
        } else
                free(s);
        return NULL;
}

_public_ void *vl_source_get_userdata(VlSource *s) {
        return s ? s->userdata : NULL;
}

static void loop_collect_garbage(VlLoop *loop) {
        while (loop->gc) {
                VlSource *s = loop->gc;
                loop->gc = s->gc_next;
                free(s);
        }
}

_public_ VlLoop *vl_loop_free(VlLoop *loop) {
        if (!loop)
                return NULL;

        while (loop->sources)
                vl_source_free(loop->sources);
        loop_collect_garbage(loop);
        safe_close(loop->sigfd);
        safe_close(loop->epfd);
        free(loop->timers);
        free(loop);
        return NULL;
}

_public_ void vl_loop_quit(VlLoop *loop, int code) {
        if (!loop || loop->quit)
                return;
        loop->quit = true;
        loop->quit_code = code;
}

_public_ int vl_loop_get_fd(VlLoop *loop) {
        return loop ? loop->epfd : -EINVAL;
}

_public_ int vl_loop_get_timeout(VlLoop *loop) {
        if (!loop || loop->n_timers == 0)
                return -1;

        uint64_t next = loop->timers[0]->timer.usec, now = vl_now_usec();
        if (next <= now)
                return 0;
        /* Round up: waking a little early would only spin. */
        uint64_t ms = (next - now + 999) / 1000;
        return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* ---- dispatch ---- */

/* A callback's negative return ends the loop with that code. */
static void source_result(VlLoop *loop, int r) {
        if (r < 0)
                vl_loop_quit(loop, r);
}

static int dispatch_signals(VlLoop *loop) {
        struct signalfd_siginfo si;
        int n = 0;

        /* One at a time: after a callback quits, the rest stay queued. */
        while (!loop->quit) {
                ssize_t l = read(loop->sigfd, &si, sizeof(si));
                if (l < 0 && errno == EINTR)
                        continue;
                if (l != sizeof(si))
                        break; /* EAGAIN: drained */
                VlSource *s = si.ssi_signo < _NSIG ? loop->signals[si.ssi_signo] : NULL;
                if (!s || !s->enabled)
                        continue;
                source_result(loop, s->signal.fn(s, (int)si.ssi_signo, s->userdata));
                n++;
        }
        return n;
}

static int dispatch_child(VlSource *s) {
        int status = 0;
        pid_t p;

        do
                p = waitpid(s->child.pid, &status, WNOHANG);
        while (p < 0 && errno == EINTR);
        if (p == 0)
                return 0; /* not exited after all */
        if (p < 0)
                status = -1; /* reaped behind our back (e.g. SIGCHLD set to SIG_IGN) */

        /* One-shot: stop watching before the callback, which may free s. */
        s->enabled = false;
        source_sync(s);
        s->child.exited = true;
        s->child.pidfd = safe_close(s->child.pidfd);
        source_result(s->loop, s->child.fn(s, s->child.pid, status, s->userdata));
        return 1;
}

static int dispatch_event(VlLoop *loop, struct epoll_event *ev) {
        if (ev->data.ptr == &sigfd_tag)
                return dispatch_signals(loop);

        VlSource *s = ev->data.ptr;
        if (s->dead || !s->enabled)
                return 0;
        switch (s->type) {
        case SOURCE_IO:
                source_result(loop, s->io.fn(s, s->io.fd, ev->events, s->userdata));
                return 1;
        case SOURCE_CHILD:
                return dispatch_child(s);
        default:
                return 0;
        }
}

static int dispatch_timers(VlLoop *loop) {
        VlSource *buf[32], **due = buf;
        size_t n_due = 0, cap = ELEMENTSOF(buf);
        uint64_t now = vl_now_usec();

        /* Take every due timer off the heap first, so that one re-armed for a
         * time already past waits for the next iteration instead of spinning.
         * The array is this iteration's own: a nested vl_loop_process() from a
         * callback only sees timers still on the heap. */
        while (loop->n_timers > 0 && loop->timers[0]->timer.usec <= now) {
                if (n_due == cap) {
                        VlSource **more = malloc(2 * cap * sizeof(*more));
                        if (!more)
                                break; /* the rest fire in the next iteration */
                        memcpy(more, due, n_due * sizeof(*more));
                        if (due != buf)
                                free(due);
                        due = more;
                        cap *= 2;
                }
                VlSource *s = loop->timers[0];
                heap_remove(loop, s); /* still enabled, as seen from callbacks */
                s->pending = true;
                due[n_due++] = s;
        }

        int n = 0;
        for (size_t i = 0; i < n_due; i++) {
                VlSource *s = due[i];
                if (s->dead || !s->pending)
                        continue; /* freed, re-armed or disabled by an earlier callback */
                if (loop->quit) {
                        /* Not run yet: keep it due for whoever runs the loop next. */
                        source_sync(s);
                        continue;
                }
                s->pending = false;
                s->enabled = false; /* one-shot; vl_source_set_time() re-arms */
                source_result(loop, s->timer.fn(s, now, s->userdata));
                n++;
        }
        if (due != buf)
                free(due);
        return n;
}

static int loop_iterate(VlLoop *loop, int timeout_ms) {
        struct epoll_event events[N_EVENTS];

        int timer_ms = vl_loop_get_timeout(loop);
        if (timer_ms >= 0 && (timeout_ms < 0 || timer_ms < timeout_ms))
                timeout_ms = timer_ms;

        int n_events = epoll_wait(loop->epfd, events, N_EVENTS, timeout_ms);
        if (n_events < 0) {
                if (errno == EINTR)
                        return 0;
                return -errno;
        }

        int n = 0;
        loop->dispatching++;
        for (int i = 0; i < n_events && !loop->quit; i++)
                n += dispatch_event(loop, &events[i]);
        if (!loop->quit)
                n += dispatch_timers(loop);
        if (--loop->dispatching == 0)
                loop_collect_garbage(loop);
        return n;
}

/* Reports (and consumes) a pending quit request. */
static bool loop_take_quit(VlLoop *loop, int *code) {
        if (!loop->quit)
                return false;
        loop->quit = false;
        *code = loop->quit_code;
        return true;
}

_public_ int vl_loop_process(VlLoop *loop, int timeout_ms) {
        int code;

        if (!loop)
                return -EINVAL;
        if (loop_take_quit(loop, &code))
                return code;

        int n = loop_iterate(loop, timeout_ms);
        if (loop_take_quit(loop, &code))
                return code;
        return n;
}

_public_ int vl_loop_run(VlLoop *loop) {
        int code;

        if (!loop)
                return -EINVAL;
        for (;;) {
                if (loop_take_quit(loop, &code))
                        return code;
                int r = loop_iterate(loop, -1);
                if (r < 0)
                        return r;
        }
}
