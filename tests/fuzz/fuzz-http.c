/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-http: the HTTP response head parser and the URL helpers never read
 * past their input; a parsed head has a status in range, fields whose names
 * are tokens and whose values hold no CR, LF or NUL, and consistent framing.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_head(const HttpHead *h) {
        if (h->status < 100 || h->status > 599 || h->n_fields > HTTP_HEADERS_MAX)
                abort();
        if (h->chunked && h->content_length >= 0)
                abort();
        for (size_t i = 0; i < h->n_fields; i++) {
                const HttpField *f = &h->fields[i];
                if (f->name_len == 0 || memchr(f->name, ':', f->name_len))
                        abort();
                for (size_t k = 0; k < f->value_len; k++)
                        if (f->value[k] == '\r' || f->value[k] == '\n' || f->value[k] == 0)
                                abort();
        }
        (void)http_head_get(h, "content-type", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* A copy of exactly size bytes, so reading past it is caught by the sanitizers. */
        char *s = malloc(size ? size : 1);
        HttpHead *h = malloc(sizeof(*h));
        if (!s || !h) {
                free(s);
                free(h);
                return 0;
        }
        memcpy(s, data, size);
        int end = http_head_end(s, size);
        if (end > (int)size || (end < 0 && end != -E2BIG))
                abort();
        if (end > 0) {
                int r = http_head_parse(s, (size_t)end, h);
                if (r == 0)
                        check_head(h);
                else if (r != -EPROTO && r != -E2BIG)
                        abort();
        }
        int r = http_head_parse(s, size, h);
        if (r == 0)
                check_head(h);
        free(h);

        /* The same bytes as a URL and as a redirect target. */
        char *z = malloc(size + 1);
        if (z) {
                memcpy(z, data, size);
                z[size] = 0;
                HttpUrl u;
                if (http_url_parse(z, &u) == 0 && (u.port == 0 || !u.host[0] || !u.target))
                        abort();
                char *res = http_url_resolve("http://127.0.0.1:5000/v2/a/blobs/x?y=1", z);
                free(res);
                char *esc = http_escape(z, strlen(z));
                if (esc &&
                    strspn(esc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%") !=
                            strlen(esc))
                        abort();
                free(esc);
                free(z);
        }
        free(s);
        return 0;
}
