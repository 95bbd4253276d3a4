/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Errors that carry context, crun-style: the innermost failure sets the
 * message ("open `/var/lib/cpod/x`: Permission denied"), callers may wrap
 * it on the way up ("load `busybox.tar`: open `…`: Permission denied").
 * Functions return -errno and fill the error when one is given (it may be
 * NULL). Front ends print it once, at the edge.
 */

#include <stdarg.h>

typedef struct CpodError {
        int code; /* positive errno, 0 when no error was set */
        char message[1024];
} CpodError;

/* Set the error (replacing any previous one); returns -code. */
int cpod_error(CpodError *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* As cpod_error, appending ": strerror(code)". */
int cpod_error_errno(CpodError *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefix context to the message set by a callee; returns -err->code (or
 * -EIO when none was set). */
int cpod_error_wrap(CpodError *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cpod_error_clear(CpodError *err);
