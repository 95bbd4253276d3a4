/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Opening the engine: paths, the store's directories, the database. Kept to
 * a handful of system calls, since every CLI invocation pays for it.
 *
 * Every engine holds a shared flock on <root>/lock for its lifetime. Repairs
 * and resets, which delete files no row names yet (a pull in progress in
 * another process writes those), need the lock exclusively.
 */

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "db.h"
#include "engine-internal.h"
#include "util.h"

typedef enum GcState {
        GC_NONE,
        GC_SHARED,
        GC_EXCLUSIVE,
} GcState;

typedef struct EngineFull {
        struct Engine e;
        int lock_fd;
        int gc_fd; /* <root>/gc.lock, opened on first use */
        GcState gc_state;
} EngineFull;

static EngineFull *engine_full(Engine *e) {
        return (EngineFull *)((char *)e - offsetof(EngineFull, e));
}

static int path_join(const char *a, const char *b, char **ret) {
        char *p;
        if (asprintf(&p, "%s/%s", a, b) < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

static const char *home_dir(void) {
        const char *h = getenv("HOME");
        if (h && h[0] == '/')
                return h;
        struct passwd *pw = getpwuid(getuid());
        return pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
}

int engine_default_root(char **ret) {
        const char *d;
        char *p;

        if (geteuid() == 0)
                p = strdup("/var/lib/cpod");
        else if ((d = getenv("XDG_DATA_HOME")) && d[0] == '/') {
                if (path_join(d, "cpod", &p) < 0)
                        p = NULL;
        } else if ((d = home_dir())) {
                if (path_join(d, ".local/share/cpod", &p) < 0)
                        p = NULL;
        } else
                return -ENOENT;
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

int engine_default_runroot(char **ret) {
        const char *d;
        char *p;

        if (geteuid() == 0)
                p = strdup("/run/cpod");
        else if ((d = getenv("XDG_RUNTIME_DIR")) && d[0] == '/') {
                if (path_join(d, "cpod", &p) < 0)
                        p = NULL;
        } else if (asprintf(&p, "/tmp/cpod-run-%u", (unsigned)getuid()) < 0)
                p = NULL;
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

/* mkdir -p; the last component gets mode, the parents 0755. */
static int mkdir_parents(const char *path, mode_t mode, CpodError *err) {
        if (mkdir(path, mode) == 0 || errno == EEXIST)
                return 0;
        if (errno != ENOENT)
                return cpod_error_errno(err, errno, "create directory `%s`", path);

        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return cpod_error(err, ENOMEM, "out of memory");
        for (char *s = copy + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(copy, 0755) < 0 && errno != EEXIST)
                        return cpod_error_errno(err, errno, "create directory `%s`", copy);
                *s = '/';
        }
        if (mkdir(path, mode) < 0 && errno != EEXIST)
                return cpod_error_errno(err, errno, "create directory `%s`", path);
        return 0;
}

static int engine_make_dirs(Engine *e, CpodError *err) {
        static const char *const subdirs[] = {"blobs", "blobs/sha256", "layers", "tmp"};
        int r;

        r = mkdir_parents(e->root, 0700, err);
        if (r < 0)
                return r;
        e->root_fd = open(e->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (e->root_fd < 0)
                return cpod_error_errno(err, errno, "open `%s`", e->root);
        for (size_t i = 0; i < ELEMENTSOF(subdirs); i++)
                if (mkdirat(e->root_fd, subdirs[i], 0700) < 0 && errno != EEXIST)
                        return cpod_error_errno(err, errno, "create directory `%s/%s`", e->root, subdirs[i]);
        return mkdir_parents(e->runroot, 0700, err);
}

static int engine_take_lock(EngineFull *f, CpodError *err) {
        Engine *e = &f->e;
        f->lock_fd = openat(e->root_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (f->lock_fd < 0)
                return cpod_error_errno(err, errno, "open `%s/lock`", e->root);
        while (flock(f->lock_fd, LOCK_SH) < 0)
                if (errno != EINTR)
                        return cpod_error_errno(err, errno, "lock `%s/lock`", e->root);
        return 0;
}

static int dup_or_default(const char *s, int (*def)(char **), char **ret) {
        char *p = s ? strdup(s) : NULL;
        if (s && !p)
                return -ENOMEM;
        if (!s) {
                int r = def(&p);
                if (r < 0)
                        return r;
        }
        *ret = p;
        return 0;
}

int engine_open(const EngineOptions *o, Engine **ret, CpodError *err) {
        static const EngineOptions none = {};
        if (!o)
                o = &none;
        const char *driver = o->storage_driver ? o->storage_driver : "overlay";
        if (!streq(driver, "overlay") && !streq(driver, "vfs"))
                return cpod_error(err, EINVAL, "unknown storage driver `%s` (use overlay or vfs)", driver);

        _cleanup_free_ char *db_path = NULL;
        EngineFull *f = calloc(1, sizeof *f);
        if (!f)
                return cpod_error(err, ENOMEM, "out of memory");
        Engine *e = &f->e;
        e->root_fd = f->lock_fd = f->gc_fd = -1;

        int r = dup_or_default(o->root, engine_default_root, &e->root);
        if (r >= 0)
                r = dup_or_default(o->runroot, engine_default_runroot, &e->runroot);
        if (r < 0) {
                cpod_error(err, -r, "cannot determine the storage paths: %s", strerror(-r));
                goto fail;
        }
        e->storage_driver = strdup(driver);
        if (!e->storage_driver ||
            (o->registries_conf && !(e->registries_conf = strdup(o->registries_conf)))) {
                r = cpod_error(err, ENOMEM, "out of memory");
                goto fail;
        }
        r = engine_make_dirs(e, err);
        if (r < 0)
                goto fail;
        r = engine_take_lock(f, err);
        if (r < 0)
                goto fail;
        if (path_join(e->root, "cpod.db", &db_path) < 0) {
                r = cpod_error(err, ENOMEM, "out of memory");
                goto fail;
        }
        r = db_open(db_path, &e->db, err);
        if (r < 0)
                goto fail;
        /* Keep cpod.db-wal and -shm when the last connection closes: otherwise
         * every short command creates, sizes and initializes them anew (a fifth
         * of `cpod images`'s system calls). */
        int persist = 1;
        (void)sqlite3_file_control(e->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
        *ret = e;
        return 0;
fail:
        engine_close(e);
        return r;
}

Engine *engine_close(Engine *e) {
        if (!e)
                return NULL;
        EngineFull *f = engine_full(e);
        db_close(e->db);
        safe_close(f->gc_fd);
        safe_close(f->lock_fd);
        safe_close(e->root_fd);
        free(e->root);
        free(e->runroot);
        free(e->storage_driver);
        free(e->registries_conf);
        free(f);
        return NULL;
}

int engine_lock_exclusive(Engine *e, CpodError *err) {
        EngineFull *f = engine_full(e);
        if (flock(f->lock_fd, LOCK_EX | LOCK_NB) == 0)
                return 0;
        int r = errno;
        /* Converting the lock may have dropped our shared one: take it back. */
        while (flock(f->lock_fd, LOCK_SH) < 0 && errno == EINTR)
                ;
        if (r == EWOULDBLOCK)
                return cpod_error(
                        err, EBUSY,
                        "the store `%s` is in use by other cpod processes; try again when they are done",
                        e->root);
        return cpod_error_errno(err, r, "lock `%s/lock`", e->root);
}

void engine_unlock_exclusive(Engine *e) {
        EngineFull *f = engine_full(e);
        while (flock(f->lock_fd, LOCK_SH) < 0 && errno == EINTR)
                ;
}

/*
 * The garbage-collection lock. A writer's blobs and layers have no image row
 * naming them until its commit, so a collector that saw no reference could
 * delete them under it: writers hold gc.lock shared from before their first
 * existence check until their image is recorded, and collectors delete only
 * while holding it exclusively, after re-checking references. Never taken
 * while a database transaction is open (a collector waiting for the database
 * would wait for us).
 */
static int gc_flock(EngineFull *f, int op, CpodError *err) {
        Engine *e = &f->e;
        if (f->gc_fd < 0) {
                f->gc_fd = openat(e->root_fd, "gc.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (f->gc_fd < 0)
                        return cpod_error_errno(err, errno, "open `%s/gc.lock`", e->root);
        }
        while (flock(f->gc_fd, op) < 0)
                if (errno != EINTR)
                        return cpod_error_errno(err, errno, "lock `%s/gc.lock`", e->root);
        return 0;
}

int engine_gc_hold(Engine *e, CpodError *err) {
        EngineFull *f = engine_full(e);
        if (f->gc_state != GC_NONE)
                return 0;
        int r = gc_flock(f, LOCK_SH, err);
        if (r >= 0)
                f->gc_state = GC_SHARED;
        return r;
}

void engine_gc_release(Engine *e) {
        EngineFull *f = engine_full(e);
        if (f->gc_state != GC_SHARED)
                return;
        (void)flock(f->gc_fd, LOCK_UN);
        f->gc_state = GC_NONE;
}

int engine_gc_exclusive(Engine *e, CpodError *err) {
        EngineFull *f = engine_full(e);
        if (f->gc_state == GC_EXCLUSIVE)
                return 0;
        /* Converting is not atomic anyway; dropping first makes two converting holders wait in turn. */
        engine_gc_release(e);
        int r = gc_flock(f, LOCK_EX, err);
        if (r >= 0)
                f->gc_state = GC_EXCLUSIVE;
        return r;
}

void engine_gc_exclusive_end(Engine *e) {
        EngineFull *f = engine_full(e);
        if (f->gc_state != GC_EXCLUSIVE)
                return;
        (void)flock(f->gc_fd, LOCK_UN);
        f->gc_state = GC_NONE;
}

const char *engine_root(Engine *e) {
        return e->root;
}

const char *engine_runroot(Engine *e) {
        return e->runroot;
}

const char *engine_storage_driver(Engine *e) {
        return e->storage_driver;
}
