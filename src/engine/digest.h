/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* SHA-256 digests in OCI form: "sha256:<64 hex>". */

#include <stdbool.h>
#include <stddef.h>

#define DIGEST_MAX 72 /* "sha256:" + 64 hex + NUL, rounded */

typedef struct Sha256 Sha256;

int sha256_new(Sha256 **ret);
void sha256_update(Sha256 *h, const void *p, size_t n);
/* Writes "sha256:<hex>" into out (DIGEST_MAX bytes) and resets nothing: free after. */
void sha256_final(Sha256 *h, char out[DIGEST_MAX]);
Sha256 *sha256_free(Sha256 *h);
/* One-shot. */
void sha256_digest(const void *p, size_t n, char out[DIGEST_MAX]);

/* "sha256:" followed by exactly 64 lowercase hex characters. */
bool digest_valid(const char *d);
/* The hex part of a valid digest, or NULL. */
const char *digest_hex(const char *d);
