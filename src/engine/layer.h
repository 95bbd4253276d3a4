/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Layers: extracted filesystem diffs under <root>/layers/<id>/diff, where
 * id is the layer's chain id (hex): chain(L1) = diff_id(L1),
 * chain(Ln) = sha256(chain(Ln-1) + " " + diff_id(Ln)).
 *
 * Extraction is safe against hostile archives: every entry is created with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) (or an equivalent
 * component walk) below the layer root, so "..", absolute names, and
 * symlinks or hardlinks pointing out can write nothing outside it. OCI
 * whiteouts (.wh.NAME) become overlay whiteouts (0/0 character devices),
 * opaque markers (.wh..wh..opq) the trusted.overlay.opaque=y xattr.
 * Ownership, modes (setuid included), mtimes, xattrs and device nodes are
 * kept as podman keeps them as root.
 *
 * The compressed stream (gzip, zstd or plain, detected by magic) is hashed
 * as it is read and the uncompressed tar as it is decompressed, so digests
 * are checked in one pass; a mismatch removes everything written.
 */

#include <stdbool.h>
#include <stdint.h>

#include "digest.h"
#include "engine.h"

typedef struct LayerInfo {
        char id[65];                        /* chain id hex */
        char diff_id[DIGEST_MAX];           /* of the uncompressed tar */
        char compressed_digest[DIGEST_MAX]; /* of the stream as read ("" if not computed) */
        uint64_t size;                      /* uncompressed tar bytes */
} LayerInfo;

/* Compute a chain id (hex) from the parent's chain id (hex, or NULL) and a diff_id. */
void layer_chain_id(const char *parent_hex, const char *diff_id, char ret_hex[65]);

/*
 * Extract the layer stream read from fd on top of parent (chain id hex or
 * NULL) into the store. expected_compressed and expected_diff_id may be
 * NULL; when given, a mismatch fails with -EBADMSG and leaves nothing.
 * When the layer (by chain id) already exists, the stream is still
 * verified but not extracted again. Registers the layer in the database.
 */
int layer_store(Engine *e, int fd, const char *parent, const char *expected_compressed,
                const char *expected_diff_id, LayerInfo *ret, CpodError *err);

/* Flags of layer_stage_new and layer_extract_verify_flags. */
enum {
        /*
         * The caller verifies the compressed digest itself (a pull's blob writer
         * hashes the same bytes): expected_compressed (required) is taken as the
         * stream's compressed digest without hashing it again, and a plain
         * stream's diff_id is that digest too. The caller must drop the result
         * when its own check fails.
         */
        LAYER_COMPRESSED_CHECKED = 1 << 0,
        /*
         * Do not flush the staged files (layer_stage_new): the caller flushes
         * once for several layers with layer_staged_sync before publishing.
         */
        LAYER_NO_SYNC = 1 << 1,
};

/*
 * The two halves of layer_store, for extracting while a layer downloads:
 * layer_stage_new extracts and verifies a stream into a fresh staging
 * directory under <root>/tmp (no database access: any thread may run it,
 * several at once); layer_stage_publish (on the engine's thread) renames it
 * to the chain id of parent and its diff_id and records it, without reading
 * the layer again. A layer that exists already is kept and the staged copy
 * dropped. layer_staged_free removes what was not published; a process
 * killed meanwhile leaves a staging directory `cpod system check` removes.
 *
 * Ordering for power loss: a staged layer's files are flushed before its
 * rename (by layer_stage_new, or for LAYER_NO_SYNC by one layer_staged_sync
 * for all of them), and the rename is flushed (layer_sync_names) before the
 * row naming it is committed.
 */
typedef struct LayerStaged LayerStaged;
int layer_stage_new(Engine *e, int fd, const char *expected_compressed, const char *expected_diff_id,
                    unsigned flags, LayerStaged **ret, CpodError *err);
/* Flush the files of staged layers (one syncfs for all; NULL entries are skipped): 1 when it
 * flushed, 0 when none needed it. */
int layer_staged_sync(Engine *e, LayerStaged *const *staged, size_t n, CpodError *err);
int layer_stage_publish(Engine *e, LayerStaged *s, const char *parent, LayerInfo *ret, CpodError *err);
/*
 * The first half of layer_stage_publish: flush the staged files if
 * layer_staged_sync did not, and rename them to layers/<chain id>. The
 * caller then flushes the names (layer_sync_names) and records the layer
 * (layer_record) in its own transaction, so several layers and an image
 * take one commit.
 */
int layer_stage_rename(Engine *e, LayerStaged *s, const char *parent, LayerInfo *ret, CpodError *err);
/* Make renames into <root>/layers durable (fsync of the directory). */
int layer_sync_names(Engine *e, CpodError *err);
/* Insert a layer's row inside the caller's write transaction (an existing row is kept). */
int layer_record(Engine *e, const char *parent, const LayerInfo *info, CpodError *err);
/* The diff_id the staged stream had; NULL once published (or for NULL). */
const char *layer_staged_diff_id(const LayerStaged *s);
/* Remove a staged layer not published (accepts NULL). */
void layer_staged_free(LayerStaged *s);

/* Extract an (uncompressed or compressed) tar stream into an existing
 * directory, with the same safety rules (used by layer_store and tests). */
int layer_extract_to(int fd, int dir_fd, CpodError *err);

/*
 * As layer_extract_to, also returning the digests and size of the stream
 * (ret may be NULL) and checking them against the expected ones (either may
 * be NULL; a mismatch is -EBADMSG). dir_fd -1 only verifies the stream.
 */
int layer_extract_verify(int fd, int dir_fd, const char *expected_compressed, const char *expected_diff_id,
                         LayerInfo *ret, CpodError *err);
/* As layer_extract_verify, with LAYER_COMPRESSED_CHECKED. */
int layer_extract_verify_flags(int fd, int dir_fd, const char *expected_compressed,
                               const char *expected_diff_id, unsigned flags, LayerInfo *ret, CpodError *err);

/* Decompress a (gzip, zstd or plain) layer stream from in_fd to out_fd, returning the digest
 * and size of the uncompressed bytes (either may be NULL). */
int layer_decompress_to(int in_fd, int out_fd, char ret_diff_id[DIGEST_MAX], uint64_t *ret_size,
                        CpodError *err);

/* Remove name below dir_fd and everything under it, never following
 * symlinks; a missing name is not an error. */
int layer_rm_rf_at(int dir_fd, const char *name);

/* The directory of a layer's files (malloc'ed). */
int layer_diff_path(Engine *e, const char *id, char **ret);

/* Remove a layer no image uses (files and row). -EBUSY if in use. */
int layer_remove(Engine *e, const char *id, CpodError *err);

/*
 * Normalize a tar entry name to a relative path without "." or ".."
 * components escaping the root ("a/./b" -> "a/b", "/x" -> "x"). Returns 0,
 * or -EINVAL for names that climb out ("../x", "a/../../x") or are empty
 * after cleaning. Exposed for tests and the fuzz target.
 */
int tar_path_clean(const char *name, char *out, size_t out_size);

/*
 * Write a tar stream of a directory tree to fd (pax format, sorted entries,
 * for export and import round trips). With whiteouts true, overlay
 * whiteouts are written back as OCI .wh. entries.
 */
int tar_write_dir(int dir_fd, int out_fd, bool whiteouts, CpodError *err);
