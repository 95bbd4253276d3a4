/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-manifest: the input as a manifest or index and as an image config.
 * What is accepted satisfies the documented checks; what is refused says why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_descriptor(const Descriptor *d) {
        if (!digest_valid(d->digest) || d->size < 0 || !d->media_type || !d->media_type[0])
                abort();
}

static void fuzz_manifest(const char *json, size_t size) {
        CpodError err = {};
        Manifest m = {};

        if (manifest_parse(json, size, NULL, &m, &err) < 0) {
                if (!err.message[0] || err.code <= 0)
                        abort();
                return;
        }
        if (!m.media_type || m.n_layers > MANIFEST_MAX_LAYERS)
                abort();
        for (size_t i = 0; i < m.n_layers; i++)
                check_descriptor(&m.layers[i]);
        if (m.is_index) {
                const Descriptor *d = manifest_select(&m, NULL, NULL, NULL);
                if (d && (d < m.layers || d >= m.layers + m.n_layers))
                        abort();
                d = manifest_select(&m, "linux", "arm64", "v8");
                if (d && (d < m.layers || d >= m.layers + m.n_layers))
                        abort();
        } else
                check_descriptor(&m.config);
        manifest_done(&m);
}

static void fuzz_config(const char *json, size_t size) {
        CpodError err = {};
        ImageConfig c = {};
        char buf[64];

        if (image_config_parse(json, size, &c, &err) < 0) {
                if (!err.message[0])
                        abort();
                return;
        }
        if (c.n_diff_ids > MANIFEST_MAX_LAYERS)
                abort();
        for (size_t i = 0; i < c.n_diff_ids; i++)
                if (!digest_valid(c.diff_ids[i]))
                        abort();
        rfc3339_format(c.created, 0, buf, sizeof(buf));
        image_config_done(&c);
}

static void fuzz_time(const uint8_t *data, size_t size) {
        char s[64], buf[64];
        int64_t sec, again;
        int32_t ns, ns2;

        if (size >= sizeof(s))
                return;
        memcpy(s, data, size);
        s[size] = 0;
        if (rfc3339_parse(s, &sec, &ns) < 0)
                return;
        if (ns < 0 || ns >= 1000000000)
                abort();
        /* The formatted form reads back as the same instant. */
        rfc3339_format(sec, ns, buf, sizeof(buf));
        if (rfc3339_parse(buf, &again, &ns2) < 0 || again != sec || ns2 != ns)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        fuzz_manifest((const char *)data, size);
        fuzz_config((const char *)data, size);
        fuzz_time(data, size);
        return 0;
}
