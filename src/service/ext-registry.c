/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * io.cpod's PullImage and PushImage: io.podman's, with the registry options
 * of `cpod pull` and `cpod push` that io.podman has no field for (TLS
 * verification, the platform of an index, a certificate directory on the
 * service's host, credentials for push). They stream the engine's status
 * lines as io.podman's methods do (images-registry.c's Progress).
 *
 * Credentials arrive as "user[:password]"; the client looks them up in its
 * own auth file. They are handed to the engine only, never logged or echoed.
 */

#include <string.h>

#include "ext-internal.h"
#include "images-internal.h"
#include "registry.h"
#include "util.h"

/* The registry options of params over the service's registries.conf; -EINVAL after answering
 * InvalidParameter. */
static int access_options(VlCall *call, Service *svc, const VlJson *params, RegistryOptions *ret) {
        const VlJson *tls = vl_json_object_get(params, "tlsVerify");
        const char *cert_dir = vl_json_get_string(vl_json_object_get(params, "certDir"));
        const char *creds = vl_json_get_string(vl_json_object_get(params, "creds"));

        *ret = (RegistryOptions){.tls_verify = -1, .registries_conf = svc->options.registries_conf};
        if (!vl_json_is_null(tls))
                ret->tls_verify = vl_json_get_bool(tls);
        /* the service's working directory means nothing to a caller */
        if (cert_dir && *cert_dir && cert_dir[0] != '/') {
                (void)vl_call_reply_invalid_parameter(call, "certDir");
                return -EINVAL;
        }
        ret->cert_dir = cert_dir && *cert_dir ? cert_dir : NULL;
        ret->creds = creds && *creds ? creds : NULL;
        return 0;
}

static const char *opt_string(const VlJson *params, const char *key) {
        const char *s = vl_json_get_string(vl_json_object_get(params, key));
        return s && *s ? s : NULL;
}

static int reply_registry_error(VlCall *call, int r, const CpodError *err, const char *name) {
        if (r == -ENOENT)
                return ext_reply_error(call, "ImageNotFound", "id", name, r, err);
        return ext_reply_error(call, "ErrorOccurred", NULL, NULL, r, err);
}

static int method_pull(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const char *name = ext_required_string(call, params, "name");
        PullOptions o = {};
        CpodError err = {};
        Progress p;
        char **ids = NULL;
        size_t n = 0;
        Engine *e;

        if (!name || access_options(call, userdata, params, &o.registry) < 0)
                return 0;
        o.registry.os = opt_string(params, "os");
        o.registry.arch = opt_string(params, "arch");
        o.registry.variant = opt_string(params, "variant");
        if (service_engine(userdata, call, &e) < 0)
                return 0;
        if (progress_init(&p, call, &o.progress) < 0)
                return -ENOMEM;
        int r = image_pull(e, name, &o, &ids, &n, &err);
        if (r < 0)
                r = reply_registry_error(call, r, &err, name);
        else if (p.error == -ENOMEM)
                r = -ENOMEM;
        else
                r = progress_finish(&p, n > 0 ? ids[0] : "");
        progress_done(&p);
        registry_strv_free(ids, n);
        return r;
}

static int method_push(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const char *name = ext_required_string(call, params, "name");
        const char *dest = opt_string(params, "destination");
        char digest[DIGEST_MAX] = "";
        PushOptions o = {};
        CpodError err = {};
        Progress p;
        Engine *e;

        if (!name || access_options(call, userdata, params, &o.registry) < 0)
                return 0;
        if (service_engine(userdata, call, &e) < 0)
                return 0;
        if (progress_init(&p, call, &o.progress) < 0)
                return -ENOMEM;
        int r = image_push(e, name, dest, &o, digest, &err);
        if (r < 0)
                r = reply_registry_error(call, r, &err, name);
        else if (p.error == -ENOMEM)
                r = -ENOMEM;
        else
                r = progress_finish(&p, digest);
        progress_done(&p);
        return r;
}

int ext_registry_bind(VlServer *s, Service *svc) {
        int r = vl_server_bind(s, CPOD_IFACE ".PullImage", method_pull, svc);
        return r < 0 ? r : vl_server_bind(s, CPOD_IFACE ".PushImage", method_push, svc);
}
