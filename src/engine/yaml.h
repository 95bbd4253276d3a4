/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A small YAML subset, enough for Kubernetes manifests: block mappings and
 * sequences (indentation-based, a sequence may sit at its key's indent),
 * plain, single-quoted and double-quoted scalars (each on one line), flow
 * sequences and mappings on one line, comments and `---` / `...` document
 * markers. Anchors, aliases, tags, block scalars (| >), complex keys and
 * multi-line scalars are refused with an error naming the line.
 *
 * Scalars stay strings (the schema decides what is a number, at use); an
 * empty value is null. The writer quotes every string that would read back
 * as something else, so parse(write(v)) equals v for what parse returns.
 */

#include <stddef.h>

#include <vl/json.h>

#include "error.h"

#define YAML_MAX_SIZE  (1024u * 1024u)
#define YAML_MAX_DEPTH 64u

/* Parse a stream into an array of documents (empty for an empty stream). Errors name the line:
 * "line 3: mapping values are not allowed here"; -EINVAL, -E2BIG (over 1 MiB), -ENOMEM. */
int yaml_parse(const char *text, size_t len, VlJson **ret, CpodError *err);

/* Append one document (no `---`) to b; strings, numbers, booleans, null, arrays and objects.
 * -ENOMEM, -ELOOP when deeper than YAML_MAX_DEPTH. */
int yaml_write(VlBuf *b, const VlJson *v);
/* Append a stream: the documents of the array docs, separated by `---`. */
int yaml_write_stream(VlBuf *b, const VlJson *docs);
