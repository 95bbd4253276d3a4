/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Forward the signals cpod receives while attached (run, start -a, attach) to the container, like
 * podman's --sig-proxy. The handler only writes the signal number to a pipe; a thread reads it and sends
 * the signal through the engine. Handlers, unlike blocked masks, do not leak into conmon or the runtime.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sig-proxy.h"

static const int proxied[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
static int pipe_write_fd = -1;

static void on_signal(int sig) {
        int saved = errno;
        unsigned char b = (unsigned char)sig;

        (void)!write(pipe_write_fd, &b, 1);
        errno = saved;
}

static void *proxy_main(void *userdata) {
        SigProxy *p = userdata;
        Engine *e = NULL;
        unsigned char b;
        ssize_t n;

        while ((n = read(p->fds[0], &b, 1)) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (!e && engine_open(p->options, &e, NULL) < 0) {
                        e = NULL;
                        continue;
                }
                (void)container_kill(e, p->id, b, NULL);
        }
        engine_close(e);
        return NULL;
}

int sig_proxy_start(SigProxy *p, const EngineOptions *options, const char *id) {
        struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};

        *p = (SigProxy){.options = options, .fds = {-1, -1}};
        snprintf(p->id, sizeof(p->id), "%s", id);
        if (pipe2(p->fds, O_CLOEXEC) < 0)
                return -errno;
        if (pthread_create(&p->thread, NULL, proxy_main, p) != 0) {
                p->fds[0] = safe_close(p->fds[0]);
                p->fds[1] = safe_close(p->fds[1]);
                return -EAGAIN;
        }
        p->started = true;
        pipe_write_fd = p->fds[1];
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < ELEMENTSOF(proxied); i++)
                sigaction(proxied[i], &sa, &p->saved[i]);
        return 0;
}

void sig_proxy_stop(SigProxy *p) {
        if (!p->started)
                return;
        for (size_t i = 0; i < ELEMENTSOF(proxied); i++)
                sigaction(proxied[i], &p->saved[i], NULL);
        pipe_write_fd = -1;
        p->fds[1] = safe_close(p->fds[1]); /* the thread sees the end of the pipe */
        pthread_join(p->thread, NULL);
        p->fds[0] = safe_close(p->fds[0]);
        p->started = false;
}
