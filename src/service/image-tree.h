/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The text of `image tree`, written by the service (ImageTree) and by the CLI's local image tree alike. */

#include <vl/json.h>

#include "image.h"

/*
 * Append ref's layer tree to out: "Image ID", "Tags", "Size", then one line per layer (bottom first) with
 * its size and the tagged images whose top layer it is. -ENOENT (err set) when ref names no image.
 */
int image_tree_text(Engine *e, const char *ref, VlBuf *out, CpodError *err);
