/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SQLite state. Opening must stay cheap (`cpod images` runs it on every
 * invocation): when user_version is current, opening costs one PRAGMA batch
 * and one user_version read, no schema work.
 */

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "db.h"
#include "util.h"

#define DB_VERSION 5
/* Total time a writer keeps retrying BEGIN IMMEDIATE or COMMIT after
 * SQLite's own busy handler gave up (it returns SQLITE_BUSY at once in a few
 * cases, e.g. while another connection recovers the WAL). */
#define DB_RETRY_USEC (30ull * 1000 * 1000)

static const char db_schema_v1[] = "CREATE TABLE images ("
                                   " id TEXT PRIMARY KEY,"
                                   " manifest_digest TEXT NOT NULL,"
                                   " created INTEGER NOT NULL,"
                                   " size INTEGER NOT NULL,"
                                   " top_layer TEXT,"
                                   " added INTEGER NOT NULL);"
                                   "CREATE TABLE image_names ("
                                   " name TEXT PRIMARY KEY,"
                                   " image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);"
                                   "CREATE INDEX image_names_image ON image_names(image_id);"
                                   "CREATE TABLE image_digests ("
                                   " name TEXT NOT NULL,"
                                   " digest TEXT NOT NULL,"
                                   " image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
                                   " PRIMARY KEY(name, digest));"
                                   "CREATE INDEX image_digests_image ON image_digests(image_id);"
                                   "CREATE TABLE layers ("
                                   " id TEXT PRIMARY KEY,"
                                   " parent TEXT REFERENCES layers(id),"
                                   " diff_id TEXT NOT NULL,"
                                   " compressed_digest TEXT,"
                                   " size INTEGER NOT NULL);"
                                   "CREATE INDEX layers_parent ON layers(parent);"
                                   "CREATE TABLE image_layers ("
                                   " image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
                                   " idx INTEGER NOT NULL,"
                                   " layer_id TEXT NOT NULL REFERENCES layers(id),"
                                   " PRIMARY KEY(image_id, idx));"
                                   "CREATE INDEX image_layers_layer ON image_layers(layer_id);"
                                   "CREATE TABLE image_blobs ("
                                   " image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
                                   " digest TEXT NOT NULL,"
                                   " PRIMARY KEY(image_id, digest));"
                                   "CREATE INDEX image_blobs_digest ON image_blobs(digest);"
                                   "CREATE TABLE mounts ("
                                   " kind TEXT, id TEXT, path TEXT, count INTEGER,"
                                   " PRIMARY KEY(kind, id));";

/* Containers: the state columns are what cpod last saw (container_sync
 * corrects them from conmon and the exit file); config holds the create
 * options as podman's inspect Config/HostConfig members (JSON). */
static const char db_schema_v2[] = "CREATE TABLE containers ("
                                   " id TEXT PRIMARY KEY,"
                                   " name TEXT NOT NULL UNIQUE,"
                                   " image_id TEXT NOT NULL,"
                                   " image_name TEXT NOT NULL,"
                                   " command TEXT NOT NULL,"
                                   " created INTEGER NOT NULL,"
                                   " state INTEGER NOT NULL,"
                                   " exit_code INTEGER NOT NULL DEFAULT 0,"
                                   " pid INTEGER NOT NULL DEFAULT 0,"
                                   " conmon_pid INTEGER NOT NULL DEFAULT 0,"
                                   " started_at INTEGER NOT NULL DEFAULT 0,"
                                   " finished_at INTEGER NOT NULL DEFAULT 0,"
                                   " restart_count INTEGER NOT NULL DEFAULT 0,"
                                   " stopped_by_user INTEGER NOT NULL DEFAULT 0,"
                                   " runtime TEXT NOT NULL,"
                                   " pod_id TEXT,"
                                   " error TEXT,"
                                   " config TEXT NOT NULL);"
                                   "CREATE INDEX containers_image ON containers(image_id);";

/* Volumes (volume.c): labels and options are JSON objects; created is unix
 * nanoseconds. container_volumes records which container uses which volume
 * (anonymous: the container made it and removes it with rm -v). */
static const char db_schema_v3[] =
        "CREATE TABLE volumes ("
        " name TEXT PRIMARY KEY,"
        " driver TEXT NOT NULL DEFAULT 'local',"
        " mountpoint TEXT NOT NULL,"
        " created INTEGER NOT NULL,"
        " labels TEXT NOT NULL DEFAULT '{}',"
        " options TEXT NOT NULL DEFAULT '{}',"
        " anonymous INTEGER NOT NULL DEFAULT 0,"
        " needs_copy_up INTEGER NOT NULL DEFAULT 1,"
        " needs_chown INTEGER NOT NULL DEFAULT 1);"
        "CREATE TABLE container_volumes ("
        " container_id TEXT NOT NULL,"
        " volume_name TEXT NOT NULL REFERENCES volumes(name) ON DELETE CASCADE,"
        " anonymous INTEGER NOT NULL DEFAULT 0,"
        " PRIMARY KEY(container_id, volume_name));"
        "CREATE INDEX container_volumes_volume ON container_volumes(volume_name);";

/* Pods (pod.c): config holds the create options (hostname, shared namespaces, labels, infra image,
 * network) as a JSON object; infra_id names the infra container (containers.pod_id links members). */
static const char db_schema_v4[] = "CREATE TABLE pods ("
                                   " id TEXT PRIMARY KEY,"
                                   " name TEXT NOT NULL UNIQUE,"
                                   " created INTEGER NOT NULL,"
                                   " infra_id TEXT,"
                                   " config TEXT NOT NULL DEFAULT '{}');"
                                   "CREATE INDEX containers_pod ON containers(pod_id);";

/* Networks (network.c, netns.c): the documents are files; these rows hold which container is configured
 * for which network, and the addresses handed out (released at teardown). */
static const char db_schema_v5[] = "CREATE TABLE container_networks ("
                                   " container_id TEXT NOT NULL,"
                                   " network TEXT NOT NULL,"
                                   " PRIMARY KEY(container_id, network));"
                                   "CREATE INDEX container_networks_network ON container_networks(network);"
                                   "CREATE TABLE network_ips ("
                                   " network TEXT NOT NULL,"
                                   " ip TEXT NOT NULL,"
                                   " container_id TEXT NOT NULL,"
                                   " PRIMARY KEY(network, ip));"
                                   "CREATE INDEX network_ips_container ON network_ips(container_id);";

/* Index i upgrades the schema from version i to i + 1. */
static const char *const db_migrations[DB_VERSION] = {
        db_schema_v1, db_schema_v2, db_schema_v3, db_schema_v4, db_schema_v5,
};

int db_errno(int sqlite_rc) {
        switch (sqlite_rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_ROW:
        case SQLITE_DONE:
                return 0;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_CONSTRAINT:
                return -EEXIST;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_READONLY:
                return -EROFS;
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_CANTOPEN:
                return -ENOENT;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return -EUCLEAN;
        case SQLITE_TOOBIG:
                return -E2BIG;
        case SQLITE_INTERRUPT:
                return -EINTR;
        case SQLITE_MISMATCH:
        case SQLITE_RANGE:
        case SQLITE_MISUSE:
                return -EINVAL;
        default:
                return -EIO;
        }
}

static int db_fail(sqlite3 *db, int rc, CpodError *err, const char *what) {
        return cpod_error(err, -db_errno(rc), "database: %s: %s", what,
                          db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void sleep_usec(long usec) {
        struct timespec ts = {.tv_sec = usec / 1000000, .tv_nsec = (usec % 1000000) * 1000};
        nanosleep(&ts, NULL);
}

/* Run a statement that may find the database locked, retrying for a while. */
static int db_exec_retry(sqlite3 *db, const char *sql, CpodError *err) {
        uint64_t deadline = now_usec() + DB_RETRY_USEC;
        long backoff = 1000;

        for (;;) {
                int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
                if (rc == SQLITE_OK)
                        return 0;
                if ((rc & 0xff) != SQLITE_BUSY || now_usec() > deadline)
                        return db_fail(db, rc, err, sql);
                sleep_usec(backoff);
                backoff = MIN(backoff * 2, 50000L);
        }
}

int db_exec(sqlite3 *db, const char *sql, CpodError *err) {
        char *msg = NULL;
        int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
                int r = cpod_error(err, -db_errno(rc), "database: %s", msg ? msg : sqlite3_errstr(rc));
                sqlite3_free(msg);
                return r;
        }
        return 0;
}

int db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret, CpodError *err) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return cpod_error(err, -db_errno(rc), "database: prepare `%.200s`: %s", sql,
                                  sqlite3_errmsg(db));
        *ret = st;
        return 0;
}

/* Statements kept per connection: a command runs the same lookups several times (a container's row,
 * its image, its volumes), and compiling a statement costs more than running it (30-200 k instructions
 * for the wide SELECTs). Few distinct statements run in one process; the cache is small and a full one
 * just prepares anew. SQLite connections here are used by one thread at a time; the lock only guards
 * the table itself, which is shared by every connection of the process. */
#define DB_CACHE_SIZE 32

typedef struct DbCached {
        sqlite3 *db;
        sqlite3_stmt *st;
        bool in_use;
} DbCached;

static DbCached db_cache[DB_CACHE_SIZE];
static pthread_mutex_t db_cache_lock = PTHREAD_MUTEX_INITIALIZER;

int db_prepare_cached(sqlite3 *db, const char *sql, sqlite3_stmt **ret, CpodError *err) {
        DbCached *free_slot = NULL;

        pthread_mutex_lock(&db_cache_lock);
        for (size_t i = 0; i < DB_CACHE_SIZE; i++) {
                DbCached *c = &db_cache[i];
                if (!c->st) {
                        if (!free_slot && !c->in_use)
                                free_slot = c;
                } else if (c->db == db && !c->in_use && streq(sqlite3_sql(c->st), sql)) {
                        c->in_use = true;
                        *ret = c->st;
                        pthread_mutex_unlock(&db_cache_lock);
                        return 0;
                }
        }
        if (free_slot)
                free_slot->in_use = true; /* reserved while we prepare */
        pthread_mutex_unlock(&db_cache_lock);

        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v3(db, sql, -1, free_slot ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL);
        pthread_mutex_lock(&db_cache_lock);
        if (free_slot) {
                if (rc == SQLITE_OK) {
                        free_slot->db = db;
                        free_slot->st = st;
                } else
                        free_slot->in_use = false;
        }
        pthread_mutex_unlock(&db_cache_lock);
        if (rc != SQLITE_OK)
                return cpod_error(err, -db_errno(rc), "database: prepare `%.200s`: %s", sql,
                                  sqlite3_errmsg(db));
        *ret = st;
        return 0;
}

void db_finish(sqlite3_stmt *st) {
        if (!st)
                return;
        pthread_mutex_lock(&db_cache_lock);
        for (size_t i = 0; i < DB_CACHE_SIZE; i++) {
                DbCached *c = &db_cache[i];
                if (c->st == st) {
                        /* reset ends the statement's read of the database; no binding outlives the call */
                        sqlite3_reset(st);
                        sqlite3_clear_bindings(st);
                        c->in_use = false;
                        pthread_mutex_unlock(&db_cache_lock);
                        return;
                }
        }
        pthread_mutex_unlock(&db_cache_lock);
        sqlite3_finalize(st);
}

static void db_cache_drop(sqlite3 *db) {
        pthread_mutex_lock(&db_cache_lock);
        for (size_t i = 0; i < DB_CACHE_SIZE; i++) {
                DbCached *c = &db_cache[i];
                if (c->st && c->db == db) {
                        sqlite3_finalize(c->st);
                        *c = (DbCached){};
                }
        }
        pthread_mutex_unlock(&db_cache_lock);
}

int db_begin_write(sqlite3 *db, CpodError *err) {
        return db_exec_retry(db, "BEGIN IMMEDIATE", err);
}

int db_begin_read(sqlite3 *db, CpodError *err) {
        return db_exec(db, "BEGIN", err);
}

int db_commit(sqlite3 *db, CpodError *err) {
        int r = db_exec_retry(db, "COMMIT", err);
        if (r < 0)
                db_rollback(db);
        return r;
}

void db_rollback(sqlite3 *db) {
        /* Nothing to undo when SQLite already rolled back (e.g. after SQLITE_FULL). */
        if (db && !sqlite3_get_autocommit(db))
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

static int db_user_version(sqlite3 *db, int *ret, CpodError *err) {
        sqlite3_stmt *st = NULL;
        int r = db_prepare(db, "PRAGMA user_version", &st, err);
        if (r < 0)
                return r;
        int rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
                r = db_fail(db, rc, err, "read user_version");
                sqlite3_finalize(st);
                return r;
        }
        *ret = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        return 0;
}

static int db_migrate(sqlite3 *db, CpodError *err) {
        int version, r;

        r = db_begin_write(db, err);
        if (r < 0)
                return r;
        /* Another process may have migrated while we waited for the lock. */
        r = db_user_version(db, &version, err);
        if (r < 0)
                goto fail;
        if (version > DB_VERSION) {
                r = cpod_error(err, EPROTONOSUPPORT,
                               "database schema version %d is newer than this cpod supports (%d)", version,
                               DB_VERSION);
                goto fail;
        }
        for (; version < DB_VERSION; version++) {
                r = db_exec(db, db_migrations[version], err);
                if (r < 0) {
                        cpod_error_wrap(err, "migrate the database to version %d", version + 1);
                        goto fail;
                }
        }
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", DB_VERSION);
        r = db_exec(db, sql, err);
        if (r < 0)
                goto fail;
        return db_commit(db, err);
fail:
        db_rollback(db);
        return r;
}

int db_open(const char *path, sqlite3 **ret, CpodError *err) {
        sqlite3 *db = NULL;
        int version, r;

        int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 NULL);
        if (rc != SQLITE_OK) {
                r = cpod_error(err, db ? -db_errno(sqlite3_extended_errcode(db)) : ENOMEM,
                               "open database `%s`: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
                if (r == 0)
                        r = -EIO;
                sqlite3_close(db);
                return r;
        }
        sqlite3_extended_result_codes(db, 1);

        /* The busy timeout first: switching to WAL may wait for other openers. */
        r = db_exec_retry(db,
                          "PRAGMA busy_timeout = 10000;"
                          "PRAGMA foreign_keys = ON;"
                          "PRAGMA synchronous = NORMAL;"
                          "PRAGMA journal_size_limit = 0;"
                          "PRAGMA journal_mode = WAL;",
                          err);
        if (r < 0)
                goto fail;
        r = db_user_version(db, &version, err);
        if (r < 0)
                goto fail;
        if (version > DB_VERSION) {
                r = cpod_error(err, EPROTONOSUPPORT,
                               "database `%s` has schema version %d, newer than this cpod supports (%d)",
                               path, version, DB_VERSION);
                goto fail;
        }
        if (version < DB_VERSION) {
                r = db_migrate(db, err);
                if (r < 0)
                        goto fail;
        }
        *ret = db;
        return 0;
fail:
        sqlite3_close(db);
        return r;
}

/* The WAL a close leaves as it is: a process that opens the store first replays the whole WAL into a
 * fresh wal-index (a read and a checksum per frame, ~5 k instructions each), so it must stay short; a
 * checkpoint costs its closer two or three fsyncs (1-13 ms, far more under disk load). 256 KiB is 64
 * frames: `run --rm` writes 11, `create` 6, so one close in about six checkpoints. It is also what a
 * power loss can take back (WAL with synchronous=NORMAL: the last transactions, never consistency). */
#define DB_WAL_KEEP (256 * 1024)

/* The WAL's size in bytes, or -1 when it cannot be told. */
static long long db_wal_size(sqlite3 *db) {
        const char *path = sqlite3_db_filename(db, "main");
        char wal[4096];
        struct stat st;

        if (!path || !*path || snprintf(wal, sizeof wal, "%s-wal", path) >= (int)sizeof wal)
                return -1;
        if (stat(wal, &st) < 0)
                return errno == ENOENT ? 0 : -1;
        return st.st_size;
}

/* Checkpoint the WAL and restart it with one frame, so that the next writer appends to a WAL whose
 * header is already on disk. SQLite syncs a WAL's header when it restarts the log (the first commit
 * after a complete checkpoint), and the WAL's directory at the first sync of every process: two fsyncs
 * that the first writer after a checkpoint would pay, often the foreground of a short command. Here the
 * closing process pays one (the header) after the checkpoint's own. Best effort: when another
 * connection is busy, this does less or nothing, and a later close does it. */
static void db_checkpoint_and_prime(sqlite3 *db) {
        int n_log = -1, n_ckpt = -1;

        sqlite3_busy_timeout(db, 0);
        if (sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, &n_log, &n_ckpt) != SQLITE_OK ||
            n_log != n_ckpt)
                return;
        /* Setting user_version always writes page 1, even to the same value: one frame. The write
         * starts at the WAL's beginning (everything is checkpointed), writing and syncing a new header,
         * and journal_size_limit = 0 truncates the file to that frame. */
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", DB_VERSION);
        (void)sqlite3_exec(db, sql, NULL, NULL, NULL);
}

void db_close(sqlite3 *db) {
        int no_ckpt = 0;

        if (!db)
                return;
        db_cache_drop(db);
        /* SQLite checkpoints at every last close, with two fsyncs, and leaves an empty WAL, which the
         * next writer restarts with two more (its header, and the directory at a process's first
         * sync). Instead a short WAL is left as it is, to be appended to by the next writer, and a
         * long one is checkpointed and primed here. SQLite's own close checkpoint is skipped either
         * way. A caller that asked for no checkpoint (SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE: another
         * process closes after it) gets none. */
        (void)sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, -1, &no_ckpt);
        if (!no_ckpt && sqlite3_get_autocommit(db)) {
                long long size = db_wal_size(db);
                if (size < 0 || size > DB_WAL_KEEP)
                        db_checkpoint_and_prime(db);
                (void)sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
        }
        /* Statements are owned by their callers; close_v2 defers the close if one leaked. */
        sqlite3_close_v2(db);
}

int db_bind_texts(sqlite3 *db, sqlite3_stmt *st, const char *const *params, size_t n, CpodError *err) {
        for (size_t i = 0; i < n; i++) {
                int rc = params[i] ? sqlite3_bind_text(st, (int)i + 1, params[i], -1, SQLITE_STATIC)
                                   : sqlite3_bind_null(st, (int)i + 1);
                if (rc != SQLITE_OK)
                        return db_fail(db, rc, err, "bind a parameter");
        }
        return 0;
}

int db_run(sqlite3 *db, const char *sql, const char *const *params, size_t n, CpodError *err) {
        sqlite3_stmt *st = NULL;
        int r = db_prepare_cached(db, sql, &st, err);
        if (r < 0)
                return r;
        r = db_bind_texts(db, st, params, n, err);
        if (r >= 0) {
                int rc;
                while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                        ;
                r = rc == SQLITE_DONE ? sqlite3_changes(db) : db_fail(db, rc, err, "run a statement");
        }
        db_finish(st);
        return r;
}

int db_get_text(sqlite3 *db, const char *sql, const char *const *params, size_t n, char **ret,
                CpodError *err) {
        sqlite3_stmt *st = NULL;
        int r = db_prepare_cached(db, sql, &st, err);
        if (r < 0)
                return r;
        r = db_bind_texts(db, st, params, n, err);
        if (r >= 0) {
                int rc = sqlite3_step(st);
                if (rc == SQLITE_ROW) {
                        const char *t = (const char *)sqlite3_column_text(st, 0);
                        char *copy = NULL;
                        if (ret && t && !(copy = strdup(t)))
                                r = cpod_error(err, ENOMEM, "out of memory");
                        else {
                                if (ret)
                                        *ret = copy;
                                r = 1;
                        }
                } else
                        r = rc == SQLITE_DONE ? 0 : db_fail(db, rc, err, "run a query");
        }
        db_finish(st);
        return r;
}
