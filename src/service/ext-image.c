/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The image methods of io.cpod that io.podman lacks: ExportImageRootfs
 * (`cpod image export`: the image's merged root filesystem as a tar), and
 * MountImage, UnmountImage and UnmountAllImages (`cpod image mount`,
 * `cpod image umount [--all]`), over image.h's image_export, image_mount and
 * image_unmount.
 *
 * An export without a path goes to a new temporary file on the service's
 * host, which the client fetches with io.podman's ReceiveFile (delete: true),
 * as `save` does with ImageSave. Mount points are paths on the service's
 * host; mounts are counted in the store, so a mount made through the service
 * is released by a local `cpod image umount` and the other way round.
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ext-internal.h"
#include "transfer.h"
#include "util.h"

/* -ENOENT is ImageNotFound only when the image is missing: an export also fails with it when its output
 * path is, and that is not the caller's image's fault. The reason is always the engine's message. */
static int reply_image_missing(VlCall *call, Engine *e, int r, const CpodError *err, const char *ref) {
        Image img = {};

        if (r == -ENOENT && image_get(e, ref, &img, NULL) == -ENOENT)
                return ext_reply_error(call, "ImageNotFound", "id", ref, r, err);
        image_done(&img);
        return ext_reply_error(call, "ErrorOccurred", NULL, NULL, r, err);
}

static int method_export(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const char *name = ext_required_string(call, params, "name");
        const char *path = vl_json_get_string(vl_json_object_get(params, "path")) ?: "";
        _cleanup_free_ char *temp = NULL;
        CpodError err = {};
        Engine *e;

        if (!name)
                return 0;
        /* the service's stdout is no place for a tarball, and its working directory means nothing */
        if (path[0] && path[0] != '/')
                return vl_call_reply_invalid_parameter(call, "path");
        if (service_engine(userdata, call, &e) < 0)
                return 0;
        int r = path[0] ? 0 : transfer_temp_file(&temp, &err);
        if (r == -ENOMEM)
                return r;
        if (r >= 0)
                r = image_export(e, name, temp ?: path, &err);
        if (r < 0) {
                if (temp)
                        (void)unlink(temp);
                return reply_image_missing(call, e, r, &err, name);
        }
        return reply_one(call, "tarfile", vl_json_new_string(temp ?: path));
}

static int method_mount(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const char *name = ext_required_string(call, params, "name");
        _cleanup_free_ char *path = NULL;
        CpodError err = {};
        Engine *e;

        if (!name || service_engine(userdata, call, &e) < 0)
                return 0;
        int r = image_mount(e, name, &path, &err);
        if (r < 0)
                return reply_image_missing(call, e, r, &err, name);
        return reply_one(call, "path", vl_json_new_string(path));
}

static int method_unmount(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const char *name = ext_required_string(call, params, "name");
        bool force = vl_json_get_bool(vl_json_object_get(params, "force"));
        CpodError err = {};
        Image img = {};
        Engine *e;

        if (!name || service_engine(userdata, call, &e) < 0)
                return 0;
        /* the ID first, as `cpod image umount` prints it: the reference may be a name that goes away */
        int r = image_get(e, name, &img, &err);
        if (r >= 0)
                r = image_unmount(e, name, force, &err);
        if (r < 0) {
                image_done(&img);
                return reply_image_missing(call, e, r, &err, name);
        }
        VlJson *id = vl_json_new_string(img.id);
        image_done(&img);
        return reply_one(call, "id", id);
}

/* Every image unmounted completely; those not mounted are skipped without an error, as in local mode. */
static int method_unmount_all(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        _cleanup_(vl_json_unrefp) VlJson *ids = vl_json_new_array();
        CpodError err = {};
        Image *imgs = NULL;
        size_t n = 0;
        Engine *e;

        if (!ids)
                return -ENOMEM;
        if (service_engine(userdata, call, &e) < 0)
                return 0;
        int r = image_list(e, &imgs, &n, &err);
        if (r < 0)
                return ext_reply_error(call, "ErrorOccurred", NULL, NULL, r, &err);
        for (size_t i = 0; r >= 0 && i < n; i++)
                if (image_unmount(e, imgs[i].id, true, NULL) >= 0)
                        r = vl_json_array_append(ids, vl_json_new_string(imgs[i].id));
        image_array_free(imgs, n);
        return r < 0 ? r : reply_one(call, "ids", TAKE_PTR(ids));
}

int ext_image_bind(VlServer *s, Service *svc) {
        static const struct {
                const char *method;
                VlMethodFn fn;
        } table[] = {
                {CPOD_IFACE ".ExportImageRootfs", method_export},
                {CPOD_IFACE ".MountImage", method_mount},
                {CPOD_IFACE ".UnmountImage", method_unmount},
                {CPOD_IFACE ".UnmountAllImages", method_unmount_all},
        };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                int r = vl_server_bind(s, table[i].method, table[i].fn, svc);
                if (r < 0)
                        return r;
        }
        return 0;
}
