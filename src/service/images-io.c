/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Image methods that move images in and out of the store through files on
 * the service's host: ImportImage, ExportImage, LoadImage, ImageSave; and
 * the parameter handling all image methods share.
 */

#include <stdio.h>

#include "images-internal.h"
#include "util.h"

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
        if (n > MAX_LIST) {
                (void)vl_call_reply_invalid_parameter(call, param);
                return -E2BIG;
        }
        const char **v = calloc(n + 1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                v[i] = vl_json_get_string(vl_json_array_get(list, i));
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
        if (r < 0)
                return reply_error_occurred(call, r, &err);
        if (a.flag && a.source && unlink(a.source) < 0 && errno != ENOENT)
                fprintf(stderr, "cpod varlink: remove `%s`: %s\n", a.source, strerror(errno));
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

typedef struct SaveOptions {
        const char *name, *format, *output, *output_type;
        const VlJson *more_tags;
        bool quiet, compress;
} SaveOptions;

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
        SaveOptions o = {};
        ImageFormat format = IMAGE_FORMAT_DOCKER_ARCHIVE;
        Image img = {};
        Engine *e;

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
        if (!o.output || !o.output[0])
                return vl_call_reply_invalid_parameter(call, "output");
        ImageArgs a = {.name = o.name ? o.name : ""};
        if (svc_get_image(call, userdata, &a, &e, &img) < 0)
                return 0;
        int r = save(call, e, &img, a.name, o.more_tags, format, o.output);
        if (r >= 0)
                r = reply_one(call, "reply", more_response(vl_json_new_array(), img.id));
        else
                r = r == -ENOMEM ? r : 0;
        image_done(&img);
        return r;
}

static int method_load_image(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        char **names = NULL;
        size_t n = 0;
        CpodError err = {};
        ImageArgs a;
        Engine *e;

        if (svc_image_args(call, params, &a) < 0 || service_engine(userdata, call, &e) < 0)
                return 0;
        int r = image_load(e, a.other, &names, &n, &err);
        if (r < 0)
                return reply_error_occurred(call, r, &err);
        if (a.name[0] && n == 1 && image_tag(e, names[0], a.name, &err) < 0)
                fprintf(stderr, "cpod varlink: tag `%s`: %s\n", a.name, err.message);
        if (a.delete_file && unlink(a.other) < 0 && errno != ENOENT)
                fprintf(stderr, "cpod varlink: remove `%s`: %s\n", a.other, strerror(errno));

        VlBuf joined = VL_BUF_INIT, line = VL_BUF_INIT;
        for (size_t i = 0; i < n; i++)
                if ((i > 0 && vl_buf_append_char(&joined, ',') < 0) ||
                    vl_buf_append_str(&joined, names[i]) < 0)
                        r = -ENOMEM;
        if (vl_buf_append_str(&line, "Loaded image(s): ") < 0 ||
            vl_buf_append(&line, joined.data, joined.len) < 0 || vl_buf_append_char(&line, '\0') < 0 ||
            vl_buf_append_char(&joined, '\0') < 0)
                r = -ENOMEM;
        VlJson *logs = vl_json_new_array();
        if (r >= 0 && logs && !a.flag && vl_json_array_append(logs, vl_json_new_string(line.data)) < 0)
                r = -ENOMEM;
        if (r >= 0)
                r = reply_one(call, "reply", more_response(TAKE_PTR(logs), joined.data));
        vl_json_unref(logs);
        vl_buf_free(&joined);
        vl_buf_free(&line);
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
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
        return 0;
}
