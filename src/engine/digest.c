/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "digest.h"
#include "dl.h"
#include "util.h"

struct Sha256 {
        EVP_MD_CTX *ctx;
};

int sha256_new(Sha256 **ret) {
        Sha256 *h;

        if (dl_crypto_load(NULL) < 0)
                return -ELIBACC;
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
                sha256_free(h);
                return -ENOMEM;
        }
        *ret = h;
        return 0;
}

void sha256_update(Sha256 *h, const void *p, size_t n) {
        if (n > 0)
                EVP_DigestUpdate(h->ctx, p, n);
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
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;

        EVP_DigestFinal_ex(h->ctx, md, &len);
        digest_format(md, out);
}

Sha256 *sha256_free(Sha256 *h) {
        if (!h)
                return NULL;
        EVP_MD_CTX_free(h->ctx);
        free(h);
        return NULL;
}

void sha256_digest(const void *p, size_t n, char out[DIGEST_MAX]) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;

        /* EVP_Digest cannot fail for SHA-256 short of memory exhaustion
         * inside OpenSSL; zero the output then so no stale digest is used. */
        if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1)
                memset(md, 0, sizeof(md));
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
