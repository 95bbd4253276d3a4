/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VlBuf: a growable byte buffer. After any successful append, data[len] is
 * a NUL byte (not counted in len), so the contents can be used as a C
 * string when they hold no NULs themselves.
 */

#include <vl/json.h>

#include "util.h"

_public_ int vl_buf_reserve(VlBuf *b, size_t extra) {
        /* One more byte than asked for: room for the trailing NUL. */
        if (extra > SIZE_MAX - 1 - b->len)
                return -ENOMEM;
        size_t need = b->len + extra + 1;
        if (need <= b->cap)
                return 0;
        size_t cap = b->cap < 64 ? 64 : b->cap;
        while (cap < need) {
                if (cap > SIZE_MAX / 2) {
                        cap = need;
                        break;
                }
                cap *= 2;
        }
        char *p = realloc(b->data, cap);
        if (!p)
                return -ENOMEM;
        b->data = p;
        b->cap = cap;
        return 0;
}

_public_ int vl_buf_append(VlBuf *b, const void *p, size_t n) {
        int r = vl_buf_reserve(b, n);
        if (r < 0)
                return r;
        if (n)
                memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = 0;
        return 0;
}

_public_ int vl_buf_append_str(VlBuf *b, const char *s) {
        return vl_buf_append(b, s, strlen(s));
}

_public_ int vl_buf_append_char(VlBuf *b, char c) {
        if (_unlikely_(b->len + 1 >= b->cap)) {
                int r = vl_buf_reserve(b, 1);
                if (r < 0)
                        return r;
        }
        b->data[b->len++] = c;
        b->data[b->len] = 0;
        return 0;
}

_public_ void vl_buf_clear(VlBuf *b) {
        b->len = 0;
        if (b->data)
                b->data[0] = 0;
}

_public_ void vl_buf_free(VlBuf *b) {
        free(b->data);
        *b = (VlBuf)VL_BUF_INIT;
}
