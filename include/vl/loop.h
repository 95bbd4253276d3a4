/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * libvl event loop: epoll, with io sources, monotonic timers, signals
 * (signalfd) and child processes (pidfd). One loop per thread.
 *
 * Loop-agnostic embedding: a program with its own main loop polls the fd of
 * vl_loop_get_fd() for EPOLLIN, waits at most vl_loop_get_timeout() ms, and
 * then calls vl_loop_process(loop, 0).
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct VlLoop VlLoop;
typedef struct VlSource VlSource;

/* Callbacks return 0 or a positive value to go on, a negative errno to quit
 * the loop with that code (vl_loop_run returns it). */
typedef int (*VlIoFn)(VlSource *s, int fd, uint32_t revents, void *userdata);
typedef int (*VlTimerFn)(VlSource *s, uint64_t now_usec, void *userdata);
typedef int (*VlSignalFn)(VlSource *s, int signo, void *userdata);
typedef int (*VlChildFn)(VlSource *s, pid_t pid, int status /* as waitpid */, void *userdata);

int vl_loop_new(VlLoop **ret);
VlLoop *vl_loop_free(VlLoop *loop); /* frees remaining sources; accepts NULL */

/* Run until vl_loop_quit() or a callback fails; returns the quit code. */
int vl_loop_run(VlLoop *loop);
void vl_loop_quit(VlLoop *loop, int code);
/* One iteration: wait up to timeout_ms (-1: forever) and dispatch what is
 * ready. Returns the number of dispatched sources (≥ 0), or a negative errno
 * when a callback failed or the loop was told to quit (the quit code). */
int vl_loop_process(VlLoop *loop, int timeout_ms);

int vl_loop_get_fd(VlLoop *loop);
int vl_loop_get_timeout(VlLoop *loop); /* ms until the next timer, -1 if none */
uint64_t vl_now_usec(void);            /* CLOCK_MONOTONIC */

/* Watch fd (not owned) for events (EPOLLIN, EPOLLOUT, ...). */
int vl_loop_add_io(VlLoop *loop, int fd, uint32_t events, VlIoFn fn, void *userdata, VlSource **ret);
int vl_source_set_io_events(VlSource *s, uint32_t events);

/* A one-shot timer at an absolute CLOCK_MONOTONIC time; re-arm with
 * vl_source_set_time() from the callback for periodic timers. */
int vl_loop_add_timer(VlLoop *loop, uint64_t usec, VlTimerFn fn, void *userdata, VlSource **ret);
int vl_source_set_time(VlSource *s, uint64_t usec);

/* Blocks signo in the calling thread and delivers it through a signalfd. */
int vl_loop_add_signal(VlLoop *loop, int signo, VlSignalFn fn, void *userdata, VlSource **ret);

/* Calls fn once when the child exits (reaps it). */
int vl_loop_add_child(VlLoop *loop, pid_t pid, VlChildFn fn, void *userdata, VlSource **ret);

/* Disable (false) or enable (true) a source without freeing it. */
int vl_source_set_enabled(VlSource *s, bool enabled);
/* Removes and frees the source; safe from within its own callback. Accepts NULL. */
VlSource *vl_source_free(VlSource *s);
void *vl_source_get_userdata(VlSource *s);

#ifdef __cplusplus
}
#endif
