/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pods (pod.h): rows, the infra container, the lifecycle over all members, and the namespace joining
 * of members at start.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "container-internal.h"
#include "db.h"
#include "engine-internal.h"
#include "image.h"
#include "pod.h"
#include "util.h"

#define POD_COLUMNS "id, name, created, infra_id, config"

static int oom(CpodError *err) {
        return cpod_error(err, ENOMEM, "out of memory");
}

void pod_done(Pod *p) {
        if (!p)
                return;
        free(p->name);
        free(p->hostname);
        free(p->network);
        free(p->infra_image);
        ctr_strv_free(p->labels);
        *p = (Pod){};
}

void pod_array_free(Pod *p, size_t n) {
        for (size_t i = 0; p && i < n; i++)
                pod_done(&p[i]);
        free(p);
}

int pod_parse_share(const char *s, unsigned *ret, CpodError *err) {
        static const struct {
                const char *name;
                unsigned bit;
        } kinds[] = {{"net", POD_SHARE_NET},
                     {"ipc", POD_SHARE_IPC},
                     {"uts", POD_SHARE_UTS},
                     {"pid", POD_SHARE_PID}};
        unsigned bits = 0;
        if (!s) {
                *ret = POD_SHARE_NET | POD_SHARE_IPC | POD_SHARE_UTS;
                return 0;
        }
        while (*s) {
                size_t len = strcspn(s, ",");
                bool found = len == 0;
                for (size_t i = 0; i < ELEMENTSOF(kinds) && !found; i++)
                        if (strlen(kinds[i].name) == len && strncmp(s, kinds[i].name, len) == 0) {
                                bits |= kinds[i].bit;
                                found = true;
                        }
                if (!found)
                        return cpod_error(err, EINVAL,
                                          "invalid kernel namespace to share: %.*s (net, ipc, "
                                          "uts, pid)",
                                          (int)len, s);
                s += len + (s[len] == ',');
        }
        *ret = bits;
        return 0;
}

/* ---- rows ---- */

static int row_read(sqlite3_stmt *st, Pod *ret) {
        _cleanup_(vl_json_unrefp) VlJson *cfg = NULL;
        const char *text = (const char *)sqlite3_column_text(st, 4), *k;
        Pod p = {};
        VlJson *v;
        snprintf(p.id, sizeof p.id, "%s", (const char *)sqlite3_column_text(st, 0) ?: "");
        p.name = strdup((const char *)sqlite3_column_text(st, 1) ?: "");
        p.created = sqlite3_column_int64(st, 2);
        snprintf(p.infra_id, sizeof p.infra_id, "%s", (const char *)sqlite3_column_text(st, 3) ?: "");
        if (text && vl_json_parse(text, strlen(text), NULL, &cfg, NULL) < 0)
                cfg = NULL;
        p.hostname = strdup(vl_json_get_string(vl_json_object_get(cfg, "Hostname")) ?: p.name ?: "");
        p.network = strdup(vl_json_get_string(vl_json_object_get(cfg, "Network")) ?: "");
        p.infra_image = strdup(vl_json_get_string(vl_json_object_get(cfg, "InfraImage")) ?: "");
        p.share = (unsigned)vl_json_get_int(vl_json_object_get(cfg, "Share"));
        int r = p.name && p.hostname && p.network && p.infra_image ? 0 : -ENOMEM;
        VL_JSON_FOREACH_MEMBER (k, v, vl_json_object_get(cfg, "Labels")) {
                _cleanup_free_ char *kv = NULL;
                if (r >= 0 && (asprintf(&kv, "%s=%s", k, vl_json_get_string(v) ?: "") < 0 ||
                               ctr_strv_push(&p.labels, &p.n_labels, kv) < 0))
                        r = -ENOMEM;
        }
        if (r < 0) {
                pod_done(&p);
                return r;
        }
        *ret = p;
        return 0;
}

static int pod_resolve(Engine *e, const char *ref, char ret_id[65], CpodError *err) {
        _cleanup_free_ char *id = NULL;
        int r = db_get_text(e->db, "SELECT id FROM pods WHERE name = ?1 OR id = ?1", DB_PARAMS(ref), &id,
                            err);
        if (r < 0)
                return r;
        if (r == 0 && strlen(ref) >= 1 && strspn(ref, "0123456789abcdef") == strlen(ref)) {
                sqlite3_stmt *st = NULL;
                r = db_prepare(e->db, "SELECT id FROM pods WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2",
                               &st, err);
                if (r < 0)
                        return r;
                sqlite3_bind_text(st, 1, ref, -1, SQLITE_TRANSIENT);
                int n = 0;
                while (sqlite3_step(st) == SQLITE_ROW) {
                        if (n++ == 0)
                                id = strdup((const char *)sqlite3_column_text(st, 0) ?: "");
                }
                sqlite3_finalize(st);
                if (n > 1)
                        return cpod_error(err, ENOTUNIQ, "more than one result for pod ID %s", ref);
                r = n;
        }
        if (r == 0)
                return cpod_error(err, ENOENT, "no pod with name or ID %s found: no such pod", ref);
        if (!id)
                return oom(err);
        snprintf(ret_id, 65, "%s", id);
        return 0;
}

int pod_get(Engine *e, const char *ref, Pod *ret, CpodError *err) {
        char id[65];
        sqlite3_stmt *st = NULL;
        int r = pod_resolve(e, ref, id, err);
        if (r < 0)
                return r;
        r = db_prepare(e->db, "SELECT " POD_COLUMNS " FROM pods WHERE id = ?1", &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW)
                r = row_read(st, ret) < 0 ? oom(err) : 0;
        else
                r = cpod_error(err, ENOENT, "no pod with name or ID %s found: no such pod", ref);
        sqlite3_finalize(st);
        return r;
}

int pod_exists(Engine *e, const char *ref, CpodError *err) {
        char id[65];
        CpodError ignored = {};
        int r = pod_resolve(e, ref, id, &ignored);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return cpod_error(err, -r, "%s", ignored.message);
        return 1;
}

int pod_list(Engine *e, Pod **ret, size_t *ret_n, CpodError *err) {
        sqlite3_stmt *st = NULL;
        Pod *v = NULL;
        size_t n = 0, cap = 0;
        int r = db_prepare(e->db, "SELECT " POD_COLUMNS " FROM pods ORDER BY created DESC, rowid DESC", &st,
                           err);
        if (r < 0)
                return r;
        while (r >= 0 && sqlite3_step(st) == SQLITE_ROW) {
                if (VL_GROW(v, cap, n + 1) < 0 || row_read(st, &v[n]) < 0)
                        r = oom(err);
                else
                        n++;
        }
        sqlite3_finalize(st);
        if (r < 0) {
                pod_array_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

int pod_containers(Engine *e, const Pod *p, Container **ret, size_t *ret_n, CpodError *err) {
        sqlite3_stmt *st = NULL;
        Container *v = NULL;
        size_t n = 0, cap = 0;
        int r = db_prepare(
                e->db, "SELECT id FROM containers WHERE pod_id = ?1 ORDER BY id = ?2 DESC, created, rowid",
                &st, err);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, p->id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, p->infra_id, -1, SQLITE_TRANSIENT);
        char **ids = NULL;
        size_t n_ids = 0;
        while (r >= 0 && sqlite3_step(st) == SQLITE_ROW)
                if (ctr_strv_push(&ids, &n_ids, (const char *)sqlite3_column_text(st, 0) ?: "") < 0)
                        r = oom(err);
        sqlite3_finalize(st);
        for (size_t i = 0; r >= 0 && i < n_ids; i++) {
                if (VL_GROW(v, cap, n + 1) < 0) {
                        r = oom(err);
                        break;
                }
                CpodError gone = {};
                if (container_get(e, ids[i], &v[n], &gone) >= 0) /* removed meanwhile: skip */
                        n++;
        }
        ctr_strv_free(ids);
        if (r < 0) {
                container_array_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

const char *pod_status(const Container *ctrs, size_t n) {
        size_t running = 0, paused = 0, exited = 0;
        for (size_t i = 0; i < n; i++) {
                ContainerState s = ctrs[i].state;
                running += s == CONTAINER_RUNNING;
                paused += s == CONTAINER_PAUSED;
                exited += s == CONTAINER_EXITED || s == CONTAINER_STOPPED;
        }
        if (n == 0)
                return "Created";
        if (running == n)
                return "Running";
        if (running > 0)
                return "Degraded";
        if (paused == n)
                return "Paused";
        if (exited == n)
                return "Exited";
        if (exited > 0)
                return "Stopped";
        return "Created";
}

/* ---- the infra image ---- */

static const char *catatonit_path(void) {
        static const char *const p[] = {"/usr/libexec/podman/catatonit", "/usr/bin/catatonit",
                                        "/usr/libexec/catatonit/catatonit"};
        for (size_t i = 0; i < ELEMENTSOF(p); i++)
                if (access(p[i], X_OK) == 0)
                        return p[i];
        return NULL;
}

/* One ustar header for a regular file. */
static void tar_header(char h[512], const char *name, mode_t mode, uint64_t size) {
        unsigned sum = 0;
        memset(h, 0, 512);
        snprintf(h, 100, "%s", name);
        snprintf(h + 100, 8, "%07o", (unsigned)(mode & 07777));
        snprintf(h + 108, 8, "%07o", 0u);
        snprintf(h + 116, 8, "%07o", 0u);
        snprintf(h + 124, 12, "%011llo", (unsigned long long)size);
        snprintf(h + 136, 12, "%011o", 0u);
        h[156] = '0';
        memcpy(h + 257, "ustar", 6);
        memcpy(h + 263, "00", 2);
        memset(h + 148, ' ', 8);
        for (size_t i = 0; i < 512; i++)
                sum += (unsigned char)h[i];
        snprintf(h + 148, 8, "%06o", sum);
        h[155] = ' ';
}

/* A tar holding the catatonit binary as /catatonit. */
static int write_infra_tar(int out, const char *bin, CpodError *err) {
        _cleanup_close_ int in = open(bin, O_RDONLY | O_CLOEXEC);
        struct stat st;
        char h[512], buf[65536];
        if (in < 0 || fstat(in, &st) < 0)
                return cpod_error_errno(err, errno, "open `%s`", bin);
        tar_header(h, "catatonit", 0755, (uint64_t)st.st_size);
        if (write(out, h, 512) != 512)
                return cpod_error_errno(err, errno, "write the infra image's layer");
        uint64_t total = 0;
        for (;;) {
                ssize_t n = read(in, buf, sizeof buf);
                if (n < 0)
                        return cpod_error_errno(err, errno, "read `%s`", bin);
                if (n == 0)
                        break;
                if (write(out, buf, (size_t)n) != n)
                        return cpod_error_errno(err, errno, "write the infra image's layer");
                total += (uint64_t)n;
        }
        memset(buf, 0, sizeof buf);
        size_t pad = (512 - total % 512) % 512 + 1024;
        if (write(out, buf, pad) != (ssize_t)pad)
                return cpod_error_errno(err, errno, "write the infra image's layer");
        return 0;
}

int pod_infra_image_ensure(Engine *e, CpodError *err) {
        Image img = {};
        CpodError ignored = {};
        if (image_get(e, POD_INFRA_IMAGE, &img, &ignored) >= 0) {
                image_done(&img);
                return 0;
        }
        const char *bin = catatonit_path();
        if (!bin)
                return cpod_error(err, ENOENT,
                                  "building the infra image needs catatonit, which is not installed");
        char path[4200];
        snprintf(path, sizeof path, "%s/tmp", e->root);
        (void)mkdir(path, 0700);
        snprintf(path, sizeof path, "%s/tmp/infra-XXXXXX", e->root);
        _cleanup_close_ int fd = mkostemp(path, O_CLOEXEC);
        if (fd < 0)
                return cpod_error_errno(err, errno, "create `%s`", path);
        int r = write_infra_tar(fd, bin, err);
        if (r >= 0) {
                static const char *const changes[] = {"ENTRYPOINT [\"/catatonit\", \"-P\"]"};
                char id[65];
                r = image_import(e, path, POD_INFRA_IMAGE, "cpod infra image", changes, ELEMENTSOF(changes),
                                 id, err);
        }
        (void)unlink(path);
        return r < 0 ? r : 0;
}

/* ---- create ---- */

static int random_hex(char ret[65]) {
        unsigned char b[32];
        if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
                return -errno;
        for (size_t i = 0; i < sizeof b; i++)
                snprintf(ret + 2 * i, 3, "%02x", b[i]);
        return 0;
}

static bool pod_name_valid(const char *s) {
        if (!s || !*s || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", s[0]))
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == strlen(s);
}

static int generate_pod_name(Engine *e, char *buf, size_t size) {
        static const char *const adj[] = {"brave", "calm",  "eager", "fancy", "gentle", "happy", "jolly",
                                          "keen",  "lucid", "merry", "nifty", "quirky", "sharp", "witty"};
        static const char *const noun[] = {"bell",   "curie",    "darwin",  "euler",  "gauss",   "hopper",
                                           "kepler", "lovelace", "noether", "pascal", "ritchie", "turing"};
        for (int tries = 0; tries < 64; tries++) {
                unsigned v;
                if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
                        return -errno;
                snprintf(buf, size, "%s_%s", adj[v % ELEMENTSOF(adj)], noun[(v / 64) % ELEMENTSOF(noun)]);
                if (pod_exists(e, buf, NULL) == 0)
                        return 0;
        }
        return -EEXIST;
}

static int config_text(const PodCreateOptions *o, const char *hostname, unsigned share, char **ret) {
        _cleanup_(vl_json_unrefp) VlJson *c = vl_json_new_object();
        VlJson *labels = vl_json_new_object();
        int r = c && labels ? 0 : -ENOMEM;
        for (size_t i = 0; r >= 0 && i < o->n_labels; i++) {
                const char *eq = strchr(o->labels[i], '=');
                _cleanup_free_ char *k =
                        strndup(o->labels[i], eq ? (size_t)(eq - o->labels[i]) : strlen(o->labels[i]));
                r = k ? vl_json_object_set_string(labels, k, eq ? eq + 1 : "") : -ENOMEM;
        }
        r = r < 0 ? r : vl_json_object_set(c, "Labels", TAKE_PTR(labels));
        r = r < 0 ? r : vl_json_object_set_string(c, "Hostname", hostname);
        r = r < 0 ? r : vl_json_object_set_string(c, "Network", o->network ?: "");
        r = r < 0 ? r : vl_json_object_set_string(c, "InfraImage", o->infra_image ?: POD_INFRA_IMAGE);
        r = r < 0 ? r : vl_json_object_set_int(c, "Share", share);
        vl_json_unref(labels);
        if (r < 0 || !(*ret = vl_json_to_string(c, 0)))
                return -ENOMEM;
        return 0;
}

/* Insert the pod's row; the name is checked by the UNIQUE constraint too. */
static int pod_insert(Engine *e, const PodCreateOptions *o, const char *id, const char *name, unsigned share,
                      CpodError *err) {
        _cleanup_free_ char *cfg = NULL;
        char created[24];
        if (config_text(o, o->hostname ?: name, share, &cfg) < 0)
                return oom(err);
        snprintf(created, sizeof created, "%lld", (long long)time(NULL));
        int r = db_run(e->db, "INSERT INTO pods(id, name, created, config) VALUES (?1, ?2, ?3, ?4)",
                       DB_PARAMS(id, name, created, cfg), err);
        if (r == -EEXIST)
                return cpod_error(err, EEXIST,
                                  "adding pod to state: name \"%s\" is in use: pod already exists", name);
        return r < 0 ? r : 0;
}

static int create_infra(Engine *e, const PodCreateOptions *o, const char *pod_id, char ret_id[65],
                        CpodError *err) {
        char name[80];
        snprintf(name, sizeof name, "%.12s-infra", pod_id);
        ContainerCreateOptions co = {
                .image = o->infra_image ?: POD_INFRA_IMAGE,
                .name = name,
                .network = o->network,
                .stop_timeout = 10,
                .pod = pod_id,
                .publish = o->publish, /* ports are published on the infra, which owns the network */
                .n_publish = o->n_publish,
        };
        return container_create(e, &co, ret_id, err);
}

int pod_create(Engine *e, const PodCreateOptions *o, char ret_id[65], CpodError *err) {
        char id[65], name[256], infra[65] = "";
        unsigned share;
        int r = pod_parse_share(o->share, &share, err);
        if (r < 0)
                return r;
        if (o->name && !pod_name_valid(o->name))
                return cpod_error(err, EINVAL,
                                  "invalid pod name \"%s\": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*",
                                  o->name);
        if (o->name)
                snprintf(name, sizeof name, "%s", o->name);
        else if ((r = generate_pod_name(e, name, sizeof name)) < 0)
                return cpod_error(err, -r, "could not generate a pod name");
        if ((r = random_hex(id)) < 0)
                return cpod_error_errno(err, -r, "generate a pod ID");
        if (!o->infra_image && (r = pod_infra_image_ensure(e, err)) < 0)
                return r;
        r = pod_insert(e, o, id, name, share, err);
        if (r < 0)
                return r;
        r = create_infra(e, o, id, infra, err);
        if (r >= 0)
                r = db_run(e->db, "UPDATE pods SET infra_id = ?2 WHERE id = ?1", DB_PARAMS(id, infra), err);
        if (r < 0) {
                CpodError ignored = {};
                if (*infra)
                        (void)container_remove(e, infra, true, true, &ignored);
                (void)db_run(e->db, "DELETE FROM pods WHERE id = ?1", DB_PARAMS(id), &ignored);
                return r;
        }
        (void)events_write(e, "pod", "create", id, name, NULL, NULL);
        snprintf(ret_id, 65, "%s", id);
        return 0;
}

/* ---- lifecycle ---- */

static bool is_active(const Container *c) {
        return c->state == CONTAINER_RUNNING || c->state == CONTAINER_PAUSED;
}

/* Load the pod and its containers; the caller frees both. */
static int pod_load(Engine *e, const char *ref, Pod *p, Container **ctrs, size_t *n, CpodError *err) {
        int r = pod_get(e, ref, p, err);
        if (r >= 0 && (r = pod_containers(e, p, ctrs, n, err)) < 0)
                pod_done(p);
        return r;
}

/* Keep the first error, go on with the other containers. */
static void keep_first(int r, const CpodError *one, int *first, CpodError *err) {
        if (r >= 0 || *first < 0)
                return;
        *first = r;
        if (err)
                *err = *one;
}

int pod_start(Engine *e, const char *ref, CpodError *err) {
        Pod p = {};
        Container *c = NULL;
        size_t n = 0;
        int first = 0;
        int r = pod_load(e, ref, &p, &c, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) { /* the infra comes first */
                CpodError one = {};
                if (c[i].state == CONTAINER_RUNNING)
                        continue;
                r = c[i].state == CONTAINER_PAUSED ? container_unpause(e, c[i].id, &one)
                                                   : container_start(e, c[i].id, NULL, NULL, &one);
                if (r < 0)
                        cpod_error_wrap(&one, "starting container %s", c[i].id);
                keep_first(r, &one, &first, err);
                if (r < 0 && streq(c[i].id, p.infra_id))
                        break;
        }
        if (first >= 0)
                (void)events_write(e, "pod", "start", p.id, p.name, NULL, NULL);
        container_array_free(c, n);
        pod_done(&p);
        return first;
}

static int64_t now_sec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec;
}

/* Members first (sharing one deadline, so a pod stops within about timeout seconds), then the infra. */
static int stop_all(Engine *e, const Pod *p, Container *c, size_t n, int timeout, CpodError *err) {
        int first = 0;
        int64_t deadline = now_sec() + (timeout < 0 ? 10 : timeout);
        for (size_t k = 0; k < 2; k++)
                for (size_t i = 0; i < n; i++) {
                        CpodError one = {};
                        bool infra = streq(c[i].id, p->infra_id);
                        if ((k == 0) == infra || !is_active(&c[i]))
                                continue;
                        int64_t left = deadline - now_sec();
                        if (infra && timeout != 0) /* catatonit exits at once on SIGTERM */
                                left = MAX(left, 1);
                        int r = container_stop(e, c[i].id, (int)MAX(left, 0), &one);
                        keep_first(r, &one, &first, err);
                }
        return first;
}

int pod_stop(Engine *e, const char *ref, int timeout, CpodError *err) {
        Pod p = {};
        Container *c = NULL;
        size_t n = 0;
        int r = pod_load(e, ref, &p, &c, &n, err);
        if (r < 0)
                return r;
        r = stop_all(e, &p, c, n, timeout, err);
        if (r >= 0)
                (void)events_write(e, "pod", "stop", p.id, p.name, NULL, NULL);
        container_array_free(c, n);
        pod_done(&p);
        return r;
}

int pod_restart(Engine *e, const char *ref, CpodError *err) {
        int r = pod_stop(e, ref, -1, err);
        return r < 0 ? r : pod_start(e, ref, err);
}

typedef enum PodAction { POD_KILL, POD_PAUSE, POD_UNPAUSE } PodAction;

static int pod_each(Engine *e, const char *ref, PodAction a, int signo, CpodError *err) {
        static const char *const event[] = {"kill", "pause", "unpause"};
        Pod p = {};
        Container *c = NULL;
        size_t n = 0;
        int first = 0, done = 0;
        int r = pod_load(e, ref, &p, &c, &n, err);
        if (r < 0)
                return r;
        for (size_t i = n; i-- > 0;) { /* members before the infra */
                CpodError one = {};
                ContainerState want = a == POD_UNPAUSE ? CONTAINER_PAUSED : CONTAINER_RUNNING;
                if (c[i].state != want && !(a == POD_KILL && c[i].state == CONTAINER_PAUSED))
                        continue;
                r = a == POD_KILL    ? container_kill(e, c[i].id, signo, &one)
                    : a == POD_PAUSE ? container_pause(e, c[i].id, &one)
                                     : container_unpause(e, c[i].id, &one);
                keep_first(r, &one, &first, err);
                done += r >= 0;
        }
        if (first >= 0 && done == 0 && a != POD_UNPAUSE)
                first = cpod_error(err, EINVAL, "no containers in pod %s are running", p.name);
        if (first >= 0)
                (void)events_write(e, "pod", event[a], p.id, p.name, NULL, NULL);
        container_array_free(c, n);
        pod_done(&p);
        return first;
}

int pod_kill(Engine *e, const char *ref, int signo, CpodError *err) {
        return pod_each(e, ref, POD_KILL, signo, err);
}

int pod_pause(Engine *e, const char *ref, CpodError *err) {
        return pod_each(e, ref, POD_PAUSE, 0, err);
}

int pod_unpause(Engine *e, const char *ref, CpodError *err) {
        return pod_each(e, ref, POD_UNPAUSE, 0, err);
}

/* ---- remove, prune ---- */

/* The parent pid of pid from /proc (0 when it is gone). */
static pid_t parent_of(pid_t pid) {
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t k = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
        if (k <= 0)
                return 0;
        buf[k] = 0;
        const char *end = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
        int ppid = 0;
        return end && sscanf(end + 1, " %*c %d", &ppid) == 1 ? ppid : 0;
}

static int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* rm -f: SIGKILL the pod's running containers all at once, straight to their processes, and wait until
 * conmon has recorded every exit; the removal then finds them exited. Going through container_stop with
 * no timeout costs, per container, a runtime `kill` process, an exit-file watch made and closed before
 * the signal (closing an inotify instance waits for an RCU grace period) and another after it: a third
 * of an empty pod's `rm -f`. Best effort: a container signalled here only when its process is still
 * conmon's child (a pidfd pins it, so a reused pid is never hit); anything left running, paused or not
 * recorded in time is stopped by container_remove as before. */
static void kill_all(Engine *e, Container *c, size_t n) {
        struct pollfd *fds = calloc(n ?: 1, sizeof *fds);
        size_t *which = calloc(n ?: 1, sizeof *which);
        size_t m = 0;
        for (size_t i = 0; fds && which && i < n; i++) {
                if (c[i].state != CONTAINER_RUNNING || c[i].pid <= 0 || c[i].conmon_pid <= 0)
                        continue;
                int fd = (int)syscall(SYS_pidfd_open, c[i].pid, 0);
                if (fd < 0)
                        continue;
                if (parent_of(c[i].pid) != c[i].conmon_pid ||
                    syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0) < 0) {
                        close(fd);
                        continue;
                }
                fds[m] = (struct pollfd){.fd = fd, .events = POLLIN};
                which[m++] = i;
        }
        /* a pidfd turns readable when its process has exited; conmon writes the exit file just after */
        int64_t deadline = now_ms() + 10000;
        for (size_t left = m; left > 0 && now_ms() < deadline;) {
                int k = poll(fds, m, (int)MAX(deadline - now_ms(), 0));
                if (k < 0 && errno != EINTR)
                        break;
                for (size_t j = 0; k > 0 && j < m; j++)
                        if (fds[j].fd >= 0 && fds[j].revents) {
                                close(fds[j].fd);
                                fds[j].fd = -1; /* poll skips it from now on */
                                left--;
                        }
        }
        for (size_t j = 0; j < m; j++) {
                const Container *x = &c[which[j]];
                int code;
                int64_t when, until = now_ms() + 2000;
                if (fds[j].fd >= 0) { /* did not exit in time */
                        close(fds[j].fd);
                        continue;
                }
                while (container_read_exit(e, x->id, &code, &when) <= 0 &&
                       runtime_pid_alive(x->conmon_pid) && now_ms() < until) {
                        struct timespec ts = {0, 500000};
                        nanosleep(&ts, NULL);
                }
        }
        free(fds);
        free(which);
}

static int remove_loaded(Engine *e, Pod *p, Container *c, size_t n, bool force, CpodError *err) {
        for (size_t i = 0; !force && i < n; i++)
                if (is_active(&c[i]))
                        return cpod_error(
                                err, EBUSY,
                                "pod %s has running containers (%s): cannot remove it without force "
                                "(-f)",
                                p->name, c[i].name);
        /* As a stop would, keep conmon's exit command from applying a restart policy to what is killed
         * here; what is left running, the forced removals below stop. */
        if (force) {
                int r = db_run(e->db, "UPDATE containers SET stopped_by_user = 1 WHERE pod_id = ?1",
                               DB_PARAMS(p->id), err);
                if (r < 0)
                        return r;
                kill_all(e, c, n);
        }
        for (size_t i = n; i-- > 0;) { /* the infra last */
                if (streq(c[i].id, p->infra_id))
                        continue;
                int r = container_remove(e, c[i].id, force, true, err);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        int r = db_run(e->db, "UPDATE pods SET infra_id = NULL WHERE id = ?1", DB_PARAMS(p->id), err);
        if (r >= 0 && *p->infra_id) {
                r = container_remove(e, p->infra_id, true, true, err);
                r = r == -ENOENT ? 0 : r;
        }
        if (r >= 0)
                r = db_run(e->db, "DELETE FROM pods WHERE id = ?1", DB_PARAMS(p->id), err);
        if (r < 0)
                return r;
        (void)events_write(e, "pod", "remove", p->id, p->name, NULL, NULL);
        return 0;
}

int pod_remove(Engine *e, const char *ref, bool force, char ret_id[65], CpodError *err) {
        Pod p = {};
        Container *c = NULL;
        size_t n = 0;
        int r = pod_load(e, ref, &p, &c, &n, err);
        if (r < 0)
                return r;
        r = remove_loaded(e, &p, c, n, force, err);
        if (r >= 0 && ret_id)
                snprintf(ret_id, 65, "%s", p.id);
        container_array_free(c, n);
        pod_done(&p);
        return r < 0 ? r : 0;
}

int pod_prune(Engine *e, char ***ret_ids, size_t *ret_n, CpodError *err) {
        Pod *pods = NULL;
        size_t n = 0, n_ids = 0;
        char **ids = NULL;
        int r = pod_list(e, &pods, &n, err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                Container *c = NULL;
                size_t nc = 0;
                bool active = false;
                CpodError one = {};
                if (pod_containers(e, &pods[i], &c, &nc, &one) < 0)
                        continue;
                for (size_t k = 0; k < nc; k++)
                        active |= is_active(&c[k]);
                if (!active && remove_loaded(e, &pods[i], c, nc, false, &one) >= 0 &&
                    ctr_strv_push(&ids, &n_ids, pods[i].id) < 0)
                        r = oom(err);
                container_array_free(c, nc);
        }
        pod_array_free(pods, n);
        if (r < 0) {
                ctr_strv_free(ids);
                return r;
        }
        *ret_ids = ids;
        *ret_n = n_ids;
        return 0;
}

/* ---- inspect ---- */

static VlJson *shared_json(unsigned share) {
        static const struct {
                unsigned bit;
                const char *name;
        } kinds[] = {{POD_SHARE_IPC, "ipc"},
                     {POD_SHARE_NET, "net"},
                     {POD_SHARE_PID, "pid"},
                     {POD_SHARE_UTS, "uts"}};
        VlJson *a = vl_json_new_array();
        for (size_t i = 0; a && i < ELEMENTSOF(kinds); i++)
                if ((share & kinds[i].bit) && vl_json_array_append(a, vl_json_new_string(kinds[i].name)) < 0)
                        a = vl_json_unref(a);
        return a;
}

static VlJson *members_json(const Container *c, size_t n) {
        VlJson *a = vl_json_new_array();
        for (size_t i = 0; a && i < n; i++) {
                VlJson *o = vl_json_new_object();
                if (!o || vl_json_object_set_string(o, "Id", c[i].id) < 0 ||
                    vl_json_object_set_string(o, "Name", c[i].name) < 0 ||
                    vl_json_object_set_string(o, "State", container_state_name(c[i].state)) < 0 ||
                    vl_json_array_append(a, o) < 0)
                        a = vl_json_unref(a);
        }
        return a;
}

static VlJson *labels_json(char *const *labels, size_t n) {
        VlJson *o = vl_json_new_object();
        for (size_t i = 0; o && i < n; i++) {
                const char *eq = strchr(labels[i], '=');
                _cleanup_free_ char *k =
                        strndup(labels[i], eq ? (size_t)(eq - labels[i]) : strlen(labels[i]));
                if (!k || vl_json_object_set_string(o, k, eq ? eq + 1 : "") < 0)
                        o = vl_json_unref(o);
        }
        return o;
}

static int inspect_build(const Pod *p, const Container *c, size_t n, VlJson *d) {
        char created[64];
        VlJson *infra = vl_json_new_object();
        ctr_format_rfc3339nano(p->created * 1000000000LL, created, sizeof created);
        int r = infra ? 0 : -ENOMEM;
        r = r < 0 ? r : vl_json_object_set_string(d, "Id", p->id);
        r = r < 0 ? r : vl_json_object_set_string(d, "Name", p->name);
        r = r < 0 ? r : vl_json_object_set_string(d, "Created", created);
        r = r < 0 ? r : vl_json_object_set_string(d, "State", pod_status(c, n));
        r = r < 0 ? r : vl_json_object_set_string(d, "Hostname", p->hostname);
        r = r < 0 ? r : vl_json_object_set(d, "Labels", labels_json(p->labels, p->n_labels));
        r = r < 0 ? r : vl_json_object_set_bool(d, "CreateCgroup", false);
        r = r < 0 ? r : vl_json_object_set_bool(d, "CreateInfra", true);
        r = r < 0 ? r : vl_json_object_set_string(d, "InfraContainerID", p->infra_id);
        r = r < 0 ? r : vl_json_object_set_string(infra, "NetworkMode", *p->network ? p->network : "none");
        r = r < 0 ? r : vl_json_object_set_string(infra, "InfraImage", p->infra_image);
        r = r < 0 ? r : vl_json_object_set_bool(infra, "HostNetwork", streq(p->network, "host"));
        r = r < 0 ? r : vl_json_object_set(infra, "PortBindings", vl_json_new_object());
        r = r < 0 ? r : vl_json_object_set(d, "InfraConfig", TAKE_PTR(infra));
        r = r < 0 ? r : vl_json_object_set(d, "SharedNamespaces", shared_json(p->share));
        r = r < 0 ? r : vl_json_object_set_int(d, "NumContainers", (int64_t)n);
        r = r < 0 ? r : vl_json_object_set(d, "Containers", members_json(c, n));
        vl_json_unref(infra);
        return r;
}

int pod_inspect(Engine *e, const char *ref, VlJson **ret, CpodError *err) {
        Pod p = {};
        Container *c = NULL;
        size_t n = 0;
        int r = pod_load(e, ref, &p, &c, &n, err);
        if (r < 0)
                return r;
        VlJson *d = vl_json_new_object();
        if (!d || inspect_build(&p, c, n, d) < 0) {
                vl_json_unref(d);
                r = oom(err);
        } else
                *ret = d;
        container_array_free(c, n);
        pod_done(&p);
        return r < 0 ? r : 0;
}

/* ---- members ---- */

int pod_member_options(Engine *e, ContainerCreateOptions *o, char ret_pod_id[65], char **ret_hostname,
                       bool *ret_created, CpodError *err) {
        const char *ref = o->pod, *v;
        char id[65];
        Pod p = {};
        int r;
        *ret_created = false;
        *ret_hostname = NULL;
        if ((v = startswith(ref, "new:"))) {
                PodCreateOptions po = {.name = v};
                r = pod_create(e, &po, id, err);
                if (r < 0)
                        return r;
                *ret_created = true;
                ref = id;
        }
        r = pod_get(e, ref, &p, err);
        if (r < 0)
                return r;
        snprintf(ret_pod_id, 65, "%s", p.id);
        if (*p.infra_id) { /* a member, not the infra being created */
                if ((p.share & POD_SHARE_NET) && o->network)
                        r = cpod_error(err, EINVAL,
                                       "invalid config provided: cannot set a network on a "
                                       "container that joins the network namespace of pod %s",
                                       p.name);
                else if ((p.share & POD_SHARE_UTS) && o->hostname)
                        r = cpod_error(err, EINVAL,
                                       "invalid config provided: cannot set hostname when "
                                       "joining the pod UTS namespace");
                else if (p.share & POD_SHARE_UTS) {
                        *ret_hostname = TAKE_PTR(p.hostname);
                        o->hostname = *ret_hostname;
                }
        } else if (!o->hostname) {
                *ret_hostname = TAKE_PTR(p.hostname);
                o->hostname = *ret_hostname;
        }
        pod_done(&p);
        return r;
}

static const char *ns_file(const char *type) {
        return streq(type, "network") ? "net" : type;
}

static bool ns_shared(const char *type, unsigned share) {
        return (streq(type, "network") && (share & POD_SHARE_NET)) ||
               (streq(type, "ipc") && (share & POD_SHARE_IPC)) ||
               (streq(type, "uts") && (share & POD_SHARE_UTS)) ||
               (streq(type, "pid") && (share & POD_SHARE_PID));
}

/* Point the spec's shared namespaces at the infra process and write it back atomically. */
static int spec_join(const char *spec_path, pid_t infra_pid, unsigned share, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *spec = NULL;
        _cleanup_free_ char *text = NULL, *out = NULL, *tmp = NULL;
        size_t len = 0;
        FILE *f = fopen(spec_path, "re");
        if (!f)
                return cpod_error_errno(err, errno, "open `%s`", spec_path);
        char buf[65536];
        size_t k;
        VlBuf b = VL_BUF_INIT;
        int r = 0;
        while (r >= 0 && (k = fread(buf, 1, sizeof buf, f)) > 0)
                r = vl_buf_append(&b, buf, k);
        fclose(f);
        if (r < 0 || vl_json_parse(b.data, b.len, NULL, &spec, NULL) < 0) {
                vl_buf_free(&b);
                return cpod_error(err, EBADMSG, "`%s` is not valid JSON", spec_path);
        }
        vl_buf_free(&b);
        VlJson *ns, *nss = vl_json_object_get(vl_json_object_get(spec, "linux"), "namespaces");
        VL_JSON_FOREACH_ELEMENT (ns, nss) {
                const char *type = vl_json_get_string(vl_json_object_get(ns, "type"));
                char path[64];
                if (!type || !ns_shared(type, share))
                        continue;
                snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)infra_pid, ns_file(type));
                if (vl_json_object_set_string(ns, "path", path) < 0)
                        return oom(err);
        }
        if (share & POD_SHARE_UTS) /* the infra set the pod's hostname in the shared namespace */
                (void)vl_json_object_remove(spec, "hostname");
        if (!(out = vl_json_to_string(spec, VL_JSON_FORMAT_PRETTY)) ||
            asprintf(&tmp, "%s.tmp", spec_path) < 0)
                return oom(err);
        len = strlen(out);
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, out, len) != (ssize_t)len || rename(tmp, spec_path) < 0) {
                r = cpod_error_errno(err, errno ?: EIO, "write `%s`", spec_path);
                (void)unlink(tmp);
                return r;
        }
        return 0;
}

int pod_member_prepare(Engine *e, const Container *c, CpodError *err) {
        Pod p = {};
        Container infra = {};
        if (!c->pod_id)
                return 0;
        int r = pod_get(e, c->pod_id, &p, err);
        if (r < 0)
                return r;
        if (!*p.infra_id || streq(p.infra_id, c->id) || p.share == 0) {
                pod_done(&p);
                return 0;
        }
        r = container_get(e, p.infra_id, &infra, err);
        if (r >= 0 && infra.state == CONTAINER_PAUSED)
                r = cpod_error(err, EBUSY, "the infra container of pod %s is paused", p.name);
        else if (r >= 0 && infra.state != CONTAINER_RUNNING) {
                container_done(&infra);
                r = container_start(e, p.infra_id, NULL, NULL, err);
                if (r >= 0)
                        r = container_get(e, p.infra_id, &infra, err);
        }
        if (r >= 0)
                r = spec_join(c->spec_path, infra.pid, p.share, err);
        container_done(&infra);
        pod_done(&p);
        return r;
}
