/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Remote images: the listing of cmd-images.c (images-rows.h), its images from io.podman's Image records;
 * pull and push (PullImage, PushImage streamed with more; io.cpod's when a registry option io.podman lacks
 * is given, with the credential from --creds or the client's auth file), load, save and import (the archive
 * crosses with SendFile/ReceiveFile on a connection of its own, then LoadImage, ImageSave or ImportImage),
 * search, image exists, prune and tree; image export, mount and umount through io.cpod (ExportImageRootfs,
 * then ReceiveFile; MountImage, UnmountImage, UnmountAllImages). save --format oci-dir fetches an
 * oci-archive and unpacks it on the client. login, logout and manifest inspect only touch the client's auth
 * file and the registry: they run as in local mode.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vl/varlink.h>

#include "cmd-container.h"
#include "cmd-load.h"
#include "cmd-registry.h"
#include "images-rows.h"
#include "layer.h"
#include "manifest.h"
#include "output.h"
#include "reference.h"
#include "remote-ext.h"
#include "transfer.h"

static int remote_created_of(ImageSet *set, const char *ref, int64_t *ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        int32_t nsec = 0;
        int r;

        r = remote_call(set->cli, "GetImage", remote_params1("id", ref), &reply, err);
        if (r < 0)
                return r;
        (void)rfc3339_parse(
                vl_json_get_string(vl_json_object_get(vl_json_object_get(reply, "image"), "created")) ?: "",
                ret, &nsec);
        return 0;
}

/* An Image from an io.podman Image record, and the config holding its labels ({} and absent: none). */
static int image_from_record(const VlJson *rec, Image *img, VlJson **ret_config) {
        const VlJson *tags = vl_json_object_get(rec, "repoTags"),
                     *digests = vl_json_object_get(rec, "repoDigests");
        const VlJson *labels = vl_json_object_get(rec, "labels");
        int32_t nsec = 0;

        snprintf(img->id, sizeof(img->id), "%s", vl_json_get_string(vl_json_object_get(rec, "id")) ?: "");
        snprintf(img->manifest_digest, sizeof(img->manifest_digest), "%s",
                 vl_json_get_string(vl_json_object_get(rec, "digest")) ?: "");
        (void)rfc3339_parse(vl_json_get_string(vl_json_object_get(rec, "created")) ?: "", &img->created,
                            &nsec);
        img->size = (uint64_t)vl_json_get_int(vl_json_object_get(rec, "size"));
        img->containers = (unsigned)vl_json_get_int(vl_json_object_get(rec, "containers"));
        for (size_t i = 0; i < vl_json_array_length(tags); i++)
                if (strv_push(&img->names, &img->n_names, vl_json_get_string(vl_json_array_get(tags, i))) <
                    0)
                        return -ENOMEM;
        for (size_t i = 0; i < vl_json_array_length(digests); i++)
                if (strv_push(&img->digests, &img->n_digests,
                              vl_json_get_string(vl_json_array_get(digests, i))) < 0)
                        return -ENOMEM;
        if (vl_json_object_length(labels) > 0) {
                VlJson *config = vl_json_new_object(), *cc = vl_json_new_object();
                if (!config || !cc || vl_json_object_set(cc, "Labels", vl_json_copy(labels)) < 0 ||
                    vl_json_object_set(config, "config", cc) < 0) {
                        vl_json_unref(config);
                        return -ENOMEM;
                }
                *ret_config = config;
        }
        return 0;
}

int remote_images(Cli *cli, int argc, char **argv) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        ImagesArgs a = {};
        ImageSet set = {.created_of = remote_created_of, .cli = cli};
        CpodError err = {};
        _cleanup_free_ char *ref_filter = NULL;
        const VlJson *recs;
        int r;

        r = images_parse_args(cli, argc, argv, &a, &ref_filter);
        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        r = remote_call(cli, "ListImages", NULL, &reply, &err);
        recs = vl_json_object_get(reply, "images");
        set.n = vl_json_array_length(recs);
        if (r >= 0 && set.n > 0 && (!(set.imgs = calloc(set.n, sizeof(Image))) || image_set_alloc(&set) < 0))
                r = cpod_error(&err, ENOMEM, "out of memory");
        for (size_t i = 0; r >= 0 && i < set.n; i++)
                if (image_from_record(vl_json_array_get(recs, i), &set.imgs[i], &set.configs[i]) < 0)
                        r = cpod_error(&err, ENOMEM, "out of memory");
        if (r >= 0)
                r = images_list(&set, &a, &err);
        image_set_free_rows(&set);
        for (size_t i = 0; set.imgs && i < set.n; i++) {
                strv_free_n(set.imgs[i].names, set.imgs[i].n_names);
                strv_free_n(set.imgs[i].digests, set.imgs[i].n_digests);
        }
        free(set.imgs);
        free(a.filters);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

/* ---- streamed MoreResponse calls: pull, push, load, save ---- */

/* errno of a Varlink error reply, as remote_call maps them. */
static int stream_error(const char *error, const VlJson *reply, CpodError *err) {
        const char *reason = vl_json_get_string(vl_json_object_get(reply, "reason"));
        const char *short_name = strrchr(error, '.') ? strrchr(error, '.') + 1 : error;
        int code = streq(short_name, "ImageNotFound") ? ENOENT
                   : streq(short_name, "MethodNotImplemented") || streq(short_name, "MethodNotFound")
                           ? ENOSYS
                           : EIO;
        if (code == ENOSYS)
                return cpod_error(err, code, "the service does not implement %s", error);
        return cpod_error(err, code, "%s", reason && *reason ? reason : error);
}

/*
 * Call a method answering MoreResponse with more (io.podman's, or another interface's given its full name,
 * "io.cpod.PullImage"); each log line goes to stderr unless quiet, and *ret_id
 * (malloc'ed) is the final reply's id.
 */
static int more_call(Cli *cli, const char *method, const VlJson *params, bool quiet, char **ret_id,
                     CpodError *err) {
        VlClient *c = remote_client(cli);
        const char *error = NULL;
        char full[96];
        bool more = true;
        int r;

        *ret_id = NULL;
        if (!c)
                return cpod_error(err, ECONNREFUSED, "no connection to the service");
        snprintf(full, sizeof(full), "%s%s", strchr(method, '.') ? "" : "io.podman.", method);
        for (bool first = true; more; first = false) {
                _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
                if (first) {
                        r = vl_client_call(c, full, params, VL_CALL_MORE, &reply, &error);
                        more = r == 0 && !error && vl_client_continues(c);
                } else
                        r = vl_client_next(c, &reply, &error, &more);
                if (r < 0)
                        return cpod_error(err, -r, "calling %s: %s", full, strerror(-r));
                if (error)
                        return stream_error(error, reply, err);
                const VlJson *resp = vl_json_object_get(reply, "reply");
                const VlJson *logs = vl_json_object_get(resp, "logs");
                for (size_t i = 0; !quiet && i < vl_json_array_length(logs); i++) {
                        const char *line = vl_json_get_string(vl_json_array_get(logs, i)) ?: "";
                        size_t len = strlen(line);
                        fprintf(stderr, "%s%s", line, len > 0 && line[len - 1] == '\n' ? "" : "\n");
                }
                const char *id = vl_json_get_string(vl_json_object_get(resp, "id"));
                if (id && *id) {
                        free(*ret_id);
                        if (!(*ret_id = strdup(id)))
                                return cpod_error(err, ENOMEM, "out of memory");
                }
        }
        return 0;
}

/* ---- SendFile / ReceiveFile on a connection of their own (an upgrade ends a connection) ---- */

static VlClient *transfer_client(Cli *cli) {
        VlClient *saved = cli->client, *c;

        cli->client = NULL;
        c = remote_client(cli);
        cli->client = saved;
        return c;
}

/* Upgrade-call method on a new connection; on success *ret_fd is the raw socket and *ret_client must be
 * freed once the transfer is over. */
static int transfer_call(Cli *cli, const char *method, const VlJson *params, VlClient **ret_client,
                         VlJson **ret_reply, int *ret_fd, char **ret_pending, size_t *ret_n,
                         CpodError *err) {
        VlClient *c = transfer_client(cli);
        const char *error = NULL;
        VlJson *reply = NULL;
        int r;

        if (!c)
                return cpod_error(err, ECONNREFUSED, "no connection to the service");
        r = vl_client_call(c, method, params, VL_CALL_UPGRADE, &reply, &error);
        if (r < 0)
                r = cpod_error(err, -r, "calling %s: %s", method, strerror(-r));
        else if (error)
                r = stream_error(error, reply, err);
        else if ((r = vl_client_take_upgraded(c, ret_fd, ret_pending, ret_n)) < 0)
                r = cpod_error(err, -r, "%s: %s", method, strerror(-r));
        if (r < 0) {
                vl_json_unref(reply);
                vl_client_free(c);
                return r;
        }
        *ret_client = c;
        *ret_reply = reply;
        return 0;
}

/* Send the file at path to the service's host; *ret_remote (malloc'ed) is where it landed there. */
static int send_file(Cli *cli, const char *path, char **ret_remote, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *params = vl_json_new_object(), *reply = NULL;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *pending = NULL, *buf = NULL;
        VlClient *c = NULL;
        size_t n_pending = 0;
        struct stat st;
        int sock = -1, r;

        if (fd < 0 || fstat(fd, &st) < 0)
                return cpod_error_errno(err, errno, "open %s", path);
        if (!S_ISREG(st.st_mode))
                return cpod_error(err, EINVAL, "%s is not a regular file", path);
        if (!params || vl_json_object_set_string(params, "type", "") < 0 ||
            vl_json_object_set_int(params, "length", st.st_size) < 0 || !(buf = malloc(TRANSFER_CHUNK)))
                return cpod_error(err, ENOMEM, "out of memory");
        r = transfer_call(cli, "io.podman.SendFile", params, &c, &reply, &sock, &pending, &n_pending, err);
        if (r < 0)
                return r;
        r = transfer_copy(sock, fd, (uint64_t)st.st_size, buf);
        if (r < 0)
                r = cpod_error(err, -r, "sending %s: %s", path,
                               r == -EIO ? "the file shrank" : strerror(-r));
        /* the acknowledgement: the path and ':' once everything is stored */
        VlBuf ack = VL_BUF_INIT;
        if (r >= 0 && vl_buf_append(&ack, pending, n_pending) < 0)
                r = cpod_error(err, ENOMEM, "out of memory");
        while (r >= 0 && !memchr(ack.data ?: "", ':', ack.len) && ack.len < 8192) {
                ssize_t k = read(sock, buf, TRANSFER_CHUNK);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        r = cpod_error(err, EPIPE, "sending %s: the service did not store it", path);
                else if (vl_buf_append(&ack, buf, (size_t)k) < 0)
                        r = cpod_error(err, ENOMEM, "out of memory");
        }
        const char *handle = vl_json_get_string(vl_json_object_get(reply, "file_handle"));
        if (r >= 0 && (!handle || !*handle))
                r = cpod_error(err, EPROTO, "SendFile gave no file handle");
        if (r >= 0 && !(*ret_remote = strdup(handle)))
                r = cpod_error(err, ENOMEM, "out of memory");
        vl_buf_free(&ack);
        safe_close(sock);
        vl_client_free(c);
        return r;
}

int remote_receive_file(Cli *cli, const char *remote_path, int out_fd, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *params = remote_params1("path", remote_path), *reply = NULL;
        _cleanup_free_ char *pending = NULL, *buf = malloc(TRANSFER_CHUNK);
        VlClient *c = NULL;
        size_t n_pending = 0;
        int sock = -1, r, w = 0;

        if (!params || !buf || vl_json_object_set_bool(params, "delete", true) < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        r = transfer_call(cli, "io.podman.ReceiveFile", params, &c, &reply, &sock, &pending, &n_pending,
                          err);
        if (r < 0)
                return r;
        int64_t left = vl_json_get_int(vl_json_object_get(reply, "len"));
        if ((int64_t)n_pending > left)
                n_pending = (size_t)left;
        if (n_pending > 0 && out_fd >= 0)
                w = transfer_write_all(out_fd, pending, n_pending);
        left -= (int64_t)n_pending;
        /* read to the end even when writing failed: the service removes the file once it is all sent */
        while (left > 0) {
                ssize_t k = read(sock, buf, left < TRANSFER_CHUNK ? (size_t)left : TRANSFER_CHUNK);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        r = cpod_error(err, EPIPE, "receiving %s: the connection closed early", remote_path);
                        break;
                }
                if (w >= 0 && out_fd >= 0)
                        w = transfer_write_all(out_fd, buf, (size_t)k);
                left -= k;
        }
        if (r >= 0 && w < 0)
                r = cpod_error(err, -w, "writing the archive: %s", strerror(-w));
        safe_close(sock);
        vl_client_free(c);
        return r;
}

/* ---- load ---- */

static int remote_load(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"input", required_argument, NULL, 'i'},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *params = NULL;
        _cleanup_free_ char *tmp = NULL, *remote = NULL, *ids = NULL;
        const char *input = NULL;
        CpodError err = {};
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "i:qh", options)) >= 0) {
                if (c == 'h')
                        return cli_command_help(cli, cli_load_options);
                if (c == 'i')
                        input = optarg;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0)
                return CLI_EXIT_ERROR;
        if (!input && isatty(STDIN_FILENO))
                return cli_error(
                        CLI_EXIT_ERROR,
                        "cannot read from terminal, use command-line redirection or the --input flag");
        if (!input || streq(input, "-")) {
                r = cli_stdin_to_file(&tmp, &err);
                if (r < 0)
                        return cli_engine_error(&err, r);
                input = tmp;
        }
        r = send_file(cli, input, &remote, &err);
        if (tmp)
                unlink(tmp);
        if (r < 0)
                return cli_engine_error(&err, r);
        params = remote_params1("name", "");
        if (!params || vl_json_object_set_string(params, "inputFile", remote) < 0 ||
            vl_json_object_set_bool(params, "quiet", true) < 0 ||
            vl_json_object_set_bool(params, "deleteFile", true) < 0)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        r = more_call(cli, "LoadImage", params, true, &ids, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        /* the names (or IDs) loaded, comma-separated */
        char **names = NULL;
        size_t n = 0;
        for (char *p = ids ?: "", *next; *p; p = next) {
                size_t len = strcspn(p, ",");
                next = p[len] ? p + len + 1 : p + len;
                p[len] = '\0';
                if (*p && strv_push(&names, &n, p) < 0) {
                        cli_print_loaded(names, n);
                        return cli_error(CLI_EXIT_ERROR, "out of memory");
                }
        }
        cli_print_loaded(names, n);
        return CLI_EXIT_OK;
}

/* ---- save ---- */

/*
 * save --format oci-dir: fetch the oci-archive the service wrote at remote into an unnamed spool file,
 * then unpack it into dir, created as local mode creates it (0755, with blobs/sha256). The archive holds
 * the files local mode writes into the directory, so the trees are the same. It is unpacked with the layer
 * extractor's safety rules: no name leaves dir.
 */
static int save_oci_dir(Cli *cli, const char *remote, const char *dir, CpodError *err) {
        const char *tmpdir = getenv("TMPDIR");
        _cleanup_close_ int spool =
                open(tmpdir && *tmpdir ? tmpdir : "/var/tmp", O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
        _cleanup_close_ int dir_fd = -1;
        int r;

        if (spool < 0) {
                r = cpod_error_errno(err, errno, "create a spool file");
                CpodError ignored = {};
                (void)remote_receive_file(cli, remote, -1, &ignored); /* removed from the service's host */
                return r;
        }
        if ((r = remote_receive_file(cli, remote, spool, err)) < 0)
                return r;
        if (lseek(spool, 0, SEEK_SET) < 0)
                return cpod_error_errno(err, errno, "rewind the spool file");
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                r = cpod_error_errno(err, errno, "create `%s`", dir);
        else if ((dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                r = cpod_error_errno(err, errno, "open `%s`", dir);
        else if ((mkdirat(dir_fd, "blobs", 0755) < 0 && errno != EEXIST) ||
                 (mkdirat(dir_fd, "blobs/sha256", 0755) < 0 && errno != EEXIST))
                r = cpod_error_errno(err, errno, "create `%s/blobs/sha256`", dir);
        else
                r = layer_extract_to(spool, dir_fd, err);
        return r < 0 ? cpod_error_wrap(err, "save `%s`", dir) : 0;
}

static int remote_save(Cli *cli, int argc, char **argv) {
        _cleanup_(vl_json_unrefp) VlJson *params = vl_json_new_object(), *o = vl_json_new_object(),
                                         *more = vl_json_new_array();
        _cleanup_free_ char *remote = NULL;
        CliSaveArgs a;
        CpodError err = {};
        int r = cli_save_args(cli, argc, argv, remote_local_help, &a);

        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        ImageFormat format = a.format;
        const char *output = a.output, *format_name = a.format_name;
        if (format != IMAGE_FORMAT_OCI_DIR && (!output || streq(output, "-")) && isatty(STDOUT_FILENO))
                return cli_error(CLI_EXIT_ERROR, "refusing to save to terminal. Use -o flag or redirect");
        if (!params || !o || !more)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        for (int i = optind + 1; i < argc; i++)
                if (vl_json_array_append(more, vl_json_new_string(argv[i])) < 0)
                        return cli_error(CLI_EXIT_ERROR, "out of memory");
        if (vl_json_object_set_string(o, "name", argv[optind]) < 0 ||
            /* an oci-dir arrives as an oci-archive, unpacked here */
            vl_json_object_set_string(o, "format",
                                      format == IMAGE_FORMAT_OCI_DIR ? "oci-archive" : format_name) < 0 ||
            vl_json_object_set_string(o, "output", "") < 0 ||
            vl_json_object_set_string(o, "outputType", "") < 0 ||
            vl_json_object_set(o, "moreTags", TAKE_PTR(more)) < 0 ||
            vl_json_object_set_bool(o, "quiet", true) < 0 ||
            vl_json_object_set_bool(o, "compress", false) < 0 ||
            vl_json_object_set(params, "options", TAKE_PTR(o)) < 0)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        r = more_call(cli, "ImageSave", params, true, &remote, &err);
        if (r == -ENOENT)
                return cli_image_error(argv[optind], &err, r);
        if (r < 0)
                return cli_engine_error(&err, r);
        if (!remote)
                return cli_error(CLI_EXIT_ERROR, "the service did not say where it saved the image");
        if (format == IMAGE_FORMAT_OCI_DIR) {
                r = save_oci_dir(cli, remote, output, &err);
                return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
        }
        _cleanup_close_ int fd = -1;
        if (output && !streq(output, "-")) {
                fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
                if (fd < 0) {
                        /* local mode's words for the same failure */
                        r = cpod_error_errno(&err, errno, "open `%s`", output);
                        (void)cpod_error_wrap(&err, "save `%s`", output);
                        /* fetch it anyway, into nothing, so that it is removed from the service's host */
                        CpodError ignored = {};
                        (void)remote_receive_file(cli, remote, -1, &ignored);
                        return cli_engine_error(&err, r);
                }
        }
        fflush(stdout);
        r = remote_receive_file(cli, remote, fd >= 0 ? fd : STDOUT_FILENO, &err);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

/* ---- import ---- */

static int remote_import(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"change", required_argument, NULL, 'c'},
                {"message", required_argument, NULL, 'm'},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *params = vl_json_new_object(), *changes = vl_json_new_array(),
                                         *reply = NULL;
        _cleanup_free_ char *tmp = NULL, *remote = NULL;
        const char *message = "";
        CpodError err = {};
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "c:m:qh", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                if (c == 'm')
                        message = optarg;
                else if (c == 'c' && vl_json_array_append(changes, vl_json_new_string(optarg)) < 0)
                        return cli_error(CLI_EXIT_ERROR, "out of memory");
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 2) < 0)
                return CLI_EXIT_ERROR;
        const char *source = argv[optind];
        if (streq(source, "-") && isatty(STDIN_FILENO))
                return cli_error(CLI_EXIT_ERROR, "cannot read from terminal, use command-line redirection");
        if (streq(source, "-")) {
                r = cli_stdin_to_file(&tmp, &err);
                if (r < 0)
                        return cli_engine_error(&err, r);
                source = tmp;
        }
        r = send_file(cli, source, &remote, &err);
        if (tmp)
                unlink(tmp);
        if (r < 0)
                return cli_engine_error(&err, r);
        if (!params || !changes || vl_json_object_set_string(params, "source", remote) < 0 ||
            vl_json_object_set_string(params, "reference", optind + 1 < argc ? argv[optind + 1] : "") < 0 ||
            vl_json_object_set_string(params, "message", message) < 0 ||
            vl_json_object_set(params, "changes", TAKE_PTR(changes)) < 0 ||
            vl_json_object_set_bool(params, "delete", true) < 0)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        r = remote_call(cli, "ImportImage", TAKE_PTR(params), &reply, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        const char *id = vl_json_get_string(vl_json_object_get(reply, "image")) ?: "";
        printf("%s%s\n", startswith(id, "sha256:") ? "" : "sha256:", id);
        return CLI_EXIT_OK;
}

/* ---- pull, push ---- */

/* The registry options: --creds, or the credentials the client's auth file (--authfile, else the default)
 * holds for the registry, go to the service; the others ride on io.cpod's PullImage and PushImage. */
enum {
        ARG_AUTHFILE = 0x200,
        ARG_CERT_DIR,
        ARG_CREDS,
        ARG_TLS_VERIFY,
        ARG_PLATFORM,
        ARG_OS,
        ARG_ARCH,
        ARG_VARIANT,
        ARG_IGNORED,
        ARG_DIGESTFILE,
        ARG_FORMAT,
        ARG_LIMIT,
        ARG_LIST_TAGS,
        ARG_NO_TRUNC,
};

#define REMOTE_REGISTRY_LONGOPTS                                                   \
        {"authfile", required_argument, NULL, ARG_AUTHFILE},                       \
                {"cert-dir", required_argument, NULL, ARG_CERT_DIR},               \
                {"creds", required_argument, NULL, ARG_CREDS},                     \
                {"tls-verify", optional_argument, NULL, ARG_TLS_VERIFY},           \
                {"disable-content-trust", optional_argument, NULL, ARG_IGNORED}, { \
                "help", no_argument, NULL, 'h'                                     \
        }

/* The registry options of a remote pull or push. */
typedef struct RemoteRegistry {
        RegistryOptions o;
        bool cpod; /* an option only io.cpod's methods carry */
        char platform[256];
} RemoteRegistry;

/* 1 when c was a registry option, 0 when not, -1 after printing an error. */
static int remote_registry_option(int c, RemoteRegistry *rr) {
        bool b;

        switch (c) {
        case ARG_AUTHFILE:
                rr->o.authfile = optarg;
                return 1;
        case ARG_CREDS:
                rr->o.creds = optarg;
                return 1;
        case ARG_CERT_DIR:
                rr->o.cert_dir = optarg;
                break;
        case ARG_TLS_VERIFY:
                if (cli_parse_bool(optarg, &b) < 0) {
                        cli_error(CLI_EXIT_ERROR, "invalid argument \"%s\" for \"--tls-verify\" flag",
                                  optarg);
                        return -1;
                }
                rr->o.tls_verify = b;
                break;
        case ARG_OS:
                rr->o.os = optarg;
                break;
        case ARG_ARCH:
                rr->o.arch = optarg;
                break;
        case ARG_VARIANT:
                rr->o.variant = optarg;
                break;
        case ARG_PLATFORM:
                if (cli_parse_platform(optarg, rr->platform, sizeof(rr->platform), &rr->o) < 0) {
                        cli_error(CLI_EXIT_ERROR,
                                  "invalid platform syntax for --platform=\"%s\": use OS/ARCH[/VARIANT]",
                                  optarg);
                        return -1;
                }
                break;
        default:
                return 0;
        }
        rr->cpod = true;
        return 1;
}

/*
 * The credentials to send for ref ("user:password", malloc'ed; NULL for none): --creds, else what the
 * client's auth file holds for ref's registry. A reference without a registry, or an archive or layout
 * destination, gets none: the service then uses its own auth file. A default auth file that cannot be read
 * is the same as none; an explicit --authfile must be readable.
 */
static int remote_creds(const RegistryOptions *o, const char *ref, char **ret, CpodError *err) {
        _cleanup_free_ char *user = NULL, *pass = NULL;
        Reference parsed = {};
        CpodError ignored = {};

        *ret = NULL;
        if (o->creds)
                return (*ret = strdup(o->creds)) ? 0 : cpod_error(err, ENOMEM, "out of memory");
        if (startswith(ref, "oci:") || startswith(ref, "oci-archive:") || startswith(ref, "docker-archive:"))
                return 0;
        const char *name = startswith(ref, "docker://") ?: ref;
        if (reference_parse(name, &parsed, &ignored) < 0 || !parsed.domain) {
                reference_done(&parsed);
                return 0;
        }
        int r = registry_auth_lookup(o->authfile, parsed.domain, parsed.path, &user, &pass,
                                     o->authfile ? err : &ignored);
        reference_done(&parsed);
        if (r < 0)
                return o->authfile ? r : 0;
        if (user && asprintf(ret, "%s:%s", user, pass ? pass : "") < 0)
                return cpod_error(err, ENOMEM, "out of memory");
        return 0;
}

/* PullImage's AuthConfig from --creds "user[:password]". */
static VlJson *pull_params(const char *name, const char *creds) {
        VlJson *p = remote_params1("name", name), *auth = vl_json_new_object();
        const char *colon = creds ? strchr(creds, ':') : NULL;
        _cleanup_free_ char *user =
                creds ? strndup(creds, colon ? (size_t)(colon - creds) : strlen(creds)) : strdup("");
        if (!p || !auth || !user || vl_json_object_set_string(auth, "username", user) < 0 ||
            vl_json_object_set_string(auth, "password", colon ? colon + 1 : "") < 0 ||
            vl_json_object_set(p, "creds", TAKE_PTR(auth)) < 0) {
                vl_json_unref(auth);
                return vl_json_unref(p);
        }
        return p;
}

/* io.cpod's PullImage and PushImage parameters: name, the registry options and creds; -ENOMEM. */
static int cpod_registry_params(VlJson *p, const RegistryOptions *o, const char *creds) {
        if (o->tls_verify >= 0 && vl_json_object_set_bool(p, "tlsVerify", o->tls_verify) < 0)
                return -ENOMEM;
        if (creds && vl_json_object_set_string(p, "creds", creds) < 0)
                return -ENOMEM;
        if (o->cert_dir && vl_json_object_set_string(p, "certDir", o->cert_dir) < 0)
                return -ENOMEM;
        return 0;
}

static int pull_one(Cli *cli, const char *name, const RemoteRegistry *rr, bool quiet) {
        _cleanup_(vl_json_unrefp) VlJson *params = NULL;
        _cleanup_free_ char *id = NULL, *creds = NULL;
        CpodError err = {};
        int r;

        if ((r = remote_creds(&rr->o, name, &creds, &err)) < 0)
                return cli_engine_error(&err, r);
        if (!rr->cpod)
                params = pull_params(name, creds);
        else if ((params = remote_params1("name", name)) &&
                 (cpod_registry_params(params, &rr->o, creds) < 0 ||
                  (rr->o.os && vl_json_object_set_string(params, "os", rr->o.os) < 0) ||
                  (rr->o.arch && vl_json_object_set_string(params, "arch", rr->o.arch) < 0) ||
                  (rr->o.variant && vl_json_object_set_string(params, "variant", rr->o.variant) < 0)))
                params = vl_json_unref(params);
        if (!params)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        r = more_call(cli, rr->cpod ? "io.cpod.PullImage" : "PullImage", params, quiet, &id, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        if (id)
                printf("%s\n", id);
        return CLI_EXIT_OK;
}

static int remote_pull(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                REMOTE_REGISTRY_LONGOPTS,
                {"all-tags", no_argument, NULL, 'a'},
                {"arch", required_argument, NULL, ARG_ARCH},
                {"os", required_argument, NULL, ARG_OS},
                {"variant", required_argument, NULL, ARG_VARIANT},
                {"platform", required_argument, NULL, ARG_PLATFORM},
                {"quiet", no_argument, NULL, 'q'},
                {},
        };
        RemoteRegistry rr = {.o = {.tls_verify = -1, .registries_conf = cli->options.registries_conf}};
        bool quiet = false, all_tags = false;
        int c, k, status = CLI_EXIT_OK;

        while ((c = cli_getopt(cli, argc, argv, "aqh", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                if ((k = remote_registry_option(c, &rr)) < 0)
                        return CLI_EXIT_ERROR;
                if (c == 'a')
                        all_tags = true;
                else if (c == 'q')
                        quiet = true;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, INT32_MAX) < 0)
                return CLI_EXIT_ERROR;
        for (int i = optind; i < argc && status == CLI_EXIT_OK; i++) {
                if (!all_tags) {
                        status = pull_one(cli, argv[i], &rr, quiet);
                        continue;
                }
                /* io.podman pulls one reference at a time: list the tags here, pull each there */
                SearchResult *v = NULL;
                size_t n = 0;
                CpodError err = {};
                if (strchr(argv[i] + strcspn(argv[i], "/"), ':') || strchr(argv[i], '@'))
                        return cli_error(CLI_EXIT_ERROR,
                                         "%s: tag or digest can't be used with --all-tags flag", argv[i]);
                int r = registry_search(argv[i], &rr.o, true, 0, &v, &n, &err);
                if (r < 0)
                        return cli_engine_error(&err, r);
                for (size_t j = 0; j < n && status == CLI_EXIT_OK; j++) {
                        _cleanup_free_ char *tagged = NULL;
                        if (asprintf(&tagged, "%s:%s", v[j].name, v[j].tag) < 0)
                                status = cli_error(CLI_EXIT_ERROR, "out of memory");
                        else
                                status = pull_one(cli, tagged, &rr, quiet);
                }
                search_results_free(v, n);
        }
        return status;
}

/* PushImage's parameters: io.podman's, or io.cpod's when a registry option or credentials go along. */
static VlJson *push_params(const char *name, const char *dest, const RemoteRegistry *rr, const char *creds) {
        VlJson *params = remote_params1("name", name);

        if (params && (rr->cpod || creds))
                return vl_json_object_set_string(params, "destination", dest) < 0 ||
                                       cpod_registry_params(params, &rr->o, creds) < 0
                               ? vl_json_unref(params)
                               : params;
        if (!params || vl_json_object_set_string(params, "tag", dest) < 0 ||
            vl_json_object_set_bool(params, "compress", false) < 0 ||
            vl_json_object_set_string(params, "format", "") < 0 ||
            vl_json_object_set_bool(params, "removeSignatures", false) < 0 ||
            vl_json_object_set_string(params, "signBy", "") < 0)
                return vl_json_unref(params);
        return params;
}

static int remote_push(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                REMOTE_REGISTRY_LONGOPTS,
                {"quiet", no_argument, NULL, 'q'},
                {"digestfile", required_argument, NULL, ARG_DIGESTFILE},
                {"remove-signatures", no_argument, NULL, ARG_IGNORED},
                {},
        };
        RemoteRegistry rr = {.o = {.tls_verify = -1, .registries_conf = cli->options.registries_conf}};
        _cleanup_(vl_json_unrefp) VlJson *params = NULL;
        _cleanup_free_ char *digest = NULL, *creds = NULL;
        const char *digestfile = NULL;
        bool quiet = false;
        CpodError err = {};
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "qh", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                if (remote_registry_option(c, &rr) < 0)
                        return CLI_EXIT_ERROR;
                if (c == 'q')
                        quiet = true;
                else if (c == ARG_DIGESTFILE)
                        digestfile = optarg;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 2) < 0)
                return CLI_EXIT_ERROR;
        const char *dest = argc - optind > 1 ? argv[optind + 1] : "";
        if ((r = remote_creds(&rr.o, *dest ? dest : argv[optind], &creds, &err)) < 0)
                return cli_engine_error(&err, r);
        if (!(params = push_params(argv[optind], dest, &rr, creds)))
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        r = more_call(cli, rr.cpod || creds ? "io.cpod.PushImage" : "PushImage", params, quiet, &digest,
                      &err);
        if (r == -ENOENT)
                return cli_image_error(argv[optind], &err, r);
        if (r < 0)
                return cli_engine_error(&err, r);
        if (digestfile && digest) {
                FILE *f = fopen(digestfile, "we");
                if (!f || fputs(digest, f) < 0 || fclose(f) != 0)
                        return cli_error(CLI_EXIT_ERROR, "failed to write digest to file \"%s\": %m",
                                         digestfile);
        }
        return CLI_EXIT_OK;
}

/* ---- search ---- */

static int remote_search(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                REMOTE_REGISTRY_LONGOPTS,
                {"format", required_argument, NULL, ARG_FORMAT},
                {"limit", required_argument, NULL, ARG_LIMIT},
                {"list-tags", no_argument, NULL, ARG_LIST_TAGS},
                {"no-trunc", no_argument, NULL, ARG_NO_TRUNC},
                {"filter", required_argument, NULL, ARG_IGNORED},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *params = vl_json_new_object(), *reply = NULL;
        Output out = {};
        long long limit = 0;
        CpodError err = {};
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "h", options)) >= 0) {
                if (c == 'h' || c == ARG_LIST_TAGS || c == ARG_TLS_VERIFY || c == ARG_AUTHFILE ||
                    c == ARG_CERT_DIR || c == ARG_CREDS) {
                        /* io.podman has no tag listing, and SearchImages no registry options: search never
                         * touches the store, so the client asks the registry, as login does */
                        optind = 0;
                        return cmd_search(cli, argc, argv);
                }
                if (c == ARG_FORMAT)
                        out.format = optarg;
                else if (c == ARG_LIMIT) {
                        char *end;
                        limit = strtoll(optarg, &end, 10);
                        if (*end || limit < 0)
                                return cli_error(CLI_EXIT_ERROR,
                                                 "invalid argument \"%s\" for \"--limit\" flag", optarg);
                }
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 1) < 0)
                return CLI_EXIT_ERROR;
        VlJson *filter = vl_json_new_object();
        if (!params || !filter || vl_json_object_set(params, "filter", filter) < 0 ||
            vl_json_object_set_string(params, "query", argv[optind]) < 0 ||
            (limit > 0 && vl_json_object_set_int(params, "limit", limit) < 0))
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        r = remote_call(cli, "SearchImages", TAKE_PTR(params), &reply, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        const VlJson *results = vl_json_object_get(reply, "results");
        size_t n = vl_json_array_length(results);
        _cleanup_free_ SearchResult *v = calloc(n ?: 1, sizeof(SearchResult));
        if (!v)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        for (size_t i = 0; i < n; i++)
                v[i].name = (char *)(vl_json_get_string(
                                             vl_json_object_get(vl_json_array_get(results, i), "name"))
                                             ?: "");
        r = cli_search_print(&out, v, n, false, &err);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

/* ---- image exists, image prune ---- */

static int remote_image_exists(Cli *cli, int argc, char **argv) {
        /* --remote asks the image's registry, from the client, as manifest inspect does */
        for (int i = 1; i < argc && !streq(argv[i], "--"); i++)
                if (streq(argv[i], "--remote"))
                        return cli_image_exists_remote(cli, argc, argv);
        return remote_exists(cli, argc, argv, NULL, false, "ImageExists");
}

static int remote_image_prune(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"all", no_argument, NULL, 'a'},
                {"filter", required_argument, NULL, 'F'},
                {"force", no_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *params = vl_json_new_object(), *reply = NULL;
        bool all = false, force = false;
        CpodError err = {};
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "afh", options)) >= 0) {
                if (c == 'h')
                        return remote_local_help(cli, argc, argv);
                if (c == 'F')
                        return cli_error(CLI_EXIT_ERROR, "unsupported image filter \"%s\"", optarg);
                all = all || c == 'a';
                force = force || c == 'f';
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0)
                return CLI_EXIT_ERROR;
        if (!force &&
            !cli_confirm(all ? "WARNING! This command removes all images without at least one "
                               "container associated with them.\nAre you sure you want to continue?"
                             : "WARNING! This command removes all dangling images.\nAre you sure you "
                               "want to continue?"))
                return CLI_EXIT_OK;
        if (!params || vl_json_object_set_bool(params, "all", all) < 0 ||
            vl_json_object_set(params, "filter", vl_json_new_array()) < 0)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        r = remote_call(cli, "ImagesPrune", TAKE_PTR(params), &reply, &err);
        if (r < 0)
                return cli_engine_error(&err, r);
        const VlJson *ids = vl_json_object_get(reply, "pruned");
        for (size_t i = 0; i < vl_json_array_length(ids); i++)
                puts(vl_json_get_string(vl_json_array_get(ids, i)) ?: "");
        return CLI_EXIT_OK;
}

/* ---- image tree ---- */

static int remote_image_tree(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"whatrequires", no_argument, NULL, 'w'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *params = NULL, *reply = NULL;
        CpodError err = {};
        int r;

        r = remote_help_only(cli, argc, argv, "h", options, 1, 1);
        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        params = remote_params1("name", argv[optind]);
        if (!params || vl_json_object_set_bool(params, "whatRequires", false) < 0)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        r = remote_call(cli, "ImageTree", TAKE_PTR(params), &reply, &err);
        if (r == -ENOENT)
                return cli_image_error(argv[optind], &err, r);
        if (r < 0)
                return cli_engine_error(&err, r);
        fputs(vl_json_get_string(vl_json_object_get(reply, "tree")) ?: "", stdout);
        return CLI_EXIT_OK;
}

/* ---- image export, mount, umount (io.cpod) ---- */

/* ExportImageRootfs writes the tar to a temporary file on the service's host; it is fetched with
 * ReceiveFile, which removes it. Errors read as local mode's: the output file is opened after the export,
 * as image_export opens it after mounting the image. */
static int remote_image_export(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"output", required_argument, NULL, 'o'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        _cleanup_(vl_json_unrefp) VlJson *params = NULL, *reply = NULL;
        _cleanup_close_ int fd = -1;
        const char *output = NULL, *ref, *remote;
        CpodError err = {};
        int r = remote_args_value(cli, argc, argv, "o:h", options, 'o', &output, 1, 1);

        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        ref = argv[optind];
        if ((!output || streq(output, "-")) && isatty(STDOUT_FILENO))
                return cli_error(CLI_EXIT_ERROR, "refusing to export to terminal. Use -o flag or redirect");
        params = remote_params1("name", ref);
        if (!params || vl_json_object_set_string(params, "path", "") < 0)
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        r = remote_cpod_call(cli, "ExportImageRootfs", TAKE_PTR(params), &reply, &err);
        remote = vl_json_get_string(vl_json_object_get(reply, "tarfile"));
        if (r >= 0 && (!remote || !*remote))
                r = cpod_error(&err, EPROTO, "the service did not say where it exported the image");
        if (r >= 0 && output && !streq(output, "-")) {
                fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
                if (fd < 0) {
                        r = cpod_error_errno(&err, errno, "open `%s`", output);
                        (void)cpod_error_wrap(&err, "export `%s`", ref);
                        /* fetch it anyway, into nothing, so that it is removed from the service's host */
                        CpodError ignored = {};
                        (void)remote_receive_file(cli, remote, -1, &ignored);
                }
        }
        if (r >= 0) {
                fflush(stdout);
                r = remote_receive_file(cli, remote, fd >= 0 ? fd : STDOUT_FILENO, &err);
                if (r < 0 && fd >= 0)
                        (void)unlink(output);
        }
        if (r == -ENOENT)
                return cli_image_error(ref, &err, r);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

static int remote_image_mount(Cli *cli, int argc, char **argv) {
        int r;

        r = remote_help_only(cli, argc, argv, NULL, NULL, 1, INT32_MAX);
        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        for (int i = optind; i < argc; i++) {
                _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
                CpodError err = {};
                r = remote_cpod_call(cli, "MountImage", remote_params1("name", argv[i]), &reply, &err);
                if (r < 0)
                        return cli_image_error(argv[i], &err, r);
                puts(vl_json_get_string(vl_json_object_get(reply, "path")) ?: "");
        }
        return CLI_EXIT_OK;
}

static int remote_image_unmount(Cli *cli, int argc, char **argv) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        bool all, force;
        int status = CLI_EXIT_OK;
        CpodError err = {};

        int r = cli_image_unmount_args(cli, argc, argv, &all, &force);
        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        if (all) {
                r = remote_cpod_call(cli, "UnmountAllImages", NULL, &reply, &err);
                if (r < 0)
                        return cli_engine_error(&err, r);
                const VlJson *ids = vl_json_object_get(reply, "ids");
                for (size_t i = 0; i < vl_json_array_length(ids); i++)
                        puts(vl_json_get_string(vl_json_array_get(ids, i)) ?: "");
                return CLI_EXIT_OK;
        }
        for (int i = optind; i < argc; i++) {
                VlJson *params = remote_params1("name", argv[i]);
                if (!params || vl_json_object_set_bool(params, "force", force) < 0) {
                        vl_json_unref(params);
                        return cli_error(CLI_EXIT_ERROR, "out of memory");
                }
                reply = vl_json_unref(reply);
                r = remote_cpod_call(cli, "UnmountImage", params, &reply, &err);
                if (r < 0) {
                        status = cli_image_error(argv[i], &err, r);
                        continue;
                }
                puts(vl_json_get_string(vl_json_object_get(reply, "id")) ?: "");
        }
        return status;
}

/* ---- commands that never touch the store: as in local mode ---- */

static int remote_login(Cli *cli, int argc, char **argv) {
        return cmd_login(cli, argc, argv);
}

static int remote_logout(Cli *cli, int argc, char **argv) {
        return cmd_logout(cli, argc, argv);
}

static int remote_manifest_inspect(Cli *cli, int argc, char **argv) {
        return cmd_manifest_inspect(cli, argc, argv);
}

const RemoteCommand remote_image_commands[] = {
        {"pull", remote_pull},
        {"image pull", remote_pull},
        {"push", remote_push},
        {"image push", remote_push},
        {"load", remote_load},
        {"image load", remote_load},
        {"save", remote_save},
        {"image save", remote_save},
        {"import", remote_import},
        {"image import", remote_import},
        {"search", remote_search},
        {"image search", remote_search},
        {"image exists", remote_image_exists},
        {"image prune", remote_image_prune},
        {"image tree", remote_image_tree},
        {"image export", remote_image_export},
        {"image mount", remote_image_mount},
        {"image umount", remote_image_unmount},
        {"image unmount", remote_image_unmount},
        {"login", remote_login},
        {"logout", remote_logout},
        {"manifest inspect", remote_manifest_inspect},
        {},
};
