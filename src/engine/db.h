/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * SQLite state: WAL, foreign keys, synchronous=NORMAL, a busy timeout, and
 * schema migrations by PRAGMA user_version. Several cpod processes may use
 * one database at once; every read-modify-write runs inside
 * db_begin_write() ... db_commit(), which takes the write lock up front
 * (BEGIN IMMEDIATE) so two writers never deadlock on an upgrade.
 * db_close() leaves a WAL of up to 256 KiB for the next process and
 * checkpoints a longer one (docs/design/containers.md, round 4).
 *
 * Schema (version 1):
 *   images(id TEXT PRIMARY KEY,          -- config digest hex
 *          manifest_digest TEXT NOT NULL, -- "sha256:..."
 *          created INTEGER NOT NULL,      -- unix seconds, from the config
 *          size INTEGER NOT NULL,         -- uncompressed bytes of all layers
 *          top_layer TEXT,                -- layers.id of the top layer, NULL for no layers
 *          added INTEGER NOT NULL)        -- unix seconds, when stored
 *   image_names(name TEXT PRIMARY KEY, image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE)
 *   image_digests(name TEXT NOT NULL, digest TEXT NOT NULL, image_id TEXT NOT NULL REFERENCES images(id)
 *          ON DELETE CASCADE, PRIMARY KEY(name, digest))   -- repo@digest
 *   layers(id TEXT PRIMARY KEY,          -- chain id hex
 *          parent TEXT REFERENCES layers(id),
 *          diff_id TEXT NOT NULL,         -- "sha256:..." of the uncompressed tar
 *          compressed_digest TEXT,        -- blob digest as stored, may be NULL (import)
 *          size INTEGER NOT NULL)
 *   image_layers(image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
 *          idx INTEGER NOT NULL, layer_id TEXT NOT NULL REFERENCES layers(id), PRIMARY KEY(image_id, idx))
 *   mounts(kind TEXT, id TEXT, path TEXT, count INTEGER, PRIMARY KEY(kind, id))
 *   image_blobs(image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE, digest TEXT NOT NULL,
 *          PRIMARY KEY(image_id, digest))   -- every blob an image needs: manifest, config, layer blobs
 * Indexes on image_names(image_id), image_digests(image_id), layers(parent),
 * image_layers(layer_id), image_blobs(digest).
 */

#include <sqlite3.h>
#include <stddef.h>

#include "error.h"

int db_open(const char *path, sqlite3 **ret, CpodError *err);
void db_close(sqlite3 *db);

int db_begin_write(sqlite3 *db, CpodError *err); /* BEGIN IMMEDIATE, retried while busy */
int db_begin_read(sqlite3 *db, CpodError *err);  /* BEGIN (deferred): a consistent snapshot */
int db_commit(sqlite3 *db, CpodError *err);
void db_rollback(sqlite3 *db);

/* Run SQL without results (no parameters). */
int db_exec(sqlite3 *db, const char *sql, CpodError *err);
/* Prepare, failing with a message that names the statement. */
int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret, CpodError *err);
/* Like db_prepare, but the statement is kept for the connection and handed out again for the same SQL
 * text while no one else holds it: give it back with db_finish(), never sqlite3_finalize(). For
 * statements a process may run more than once; db_run() and db_get_text() use it. */
int db_prepare_cached(sqlite3 *db, const char *sql, sqlite3_stmt **ret, CpodError *err);
/* Give back a statement from db_prepare_cached() (reset, bindings cleared) or finalize any other. */
void db_finish(sqlite3_stmt *st);
/* Run sql binding text parameters ?1..?n (a NULL binds SQL NULL), stepping to
 * the end; returns the number of rows changed. */
int db_run(sqlite3 *db, const char *sql, const char *const *params, size_t n, CpodError *err);
/* Run a query with text parameters and copy the first row's first column
 * (malloc'ed, NULL for SQL NULL) into *ret when ret is given. Returns 1 when
 * there was a row, 0 when there was none. */
int db_get_text(sqlite3 *db, const char *sql, const char *const *params, size_t n, char **ret,
                CpodError *err);
/* Bind text parameters ?1..?n to a prepared statement. */
int db_bind_texts(sqlite3 *db, sqlite3_stmt *st, const char *const *params, size_t n, CpodError *err);
/* The params and n arguments of the calls above from a list of strings. */
#define DB_PARAMS(...) \
        (const char *const[]){__VA_ARGS__}, sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)

/* Map a SQLite result code to -errno (BUSY → -EBUSY, CONSTRAINT → -EEXIST, ...). */
int db_errno(int sqlite_rc);
