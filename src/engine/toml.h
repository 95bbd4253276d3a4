/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A small TOML parser (TOML 1.0 subset used by containers.conf and
 * registries.conf): tables, arrays of tables, dotted and quoted keys,
 * basic and literal strings (single and multi-line), integers, floats,
 * booleans, arrays, inline tables. Dates are kept as strings. The result
 * is a libvl JSON object, so callers use vl_json_* accessors on it.
 */

#include <stddef.h>

#include <vl/json.h>

#include "error.h"

/* Errors name the line: "line 3: expected '=' after key". */
int toml_parse(const char *text, size_t len, VlJson **ret, CpodError *err);
