/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A tiny TAP producer for unit tests. Each check prints one "ok N - name" or
 * "not ok N - name" line; tests_done() prints the plan and returns the exit
 * code (0 only when every check passed).
 *
 *   int main(void) {
 *           ok(1 + 1 == 2, "addition");
 *           is_int(f(), 3, "f() returns 3");
 *           is_str(g(), "x", "g() returns x");
 *           return tests_done();
 *   }
 *
 * TEST(name) { ... } defines a function that runs before main() starts
 * the checks; run_tests() runs them all in order of definition.
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned tests_run_;
static unsigned tests_failed_;

static inline bool tests_report_(bool pass, const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static inline bool tests_report_(bool pass, const char *file, int line, const char *fmt, ...) {
        va_list ap;
        tests_run_++;
        if (!pass)
                tests_failed_++;
        printf("%s %u - ", pass ? "ok" : "not ok", tests_run_);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
        if (!pass)
                printf("#   failed at %s:%d\n", file, line);
        fflush(stdout);
        return pass;
}

#define ok(cond, ...) tests_report_(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                                      \
        ({                                                                          \
                long long _g = (long long)(got), _w = (long long)(want);            \
                bool _p = tests_report_(_g == _w, __FILE__, __LINE__, __VA_ARGS__); \
                if (!_p)                                                            \
                        printf("#   got %lld, want %lld\n", _g, _w);                \
                _p;                                                                 \
        })

#define is_str(got, want, ...)                                                                         \
        ({                                                                                             \
                const char *_g = (got), *_w = (want);                                                  \
                bool _p = tests_report_(_g && _w ? strcmp(_g, _w) == 0 : _g == _w, __FILE__, __LINE__, \
                                        __VA_ARGS__);                                                  \
                if (!_p)                                                                               \
                        printf("#   got \"%s\"\n#   want \"%s\"\n", _g ? _g : "(null)",                \
                               _w ? _w : "(null)");                                                    \
                _p;                                                                                    \
        })

static inline void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void diag(const char *fmt, ...) {
        va_list ap;
        printf("# ");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
}

/* Registered test functions, run by run_tests() in order of definition. */
typedef struct TestCase {
        const char *name;
        void (*fn)(void);
} TestCase;

static TestCase tests_cases_[256];
static unsigned tests_n_cases_;

#define TEST(name)                                                                       \
        static void test_##name(void);                                                   \
        __attribute__((constructor)) static void test_register_##name(void) {            \
                if (tests_n_cases_ < 256)                                                \
                        tests_cases_[tests_n_cases_++] = (TestCase){#name, test_##name}; \
        }                                                                                \
        static void test_##name(void)

static inline int tests_done(void) {
        printf("1..%u\n", tests_run_);
        if (tests_failed_)
                printf("# %u of %u checks failed\n", tests_failed_, tests_run_);
        fflush(stdout);
        return tests_failed_ ? 1 : 0;
}

static inline int run_tests(void) {
        for (unsigned i = 0; i < tests_n_cases_; i++) {
                diag("%s", tests_cases_[i].name);
                tests_cases_[i].fn();
        }
        return tests_done();
}

/* The usual main() of a unit test. */
#define TESTS_MAIN                  \
        int main(void) {            \
                return run_tests(); \
        }
