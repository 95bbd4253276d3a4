/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The content-addressed blob store: <root>/blobs/sha256/<hex>, OCI layout.
 * A blob appears only complete and verified: writers stream into
 * <root>/tmp/, hash as they go, fsync, and rename into place. Blobs are
 * never modified; a blob that exists is trusted (its name is its hash).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "engine.h"

typedef struct BlobWriter BlobWriter;

int blob_writer_new(Engine *e, BlobWriter **ret, CpodError *err);
int blob_writer_write(BlobWriter *w, const void *p, size_t n, CpodError *err);
/* Finish: verify against expected (may be NULL), rename into place (an
 * existing identical blob is fine), return the digest. Frees w. */
int blob_writer_commit(BlobWriter *w, const char *expected, char ret_digest[DIGEST_MAX], CpodError *err);
/* Flags of blob_writer_commit_flags and blob_put_flags. */
enum {
        /* The blob's data is flushed before its name appears (so a name that exists is always a
         * complete blob), but the name is not flushed: the caller makes it durable once for many
         * blobs (blob_sync_names, or a syncfs) before anything that names the blob is committed. */
        BLOB_DEFER_NAME_SYNC = 1 << 0,
};
int blob_writer_commit_flags(BlobWriter *w, const char *expected, unsigned flags,
                             char ret_digest[DIGEST_MAX], CpodError *err);
/* Make the names of blobs committed with BLOB_DEFER_NAME_SYNC durable (fsync of the blob directory). */
int blob_sync_names(Engine *e, CpodError *err);
/* Drop a writer and its temporary file. Accepts NULL. */
void blob_writer_abort(BlobWriter *w);
uint64_t blob_writer_size(BlobWriter *w);

/* Store a blob held in memory. */
int blob_put(Engine *e, const void *p, size_t n, char ret_digest[DIGEST_MAX], CpodError *err);
int blob_put_flags(Engine *e, const void *p, size_t n, unsigned flags, char ret_digest[DIGEST_MAX],
                   CpodError *err);
/* Copy a blob from an fd (to EOF), verifying expected when given. */
int blob_put_fd(Engine *e, int fd, const char *expected, char ret_digest[DIGEST_MAX], uint64_t *ret_size,
                CpodError *err);
/* Make a file of the store's own (a staging copy under <root>/tmp, nobody else's) a blob without copying
 * it: hash it, verify expected when given, sync it and link it into place. *ret_new tells whether the
 * store did not hold the blob before. */
int blob_adopt_fd(Engine *e, int fd, const char *expected, char ret_digest[DIGEST_MAX], uint64_t *ret_size,
                  bool *ret_new, CpodError *err);

bool blob_exists(Engine *e, const char *digest);
/* Path of a blob (malloc'ed); the blob may not exist. -EINVAL for a bad digest. */
int blob_path(Engine *e, const char *digest, char **ret);
/* Open for reading (O_RDONLY|O_CLOEXEC); -ENOENT with a message if absent. */
int blob_open(Engine *e, const char *digest, CpodError *err);
/* Read a whole blob of at most max bytes (manifests, configs); NUL-terminated. */
int blob_read(Engine *e, const char *digest, size_t max, char **ret, size_t *ret_len, CpodError *err);
int blob_remove(Engine *e, const char *digest);
/* Remove those of digests that no image names, under the exclusive
 * garbage-collection lock (waiting for writers to finish; any shared hold
 * of ours is given up). Failures leave files `cpod system check` finds. */
void blob_remove_unused(Engine *e, char *const *digests, size_t n);
