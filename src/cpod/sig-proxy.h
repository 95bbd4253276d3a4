/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* podman's --sig-proxy: signals cpod receives while attached go to the container. */

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

#include "container.h"
#include "util.h"

typedef struct SigProxy {
        const EngineOptions *options; /* the proxy thread opens its own engine */
        char id[65];
        int fds[2];
        pthread_t thread;
        bool started;
        struct sigaction saved[6];
} SigProxy;

/* Start forwarding SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to container id. */
int sig_proxy_start(SigProxy *p, const EngineOptions *options, const char *id);
/* Restore the previous handlers and end the thread; a proxy that never started is fine. */
void sig_proxy_stop(SigProxy *p);
