/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A Go text/template subset for --format: text and actions {{ ... }} with
 * fields (.Field, .Field.Sub), the pipeline functions podman users write
 * (json, upper, lower, title, truncate N, join SEP, printf), "table"
 * prefixes handled by the caller, {{range .X}}...{{end}}, {{if .X}}...
 * {{else}}...{{end}}, and \t and \n escapes in the text. Data is a libvl
 * JSON value; field names match JSON member names case-sensitively first,
 * then case-insensitively.
 */

#include <vl/json.h>

#include "error.h"

typedef struct Template Template;

/* Parse; errors say where ("template: 1:7: unclosed action"). */
int template_parse(const char *text, Template **ret, CpodError *err);
Template *template_free(Template *t);
/* Append the rendering for data to out. */
int template_render(const Template *t, const VlJson *data, VlBuf *out, CpodError *err);
/* True for podman's "table ..." form; *ret_rest points after "table". */
bool template_is_table(const char *text, const char **ret_rest);
