/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Image methods that move images in and out of the store through files on
 * the service's host: ImportImage, ExportImage, LoadImage, ImageSave; and
 * the parameter handling all image methods share.
 */

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "images-internal.h"
#include "util.h"
#include "transfer.h"

#define ARG_STR(n, f) \
        { n, VL_JSON_STRING, vl_json_dispatch_string, offsetof(ImageArgs, f), 0 }
#define ARG_BOOL(n, f) \
        { n, VL_JSON_BOOL, vl_json_dispatch_bool, offsetof(ImageArgs, f), 0 }
#define ARG_JSON(n, f) \
        { n, -1, vl_json_dispatch_json, offsetof(ImageArgs, f), 0 }

/* Every parameter name the image methods take, mapped onto ImageArgs; libvl
 * has already checked each call against its method's signature. */
static const VlJsonField image_fields[] = {
        ARG_STR("name", name),
        ARG_STR("id", name),
        ARG_STR("tagged", other),
        ARG_STR("tag", other),
        ARG_STR("destination", other),
        ARG_STR("reference", other),
        ARG_STR("inputFile", other),
        ARG_STR("source", source),
        ARG_STR("message", message),
        ARG_JSON("changes", list),
        ARG_JSON("tags", list),
        ARG_JSON("filter", list),
        ARG_BOOL("force", force),
        ARG_BOOL("compress", flag),
        ARG_BOOL("delete", flag),
        ARG_BOOL("all", flag),
        ARG_BOOL("quiet", flag),
        ARG_BOOL("deleteFile", delete_file),
        {},
};

int svc_image_args(VlCall *call, const VlJson *params, ImageArgs *a) {
        const char *bad = NULL;

        *a = (ImageArgs){};
        if (vl_json_dispatch(params, image_fields, a, VL_JSON_ALLOW_EXTRA, &bad) < 0) {
                (void)vl_call_reply_invalid_parameter(call, bad ? bad : "parameters");
                return -EINVAL;
        }
        if (!a->name)
                a->name = "";
        if (!a->other)
                a->other = "";
        return 0;
}

int svc_string_list(VlCall *call, const char *param, const VlJson *list, const char ***ret, size_t *ret_n) {
        size_t n = vl_json_array_length(list);
        if (n > SVC_STRING_LIST_MAX) {
                (void)vl_call_reply_invalid_parameter(call, param);
                return -E2BIG;
        }
        const char **v = calloc(n + 1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                v[i] = vl_json_get_string(vl_json_array_get(list, i)) ?: "";
        *ret = v;
        *ret_n = n;
        return 0;
}

static int method_import_image(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        _cleanup_free_ const char **changes = NULL;
        size_t n_changes = 0;
        char id[65];
        CpodError err = {};
        ImageArgs a;
        Engine *e;

        if (svc_image_args(call, params, &a) < 0)
                return 0;
        int r = svc_string_list(call, "changes", a.list, &changes, &n_changes);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || service_engine(userdata, call, &e) < 0)
                return 0;
        r = image_import(e, a.source ? a.source : "", a.other[0] ? a.other : NULL, a.message, changes,
                         n_changes, id, &err);
        /* delete asks to remove the tarball whatever came of it (a SendFile upload has no other use) */
        if (a.flag && a.source && a.source[0] && !streq(a.source, "-") && unlink(a.source) < 0 &&
            errno != ENOENT)
                fprintf(stderr, "cpod varlink: remove `%s`: %s\n", a.source, strerror(errno));
        if (r < 0)
                return reply_error_occurred(call, r, &err);
        return reply_one(call, call_is_atomic(call) ? "id" : "image", vl_json_new_string(id));
}

/* "docker-archive:PATH", "oci-archive:PATH", "oci:PATH" or "oci-dir:PATH";
 * a bare path is a docker-archive. NULL for transports we cannot write. */
static const char *parse_destination(const char *dest, ImageFormat *ret) {
        static const struct {
                const char *prefix;
                ImageFormat format;
        } map[] = {
                {"docker-archive:", IMAGE_FORMAT_DOCKER_ARCHIVE},
                {"oci-archive:", IMAGE_FORMAT_OCI_ARCHIVE},
                {"oci:", IMAGE_FORMAT_OCI_DIR},
                {"oci-dir:", IMAGE_FORMAT_OCI_DIR},
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++) {
                const char *p = startswith(dest, map[i].prefix);
                if (p) {
                        *ret = map[i].format;
                        return p;
                }
        }
        const char *colon = strchr(dest, ':'), *slash = strchr(dest, '/');
        if (colon && (!slash || colon < slash))
                return NULL; /* another transport (dir:, docker://, ...) */
        *ret = IMAGE_FORMAT_DOCKER_ARCHIVE;
        return dest;
}

/* Save img (and extra names) to path; answers the call on failure. */
static int save(VlCall *call, Engine *e, const Image *img, const char *name, const VlJson *more,
                ImageFormat format, const char *path) {
        _cleanup_free_ const char **refs = NULL;
        size_t n = 0;
        CpodError err = {};

        int r = svc_string_list(call, "tags", more, &refs, &n);
        if (r < 0)
                return r;
        /* the image first, by the name the caller used (archives record it) */
        memmove(refs + 1, refs, n * sizeof(char *));
        refs[0] = name[0] ? name : img->id;
        r = image_save(e, refs, n + 1, format, path, &err);
        if (r < 0)
                (void)reply_error_occurred(call, r, &err);
        return r;
}

static int method_export_image(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        ImageFormat format;
        ImageArgs a;
        Image img = {};
        Engine *e;

        if (svc_image_args(call, params, &a) < 0)
                return 0;
        const char *path = parse_destination(a.other, &format);
        if (!path || !path[0])
                return vl_call_reply_error_string(
                        call,
                        call_is_atomic(call) ? ATOMIC_IFACE ".ErrorOccurred" : PODMAN_IFACE ".ErrorOccurred",
                        "reason", "destination must be a path, docker-archive:, oci-archive: or oci:");
        if (svc_get_image(call, userdata, &a, &e, &img) < 0)
                return 0;
        int r = save(call, e, &img, a.name, a.list, format, path);
        if (r >= 0)
                r = call_is_atomic(call) ? vl_call_reply(call, NULL)
                                         : reply_one(call, "image", vl_json_new_string(img.id));
        else
                r = r == -ENOMEM ? r : 0;
        image_done(&img);
        return r;
}

static VlJson *more_response(VlJson *logs, const char *id) {
        VlJson *o = vl_json_new_object();
        if (!o || !logs || vl_json_object_set(o, "logs", logs) < 0 ||
            vl_json_object_set_string(o, "id", id) < 0) {
                if (!o)
                        vl_json_unref(logs);
                return vl_json_unref(o);
        }
        return o;
}

/*
 * The log lines of LoadImage and ImageSave, as PullImage has them: with
 * more, each line is a MoreResponse reply of its own as soon as it is
 * known, and the final reply has no logs; without, the final reply carries
 * them all.
 */
typedef struct Logs {
        VlCall *call;
        VlJson *lines; /* without more */
} Logs;

static int logs_init(Logs *l, VlCall *call) {
        *l = (Logs){.call = call};
        if (!(vl_call_flags(call) & VL_CALL_MORE) && !(l->lines = vl_json_new_array()))
                return -ENOMEM;
        return 0;
}

/* -ENOMEM only: a peer that went away is noticed by the final reply. */
static int logs_add(Logs *l, const char *line) {
        if (l->lines)
                return vl_json_array_append(l->lines, vl_json_new_string(line));
        VlJson *lines = vl_json_new_array(), *o = vl_json_new_object();
        if (!lines || !o || vl_json_array_append(lines, vl_json_new_string(line)) < 0 ||
            vl_json_object_set(o, "reply", more_response(TAKE_PTR(lines), "")) < 0) {
                vl_json_unref(lines);
                vl_json_unref(o);
                return -ENOMEM;
        }
        (void)vl_call_reply_more(l->call, o);
        return 0;
}

static int logs_finish(Logs *l, const char *id) {
        VlJson *lines = l->lines ? TAKE_PTR(l->lines) : vl_json_new_array();
        return reply_one(l->call, "reply", more_response(lines, id));
}

static void logs_done(Logs *l) {
        l->lines = vl_json_unref(l->lines);
}

/* A new empty file (mode 0600) in $TMPDIR or /var/tmp, for archives that pass through the service; dir:
 * a directory instead. */
static int make_temp(bool dir, char **ret_path, CpodError *err) {
        const char *tmp = getenv("TMPDIR");
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s/cpod-varlink-XXXXXX", tmp && tmp[0] ? tmp : "/var/tmp") < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        if (dir ? !mkdtemp(path) : false)
                return cpod_error_errno(err, errno, "creating a temporary directory `%s`", path);
        if (!dir) {
                int fd = mkostemp(path, O_CLOEXEC);
                if (fd < 0)
                        return cpod_error_errno(err, errno, "creating a temporary file `%s`", path);
                close(fd);
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}

typedef struct SaveOptions {
        const char *name, *format, *output, *output_type;
        const VlJson *more_tags;
        bool quiet, compress;
} SaveOptions;

static const char *const format_names[] = {
        [IMAGE_FORMAT_DOCKER_ARCHIVE] = "docker-archive",
        [IMAGE_FORMAT_OCI_ARCHIVE] = "oci-archive",
        [IMAGE_FORMAT_OCI_DIR] = "oci-dir",
};

/*
 * ImageSave writes to options.output on the service's host and answers the
 * image's id. With an empty output it writes to a temporary file there and
 * answers that file's path instead, for the client to fetch with
 * ReceiveFile (delete: true), as remote clients do; oci-dir has no single
 * file, so it is answered as an oci-archive, the same layout in a tar.
 */
static int method_image_save(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        static const VlJsonField fields[] = {
                {"name", VL_JSON_STRING, vl_json_dispatch_string, offsetof(SaveOptions, name), 0},
                {"format", VL_JSON_STRING, vl_json_dispatch_string, offsetof(SaveOptions, format), 0},
                {"output", VL_JSON_STRING, vl_json_dispatch_string, offsetof(SaveOptions, output), 0},
                {"outputType", VL_JSON_STRING, vl_json_dispatch_string, offsetof(SaveOptions, output_type),
                 0},
                {"moreTags", -1, vl_json_dispatch_json, offsetof(SaveOptions, more_tags), 0},
                {"quiet", VL_JSON_BOOL, vl_json_dispatch_bool, offsetof(SaveOptions, quiet), 0},
                {"compress", VL_JSON_BOOL, vl_json_dispatch_bool, offsetof(SaveOptions, compress), 0},
                {},
        };
        _cleanup_free_ char *temp = NULL;
        SaveOptions o = {};
        ImageFormat format = IMAGE_FORMAT_DOCKER_ARCHIVE;
        CpodError err = {};
        Image img = {};
        Logs l;
        Engine *e;
        char line[PATH_MAX + 160];

        if (vl_json_dispatch(vl_json_object_get(params, "options"), fields, &o, VL_JSON_ALLOW_EXTRA, NULL) <
            0)
                return vl_call_reply_invalid_parameter(call, "options");
        if (o.format && streq(o.format, "oci-archive"))
                format = IMAGE_FORMAT_OCI_ARCHIVE;
        else if (o.format && (streq(o.format, "oci-dir") || streq(o.format, "oci")))
                format = IMAGE_FORMAT_OCI_DIR;
        else if (o.format && o.format[0] && !streq(o.format, "docker-archive"))
                return vl_call_reply_error_string(call, PODMAN_IFACE ".ErrorOccurred", "reason",
                                                  "format must be docker-archive, oci-archive or oci-dir");
        bool to_temp = !o.output || !o.output[0];
        if (to_temp && format == IMAGE_FORMAT_OCI_DIR)
                format = IMAGE_FORMAT_OCI_ARCHIVE;
        ImageArgs a = {.name = o.name ? o.name : ""};
        if (svc_get_image(call, userdata, &a, &e, &img) < 0)
                return 0;
        int r = to_temp ? make_temp(false, &temp, &err) : 0;
        if (r < 0) {
                r = r == -ENOMEM ? r : reply_error_occurred(call, r, &err);
                goto out;
        }
        if ((r = logs_init(&l, call)) < 0)
                goto out;
        snprintf(line, sizeof(line), "Saving image %s (%.12s) as %s", a.name[0] ? a.name : img.id, img.id,
                 format_names[format]);
        if (!o.quiet && (r = logs_add(&l, line)) < 0)
                goto out_logs;
        r = save(call, e, &img, a.name, o.more_tags, format, to_temp ? temp : o.output);
        if (r < 0) {
                if (temp)
                        (void)unlink(temp);
                r = r == -ENOMEM ? r : 0;
                goto out_logs;
        }
        if (!o.quiet && (r = logs_add(&l, "Writing manifest to image destination")) < 0)
                goto out_logs;
        r = logs_finish(&l, to_temp ? temp : img.id);
out_logs:
        logs_done(&l);
out:
        image_done(&img);
        return r;
}

static int method_load_image(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        char **names = NULL;
        size_t n = 0;
        CpodError err = {};
        ImageArgs a;
        Logs l;
        Engine *e;

        if (svc_image_args(call, params, &a) < 0 || service_engine(userdata, call, &e) < 0)
                return 0;
        if (!a.other[0])
                return vl_call_reply_invalid_parameter(call, "inputFile");
        if (logs_init(&l, call) < 0)
                return -ENOMEM;
        int r = image_load(e, a.other, &names, &n, &err);
        /* deleteFile removes the archive whatever came of it (a SendFile upload has no other use) */
        if (a.delete_file && unlink(a.other) < 0 && errno != ENOENT)
                fprintf(stderr, "cpod varlink: remove `%s`: %s\n", a.other, strerror(errno));
        if (r < 0) {
                logs_done(&l);
                return reply_error_occurred(call, r, &err);
        }
        if (a.name[0] && n == 1 && image_tag(e, names[0], a.name, &err) < 0)
                fprintf(stderr, "cpod varlink: tag `%s`: %s\n", a.name, err.message);

        VlBuf joined = VL_BUF_INIT, line = VL_BUF_INIT;
        for (size_t i = 0; i < n; i++)
                if ((i > 0 && vl_buf_append_char(&joined, ',') < 0) ||
                    vl_buf_append_str(&joined, names[i]) < 0)
                        r = -ENOMEM;
        if (vl_buf_append_str(&line, "Loaded image(s): ") < 0 ||
            vl_buf_append(&line, joined.data, joined.len) < 0 || vl_buf_append_char(&line, '\0') < 0 ||
            vl_buf_append_char(&joined, '\0') < 0)
                r = -ENOMEM;
        if (r >= 0 && !a.flag)
                r = logs_add(&l, line.data);
        if (r >= 0)
                r = logs_finish(&l, joined.data);
        logs_done(&l);
        vl_buf_free(&joined);
        vl_buf_free(&line);
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}

/* ---- SendFile and ReceiveFile: archives through an upgraded connection ---- */

/* Copy exactly length bytes from the socket into fd; -EPIPE when the peer hangs up early. */
static int receive_bytes(int sock, int fd, uint64_t length) {
        char *buf = malloc(TRANSFER_CHUNK);
        int r = buf ? 0 : -ENOMEM;

        while (r >= 0 && length > 0) {
                ssize_t k = read(sock, buf, length < TRANSFER_CHUNK ? length : TRANSFER_CHUNK);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        r = k < 0 ? -errno : -EPIPE;
                else if ((r = transfer_write_all(fd, buf, (size_t)k)) >= 0)
                        length -= (uint64_t)k;
        }
        free(buf);
        return r;
}

/*
 * SendFile with upgrade: the reply names a new temporary file on the
 * service's host; the client then sends exactly length raw bytes, and
 * once they are stored the service writes the file's path followed by ':'
 * and closes the connection. The path is what LoadImage and ImportImage
 * take (with deleteFile/delete to remove it).
 */
static int method_send_file(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        _cleanup_free_ char *path = NULL;
        CpodError err = {};
        int sock;

        if (!(flags & VL_CALL_UPGRADE))
                return vl_call_reply_error_string(
                        call, PODMAN_IFACE ".ErrorOccurred", "reason",
                        "SendFile needs a connection upgrade (call it with upgrade)");
        int64_t length = vl_json_get_int(vl_json_object_get(params, "length"));
        if (length < 0)
                return vl_call_reply_invalid_parameter(call, "length");
        int r = make_temp(false, &path, &err);
        if (r < 0)
                return r == -ENOMEM ? r : reply_error_occurred(call, r, &err);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
                r = cpod_error_errno(&err, errno, "opening `%s`", path);
                (void)unlink(path);
                return reply_error_occurred(call, r, &err);
        }
        VlJson *reply = vl_json_new_object();
        if (!reply || vl_json_object_set_string(reply, "file_handle", path) < 0) {
                vl_json_unref(reply);
                (void)unlink(path);
                return -ENOMEM;
        }
        r = vl_call_reply_upgrade(call, reply, &sock);
        if (r < 0) {
                (void)unlink(path);
                return 0;
        }
        /* no fsync: the upload is read once, right away, and removed */
        r = receive_bytes(sock, fd, (uint64_t)length);
        if (r < 0) {
                fprintf(stderr, "cpod varlink: SendFile into `%s`: %s\n", path, strerror(-r));
                (void)unlink(path);
        } else {
                size_t len = strlen(path);
                path[len] = ':'; /* the acknowledgement; path is not used afterwards */
                (void)transfer_write_all(sock, path, len + 1);
        }
        (void)shutdown(sock, SHUT_WR);
        safe_close(sock);
        return 0;
}

/* ReceiveFile with upgrade: the reply gives the file's length, then that many raw bytes follow and the
 * service closes the connection; delete removes the file afterwards, sent or not. */
static int method_receive_file(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const char *path = vl_json_get_string(vl_json_object_get(params, "path"));
        bool remove_after = vl_json_get_bool(vl_json_object_get(params, "delete"));
        CpodError err = {};
        struct stat st;
        int sock;

        if (!(flags & VL_CALL_UPGRADE))
                return vl_call_reply_error_string(
                        call, PODMAN_IFACE ".ErrorOccurred", "reason",
                        "ReceiveFile needs a connection upgrade (call it with upgrade)");
        if (!path || !path[0])
                return vl_call_reply_invalid_parameter(call, "path");
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                int r = fd < 0 ? -errno : S_ISREG(st.st_mode) ? -errno : -EISDIR;
                (void)cpod_error(&err, -r, "reading `%s`: %s", path, strerror(-r));
                return reply_error_occurred(call, r, &err);
        }
        VlJson *reply = vl_json_new_object();
        if (!reply || vl_json_object_set_int(reply, "len", st.st_size) < 0) {
                vl_json_unref(reply);
                return -ENOMEM;
        }
        if (vl_call_reply_upgrade(call, reply, &sock) < 0)
                return 0;
        char *buf = malloc(TRANSFER_CHUNK);
        int r = buf ? transfer_copy(sock, fd, (uint64_t)st.st_size, buf) : -ENOMEM;
        if (r < 0) /* the peer went away, or the file shrank under us: the client sees a short read */
                fprintf(stderr, "cpod varlink: ReceiveFile of `%s`: %s\n", path, strerror(-r));
        free(buf);
        if (remove_after && unlink(path) < 0) /* also after a failed transfer: nobody fetches it again */
                fprintf(stderr, "cpod varlink: remove `%s`: %s\n", path, strerror(errno));
        (void)shutdown(sock, SHUT_WR);
        safe_close(sock);
        return 0;
}

int images_io_bind(VlServer *s, Service *svc) {
        static const struct {
                const char *method;
                VlMethodFn fn;
        } table[] = {
                {ATOMIC_IFACE ".ImportImage", method_import_image},
                {ATOMIC_IFACE ".ExportImage", method_export_image},
                {PODMAN_IFACE ".ImportImage", method_import_image},
                {PODMAN_IFACE ".ExportImage", method_export_image},
                {PODMAN_IFACE ".ImageSave", method_image_save},
                {PODMAN_IFACE ".LoadImage", method_load_image},
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                int r = vl_server_bind(s, table[i].method, table[i].fn, svc);
                if (r < 0)
                        return r;
        }
        int r = vl_server_bind_upgrade(s, PODMAN_IFACE ".SendFile", method_send_file, svc);
        return r < 0 ? r : vl_server_bind_upgrade(s, PODMAN_IFACE ".ReceiveFile", method_receive_file, svc);
}
