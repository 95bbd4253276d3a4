/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static void error_vset(CpodError *err, int code, bool with_errno, const char *fmt, va_list ap) {
        size_t n;

        err->code = code;
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        n = strlen(err->message);
        if (with_errno && n < sizeof(err->message))
                snprintf(err->message + n, sizeof(err->message) - n, ": %s", strerror(code));
}

static void error_concat(char *dst, size_t size, const char *a, const char *b, const char *c) {
        size_t n = 0;

        for (const char *parts[] = {a, b, c}, **p = parts; p < parts + 3; p++)
                for (const char *s = *p; *s && n + 1 < size; s++)
                        dst[n++] = *s;
        dst[n] = 0;
}

int cpod_error(CpodError *err, int code, const char *fmt, ...) {
        va_list ap;

        if (code < 0)
                code = -code;
        if (err) {
                va_start(ap, fmt);
                error_vset(err, code, false, fmt, ap);
                va_end(ap);
        }
        return -code;
}

int cpod_error_errno(CpodError *err, int code, const char *fmt, ...) {
        va_list ap;

        if (code < 0)
                code = -code;
        if (err) {
                va_start(ap, fmt);
                error_vset(err, code, true, fmt, ap);
                va_end(ap);
        }
        return -code;
}

int cpod_error_wrap(CpodError *err, const char *fmt, ...) {
        char prefix[sizeof(err->message)], old[sizeof(err->message)];
        va_list ap;

        if (!err)
                return -EIO;
        if (err->code == 0)
                err->code = EIO;
        /* Work on copies: the callee's message is both input and output. */
        memcpy(old, err->message, sizeof(old));
        old[sizeof(old) - 1] = 0;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        /* Truncation is acceptable here: the innermost detail is at the end
         * and a 1 KiB message is already more than anyone reads. */
        error_concat(err->message, sizeof(err->message), prefix, old[0] ? ": " : "", old);
        return -err->code;
}

void cpod_error_clear(CpodError *err) {
        if (!err)
                return;
        err->code = 0;
        err->message[0] = 0;
}
