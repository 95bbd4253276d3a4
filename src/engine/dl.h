/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * libarchive (writing tar files only), zlib, libzstd and libcurl, loaded
 * when first needed. Most cpod commands (`cpod images`, `inspect`, `tag`)
 * use none of them, and mapping them (with libarchive's libxml2, ICU and
 * libstdc++) at every start cost more than the rest of such a command.
 * Reading layers needs only zlib or libzstd, and only for a stream
 * compressed that way; SHA-256 is our own (sha256-lite.h). dl.c defines the functions the engine calls
 * under the libraries' own names, forwarding to the loaded library, so call
 * sites stay as they are and the binary does not link either library.
 *
 * A wrapper called while its library cannot be loaded fails the way the
 * library reports failure (NULL, ARCHIVE_FATAL, 0); entry points call the
 * loaders below first to give the user a clear error instead.
 */

#include "error.h"

#define DL_ARCHIVE_SONAME "libarchive.so.13"
#define DL_ZLIB_SONAME    "libz.so.1"
#define DL_ZSTD_SONAME    "libzstd.so.1"
#define DL_CURL_SONAME    "libcurl.so.4"

/* Load the library once (later calls return the first result): 0, or -ELIBACC
 * with "cannot load libarchive.so.13: <dlerror>". */
int dl_archive_load(CpodError *err);
int dl_zlib_load(CpodError *err);
int dl_zstd_load(CpodError *err);
int dl_curl_load(CpodError *err);
