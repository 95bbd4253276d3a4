/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers of the container commands: signals, times, lists of containers. */
#include <ctype.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmd-container.h"

static const struct {
        const char *name;
        int signo;
} signals[] = {
        {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT}, {"ILL", SIGILL},     {"TRAP", SIGTRAP},
        {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},   {"FPE", SIGFPE},     {"KILL", SIGKILL},
        {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},     {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},   {"ALRM", SIGALRM},
        {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},   {"STOP", SIGSTOP},
        {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU}, {"URG", SIGURG},     {"XCPU", SIGXCPU},
        {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
        {"POLL", SIGPOLL}, {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

int cli_parse_signal(const char *s) {
        const char *name = s;
        char *end;
        long v;

        if (!s || !*s)
                return -EINVAL;
        if (isdigit((unsigned char)*s)) {
                errno = 0;
                v = strtol(s, &end, 10);
                return errno == 0 && !*end && v > 0 && v <= SIGRTMAX ? (int)v : -EINVAL;
        }
        if (strncasecmp(name, "SIG", 3) == 0)
                name += 3;
        for (size_t i = 0; i < ELEMENTSOF(signals); i++)
                if (strcasecmp(name, signals[i].name) == 0)
                        return signals[i].signo;
        if (strncasecmp(name, "RTMIN", 5) == 0 || strncasecmp(name, "RTMAX", 5) == 0) {
                int base = strncasecmp(name, "RTMIN", 5) == 0 ? SIGRTMIN : SIGRTMAX;
                if (!name[5])
                        return base;
                v = strtol(name + 5, &end, 10);
                if (!*end && base + v >= SIGRTMIN && base + v <= SIGRTMAX)
                        return (int)(base + v);
        }
        return -EINVAL;
}

/* A Go duration ("1h30m", "10s", "500ms", "1.5h") in nanoseconds. */
static int parse_duration(const char *s, int64_t *ret) {
        static const struct {
                const char *unit;
                double ns;
        } units[] = {{"ns", 1},  {"us", 1e3}, {"µs", 1e3},  {"ms", 1e6},
                     {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
        double total = 0;

        if (!*s)
                return -EINVAL;
        while (*s) {
                char *end;
                double v = strtod(s, &end);
                size_t best = 0, best_len = 0;
                if (end == s || *s == '-' || *s == '+')
                        return -EINVAL;
                for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                        size_t l = strlen(units[i].unit);
                        if (strncmp(end, units[i].unit, l) == 0 && l > best_len)
                                best = i, best_len = l;
                }
                if (best_len == 0)
                        return -EINVAL;
                total += v * units[best].ns;
                s = end + best_len;
        }
        *ret = (int64_t)total;
        return 0;
}

static int64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* "2006-01-02", "2006-01-02T15:04:05[.frac](Z|±hh:mm)". */
static int parse_rfc3339(const char *s, int64_t *ret) {
        struct tm tm = {};
        const char *p = strptime(s, "%Y-%m-%d", &tm);
        int64_t frac = 0, offset = 0;

        if (!p)
                return -EINVAL;
        if (*p == 'T' || *p == ' ') {
                p = strptime(p + 1, "%H:%M:%S", &tm);
                if (!p)
                        return -EINVAL;
                if (*p == '.') {
                        int64_t scale = 100000000;
                        for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
                                frac += (*p - '0') * scale;
                }
                if (*p == 'Z')
                        p++;
                else if (*p == '+' || *p == '-') {
                        int hh, mm;
                        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
                                return -EINVAL;
                        offset = (hh * 3600 + mm * 60) * (*p == '+' ? 1 : -1);
                        p += 6;
                }
        }
        if (*p)
                return -EINVAL;
        *ret = ((int64_t)timegm(&tm) - offset) * 1000000000 + frac;
        return 0;
}

int cli_parse_time(const char *s, int64_t *ret_ns) {
        int64_t d;
        char *end;

        if (!s || !*s)
                return -EINVAL;
        if (parse_rfc3339(s, ret_ns) == 0)
                return 0;
        errno = 0;
        double v = strtod(s, &end);
        if (errno == 0 && end != s && !*end && isdigit((unsigned char)*s)) {
                *ret_ns = (int64_t)(v * 1e9);
                return 0;
        }
        if (parse_duration(s, &d) == 0) {
                *ret_ns = now_ns() - d;
                return 0;
        }
        return -EINVAL;
}

int cli_container_failed(const CpodError *err, int r) {
        return cli_engine_error(err, r);
}

int cli_all_container_ids(Engine *e, bool all, char ***ret, size_t *ret_n, CpodError *err) {
        return cli_container_ids_in_state(e, all, -1, ret, ret_n, err);
}

int cli_container_ids_in_state(Engine *e, bool all, int state, char ***ret, size_t *ret_n, CpodError *err) {
        Container *cs = NULL;
        char **ids = NULL;
        size_t n = 0, k = 0;
        int r;

        r = container_list(e, all, &cs, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if ((state < 0 || cs[i].state == (ContainerState)state) &&
                    strv_push(&ids, &k, cs[i].id) < 0) {
                        strv_free_n(ids, k);
                        container_array_free(cs, n);
                        return cpod_error(err, ENOMEM, "out of memory");
                }
        container_array_free(cs, n);
        *ret = ids;
        *ret_n = k;
        return 0;
}
