/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Registries: an OCI distribution (v2) client (libcurl for https, http.c for
 * http), and what is built on it: pull, push, search, login/logout, remote
 * manifest inspection.
 *
 * Endpoints are https (libcurl, loaded on first use); a registry marked
 * insecure in registries.conf, or a client with tls_verify false, skips
 * certificate checks, and is plain http when a TLS probe of its port finds
 * no TLS server there (decided once per client); http endpoints are served
 * by cpod's own HTTP/1.1 client (http.h) and never load libcurl. Credentials come from RegistryOptions'
 * creds, else from auth.json ({"auths": {"host": {"auth": base64(user:pass)}}},
 * at authfile, $REGISTRY_AUTH_FILE, or ${XDG_RUNTIME_DIR}/containers/auth.json,
 * else /run/containers/<uid>/auth.json). A 401 answer's WWW-Authenticate
 * challenge picks Basic or Bearer; bearer tokens are fetched from the
 * challenge's realm and cached per scope for the client's lifetime.
 *
 * Every size a registry controls is bounded: manifests by MANIFEST_MAX_SIZE,
 * blobs by their descriptor's size, JSON answers (tokens, catalogs, tag
 * lists) by REGISTRY_JSON_MAX.
 *
 * Nothing here prints: status lines and byte counts go to the callbacks of
 * RegistryProgress.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "engine.h"
#include "error.h"

#define REGISTRY_JSON_MAX       (8u * 1024u * 1024u)
#define REGISTRY_MAX_PARALLEL   3u
#define REGISTRY_CATALOG_MAX    100000u
#define REGISTRY_ERROR_BODY_MAX 4096u

typedef struct RegistryProgress {
        /* A status line ("Copying blob sha256:…", "Writing manifest to image destination"). */
        void (*message)(const char *line, void *userdata);
        /* Bytes of a blob transferred so far (total from its descriptor); called as data moves,
         * and once with done == total when the blob is complete or was already there. */
        void (*progress)(const char *digest, uint64_t done, uint64_t total, void *userdata);
        void *userdata;
} RegistryProgress;

typedef struct RegistryOptions {
        const char *authfile;        /* NULL: the default location */
        const char *creds;           /* "user[:password]", overrides auth.json */
        const char *cert_dir;        /* NULL: /etc/containers/certs.d/<host> */
        int tls_verify;              /* -1: registries.conf decides, else 0/1 */
        const char *registries_conf; /* NULL: the default */
        /* index platform selection; NULL fields mean this machine's */
        const char *os, *arch, *variant;
} RegistryOptions;

/* ---- the protocol client ---- */

typedef struct RegistryClient RegistryClient;

/* A client for one registry host ("quay.io", "127.0.0.1:5000"); docker.io
 * is reached at registry-1.docker.io. Fails with -EACCES for a host
 * registries.conf blocks. */
int registry_client_new(const char *host, const RegistryOptions *o, RegistryClient **ret, CpodError *err);
RegistryClient *registry_client_free(RegistryClient *c);
const char *registry_client_host(const RegistryClient *c);

/* GET (or HEAD when ret_body is NULL) a manifest by tag or digest. Returns
 * the body (NUL-terminated, at most MANIFEST_MAX_SIZE), its media type
 * (from Content-Type) and its digest (computed from the body; for HEAD,
 * Docker-Content-Digest). A digest reference is checked against the body.
 * -ENOENT when the registry does not know it. Any output may be NULL. */
int registry_get_manifest(RegistryClient *c, const char *repo, const char *reference, char **ret_body,
                          size_t *ret_len, char **ret_media_type, char ret_digest[DIGEST_MAX],
                          CpodError *err);
/* PUT a manifest byte for byte under reference (a tag or its digest). */
int registry_put_manifest(RegistryClient *c, const char *repo, const char *reference, const char *body,
                          size_t len, const char *media_type, CpodError *err);

/* 1 if the repository has the blob (HEAD), 0 if not. */
int registry_blob_exists(RegistryClient *c, const char *repo, const char *digest, CpodError *err);
/* Ask the registry to mount a blob from another repository of it: 1 when
 * mounted, 0 when it wants an upload instead. */
int registry_blob_mount(RegistryClient *c, const char *repo, const char *digest, const char *from_repo,
                        CpodError *err);
/* Upload size bytes of fd (read with pread from offset 0) as digest:
 * POST, then one PUT (chunk_size 0) or PATCHes of chunk_size bytes and a
 * final PUT ?digest=. */
int registry_blob_upload(RegistryClient *c, const char *repo, const char *digest, int fd, uint64_t size,
                         uint64_t chunk_size, const RegistryProgress *p, CpodError *err);

/* Download blobs of a repository into the engine's blob store, at most
 * REGISTRY_MAX_PARALLEL at once, each verified against its digest and size
 * before it appears. Blobs already in the store are skipped. Progress and
 * messages are reported on the calling thread. */
typedef struct RegistryBlob {
        const char *digest;
        uint64_t size;
        bool quiet; /* no progress reports (a config) */
        /* Optional, for streaming the blob elsewhere while it downloads (a layer's extraction):
         * on_data sees every byte as it arrives, on any thread (a negative return fails the blob);
         * on_end is called once when the blob's download ends: 0 when it is complete, verified and
         * stored, 1 when it was skipped (already stored: nothing went to on_data), else the error.
         * A blob never started (another one failed first) gets no call. */
        int (*on_data)(const void *p, size_t n, void *userdata);
        void (*on_end)(int result, void *userdata);
        void *userdata;
} RegistryBlob;
int registry_fetch_blobs(RegistryClient *c, Engine *e, const char *repo, const RegistryBlob *blobs, size_t n,
                         const RegistryProgress *p, CpodError *err);

/* The registry's catalog (following Link pages, at most REGISTRY_CATALOG_MAX
 * names) and a repository's tags. Free with registry_strv_free. */
int registry_catalog(RegistryClient *c, char ***ret, size_t *ret_n, CpodError *err);
int registry_tags(RegistryClient *c, const char *repo, char ***ret, size_t *ret_n, CpodError *err);
void registry_strv_free(char **v, size_t n);

/* Check the client's credentials against /v2/ (answering its challenge):
 * 0 when accepted, -EACCES when refused. */
int registry_check_login(RegistryClient *c, CpodError *err);

/* ---- WWW-Authenticate and auth.json (registry-auth.c) ---- */

#define REGISTRY_CHALLENGE_MAX 4096u

typedef enum RegistryScheme {
        REGISTRY_SCHEME_NONE,
        REGISTRY_SCHEME_BASIC,
        REGISTRY_SCHEME_BEARER,
} RegistryScheme;

typedef struct RegistryChallenge {
        RegistryScheme scheme;
        char *realm, *service, *scope; /* NULL when absent */
} RegistryChallenge;

/* Parse a WWW-Authenticate value (RFC 7235: a scheme, then comma-separated
 * auth-params with token or quoted-string values). The first Basic or
 * Bearer challenge wins; other schemes are skipped. -EINVAL for malformed
 * input or a value over REGISTRY_CHALLENGE_MAX bytes; -EPROTONOSUPPORT when no
 * known scheme is offered. */
int registry_challenge_parse(const char *value, RegistryChallenge *ret);
void registry_challenge_done(RegistryChallenge *c);

/* The auth.json path in effect (malloc'ed). */
int registry_authfile_path(const char *authfile, char **ret, CpodError *err);
/* The credentials for a host (a "host/namespace/repo" key wins over "host",
 * longest first). 0 with NULL outputs when there are none. */
int registry_auth_lookup(const char *authfile, const char *host, const char *repo, char **ret_user,
                         char **ret_pass, CpodError *err);
/* Store or replace credentials for key (a host, or host/namespace),
 * atomically, keeping other entries and fields, mode 0600. */
int registry_auth_store(const char *authfile, const char *key, const char *user, const char *pass,
                        CpodError *err);
/* Remove the entry for key (NULL: every entry). -ENOENT when key has none. */
int registry_auth_remove(const char *authfile, const char *key, CpodError *err);
/* Standard base64 (with padding); malloc'ed, NUL-terminated. */
char *registry_base64_encode(const void *p, size_t n);
/* Decode standard base64 (padding optional); -EINVAL for bad input. */
int registry_base64_decode(const char *s, char **ret, size_t *ret_len);

/* ---- what the commands do ---- */

typedef struct PullOptions {
        RegistryOptions registry;
        bool all_tags;
        RegistryProgress progress;
} PullOptions;

/*
 * Pull a reference: a short name tries the alias, else each unqualified
 * search registry in turn ("Trying to pull …" for each); an index is
 * narrowed to the requested platform. Blobs are downloaded in parallel and
 * verified, layers extracted, and the image recorded with its name in one
 * step; a failure leaves no new blob or layer behind (an interrupted
 * process may leave complete blobs, which a retry reuses). Returns the IDs
 * pulled (several with all_tags), malloc'ed.
 */
int image_pull(Engine *e, const char *ref, const PullOptions *o, char ***ret_ids, size_t *ret_n,
               CpodError *err);

typedef struct PushOptions {
        RegistryOptions registry;
        uint64_t chunk_size; /* 0: monolithic uploads */
        RegistryProgress progress;
} PushOptions;

/*
 * Push a local image to dest: "docker://REF" or a plain reference (a
 * registry; NULL: the image's own name), "oci-archive:PATH[:REF]",
 * "docker-archive:PATH[:REF]" or "oci:PATH[:REF]". Blobs the repository
 * has are skipped, others mounted from another repository of the same
 * registry when the image came from one, else uploaded; the manifest goes
 * last, byte for byte as stored, so digests stay those of the source.
 * ret_digest (may be NULL) receives the manifest digest.
 */
int image_push(Engine *e, const char *src, const char *dest, const PushOptions *o,
               char ret_digest[DIGEST_MAX], CpodError *err);

typedef struct SearchResult {
        char *name; /* "host/repo" */
        char *tag;  /* with list_tags, else NULL */
} SearchResult;

/* Search term "host/term" (or "term": each unqualified search registry)
 * in registries' catalogs; with list_tags, term names one repository whose
 * tags are listed. limit 0: no limit. */
int registry_search(const char *term, const RegistryOptions *o, bool list_tags, size_t limit,
                    SearchResult **ret, size_t *ret_n, CpodError *err);
void search_results_free(SearchResult *r, size_t n);

/* Verify user/pass against a registry ("host" or "host/namespace") and store them. */
int registry_login(const char *server, const char *user, const char *pass, const RegistryOptions *o,
                   CpodError *err);
/* Remove stored credentials for server (NULL: all). */
int registry_logout(const char *server, const RegistryOptions *o, CpodError *err);

/* The manifest (or index) a remote reference names, as the registry sends it. */
int registry_inspect_manifest(const char *ref, const RegistryOptions *o, char **ret, size_t *ret_len,
                              CpodError *err);
