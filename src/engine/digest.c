/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "sha256-lite.h"
#include "util.h"

struct Sha256 {
        Sha256Lite s;
};

int sha256_new(Sha256 **ret) {
        Sha256 *h = malloc(sizeof(*h));

        if (!h)
                return -ENOMEM;
        sha256_lite_init(&h->s);
        *ret = h;
        return 0;
}

void sha256_update(Sha256 *h, const void *p, size_t n) {
        sha256_lite_update(&h->s, p, n);
}

static void digest_format(const unsigned char md[32], char out[DIGEST_MAX]) {
        static const char hex[] = "0123456789abcdef";
        char *o = out;

        memcpy(o, "sha256:", 7);
        o += 7;
        for (size_t i = 0; i < 32; i++) {
                *o++ = hex[md[i] >> 4];
                *o++ = hex[md[i] & 15];
        }
        *o = 0;
}

void sha256_final(Sha256 *h, char out[DIGEST_MAX]) {
        uint8_t md[32];

        sha256_lite_final(&h->s, md);
        digest_format(md, out);
}

Sha256 *sha256_free(Sha256 *h) {
        free(h);
        return NULL;
}

void sha256_digest(const void *p, size_t n, char out[DIGEST_MAX]) {
        Sha256Lite s;
        uint8_t md[32];

        sha256_lite_init(&s);
        sha256_lite_update(&s, p, n);
        sha256_lite_final(&s, md);
        digest_format(md, out);
}

bool digest_valid(const char *d) {
        const char *h;

        if (!d)
                return false;
        h = startswith(d, "sha256:");
        if (!h)
                return false;
        for (size_t i = 0; i < 64; i++)
                if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
                        return false;
        return h[64] == 0;
}

const char *digest_hex(const char *d) {
        return digest_valid(d) ? d + 7 : NULL;
}
