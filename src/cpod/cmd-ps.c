/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpod ps (container ls, container list): filters, podman's columns and STATUS strings. The listing is
 * shared with remote mode (ps-rows.h); the store's side is at the end. */
#include <ftw.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-container.h"
#include "network.h"
#include "output.h"
#include "ps-rows.h"

static const OutputColumn ps_columns[] = {
        {"ID", "CONTAINER ID"},
        {"Image", "IMAGE"},
        {"Command", "COMMAND"},
        {"RunningFor", "CREATED"},
        {"Status", "STATUS"},
        {"Ports", "PORTS"},
        {"Names", "NAMES"},
        {"Size", "SIZE"},
        {"CreatedAt", "CREATED AT", true},
        {"Created", "CREATED", true},
        {"State", "STATE", true},
        {"Labels", "LABELS", true},
        {"Mounts", "MOUNTS", true},
        {"Networks", "NETWORKS", true},
        {"Pod", "POD ID", true},
        {"PodName", "PODNAME", true},
        {"ExitCode", "EXIT CODE", true},
        {"Exited", "EXITED", true},
        {"Pid", "PID", true},
        {"AutoRemove", "AUTOREMOVE", true},
        {"Restarts", "RESTARTS", true},
        {},
};

/* podman shows a configured container (not yet known to the runtime) as "created". */
static const char *state_text(ContainerState s) {
        return s == CONTAINER_CONFIGURED ? "created" : container_state_name(s);
}

static bool exited(const Container *c) {
        return c->state == CONTAINER_EXITED || c->state == CONTAINER_STOPPED;
}

/* podman 4's STATUS column: "Up 2 seconds ago", "Exited (0) 3 seconds ago", "Created", "Paused". */
static const char *status_text(const Container *c, char *buf, size_t n) {
        char since[64];

        switch (c->state) {
        case CONTAINER_RUNNING:
                snprintf(buf, n, "Up %s", output_since(c->started_at / 1000000000, since, sizeof(since)));
                break;
        case CONTAINER_PAUSED:
                snprintf(buf, n, "Paused");
                break;
        case CONTAINER_STOPPED:
        case CONTAINER_EXITED:
                snprintf(buf, n, "Exited (%d) %s", c->exit_code,
                         output_since(c->finished_at / 1000000000, since, sizeof(since)));
                break;
        case CONTAINER_REMOVING:
                snprintf(buf, n, "Removing");
                break;
        case CONTAINER_UNKNOWN:
                snprintf(buf, n, "Unknown");
                break;
        default:
                snprintf(buf, n, "Created");
        }
        return buf;
}

static bool label_match(const Container *c, const char *want) {
        const char *eq = strchr(want, '=');
        size_t klen = eq ? (size_t)(eq - want) : strlen(want);

        for (size_t i = 0; i < c->n_labels; i++) {
                const char *l = c->labels[i];
                if (strncmp(l, want, klen) != 0 || l[klen] != '=')
                        continue;
                if (!eq || streq(l + klen + 1, eq + 1))
                        return true;
        }
        return false;
}

static bool regex_match(const char *pattern, const char *s) {
        regex_t re;
        bool m;

        if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
                return strstr(s, pattern) != NULL;
        m = regexec(&re, s, 0, NULL, 0) == 0;
        regfree(&re);
        return m;
}

static bool ancestor_match(PsSource *src, const Container *c, const char *v) {
        if (startswith(c->image_id, v) || streq_ptr(c->image_name, v))
                return true;
        if (c->image_name && regex_match(v, c->image_name))
                return true;
        return src->image_is(src, v, c->image_id);
}

/* One filter against one container: 1 match, 0 no match, <0 unsupported (printed). */
static int filter_one(PsSource *src, const Container *c, const char *f) {
        const char *v;

        if ((v = startswith(f, "id=")))
                return startswith(c->id, v) != NULL || regex_match(v, c->id);
        if ((v = startswith(f, "name=")))
                return regex_match(v, c->name);
        if ((v = startswith(f, "status=")))
                return streq(v, state_text(c->state)) || streq(v, container_state_name(c->state)) ||
                       (streq(v, "exited") && c->state == CONTAINER_STOPPED);
        if ((v = startswith(f, "label=")))
                return label_match(c, v);
        if ((v = startswith(f, "ancestor=")))
                return ancestor_match(src, c, v);
        if ((v = startswith(f, "exited="))) {
                char *end;
                long code = strtol(v, &end, 10);
                if (end == v || *end)
                        return cli_error(-EINVAL, "exited code out of range \"%s\"", v);
                return exited(c) && c->exit_code == code;
        }
        if ((v = startswith(f, "pod=")))
                return c->pod_id && startswith(c->pod_id, v) != NULL;
        return cli_error(-EINVAL, "%s is an invalid filter", f);
}

/* Same key: any may match; different keys: all must. 1, 0, or <0. */
static int filters_match(PsSource *src, const Container *c, const PsArgs *a) {
        for (size_t i = 0; i < a->n_filters; i++) {
                size_t klen = strcspn(a->filters[i], "=");
                bool any = false;
                for (size_t j = 0; j < a->n_filters; j++) {
                        if (strncmp(a->filters[j], a->filters[i], klen + 1) != 0)
                                continue;
                        int r = filter_one(src, c, a->filters[j]);
                        if (r < 0)
                                return r;
                        any = any || r > 0;
                }
                if (!any)
                        return 0;
        }
        return 1;
}

static char *command_text(const Container *c, bool no_trunc) {
        VlBuf b = VL_BUF_INIT;

        for (size_t i = 0; i < c->n_command; i++)
                if ((i > 0 && vl_buf_append_char(&b, ' ') < 0) || vl_buf_append_str(&b, c->command[i]) < 0)
                        goto fail;
        if (!no_trunc && b.len > 17) {
                b.len = 17;
                if (vl_buf_append_str(&b, "...") < 0)
                        goto fail;
        }
        if (vl_buf_append_char(&b, 0) < 0)
                goto fail;
        return b.data;
fail:
        vl_buf_free(&b);
        return NULL;
}

static VlJson *string_array(char *const *v, size_t n) {
        VlJson *a = vl_json_new_array();

        for (size_t i = 0; a && i < n; i++)
                if (vl_json_array_append(a, vl_json_new_string(v[i])) < 0)
                        return vl_json_unref(a);
        return a;
}

static VlJson *labels_object(const Container *c) {
        VlJson *o;

        if (c->n_labels == 0)
                return vl_json_null();
        if (!(o = vl_json_new_object()))
                return NULL;
        for (size_t i = 0; i < c->n_labels; i++) {
                const char *eq = strchr(c->labels[i], '=');
                _cleanup_free_ char *k =
                        strndup(c->labels[i], eq ? (size_t)(eq - c->labels[i]) : strlen(c->labels[i]));
                if (!k || vl_json_object_set_string(o, k, eq ? eq + 1 : "") < 0)
                        return vl_json_unref(o);
        }
        return o;
}

/* podman's ps --format json item. */
static VlJson *ps_item(const Container *c) {
        _cleanup_(vl_json_unrefp) VlJson *o = vl_json_new_object();
        char status[128], since[64];
        int r = o ? 0 : -ENOMEM;

        r = r ?: vl_json_object_set_bool(o, "AutoRemove", c->rm);
        r = r ?: vl_json_object_set(o, "Command", string_array(c->command, c->n_command));
        r = r ?: vl_json_object_set_string(o, "CreatedAt", output_since(c->created, since, sizeof(since)));
        r = r ?: vl_json_object_set_bool(o, "Exited", exited(c));
        r = r
                    ?: vl_json_object_set_int(o, "ExitedAt",
                                              c->finished_at ? c->finished_at / 1000000000 : -62135596800);
        r = r ?: vl_json_object_set_int(o, "ExitCode", c->exit_code);
        r = r ?: vl_json_object_set_string(o, "Id", c->id);
        r = r ?: vl_json_object_set_string(o, "Image", c->image_name ?: "");
        r = r ?: vl_json_object_set_string(o, "ImageID", c->image_id);
        r = r ?: vl_json_object_set_bool(o, "IsInfra", false);
        r = r ?: vl_json_object_set(o, "Labels", labels_object(c));
        r = r ?: vl_json_object_set(o, "Mounts", vl_json_new_array());
        r = r ?: vl_json_object_set(o, "Names", string_array(&c->name, 1));
        r = r ?: vl_json_object_set(o, "Namespaces", vl_json_new_object());
        r = r ?: vl_json_object_set(o, "Networks", vl_json_new_array());
        r = r ?: vl_json_object_set_int(o, "Pid", c->pid);
        r = r ?: vl_json_object_set_string(o, "Pod", c->pod_id ?: "");
        r = r ?: vl_json_object_set_string(o, "PodName", "");
        r = r ?: vl_json_object_set(o, "Ports", vl_json_null());
        r = r ?: vl_json_object_set_int(o, "Restarts", c->restart_count);
        r = r ?: vl_json_object_set(o, "Size", vl_json_null());
        r = r
                    ?: vl_json_object_set_int(o, "StartedAt",
                                              c->started_at ? c->started_at / 1000000000 : -62135596800);
        r = r ?: vl_json_object_set_string(o, "State", state_text(c->state));
        r = r ?: vl_json_object_set_string(o, "Status", status_text(c, status, sizeof(status)));
        r = r ?: vl_json_object_set_int(o, "Created", c->created);
        return r < 0 ? NULL : TAKE_PTR(o);
}

/* The display row: the table's cells and the template fields. */
static VlJson *ps_row(const Container *c, const PsArgs *a) {
        _cleanup_(vl_json_unrefp) VlJson *o = ps_item(c);
        _cleanup_free_ char *cmd = command_text(c, a->no_trunc);
        char idbuf[80], since[64], at[64];
        int r = o && cmd ? 0 : -ENOMEM;

        r = r ?: vl_json_object_set_string(o, "ID", output_id(c->id, a->no_trunc, idbuf, sizeof(idbuf)));
        r = r ?: vl_json_object_set_string(o, "Command", cmd);
        r = r ?: vl_json_object_set_string(o, "RunningFor", output_since(c->created, since, sizeof(since)));
        r = r ?: vl_json_object_set_string(o, "CreatedAt", output_time(c->created, at, sizeof(at)));
        r = r ?: vl_json_object_set_string(o, "Ports", "");
        r = r ?: vl_json_object_set_string(o, "Names", c->name);
        r = r ?: vl_json_object_set_string(o, "Size", "0B (virtual 0B)");
        r = r ?: vl_json_object_set_string(o, "Networks", "");
        r = r ?: vl_json_object_set_string(o, "Mounts", "");
        return r < 0 ? NULL : TAKE_PTR(o);
}

int ps_print(PsSource *src, const Container *cs, size_t n, const PsArgs *a, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *rows = vl_json_new_array(), *items = vl_json_new_array();
        OutputColumn cols[ELEMENTSOF(ps_columns)];
        int64_t shown = 0;

        if (!rows || !items)
                return cpod_error(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n && (a->last < 0 || shown < a->last); i++) {
                int r = filters_match(src, &cs[i], a);
                if (r < 0)
                        return -EINVAL;
                if (r == 0)
                        continue;
                shown++;
                if (a->quiet) {
                        char idbuf[80];
                        printf("%s\n", output_id(cs[i].id, a->no_trunc, idbuf, sizeof(idbuf)));
                        continue;
                }
                _cleanup_(vl_json_unrefp) VlJson *row = ps_row(&cs[i], a), *item = ps_item(&cs[i]);
                if (!row || !item || (src->decorate && src->decorate(src, &cs[i], a, row, item) < 0) ||
                    vl_json_array_append(rows, TAKE_PTR(row)) < 0 ||
                    vl_json_array_append(items, TAKE_PTR(item)) < 0)
                        return cpod_error(err, ENOMEM, "out of memory");
        }
        if (a->quiet)
                return 0;
        memcpy(cols, ps_columns, sizeof(cols));
        cols[7].hidden = !a->size;
        return output_print(&a->out, cols, rows, items, err);
}

static const char ps_help[] =
        "  -a, --all             Show all the containers, default is only running containers\n"
        "  -f, --filter strings  Filter output based on conditions given\n"
        "      --format string   Pretty-print containers to JSON or using a Go template\n"
        "  -n, --last int        Print the n last created containers (all states) (default -1)\n"
        "  -l, --latest          Act on the latest container cpod is aware of\n"
        "      --no-trunc        Display the extended information\n"
        "      --noheading       Do not print headers\n"
        "  -q, --quiet           Print the numeric IDs of the containers only\n"
        "  -s, --size            Display the total file sizes\n";

int ps_parse_args(Cli *cli, int argc, char **argv, PsArgs *a) {
        enum { ARG_FORMAT = 0x100, ARG_NO_TRUNC, ARG_NOHEADING, ARG_SORT, ARG_EXTERNAL };
        static const struct option options[] = {
                {"all", no_argument, NULL, 'a'},
                {"filter", required_argument, NULL, 'f'},
                {"format", required_argument, NULL, ARG_FORMAT},
                {"last", required_argument, NULL, 'n'},
                {"latest", no_argument, NULL, 'l'},
                {"no-trunc", no_argument, NULL, ARG_NO_TRUNC},
                {"noheading", no_argument, NULL, ARG_NOHEADING},
                {"quiet", no_argument, NULL, 'q'},
                {"size", no_argument, NULL, 's'},
                {"sort", required_argument, NULL, ARG_SORT},
                {"external", no_argument, NULL, ARG_EXTERNAL},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        char *end;
        int c;

        a->last = -1;
        while ((c = cli_getopt(cli, argc, argv, "af:n:lqsh", options)) >= 0) {
                switch (c) {
                case 'h':
                        return cli_command_help(cli, ps_help) ?: -1;
                case 'a':
                        a->all = true;
                        break;
                case 'f':
                        if (strv_push(&a->filters, &a->n_filters, optarg) < 0)
                                return cli_error(CLI_EXIT_ERROR, "out of memory");
                        break;
                case ARG_FORMAT:
                        a->out.format = optarg;
                        break;
                case 'n':
                        a->last = strtoll(optarg, &end, 10);
                        if (end == optarg || *end)
                                return cli_error(CLI_EXIT_ERROR,
                                                 "invalid argument \"%s\" for \"-n, --last\"", optarg);
                        a->all = true;
                        break;
                case 'l':
                        a->last = 1;
                        a->all = true;
                        break;
                case ARG_NO_TRUNC:
                        a->no_trunc = true;
                        break;
                case ARG_NOHEADING:
                        a->out.noheading = true;
                        break;
                case 'q':
                        a->quiet = true;
                        break;
                case 's':
                        a->size = true;
                        break;
                }
        }
        if (c == -2 || cli_check_args(cli, argc - optind, 0, 0) < 0)
                return CLI_EXIT_ERROR;
        if (a->n_filters > 0)
                a->all = true; /* podman: filters look at every container */
        return 0;
}

/* The store's side of the listing. */

static bool local_image_is(PsSource *src, const char *ref, const char *image_id) {
        Image img = {};
        bool m = false;

        if (image_get(src->engine, ref, &img, NULL) >= 0) {
                m = streq(img.id, image_id);
                image_done(&img);
        }
        return m;
}

static uint64_t walk_total;

static int add_size(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        if (flag == FTW_F || flag == FTW_SL)
                walk_total += (uint64_t)st->st_size;
        return 0;
}

/* podman's SIZE: the bytes in the container's writable layer, and that plus its image's. */
static int container_sizes(Engine *e, const Container *c, uint64_t *ret_rw, uint64_t *ret_root) {
        _cleanup_free_ char *upper = NULL;
        Image img = {};

        if (asprintf(&upper, "%s/containers/%s/upper", engine_root(e), c->id) < 0)
                return -ENOMEM;
        walk_total = 0;
        (void)nftw(upper, add_size, 16, FTW_PHYS);
        *ret_rw = walk_total;
        *ret_root = walk_total;
        if (image_get(e, c->image_id, &img, NULL) >= 0) {
                *ret_root += img.size;
                image_done(&img);
        }
        return 0;
}

static int set_size(Engine *e, const Container *c, VlJson *row, VlJson *item) {
        _cleanup_(vl_json_unrefp) VlJson *size = vl_json_new_object();
        uint64_t rw = 0, root = 0;
        char a[32], b[32], text[80];
        int r = size ? 0 : -ENOMEM;

        r = r ?: container_sizes(e, c, &rw, &root);
        snprintf(text, sizeof(text), "%s (virtual %s)", output_size(rw, 3, false, a, sizeof(a)),
                 output_size(root, 3, false, b, sizeof(b)));
        r = r ?: vl_json_object_set_string(row, "Size", text);
        r = r ?: vl_json_object_set_int(size, "rwSize", (int64_t)rw);
        r = r ?: vl_json_object_set_int(size, "rootFsSize", (int64_t)root);
        r = r ?: vl_json_object_set(item, "Size", TAKE_PTR(size));
        return r;
}

/* The PORTS cell: published ports as "127.0.0.1:41235->8080/tcp, ...". */
static int set_ports(Engine *e, const Container *c, VlJson *row) {
        char **v = NULL;
        size_t n = 0;
        VlBuf b = VL_BUF_INIT;
        int r = net_container_ports(e, c->id, true, &v, &n, NULL);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = (i > 0 ? vl_buf_append_str(&b, ", ") : 0) < 0 ? -ENOMEM : vl_buf_append_str(&b, v[i]);
        if (r >= 0 && n > 0)
                r = vl_buf_append_char(&b, 0) < 0 ? -ENOMEM
                                                  : vl_json_object_set_string(row, "Ports", b.data);
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
        vl_buf_free(&b);
        return r;
}

/* The SIZE and PORTS cells, which need the store. */
static int local_decorate(PsSource *src, const Container *c, const PsArgs *a, VlJson *row, VlJson *item) {
        if ((a->size && set_size(src->engine, c, row, item) < 0) || set_ports(src->engine, c, row) < 0)
                return -ENOMEM;
        return 0;
}

int cmd_ps(Cli *cli, int argc, char **argv) {
        PsArgs a = {};
        PsSource src = {.image_is = local_image_is, .decorate = local_decorate, .cli = cli};
        CpodError err = {};
        Container *cs = NULL;
        size_t n = 0;
        int r;

        r = ps_parse_args(cli, argc, argv, &a);
        if (r != 0) {
                strv_free_n(a.filters, a.n_filters);
                return r < 0 ? CLI_EXIT_OK : r;
        }
        if (!(src.engine = cli_engine(cli))) {
                strv_free_n(a.filters, a.n_filters);
                return CLI_EXIT_ERROR;
        }
        r = container_list(src.engine, a.all, &cs, &n, &err);
        if (r >= 0)
                r = ps_print(&src, cs, n, &a, &err);
        container_array_free(cs, n);
        strv_free_n(a.filters, a.n_filters);
        if (r == -EINVAL && err.code == 0)
                return CLI_EXIT_ERROR; /* a filter error, printed */
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}
