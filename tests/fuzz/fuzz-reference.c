/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-reference: a parsed reference has a valid path and digest, its
 * normalized string parses back to the same string, and a refusal always
 * carries a message.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *normalized_string(const char *s, CpodError *err) {
        Reference r = {};
        char *out;

        if (reference_parse(s, &r, err) < 0)
                return NULL;
        if (!r.path || !r.path[0] || (r.digest && !digest_valid(r.digest)) || (r.tag && !r.tag[0]))
                abort();
        if (reference_normalize(&r, "docker.io") < 0)
                abort();
        out = reference_string(&r);
        if (!out)
                abort();
        reference_done(&r);
        return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        CpodError err = {};
        char *s, *first, *second;

        if (size > 8192)
                return 0;
        s = strndup((const char *)data, size);
        if (!s)
                return 0;
        (void)reference_is_id_prefix(s);
        first = normalized_string(s, &err);
        if (!first) {
                if (err.code != EINVAL || !err.message[0])
                        abort();
                free(s);
                return 0;
        }
        second = normalized_string(first, &err);
        /* Adding "docker.io/library/" may push a name past 255 characters. */
        if (second ? strcmp(first, second) != 0 : strlen(first) <= 255 + 18)
                if (second || !strstr(err.message, "255"))
                        abort();
        free(second);
        free(first);
        free(s);
        return 0;
}
