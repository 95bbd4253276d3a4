/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * SHA-256 (FIPS 180-4), self-contained: every digest cpod computes (blobs,
 * layers, manifests, cache keys) goes through here. Loading libcrypto for
 * it cost ~4 MB of resident memory and a few milliseconds per process.
 * On x86-64 CPUs with the SHA extensions the block function uses them
 * (chosen once, at run time, through cpuid); elsewhere a portable C
 * version runs.
 */

#include <stdbool.h>
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
/* The 32-byte digest. The state is spent afterwards: init it again to reuse it. */
void sha256_lite_final(Sha256Lite *s, uint8_t ret[32]);
/* The digest as 64 lowercase hex characters and a NUL. */
void sha256_lite_final_hex(Sha256Lite *s, char ret[65]);

/* Whether the hardware (SHA-NI) block function is in use. */
bool sha256_lite_accelerated(void);
/* Use the portable block function even where the hardware one is available (tests, benchmarks);
 * false returns to the automatic choice. Not thread-safe: call before hashing starts. */
void sha256_lite_force_portable(bool portable);
