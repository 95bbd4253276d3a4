/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Remote inspect (containers and images) and history: local mode's documents and rows, from the
 * service's inspect documents. */
#include <inttypes.h>
#include <string.h>

#include "cmd-container.h"
#include "cmd-inspect.h"
#include "layer.h"
#include "manifest.h"
#include "output.h"
#include "remote.h"

static int parse_document(const char *text, VlJson **ret, CpodError *err) {
        VlJsonError jerr = {};
        int r = vl_json_parse(text ?: "", text ? strlen(text) : 0, NULL, ret, &jerr);

        if (r < 0)
                return cpod_error(err, -r, "parsing the service's document: %s at %u:%u", jerr.message,
                                  jerr.line, jerr.column);
        return 0;
}

static VlJson *member_or(const VlJson *o, const char *key, VlJsonType type, VlJson *fallback) {
        const VlJson *v = vl_json_object_get(o, key);

        if (vl_json_type(v) == type) {
                vl_json_unref(fallback);
                return vl_json_copy(v);
        }
        return fallback;
}

/* Local mode's comment: the config's, else the newest history entry's. */
static const char *image_comment(const VlJson *doc) {
        const VlJson *h = vl_json_object_get(doc, "History");
        const char *c = vl_json_get_string(vl_json_object_get(doc, "Comment"));

        if (c && *c)
                return c;
        c = NULL;
        for (size_t i = vl_json_array_length(h); !c && i > 0; i--)
                c = vl_json_get_string(vl_json_object_get(vl_json_array_get(h, i - 1), "comment"));
        return c ?: "";
}

/* GraphDriver as local mode shows it: overlay's lower, upper and work directories. The layers are named by
 * chain ID, computed from the diff IDs; the store's root is where the service's UpperDir lies. */
static VlJson *graph_driver(const VlJson *doc) {
        const VlJson *g = vl_json_object_get(doc, "GraphDriver");
        const VlJson *ids = vl_json_object_get(vl_json_object_get(doc, "RootFS"), "Layers");
        const char *name = vl_json_get_string(vl_json_object_get(g, "Name")) ?: "";
        const char *upper =
                vl_json_get_string(vl_json_object_get(vl_json_object_get(g, "Data"), "UpperDir"));
        size_t n = vl_json_array_length(ids);
        VlJson *o = vl_json_new_object(), *data = NULL;
        int r = 0;

        if (!o)
                return NULL;
        r |= vl_json_object_set_string(o, "Name", name);
        if (streq(name, "overlay") && upper && n > 0) {
                const char *layers = strstr(upper, "/layers/");
                _cleanup_free_ char *root = layers ? strndup(upper, layers - upper) : NULL;
                _cleanup_free_ char *work = strdup(upper);
                char(*chain)[65] = calloc(n, sizeof(*chain));
                VlBuf lower = VL_BUF_INIT;

                data = vl_json_new_object();
                if (!data || !work || !chain || !root)
                        r = -ENOMEM;
                for (size_t i = 0; r == 0 && i < n; i++)
                        layer_chain_id(i ? chain[i - 1] : NULL,
                                       vl_json_get_string(vl_json_array_get(ids, i)) ?: "", chain[i]);
                for (size_t i = n - 1; r == 0 && i > 0; i--)
                        if ((lower.len > 0 && vl_buf_append_char(&lower, ':') < 0) ||
                            vl_buf_append_str(&lower, root) < 0 ||
                            vl_buf_append_str(&lower, "/layers/") < 0 ||
                            vl_buf_append_str(&lower, chain[i - 1]) < 0 ||
                            vl_buf_append_str(&lower, "/diff") < 0)
                                r = -ENOMEM;
                if (r == 0 && lower.len > 0)
                        r = vl_buf_append_char(&lower, 0) < 0
                                    ? -ENOMEM
                                    : vl_json_object_set_string(data, "LowerDir", lower.data);
                if (r == 0) {
                        size_t len = strlen(work);
                        if (len >= 4 && streq(work + len - 4, "diff"))
                                memcpy(work + len - 4, "work", 4);
                        r |= vl_json_object_set_string(data, "UpperDir", upper);
                        r |= vl_json_object_set_string(data, "WorkDir", work);
                }
                vl_buf_free(&lower);
                free(chain);
        }
        r |= vl_json_object_set(o, "Data", data ?: vl_json_null());
        return r < 0 ? vl_json_unref(o) : o;
}

/* Local mode's image inspect document from the service's. */
static VlJson *image_document(const VlJson *doc) {
        const VlJson *cc = vl_json_object_get(doc, "Config");
        const char *mt = vl_json_get_string(vl_json_object_get(doc, "ManifestType"));
        static const char *const copied[] = {"Id",           "Digest",  "RepoTags", "RepoDigests", "Parent",
                                             "Comment",      "Created", "Config",   "Version",     "Author",
                                             "Architecture", "Os",      "Size",     "VirtualSize"};
        VlJson *o = vl_json_new_object();
        int r = 0;

        if (!o)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(copied); i++) {
                const VlJson *v = vl_json_object_get(doc, copied[i]);
                if (streq(copied[i], "Comment"))
                        r |= vl_json_object_set_string(o, "Comment", image_comment(doc));
                else
                        r |= vl_json_object_set(o, copied[i], v ? vl_json_copy(v) : vl_json_new_string(""));
        }
        r |= vl_json_object_set(o, "GraphDriver", graph_driver(doc));
        r |= vl_json_object_set(o, "RootFS", member_or(doc, "RootFS", VL_JSON_OBJECT, vl_json_new_object()));
        r |= vl_json_object_set(o, "Labels", member_or(cc, "Labels", VL_JSON_OBJECT, vl_json_null()));
        r |= vl_json_object_set(o, "Annotations",
                                member_or(doc, "Annotations", VL_JSON_OBJECT, vl_json_new_object()));
        r |= vl_json_object_set_string(o, "ManifestType", mt && *mt ? mt : MT_OCI_MANIFEST);
        r |= vl_json_object_set(o, "User", member_or(doc, "User", VL_JSON_STRING, vl_json_new_string("")));
        r |= vl_json_object_set(o, "History", member_or(doc, "History", VL_JSON_ARRAY, vl_json_new_array()));
        r |= vl_json_object_set(o, "NamesHistory",
                                member_or(doc, "RepoTags", VL_JSON_ARRAY, vl_json_new_array()));
        return r < 0 ? vl_json_unref(o) : o;
}

static int service_image_document(Cli *cli, const char *ref, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        int r = remote_call(cli, "InspectImage", remote_params1("name", ref), &reply, err);

        return r < 0 ? r : parse_document(vl_json_get_string(vl_json_object_get(reply, "image")), ret, err);
}

int remote_image_document(Cli *cli, const char *ref, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *doc = NULL;
        int r = service_image_document(cli, ref, &doc, err);

        if (r < 0)
                return r;
        if (!(*ret = image_document(doc)))
                return cpod_error(err, ENOMEM, "out of memory");
        return 0;
}

static int container_document(Cli *cli, const char *ref, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        int r = remote_call(cli, "InspectContainer", remote_params1("name", ref), &reply, err);

        return r < 0 ? r
                     : parse_document(vl_json_get_string(vl_json_object_get(reply, "container")), ret, err);
}

static int remote_container(InspectSource *src, const char *ref, VlJson **ret, CpodError *err) {
        return container_document(src->cli, ref, ret, err);
}

static int remote_image(InspectSource *src, const char *ref, VlJson **ret, CpodError *err) {
        return remote_image_document(src->cli, ref, ret, err);
}

static int inspect_typed(Cli *cli, int argc, char **argv, const char *type) {
        InspectSource src = {.container = remote_container, .image = remote_image, .cli = cli};
        const char *format = NULL;
        int r;

        r = inspect_parse_args(cli, argc, argv, &type, &format);
        if (r < 0)
                return remote_local_help(cli, argc, argv);
        if (r > 0)
                return r;
        if (!remote_client(cli))
                return CLI_EXIT_ERROR;
        return inspect_print(&src, type, argv + optind, argc - optind, format);
}

int remote_inspect(Cli *cli, int argc, char **argv) {
        return inspect_typed(cli, argc, argv, "all");
}

int remote_image_inspect(Cli *cli, int argc, char **argv) {
        return inspect_typed(cli, argc, argv, "image");
}

int remote_container_inspect(Cli *cli, int argc, char **argv) {
        return inspect_typed(cli, argc, argv, "container");
}

/* ---- history ---- */

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

static const char *string_or_empty(const VlJson *v) {
        return vl_json_get_string(v) ?: "";
}

/* One history entry (h NULL: a layer without history) as a display row and as podman's JSON item. */
static int history_row(const HistoryArgs *a, const VlJson *doc, int64_t img_created, const VlJson *h,
                       bool top, uint64_t size, VlJson *rows, VlJson *items) {
        const char *img_id = string_or_empty(vl_json_object_get(doc, "Id"));
        const char *created = vl_json_get_string(vl_json_object_get(h, "created"));
        const char *by = string_or_empty(vl_json_object_get(h, "created_by"));
        char id[80], since[64], at[64], sz[32], by_short[64];
        int64_t sec = img_created;
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
        snprintf(id, sizeof(id), "%s", top ? img_id : "<missing>");
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
        r |= vl_json_object_set(row, "Tags",
                                top ? member_or(doc, "RepoTags", VL_JSON_ARRAY, vl_json_new_array())
                                    : vl_json_null());
        r |= vl_json_object_set_string(item, "id", top ? img_id : "<missing>");
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

/*
 * Newest entry first. The service does not tell the size of each layer: an image of one layer has the
 * image's size; the layers of bigger images show 0.
 */
static int history_rows(const HistoryArgs *a, const VlJson *doc, VlJson *rows, VlJson *items) {
        const VlJson *history = vl_json_object_get(doc, "History");
        size_t n = vl_json_array_length(history);
        size_t n_layers =
                vl_json_array_length(vl_json_object_get(vl_json_object_get(doc, "RootFS"), "Layers"));
        uint64_t img_size = (uint64_t)vl_json_get_int(vl_json_object_get(doc, "Size"));
        int64_t created = 0;
        int32_t nsec = 0;
        int r = 0;

        (void)rfc3339_parse(string_or_empty(vl_json_object_get(doc, "Created")), &created, &nsec);
        if (n == 0) {
                for (size_t i = n_layers; i > 0 && r >= 0; i--)
                        r = history_row(a, doc, created, NULL, i == n_layers, n_layers == 1 ? img_size : 0,
                                        rows, items);
                return r;
        }
        for (size_t i = n; i > 0 && r >= 0; i--) {
                const VlJson *h = vl_json_array_get(history, i - 1);
                bool layered = !vl_json_get_bool(vl_json_object_get(h, "empty_layer"));
                r = history_row(a, doc, created, h, i == n, layered && n_layers == 1 ? img_size : 0, rows,
                                items);
        }
        return r;
}

int remote_history(Cli *cli, int argc, char **argv) {
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
        _cleanup_(vl_json_unrefp) VlJson *doc = NULL, *rows = NULL, *items = NULL;
        HistoryArgs a = {.human = true};
        CpodError err = {};
        int c, r;

        while ((c = cli_getopt(cli, argc, argv, "Hnqh", options)) >= 0) {
                switch (c) {
                case ARG_FORMAT:
                        a.out.format = optarg;
                        break;
                case 'H':
                        if (cli_parse_bool(optarg, &a.human) < 0)
                                return cli_error(CLI_EXIT_ERROR,
                                                 "invalid argument \"%s\" for \"--human\" flag", optarg);
                        break;
                case ARG_NO_TRUNC:
                        a.no_trunc = true;
                        break;
                case 'n':
                        a.out.noheading = true;
                        break;
                case 'q':
                        a.quiet = true;
                        break;
                case 'h':
                        return remote_local_help(cli, argc, argv);
                }
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 1, 1) < 0)
                return CLI_EXIT_ERROR;
        r = service_image_document(cli, argv[optind], &doc, &err);
        if (r < 0)
                return cli_image_error(argv[optind], &err, r);
        if (!(rows = vl_json_new_array()) || !(items = vl_json_new_array()))
                r = cpod_error(&err, ENOMEM, "out of memory");
        if (r >= 0)
                r = history_rows(&a, doc, rows, items);
        if (r >= 0 && a.quiet) {
                const VlJson *row;
                VL_JSON_FOREACH_ELEMENT (row, rows)
                        puts(vl_json_get_string(vl_json_object_get(row, "ID")));
        } else if (r >= 0)
                r = output_print(&a.out, history_columns, rows, items, &err);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}
