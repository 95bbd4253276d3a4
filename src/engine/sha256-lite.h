/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A small SHA-256 for short inputs on hot paths (cache keys), where loading libcrypto would cost more
 * than the hashing: ~4 MB of resident memory and a few milliseconds per process. Bulk hashing of blobs
 * and layers keeps using digest.h. */

#include <stddef.h>
#include <stdint.h>

typedef struct Sha256Lite {
        uint32_t h[8];
        uint64_t len;
        uint8_t buf[64];
        size_t n_buf;
} Sha256Lite;

void sha256_lite_init(Sha256Lite *s);
void sha256_lite_update(Sha256Lite *s, const void *p, size_t n);
/* The digest as 64 lowercase hex characters and a NUL. */
void sha256_lite_final_hex(Sha256Lite *s, char ret[65]);
