/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-json: whatever parses must serialize (compact, pretty, ASCII), read
 * back equal, and the compact form must be a fixed point. Any mismatch
 * aborts.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vl/json.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parses text (which the writer produced) or aborts. */
static VlJson *reparse(const char *text) {
        /* Our own output of an accepted document: same depth, any size. */
        VlJsonLimits limits = {.max_size = SIZE_MAX};
        VlJson *v = NULL;
        if (!text || vl_json_parse(text, strlen(text), &limits, &v, NULL) < 0)
                abort();
        return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        VlJson *v = NULL;
        VlJsonError err;

        if (vl_json_parse((const char *)data, size, NULL, &v, &err) < 0) {
                if (err.offset > size || !err.message[0] || err.line == 0 || err.column == 0)
                        abort();
                return 0;
        }

        char *compact = vl_json_to_string(v, VL_JSON_FORMAT_COMPACT);
        char *pretty = vl_json_to_string(v, VL_JSON_FORMAT_PRETTY | VL_JSON_FORMAT_NEWLINE);
        char *ascii = vl_json_to_string(v, VL_JSON_FORMAT_ASCII);
        char *color = vl_json_to_string(v, VL_JSON_FORMAT_COLOR | VL_JSON_FORMAT_PRETTY);
        if (!color)
                abort();

        VlJson *c = reparse(compact), *p = reparse(pretty), *a = reparse(ascii), *copy = vl_json_copy(v);
        if (!vl_json_equal(v, c) || !vl_json_equal(v, p) || !vl_json_equal(v, a) ||
            !vl_json_equal(v, copy) || !vl_json_equal(c, v))
                abort();
        for (const char *s = ascii; *s; s++)
                if ((unsigned char)*s >= 0x80)
                        abort();

        char *again = vl_json_to_string(c, VL_JSON_FORMAT_COMPACT);
        if (!again || strcmp(again, compact) != 0)
                abort();

        free(again);
        vl_json_unref(copy);
        vl_json_unref(a);
        vl_json_unref(p);
        vl_json_unref(c);
        free(color);
        free(ascii);
        free(pretty);
        free(compact);
        vl_json_unref(v);
        return 0;
}
