/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Lazy loading of libarchive, zlib, libzstd and libcurl (see dl.h). Each library is
 * opened once, RTLD_LOCAL so its symbols do not leak into the global scope,
 * and every function the engine uses is resolved into a table at that
 * moment: a library missing one of them fails to load as a whole, rather
 * than at some later call.
 */

#include <archive.h>
#include <stdarg.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
/* the type-checking macros would hide the wrappers' names */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "dl.h"

/* X(return type, name, (parameters), (arguments), value when unavailable) */
#define ARCHIVE_FUNCS(X)                                                                                    \
        X(struct archive *, archive_write_new, (void), (), NULL)                                            \
        X(int, archive_write_free, (struct archive * a), (a), ARCHIVE_FATAL)                                \
        X(int, archive_write_close, (struct archive * a), (a), ARCHIVE_FATAL)                               \
        X(int, archive_write_set_format_pax_restricted, (struct archive * a), (a), ARCHIVE_FATAL)           \
        X(int, archive_write_set_bytes_in_last_block, (struct archive * a, int n), (a, n), ARCHIVE_FATAL)   \
        X(int, archive_write_open,                                                                          \
          (struct archive * a, void *data, archive_open_callback *o, archive_write_callback *w,             \
           archive_close_callback *c),                                                                      \
          (a, data, o, w, c), ARCHIVE_FATAL)                                                                \
        X(int, archive_write_header, (struct archive * a, struct archive_entry * e), (a, e), ARCHIVE_FATAL) \
        X(la_ssize_t, archive_write_data, (struct archive * a, const void *p, size_t n), (a, p, n), -1)     \
        X(const char *, archive_error_string, (struct archive * a), (a), dl_archive_error)                  \
        X(struct archive_entry *, archive_entry_new, (void), (), NULL)                                      \
        X(struct archive_entry *, archive_entry_clear, (struct archive_entry * e), (e), NULL)

/* The same for functions without a result: nothing happens when unavailable. */
#define ARCHIVE_VOID_FUNCS(X)                                                                  \
        X(archive_entry_free, (struct archive_entry * e), (e))                                 \
        X(archive_entry_copy_stat, (struct archive_entry * e, const struct stat *st), (e, st)) \
        X(archive_entry_set_pathname, (struct archive_entry * e, const char *s), (e, s))       \
        X(archive_entry_set_hardlink, (struct archive_entry * e, const char *s), (e, s))       \
        X(archive_entry_set_symlink, (struct archive_entry * e, const char *s), (e, s))        \
        X(archive_entry_set_filetype, (struct archive_entry * e, unsigned int t), (e, t))      \
        X(archive_entry_set_perm, (struct archive_entry * e, __LA_MODE_T m), (e, m))           \
        X(archive_entry_set_size, (struct archive_entry * e, la_int64_t n), (e, n))            \
        X(archive_entry_set_uid, (struct archive_entry * e, la_int64_t n), (e, n))             \
        X(archive_entry_set_gid, (struct archive_entry * e, la_int64_t n), (e, n))             \
        X(archive_entry_set_rdev, (struct archive_entry * e, dev_t d), (e, d))                 \
        X(archive_entry_set_mtime, (struct archive_entry * e, time_t t, long ns), (e, t, ns))  \
        X(archive_entry_xattr_add_entry,                                                       \
          (struct archive_entry * e, const char *n, const void *v, size_t s), (e, n, v, s))

#define ZLIB_FUNCS(X)                                                                 \
        X(int, inflateInit2_, (z_streamp z, int bits, const char *version, int size), \
          (z, bits, version, size), Z_VERSION_ERROR)                                  \
        X(int, inflate, (z_streamp z, int flush), (z, flush), Z_STREAM_ERROR)         \
        X(int, inflateReset, (z_streamp z), (z), Z_STREAM_ERROR)                      \
        X(int, inflateEnd, (z_streamp z), (z), Z_STREAM_ERROR)
#define ZLIB_VOID_FUNCS(X)

#define ZSTD_FUNCS(X)                                                                                     \
        X(ZSTD_DStream *, ZSTD_createDStream, (void), (), NULL)                                           \
        X(size_t, ZSTD_freeDStream, (ZSTD_DStream * z), (z), 0)                                           \
        X(size_t, ZSTD_DCtx_setParameter, (ZSTD_DCtx * z, ZSTD_dParameter p, int v), (z, p, v), SIZE_MAX) \
        X(size_t, ZSTD_decompressStream, (ZSTD_DStream * z, ZSTD_outBuffer * o, ZSTD_inBuffer * i),       \
          (z, o, i), SIZE_MAX)                                                                            \
        X(unsigned, ZSTD_isError, (size_t code), (code), 1)                                               \
        X(const char *, ZSTD_getErrorName, (size_t code), (code), dl_zstd_error)
#define ZSTD_VOID_FUNCS(X)

#define CURL_FUNCS(X)                                                                                   \
        X(CURLcode, curl_global_init, (long f), (f), CURLE_FAILED_INIT)                                 \
        X(CURL *, curl_easy_init, (void), (), NULL)                                                     \
        X(CURLcode, curl_easy_perform, (CURL * c), (c), CURLE_FAILED_INIT)                              \
        X(const char *, curl_easy_strerror, (CURLcode e), (e), dl_curl_error)                           \
        X(char *, curl_easy_escape, (CURL * c, const char *s, int n), (c, s, n), NULL)                  \
        X(struct curl_slist *, curl_slist_append, (struct curl_slist * l, const char *s), (l, s), NULL) \
        X(CURLM *, curl_multi_init, (void), (), NULL)                                                   \
        X(CURLMcode, curl_multi_add_handle, (CURLM * m, CURL * c), (m, c), CURLM_INTERNAL_ERROR)        \
        X(CURLMcode, curl_multi_remove_handle, (CURLM * m, CURL * c), (m, c), CURLM_INTERNAL_ERROR)     \
        X(CURLMcode, curl_multi_perform, (CURLM * m, int *n), (m, n), CURLM_INTERNAL_ERROR)             \
        X(CURLMcode, curl_multi_poll, (CURLM * m, struct curl_waitfd * w, unsigned n, int t, int *ret), \
          (m, w, n, t, ret), CURLM_INTERNAL_ERROR)                                                      \
        X(CURLMsg *, curl_multi_info_read, (CURLM * m, int *n), (m, n), NULL)                           \
        X(CURLMcode, curl_multi_cleanup, (CURLM * m), (m), CURLM_INTERNAL_ERROR)

/* Variadic functions: in the table, wrapped by hand below. */
#define CURL_VARIADIC_FUNCS(X)                                                              \
        X(CURLcode, curl_easy_setopt, (CURL * c, CURLoption o, ...), (), CURLE_FAILED_INIT) \
        X(CURLcode, curl_easy_getinfo, (CURL * c, CURLINFO i, ...), (), CURLE_FAILED_INIT)  \
        X(CURLMcode, curl_multi_setopt, (CURLM * m, CURLMoption o, ...), (), CURLM_INTERNAL_ERROR)

#define CURL_ALL_FUNCS(X) CURL_FUNCS(X) CURL_VARIADIC_FUNCS(X)

#define CURL_VOID_FUNCS(X)                                   \
        X(curl_easy_cleanup, (CURL * c), (c))                \
        X(curl_easy_reset, (CURL * c), (c))                  \
        X(curl_slist_free_all, (struct curl_slist * l), (l)) \
        X(curl_free, (void *p), (p))

#define TABLE_ENTRY(ret, name, params, args, fail) ret(*name) params;
#define TABLE_VOID_ENTRY(name, params, args)       void(*name) params;
#define SYMBOL_NAME(ret, name, params, args, fail) #name,
#define SYMBOL_VOID_NAME(name, params, args)       #name,

#define DL_MAX_SYMBOLS 64

typedef struct DlLibrary {
        const char *soname;
        const char *const *symbols;
        size_t n_symbols;
        void **table; /* n_symbols function pointers, in symbols' order */
        pthread_once_t once;
        bool loaded;
        char error[512];
} DlLibrary;

/* A library's table (a struct of function pointers, in effect an array of them, in the order of its symbol
 * list), the list, and its DlLibrary. */
#define DL_LIBRARY(lib, soname_, FUNCS, VOID_FUNCS)                                                      \
        typedef struct lib##_table_t {                                                                   \
                FUNCS(TABLE_ENTRY)                                                                       \
                VOID_FUNCS(TABLE_VOID_ENTRY)                                                             \
        } lib##_table_t;                                                                                 \
        static lib##_table_t lib##_table;                                                                \
        static const char *const lib##_symbols[] = {FUNCS(SYMBOL_NAME) VOID_FUNCS(SYMBOL_VOID_NAME)};    \
        _Static_assert(sizeof(lib##_table_t) ==                                                          \
                               sizeof lib##_symbols / sizeof(char *) * sizeof(void (*)(void)),           \
                       #lib ": the table and its symbol list disagree");                                 \
        _Static_assert(sizeof lib##_symbols / sizeof(char *) <= DL_MAX_SYMBOLS, "raise DL_MAX_SYMBOLS"); \
        static DlLibrary lib = {                                                                         \
                .soname = soname_,                                                                       \
                .symbols = lib##_symbols,                                                                \
                .n_symbols = sizeof lib##_symbols / sizeof(char *),                                      \
                .table = (void **)&lib##_table,                                                          \
                .once = PTHREAD_ONCE_INIT,                                                               \
        };

DL_LIBRARY(dl_archive, DL_ARCHIVE_SONAME, ARCHIVE_FUNCS, ARCHIVE_VOID_FUNCS)
DL_LIBRARY(dl_zlib, DL_ZLIB_SONAME, ZLIB_FUNCS, ZLIB_VOID_FUNCS)
DL_LIBRARY(dl_zstd, DL_ZSTD_SONAME, ZSTD_FUNCS, ZSTD_VOID_FUNCS)
DL_LIBRARY(dl_curl, DL_CURL_SONAME, CURL_ALL_FUNCS, CURL_VOID_FUNCS)

static void dl_open(DlLibrary *l) {
        void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                const char *e = dlerror();
                snprintf(l->error, sizeof l->error, "cannot load %s: %s", l->soname,
                         e ? e : "unknown error");
                return;
        }
        void *table[DL_MAX_SYMBOLS];
        for (size_t i = 0; i < l->n_symbols; i++) {
                (void)dlerror();
                table[i] = dlsym(h, l->symbols[i]);
                if (!table[i]) {
                        const char *e = dlerror();
                        snprintf(l->error, sizeof l->error, "cannot load %s: %s", l->soname,
                                 e ? e : l->symbols[i]);
                        dlclose(h);
                        return;
                }
        }
        /* Published only complete: a wrapper sees all of the table or none. */
        memcpy(l->table, table, l->n_symbols * sizeof(void *));
        l->loaded = true;
}

static bool dl_ready(DlLibrary *l, void (*open)(void)) {
        (void)pthread_once(&l->once, open);
        return l->loaded;
}

/* Per library: its pthread_once routine, and the public loader. */
#define DL_LOADER(lib)                                            \
        static void lib##_open(void) {                            \
                dl_open(&lib);                                    \
        }                                                         \
        int lib##_load(CpodError *err) {                          \
                if (dl_ready(&lib, lib##_open))                   \
                        return 0;                                 \
                return cpod_error(err, ELIBACC, "%s", lib.error); \
        }

DL_LOADER(dl_archive)
DL_LOADER(dl_zlib)
DL_LOADER(dl_zstd)
DL_LOADER(dl_curl)

/* archive_error_string's answer when there is no library to ask. */
#define dl_archive_error (dl_archive.error[0] ? dl_archive.error : "libarchive is not loaded")
#define dl_zstd_error    (dl_zstd.error[0] ? dl_zstd.error : "libzstd is not loaded")
#define dl_curl_error    (dl_curl.error[0] ? dl_curl.error : "libcurl is not loaded")

#define WRAP(lib, table, ret, name, params, args, fail) \
        ret name params {                               \
                if (!dl_ready(&lib, lib##_open))        \
                        return fail;                    \
                return table.name args;                 \
        }
#define WRAP_VOID(lib, table, name, params, args) \
        void name params {                        \
                if (dl_ready(&lib, lib##_open))   \
                        table.name args;          \
        }

#define WRAP_ARCHIVE(ret, name, params, args, fail) \
        WRAP(dl_archive, dl_archive_table, ret, name, params, args, fail)
#define WRAP_ARCHIVE_VOID(name, params, args)    WRAP_VOID(dl_archive, dl_archive_table, name, params, args)
#define WRAP_ZLIB(ret, name, params, args, fail) WRAP(dl_zlib, dl_zlib_table, ret, name, params, args, fail)
#define WRAP_ZSTD(ret, name, params, args, fail) WRAP(dl_zstd, dl_zstd_table, ret, name, params, args, fail)
#define WRAP_CURL(ret, name, params, args, fail) WRAP(dl_curl, dl_curl_table, ret, name, params, args, fail)
#define WRAP_CURL_VOID(name, params, args)       WRAP_VOID(dl_curl, dl_curl_table, name, params, args)

ARCHIVE_FUNCS(WRAP_ARCHIVE)
ARCHIVE_VOID_FUNCS(WRAP_ARCHIVE_VOID)
ZLIB_FUNCS(WRAP_ZLIB)
ZSTD_FUNCS(WRAP_ZSTD)
CURL_FUNCS(WRAP_CURL)
CURL_VOID_FUNCS(WRAP_CURL_VOID)

/* Options and infos carry their argument's type in their number's range
 * (long, object or function pointer, curl_off_t, blob): pass it on as such. */
CURLcode curl_easy_setopt(CURL *c, CURLoption o, ...) {
        if (!dl_ready(&dl_curl, dl_curl_open))
                return CURLE_FAILED_INIT;
        va_list ap;
        CURLcode r;
        va_start(ap, o);
        if (o < CURLOPTTYPE_OBJECTPOINT)
                r = dl_curl_table.curl_easy_setopt(c, o, va_arg(ap, long));
        else if (o >= CURLOPTTYPE_OFF_T && o < CURLOPTTYPE_BLOB)
                r = dl_curl_table.curl_easy_setopt(c, o, va_arg(ap, curl_off_t));
        else
                r = dl_curl_table.curl_easy_setopt(c, o, va_arg(ap, void *));
        va_end(ap);
        return r;
}

CURLcode curl_easy_getinfo(CURL *c, CURLINFO i, ...) {
        if (!dl_ready(&dl_curl, dl_curl_open))
                return CURLE_FAILED_INIT;
        va_list ap;
        va_start(ap, i);
        CURLcode r = dl_curl_table.curl_easy_getinfo(c, i, va_arg(ap, void *)); /* always a pointer */
        va_end(ap);
        return r;
}

CURLMcode curl_multi_setopt(CURLM *m, CURLMoption o, ...) {
        if (!dl_ready(&dl_curl, dl_curl_open))
                return CURLM_INTERNAL_ERROR;
        va_list ap;
        CURLMcode r;
        va_start(ap, o);
        if (o < CURLOPTTYPE_OBJECTPOINT)
                r = dl_curl_table.curl_multi_setopt(m, o, va_arg(ap, long));
        else if (o >= CURLOPTTYPE_OFF_T && o < CURLOPTTYPE_BLOB)
                r = dl_curl_table.curl_multi_setopt(m, o, va_arg(ap, curl_off_t));
        else
                r = dl_curl_table.curl_multi_setopt(m, o, va_arg(ap, void *));
        va_end(ap);
        return r;
}
