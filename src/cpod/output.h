/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Output of list commands, the way podman prints them: aligned tables (cells padded to at least 12
 * columns, 2 spaces between columns, uppercase headers), "--format json" (an indented JSON array), and
 * "--format" Go templates rendered on each row ("table ..." adds the headers and aligns).
 */

#include <stdbool.h>
#include <stdint.h>
#include <vl/json.h>

#include "error.h"

typedef struct OutputColumn {
        const char *field;  /* member of the row object, and the template field name */
        const char *header; /* "IMAGE ID" */
        bool hidden;        /* a template field, not in the default table */
} OutputColumn;

typedef struct Output {
        const char *format; /* NULL or "": the default table; "json"; a template */
        bool noheading;
} Output;

/* True when format asks for JSON ("json", "{{json .}}"). */
bool output_is_json(const char *format);

/*
 * Print rows (an array of objects holding the display values of the columns and template fields) as a
 * table, or through the template in o->format. For "json", print json_items (or rows when NULL) as an
 * indented array. Returns 0 or -errno with err set (template errors).
 */
int output_print(const Output *o, const OutputColumn *cols, const VlJson *rows, const VlJson *json_items,
                 CpodError *err);

/* Print tab-separated lines as an aligned table (podman's tabwriter settings) on stdout. */
int output_table_text(const char *text, size_t len);

/* Print a JSON value indented like podman (indent spaces per level), with Go's escaping of <, > and &. */
int output_json(const VlJson *v, unsigned indent);
/* Render a Go template (a "table" prefix is ignored) once per element of items, each ending
 * in a newline, to stdout (inspect --format). */
int output_print_each(const char *format, const VlJson *items, CpodError *err);

/* Sizes in podman's style: 1000-based, precision significant digits ("1.99 MB" with space, "1.988MB"
 * without). buf holds at least 32 bytes. */
const char *output_size(uint64_t bytes, int precision, bool space, char *buf, size_t n);
/* "Less than a second ago", "5 minutes ago", "About an hour ago", "3 days ago" (go-units' HumanDuration). */
const char *output_since(int64_t when, char *buf, size_t n);
/* "2006-01-02 15:04:05 +0000 UTC"-like local time podman prints for CreatedAt. */
const char *output_time(int64_t when, char *buf, size_t n);

/* "9b999afebeac" unless no_trunc. */
const char *output_id(const char *id, bool no_trunc, char *buf, size_t n);
