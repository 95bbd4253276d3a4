/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The client side shared by the ping benchmarks: T threads, one connection
 * each, doing sequential calls for a number of seconds (or a fixed number of
 * calls); per-call latencies are recorded and reported as one line:
 *
 *   conns=64 calls=123456 secs=3.001 calls_per_sec=41139 p50_us=1.5 p99_us=3.2
 *
 * A program provides connect, call and disconnect and calls bench_run.
 */

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct BenchOps {
        void *(*connect)(const char *address); /* NULL on failure (after a message) */
        int (*call)(void *conn);               /* < 0 on failure */
        void (*disconnect)(void *conn);
} BenchOps;

typedef struct BenchThread {
        pthread_t thread;
        const BenchOps *ops;
        void *conn;
        uint32_t *lat; /* nanoseconds, capped at UINT32_MAX */
        size_t n_lat, cap_lat;
        int failed;
} BenchThread;

static atomic_bool bench_stop;
static atomic_uint bench_ready;
static atomic_bool bench_go;
static uint64_t bench_max_calls; /* per thread; 0: run until bench_stop */

static inline uint64_t bench_now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *bench_thread_main(void *p) {
        BenchThread *t = p;

        atomic_fetch_add(&bench_ready, 1);
        while (!atomic_load(&bench_go))
                sched_yield();
        while (!atomic_load_explicit(&bench_stop, memory_order_relaxed)) {
                if (bench_max_calls > 0 && t->n_lat >= bench_max_calls)
                        break;
                uint64_t t0 = bench_now_ns();
                if (t->ops->call(t->conn) < 0) {
                        t->failed = 1;
                        break;
                }
                uint64_t d = bench_now_ns() - t0;
                if (t->n_lat == t->cap_lat) {
                        size_t cap = t->cap_lat ? t->cap_lat * 2 : 65536;
                        uint32_t *n = realloc(t->lat, cap * sizeof(*n));
                        if (!n) {
                                t->failed = 1;
                                break;
                        }
                        t->lat = n;
                        t->cap_lat = cap;
                }
                t->lat[t->n_lat++] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
        }
        return NULL;
}

static int bench_cmp_u32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return x < y ? -1 : x > y;
}

/* Runs n_conns connections for secs seconds (or max_calls calls each when
 * max_calls > 0) and prints the result line. Returns 0 or 1 (failure). */
static int bench_run(const BenchOps *ops, const char *address, unsigned n_conns, double secs,
                     uint64_t max_calls) {
        BenchThread *threads = calloc(n_conns, sizeof(*threads));
        if (!threads)
                return 1;
        bench_max_calls = max_calls;
        for (unsigned i = 0; i < n_conns; i++) {
                threads[i].ops = ops;
                threads[i].conn = ops->connect(address);
                if (!threads[i].conn)
                        return 1;
        }
        for (unsigned i = 0; i < n_conns; i++) {
                pthread_attr_t attr;
                pthread_attr_init(&attr);
                pthread_attr_setstacksize(&attr, 256 * 1024);
                int r = pthread_create(&threads[i].thread, &attr, bench_thread_main, &threads[i]);
                pthread_attr_destroy(&attr);
                if (r != 0) {
                        fprintf(stderr, "pthread_create: %s\n", strerror(r));
                        return 1;
                }
        }
        while (atomic_load(&bench_ready) < n_conns)
                sched_yield();

        uint64_t start = bench_now_ns();
        atomic_store(&bench_go, true);
        if (max_calls == 0) {
                struct timespec ts = {.tv_sec = (time_t)secs,
                                      .tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9)};
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
                atomic_store(&bench_stop, true);
        }
        int failed = 0;
        size_t total = 0;
        for (unsigned i = 0; i < n_conns; i++) {
                pthread_join(threads[i].thread, NULL);
                failed |= threads[i].failed;
                total += threads[i].n_lat;
        }
        uint64_t elapsed = bench_now_ns() - start;

        uint32_t *all = malloc((total ? total : 1) * sizeof(*all));
        if (!all)
                return 1;
        size_t k = 0;
        for (unsigned i = 0; i < n_conns; i++) {
                memcpy(all + k, threads[i].lat, threads[i].n_lat * sizeof(*all));
                k += threads[i].n_lat;
                free(threads[i].lat);
                ops->disconnect(threads[i].conn);
        }
        qsort(all, total, sizeof(*all), bench_cmp_u32);
        double p50 = total ? all[(size_t)(total * 0.50)] / 1000.0 : 0;
        double p99 = total ? all[(size_t)(total * 0.99)] / 1000.0 : 0;
        printf("conns=%u calls=%zu secs=%.3f calls_per_sec=%.0f p50_us=%.2f p99_us=%.2f\n", n_conns, total,
               elapsed / 1e9, total / (elapsed / 1e9), p50, p99);
        free(all);
        free(threads);
        if (failed)
                fprintf(stderr, "some calls failed\n");
        return failed;
}
