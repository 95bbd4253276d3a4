/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Container methods that read or write more than a record: logs (raw, and
 * streamed LogLine records that end with an empty LogLine), events,
 * processes, stats, changes, export, commit, mounts and the attach sockets.
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "containers-internal.h"
#include "transfer.h"
#include "util.h"

/* ---- GetContainerLogs: raw k8s-file lines ---- */

static int collect_raw(int64_t t, const char *stream, bool partial, const char *msg, size_t len,
                       void *userdata) {
        char when[TIME_BUF_MAX];
        _cleanup_free_ char *line = NULL;
        if (asprintf(&line, "%s %s %s %.*s\n", format_rfc3339nano(t, when), stream, partial ? "P" : "F",
                     (int)len, msg) < 0)
                return -ENOMEM;
        return vl_json_array_append(userdata, vl_json_new_string(line));
}

static int method_get_container_logs(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        LogOptions o = {.tail = -1};
        CpodError err = {};
        ContainerArgs a;
        Container c = {};
        Engine *e;

        if (svc_container_args(call, params, &a) < 0 ||
            svc_get_container(call, userdata, a.name, &e, &c) < 0)
                return 0;
        VlJson *lines = vl_json_new_array();
        int r = lines ? container_logs(e, c.id, &o, collect_raw, lines, &err) : -ENOMEM;
        container_done(&c);
        if (r < 0) {
                vl_json_unref(lines);
                return r == -ENOMEM ? r : reply_container_error(call, r, &err, a.name);
        }
        return reply_one(call, "container", lines);
}

/* ---- GetContainersLogs: a stream of LogLine ---- */

typedef struct LogsJob {
        VlCall *call;
        char **ids;
        size_t n_ids;
        LogOptions options;
        const char *cid;
        int fd;
} LogsJob;

static VlJson *log_line(const char *device, const char *type, const char *time, const char *msg, size_t len,
                        const char *cid) {
        VlJson *l = vl_json_new_object(), *o = vl_json_new_object();
        if (!l || !o || vl_json_object_set_string(l, "device", device) < 0 ||
            vl_json_object_set_string(l, "parseLogType", type) < 0 ||
            vl_json_object_set_string(l, "time", time) < 0 ||
            vl_json_object_set(l, "msg", vl_json_new_stringn(msg, len)) < 0 ||
            vl_json_object_set_string(l, "cid", cid) < 0 || vl_json_object_set(o, "log", l) < 0) {
                if (o && vl_json_object_get(o, "log") != l)
                        vl_json_unref(l);
                vl_json_unref(o);
                return NULL;
        }
        return o;
}

static int emit_line(int64_t t, const char *stream, bool partial, const char *msg, size_t len,
                     void *userdata) {
        LogsJob *j = userdata;
        char when[TIME_BUF_MAX];
        VlJson *o = log_line(stream, partial ? "P" : "F", format_rfc3339nano(t, when), msg, len, j->cid);
        return o ? stream_emit(j->fd, STREAM_MORE, NULL, o) : -ENOMEM;
}

static int produce_logs(Engine *e, int fd, void *userdata) {
        LogsJob *j = userdata;
        CpodError err = {};

        j->fd = fd;
        for (size_t i = 0; i < j->n_ids; i++) {
                j->cid = j->ids[i];
                int r = container_logs(e, j->ids[i], &j->options, emit_line, j, &err);
                if (r < 0)
                        return stream_emit_error(fd, j->call, r, &err, j->ids[i]);
        }
        return stream_emit(fd, STREAM_FINAL, NULL, log_line("", "", "", "", 0, ""));
}

/* The IDs of names (or of the newest container with latest). */
static int resolve_ids(VlCall *call, Engine *e, const ContainerArgs *a, char ***ret, size_t *ret_n) {
        size_t n = a->latest ? 1 : vl_json_array_length(a->list);
        char **ids = calloc(n + 1, sizeof(char *));
        CpodError err = {};
        int r = ids ? 0 : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < n; i++) {
                Container c = {}, *cs = NULL;
                size_t k = 0;
                const char *ref = a->latest ? "" : vl_json_get_string(vl_json_array_get(a->list, i));
                if (a->latest) {
                        r = container_list(e, true, &cs, &k, &err);
                        r = r < 0 ? r : k == 0 ? cpod_error(&err, ENOENT, "no containers") : 0;
                        if (r >= 0)
                                ids[i] = strdup(cs[0].id);
                        container_array_free(cs, k);
                } else if ((r = container_get(e, ref, &c, &err)) >= 0) {
                        ids[i] = strdup(c.id);
                        container_done(&c);
                }
                if (r >= 0 && !ids[i])
                        r = -ENOMEM;
                if (r < 0 && r != -ENOMEM)
                        (void)reply_container_error(call, r, &err, ref);
        }
        if (r < 0) {
                for (size_t i = 0; ids && i < n; i++)
                        free(ids[i]);
                free(ids);
                return r;
        }
        *ret = ids;
        *ret_n = n;
        return 0;
}

static int method_get_containers_logs(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        LogsJob j = {.call = call, .options = {.tail = -1}};
        ContainerArgs a;
        int64_t since = 0;
        Engine *e;

        if (svc_container_args(call, params, &a) < 0)
                return 0;
        if (!(flags & VL_CALL_MORE))
                return vl_call_reply_error(call, VL_ERROR_EXPECTED_MORE, NULL);
        if (a.since && *a.since && parse_rfc3339(a.since, &since) < 0)
                return vl_call_reply_invalid_parameter(call, "since");
        if (service_engine(userdata, call, &e) < 0)
                return 0;
        int r = resolve_ids(call, e, &a, &j.ids, &j.n_ids);
        if (r < 0)
                return r == -ENOMEM ? r : 0;
        j.options.follow = a.flag;
        j.options.timestamps = a.timestamps;
        j.options.since = since * 1000000000;
        j.options.tail = a.number > 0 ? a.number : -1;
        r = svc_stream(call, e, produce_logs, &j);
        for (size_t i = 0; i < j.n_ids; i++)
                free(j.ids[i]);
        free(j.ids);
        return r;
}

/* ---- GetEvents: the events log, then what is appended to it ---- */

typedef struct EventsJob {
        const VlJson *filters; /* "type=container", "event=start" ("status="), "container=", "image=" */
        int64_t since, until;  /* unix seconds, 0 = unbounded */
        const char *path;
} EventsJob;

static bool event_matches(const EventsJob *j, const VlJson *ev) {
        static const struct {
                const char *key, *field;
        } map[] = {
                {"type", "Type"},   {"event", "Status"}, {"status", "Status"},
                {"image", "Image"}, {"container", NULL},
        };
        for (size_t i = 0; i < vl_json_array_length(j->filters); i++) {
                const char *f = vl_json_get_string(vl_json_array_get(j->filters, i)), *eq = strchr(f, '=');
                for (size_t m = 0; eq && m < ELEMENTSOF(map); m++) {
                        if (strncmp(f, map[m].key, (size_t)(eq - f)) != 0 || map[m].key[eq - f] != '\0')
                                continue;
                        const char *v = eq + 1;
                        const char *id = vl_json_get_string(vl_json_object_get(ev, "ID"));
                        const char *name = vl_json_get_string(vl_json_object_get(ev, "Name"));
                        const char *got = map[m].field
                                                  ? vl_json_get_string(vl_json_object_get(ev, map[m].field))
                                                  : NULL;
                        bool ok = map[m].field ? got && streq(got, v)
                                               : (id && startswith(id, v)) || (name && streq(name, v));
                        if (!ok)
                                return false;
                }
        }
        int64_t t = 0;
        (void)parse_rfc3339(vl_json_get_string(vl_json_object_get(ev, "Time")), &t);
        return (!j->since || t >= j->since) && (!j->until || t <= j->until);
}

/* The Event record of a log line (NULL: the empty record that ends a stream), as a reply of kind. */
static int emit_event(int fd, char kind, const VlJson *ev) {
        static const char *const fields[][2] = {{"id", "ID"},         {"image", "Image"}, {"name", "Name"},
                                                {"status", "Status"}, {"time", "Time"},   {"type", "Type"}};
        VlJson *o = vl_json_new_object(), *out = vl_json_new_object();
        int r = o && out ? 0 : -ENOMEM;
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(fields); i++) {
                const char *v = vl_json_get_string(vl_json_object_get(ev, fields[i][1]));
                r = vl_json_object_set_string(o, fields[i][0], v ? v : "");
        }
        if (r < 0 || vl_json_object_set(out, "events", o) < 0) {
                vl_json_unref(o);
                vl_json_unref(out);
                return -ENOMEM;
        }
        return stream_emit(fd, kind, NULL, out);
}

static int emit_log_event(int fd, const EventsJob *j, const char *line, size_t len) {
        VlJson *ev = NULL;

        if (vl_json_parse(line, len, NULL, &ev, NULL) < 0)
                return 0; /* a torn or foreign line */
        int r = event_matches(j, ev) ? emit_event(fd, STREAM_MORE, ev) : 0;
        vl_json_unref(ev);
        return r;
}

static int produce_events(Engine *e, int fd, void *userdata) {
        const EventsJob *j = userdata;
        VlBuf b = VL_BUF_INIT;
        FILE *f = NULL;
        int r = 0;

        /* the log is followed until the client goes away (then this process is killed) */
        for (;;) {
                if (!f && !(f = fopen(j->path, "re"))) {
                        if (j->until && time(NULL) > j->until)
                                break; /* no log yet, and nothing more is wanted */
                        usleep(250 * 1000);
                        continue;
                }
                int ch;
                while ((ch = fgetc(f)) != EOF) {
                        if (ch != '\n') {
                                r = vl_buf_append_char(&b, (char)ch);
                        } else {
                                r = emit_log_event(fd, j, b.data ? b.data : "", b.len);
                                vl_buf_clear(&b);
                        }
                        if (r < 0)
                                goto out;
                }
                clearerr(f);
                if (j->until && time(NULL) > j->until)
                        break;
                usleep(250 * 1000);
        }
out:
        vl_buf_free(&b);
        if (f)
                fclose(f);
        return r < 0 ? r : emit_event(fd, STREAM_FINAL, NULL);
}

static int method_get_events(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        _cleanup_free_ char *path = NULL;
        ContainerArgs a;
        EventsJob j = {};
        Engine *e;

        if (svc_container_args(call, params, &a) < 0)
                return 0;
        if (!(flags & VL_CALL_MORE))
                return vl_call_reply_error(call, VL_ERROR_EXPECTED_MORE, NULL);
        if (a.since && *a.since && parse_rfc3339(a.since, &j.since) < 0)
                return vl_call_reply_invalid_parameter(call, "since");
        if (a.until && *a.until && parse_rfc3339(a.until, &j.until) < 0)
                return vl_call_reply_invalid_parameter(call, "until");
        if (service_engine(userdata, call, &e) < 0)
                return 0;
        if (asprintf(&path, "%s/events/events.log", engine_runroot(e)) < 0)
                return -ENOMEM;
        j.filters = a.list;
        j.path = path;
        return svc_stream(call, e, produce_events, &j);
}

/* ---- processes, stats, changes ---- */

/* ps descriptors (AIX format names) and the engine's column headers. */
static const char *descriptor_header(const char *d) {
        static const char *const map[][2] = {
                {"pid", "PID"},      {"ppid", "PPID"},     {"user", "USER"},   {"args", "COMMAND"},
                {"comm", "COMMAND"}, {"etime", "ELAPSED"}, {"time", "TIME"},   {"tty", "TTY"},
                {"pcpu", "%CPU"},    {"%cpu", "%CPU"},     {"group", "GROUP"}, {"nice", "NI"},
                {"vsz", "VSZ"},      {"rss", "RSS"},       {"stat", "STAT"},   {"state", "STAT"},
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(d, map[i][0]))
                        return map[i][1];
        return NULL;
}

/* One tab-separated line per row, the header first, keeping the selected columns. */
static VlJson *top_lines(char **header, size_t ncols, char ***rows, size_t nrows, const VlJson *descs) {
        bool keep[64] = {};
        size_t nkeep = 0;
        VlJson *a = vl_json_new_array();

        for (size_t d = 0; d < vl_json_array_length(descs); d++) {
                const char *h = descriptor_header(vl_json_get_string(vl_json_array_get(descs, d)));
                for (size_t c = 0; h && c < ncols && c < ELEMENTSOF(keep); c++)
                        if (streq(header[c], h) && !keep[c])
                                keep[c] = true, nkeep++;
        }
        for (size_t r = 0; a && r <= nrows; r++) {
                char **cells = r == 0 ? header : rows[r - 1];
                VlBuf b = VL_BUF_INIT;
                int k = 0;
                for (size_t c = 0; k >= 0 && c < ncols && c < ELEMENTSOF(keep); c++)
                        if (nkeep == 0 || keep[c])
                                k = (b.len > 0 ? vl_buf_append_char(&b, '\t') : 0) < 0
                                            ? -ENOMEM
                                            : vl_buf_append_str(&b, cells[c]);
                if (k < 0 || vl_buf_append_char(&b, '\0') < 0 ||
                    vl_json_array_append(a, vl_json_new_string(b.data)) < 0)
                        a = vl_json_unref(a);
                vl_buf_free(&b);
        }
        return a;
}

static void strv_free_n(char **v, size_t n) {
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

static int method_top(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        char **header = NULL, ***rows = NULL;
        size_t ncols = 0, nrows = 0;
        CpodError err = {};
        ContainerArgs a;
        Engine *e;

        if (svc_container_args(call, params, &a) < 0 || service_engine(userdata, call, &e) < 0)
                return 0;
        int r = container_top(e, a.name, &header, &ncols, &rows, &nrows, &err);
        if (r < 0)
                return reply_container_error(call, r, &err, a.name);
        VlJson *lines = top_lines(header, ncols, rows, nrows, a.list);
        for (size_t i = 0; i < nrows; i++)
                strv_free_n(rows[i], ncols);
        free(rows);
        strv_free_n(header, ncols);
        return lines ? reply_one(call, "container", lines) : -ENOMEM;
}

static int method_stats(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const char *ref = vl_json_get_string(vl_json_object_get(params, "name"));
        ContainerStats s = {};
        CpodError err = {};
        VlJson *v = NULL;
        Engine *e;

        if (!ref) /* GetContainerStatsWithHistory(previousStats): the engine computes the rate itself */
                ref = vl_json_get_string(
                        vl_json_object_get(vl_json_object_get(params, "previousStats"), "id"));
        if (!ref)
                ref = "";
        if (service_engine(userdata, call, &e) < 0)
                return 0;
        int r = container_stats(e, ref, &s, &err);
        if (r < 0)
                return reply_container_error(call, r, &err, ref);
        r = svc_container_stats(&s, &v);
        free(s.name);
        return r < 0 ? r : reply_one(call, "container", v);
}

/* ListContainerChanges (ContainerChanges: changed, added, deleted) and Diff ([]DiffInfo). */
static int method_changes(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        bool diff = streq(vl_call_method(call), PODMAN_IFACE ".Diff");
        char **paths = NULL, *kinds = NULL;
        size_t n = 0;
        CpodError err = {};
        ContainerArgs a;
        Engine *e;

        if (svc_container_args(call, params, &a) < 0 || service_engine(userdata, call, &e) < 0)
                return 0;
        int r = container_diff(e, a.name, &paths, &kinds, &n, &err);
        if (r < 0)
                return reply_container_error(call, r, &err, a.name);
        VlJson *o = vl_json_new_object(),
               *lists[3] = {vl_json_new_array(), vl_json_new_array(), vl_json_new_array()};
        r = o && lists[0] && lists[1] && lists[2] ? 0 : -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                char kind[2] = {kinds[i], 0};
                VlJson *d = diff ? vl_json_new_object() : vl_json_new_string(paths[i]);
                if (diff && d &&
                    (vl_json_object_set_string(d, "path", paths[i]) < 0 ||
                     vl_json_object_set_string(d, "changeType", kind) < 0))
                        d = vl_json_unref(d);
                r = vl_json_array_append(lists[diff ? 0 : kinds[i] == 'C' ? 0 : kinds[i] == 'A' ? 1 : 2], d);
        }
        strv_free_n(paths, n);
        free(kinds);
        if (diff) {
                vl_json_unref(o);
                vl_json_unref(lists[1]);
                vl_json_unref(lists[2]);
                return r < 0 ? (vl_json_unref(lists[0]), r) : reply_one(call, "diffs", lists[0]);
        }
        static const char *const keys[] = {"changed", "added", "deleted"};
        for (size_t i = 0; i < 3; i++)
                if (r < 0 || vl_json_object_set(o, keys[i], lists[i]) < 0) {
                        vl_json_unref(lists[i]);
                        r = -ENOMEM;
                }
        return r < 0 ? (vl_json_unref(o), r) : reply_one(call, "container", o);
}

/* ---- export, commit ---- */

/* ExportContainer writes the tarball to path on the service's host; without a path to a temporary file
 * there, whose path it answers (remote clients then fetch it with ReceiveFile). */
static int method_export(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        _cleanup_free_ char *temp = NULL;
        CpodError err = {};
        ContainerArgs a;
        Container c = {};
        Engine *e;

        if (svc_container_args(call, params, &a) < 0)
                return 0;
        if (streq(a.other, "-")) /* the service's stdout is no place for a tarball */
                return vl_call_reply_invalid_parameter(call, "path");
        if (svc_get_container(call, userdata, a.name, &e, &c) < 0)
                return 0;
        container_done(&c);
        int r = a.other[0] ? 0 : transfer_temp_file(&temp, &err);
        if (r >= 0)
                r = container_export(e, a.name, temp ? temp : a.other, &err);
        if (r < 0) {
                if (temp)
                        (void)unlink(temp);
                return reply_container_error(call, r, &err, a.name);
        }
        return reply_one(call, "tarfile", vl_json_new_string(temp ? temp : a.other));
}

static VlJson *more_response(const char *log, const char *id) {
        VlJson *o = vl_json_new_object(), *logs = vl_json_new_array();
        if (!o || !logs || (log && vl_json_array_append(logs, vl_json_new_string(log)) < 0) ||
            vl_json_object_set(o, "logs", logs) < 0) {
                vl_json_unref(logs);
                return vl_json_unref(o);
        }
        if (vl_json_object_set_string(o, "id", id) < 0)
                return vl_json_unref(o);
        return o;
}

/* Commit: with more, a progress reply, then the final one with the image ID. */
static int method_commit(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        _cleanup_free_ const char **changes = NULL;
        CommitOptions o = {};
        CpodError err = {};
        ContainerArgs a;
        char id[65];
        Engine *e;

        if (svc_container_args(call, params, &a) < 0)
                return 0;
        size_t n = vl_json_array_length(a.list);
        if (!(changes = calloc(n + 1, sizeof(char *))))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                changes[i] = vl_json_get_string(vl_json_array_get(a.list, i));
        o.name = a.other[0] ? a.other : NULL;
        o.author = a.author && a.author[0] ? a.author : NULL;
        o.message = a.message && a.message[0] ? a.message : NULL;
        o.changes = (char **)changes;
        o.n_changes = n;
        /* pause defaults to true in podman; a missing field reads as false here, so only an explicit false
         * counts */
        const VlJson *p = vl_json_object_get(params, "pause");
        o.pause = !p || vl_json_is_null(p) || vl_json_get_bool(p);
        if (service_engine(userdata, call, &e) < 0)
                return 0;
        if (flags & VL_CALL_MORE) {
                VlJson *progress = vl_json_new_object();
                if (!progress || vl_json_object_set(progress, "reply",
                                                    more_response("Committing the container", "")) < 0) {
                        vl_json_unref(progress);
                        return -ENOMEM;
                }
                if (vl_call_reply_more(call, progress) < 0)
                        return 0;
        }
        int r = container_commit(e, a.name, &o, id, &err);
        if (r < 0)
                return reply_container_error(call, r, &err, a.name);
        return reply_one(call, "reply", more_response(NULL, id));
}

/* ---- mounts ---- */

static int method_mount(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        _cleanup_free_ char *path = NULL;
        CpodError err = {};
        ContainerArgs a;
        Engine *e;

        if (svc_container_args(call, params, &a) < 0 || service_engine(userdata, call, &e) < 0)
                return 0;
        int r = container_mount(e, a.name, &path, &err);
        if (r < 0)
                return reply_container_error(call, r, &err, a.name);
        return reply_one(call, "path", vl_json_new_string(path));
}

static int method_unmount(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        CpodError err = {};
        ContainerArgs a;
        Engine *e;

        if (svc_container_args(call, params, &a) < 0 || service_engine(userdata, call, &e) < 0)
                return 0;
        int r = container_unmount(e, a.name, a.force, &err);
        if (r < 0)
                return reply_container_error(call, r, &err, a.name);
        return vl_call_reply(call, NULL);
}

/* Is path a mount point (on another device than its parent, or the same inode as "path/..")? */
static bool is_mount_point(const char *path) {
        _cleanup_free_ char *parent = NULL;
        struct stat a, b;
        if (asprintf(&parent, "%s/..", path) < 0 || stat(path, &a) < 0 || stat(parent, &b) < 0)
                return false;
        return a.st_dev != b.st_dev || (a.st_dev == b.st_dev && a.st_ino == b.st_ino);
}

static int method_list_mounts(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        Container *cs = NULL;
        size_t n = 0;
        CpodError err = {};
        Engine *e;

        if (service_engine(userdata, call, &e) < 0)
                return 0;
        int r = container_list(e, true, &cs, &n, &err);
        if (r < 0)
                return reply_error_occurred(call, r, &err);
        VlJson *m = vl_json_new_object();
        for (size_t i = 0; m && i < n; i++) {
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/containers/%s/merged", engine_runroot(e), cs[i].id) < 0)
                        m = vl_json_unref(m);
                else if (is_mount_point(path) && vl_json_object_set_string(m, cs[i].id, path) < 0)
                        m = vl_json_unref(m);
        }
        container_array_free(cs, n);
        return m ? reply_one(call, "mounts", m) : -ENOMEM;
}

static int method_attach_sockets(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        _cleanup_free_ char *io = NULL, *ctl = NULL;
        ContainerArgs a;
        Container c = {};
        Engine *e;

        if (svc_container_args(call, params, &a) < 0 ||
            svc_get_container(call, userdata, a.name, &e, &c) < 0)
                return 0;
        int r = asprintf(&io, "%s/containers/%s/attach", engine_runroot(e), c.id) < 0 ||
                                asprintf(&ctl, "%s/containers/%s/ctl", engine_runroot(e), c.id) < 0
                        ? -ENOMEM
                        : 0;
        VlJson *s = vl_json_new_object();
        if (r < 0 || !s || vl_json_object_set_string(s, "container_id", c.id) < 0 ||
            vl_json_object_set_string(s, "io_socket", io) < 0 ||
            vl_json_object_set_string(s, "control_socket", ctl) < 0)
                s = vl_json_unref(s);
        container_done(&c);
        return s ? reply_one(call, "sockets", s) : -ENOMEM;
}

int containers_io_bind(VlServer *s, Service *svc) {
        static const struct {
                const char *method;
                VlMethodFn fn;
        } table[] = {
                {ATOMIC_IFACE ".GetContainerLogs", method_get_container_logs},
                {ATOMIC_IFACE ".ListContainerProcesses", method_top},
                {ATOMIC_IFACE ".GetContainerStats", method_stats},
                {ATOMIC_IFACE ".ListContainerChanges", method_changes},
                {ATOMIC_IFACE ".ExportContainer", method_export},
                {ATOMIC_IFACE ".GetAttachSockets", method_attach_sockets},
                {PODMAN_IFACE ".GetContainerLogs", method_get_container_logs},
                {PODMAN_IFACE ".GetContainersLogs", method_get_containers_logs},
                {PODMAN_IFACE ".GetEvents", method_get_events},
                {PODMAN_IFACE ".ListContainerProcesses", method_top},
                {PODMAN_IFACE ".GetContainerStats", method_stats},
                {PODMAN_IFACE ".GetContainerStatsWithHistory", method_stats},
                {PODMAN_IFACE ".ListContainerChanges", method_changes},
                {PODMAN_IFACE ".Diff", method_changes},
                {PODMAN_IFACE ".ExportContainer", method_export},
                {PODMAN_IFACE ".Commit", method_commit},
                {PODMAN_IFACE ".MountContainer", method_mount},
                {PODMAN_IFACE ".UnmountContainer", method_unmount},
                {PODMAN_IFACE ".ListContainerMounts", method_list_mounts},
                {PODMAN_IFACE ".GetAttachSockets", method_attach_sockets},
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                int r = vl_server_bind(s, table[i].method, table[i].fn, svc);
                if (r < 0)
                        return r;
        }
        return 0;
}
