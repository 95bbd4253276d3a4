/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Image methods of io.podman and io.projectatomic.podman. Where both
 * interfaces have a method, one handler serves both and shapes its reply
 * by the interface the call came in on (call_is_atomic).
 */

#include <stddef.h>
#include <stdio.h>

#include "image-tree.h"
#include "images-internal.h"
#include "service-internal.h"
#include "util.h"

static int method_list_images(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        Image *imgs = NULL;
        size_t n = 0;
        CpodError err = {};
        Engine *e;

        if (service_engine(userdata, call, &e) < 0)
                return 0;
        int r = image_list(e, &imgs, &n, &err);
        if (r < 0)
                return reply_error_occurred(call, r, &err);
        VlJson *a = vl_json_new_array();
        for (size_t i = 0; a && i < n; i++) {
                VlJson *v = NULL;
                r = call_is_atomic(call) ? svc_image_in_list(e, &imgs[i], &v) : svc_image(e, &imgs[i], &v);
                if (r < 0 || vl_json_array_append(a, v) < 0)
                        a = vl_json_unref(a);
        }
        image_array_free(imgs, n);
        return a ? reply_one(call, "images", a) : -ENOMEM;
}

/* Resolve a.name (answering ImageNotFound itself when it fails). */
int svc_get_image(VlCall *call, Service *svc, const ImageArgs *a, Engine **ret_e, Image *ret) {
        CpodError err = {};
        int r = service_engine(svc, call, ret_e);
        if (r < 0)
                return r;
        r = image_get(*ret_e, a->name, ret, &err);
        if (r < 0)
                (void)reply_image_error(call, r, &err, a->name);
        return r;
}

static int method_get_image(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        ImageArgs a;
        Image img = {};
        VlJson *v = NULL;
        Engine *e;

        if (svc_image_args(call, params, &a) < 0 || svc_get_image(call, userdata, &a, &e, &img) < 0)
                return 0;
        int r = call_is_atomic(call) ? svc_image_in_list(e, &img, &v) : svc_image(e, &img, &v);
        image_done(&img);
        return r < 0 ? r : reply_one(call, "image", v);
}

static int method_inspect_image(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        _cleanup_free_ char *doc = NULL;
        CpodError err = {};
        ImageArgs a;
        Image img = {};
        Engine *e;

        if (svc_image_args(call, params, &a) < 0 || svc_get_image(call, userdata, &a, &e, &img) < 0)
                return 0;
        int r = svc_image_inspect(e, &img, &doc, &err);
        image_done(&img);
        if (r < 0)
                return reply_error_occurred(call, r, &err);
        return reply_one(call, "image", vl_json_new_string(doc));
}

static int method_history_image(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        CpodError err = {};
        ImageArgs a;
        Image img = {};
        VlJson *h = NULL;
        Engine *e;

        if (svc_image_args(call, params, &a) < 0 || svc_get_image(call, userdata, &a, &e, &img) < 0)
                return 0;
        int r = svc_image_history(e, &img, &h, &err);
        image_done(&img);
        if (r < 0)
                return reply_error_occurred(call, r, &err);
        return reply_one(call, "history", h);
}

/* {} on io.projectatomic.podman, {"image": id} on io.podman. */
static int reply_image_id(VlCall *call, const char *id) {
        if (call_is_atomic(call))
                return vl_call_reply(call, NULL);
        return reply_one(call, "image", vl_json_new_string(id));
}

static int method_tag_image(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        CpodError err = {};
        ImageArgs a;
        Image img = {};
        Engine *e;

        if (svc_image_args(call, params, &a) < 0 || svc_get_image(call, userdata, &a, &e, &img) < 0)
                return 0;
        /* tag by ID: the name may be a prefix another tag makes ambiguous later */
        int r = image_tag(e, img.id, a.other, &err);
        if (r >= 0)
                r = reply_image_id(call, img.id);
        else
                r = reply_error_occurred(call, r, &err);
        image_done(&img);
        return r;
}

static int method_untag_image(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        CpodError err = {};
        ImageArgs a;
        Image img = {};
        Engine *e;

        if (svc_image_args(call, params, &a) < 0 || svc_get_image(call, userdata, &a, &e, &img) < 0)
                return 0;
        int r = image_untag(e, img.id, a.other, &err);
        if (r >= 0)
                r = reply_image_id(call, img.id);
        else
                r = reply_image_error(call, r, &err, a.other);
        image_done(&img);
        return r;
}

/* Names of before that after no longer has (after NULL: all of them). */
static VlJson *dropped_names(const Image *before, const Image *after) {
        VlJson *a = vl_json_new_array();
        for (size_t i = 0; a && i < before->n_names; i++) {
                bool kept = false;
                for (size_t j = 0; after && j < after->n_names && !kept; j++)
                        kept = streq(before->names[i], after->names[j]);
                if (!kept && vl_json_array_append(a, vl_json_new_string(before->names[i])) < 0)
                        a = vl_json_unref(a);
        }
        return a;
}

static int remove_response(VlCall *call, Engine *e, const Image *before, const char *removed_id) {
        Image after = {};
        bool still = !removed_id && image_get(e, before->id, &after, NULL) >= 0;
        VlJson *resp = vl_json_new_object(), *untagged = dropped_names(before, still ? &after : NULL);

        if (still)
                image_done(&after);
        if (!resp || !untagged || vl_json_object_set(resp, "untagged", TAKE_PTR(untagged)) < 0 ||
            vl_json_object_set_string(resp, "deleted", removed_id ? removed_id : "") < 0) {
                vl_json_unref(untagged);
                vl_json_unref(resp);
                return -ENOMEM;
        }
        return reply_one(call, "response", resp);
}

static int method_remove_image(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        _cleanup_free_ char *removed = NULL;
        CpodError err = {};
        ImageArgs a;
        Image img = {};
        Engine *e;

        if (svc_image_args(call, params, &a) < 0 || svc_get_image(call, userdata, &a, &e, &img) < 0)
                return 0;
        int r = image_remove(e, a.name, a.force, &removed, &err);
        if (r < 0)
                r = reply_image_error(call, r, &err, a.name);
        else if (streq(vl_call_method(call), PODMAN_IFACE ".RemoveImageWithResponse"))
                r = remove_response(call, e, &img, removed);
        else
                r = reply_image_id(call, img.id);
        image_done(&img);
        return r;
}

static int method_image_exists(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        CpodError err = {};
        ImageArgs a;
        Image img = {};
        Engine *e;

        if (svc_image_args(call, params, &a) < 0 || service_engine(userdata, call, &e) < 0)
                return 0;
        int r = image_get(e, a.name, &img, &err);
        if (r < 0 && r != -ENOENT && r != -EINVAL)
                return reply_error_occurred(call, r, &err);
        if (r >= 0)
                image_done(&img);
        return reply_one(call, "exists", vl_json_new_int(r >= 0 ? 0 : 1));
}

/* DeleteUnusedImages (every unused image) and ImagesPrune (dangling ones, or all). */
static int method_prune_images(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        bool prune = streq(vl_call_method(call), PODMAN_IFACE ".ImagesPrune");
        char **ids = NULL;
        size_t n = 0;
        CpodError err = {};
        ImageArgs a;
        Engine *e;

        if (svc_image_args(call, params, &a) < 0)
                return 0;
        if (prune && vl_json_array_length(a.list) > 0)
                return vl_call_reply_error_string(call, PODMAN_IFACE ".ErrorOccurred", "reason",
                                                  "prune filters are not supported");
        if (service_engine(userdata, call, &e) < 0)
                return 0;
        int r = image_prune(e, prune ? a.flag : true, &ids, &n, &err);
        if (r < 0)
                return reply_error_occurred(call, r, &err);
        VlJson *v = json_strv(ids, n);
        for (size_t i = 0; i < n; i++)
                free(ids[i]);
        free(ids);
        return reply_one(call, prune ? "pruned" : "images", v);
}

/* ---- ImageTree, and the text of `image tree` ---- */

/* A size as the CLI's tables print it: four significant digits and a decimal unit ("2.066MB"). */
static const char *tree_size(uint64_t bytes, char *buf, size_t n) {
        static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
        double size = (double)bytes;
        size_t i = 0;

        while (size >= 1000.0 && i < ELEMENTSOF(units) - 1) {
                size /= 1000.0;
                i++;
        }
        snprintf(buf, n, "%.*g%s", 4, size, units[i]);
        return buf;
}

static int append_names(VlBuf *b, char *const *names, size_t n) {
        int r = vl_buf_append_char(b, '[');
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = (i > 0 ? vl_buf_append_char(b, ' ') : 0) ?: vl_buf_append_str(b, names[i]);
        return r < 0 ? r : vl_buf_append_char(b, ']');
}

static int tree_lines(VlBuf *b, const Image *img, const uint64_t *sizes, const Image *all, size_t n_all) {
        char size[32], line[160];
        int r;

        snprintf(line, sizeof(line), "Image ID: %.12s\nTags:     ", img->id);
        r = vl_buf_append_str(b, line) ?: append_names(b, img->names, img->n_names);
        snprintf(line, sizeof(line), "\nSize:     %s\nImage Layers\n",
                 tree_size(img->size, size, sizeof(size)));
        r = r ?: vl_buf_append_str(b, line);
        for (size_t i = 0; r >= 0 && i < img->n_layers; i++) {
                bool top = false;
                snprintf(line, sizeof(line), "%s ID: %.12s Size: %s", i + 1 == img->n_layers ? "└──" : "├──",
                         img->layers[i], tree_size(sizes[i], size, sizeof(size)));
                r = vl_buf_append_str(b, line);
                for (size_t j = 0; r >= 0 && j < n_all; j++) {
                        const Image *o = &all[j];
                        if (o->n_layers == 0 || !streq(o->layers[o->n_layers - 1], img->layers[i]) ||
                            o->n_names == 0)
                                continue;
                        r = vl_buf_append_str(b, top ? " " : " Top Layer of: ")
                                    ?: append_names(b, o->names, o->n_names);
                        top = true;
                }
                r = r ?: vl_buf_append_char(b, '\n');
        }
        return r;
}

int image_tree_text(Engine *e, const char *ref, VlBuf *out, CpodError *err) {
        _cleanup_free_ uint64_t *sizes = NULL;
        Image img = {}, *all = NULL;
        size_t n_all = 0;
        int r = image_get(e, ref, &img, err);

        if (r < 0)
                return r;
        if (!(sizes = calloc(img.n_layers + 1, sizeof(uint64_t))))
                r = cpod_error(err, ENOMEM, "out of memory");
        if (r >= 0 && image_layer_sizes(e, &img, sizes, NULL) < 0) /* a layer gone: sizes stay 0 */
                memset(sizes, 0, (img.n_layers + 1) * sizeof(uint64_t));
        if (r >= 0)
                r = image_list(e, &all, &n_all, err);
        if (r >= 0 && tree_lines(out, &img, sizes, all, n_all) < 0)
                r = cpod_error(err, ENOMEM, "out of memory");
        image_array_free(all, n_all);
        image_done(&img);
        return r;
}

/* The tree as `image tree` prints it; whatRequires is accepted and, as there, changes nothing. */
static int method_image_tree(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        VlBuf b = VL_BUF_INIT;
        CpodError err = {};
        ImageArgs a;
        Engine *e;

        if (svc_image_args(call, params, &a) < 0 || service_engine(userdata, call, &e) < 0)
                return 0;
        int r = image_tree_text(e, a.name, &b, &err);
        if (r >= 0 && vl_buf_append_char(&b, '\0') < 0)
                r = cpod_error(&err, ENOMEM, "out of memory");
        r = r < 0 ? (r == -ENOMEM ? r : reply_image_error(call, r, &err, a.name))
                  : reply_one(call, "tree", vl_json_new_string(b.data));
        vl_buf_free(&b);
        return r;
}

int images_bind(VlServer *s, Service *svc) {
        static const struct {
                const char *method;
                VlMethodFn fn;
        } table[] = {
                {ATOMIC_IFACE ".ListImages", method_list_images},
                {ATOMIC_IFACE ".GetImage", method_get_image},
                {ATOMIC_IFACE ".InspectImage", method_inspect_image},
                {ATOMIC_IFACE ".HistoryImage", method_history_image},
                {ATOMIC_IFACE ".TagImage", method_tag_image},
                {ATOMIC_IFACE ".RemoveImage", method_remove_image},
                {ATOMIC_IFACE ".DeleteUnusedImages", method_prune_images},
                {PODMAN_IFACE ".ListImages", method_list_images},
                {PODMAN_IFACE ".GetImage", method_get_image},
                {PODMAN_IFACE ".InspectImage", method_inspect_image},
                {PODMAN_IFACE ".HistoryImage", method_history_image},
                {PODMAN_IFACE ".TagImage", method_tag_image},
                {PODMAN_IFACE ".UntagImage", method_untag_image},
                {PODMAN_IFACE ".RemoveImage", method_remove_image},
                {PODMAN_IFACE ".RemoveImageWithResponse", method_remove_image},
                {PODMAN_IFACE ".ImageExists", method_image_exists},
                {PODMAN_IFACE ".DeleteUnusedImages", method_prune_images},
                {PODMAN_IFACE ".ImagesPrune", method_prune_images},
                {PODMAN_IFACE ".ImageTree", method_image_tree},
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                int r = vl_server_bind(s, table[i].method, table[i].fn, svc);
                if (r < 0)
                        return r;
        }
        return images_io_bind(s, svc);
}
