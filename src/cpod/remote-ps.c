/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Remote ps: the rows of cmd-ps.c, built from io.podman's Ps records (and inspect documents for the JSON
 * and template fields Ps lacks). */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-container.h"
#include "manifest.h"
#include "remote.h"
#include "output.h"

static Cli *ps_cli;

typedef struct PsArgs {
        bool all, quiet, no_trunc, size;
        int64_t last; /* -1: all */
        Output out;
        char **filters;
        size_t n_filters;
} PsArgs;

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

static bool ancestor_match(Engine *e, const Container *c, const char *v) {
        Image img = {};
        bool m = false;

        if (startswith(c->image_id, v) || streq_ptr(c->image_name, v))
                return true;
        if (c->image_name && regex_match(v, c->image_name))
                return true;
        (void)img;
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        CpodError err = {};
        if (remote_call(ps_cli, "GetImage", remote_params1("id", v), &reply, &err) >= 0)
                m = streq_ptr(
                        vl_json_get_string(vl_json_object_get(vl_json_object_get(reply, "image"), "id")),
                        c->image_id);
        return m;
}

/* One filter against one container: 1 match, 0 no match, <0 unsupported (printed). */
static int filter_one(Engine *e, const Container *c, const char *f) {
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
                return ancestor_match(e, c, v);
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
static int filters_match(Engine *e, const Container *c, const PsArgs *a) {
        for (size_t i = 0; i < a->n_filters; i++) {
                size_t klen = strcspn(a->filters[i], "=");
                bool any = false;
                for (size_t j = 0; j < a->n_filters; j++) {
                        if (strncmp(a->filters[j], a->filters[i], klen + 1) != 0)
                                continue;
                        int r = filter_one(e, c, a->filters[j]);
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

static int print_ps(Engine *e, const Container *cs, size_t n, const PsArgs *a, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *rows = vl_json_new_array(), *items = vl_json_new_array();
        OutputColumn cols[ELEMENTSOF(ps_columns)];
        int64_t shown = 0;

        if (!rows || !items)
                return cpod_error(err, ENOMEM, "out of memory");
        for (size_t i = 0; i < n && (a->last < 0 || shown < a->last); i++) {
                int r = filters_match(e, &cs[i], a);
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
                if (!row || !item || vl_json_array_append(rows, TAKE_PTR(row)) < 0 ||
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

static int parse_ps(Cli *cli, int argc, char **argv, PsArgs *a) {
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

static ContainerState state_of(const char *s) {
        static const struct {
                const char *name;
                ContainerState state;
        } map[] = {
                {"configured", CONTAINER_CONFIGURED}, {"created", CONTAINER_CREATED},
                {"running", CONTAINER_RUNNING},       {"stopped", CONTAINER_STOPPED},
                {"paused", CONTAINER_PAUSED},         {"exited", CONTAINER_EXITED},
                {"removing", CONTAINER_REMOVING},
        };
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq_ptr(s, map[i].name))
                        return map[i].state;
        return CONTAINER_UNKNOWN;
}

static int64_t time_ns(const char *s) {
        int64_t sec = 0;
        int32_t nsec = 0;

        if (!s || !*s || rfc3339_parse(s, &sec, &nsec) < 0)
                return 0;
        return sec * 1000000000 + nsec;
}

/* A Container from a Ps record and, when given, the container's inspect document. */
static int container_from(const VlJson *rec, const VlJson *doc, Container *c) {
        const char *status = vl_json_get_string(vl_json_object_get(rec, "status")) ?: "";
        const char *cmd = vl_json_get_string(vl_json_object_get(rec, "command")) ?: "";
        const VlJson *labels = vl_json_object_get(rec, "labels"), *state = vl_json_object_get(doc, "State");
        const char *image = vl_json_get_string(vl_json_object_get(rec, "image"));
        const char *pod = vl_json_get_string(vl_json_object_get(rec, "pod"));
        const char *exited;

        snprintf(c->id, sizeof(c->id), "%s", vl_json_get_string(vl_json_object_get(rec, "id")) ?: "");
        if (!(c->name = strdup(vl_json_get_string(vl_json_object_get(rec, "names")) ?: "")))
                return -ENOMEM;
        if (image && *image && !(c->image_name = strdup(image)))
                return -ENOMEM;
        if (pod && *pod && !(c->pod_id = strdup(pod)))
                return -ENOMEM;
        c->created = time_ns(vl_json_get_string(vl_json_object_get(rec, "createdAt"))) / 1000000000;
        c->started_at = time_ns(vl_json_get_string(vl_json_object_get(rec, "startedAt")));
        c->finished_at = time_ns(vl_json_get_string(vl_json_object_get(rec, "exitedAt")));
        c->state = state_of(vl_json_get_string(vl_json_object_get(rec, "state")));
        c->pid = (pid_t)vl_json_get_int(vl_json_object_get(rec, "pidNum"));
        if ((exited = startswith(status, "Exited (")))
                c->exit_code = atoi(exited);
        /* the command as one string: split at spaces (the arguments themselves may hold some) */
        if (doc) {
                const VlJson *path = vl_json_object_get(doc, "Path"),
                             *args = vl_json_object_get(doc, "Args");
                const char *img_id = vl_json_get_string(vl_json_object_get(doc, "Image"));
                if (vl_json_get_string(path) &&
                    strv_push(&c->command, &c->n_command, vl_json_get_string(path)) < 0)
                        return -ENOMEM;
                for (size_t i = 0; i < vl_json_array_length(args); i++)
                        if (strv_push(&c->command, &c->n_command,
                                      vl_json_get_string(vl_json_array_get(args, i)) ?: "") < 0)
                                return -ENOMEM;
                snprintf(c->image_id, sizeof(c->image_id), "%s", img_id ?: "");
                c->pid = (pid_t)vl_json_get_int(vl_json_object_get(state, "Pid"));
                c->exit_code = (int)vl_json_get_int(vl_json_object_get(state, "ExitCode"));
                c->rm = vl_json_get_bool(
                        vl_json_object_get(vl_json_object_get(doc, "HostConfig"), "AutoRemove"));
                c->restart_count = (int)vl_json_get_int(vl_json_object_get(doc, "RestartCount"));
        } else if (*cmd && strv_push(&c->command, &c->n_command, cmd) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < vl_json_object_length(labels); i++) {
                _cleanup_free_ char *kv = NULL;
                if (asprintf(&kv, "%s=%s", vl_json_object_key(labels, i),
                             vl_json_get_string(vl_json_object_value(labels, i)) ?: "") < 0)
                        return -ENOMEM;
                if (strv_push(&c->labels, &c->n_labels, kv) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static bool needs_documents(const PsArgs *a) {
        if (a->quiet)
                return false;
        if (a->n_filters > 0)
                return true;
        return a->out.format && *a->out.format && !streq(a->out.format, "table");
}

static void container_free(Container *c) {
        free(c->name);
        free(c->image_name);
        free(c->pod_id);
        strv_free_n(c->command, c->n_command);
        strv_free_n(c->labels, c->n_labels);
}

int remote_ps(Cli *cli, int argc, char **argv) {
        _cleanup_(vl_json_unrefp) VlJson *params = NULL, *opts = NULL, *reply = NULL;
        PsArgs a = {};
        CpodError err = {};
        Container *cs = NULL;
        const VlJson *recs;
        size_t n = 0;
        int r;

        ps_cli = cli;
        r = parse_ps(cli, argc, argv, &a);
        if (r != 0) {
                strv_free_n(a.filters, a.n_filters);
                return r < 0 ? CLI_EXIT_OK : r;
        }
        if (a.size) {
                strv_free_n(a.filters, a.n_filters);
                return cli_error(CLI_EXIT_ERROR, "ps --size is not supported in remote mode yet");
        }
        if (!(params = vl_json_new_object()) || !(opts = vl_json_new_object()) ||
            vl_json_object_set_bool(opts, "all", a.all) < 0 ||
            vl_json_object_set(params, "opts", TAKE_PTR(opts)) < 0)
                r = cpod_error(&err, ENOMEM, "out of memory");
        if (r >= 0)
                r = remote_call(cli, "Ps", TAKE_PTR(params), &reply, &err);
        recs = vl_json_object_get(reply, "containers");
        if (r >= 0 && vl_json_array_length(recs) > 0 &&
            !(cs = calloc(vl_json_array_length(recs), sizeof(Container))))
                r = cpod_error(&err, ENOMEM, "out of memory");
        for (size_t i = 0; r >= 0 && i < vl_json_array_length(recs); i++) {
                const VlJson *rec = vl_json_array_get(recs, i);
                _cleanup_(vl_json_unrefp) VlJson *doc = NULL, *dreply = NULL;
                if (needs_documents(&a)) {
                        r = remote_call(
                                cli, "InspectContainer",
                                remote_params1("name", vl_json_get_string(vl_json_object_get(rec, "id"))),
                                &dreply, &err);
                        if (r == -ENOENT) { /* removed meanwhile */
                                r = 0;
                                continue;
                        }
                        const char *text = vl_json_get_string(vl_json_object_get(dreply, "container"));
                        if (r >= 0 &&
                            vl_json_parse(text ?: "", text ? strlen(text) : 0, NULL, &doc, NULL) < 0)
                                r = cpod_error(&err, EBADMSG, "malformed inspect document");
                }
                if (r >= 0)
                        r = container_from(rec, doc, &cs[n++]) < 0
                                    ? cpod_error(&err, ENOMEM, "out of memory")
                                    : 0;
        }
        if (r >= 0)
                r = print_ps(NULL, cs, n, &a, &err);
        for (size_t i = 0; i < n; i++)
                container_free(&cs[i]);
        free(cs);
        strv_free_n(a.filters, a.n_filters);
        if (r == -EINVAL && err.code == 0)
                return CLI_EXIT_ERROR; /* a filter error, printed */
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}
