/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Limits and layout constants of the IDL module, shared by its sources and tests. */

/* The parser refuses descriptions larger than this (bytes). */
#define VL_IDL_MAX_SIZE (1024u * 1024u)

/* How deeply type constructors ("?", "[]", "[string]", "(...)") may nest. */
#define VL_IDL_MAX_DEPTH 64u

/* The canonical format keeps lines within this many columns where it can. */
#define VL_IDL_FORMAT_WIDTH 80u

/* A struct or enum whose one-line form is longer than this is broken into
 * one field per line, as libvarlink's `varlink format` does. */
#define VL_IDL_FORMAT_INLINE_MAX 40u
