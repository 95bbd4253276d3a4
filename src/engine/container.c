/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Containers: rows, names, creation (the OCI spec and the files next to
 * it), lookup with state sync, rename and removal. Inspect is in
 * container-inspect.c, the check that `cpod system check` runs in
 * container-check.c.
 */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "container-internal.h"
#include "db.h"
#include "engine-internal.h"
#include "layer.h"
#include "network.h"
#include "pod.h"
#include "volume.h"
#include "util.h"

#define CONTAINER_COLUMNS                                                                                   \
        "id, name, image_id, image_name, command, created, state, exit_code, pid, conmon_pid, started_at, " \
        "finished_at, restart_count, runtime, pod_id, config"

static const char *const state_names[] = {
        [CONTAINER_CONFIGURED] = "configured", [CONTAINER_CREATED] = "created",
        [CONTAINER_RUNNING] = "running",       [CONTAINER_PAUSED] = "paused",
        [CONTAINER_STOPPED] = "stopped",       [CONTAINER_EXITED] = "exited",
        [CONTAINER_REMOVING] = "removing",     [CONTAINER_UNKNOWN] = "unknown",
};

const char *container_state_name(ContainerState s) {
        return (unsigned)s < ELEMENTSOF(state_names) ? state_names[s] : "unknown";
}

void container_done(Container *c) {
        if (!c)
                return;
        free(c->name);
        free(c->image_name);
        ctr_strv_free(c->command);
        free(c->runtime);
        ctr_strv_free(c->labels);
        free(c->pod_id);
        free(c->spec_path);
        *c = (Container){};
}

void container_array_free(Container *c, size_t n) {
        for (size_t i = 0; c && i < n; i++)
                container_done(&c[i]);
        free(c);
}

int64_t ctr_now_nsec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void ctr_format_rfc3339nano(int64_t ns, char *buf, size_t size) {
        time_t t = (time_t)(ns / 1000000000);
        struct tm tm;
        char base[32];
        gmtime_r(&t, &tm);
        strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, size, "%s.%09lldZ", base, (long long)(ns % 1000000000));
}

int ctr_oom(CpodError *err) {
        return cpod_error(err, ENOMEM, "out of memory");
}

char *container_path(Engine *e, const char *id, const char *name) {
        char *p = NULL;
        if (asprintf(&p, "%s/containers/%s%s%s", e->root, id, name ? "/" : "", name ? name : "") < 0)
                return NULL;
        return p;
}

char *container_run_path(Engine *e, const char *id, const char *name) {
        char *p = NULL;
        if (asprintf(&p, "%s/containers/%s%s%s", e->runroot, id, name ? "/" : "", name ? name : "") < 0)
                return NULL;
        return p;
}

static int mkdir_parents(const char *path, mode_t mode) {
        char buf[4200];
        if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
                return -ENAMETOOLONG;
        for (char *p = buf + 1; *p; p++)
                if (*p == '/') {
                        *p = 0;
                        if (mkdir(buf, 0700) < 0 && errno != EEXIST)
                                return -errno;
                        *p = '/';
                }
        return mkdir(buf, mode) < 0 && errno != EEXIST ? -errno : 0;
}

int container_lock(Engine *e, const char *id, int *ret_fd, CpodError *err) {
        char path[4200];
        snprintf(path, sizeof path, "%s/locks", e->runroot);
        (void)mkdir(path, 0700);
        snprintf(path, sizeof path, "%s/locks/%s", e->runroot, id);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return cpod_error_errno(err, errno, "open lock `%s`", path);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR) {
                        int k = errno;
                        close(fd);
                        return cpod_error_errno(err, k, "lock `%s`", path);
                }
        *ret_fd = fd;
        return 0;
}

void container_unlock(int fd) {
        safe_close(fd);
}

/* ---- rows ---- */

static int strv_from_json_text(const char *text, char ***ret, size_t *ret_n) {
        _cleanup_(vl_json_unrefp) VlJson *a = NULL;
        VlJson *x;
        *ret = NULL;
        *ret_n = 0;
        if (!text || vl_json_parse(text, strlen(text), NULL, &a, NULL) < 0)
                return 0;
        VL_JSON_FOREACH_ELEMENT (x, a) {
                if (vl_json_get_string(x) && ctr_strv_push(ret, ret_n, vl_json_get_string(x)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static char *dup_col(sqlite3_stmt *st, int i) {
        const char *s = (const char *)sqlite3_column_text(st, i);
        return s ? strdup(s) : NULL;
}

static int row_config(Container *c, const char *text) {
        _cleanup_(vl_json_unrefp) VlJson *cfg = NULL;
        if (!text || vl_json_parse(text, strlen(text), NULL, &cfg, NULL) < 0)
                return 0;
        const VlJson *conf = vl_json_object_get(cfg, "Config"),
                     *host = vl_json_object_get(cfg, "HostConfig");
        const char *k;
        VlJson *v;
        c->tty = vl_json_get_bool(vl_json_object_get(conf, "Tty"));
        c->interactive = vl_json_get_bool(vl_json_object_get(conf, "OpenStdin"));
        c->rm = vl_json_get_bool(vl_json_object_get(host, "AutoRemove"));
        VL_JSON_FOREACH_MEMBER (k, v, vl_json_object_get(conf, "Labels")) {
                _cleanup_free_ char *kv = NULL;
                if (asprintf(&kv, "%s=%s", k, vl_json_get_string(v) ?: "") < 0 ||
                    ctr_strv_push(&c->labels, &c->n_labels, kv) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int row_read(Engine *e, sqlite3_stmt *st, Container *ret) {
        Container c = {};
        const char *s;
        int r = 0;
        snprintf(c.id, sizeof c.id, "%s", (const char *)sqlite3_column_text(st, 0) ?: "");
        c.name = dup_col(st, 1);
        snprintf(c.image_id, sizeof c.image_id, "%s", (const char *)sqlite3_column_text(st, 2) ?: "");
        c.image_name = dup_col(st, 3);
        r = strv_from_json_text((const char *)sqlite3_column_text(st, 4), &c.command, &c.n_command);
        c.created = sqlite3_column_int64(st, 5);
        c.state = (ContainerState)sqlite3_column_int(st, 6);
        c.exit_code = sqlite3_column_int(st, 7);
        c.pid = (pid_t)sqlite3_column_int(st, 8);
        c.conmon_pid = (pid_t)sqlite3_column_int(st, 9);
        c.started_at = sqlite3_column_int64(st, 10);
        c.finished_at = sqlite3_column_int64(st, 11);
        c.restart_count = sqlite3_column_int(st, 12);
        c.runtime = dup_col(st, 13);
        c.pod_id = dup_col(st, 14);
        s = (const char *)sqlite3_column_text(st, 15);
        if (r >= 0)
                r = row_config(&c, s);
        c.spec_path = container_path(e, c.id, "config.json");
        if (r < 0 || !c.name || !c.image_name || !c.runtime || !c.spec_path) {
                container_done(&c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

int container_load_row(Engine *e, const char *id, Container *ret, CpodError *err) {
        sqlite3_stmt *st = NULL;
        int r = db_prepare_cached(e->db, "SELECT " CONTAINER_COLUMNS " FROM containers WHERE id = ?1", &st,
                                  err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                r = row_read(e, st, ret) < 0 ? ctr_oom(err) : 0;
        else if (rc == SQLITE_DONE)
                r = cpod_error(err, ENOENT, "no such container %s", id);
        else
                r = cpod_error(err, -db_errno(rc), "read container %s: %s", id, sqlite3_errmsg(e->db));
        db_finish(st);
        return r;
}

int container_load_config(Engine *e, const char *id, VlJson **ret, CpodError *err) {
        _cleanup_free_ char *text = NULL;
        int r = db_get_text(e->db, "SELECT config FROM containers WHERE id = ?1", DB_PARAMS(id), &text, err);
        if (r < 0)
                return r;
        if (r == 0 || !text)
                return cpod_error(err, ENOENT, "no such container %s", id);
        if (vl_json_parse(text, strlen(text), NULL, ret, NULL) < 0)
                return cpod_error(err, EUCLEAN, "container %s: stored configuration is corrupt", id);
        return 0;
}

static bool is_hex_prefix(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 64)
                return false;
        for (; *s; s++)
                if (!isxdigit((unsigned char)*s) || isupper((unsigned char)*s))
                        return false;
        return true;
}

int container_resolve(Engine *e, const char *ref, char ret_id[65], CpodError *err) {
        _cleanup_free_ char *id = NULL;
        int r;
        if (!ref || !*ref)
                return cpod_error(err, EINVAL, "no container name or ID given");
        r = db_get_text(e->db, "SELECT id FROM containers WHERE name = ?1 OR id = ?1", DB_PARAMS(ref), &id,
                        err);
        if (r < 0)
                return r;
        if (r == 0 && is_hex_prefix(ref)) {
                sqlite3_stmt *st = NULL;
                r = db_prepare(e->db,
                               "SELECT id FROM containers WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2", &st,
                               err);
                if (r < 0)
                        return r;
                sqlite3_bind_text(st, 1, ref, -1, SQLITE_TRANSIENT);
                int n = 0;
                while (sqlite3_step(st) == SQLITE_ROW && n < 2) {
                        if (n++ == 0)
                                snprintf(ret_id, 65, "%s", (const char *)sqlite3_column_text(st, 0));
                }
                sqlite3_finalize(st);
                if (n > 1)
                        return cpod_error(err, ENOTUNIQ, "more than one container matches the prefix %s",
                                          ref);
                if (n == 1)
                        return 0;
        }
        if (r == 0 || !id)
                return cpod_error(err, ENOENT,
                                  "no container with name or ID \"%s\" found: no such container", ref);
        snprintf(ret_id, 65, "%s", id);
        return 0;
}

int container_save_state(Engine *e, const Container *c, CpodError *err) {
        char state[16], code[16], pid[16], cpid[16], started[24], finished[24], restarts[16];
        snprintf(state, sizeof state, "%d", (int)c->state);
        snprintf(code, sizeof code, "%d", c->exit_code);
        snprintf(pid, sizeof pid, "%d", (int)c->pid);
        snprintf(cpid, sizeof cpid, "%d", (int)c->conmon_pid);
        snprintf(started, sizeof started, "%lld", (long long)c->started_at);
        snprintf(finished, sizeof finished, "%lld", (long long)c->finished_at);
        snprintf(restarts, sizeof restarts, "%d", c->restart_count);
        int r = db_run(e->db,
                       "UPDATE containers SET state = ?2, exit_code = ?3, pid = ?4, conmon_pid = ?5, "
                       "started_at = ?6, finished_at = ?7, restart_count = ?8 WHERE id = ?1",
                       DB_PARAMS(c->id, state, code, pid, cpid, started, finished, restarts), err);
        return r < 0 ? cpod_error_wrap(err, "save the state of container %s", c->id) : 0;
}

/* Read <runroot>/containers/<id>/exit/<id>: 1 with the code and the file's mtime, 0 when absent. */
static int read_exit_file(Engine *e, const char *id, int *ret_code, int64_t *ret_time) {
        char path[4200], buf[32];
        snprintf(path, sizeof path, "%s/containers/%s/exit/%s", e->runroot, id, id);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0 || fstat(fd, &st) < 0)
                return 0; /* conmon creates the file, then writes: not complete yet */
        buf[n] = 0;
        *ret_code = atoi(buf);
        *ret_time = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        return 1;
}

int container_read_exit(Engine *e, const char *id, int *ret_code, int64_t *ret_time) {
        return read_exit_file(e, id, ret_code, ret_time);
}

static pid_t read_pid_file(Engine *e, const char *id, const char *name) {
        char path[4200], buf[32];
        snprintf(path, sizeof path, "%s/containers/%s/%s", e->runroot, id, name);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return 0;
        buf[n] = 0;
        return (pid_t)atoi(buf);
}

/* Correct c's state from conmon and the exit file, in memory; true when it changed. */
static bool sync_state(Engine *e, Container *c) {
        Container old = *c;
        int code;
        int64_t when;

        if (c->state == CONTAINER_CONFIGURED) {
                /* a cpod killed between spawning conmon and saving the state */
                pid_t cp = read_pid_file(e, c->id, "conmon.pid");
                if (cp > 0 && runtime_pid_alive(cp)) {
                        c->conmon_pid = cp;
                        c->pid = read_pid_file(e, c->id, "pidfile");
                        c->state = CONTAINER_CREATED;
                        /* the create is over (pid file) and its exec.fifo gone: it was started too */
                        char fifo[4300];
                        snprintf(fifo, sizeof fifo, "%s/runtime/%s/exec.fifo", e->runroot, c->id);
                        if (c->pid > 0 && runtime_pid_alive(c->pid) && access(fifo, F_OK) < 0) {
                                c->state = CONTAINER_RUNNING;
                                c->started_at = c->started_at ?: ctr_now_nsec();
                        }
                }
        }
        if (c->state != CONTAINER_RUNNING && c->state != CONTAINER_PAUSED && c->state != CONTAINER_CREATED &&
            c->state != CONTAINER_CONFIGURED)
                return c->state != old.state;
        if (read_exit_file(e, c->id, &code, &when) > 0) {
                c->state = CONTAINER_EXITED;
                c->exit_code = code;
                c->finished_at = when;
                c->pid = 0;
        } else if (c->state != CONTAINER_CONFIGURED && !runtime_pid_alive(c->conmon_pid) &&
                   !runtime_pid_alive(c->pid)) {
                /* conmon and the container are gone without an exit file */
                c->state = CONTAINER_EXITED;
                c->exit_code = -1;
                c->finished_at = ctr_now_nsec();
                c->pid = 0;
        }
        return c->state != old.state || c->exit_code != old.exit_code;
}

int container_sync(Engine *e, Container *c, CpodError *err) {
        return sync_state(e, c) ? container_save_state(e, c, err) : 0;
}

int container_get(Engine *e, const char *ref, Container *ret, CpodError *err) {
        char id[65];
        int r = container_resolve(e, ref, id, err);
        if (r < 0)
                return r;
        r = container_load_row(e, id, ret, err);
        if (r < 0)
                return r;
        r = container_sync(e, ret, err);
        if (r < 0)
                container_done(ret);
        return r;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in <runroot>/containers, sorted (none when it does not exist). */
static int run_dirs(Engine *e, char ***ret, size_t *ret_n) {
        _cleanup_free_ char *path = NULL;
        char **v = NULL;
        size_t n = 0;
        if (asprintf(&path, "%s/containers", e->runroot) < 0)
                return -ENOMEM;
        DIR *d = opendir(path);
        if (!d) {
                *ret = NULL;
                *ret_n = 0;
                return errno == ENOENT ? 0 : -errno;
        }
        struct dirent *de;
        int r = 0;
        while (r >= 0 && (de = readdir(d)))
                if (de->d_name[0] != '.')
                        r = ctr_strv_push(&v, &n, de->d_name);
        closedir(d);
        if (r < 0) {
                ctr_strv_free(v);
                return r;
        }
        if (n > 0)
                qsort(v, n, sizeof(char *), cmp_str);
        *ret = v;
        *ret_n = n;
        return 0;
}

int container_list(Engine *e, bool all, Container **ret, size_t *ret_n, CpodError *err) {
        sqlite3_stmt *st = NULL;
        Container *v = NULL;
        size_t n = 0, cap = 0;
        int r = db_prepare(e->db,
                           "SELECT " CONTAINER_COLUMNS " FROM containers ORDER BY created DESC, rowid DESC",
                           &st, err);
        if (r < 0)
                return r;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (VL_GROW(v, cap, n + 1) < 0 || row_read(e, st, &v[n]) < 0) {
                        r = ctr_oom(err);
                        break;
                }
                n++;
        }
        if (r >= 0 && rc != SQLITE_DONE)
                r = cpod_error(err, -db_errno(rc), "list containers: %s", sqlite3_errmsg(e->db));
        sqlite3_finalize(st);
        /* Only containers that were started can have changed state behind our back: a configured one
         * without a run directory (never started) needs no look at conmon's files. One directory read
         * instead of two failed opens per container. */
        char **started = NULL;
        size_t n_started = 0;
        bool have_started = r >= 0 && run_dirs(e, &started, &n_started) >= 0;
        for (size_t i = 0; r >= 0 && i < n; i++)
                if (!have_started || v[i].state != CONTAINER_CONFIGURED ||
                    bsearch(&(const char *){v[i].id}, started, n_started, sizeof(char *), cmp_str))
                        r = container_sync(e, &v[i], err);
        ctr_strv_free(started);
        if (r < 0) {
                container_array_free(v, n);
                return r;
        }
        if (!all) {
                size_t k = 0;
                for (size_t i = 0; i < n; i++) {
                        if (v[i].state == CONTAINER_RUNNING || v[i].state == CONTAINER_PAUSED)
                                v[k++] = v[i];
                        else
                                container_done(&v[i]);
                }
                n = k;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* ---- rootfs ---- */

bool ctr_path_is_mount(const char *path) {
        char parent[4200];
        struct stat a, b;
        snprintf(parent, sizeof parent, "%s/..", path);
        return stat(path, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
}

static int overlay_options(Engine *e, const Image *img, const char *id, char **ret, CpodError *err) {
        VlBuf b = VL_BUF_INIT;
        int r = vl_buf_append_str(&b, "lowerdir=");
        for (size_t i = img->n_layers; r >= 0 && i-- > 0;) {
                _cleanup_free_ char *diff = NULL;
                if (layer_diff_path(e, img->layers[i], &diff) < 0) {
                        vl_buf_free(&b);
                        return cpod_error(err, EINVAL, "invalid layer id `%s`", img->layers[i]);
                }
                r = vl_buf_append_str(&b, diff);
                if (r >= 0 && i > 0)
                        r = vl_buf_append_char(&b, ':');
        }
        if (r >= 0 && img->n_layers == 0) {
                _cleanup_free_ char *empty = container_path(e, id, "empty");
                r = empty ? vl_buf_append_str(&b, empty) : -ENOMEM;
        }
        _cleanup_free_ char *upper = container_path(e, id, "upper"), *work = container_path(e, id, "work");
        if (r >= 0 && upper && work) {
                r = vl_buf_append_str(&b, ",upperdir=");
                r = r < 0 ? r : vl_buf_append_str(&b, upper);
                r = r < 0 ? r : vl_buf_append_str(&b, ",workdir=");
                r = r < 0 ? r : vl_buf_append_str(&b, work);
                r = r < 0 ? r : vl_buf_append_char(&b, 0);
        } else
                r = -ENOMEM;
        if (r < 0) {
                vl_buf_free(&b);
                return ctr_oom(err);
        }
        if (b.len >= (size_t)sysconf(_SC_PAGESIZE)) {
                vl_buf_free(&b);
                return cpod_error(err, E2BIG, "image has too many layers for one overlay mount (%zu)",
                                  img->n_layers);
        }
        *ret = b.data;
        return 0;
}

int container_mount_rootfs(Engine *e, const Container *c, CpodError *err) {
        _cleanup_free_ char *merged = container_run_path(e, c->id, "merged"), *opts = NULL;
        Image img = {};
        if (!merged)
                return ctr_oom(err);
        int r = mkdir_parents(merged, 0755);
        if (r < 0)
                return cpod_error_errno(err, -r, "create `%s`", merged);
        if (ctr_path_is_mount(merged))
                return 0;
        char ref[72]; /* "sha256:" makes it an ID: no short-name resolution (registries.conf parsed) */
        snprintf(ref, sizeof ref, "sha256:%s", c->image_id);
        r = image_get(e, ref, &img, err);
        if (r < 0)
                return cpod_error_wrap(err, "image of container %s", c->id);
        r = overlay_options(e, &img, c->id, &opts, err);
        image_done(&img);
        if (r < 0)
                return r;
        /* A --rm container's upper layer dies with it: mount it "volatile", so the unmount does not sync
         * the whole file system under it (0.5-6 ms here). overlayfs refuses any later mount while the
         * marker of a volatile one is left in the work dir: remove it first (the container has not run
         * since, or its upper layer is thrown away anyway). */
        _cleanup_free_ char *work = container_path(e, c->id, "work");
        if (work) {
                char p[4200];
                snprintf(p, sizeof p, "%s/work/incompat/volatile/dirty", work);
                if (unlink(p) == 0 || errno == EISDIR)
                        (void)rmdir(p);
                snprintf(p, sizeof p, "%s/work/incompat/volatile", work);
                (void)rmdir(p);
        }
        if (c->rm) {
                _cleanup_free_ char *v = NULL;
                if (asprintf(&v, "%s,volatile", opts) >= 0 && mount("overlay", merged, "overlay", 0, v) == 0)
                        return 0;
        }
        if (mount("overlay", merged, "overlay", 0, opts) < 0)
                return cpod_error_errno(err, errno, "mount the root filesystem of container %s on `%s`",
                                        c->id, merged);
        return 0;
}

int container_unmount_rootfs(Engine *e, const char *id, CpodError *err) {
        _cleanup_free_ char *merged = container_run_path(e, id, "merged");
        if (!merged)
                return ctr_oom(err);
        if (!ctr_path_is_mount(merged))
                return 0;
        if (umount2(merged, 0) < 0) {
                int k = errno;
                if (k == EBUSY && umount2(merged, MNT_DETACH) == 0)
                        return 0;
                if (k != EINVAL && k != ENOENT)
                        return cpod_error_errno(err, k, "unmount `%s`", merged);
        }
        return 0;
}

/* ---- create ---- */

static const char *const name_left[] = {
        "admiring", "agile",    "amazing",  "bold",      "brave",      "busy",     "calm",    "clever",
        "cool",     "crazy",    "eager",    "elated",    "epic",       "fervent",  "festive", "focused",
        "gallant",  "gifted",   "happy",    "hungry",    "jolly",      "keen",     "kind",    "lucid",
        "magical",  "modest",   "nifty",    "nostalgic", "optimistic", "peaceful", "quirky",  "relaxed",
        "serene",   "sharp",    "stoic",    "sweet",     "tender",     "trusting", "upbeat",  "vibrant",
        "vigilant", "wizardly", "youthful", "zealous",
};
static const char *const name_right[] = {
        "albattani", "babbage",  "bell",     "bohr",    "curie",    "darwin",  "dijkstra",
        "einstein",  "euler",    "fermat",   "feynman", "galileo",  "gauss",   "hopper",
        "hypatia",   "kepler",   "knuth",    "lamarr",  "lovelace", "maxwell", "meitner",
        "newton",    "noether",  "pascal",   "pasteur", "planck",   "ritchie", "shannon",
        "tesla",     "thompson", "torvalds", "turing",  "wozniak",  "yalow",
};

static bool name_valid(const char *s) {
        if (!s || !isalnum((unsigned char)*s) || strlen(s) > 255)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
                        return false;
        return true;
}

static int random_id(char ret[65]) {
        uint8_t b[32];
        if (getrandom(b, sizeof b, 0) != sizeof b)
                return -errno;
        for (size_t i = 0; i < 32; i++)
                snprintf(ret + 2 * i, 3, "%02x", b[i]);
        return 0;
}

static int generate_name(Engine *e, char *buf, size_t size) {
        for (int attempt = 0; attempt < 64; attempt++) {
                uint32_t rnd[2];
                if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
                        return -errno;
                snprintf(buf, size, "%s_%s", name_left[rnd[0] % ELEMENTSOF(name_left)],
                         name_right[rnd[1] % ELEMENTSOF(name_right)]);
                if (attempt >= 8)
                        snprintf(buf + strlen(buf), size - strlen(buf), "%u", rnd[0] % 1000);
                int r = db_get_text(e->db, "SELECT 1 FROM containers WHERE name = ?1", DB_PARAMS(buf), NULL,
                                    NULL);
                if (r == 0)
                        return 0;
        }
        return -EEXIST;
}

/* A file of a container being created, in its new directory: no temporary name and rename, no fsync.
 * Nothing refers to the directory until the container's row is committed, after every file is
 * written; a create killed before that leaves a directory without a row, which `system check`
 * removes. */
static int write_new_file(const char *path, const char *data, size_t len, CpodError *err) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return cpod_error_errno(err, errno, "create `%s`", path);
        for (size_t off = 0; off < len;) {
                ssize_t n = write(fd, data + off, len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        int k = n < 0 ? errno : EIO;
                        unlink(path);
                        return cpod_error_errno(err, k, "write `%s`", path);
                }
                off += (size_t)n;
        }
        return 0;
}

static int write_text(const char *dir, const char *name, const char *text, CpodError *err) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        return write_new_file(path, text, strlen(text), err);
}

/* /etc/hosts, /etc/resolv.conf (the host's without loopback resolvers, unless on the host network),
 * /etc/hostname. */
static int write_userdata(const char *dir, const char *hostname, const char *name, bool host_net,
                          CpodError *err) {
        VlBuf b = VL_BUF_INIT;
        char line[1024];
        int r = 0;
        FILE *f = fopen(host_net ? "/etc/hosts" : "/dev/null", "re");
        if (!host_net)
                r = vl_buf_append_str(&b, "127.0.0.1\tlocalhost localhost.localdomain\n"
                                          "::1\tlocalhost localhost.localdomain\n");
        while (f && r >= 0 && fgets(line, sizeof line, f))
                r = vl_buf_append_str(&b, line);
        if (f)
                fclose(f);
        snprintf(line, sizeof line, "127.0.1.1\t%s %s\n", hostname, name);
        r = r < 0 ? r : vl_buf_append_str(&b, line);
        r = r < 0 ? r : vl_buf_append_char(&b, 0);
        if (r < 0) {
                vl_buf_free(&b);
                return ctr_oom(err);
        }
        r = write_text(dir, "hosts", b.data, err);
        vl_buf_clear(&b);
        f = fopen("/etc/resolv.conf", "re");
        while (f && r >= 0 && fgets(line, sizeof line, f)) {
                char ns[256];
                if (!host_net && sscanf(line, " nameserver %255s", ns) == 1 &&
                    (startswith(ns, "127.") || streq(ns, "::1")))
                        continue;
                r = vl_buf_append_str(&b, line);
        }
        if (f)
                fclose(f);
        r = r < 0 ? ctr_oom(err) : vl_buf_append_char(&b, 0) < 0 ? ctr_oom(err) : 0;
        if (r >= 0)
                r = write_text(dir, "resolv.conf", b.data, err);
        vl_buf_free(&b);
        snprintf(line, sizeof line, "%s\n", hostname);
        return r < 0 ? r : write_text(dir, "hostname", line, err);
}

/* The top-most layer holding etc/passwd (and etc/group) names the users. */
static int image_user(Engine *e, const Image *img, const char *user, SpecUser *ret, CpodError *err) {
        _cleanup_free_ char *passwd = NULL, *group = NULL;
        for (size_t i = img->n_layers; i-- > 0 && (!passwd || !group);) {
                _cleanup_free_ char *diff = NULL;
                char p[4200];
                if (layer_diff_path(e, img->layers[i], &diff) < 0)
                        continue;
                snprintf(p, sizeof p, "%s/etc/passwd", diff);
                if (!passwd && access(p, F_OK) == 0 && !(passwd = strdup(p)))
                        return ctr_oom(err);
                snprintf(p, sizeof p, "%s/etc/group", diff);
                if (!group && access(p, F_OK) == 0 && !(group = strdup(p)))
                        return ctr_oom(err);
        }
        return spec_resolve_user_files(passwd, group, user, ret, err);
}

static const char *first_existing(const char *const *paths, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (access(paths[i], F_OK) == 0)
                        return paths[i];
        return NULL;
}

static const char *seccomp_default_path(void) {
        static const char *const p[] = {"/etc/containers/seccomp.json",
                                        "/usr/share/containers/seccomp.json"};
        return first_existing(p, ELEMENTSOF(p));
}

static const char *init_default_path(void) {
        static const char *const p[] = {"/usr/libexec/podman/catatonit", "/usr/bin/catatonit",
                                        "/usr/libexec/catatonit/catatonit"};
        return first_existing(p, ELEMENTSOF(p));
}

static uint64_t hard_limit(int resource) {
        struct rlimit rl;
        if (getrlimit(resource, &rl) < 0 || rl.rlim_max == RLIM_INFINITY)
                return UINT64_MAX;
        return rl.rlim_max;
}

/* The network namespace to join for container:ID and ns:PATH (malloc'ed, NULL for none). */
static int network_namespace(Engine *e, const char *network, char **ret, CpodError *err) {
        const char *v;
        *ret = NULL;
        if (!network)
                return 0;
        if ((v = startswith(network, "ns:"))) {
                *ret = strdup(v);
                return *ret ? 0 : ctr_oom(err);
        }
        if (!(v = startswith(network, "container:")))
                return 0;
        Container other = {};
        int r = container_get(e, v, &other, err);
        if (r < 0)
                return r;
        if (other.state != CONTAINER_RUNNING && other.state != CONTAINER_PAUSED)
                r = cpod_error(err, EINVAL, "container %s is not running: cannot join its network namespace",
                               v);
        else if (asprintf(ret, "/proc/%d/ns/net", (int)other.pid) < 0)
                r = ctr_oom(err);
        container_done(&other);
        return r;
}

VlJson *ctr_strv_json(char *const *v, size_t n) {
        VlJson *a = vl_json_new_array();
        for (size_t i = 0; a && i < n; i++)
                if (vl_json_array_append(a, vl_json_new_string(v[i])) < 0)
                        a = vl_json_unref(a);
        return a;
}

static VlJson *kv_object(char *const *v, size_t n) {
        VlJson *o = vl_json_new_object();
        for (size_t i = 0; o && i < n; i++) {
                const char *eq = strchr(v[i], '=');
                _cleanup_free_ char *k = strndup(v[i], eq ? (size_t)(eq - v[i]) : strlen(v[i]));
                if (!k || vl_json_object_set_string(o, k, eq ? eq + 1 : "") < 0)
                        o = vl_json_unref(o);
        }
        return o;
}

static VlJson *restart_policy(const char *restart) {
        VlJson *o = vl_json_new_object();
        char name[32] = "";
        int max = 0;
        if (restart && *restart)
                sscanf(restart, "%31[^:]:%d", name, &max);
        if (o && (vl_json_object_set_string(o, "Name", streq(name, "no") ? "" : name) < 0 ||
                  vl_json_object_set_int(o, "MaximumRetryCount", max) < 0))
                o = vl_json_unref(o);
        return o;
}

static VlJson *mounts_json(const ContainerCreateOptions *o, bool tmpfs) {
        VlJson *a = tmpfs ? vl_json_new_object() : vl_json_new_array();
        for (size_t i = 0; a && i < o->n_mounts; i++) {
                const ContainerMount *m = &o->mounts[i];
                bool is_tmpfs = m->type && streq(m->type, "tmpfs");
                if (is_tmpfs != tmpfs)
                        continue;
                VlBuf b = VL_BUF_INIT;
                int r = tmpfs ? 0 : vl_buf_append_str(&b, m->source ? m->source : "");
                r = r < 0 || tmpfs ? r : vl_buf_append_char(&b, ':');
                r = r < 0 || tmpfs ? r : vl_buf_append_str(&b, m->destination);
                for (size_t k = 0; r >= 0 && k < m->n_options; k++) {
                        r = (k > 0 || !tmpfs) ? vl_buf_append_char(&b, k > 0 ? ',' : ':') : 0;
                        r = r < 0 ? r : vl_buf_append_str(&b, m->options[k]);
                }
                r = r < 0 ? r : vl_buf_append_char(&b, 0);
                if (r >= 0)
                        r = tmpfs ? vl_json_object_set_string(a, m->destination, b.data)
                                  : vl_json_array_append(a, vl_json_new_string(b.data));
                vl_buf_free(&b);
                if (r < 0)
                        a = vl_json_unref(a);
        }
        return a;
}

static VlJson *ulimits_json(const ContainerCreateOptions *o) {
        VlJson *a = vl_json_new_array();
        for (size_t i = 0; a && i < o->n_ulimits; i++) {
                char name[32];
                long long soft = 0, hard = 0;
                int k = sscanf(o->ulimits[i], "%31[^=]=%lld:%lld", name, &soft, &hard);
                VlJson *u = vl_json_new_object();
                if (!u || vl_json_object_set_string(u, "Name", k >= 1 ? name : o->ulimits[i]) < 0 ||
                    vl_json_object_set_int(u, "Soft", soft) < 0 ||
                    vl_json_object_set_int(u, "Hard", k >= 3 ? hard : soft) < 0 ||
                    vl_json_array_append(a, u) < 0)
                        a = vl_json_unref(a);
        }
        return a;
}

/* What inspect reports of the create options (stored as the config column). */
static int config_json(const ContainerCreateOptions *o, const char *image_name, const char *hostname,
                       const char *user, char *const *env, size_t n_env, const VlJson *image_config,
                       VlJson **ret) {
        _cleanup_(vl_json_unrefp) VlJson *all = vl_json_new_object();
        VlJson *c = vl_json_new_object(), *h = vl_json_new_object(), *lc = vl_json_new_object();
        const VlJson *icmd = vl_json_object_get(image_config, "Cmd"),
                     *iep = vl_json_object_get(image_config, "Entrypoint");
        const char *workdir =
                o->workdir ?: vl_json_get_string(vl_json_object_get(image_config, "WorkingDir"));
        const char *stop =
                o->stop_signal ?: vl_json_get_string(vl_json_object_get(image_config, "StopSignal"));
        int r = all && c && h && lc ? 0 : -ENOMEM;
        r = r < 0 ? r : vl_json_object_set_string(c, "Hostname", hostname);
        r = r < 0 ? r : vl_json_object_set_string(c, "User", user ?: "");
        r = r < 0 ? r : vl_json_object_set(c, "Env", ctr_strv_json(env, n_env));
        r = r < 0 ? r
                  : vl_json_object_set(c, "Cmd",
                                       o->n_command        ? ctr_strv_json(o->command, o->n_command)
                                       : o->entrypoint_set ? vl_json_new_array()
                                       : icmd              ? vl_json_copy(icmd)
                                                           : vl_json_null());
        r = r < 0 ? r : vl_json_object_set_string(c, "Image", image_name);
        r = r < 0 ? r : vl_json_object_set_string(c, "WorkingDir", workdir && *workdir ? workdir : "/");
        r = r < 0 ? r
                  : vl_json_object_set(c, "Entrypoint",
                                       o->entrypoint_set ? ctr_strv_json(o->entrypoint, o->n_entrypoint)
                                       : iep             ? vl_json_copy(iep)
                                                         : vl_json_new_array());
        r = r < 0 ? r : vl_json_object_set(c, "Labels", kv_object(o->labels, o->n_labels));
        r = r < 0 ? r : vl_json_object_set_string(c, "StopSignal", stop ?: "SIGTERM");
        r = r < 0 ? r : vl_json_object_set_int(c, "StopTimeout", o->stop_timeout > 0 ? o->stop_timeout : 10);
        r = r < 0 ? r : vl_json_object_set_bool(c, "Tty", o->tty);
        r = r < 0 ? r : vl_json_object_set_bool(c, "OpenStdin", o->interactive);
        r = r < 0 ? r : vl_json_object_set_string(c, "DetachKeys", o->detach_keys ?: "");
        r = r < 0 ? r : vl_json_object_set_int(h, "Memory", o->memory);
        r = r < 0 ? r : vl_json_object_set_int(h, "NanoCpus", (int64_t)(o->cpus * 1e9 + 0.5));
        r = r < 0 ? r
                  : vl_json_object_set_int(h, "PidsLimit",
                                           o->pids_limit == 0  ? 2048
                                           : o->pids_limit < 0 ? 0
                                                               : o->pids_limit);
        r = r < 0 ? r : vl_json_object_set_bool(h, "Privileged", o->privileged);
        r = r < 0 ? r : vl_json_object_set_bool(h, "ReadonlyRootfs", o->read_only);
        r = r < 0 ? r : vl_json_object_set(h, "RestartPolicy", restart_policy(o->restart));
        r = r < 0 ? r : vl_json_object_set_bool(h, "AutoRemove", o->rm);
        const char *mode = o->network ?: o->n_publish || o->publish_all ? "bridge" : "none";
        r = r < 0 ? r : vl_json_object_set_string(h, "NetworkMode", mode);
        r = r < 0 ? r : vl_json_object_set(h, "CapAdd", ctr_strv_json(o->cap_add, o->n_cap_add));
        r = r < 0 ? r : vl_json_object_set(h, "CapDrop", ctr_strv_json(o->cap_drop, o->n_cap_drop));
        r = r < 0 ? r
                  : vl_json_object_set(h, "SecurityOpt", ctr_strv_json(o->security_opt, o->n_security_opt));
        r = r < 0 ? r : vl_json_object_set(h, "Ulimits", ulimits_json(o));
        r = r < 0 ? r : vl_json_object_set(h, "Binds", mounts_json(o, false));
        r = r < 0 ? r : vl_json_object_set(h, "Tmpfs", mounts_json(o, true));
        r = r < 0 ? r : vl_json_object_set_bool(h, "Init", o->init);
        r = r < 0 ? r : vl_json_object_set_string(lc, "Type", o->log_driver ?: "k8s-file");
        r = r < 0 ? r : vl_json_object_set(lc, "Config", vl_json_null());
        r = r < 0 ? r : vl_json_object_set(h, "LogConfig", TAKE_PTR(lc));
        r = r < 0 ? r : vl_json_object_set(all, "Config", TAKE_PTR(c));
        r = r < 0 ? r : vl_json_object_set(all, "HostConfig", TAKE_PTR(h));
        vl_json_unref(c);
        vl_json_unref(h);
        vl_json_unref(lc);
        if (r < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(all);
        return 0;
}

typedef struct CreateCtx {
        Engine *e;
        const ContainerCreateOptions *o;
        char id[65];
        char name[300];
        Image img;
        VlJson *image_doc;          /* the whole image config */
        const VlJson *image_config; /* its "config" */
        VlJson *spec;
        VlJson *config;
        SpecUser user;
        char *dir, *userdata, *netns;
        const char *image_name;
        const char *pod_id;              /* NULL when not in a pod */
        ContainerCreateOptions resolved; /* o with its volume mounts as binds of the volumes' directories */
        ContainerMount *mounts;
        struct CreateVolume {
                char *name, *host;
                bool anonymous, created;
        } * vols;
        size_t n_vols;
} CreateCtx;

static void create_ctx_done(CreateCtx *x) {
        image_done(&x->img);
        vl_json_unref(x->image_doc);
        vl_json_unref(x->spec);
        vl_json_unref(x->config);
        spec_user_done(&x->user);
        free(x->dir);
        free(x->userdata);
        free(x->netns);
        for (size_t i = 0; i < x->n_vols; i++) {
                free(x->vols[i].name);
                free(x->vols[i].host);
        }
        free(x->vols);
        free(x->mounts);
}

/* Volume mounts become bind mounts of the volumes' directories: a named volume is created on first use, an
 * unnamed one is anonymous, and a new volume gets the image's content at its destination (copy-up). */
static int create_volumes(CreateCtx *x, CpodError *err) {
        _cleanup_free_ char *image_root = NULL;
        int r = 0;

        x->resolved = *x->o;
        if (x->o->n_mounts == 0)
                return 0;
        x->mounts = calloc(x->o->n_mounts, sizeof(*x->mounts));
        x->vols = calloc(x->o->n_mounts, sizeof(*x->vols));
        if (!x->mounts || !x->vols)
                return ctr_oom(err);
        for (size_t i = 0; r >= 0 && i < x->o->n_mounts; i++) {
                const ContainerMount *m = &x->o->mounts[i];
                struct CreateVolume *v = &x->vols[x->n_vols];
                _cleanup_free_ char *from = NULL;
                x->mounts[i] = *m; /* strings borrowed from o */
                if (!m->type || !streq(m->type, "volume"))
                        continue;
                if (!image_root && image_mount(x->e, x->img.id, &image_root, NULL) < 0)
                        image_root = NULL; /* no copy-up without the image's files */
                if (image_root && m->destination && asprintf(&from, "%s%s", image_root, m->destination) < 0)
                        return ctr_oom(err);
                r = volume_resolve_mount_named(x->e, m->source, true, from, &v->host, &v->name, &v->created,
                                               err);
                if (r < 0)
                        break;
                v->anonymous = !m->source || !*m->source;
                x->n_vols++;
                x->mounts[i].type = (char *)"bind";
                x->mounts[i].source = v->host;
        }
        if (image_root)
                (void)image_unmount(x->e, x->img.id, false, NULL);
        x->resolved.mounts = x->mounts;
        return r;
}

static int create_volume_uses(CreateCtx *x, CpodError *err) {
        for (size_t i = 0; i < x->n_vols; i++) {
                int r = volume_container_use(x->e, x->id, x->vols[i].name, x->vols[i].anonymous, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Undo create_volumes and create_volume_uses after a failed create. */
static void create_volumes_undo(CreateCtx *x) {
        (void)volume_container_release(x->e, x->id, true, NULL);
        for (size_t i = 0; i < x->n_vols; i++)
                if (x->vols[i].created)
                        (void)volume_remove(x->e, x->vols[i].name, false, NULL);
}

static int create_image(CreateCtx *x, CpodError *err) {
        _cleanup_free_ char *text = NULL;
        int r = image_get(x->e, x->o->image, &x->img, err);
        if (r < 0)
                return r;
        r = image_read_config(x->e, &x->img, &text, err);
        if (r < 0)
                return r;
        if (vl_json_parse(text, strlen(text), NULL, &x->image_doc, NULL) < 0)
                return cpod_error(err, EBADMSG, "image %s: config is not valid JSON", x->img.id);
        x->image_config = vl_json_object_get(x->image_doc, "config");
        /* podman shows the name as given when it names the image, else the image's first name */
        x->image_name = x->img.n_names > 0 ? x->img.names[0] : x->img.id;
        for (size_t i = 0; i < x->img.n_names; i++)
                if (strstr(x->img.names[i], x->o->image))
                        x->image_name = x->img.names[i];
        return 0;
}

static int create_name(CreateCtx *x, CpodError *err) {
        int r = random_id(x->id);
        if (r < 0)
                return cpod_error_errno(err, -r, "generate a container ID");
        if (x->o->name) {
                if (!name_valid(x->o->name))
                        return cpod_error(err, EINVAL,
                                          "invalid container name \"%s\": names must match "
                                          "[a-zA-Z0-9][a-zA-Z0-9_.-]*",
                                          x->o->name);
                snprintf(x->name, sizeof x->name, "%s", x->o->name);
                _cleanup_free_ char *other = NULL;
                r = db_get_text(x->e->db, "SELECT id FROM containers WHERE name = ?1", DB_PARAMS(x->name),
                                &other, err);
                if (r > 0)
                        return cpod_error(
                                err, EEXIST,
                                "the container name \"%s\" is already in use by %s. You have to remove "
                                "that container to be able to reuse that name",
                                x->name, other ? other : "another container");
                return r < 0 ? r : 0;
        }
        r = generate_name(x->e, x->name, sizeof x->name);
        return r < 0 ? cpod_error(err, -r, "could not generate a container name") : 0;
}

static int create_spec(CreateCtx *x, CpodError *err) {
        const char *user = x->o->user ?: vl_json_get_string(vl_json_object_get(x->image_config, "User"));
        _cleanup_free_ char *rootfs = container_run_path(x->e, x->id, "merged");
        _cleanup_free_ char *volumes = NULL;
        char hostname[256];
        int r;

        if (!rootfs || asprintf(&volumes, "%s/volumes", x->e->root) < 0)
                return ctr_oom(err);
        r = image_user(x->e, &x->img, user, &x->user, err);
        if (r < 0)
                return r;
        r = network_namespace(x->e, x->o->network, &x->netns, err);
        if (r >= 0 && !x->netns) /* bridge networks: a namespace netavark sets up at start */
                r = net_container_prepare(x->e, x->id, x->name, x->o, x->image_config, &x->netns, err);
        if (r < 0)
                return r;
        bool host_net = x->o->network && streq(x->o->network, "host");
        if (x->o->hostname)
                snprintf(hostname, sizeof hostname, "%s", x->o->hostname);
        else if (!host_net || gethostname(hostname, sizeof hostname) < 0)
                snprintf(hostname, sizeof hostname, "%.12s", x->id);
        if (x->o->init && !init_default_path())
                return cpod_error(err, ENOENT, "--init needs catatonit, which is not installed");
        SpecInput in = {
                .o = &x->resolved,
                .id = x->id,
                .name = x->name,
                .image_config = x->image_config,
                .rootfs = rootfs,
                .userdata = x->userdata,
                .hostname = hostname,
                .user = &x->user,
                .nofile_hard = hard_limit(RLIMIT_NOFILE),
                .nproc_hard = hard_limit(RLIMIT_NPROC),
                .seccomp_path = seccomp_default_path(),
                .init_path = init_default_path(),
                .volumes_dir = volumes,
                .netns_path = x->netns,
        };
        r = spec_build(&in, &x->spec, err);
        if (r < 0)
                return r;
        char key[65];
        r = seccomp_cache_apply(x->e, x->o->runtime, x->spec, key);
        if (r >= 0 && *key) /* compiled at the first start, then cached (runtime.c) */
                r = write_text(x->dir, "seccomp.key", key, err);
        if (r < 0)
                return r == -ENOMEM ? ctr_oom(err) : r;
        r = write_userdata(x->userdata, hostname, x->name, host_net, err);
        if (r < 0)
                return r;
        VlJson *env = vl_json_object_get(vl_json_object_get(x->spec, "process"), "env");
        char **envv = NULL;
        size_t n_env = 0;
        VlJson *v;
        VL_JSON_FOREACH_ELEMENT (v, env) {
                if (ctr_strv_push(&envv, &n_env, vl_json_get_string(v)) < 0)
                        r = -ENOMEM;
        }
        if (r >= 0)
                r = config_json(x->o, x->image_name, hostname, user, envv, n_env, x->image_config,
                                &x->config);
        ctr_strv_free(envv);
        return r < 0 ? ctr_oom(err) : 0;
}

static int create_dirs(CreateCtx *x, CpodError *err) {
        static const char *const sub[] = {"userdata", "upper", "work", "empty"};
        _cleanup_free_ char *base = NULL;
        if (asprintf(&base, "%s/containers", x->e->root) < 0)
                return ctr_oom(err);
        (void)mkdir(base, 0700);
        x->dir = container_path(x->e, x->id, NULL);
        x->userdata = container_path(x->e, x->id, "userdata");
        if (!x->dir || !x->userdata)
                return ctr_oom(err);
        if (mkdir(x->dir, 0700) < 0)
                return cpod_error_errno(err, errno, "create `%s`", x->dir);
        for (size_t i = 0; i < ELEMENTSOF(sub); i++) {
                char p[4200];
                if (streq(sub[i], "empty") && x->img.n_layers > 0)
                        continue; /* the overlay's lower layer only for an image without layers */
                snprintf(p, sizeof p, "%s/%s", x->dir, sub[i]);
                if (mkdir(p, i == 0 ? 0700 : 0755) < 0)
                        return cpod_error_errno(err, errno, "create `%s`", p);
        }
        return 0;
}

static int create_store(CreateCtx *x, CpodError *err) {
        _cleanup_free_ char *spec = vl_json_to_string(x->spec, 0); /* 22 KB where pretty is 32 */
        _cleanup_free_ char *config = vl_json_to_string(x->config, 0), *path = NULL;
        _cleanup_free_ char *command =
                vl_json_to_string(vl_json_object_get(vl_json_object_get(x->spec, "process"), "args"), 0);
        char created[24], state[8];
        if (!spec || !config || !command || !(path = container_path(x->e, x->id, "config.json")))
                return ctr_oom(err);
        int r = write_new_file(path, spec, strlen(spec), err);
        if (r < 0)
                return r;
        snprintf(created, sizeof created, "%lld", (long long)time(NULL));
        snprintf(state, sizeof state, "%d", (int)CONTAINER_CONFIGURED);
        r = db_run(
                x->e->db,
                "INSERT INTO containers(id, name, image_id, image_name, command, created, state, runtime, "
                "config, pod_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                DB_PARAMS(x->id, x->name, x->img.id, x->image_name, command, created, state,
                          x->o->runtime ?: "crun", config, x->pod_id),
                err);
        if (r == -EEXIST)
                return cpod_error(err, EEXIST, "the container name \"%s\" is already in use", x->name);
        return r < 0 ? r : 0;
}

/* A pod member's options: the pod's settings applied (pod.c), the pod created first for "new:NAME". */
static int create_pod_options(Engine *e, const ContainerCreateOptions **o, ContainerCreateOptions *copy,
                              char pod_id[65], char **hostname, bool *pod_created, CpodError *err) {
        if (!(*o)->pod)
                return 0;
        *copy = **o;
        int r = pod_member_options(e, copy, pod_id, hostname, pod_created, err);
        if (r >= 0)
                *o = copy;
        return r;
}

int container_create(Engine *e, const ContainerCreateOptions *o, char ret_id[65], CpodError *err) {
        ContainerCreateOptions pod_o;
        char pod_id[65] = "";
        _cleanup_free_ char *pod_hostname = NULL;
        bool pod_created = false;
        int r = create_pod_options(e, &o, &pod_o, pod_id, &pod_hostname, &pod_created, err);
        if (r < 0)
                return r;
        CreateCtx x = {.e = e, .o = o, .pod_id = *pod_id ? pod_id : NULL};
        _cleanup_free_ char *rt = NULL;
        r = runtime_path(o->runtime, &rt, err);
        if (r >= 0)
                r = create_image(&x, err);
        if (r >= 0)
                r = create_name(&x, err);
        if (r >= 0)
                r = create_dirs(&x, err);
        if (r >= 0)
                r = create_volumes(&x, err);
        if (r >= 0)
                r = create_spec(&x, err);
        if (r >= 0)
                r = create_volume_uses(&x, err);
        if (r >= 0)
                r = create_store(&x, err);
        if (r < 0)
                create_volumes_undo(&x);
        if (r < 0 && x.dir)
                net_container_forget(e, x.id);
        if (r < 0 && x.dir) {
                _cleanup_free_ char *base = NULL;
                if (asprintf(&base, "%s/containers", e->root) >= 0) {
                        _cleanup_close_ int dfd = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (dfd >= 0)
                                (void)layer_rm_rf_at(dfd, x.id);
                }
        }
        if (r < 0 && pod_created)
                (void)pod_remove(e, pod_id, true, NULL, NULL);
        if (r >= 0) {
                snprintf(ret_id, 65, "%s", x.id);
                (void)events_write(e, "container", "create", x.id, x.name, x.image_name, NULL);
        }
        create_ctx_done(&x);
        return r;
}

/* ---- remove, prune, rename ---- */

static void remove_dir(const char *parent, const char *name) {
        _cleanup_close_ int dfd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void)layer_rm_rf_at(dfd, name);
}

int ctr_remove_files(Engine *e, const char *id) {
        char p[4200];
        snprintf(p, sizeof p, "%s/containers", e->root);
        remove_dir(p, id);
        snprintf(p, sizeof p, "%s/containers", e->runroot);
        remove_dir(p, id);
        snprintf(p, sizeof p, "%s/locks/%s", e->runroot, id);
        (void)unlink(p);
        snprintf(p, sizeof p, "%s/locks/%s.rm", e->runroot, id);
        (void)unlink(p);
        return 0;
}

char *container_rm_lock_path(Engine *e, const char *id) {
        char *p = NULL;
        return asprintf(&p, "%s/locks/%s.rm", e->runroot, id) < 0 ? NULL : p;
}

int container_remove_locked(Engine *e, Container *c, bool force, bool volumes, CpodError *err) {
        /* The row goes away: what sync finds need not be stored first. */
        (void)sync_state(e, c);
        if (!force && (c->state == CONTAINER_RUNNING || c->state == CONTAINER_PAUSED))
                return cpod_error(
                        err, EBUSY,
                        "cannot remove container %s as it is %s - running or paused containers cannot be "
                        "removed without force: container state improper",
                        c->id, container_state_name(c->state));
        /* netavark tears the network down while the rest is removed: from the start when the container's
         * processes are gone already */
        NetPending *net = NULL;
        bool gone = c->state == CONTAINER_EXITED || c->state == CONTAINER_STOPPED ||
                    c->state == CONTAINER_CONFIGURED;
        if (gone)
                (void)net_container_teardown_begin(e, c->id, &net, NULL);
        int r = runtime_kill_and_delete(e, c, err);
        if (!gone)
                (void)net_container_teardown_begin(e, c->id, &net, NULL);
        if (r >= 0)
                r = container_unmount_rootfs(e, c->id, err);
        if (r >= 0)
                r = volume_container_release(e, c->id, volumes, err);
        if (r >= 0)
                r = db_run(e->db, "DELETE FROM containers WHERE id = ?1", DB_PARAMS(c->id), err);
        if (r >= 0)
                (void)ctr_remove_files(e, c->id);
        (void)net_container_teardown_finish(e, net, NULL);
        if (r < 0)
                return r;
        net_container_forget(e, c->id);
        (void)events_write(e, "container", "remove", c->id, c->name, c->image_name, NULL);
        return 0;
}

int container_remove(Engine *e, const char *ref, bool force, bool volumes, CpodError *err) {
        Container c = {};
        char id[65];
        int lock = -1;
        int r = container_resolve(e, ref, id, err);
        if (r < 0)
                return r;
        r = container_lock(e, id, &lock, err);
        if (r < 0)
                return r;
        r = container_load_row(e, id, &c, err);
        if (r >= 0)
                (void)runtime_settle_start(e, &c); /* a start killed midway: its conmon is found */
        if (r >= 0 && c.pod_id &&
            db_get_text(e->db, "SELECT id FROM pods WHERE infra_id = ?1", DB_PARAMS(c.id), NULL, NULL) > 0)
                r = cpod_error(err, EBUSY,
                               "container %s is the infra container of a pod and cannot be removed without "
                               "removing the pod",
                               c.id);
        if (r >= 0)
                r = container_remove_locked(e, &c, force, volumes, err);
        container_unlock(lock);
        container_done(&c);
        return r < 0 ? r : 0;
}

int container_prune(Engine *e, char ***ret_ids, size_t *ret_n, CpodError *err) {
        Container *v = NULL;
        size_t n = 0, n_ids = 0;
        char **ids = NULL;
        int r = container_list(e, true, &v, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                if (v[i].state != CONTAINER_EXITED && v[i].state != CONTAINER_STOPPED &&
                    v[i].state != CONTAINER_CONFIGURED && v[i].state != CONTAINER_CREATED)
                        continue;
                CpodError e2 = {};
                if (container_remove(e, v[i].id, false, false, &e2) >= 0 &&
                    ctr_strv_push(&ids, &n_ids, v[i].id) < 0)
                        r = ctr_oom(err);
        }
        container_array_free(v, n);
        if (r < 0) {
                ctr_strv_free(ids);
                return r;
        }
        *ret_ids = ids;
        *ret_n = n_ids;
        return 0;
}

int container_rename(Engine *e, const char *ref, const char *new_name, CpodError *err) {
        char id[65];
        int lock;
        if (!name_valid(new_name))
                return cpod_error(err, EINVAL, "invalid container name \"%s\"", new_name ? new_name : "");
        int r = container_resolve(e, ref, id, err);
        if (r < 0)
                return r;
        r = container_lock(e, id, &lock, err);
        if (r < 0)
                return r;
        r = db_run(e->db, "UPDATE containers SET name = ?2 WHERE id = ?1", DB_PARAMS(id, new_name), err);
        if (r == -EEXIST)
                r = cpod_error(err, EEXIST, "the container name \"%s\" is already in use", new_name);
        container_unlock(lock);
        if (r >= 0)
                (void)events_write(e, "container", "rename", id, new_name, NULL, NULL);
        return r < 0 ? r : 0;
}
