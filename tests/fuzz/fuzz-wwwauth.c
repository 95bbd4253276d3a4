/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-wwwauth: the WWW-Authenticate parser never reads past its input,
 * returns a known scheme whenever it succeeds, and gives parameters without
 * control characters from quoted strings; base64 round trips.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_param(const char *p) {
        for (; p && *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        RegistryChallenge c = {};
        char *s = malloc(size + 1), *enc, *dec = NULL;
        size_t n = 0;

        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = 0;
        int r = registry_challenge_parse(s, &c);
        if (r == 0) {
                if (c.scheme != REGISTRY_SCHEME_BASIC && c.scheme != REGISTRY_SCHEME_BEARER)
                        abort();
                check_param(c.realm);
                check_param(c.service);
                check_param(c.scope);
        } else if (r != -EINVAL && r != -EPROTONOSUPPORT)
                abort();
        registry_challenge_done(&c);

        enc = registry_base64_encode(data, size);
        if (!enc || registry_base64_decode(enc, &dec, &n) < 0 || n != size || memcmp(dec, data, size) != 0)
                abort();
        free(enc);
        free(dec);
        dec = NULL;
        if (registry_base64_decode(s, &dec, &n) == 0)
                free(dec);
        free(s);
        return 0;
}
