/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "engine-internal.h"
#include "engine.h"
#include "tests.h"
#include "util.h"

static char tmpdir[64];

static void tmp_setup(void) {
        if (!tmpdir[0]) {
                snprintf(tmpdir, sizeof tmpdir, "/tmp/test-db-XXXXXX");
                if (!mkdtemp(tmpdir))
                        abort();
        }
}

static char *tmp_path(const char *name) {
        char *p;
        tmp_setup();
        if (asprintf(&p, "%s/%s", tmpdir, name) < 0)
                abort();
        return p;
}

static int64_t query_int(sqlite3 *db, const char *sql) {
        sqlite3_stmt *st = NULL;
        int64_t v = -1;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
                v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return v;
}

static char *query_text(sqlite3 *db, const char *sql) {
        char *v = NULL;
        if (db_get_text(db, sql, NULL, 0, &v, NULL) <= 0)
                return NULL;
        return v;
}

TEST(open_creates_schema) {
        _cleanup_free_ char *path = tmp_path("a.db");
        CpodError err = {};
        sqlite3 *db = NULL;

        is_int(db_open(path, &db, &err), 0, "db_open creates a database");
        is_int(query_int(db, "PRAGMA user_version"), 5,
               "user_version is 5 (images, containers, volumes, pods, networks)");
        _cleanup_free_ char *mode = query_text(db, "PRAGMA journal_mode");
        is_str(mode, "wal", "journal mode is WAL");
        is_int(query_int(db, "PRAGMA foreign_keys"), 1, "foreign keys are on");
        is_int(query_int(db, "PRAGMA synchronous"), 1,
               "synchronous is NORMAL (WAL: consistent after a kill)");
        is_int(query_int(db, "PRAGMA busy_timeout"), 10000, "busy timeout is 10 s");
        is_int(query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN"
                             " ('images','image_names','image_digests','layers','image_layers','mounts','"
                             "image_blobs')"),
               7, "every table exists");
        db_close(db);

        /* A second open finds the current version and changes nothing. */
        db = NULL;
        is_int(db_open(path, &db, &err), 0, "db_open reopens");
        is_int(query_int(db, "PRAGMA user_version"), 5, "still version 5");
        db_close(db);
}

TEST(newer_schema_refused) {
        _cleanup_free_ char *path = tmp_path("new.db");
        CpodError err = {};
        sqlite3 *db = NULL;

        ok(sqlite3_open(path, &db) == SQLITE_OK, "raw open");
        sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
        sqlite3_close(db);
        db = NULL;
        is_int(db_open(path, &db, &err), -EPROTONOSUPPORT, "a newer schema is refused");
        ok(strstr(err.message, "newer") != NULL, "the message says why: %s", err.message);
        ok(db == NULL, "no handle on failure");
}

TEST(not_a_database) {
        _cleanup_free_ char *path = tmp_path("junk.db");
        CpodError err = {};
        sqlite3 *db = NULL;
        FILE *f = fopen(path, "we");
        fputs("this is not a database, not at all, and it is long enough to have a header\n", f);
        fclose(f);
        ok(db_open(path, &db, &err) < 0, "a junk file fails: %s", err.message);
        ok(err.message[0] != 0, "with a message");
}

TEST(helpers) {
        _cleanup_free_ char *path = tmp_path("h.db");
        CpodError err = {};
        sqlite3 *db = NULL;

        is_int(db_open(path, &db, &err), 0, "open");
        is_int(db_exec(db, "CREATE TABLE t(k TEXT PRIMARY KEY, v TEXT)", &err), 0, "db_exec");
        is_int(db_begin_write(db, &err), 0, "begin write");
        is_int(db_run(db, "INSERT INTO t VALUES(?1, ?2)", DB_PARAMS("a", "1"), &err), 1,
               "db_run inserts one row");
        is_int(db_run(db, "INSERT INTO t VALUES(?1, ?2)", DB_PARAMS("b", NULL), &err), 1, "NULL parameter");
        is_int(db_commit(db, &err), 0, "commit");

        char *v = NULL;
        is_int(db_get_text(db, "SELECT v FROM t WHERE k = ?1", DB_PARAMS("a"), &v, &err), 1,
               "get finds a row");
        is_str(v, "1", "value");
        free(v);
        v = (char *)"x";
        is_int(db_get_text(db, "SELECT v FROM t WHERE k = ?1", DB_PARAMS("b"), &v, &err), 1,
               "get finds NULL");
        ok(v == NULL, "SQL NULL is NULL");
        is_int(db_get_text(db, "SELECT v FROM t WHERE k = ?1", DB_PARAMS("zz"), NULL, &err), 0, "no row");

        is_int(db_run(db, "INSERT INTO t VALUES(?1, ?2)", DB_PARAMS("a", "2"), &err), -EEXIST,
               "constraint → -EEXIST");
        ok(strstr(err.message, "UNIQUE") != NULL, "message from SQLite: %s", err.message);
        sqlite3_stmt *st = NULL;
        is_int(db_prepare(db, "SELEKT nothing", &st, &err), -EIO, "bad SQL fails to prepare");
        ok(strstr(err.message, "SELEKT") != NULL, "message names the statement: %s", err.message);

        is_int(db_begin_write(db, &err), 0, "begin");
        db_run(db, "DELETE FROM t", NULL, 0, &err);
        db_rollback(db);
        is_int(query_int(db, "SELECT count(*) FROM t"), 2, "rollback undoes");
        db_rollback(db); /* harmless outside a transaction */
        db_close(db);

        is_int(db_errno(SQLITE_BUSY), -EBUSY, "BUSY");
        is_int(db_errno(SQLITE_CONSTRAINT_PRIMARYKEY), -EEXIST, "extended CONSTRAINT");
        is_int(db_errno(SQLITE_FULL), -ENOSPC, "FULL");
        is_int(db_errno(SQLITE_OK), 0, "OK");
}

TEST(cached_statements) {
        _cleanup_free_ char *path = tmp_path("cache.db");
        CpodError err = {};
        sqlite3 *db = NULL;
        sqlite3_stmt *a = NULL, *b = NULL, *c = NULL;

        is_int(db_open(path, &db, &err), 0, "open");
        is_int(db_exec(db, "CREATE TABLE t(k TEXT PRIMARY KEY, v TEXT)", &err), 0, "create");
        is_int(db_prepare_cached(db, "SELECT v FROM t WHERE k = ?1", &a, &err), 0, "prepare a cached one");
        is_int(db_prepare_cached(db, "SELECT v FROM t WHERE k = ?1", &b, &err), 0,
               "the same SQL while held");
        ok(a != b, "a held statement is not handed out twice");
        sqlite3_bind_text(a, 1, "x", -1, SQLITE_STATIC);
        is_int(sqlite3_step(a), SQLITE_DONE, "step");
        db_finish(a);
        db_finish(b);
        is_int(db_prepare_cached(db, "SELECT v FROM t WHERE k = ?1", &c, &err), 0, "again");
        ok(c == a || c == b, "a given back statement is reused");
        ok(sqlite3_bind_parameter_count(c) == 1 && !sqlite3_stmt_busy(c), "reset, ready to bind");
        db_finish(c);
        is_int(db_prepare_cached(db, "SELEKT", &c, &err), -EIO, "bad SQL fails");
        ok(strstr(err.message, "SELEKT") != NULL, "naming the statement: %s", err.message);

        /* Many distinct statements: a full cache prepares them anyway. */
        int good = 0;
        for (int i = 0; i < 40; i++) {
                char sql[64];
                snprintf(sql, sizeof sql, "SELECT %d", i);
                _cleanup_free_ char *v = NULL;
                if (db_get_text(db, sql, NULL, 0, &v, &err) == 1 && v && atoi(v) == i)
                        good++;
        }
        is_int(good, 40, "40 distinct statements run, more than the cache holds");
        is_int(db_run(db, "INSERT INTO t VALUES(?1, ?2)", DB_PARAMS("k", "v"), &err), 1, "db_run, cached");
        db_close(db);

        /* The close really closes: cached statements do not keep a zombie connection holding the file. */
        db = NULL;
        is_int(db_open(path, &db, &err), 0, "reopen");
        is_int(db_exec(db, "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT", &err), 0,
               "an exclusive lock is free after close");
        _cleanup_free_ char *v = query_text(db, "SELECT v FROM t WHERE k = 'k'");
        is_str(v, "v", "the row is there");
        db_close(db);
}

static long long file_size(const char *path) {
        struct stat st;
        return stat(path, &st) < 0 ? -1 : st.st_size;
}

static sqlite3 *open_persistent(const char *path) {
        sqlite3 *db = NULL;
        int persist = 1;
        if (db_open(path, &db, NULL) < 0)
                return NULL;
        (void)sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
        return db;
}

static void write_rows(sqlite3 *db, int n, int bytes) {
        char sql[128];
        snprintf(sql, sizeof sql, "INSERT INTO t(v) VALUES(hex(randomblob(%d)))", bytes / 2);
        for (int i = 0; i < n; i++)
                (void)db_exec(db, sql, NULL);
}

/* A close leaves a short WAL to the next writer, which appends to it without any fsync. A long one is
 * checkpointed and left with a synced header and one frame, so that the next writer does not restart
 * the log (which syncs) either. */
TEST(close_keeps_short_wal) {
        _cleanup_free_ char *path = tmp_path("prime.db");
        _cleanup_free_ char *wal = tmp_path("prime.db-wal");
        CpodError err = {};
        const long long primed = 32 + 4096 + 24;

        sqlite3 *db = open_persistent(path);
        ok(db != NULL, "open");
        is_int(db_exec(db, "CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)", &err), 0, "create");
        write_rows(db, 400, 1000);
        ok(file_size(wal) > 256 * 1024, "400 KB of rows make a long WAL (%lld bytes)", file_size(wal));
        db_close(db);
        is_int(file_size(wal), primed, "the last close checkpoints it and leaves a header and one frame");

        db = open_persistent(path);
        is_int(query_int(db, "SELECT count(*) FROM t"), 400, "the rows are there");
        db_close(db);
        is_int(file_size(wal), primed, "a reader's close leaves the WAL alone");

        db = open_persistent(path);
        write_rows(db, 5, 1000);
        long long short_wal = file_size(wal);
        ok(short_wal > primed && short_wal < 256 * 1024, "a few rows append (%lld bytes)", short_wal);
        db_close(db);
        is_int(file_size(wal), short_wal, "a short WAL is left as it is");

        db = open_persistent(path);
        is_int(query_int(db, "SELECT count(*) FROM t"), 405, "the next process sees every row");
        write_rows(db, 400, 1000);
        long long long_wal = file_size(wal);
        (void)sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
        db_close(db);
        is_int(file_size(wal), long_wal, "NO_CKPT_ON_CLOSE: no checkpoint at close, however long");

        /* Another connection inside a read transaction: the close cannot restart the WAL under it, and
         * the last close does. */
        sqlite3 *other = open_persistent(path);
        db = open_persistent(path);
        is_int(db_begin_read(other, &err), 0, "the other connection begins a read");
        is_int(query_int(other, "SELECT count(*) FROM t"), 805, "and reads");
        db_close(db);
        ok(file_size(wal) > 256 * 1024, "a reader keeps the WAL from restarting (%lld bytes)",
           file_size(wal));
        is_int(db_commit(other, &err), 0, "the read ends");
        is_int(db_exec(other, "INSERT INTO t(v) VALUES('last')", &err), 0, "the other writes");
        db_close(other);
        is_int(file_size(wal), primed, "the last close checkpoints and primes");

        db = open_persistent(path);
        is_int(query_int(db, "SELECT count(*) FROM t"), 806, "every row survived");
        _cleanup_free_ char *check = query_text(db, "PRAGMA integrity_check");
        is_str(check, "ok", "integrity_check");
        db_close(db);
}

TEST(foreign_keys_cascade) {
        _cleanup_free_ char *path = tmp_path("fk.db");
        CpodError err = {};
        sqlite3 *db = NULL;

        is_int(db_open(path, &db, &err), 0, "open");
        is_int(db_exec(db,
                       "INSERT INTO images VALUES('i1', 'sha256:x', 0, 0, NULL, 0);"
                       "INSERT INTO image_names VALUES('localhost/a:latest', 'i1');",
                       &err),
               0, "insert");
        ok(db_exec(db, "INSERT INTO image_names VALUES('localhost/b:latest', 'nope')", &err) < 0,
           "a name of a missing image is refused");
        is_int(db_exec(db, "DELETE FROM images", &err), 0, "delete the image");
        is_int(query_int(db, "SELECT count(*) FROM image_names"), 0, "its names went with it");
        db_close(db);
}

/* Several processes incrementing one counter: none may lose an update. */
TEST(concurrent_writers) {
        _cleanup_free_ char *path = tmp_path("c.db");
        CpodError err = {};
        sqlite3 *db = NULL;
        enum { PROCS = 4, ROUNDS = 25 };

        is_int(db_open(path, &db, &err), 0, "open");
        db_exec(db, "CREATE TABLE c(n INTEGER); INSERT INTO c VALUES(0)", &err);
        db_close(db);

        pid_t pids[PROCS];
        for (int i = 0; i < PROCS; i++) {
                pids[i] = fork();
                if (pids[i] == 0) {
                        sqlite3 *d = NULL;
                        if (db_open(path, &d, NULL) < 0)
                                _exit(1);
                        for (int k = 0; k < ROUNDS; k++) {
                                if (db_begin_write(d, NULL) < 0)
                                        _exit(2);
                                int64_t n = query_int(d, "SELECT n FROM c");
                                char sql[64];
                                snprintf(sql, sizeof sql, "UPDATE c SET n = %lld", (long long)n + 1);
                                if (db_exec(d, sql, NULL) < 0 || db_commit(d, NULL) < 0)
                                        _exit(3);
                        }
                        db_close(d);
                        _exit(0);
                }
        }
        int failed = 0;
        for (int i = 0; i < PROCS; i++) {
                int status = 0;
                waitpid(pids[i], &status, 0);
                failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        }
        is_int(failed, 0, "every writer succeeded");
        db = NULL;
        is_int(db_open(path, &db, &err), 0, "reopen");
        is_int(query_int(db, "SELECT n FROM c"), PROCS * ROUNDS, "no update was lost");
        db_close(db);
}

TEST(engine_open_layout) {
        _cleanup_free_ char *root = tmp_path("root"), *run = tmp_path("run");
        EngineOptions o = {.root = root, .runroot = run};
        CpodError err = {};
        Engine *e = NULL;
        struct stat st;

        is_int(engine_open(&o, &e, &err), 0, "engine_open");
        is_str(engine_root(e), root, "root");
        is_str(engine_runroot(e), run, "runroot");
        is_str(engine_storage_driver(e), "overlay", "default driver");
        ok(stat(root, &st) == 0 && (st.st_mode & 0777) == 0700, "root is mode 0700");
        for (const char *const *d = (const char *const[]){"blobs/sha256", "layers", "tmp", NULL}; *d; d++) {
                _cleanup_free_ char *p = NULL;
                asprintf(&p, "%s/%s", root, *d);
                ok(stat(p, &st) == 0 && S_ISDIR(st.st_mode), "%s exists", *d);
        }
        _cleanup_free_ char *dbp = NULL;
        asprintf(&dbp, "%s/cpod.db", root);
        ok(access(dbp, F_OK) == 0, "cpod.db exists");
        ok(e->db != NULL, "database open");

        is_int(engine_lock_exclusive(e, &err), 0, "alone: exclusive lock");
        engine_unlock_exclusive(e);
        Engine *e2 = NULL;
        is_int(engine_open(&o, &e2, &err), 0, "a second engine on the same store");
        is_int(engine_lock_exclusive(e, &err), -EBUSY, "not exclusive while another engine is open");
        ok(strstr(err.message, "in use") != NULL, "message: %s", err.message);
        engine_close(e2);
        is_int(engine_lock_exclusive(e, &err), 0, "exclusive again");
        engine_unlock_exclusive(e);
        ok(engine_close(e) == NULL, "engine_close returns NULL");
        ok(engine_close(NULL) == NULL, "engine_close(NULL)");

        o.storage_driver = "zfs";
        is_int(engine_open(&o, &e, &err), -EINVAL, "unknown driver");
        ok(strstr(err.message, "zfs") != NULL, "message names it: %s", err.message);
}

TEST(default_paths) {
        char *p = NULL;
        if (geteuid() == 0) {
                is_int(engine_default_root(&p), 0, "default root");
                is_str(p, "/var/lib/cpod", "root's root");
                free(p);
                is_int(engine_default_runroot(&p), 0, "default runroot");
                is_str(p, "/run/cpod", "root's runroot");
                free(p);
        } else {
                setenv("XDG_DATA_HOME", "/xdg/data", 1);
                setenv("XDG_RUNTIME_DIR", "/xdg/run", 1);
                is_int(engine_default_root(&p), 0, "default root");
                is_str(p, "/xdg/data/cpod", "rootless root");
                free(p);
                is_int(engine_default_runroot(&p), 0, "default runroot");
                is_str(p, "/xdg/run/cpod", "rootless runroot");
                free(p);
        }
}

static void cleanup(void) {
        if (tmpdir[0]) {
                char cmd[128];
                snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
                if (system(cmd) != 0)
                        diag("could not remove %s", tmpdir);
        }
}

int main(void) {
        int r = run_tests();
        cleanup();
        return r;
}
