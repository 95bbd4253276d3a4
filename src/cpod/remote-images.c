/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Remote images: the listing of cmd-images.c (images-rows.h), its images from io.podman's Image records. */
#include <string.h>

#include "cmd-container.h"
#include "images-rows.h"
#include "manifest.h"
#include "output.h"
#include "remote.h"

static int remote_created_of(ImageSet *set, const char *ref, int64_t *ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        int32_t nsec = 0;
        int r;

        r = remote_call(set->cli, "GetImage", remote_params1("id", ref), &reply, err);
        if (r < 0)
                return r;
        (void)rfc3339_parse(
                vl_json_get_string(vl_json_object_get(vl_json_object_get(reply, "image"), "created")) ?: "",
                ret, &nsec);
        return 0;
}

/* An Image from an io.podman Image record, and the config holding its labels ({} and absent: none). */
static int image_from_record(const VlJson *rec, Image *img, VlJson **ret_config) {
        const VlJson *tags = vl_json_object_get(rec, "repoTags"),
                     *digests = vl_json_object_get(rec, "repoDigests");
        const VlJson *labels = vl_json_object_get(rec, "labels");
        int32_t nsec = 0;

        snprintf(img->id, sizeof(img->id), "%s", vl_json_get_string(vl_json_object_get(rec, "id")) ?: "");
        snprintf(img->manifest_digest, sizeof(img->manifest_digest), "%s",
                 vl_json_get_string(vl_json_object_get(rec, "digest")) ?: "");
        (void)rfc3339_parse(vl_json_get_string(vl_json_object_get(rec, "created")) ?: "", &img->created,
                            &nsec);
        img->size = (uint64_t)vl_json_get_int(vl_json_object_get(rec, "size"));
        img->containers = (unsigned)vl_json_get_int(vl_json_object_get(rec, "containers"));
        for (size_t i = 0; i < vl_json_array_length(tags); i++)
                if (strv_push(&img->names, &img->n_names, vl_json_get_string(vl_json_array_get(tags, i))) <
                    0)
                        return -ENOMEM;
        for (size_t i = 0; i < vl_json_array_length(digests); i++)
                if (strv_push(&img->digests, &img->n_digests,
                              vl_json_get_string(vl_json_array_get(digests, i))) < 0)
                        return -ENOMEM;
        if (vl_json_object_length(labels) > 0) {
                VlJson *config = vl_json_new_object(), *cc = vl_json_new_object();
                if (!config || !cc || vl_json_object_set(cc, "Labels", vl_json_copy(labels)) < 0 ||
                    vl_json_object_set(config, "config", cc) < 0) {
                        vl_json_unref(config);
                        return -ENOMEM;
                }
                *ret_config = config;
        }
        return 0;
}

int remote_images(Cli *cli, int argc, char **argv) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        ImagesArgs a = {};
        ImageSet set = {.created_of = remote_created_of, .cli = cli};
        CpodError err = {};
        _cleanup_free_ char *ref_filter = NULL;
        const VlJson *recs;
        int r;

        r = images_parse_args(cli, argc, argv, &a, &ref_filter);
        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        r = remote_call(cli, "ListImages", NULL, &reply, &err);
        recs = vl_json_object_get(reply, "images");
        set.n = vl_json_array_length(recs);
        if (r >= 0 && set.n > 0 && (!(set.imgs = calloc(set.n, sizeof(Image))) || image_set_alloc(&set) < 0))
                r = cpod_error(&err, ENOMEM, "out of memory");
        for (size_t i = 0; r >= 0 && i < set.n; i++)
                if (image_from_record(vl_json_array_get(recs, i), &set.imgs[i], &set.configs[i]) < 0)
                        r = cpod_error(&err, ENOMEM, "out of memory");
        if (r >= 0)
                r = images_list(&set, &a, &err);
        image_set_free_rows(&set);
        for (size_t i = 0; set.imgs && i < set.n; i++) {
                strv_free_n(set.imgs[i].names, set.imgs[i].n_names);
                strv_free_n(set.imgs[i].digests, set.imgs[i].n_digests);
        }
        free(set.imgs);
        free(a.filters);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

const RemoteCommand remote_image_commands[] = {
        {},
};
