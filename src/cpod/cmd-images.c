/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpod images (image ls, image list): filters, sorting, and one row per name. The listing is shared with
 * remote mode (images-rows.h); the store's side is at the end. */
#include <fnmatch.h>
#include <string.h>

#include "cpod.h"
#include "images-rows.h"
#include "manifest.h"
#include "output.h"

/* One line of the listing: an image under one of its names. */
typedef struct ImageRow {
        const Image *img;
        char *repo, *tag;
        VlJson *config; /* borrowed from the image's slot, NULL unless needed */
} ImageRow;

static const OutputColumn image_columns[] = {
        {"Repository", "REPOSITORY"},
        {"Tag", "TAG"},
        {"Digest", "DIGEST", true},
        {"ID", "IMAGE ID"},
        {"Created", "CREATED"},
        {"Size", "SIZE"},
        {"CreatedAt", "CREATED AT", true},
        {"CreatedSince", "CREATED", true},
        {"VirtualSize", "VIRTUAL SIZE", true},
        {"SharedSize", "SHARED SIZE", true},
        {"Containers", "CONTAINERS", true},
        {"Labels", "LABELS", true},
        {"Names", "NAMES", true},
        {"Id", "ID", true},
        {"ReadOnly", "READONLY", true},
        {"History", "HISTORY", true},
        {},
};

static int image_config_cached(ImageSet *set, size_t i, VlJson **ret, CpodError *err) {
        int r;

        if (!set->configs[i] && set->load_config) {
                r = set->load_config(set, i, &set->configs[i], err);
                if (r < 0)
                        return r;
        }
        *ret = set->configs[i];
        return 0;
}

static bool label_matches(const VlJson *labels, const char *want) {
        const char *eq = strchr(want, '=');
        size_t klen = eq ? (size_t)(eq - want) : strlen(want);
        const char *k;
        const VlJson *v;

        VL_JSON_FOREACH_MEMBER (k, v, labels)
                if (strlen(k) == klen && strncmp(k, want, klen) == 0 &&
                    (!eq || streq_ptr(vl_json_get_string(v), eq + 1)))
                        return true;
        return false;
}

static bool glob_matches(const char *pattern, const char *s, size_t n) {
        char buf[512];

        if (n >= sizeof(buf))
                return false;
        memcpy(buf, s, n);
        buf[n] = 0;
        return fnmatch(pattern, buf, 0) == 0;
}

/* reference=PATTERN against a name in its full and familiar forms, with and without the tag, and its last
 * path component ("busybox" matches "docker.io/library/busybox:latest"). */
static bool reference_matches(const char *pattern, const char *name) {
        const char *forms[4] = {name, NULL, NULL, NULL};
        const char *p;

        if ((p = startswith(name, "docker.io/library/")) || (p = startswith(name, "docker.io/")))
                forms[1] = p;
        p = strrchr(name, '/');
        forms[2] = p ? p + 1 : name;
        for (size_t i = 0; i < 3; i++) {
                const char *f = forms[i], *colon, *slash;
                if (!f)
                        continue;
                slash = strrchr(f, '/');
                colon = strrchr(slash ? slash : f, ':');
                if (fnmatch(pattern, f, 0) == 0 || (colon && glob_matches(pattern, f, colon - f)))
                        return true;
        }
        return false;
}

static bool names_match(const Image *img, const char *pattern) {
        for (size_t i = 0; i < img->n_names; i++)
                if (reference_matches(pattern, img->names[i]))
                        return true;
        return false;
}

/* One filter ("key=value") against one image: 1 match, 0 no match, <0 error. */
static int filter_one(ImageSet *set, size_t i, const char *filter, CpodError *err) {
        const Image *img = &set->imgs[i];
        const char *v;
        VlJson *config;
        int r;

        if ((v = startswith(filter, "reference=")))
                return names_match(img, v);
        if ((v = startswith(filter, "dangling="))) {
                bool want;
                if (cli_parse_bool(v, &want) < 0)
                        return cpod_error(err, EINVAL, "invalid filter value \"%s\" for dangling", v);
                return (img->n_names == 0) == want;
        }
        if ((v = startswith(filter, "id=")))
                return startswith(img->id, startswith(v, "sha256:") ?: v) != NULL;
        if ((v = startswith(filter, "label="))) {
                r = image_config_cached(set, i, &config, err);
                if (r < 0)
                        return r;
                return label_matches(cli_config_labels(config), v);
        }
        if ((v = startswith(filter, "before=")) || (v = startswith(filter, "since="))) {
                int64_t other = 0;
                r = set->created_of(set, v, &other, err);
                if (r < 0)
                        return cpod_error_wrap(err, "%s", filter);
                return filter[0] == 'b' ? img->created < other : img->created > other;
        }
        if ((v = startswith(filter, "readonly=")) || (v = startswith(filter, "intermediate=")))
                return streq(v, "false"); /* no image is read-only or intermediate here */
        return cpod_error(err, EINVAL, "unsupported image filter \"%s\"", filter);
}

/* Filters with the same key are alternatives; different keys must all match. */
static int filters_match(ImageSet *set, size_t i, const ImagesArgs *a, CpodError *err) {
        for (size_t f = 0; f < a->n_filters; f++) {
                size_t klen = strcspn(a->filters[f], "=");
                bool any = false, seen = false;
                for (size_t g = 0; g < a->n_filters; g++) {
                        if (strncmp(a->filters[g], a->filters[f], klen + 1) != 0)
                                continue;
                        seen = true;
                        int r = filter_one(set, i, a->filters[g], err);
                        if (r < 0)
                                return r;
                        any = any || r > 0;
                }
                if (seen && !any)
                        return 0;
        }
        return 1;
}

int cli_split_name(const char *name, char **ret_repo, char **ret_tag) {
        const char *slash = strrchr(name, '/'), *colon = strrchr(slash ? slash : name, ':');
        const char *at = strchr(name, '@');

        if (at && (!colon || at < colon))
                colon = NULL;
        *ret_repo =
                colon ? strndup(name, colon - name) : strndup(name, at ? (size_t)(at - name) : strlen(name));
        *ret_tag = strdup(colon ? colon + 1 : "<none>");
        if (!*ret_repo || !*ret_tag) {
                free(*ret_repo);
                free(*ret_tag);
                return -ENOMEM;
        }
        return 0;
}

typedef enum SortKey { SORT_CREATED, SORT_ID, SORT_REPOSITORY, SORT_TAG, SORT_SIZE } SortKey;

/* qsort has no context argument; set before each sort */
static SortKey sort_key;

static SortKey sort_key_from_string(const char *s) {
        return streq(s, "id")           ? SORT_ID
               : streq(s, "repository") ? SORT_REPOSITORY
               : streq(s, "tag")        ? SORT_TAG
               : streq(s, "size")       ? SORT_SIZE
                                        : SORT_CREATED;
}

static int compare_rows(const void *pa, const void *pb) {
        const ImageRow *a = pa, *b = pb;
        int c = 0;

        switch (sort_key) {
        case SORT_ID:
                c = strcmp(a->img->id, b->img->id);
                break;
        case SORT_REPOSITORY:
                c = strcmp(a->repo, b->repo);
                break;
        case SORT_TAG:
                c = strcmp(a->tag, b->tag);
                break;
        case SORT_SIZE:
                c = a->img->size < b->img->size ? -1 : a->img->size > b->img->size;
                break;
        case SORT_CREATED:
                break;
        }
        if (c == 0) /* newest first, then by name for a stable order */
                c = a->img->created > b->img->created ? -1 : a->img->created < b->img->created;
        if (c == 0)
                c = strcmp(a->repo, b->repo) ?: strcmp(a->tag, b->tag);
        return c;
}

static VlJson *strings_array(char *const *v, size_t n) {
        VlJson *a = vl_json_new_array();

        for (size_t i = 0; a && i < n; i++)
                if (vl_json_array_append(a, vl_json_new_string(v[i])) < 0)
                        return vl_json_unref(a);
        return a;
}

static VlJson *labels_copy(const VlJson *config) {
        const VlJson *l = config ? cli_config_labels(config) : NULL;
        return l ? vl_json_copy(l) : vl_json_null();
}

/* An image's names as a JSON array, built once and shared by all its rows: an image with N names has N
 * rows, and copying the names into each would make the listing quadratic in N. */
static VlJson *image_names_json(ImageSet *set, const Image *img) {
        size_t i = (size_t)(img - set->imgs);

        if (!set->names[i])
                set->names[i] = strings_array(img->names, img->n_names);
        return vl_json_ref(set->names[i]);
}

/* The template and table view of a row: display strings, as podman's Go fields print. */
static VlJson *row_json(const ImageRow *row, ImageSet *set, const ImagesArgs *a) {
        const Image *img = row->img;
        char id[80], size[32], since[64], at[64];
        VlJson *o = vl_json_new_object();
        int r = 0;

        if (!o)
                return NULL;
        if (a->no_trunc)
                snprintf(id, sizeof(id), "sha256:%s", img->id);
        else
                output_id(img->id, false, id, sizeof(id));
        output_size(img->size, 3, true, size, sizeof(size));
        output_since(img->created, since, sizeof(since));
        output_time(img->created, at, sizeof(at));
        r |= vl_json_object_set_string(o, "Repository", row->repo);
        r |= vl_json_object_set_string(o, "Tag", row->tag);
        r |= vl_json_object_set_string(o, "Digest", img->manifest_digest);
        r |= vl_json_object_set_string(o, "ID", id);
        r |= vl_json_object_set_string(o, "Created", since);
        r |= vl_json_object_set_string(o, "Size", size);
        r |= vl_json_object_set_string(o, "CreatedAt", at);
        r |= vl_json_object_set_string(o, "CreatedSince", since);
        r |= vl_json_object_set_string(o, "VirtualSize", size);
        r |= vl_json_object_set_string(o, "SharedSize", "0 B");
        r |= vl_json_object_set_int(o, "Containers", img->containers);
        r |= vl_json_object_set(o, "Labels", labels_copy(row->config));
        r |= vl_json_object_set(o, "Names", image_names_json(set, img));
        r |= vl_json_object_set_string(o, "Id", img->id);
        r |= vl_json_object_set_bool(o, "ReadOnly", false);
        r |= vl_json_object_set(o, "History", image_names_json(set, img));
        return r < 0 ? vl_json_unref(o) : o;
}

/* What --format json prints for an image (podman's ImageSummary). */
static VlJson *summary_json(const Image *img, const VlJson *config) {
        char at[64];
        VlJson *o = vl_json_new_object();
        int r = 0;

        if (!o)
                return NULL;
        rfc3339_format(img->created, 0, at, sizeof(at));
        r |= vl_json_object_set_string(o, "Id", img->id);
        r |= vl_json_object_set_string(o, "ParentId", "");
        r |= vl_json_object_set(o, "RepoTags", vl_json_null());
        r |= vl_json_object_set(o, "RepoDigests", strings_array(img->digests, img->n_digests));
        r |= vl_json_object_set_int(o, "Size", (int64_t)img->size);
        r |= vl_json_object_set_int(o, "SharedSize", 0);
        r |= vl_json_object_set_int(o, "VirtualSize", (int64_t)img->size);
        r |= vl_json_object_set(o, "Labels", labels_copy(config));
        r |= vl_json_object_set_int(o, "Containers", img->containers);
        r |= vl_json_object_set(o, "Names", strings_array(img->names, img->n_names));
        r |= vl_json_object_set_string(o, "Digest", img->manifest_digest);
        r |= vl_json_object_set(o, "History", strings_array(img->names, img->n_names));
        r |= vl_json_object_set_int(o, "Created", img->created);
        r |= vl_json_object_set_string(o, "CreatedAt", at);
        return r < 0 ? vl_json_unref(o) : o;
}

static int add_row(ImageRow **rows, size_t *n, size_t *cap, const Image *img, const char *name,
                   VlJson *config) {
        ImageRow *row;

        if (VL_GROW(*rows, *cap, *n + 1) < 0)
                return -ENOMEM;
        row = &(*rows)[*n];
        *row = (ImageRow){.img = img, .config = config};
        if (name) {
                if (cli_split_name(name, &row->repo, &row->tag) < 0)
                        return -ENOMEM;
        } else if (!(row->repo = strdup("<none>")) || !(row->tag = strdup("<none>"))) {
                free(row->repo);
                return -ENOMEM;
        }
        (*n)++;
        return 0;
}

static void rows_free(ImageRow *rows, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(rows[i].repo);
                free(rows[i].tag);
        }
        free(rows);
}

/* Each image once, at its first row. */
static int print_quiet(const ImageRow *rows, size_t n, ImageSet *set, bool no_trunc) {
        for (size_t i = 0; i < n; i++) {
                size_t k = (size_t)(rows[i].img - set->imgs);
                if (set->listed[k])
                        continue;
                set->listed[k] = true;
                printf(no_trunc ? "sha256:%.64s\n" : "%.12s\n", rows[i].img->id);
        }
        return CLI_EXIT_OK;
}

/* The default table straight from the rows, as print_default_table would print row_json's objects: an
 * image with many names has a row per name, and a JSON object per row would cost more than the listing. */
static int print_table(const ImageRow *rows, size_t n, const ImagesArgs *a) {
        VlBuf b = VL_BUF_INIT;
        char tail[256] = "";
        int r = 0;

        if (!a->out.noheading)
                r = vl_buf_append_str(&b, a->digests ? "REPOSITORY\tTAG\tDIGEST\tIMAGE ID\tCREATED\tSIZE\n"
                                                     : "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\n");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const Image *img = rows[i].img;
                char id[80], size[32], since[64];

                /* the columns after the name are the image's: formatted once for its run of rows */
                if (i == 0 || img != rows[i - 1].img) {
                        if (a->no_trunc)
                                snprintf(id, sizeof(id), "sha256:%s", img->id);
                        else
                                output_id(img->id, false, id, sizeof(id));
                        output_size(img->size, 3, true, size, sizeof(size));
                        output_since(img->created, since, sizeof(since));
                        snprintf(tail, sizeof(tail), "%s%s\t%s\t%s\t%s\n", a->digests ? "\t" : "",
                                 a->digests ? img->manifest_digest : "", id, since, size);
                }
                r = vl_buf_append_str(&b, rows[i].repo);
                if (r >= 0)
                        r = vl_buf_append_char(&b, '\t');
                if (r >= 0)
                        r = vl_buf_append_str(&b, rows[i].tag);
                if (r >= 0)
                        r = vl_buf_append_str(&b, tail);
        }
        if (r >= 0)
                r = output_table_text(b.data, b.len);
        vl_buf_free(&b);
        return r < 0 ? -ENOMEM : 0;
}

static int print_rows(const ImageRow *rows, size_t n, ImageSet *set, const ImagesArgs *a, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *table = vl_json_new_array(), *items = NULL;
        OutputColumn cols[ELEMENTSOF(image_columns)];

        if (set->direct_table && (!a->out.format || !*a->out.format || streq(a->out.format, "table")))
                return print_table(rows, n, a);
        if (!table)
                return -ENOMEM;
        if (output_is_json(a->out.format)) {
                if (!(items = vl_json_new_array()))
                        return -ENOMEM;
                /* In the store's order, each image that has a row once. */
                for (size_t i = 0; i < set->n; i++)
                        if (set->listed[i] &&
                            vl_json_array_append(items, summary_json(&set->imgs[i], set->configs[i])) < 0)
                                return -ENOMEM;
        } else
                for (size_t i = 0; i < n; i++)
                        if (vl_json_array_append(table, row_json(&rows[i], set, a)) < 0)
                                return -ENOMEM;
        memcpy(cols, image_columns, sizeof(cols));
        cols[2].hidden = !a->digests;
        return output_print(&a->out, cols, table, items, err);
}

int images_list(ImageSet *set, const ImagesArgs *a, CpodError *err) {
        bool want_config = a->out.format && *a->out.format && !streq(a->out.format, "table");
        ImageRow *rows = NULL;
        size_t n = 0, cap = 0;
        int r = 0;

        for (size_t i = 0; i < set->n && r >= 0; i++) {
                VlJson *config = NULL;
                r = filters_match(set, i, a, err);
                if (r <= 0)
                        continue;
                if (want_config && (r = image_config_cached(set, i, &config, err)) < 0) {
                        if (r != -ENOENT || !set->still_there || set->still_there(set, &set->imgs[i]))
                                break;
                        cpod_error_clear(err); /* removed since the listing: not an error */
                        r = 0;
                        continue;
                }
                set->listed[i] = !a->quiet;
                for (size_t j = 0; j < set->imgs[i].n_names && r >= 0; j++)
                        r = add_row(&rows, &n, &cap, &set->imgs[i], set->imgs[i].names[j], config);
                if (set->imgs[i].n_names == 0 && r >= 0)
                        r = add_row(&rows, &n, &cap, &set->imgs[i], NULL, config);
        }
        if (r >= 0) {
                sort_key = sort_key_from_string(a->sort);
                if (n > 0)
                        qsort(rows, n, sizeof(*rows), compare_rows);
                r = a->quiet ? print_quiet(rows, n, set, a->no_trunc) : print_rows(rows, n, set, a, err);
        }
        rows_free(rows, n);
        if (r == -ENOMEM && err->code == 0)
                cpod_error(err, ENOMEM, "out of memory");
        return r;
}

static const char images_options[] =
        "  -a, --all              Show all images (default hides intermediate images)\n"
        "      --digests          Show digests\n"
        "  -f, --filter strings   Filter output based on conditions provided (default [])\n"
        "      --format string    Change the output format to JSON or a Go template\n"
        "      --history          Display the image name history\n"
        "      --no-trunc         Do not truncate output\n"
        "  -n, --noheading        Do not print column headings\n"
        "  -q, --quiet            Display only image IDs\n"
        "      --sort string      Sort by repository, size, tag, created, id (default \"created\")\n";

static int parse_images_args(Cli *cli, int argc, char **argv, ImagesArgs *a) {
        enum { ARG_DIGESTS = 0x100, ARG_FORMAT, ARG_HISTORY, ARG_NO_TRUNC, ARG_SORT };
        static const struct option options[] = {
                {"all", no_argument, NULL, 'a'},
                {"digests", no_argument, NULL, ARG_DIGESTS},
                {"filter", required_argument, NULL, 'f'},
                {"format", required_argument, NULL, ARG_FORMAT},
                {"history", no_argument, NULL, ARG_HISTORY},
                {"no-trunc", no_argument, NULL, ARG_NO_TRUNC},
                {"noheading", no_argument, NULL, 'n'},
                {"quiet", no_argument, NULL, 'q'},
                {"sort", required_argument, NULL, ARG_SORT},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int c;

        a->sort = "created";
        while ((c = cli_getopt(cli, argc, argv, "af:nqh", options)) >= 0) {
                switch (c) {
                case 'a':
                        a->all = true;
                        break;
                case ARG_DIGESTS:
                        a->digests = true;
                        break;
                case 'f':
                        if (VL_GROW(a->filters, a->cap_filters, a->n_filters + 1) < 0)
                                return cli_error(CLI_EXIT_ERROR, "out of memory");
                        a->filters[a->n_filters++] = optarg;
                        break;
                case ARG_FORMAT:
                        a->out.format = optarg;
                        break;
                case ARG_HISTORY:
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
                case ARG_SORT:
                        a->sort = optarg;
                        break;
                case 'h':
                        return cli_command_help(cli, images_options) ?: -1;
                }
        }
        if (c == -2)
                return CLI_EXIT_ERROR;
        if (!streq(a->sort, "created") && !streq(a->sort, "id") && !streq(a->sort, "repository") &&
            !streq(a->sort, "size") && !streq(a->sort, "tag"))
                return cli_error(
                        CLI_EXIT_ERROR,
                        "\"%s\" is not a valid field for sorting. Choose from: created, id, repository, "
                        "size, tag",
                        a->sort);
        if (cli_check_args(cli, argc - optind, 0, 1) < 0)
                return CLI_EXIT_ERROR;
        return 0;
}

int images_parse_args(Cli *cli, int argc, char **argv, ImagesArgs *a, char **ref_filter) {
        int r = parse_images_args(cli, argc, argv, a);

        if (r != 0) {
                free(a->filters);
                return r;
        }
        if (optind < argc) { /* "cpod images NAME" filters by reference */
                if (!(*ref_filter = malloc(strlen(argv[optind]) + sizeof("reference="))) ||
                    VL_GROW(a->filters, a->cap_filters, a->n_filters + 1) < 0) {
                        free(a->filters);
                        return cli_error(CLI_EXIT_ERROR, "out of memory");
                }
                strcpy(stpcpy(*ref_filter, "reference="), argv[optind]);
                a->filters[a->n_filters++] = *ref_filter;
        }
        return 0;
}

int image_set_alloc(ImageSet *set) {
        if (set->n > 0 && (!(set->configs = calloc(set->n, sizeof(VlJson *))) ||
                           !(set->names = calloc(set->n, sizeof(VlJson *))) ||
                           !(set->listed = calloc(set->n, sizeof(bool)))))
                return -ENOMEM;
        return 0;
}

void image_set_free_rows(ImageSet *set) {
        for (size_t i = 0; set->configs && i < set->n; i++)
                vl_json_unref(set->configs[i]);
        for (size_t i = 0; set->names && i < set->n; i++)
                vl_json_unref(set->names[i]);
        free(set->configs);
        free(set->names);
        free(set->listed);
}

/* The store's side of the listing. */

static int local_load_config(ImageSet *set, size_t i, VlJson **ret, CpodError *err) {
        return cli_image_config(set->engine, &set->imgs[i], ret, err);
}

static int local_created_of(ImageSet *set, const char *ref, int64_t *ret, CpodError *err) {
        Image other = {};
        int r = image_get(set->engine, ref, &other, err);

        if (r >= 0)
                *ret = other.created;
        image_done(&other);
        return r;
}

/* Whether an image is still in the store: another process may remove it between the listing and the
 * reading of its config. */
static bool local_still_there(ImageSet *set, const Image *img) {
        Image other = {};
        int r = image_get(set->engine, img->id, &other, NULL);

        image_done(&other);
        return r != -ENOENT;
}

int cmd_images(Cli *cli, int argc, char **argv) {
        ImagesArgs a = {};
        ImageSet set = {
                .load_config = local_load_config,
                .created_of = local_created_of,
                .still_there = local_still_there,
                .direct_table = true,
                .cli = cli,
        };
        CpodError err = {};
        _cleanup_free_ char *ref_filter = NULL;
        int r;

        r = images_parse_args(cli, argc, argv, &a, &ref_filter);
        if (r != 0)
                return r < 0 ? CLI_EXIT_OK : r;
        set.engine = cli_engine(cli);
        if (!set.engine) {
                free(a.filters);
                return CLI_EXIT_ERROR;
        }
        r = image_list(set.engine, &set.imgs, &set.n, &err);
        if (r >= 0 && image_set_alloc(&set) < 0)
                r = cpod_error(&err, ENOMEM, "out of memory");
        if (r >= 0)
                r = images_list(&set, &a, &err);
        image_set_free_rows(&set);
        image_array_free(set.imgs, set.n);
        free(a.filters);
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}
