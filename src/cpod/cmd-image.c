/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpod image inspect, history and tree: views of one image built from its config and layers. */
#include <inttypes.h>
#include <string.h>

#include "cmd-container.h"
#include "cmd-inspect.h"
#include "image-tree.h"
#include "db.h"
#include "engine-internal.h"
#include "layer.h"
#include "manifest.h"
#include "output.h"
#include "template.h"

int cli_image_error(const char *ref, const CpodError *err, int r) {
        const char *msg = err->code && err->message[0] ? err->message : strerror(r < 0 ? -r : EIO);
        const char *rest = startswith(msg, ref);

        if (rest && rest[0] == ':')
                return cli_error(CLI_EXIT_ERROR, "%s", msg);
        return cli_error(CLI_EXIT_ERROR, "%s: %s", ref, msg);
}

static int parse_document(const char *text, VlJson **ret, const char *what, CpodError *err) {
        VlJsonError jerr = {};
        int r = vl_json_parse(text, strlen(text), NULL, ret, &jerr);

        if (r < 0)
                return cpod_error(err, -r, "parsing the %s: %s at %u:%u", what, jerr.message, jerr.line,
                                  jerr.column);
        return 0;
}

int cli_image_config(Engine *e, const Image *img, VlJson **ret, CpodError *err) {
        _cleanup_free_ char *text = NULL;
        int r = image_read_config(e, img, &text, err);

        return r < 0 ? r : parse_document(text, ret, "image config", err);
}

const VlJson *cli_config_labels(const VlJson *config) {
        const VlJson *l = vl_json_object_get(vl_json_object_get(config, "config"), "Labels");
        return vl_json_type(l) == VL_JSON_OBJECT ? l : NULL;
}

/*
 * A layer's uncompressed size. The engine's public API has no layer lookup yet, so read the state
 * database the engine opened (read-only, one row).
 */
static uint64_t layer_size(Engine *e, const char *id) {
        sqlite3_stmt *st = NULL;
        uint64_t size = 0;

        if (!e->db || db_prepare(e->db, "SELECT size FROM layers WHERE id = ?", &st, NULL) < 0)
                return 0;
        if (sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
                size = (uint64_t)sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return size;
}

static VlJson *strings_json(char *const *v, size_t n) {
        VlJson *a = vl_json_new_array();

        for (size_t i = 0; a && i < n; i++)
                if (vl_json_array_append(a, vl_json_new_string(v[i])) < 0)
                        return vl_json_unref(a);
        return a;
}

static VlJson *copy_or(const VlJson *v, VlJsonType type, VlJson *fallback) {
        if (vl_json_type(v) == type) {
                vl_json_unref(fallback);
                return vl_json_copy(v);
        }
        return fallback;
}

static const char *string_or_empty(const VlJson *v) {
        return vl_json_get_string(v) ?: "";
}

/* The comment of an image: the config's, else the newest history entry's. */
static const char *image_comment(const VlJson *config) {
        const VlJson *h = vl_json_object_get(config, "history");
        const char *c = vl_json_get_string(vl_json_object_get(config, "comment"));

        for (size_t i = vl_json_array_length(h); !c && i > 0; i--)
                c = vl_json_get_string(vl_json_object_get(vl_json_array_get(h, i - 1), "comment"));
        return c ?: "";
}

/* GraphDriver.Data: overlay's lower, upper and work directories of the image's layers (sorted keys, as Go
 * prints a map). */
static int overlay_dirs(Engine *e, const Image *img, VlJson *data) {
        _cleanup_free_ char *upper = NULL, *work = NULL;
        VlBuf lower = VL_BUF_INIT;
        int r = 0;

        for (size_t i = img->n_layers - 1; i > 0 && r == 0; i--) {
                _cleanup_free_ char *p = NULL;
                if (layer_diff_path(e, img->layers[i - 1], &p) < 0 ||
                    (lower.len > 0 && vl_buf_append_char(&lower, ':') < 0) ||
                    vl_buf_append_str(&lower, p) < 0)
                        r = -ENOMEM;
        }
        if (r == 0 && lower.len > 0)
                r = vl_buf_append_char(&lower, 0) < 0
                            ? -ENOMEM
                            : vl_json_object_set_string(data, "LowerDir", lower.data);
        vl_buf_free(&lower);
        if (r < 0 || layer_diff_path(e, img->layers[img->n_layers - 1], &upper) < 0 ||
            !(work = strdup(upper)))
                return -ENOMEM;
        size_t n = strlen(work);
        if (n >= 4 && streq(work + n - 4, "diff"))
                memcpy(work + n - 4, "work", 4);
        if (vl_json_object_set_string(data, "UpperDir", upper) < 0 ||
            vl_json_object_set_string(data, "WorkDir", work) < 0)
                return -ENOMEM;
        return 0;
}

static VlJson *graph_driver_json(Engine *e, const Image *img) {
        VlJson *g = vl_json_new_object(), *data = NULL;
        int r = 0;

        if (!g)
                return NULL;
        r |= vl_json_object_set_string(g, "Name", engine_storage_driver(e));
        if (streq(engine_storage_driver(e), "overlay") && img->n_layers > 0) {
                data = vl_json_new_object();
                if (!data || overlay_dirs(e, img, data) < 0)
                        r = -ENOMEM;
        }
        r |= vl_json_object_set(g, "Data", data ?: vl_json_null());
        return r < 0 ? vl_json_unref(g) : g;
}

static VlJson *rootfs_json(const VlJson *config) {
        VlJson *o = vl_json_new_object();
        const VlJson *ids = vl_json_object_get(vl_json_object_get(config, "rootfs"), "diff_ids");
        int r = 0;

        if (!o)
                return NULL;
        r |= vl_json_object_set_string(o, "Type", "layers");
        r |= vl_json_object_set(o, "Layers", copy_or(ids, VL_JSON_ARRAY, vl_json_new_array()));
        return r < 0 ? vl_json_unref(o) : o;
}

/* podman's image inspect document. */
static VlJson *inspect_json(Engine *e, const Image *img, const VlJson *config, const VlJson *manifest) {
        const VlJson *cc = vl_json_object_get(config, "config");
        const char *created = vl_json_get_string(vl_json_object_get(config, "created"));
        const char *mt = vl_json_get_string(vl_json_object_get(manifest, "mediaType"));
        char created_buf[64];
        VlJson *o = vl_json_new_object();
        int r = 0;

        if (!o)
                return NULL;
        if (!created) {
                rfc3339_format(img->created, 0, created_buf, sizeof(created_buf));
                created = created_buf;
        }
        r |= vl_json_object_set_string(o, "Id", img->id);
        r |= vl_json_object_set_string(o, "Digest", img->manifest_digest);
        r |= vl_json_object_set(o, "RepoTags", strings_json(img->names, img->n_names));
        r |= vl_json_object_set(o, "RepoDigests", strings_json(img->digests, img->n_digests));
        r |= vl_json_object_set_string(o, "Parent", "");
        r |= vl_json_object_set_string(o, "Comment", image_comment(config));
        r |= vl_json_object_set_string(o, "Created", created);
        r |= vl_json_object_set(o, "Config", copy_or(cc, VL_JSON_OBJECT, vl_json_new_object()));
        r |= vl_json_object_set_string(o, "Version",
                                       string_or_empty(vl_json_object_get(config, "docker_version")));
        r |= vl_json_object_set_string(o, "Author", string_or_empty(vl_json_object_get(config, "author")));
        r |= vl_json_object_set_string(o, "Architecture",
                                       string_or_empty(vl_json_object_get(config, "architecture")));
        r |= vl_json_object_set_string(o, "Os", string_or_empty(vl_json_object_get(config, "os")));
        r |= vl_json_object_set_int(o, "Size", (int64_t)img->size);
        r |= vl_json_object_set_int(o, "VirtualSize", (int64_t)img->size);
        r |= vl_json_object_set(o, "GraphDriver", graph_driver_json(e, img));
        r |= vl_json_object_set(o, "RootFS", rootfs_json(config));
        r |= vl_json_object_set(o, "Labels",
                                copy_or(cli_config_labels(config), VL_JSON_OBJECT, vl_json_null()));
        r |= vl_json_object_set(
                o, "Annotations",
                copy_or(vl_json_object_get(manifest, "annotations"), VL_JSON_OBJECT, vl_json_new_object()));
        r |= vl_json_object_set_string(o, "ManifestType", mt ?: MT_OCI_MANIFEST);
        r |= vl_json_object_set_string(o, "User", string_or_empty(vl_json_object_get(cc, "User")));
        r |= vl_json_object_set(
                o, "History",
                copy_or(vl_json_object_get(config, "history"), VL_JSON_ARRAY, vl_json_new_array()));
        r |= vl_json_object_set(o, "NamesHistory", strings_json(img->names, img->n_names));
        return r < 0 ? vl_json_unref(o) : o;
}

static int inspect_one(Engine *e, const char *ref, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *config = NULL, *manifest = NULL;
        _cleanup_free_ char *mtext = NULL;
        Image img = {};
        int r;

        r = image_get(e, ref, &img, err);
        if (r >= 0)
                r = cli_image_config(e, &img, &config, err);
        if (r >= 0)
                r = image_read_manifest(e, &img, &mtext, err);
        if (r >= 0)
                r = parse_document(mtext, &manifest, "image manifest", err);
        if (r >= 0 && !(*ret = inspect_json(e, &img, config, manifest)))
                r = cpod_error(err, ENOMEM, "out of memory");
        image_done(&img);
        return r;
}

static const char inspect_options[] =
        "  -f, --format string   Format the output using the given Go template\n"
        "  -t, --type string     Only consider objects of this type (image)\n";

/* A container first (podman's order), then an image, unless type names one kind. */
static int inspect_any(InspectSource *src, const char *type, const char *ref, VlJson **ret, CpodError *err) {
        int r;

        if (!streq(type, "image")) {
                r = src->container(src, ref, ret, err);
                if (r == -ENOENT && streq(type, "container"))
                        return cpod_error(err, ENOENT, "no such container %s", ref);
                if (r != -ENOENT || streq(type, "container"))
                        return r;
                cpod_error_clear(err);
        }
        return src->image(src, ref, ret, err);
}

int inspect_parse_args(Cli *cli, int argc, char **argv, const char **type, const char **format) {
        static const struct option options[] = {
                {"format", required_argument, NULL, 'f'},
                {"type", required_argument, NULL, 't'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;

        while ((c = cli_getopt(cli, argc, argv, "f:t:h", options)) >= 0) {
                if (c == 'h')
                        return -1;
                if (c == 'f')
                        *format = optarg;
                else if (c == 't' && !streq(optarg, "image") && !streq(optarg, "all") &&
                         !streq(optarg, "container"))
                        return cli_error(CLI_EXIT_ERROR,
                                         "invalid type \"%s\": must be one of container, image, all",
                                         optarg);
                else if (c == 't')
                        *type = optarg;
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, INT32_MAX) < 0)
                return CLI_EXIT_ERROR;
        return 0;
}

int inspect_print(InspectSource *src, const char *type, char **refs, int n_refs, const char *format) {
        _cleanup_(vl_json_unrefp) VlJson *items = NULL;
        VlBuf errors = VL_BUF_INIT;
        int status = CLI_EXIT_OK;

        if (!(items = vl_json_new_array()))
                return cli_error(CLI_EXIT_ERROR, "out of memory");
        for (int i = 0; i < n_refs; i++) {
                CpodError err = {};
                VlJson *one = NULL;
                int r = inspect_any(src, type, refs[i], &one, &err);
                if (r < 0) {
                        bool named = startswith(err.message, refs[i]) || startswith(err.message, "no such ");
                        status = CLI_EXIT_ERROR;
                        /* podman prints what it found, then the errors */
                        if ((errors.len > 0 && vl_buf_append_char(&errors, '\n') < 0) ||
                            vl_buf_append_str(&errors, "Error: inspecting object: ") < 0 ||
                            (!named && (vl_buf_append_str(&errors, refs[i]) < 0 ||
                                        vl_buf_append_str(&errors, ": ") < 0)) ||
                            vl_buf_append_str(&errors, err.message[0] ? err.message : strerror(-r)) < 0)
                                return cli_error(CLI_EXIT_ERROR, "out of memory");
                        continue;
                }
                vl_json_array_append(items, one);
        }
        if (format && !output_is_json(format)) {
                CpodError err = {};
                if (output_print_each(format, items, &err) < 0) {
                        vl_buf_free(&errors);
                        return cli_engine_error(&err, -EINVAL);
                }
        } else
                output_json(items, 5);
        if (errors.len > 0) {
                fflush(stdout);
                fprintf(stderr, "%.*s\n", (int)errors.len, errors.data);
        }
        vl_buf_free(&errors);
        return status;
}

static int local_container(InspectSource *src, const char *ref, VlJson **ret, CpodError *err) {
        return container_inspect(src->engine, ref, ret, err);
}

static int local_image(InspectSource *src, const char *ref, VlJson **ret, CpodError *err) {
        return inspect_one(src->engine, ref, ret, err);
}

static int inspect_typed(Cli *cli, int argc, char **argv, const char *type) {
        InspectSource src = {.container = local_container, .image = local_image, .cli = cli};
        const char *format = NULL;
        int r;

        r = inspect_parse_args(cli, argc, argv, &type, &format);
        if (r < 0)
                return cli_command_help(cli, inspect_options);
        if (r > 0)
                return r;
        if (!(src.engine = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        return inspect_print(&src, type, argv + optind, argc - optind, format);
}

int cmd_inspect(Cli *cli, int argc, char **argv) {
        return inspect_typed(cli, argc, argv, "all");
}

int cmd_image_inspect(Cli *cli, int argc, char **argv) {
        return inspect_typed(cli, argc, argv, "image");
}

int cmd_container_inspect(Cli *cli, int argc, char **argv) {
        return inspect_typed(cli, argc, argv, "container");
}

typedef struct HistoryArgs {
        bool human, no_trunc, quiet;
        Output out;
} HistoryArgs;

static const OutputColumn history_columns[] = {
        {"ID", "ID"},
        {"Created", "CREATED"},
        {"CreatedBy", "CREATED BY"},
        {"Size", "SIZE"},
        {"Comment", "COMMENT"},
        {"CreatedAt", "CREATED AT", true},
        {"CreatedSince", "CREATED", true},
        {"Tags", "TAGS", true},
        {},
};

/* One history entry as a display row and as podman's JSON item. */
static int history_row(const HistoryArgs *a, const Image *img, const VlJson *h, bool top, uint64_t size,
                       VlJson *rows, VlJson *items) {
        const char *created = vl_json_get_string(vl_json_object_get(h, "created"));
        const char *by = string_or_empty(vl_json_object_get(h, "created_by"));
        char id[80], since[64], at[64], sz[32], by_short[64];
        int64_t sec = img->created;
        int32_t nsec = 0;
        VlJson *row = vl_json_new_object(), *item = vl_json_new_object();
        int r = 0;

        if (!row || !item) {
                vl_json_unref(row);
                vl_json_unref(item);
                return -ENOMEM;
        }
        if (created)
                (void)rfc3339_parse(created, &sec, &nsec);
        rfc3339_format(sec, 0, at, sizeof(at));
        output_since(sec, since, sizeof(since));
        snprintf(id, sizeof(id), "%s", top ? img->id : "<missing>");
        if (top && !a->no_trunc)
                id[12] = 0;
        if (a->human)
                output_size(size, 3, true, sz, sizeof(sz));
        else
                snprintf(sz, sizeof(sz), "%" PRIu64, size);
        if (!a->no_trunc && strlen(by) > 45) {
                snprintf(by_short, sizeof(by_short), "%.42s...", by);
                by = by_short;
        }
        r |= vl_json_object_set_string(row, "ID", id);
        r |= vl_json_object_set_string(row, "Created", a->human ? since : at);
        r |= vl_json_object_set_string(row, "CreatedBy", by);
        r |= vl_json_object_set_string(row, "Size", sz);
        r |= vl_json_object_set_string(row, "Comment", string_or_empty(vl_json_object_get(h, "comment")));
        r |= vl_json_object_set_string(row, "CreatedAt", at);
        r |= vl_json_object_set_string(row, "CreatedSince", since);
        r |= vl_json_object_set(row, "Tags", top ? strings_json(img->names, img->n_names) : vl_json_null());
        r |= vl_json_object_set_string(item, "id", top ? img->id : "<missing>");
        r |= vl_json_object_set_string(item, "created", created ?: at);
        r |= vl_json_object_set_string(item, "CreatedBy",
                                       string_or_empty(vl_json_object_get(h, "created_by")));
        r |= vl_json_object_set_int(item, "size", (int64_t)size);
        r |= vl_json_object_set_string(item, "comment", string_or_empty(vl_json_object_get(h, "comment")));
        r |= vl_json_object_set_string(item, "Created", at);
        if (r < 0) {
                vl_json_unref(row);
                vl_json_unref(item);
                return -ENOMEM;
        }
        if (vl_json_array_append(rows, row) < 0 || vl_json_array_append(items, item) < 0)
                return -ENOMEM;
        return 0;
}

/* Newest entry first; layers are matched to the entries that are not empty_layer, bottom up. */
static int history_rows(Engine *e, const HistoryArgs *a, const Image *img, const VlJson *config,
                        VlJson *rows, VlJson *items) {
        const VlJson *history = vl_json_object_get(config, "history");
        size_t n = vl_json_array_length(history), n_layered = 0;
        int r = 0;

        for (size_t i = 0; i < n; i++)
                n_layered +=
                        !vl_json_get_bool(vl_json_object_get(vl_json_array_get(history, i), "empty_layer"));
        if (n == 0) { /* no history: one entry per layer */
                for (size_t i = img->n_layers; i > 0 && r >= 0; i--)
                        r = history_row(a, img, NULL, i == img->n_layers, layer_size(e, img->layers[i - 1]),
                                        rows, items);
                return r;
        }
        for (size_t i = n; i > 0 && r >= 0; i--) {
                const VlJson *h = vl_json_array_get(history, i - 1);
                uint64_t size = 0;
                if (!vl_json_get_bool(vl_json_object_get(h, "empty_layer"))) {
                        n_layered--;
                        if (n_layered < img->n_layers)
                                size = layer_size(e, img->layers[n_layered]);
                }
                r = history_row(a, img, h, i == n, size, rows, items);
        }
        return r;
}

static const char history_options[] =
        "      --format string   Change the output to JSON or a Go template\n"
        "  -H, --human           Display sizes and dates in human readable format (default true)\n"
        "      --no-trunc        Do not truncate the output\n"
        "  -n, --noheading       Do not print column headings\n"
        "  -q, --quiet           Display the numeric IDs only\n";

static int parse_history_args(Cli *cli, int argc, char **argv, HistoryArgs *a) {
        enum { ARG_FORMAT = 0x100, ARG_NO_TRUNC };
        static const struct option options[] = {
                {"format", required_argument, NULL, ARG_FORMAT},
                {"human", optional_argument, NULL, 'H'},
                {"no-trunc", no_argument, NULL, ARG_NO_TRUNC},
                {"noheading", no_argument, NULL, 'n'},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;

        a->human = true;
        while ((c = cli_getopt(cli, argc, argv, "Hnqh", options)) >= 0) {
                switch (c) {
                case ARG_FORMAT:
                        a->out.format = optarg;
                        break;
                case 'H':
                        if (cli_parse_bool(optarg, &a->human) < 0)
                                return cli_error(CLI_EXIT_ERROR,
                                                 "invalid argument \"%s\" for \"--human\" flag", optarg);
                        break;
                case ARG_NO_TRUNC:
                        a->no_trunc = true;
                        break;
                case 'n':
                        a->out.noheading = true;
                        break;
                case 'q':
                        a->quiet = true;
                        break;
                case 'h':
                        cli_command_help(cli, history_options);
                        return -1;
                }
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 1) < 0)
                return CLI_EXIT_ERROR;
        return 0;
}

int cmd_history(Cli *cli, int argc, char **argv) {
        _cleanup_(vl_json_unrefp) VlJson *config = NULL, *rows = NULL, *items = NULL;
        HistoryArgs a = {};
        CpodError err = {};
        Image img = {};
        Engine *e;
        int r;

        r = parse_history_args(cli, argc, argv, &a);
        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = image_get(e, argv[optind], &img, &err);
        if (r < 0)
                return cli_image_error(argv[optind], &err, r);
        r = cli_image_config(e, &img, &config, &err);
        if (r >= 0 && (!(rows = vl_json_new_array()) || !(items = vl_json_new_array())))
                r = cpod_error(&err, ENOMEM, "out of memory");
        if (r >= 0)
                r = history_rows(e, &a, &img, config, rows, items);
        if (r >= 0 && a.quiet) {
                const VlJson *row;
                VL_JSON_FOREACH_ELEMENT (row, rows)
                        puts(vl_json_get_string(vl_json_object_get(row, "ID")));
        } else if (r >= 0)
                r = output_print(&a.out, history_columns, rows, items, &err);
        image_done(&img);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}

/* Go's fmt of a []string: "[a b]". */
int cmd_image_tree(Cli *cli, int argc, char **argv) {
        static const struct option options[] = {
                {"whatrequires", no_argument, NULL, 'w'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        CpodError err = {};
        VlBuf b = VL_BUF_INIT;
        Engine *e;
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "h", options)) >= 0)
                if (c == 'h')
                        return cli_command_help(cli,
                                                "      --whatrequires   Show all child images and layers "
                                                "of the specified image\n");
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 1) < 0)
                return CLI_EXIT_ERROR;
        if (!(e = cli_engine(cli)))
                return CLI_EXIT_ERROR;
        r = image_tree_text(e, argv[optind], &b, &err);
        if (r >= 0)
                fwrite(b.data, 1, b.len, stdout);
        vl_buf_free(&b);
        if (r == -ENOENT || r == -EINVAL || r == -ENOTUNIQ)
                return cli_image_error(argv[optind], &err, r);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}
