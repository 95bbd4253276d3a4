/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Images as the two interfaces show them: ImageInList (io.projectatomic.podman),
 * Image (io.podman), podman's inspect document and the history list. Values
 * the store does not know yet are given as podman gave them for an image
 * without them ("" for parentId, [] and {} for empty lists and maps).
 */

#include <stdio.h>

#include "service-internal.h"
#include "util.h"

/* The image's config parsed (NULL member lookups are harmless when it
 * could not be read: listings then show an image without labels). */
static VlJson *read_config(Engine *e, const Image *img, CpodError *err) {
        _cleanup_free_ char *text = NULL;
        VlJson *v = NULL;

        if (image_read_config(e, img, &text, err) < 0)
                return NULL;
        if (vl_json_parse(text, strlen(text), NULL, &v, NULL) < 0) {
                if (err)
                        cpod_error(err, EBADMSG, "image %.12s: malformed config", img->id);
                return NULL;
        }
        return v;
}

static VlJson *read_manifest(Engine *e, const Image *img) {
        _cleanup_free_ char *text = NULL;
        VlJson *v = NULL;

        if (image_read_manifest(e, img, &text, NULL) < 0 ||
            vl_json_parse(text, strlen(text), NULL, &v, NULL) < 0)
                return NULL;
        return v;
}

/* A copy of the string members of obj (a map of labels or annotations); {} when absent. */
static VlJson *string_map(const VlJson *obj) {
        const char *k;
        VlJson *v, *out = vl_json_new_object();

        if (!out || vl_json_type(obj) != VL_JSON_OBJECT)
                return out;
        VL_JSON_FOREACH_MEMBER (k, v, obj) {
                if (vl_json_type(v) == VL_JSON_STRING && vl_json_object_set(out, k, vl_json_ref(v)) < 0)
                        return vl_json_unref(out);
        }
        return out;
}

static VlJson *config_labels(const VlJson *config) {
        return string_map(vl_json_object_get(vl_json_object_get(config, "config"), "Labels"));
}

int svc_image_in_list(Engine *e, const Image *img, VlJson **ret) {
        char created[TIME_BUF_MAX];
        _cleanup_(vl_json_unrefp) VlJson *config = read_config(e, img, NULL);
        VlJson *o = vl_json_new_object();

        if (!o || vl_json_object_set_string(o, "id", img->id) < 0 ||
            vl_json_object_set_string(o, "parentId", "") < 0 ||
            json_set_strv(o, "repoTags", img->names, img->n_names) < 0 ||
            json_set_strv(o, "repoDigests", img->digests, img->n_digests) < 0 ||
            vl_json_object_set_string(o, "created", format_go_time(img->created, created)) < 0 ||
            vl_json_object_set_int(o, "size", (int64_t)img->size) < 0 ||
            vl_json_object_set_int(o, "virtualSize", (int64_t)img->size) < 0 ||
            vl_json_object_set_int(o, "containers", img->containers) < 0 ||
            vl_json_object_set(o, "labels", config_labels(config)) < 0) {
                vl_json_unref(o);
                return -ENOMEM;
        }
        *ret = o;
        return 0;
}

int svc_image(Engine *e, const Image *img, VlJson **ret) {
        char created[TIME_BUF_MAX];
        char *digest = (char *)img->manifest_digest;
        _cleanup_(vl_json_unrefp) VlJson *config = read_config(e, img, NULL);
        VlJson *o = vl_json_new_object();

        if (!o || vl_json_object_set_string(o, "id", img->id) < 0 ||
            vl_json_object_set_string(o, "digest", img->manifest_digest) < 0 ||
            json_set_strv(o, "digests", &digest, digest[0] ? 1 : 0) < 0 ||
            vl_json_object_set_string(o, "parentId", "") < 0 ||
            json_set_strv(o, "repoTags", img->names, img->n_names) < 0 ||
            json_set_strv(o, "repoDigests", img->digests, img->n_digests) < 0 ||
            vl_json_object_set_string(o, "created", format_rfc3339(img->created, created)) < 0 ||
            vl_json_object_set_int(o, "size", (int64_t)img->size) < 0 ||
            vl_json_object_set_int(o, "virtualSize", (int64_t)img->size) < 0 ||
            vl_json_object_set_int(o, "containers", img->containers) < 0 ||
            vl_json_object_set(o, "labels", config_labels(config)) < 0 ||
            vl_json_object_set_bool(o, "isParent", false) < 0 ||
            vl_json_object_set_string(o, "topLayer", img->n_layers ? img->layers[img->n_layers - 1] : "") <
                    0 ||
            vl_json_object_set_bool(o, "readOnly", false) < 0 ||
            vl_json_object_set(o, "history", vl_json_new_array()) < 0) {
                vl_json_unref(o);
                return -ENOMEM;
        }
        *ret = o;
        return 0;
}

/* A member of src copied into dst under name; fallback (taken) when src has none. */
static int copy_member(VlJson *dst, const char *name, const VlJson *src, const char *key, VlJson *fallback) {
        VlJson *v = vl_json_object_get(src, key);
        if (v && !vl_json_is_null(v)) {
                vl_json_unref(fallback);
                return vl_json_object_set(dst, name, vl_json_ref(v));
        }
        return vl_json_object_set(dst, name, fallback);
}

static VlJson *graph_driver(Engine *e, const Image *img) {
        VlJson *g = vl_json_new_object(), *data = vl_json_new_object();
        char path[4096];

        if (!g || !data || vl_json_object_set_string(g, "Name", engine_storage_driver(e)) < 0)
                goto fail;
        if (img->n_layers > 0) {
                snprintf(path, sizeof(path), "%s/layers/%s/diff", engine_root(e),
                         img->layers[img->n_layers - 1]);
                if (vl_json_object_set_string(data, "UpperDir", path) < 0)
                        goto fail;
        }
        if (vl_json_object_set(g, "Data", TAKE_PTR(data)) < 0)
                goto fail;
        return g;
fail:
        vl_json_unref(data);
        return vl_json_unref(g);
}

static int inspect_build(Engine *e, const Image *img, const VlJson *config, const VlJson *manifest,
                         VlJson *o) {
        const VlJson *cc = vl_json_object_get(config, "config");
        char *digest = (char *)img->manifest_digest;
        VlJson *rootfs = vl_json_new_object();

        if (!rootfs || vl_json_object_set_string(rootfs, "Type", "layers") < 0 ||
            copy_member(rootfs, "Layers", vl_json_object_get(config, "rootfs"), "diff_ids",
                        vl_json_new_array()) < 0) {
                vl_json_unref(rootfs);
                return -ENOMEM;
        }
        const char *mtype = vl_json_get_string(vl_json_object_get(manifest, "mediaType"));
        const char *user = vl_json_get_string(vl_json_object_get(cc, "User"));
        if (vl_json_object_set_string(o, "Id", img->id) < 0 ||
            vl_json_object_set_string(o, "Digest", img->manifest_digest) < 0 ||
            json_set_strv(o, "RepoTags", img->names, img->n_names) < 0 ||
            json_set_strv(o, "RepoDigests", img->digests, img->n_digests) < 0 ||
            vl_json_object_set_string(o, "Parent", "") < 0 ||
            copy_member(o, "Comment", config, "comment", vl_json_new_string("")) < 0 ||
            copy_member(o, "Created", config, "created", vl_json_new_string("")) < 0 ||
            copy_member(o, "Config", config, "config", vl_json_new_object()) < 0 ||
            copy_member(o, "Version", config, "docker_version", vl_json_new_string("")) < 0 ||
            copy_member(o, "Author", config, "author", vl_json_new_string("")) < 0 ||
            copy_member(o, "Architecture", config, "architecture", vl_json_new_string("")) < 0 ||
            copy_member(o, "Os", config, "os", vl_json_new_string("")) < 0 ||
            vl_json_object_set_int(o, "Size", (int64_t)img->size) < 0 ||
            vl_json_object_set_int(o, "VirtualSize", (int64_t)img->size) < 0 ||
            vl_json_object_set(o, "GraphDriver", graph_driver(e, img)) < 0 ||
            vl_json_object_set(o, "RootFS", rootfs) < 0 ||
            vl_json_object_set(o, "Labels", config_labels(config)) < 0 ||
            vl_json_object_set(o, "Annotations", string_map(vl_json_object_get(manifest, "annotations"))) <
                    0 ||
            vl_json_object_set_string(o, "ManifestType", mtype ? mtype : "") < 0 ||
            vl_json_object_set_string(o, "User", user ? user : "") < 0 ||
            copy_member(o, "History", config, "history", vl_json_new_array()) < 0 ||
            json_set_strv(o, "Digests", &digest, digest[0] ? 1 : 0) < 0)
                return -ENOMEM;
        return 0;
}

int svc_image_inspect(Engine *e, const Image *img, char **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *config = read_config(e, img, err);
        if (!config)
                return err && err->code ? -err->code : -EIO;
        _cleanup_(vl_json_unrefp) VlJson *manifest = read_manifest(e, img);
        _cleanup_(vl_json_unrefp) VlJson *o = vl_json_new_object();
        if (!o || inspect_build(e, img, config, manifest, o) < 0)
                return -ENOMEM;
        char *s = vl_json_to_string(o, VL_JSON_FORMAT_PRETTY);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* One ImageHistory entry. created is normalized to RFC 3339 when it parses. */
static VlJson *history_entry(const char *id, const char *created, const char *created_by, VlJson *tags,
                             int64_t size, const char *comment) {
        char buf[TIME_BUF_MAX];
        int64_t t;
        VlJson *h = vl_json_new_object();

        if (!h) {
                vl_json_unref(tags);
                return NULL;
        }
        if (created && parse_rfc3339(created, &t) == 0)
                created = format_rfc3339(t, buf);
        if (vl_json_object_set_string(h, "id", id) < 0 ||
            vl_json_object_set_string(h, "created", created ? created : "") < 0 ||
            vl_json_object_set_string(h, "createdBy", created_by ? created_by : "") < 0 ||
            vl_json_object_set(h, "tags", tags) < 0 || vl_json_object_set_int(h, "size", size) < 0 ||
            vl_json_object_set_string(h, "comment", comment ? comment : "") < 0)
                return vl_json_unref(h);
        return h;
}

int svc_image_history(Engine *e, const Image *img, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *config = read_config(e, img, err);
        if (!config)
                return err && err->code ? -err->code : -EIO;
        const VlJson *hist = vl_json_object_get(config, "history");
        size_t n = vl_json_type(hist) == VL_JSON_ARRAY ? vl_json_array_length(hist) : 0;
        VlJson *out = vl_json_new_array();
        if (!out)
                return -ENOMEM;

        if (n == 0) {
                /* no recorded history: the image as one step */
                char created[TIME_BUF_MAX];
                if (vl_json_array_append(out, history_entry(img->id, format_rfc3339(img->created, created),
                                                            "", json_strv(img->names, img->n_names),
                                                            (int64_t)img->size, "")) < 0)
                        goto nomem;
        }
        /* newest first; the newest step is the image itself. Per-step sizes
         * are not recorded by the store: 0, except the whole image for a
         * single-step history. */
        for (size_t i = n; i-- > 0;) {
                const VlJson *h = vl_json_array_get(hist, i);
                bool top = i == n - 1;
                VlJson *tags = top ? json_strv(img->names, img->n_names) : vl_json_new_array();
                VlJson *entry = history_entry(top ? img->id : "<missing>",
                                              vl_json_get_string(vl_json_object_get(h, "created")),
                                              vl_json_get_string(vl_json_object_get(h, "created_by")), tags,
                                              n == 1 ? (int64_t)img->size : 0,
                                              vl_json_get_string(vl_json_object_get(h, "comment")));
                if (vl_json_array_append(out, entry) < 0)
                        goto nomem;
        }
        *ret = out;
        return 0;
nomem:
        vl_json_unref(out);
        return -ENOMEM;
}
