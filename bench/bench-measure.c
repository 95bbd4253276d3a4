/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-measure RUNS [--before CMD] -- CMD...
 *
 * Run CMD RUNS times (stdout and stderr to /dev/null) and print the median wall time in ms and the
 * median peak RSS in KiB (wait4's ru_maxrss). The benchmark scripts compile and use it instead of
 * spawning from Python: a child spawned by a large process reports the parent's resident size as its
 * own peak (the kernel carries the old address space's high-water mark across exec, and posix_spawn
 * runs the child in the parent's address space until exec). Forked from this small process, CMD's
 * figure is its own. --before runs a shell command, untimed, before each run; every run must exit 0.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
        qsort(v, (size_t)n, sizeof(*v), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int run_once(char **cmd, double *ret_ms, double *ret_kib) {
        struct timespec t0, t1;
        struct rusage ru;
        int status;
        pid_t pid;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        pid = fork();
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);
                if (null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
                        _exit(127);
                execvp(cmd[0], cmd);
                _exit(127);
        }
        if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
                return -1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "bench-measure: %s exited %d\n", cmd[0],
                        WIFEXITED(status) ? WEXITSTATUS(status) : -1);
                return -1;
        }
        *ret_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        *ret_kib = (double)ru.ru_maxrss;
        return 0;
}

int main(int argc, char **argv) {
        int runs = argc > 1 ? atoi(argv[1]) : 0, i = 2;
        const char *before = NULL;

        if (i + 1 < argc && strcmp(argv[i], "--before") == 0) {
                before = argv[i + 1];
                i += 2;
        }
        if (runs < 1 || i + 1 >= argc || strcmp(argv[i], "--") != 0) {
                fprintf(stderr, "usage: bench-measure RUNS [--before CMD] -- CMD...\n");
                return 2;
        }
        double *ms = calloc((size_t)runs, sizeof(double)), *kib = calloc((size_t)runs, sizeof(double));
        if (!ms || !kib)
                return 1;
        for (int r = 0; r < runs; r++) {
                if (before && system(before) != 0) {
                        fprintf(stderr, "bench-measure: `%s` failed\n", before);
                        return 1;
                }
                if (run_once(argv + i + 1, &ms[r], &kib[r]) < 0)
                        return 1;
        }
        printf("%.3f %.0f\n", median(ms, runs), median(kib, runs));
        return 0;
}
