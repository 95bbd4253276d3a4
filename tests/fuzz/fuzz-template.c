/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-template: the input as a --format template, rendered against a fixed
 * object like an image listing. Errors carry a "template: " position, a
 * failed render leaves the output untouched, and nothing leaks.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vl/json.h>

#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed[] =
        "{\"ID\":\"0123456789abcdef\",\"Names\":[\"a\",\"b\"],\"Labels\":{\"foo\":\"bar\",\"x.y\":\"z\"},"
        "\"Dangling\":false,\"Size\":1234,\"Ratio\":0.25,\"Null\":null,\"Empty\":[],"
        "\"Ports\":[{\"host\":80,\"proto\":\"tcp\"},{\"host\":53,\"proto\":\"udp\"}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static VlJson *obj;
        CpodError err = {};
        VlBuf out = VL_BUF_INIT;
        Template *t = NULL;
        char *text;

        if (!obj && vl_json_parse(fixed, strlen(fixed), NULL, &obj, NULL) < 0)
                abort();
        if (size > 70000)
                return 0;
        text = strndup((const char *)data, size);
        if (!text)
                return 0;
        if (template_parse(text, &t, &err) < 0) {
                if (strncmp(err.message, "template: ", 10) != 0)
                        abort();
                free(text);
                return 0;
        }
        if (vl_buf_append_str(&out, "x") < 0)
                abort();
        if (template_render(t, obj, &out, &err) < 0) {
                if (strncmp(err.message, "template: ", 10) != 0 || out.len != 1)
                        abort();
        }
        (void)template_is_table(text, &(const char *){NULL});
        vl_buf_free(&out);
        template_free(t);
        free(text);
        return 0;
}
