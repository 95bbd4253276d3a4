/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small helpers shared by libvl's sources (not installed). */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _public_        __attribute__((visibility("default")))
#define _unused_        __attribute__((unused))
#define _likely_(x)     __builtin_expect(!!(x), 1)
#define _unlikely_(x)   __builtin_expect(!!(x), 0)
#define _cleanup_(f)    __attribute__((cleanup(f)))
#define _cleanup_free_  _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)     ((a) < (b) ? (a) : (b))
#define MAX(a, b)     ((a) > (b) ? (a) : (b))

static inline void freep(void *p) {
        free(*(void **)p);
}

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

/* Move ownership out of a cleanup variable. */
#define TAKE_PTR(p)                      \
        ({                               \
                __typeof__(p) _tp = (p); \
                (p) = NULL;              \
                _tp;                     \
        })
#define TAKE_FD(fd)             \
        ({                      \
                int _tf = (fd); \
                (fd) = -1;      \
                _tf;            \
        })

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                close(fd);
                errno = saved;
        }
        return -1;
}

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

static inline const char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);
        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

/* Grow *p (an array of *cap elements of size sz) to hold at least need
 * elements. Returns 0 or -ENOMEM; *p is unchanged on failure. */
static inline int vl_grow(void **p, size_t *cap, size_t need, size_t sz) {
        if (need <= *cap)
                return 0;
        size_t n = *cap ? *cap : 4;
        while (n < need) {
                if (n > SIZE_MAX / 2 / sz)
                        return -ENOMEM;
                n *= 2;
        }
        void *q = realloc(*p, n * sz);
        if (!q)
                return -ENOMEM;
        *p = q;
        *cap = n;
        return 0;
}

#define VL_GROW(arr, cap, need) vl_grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))
