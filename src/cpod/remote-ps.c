/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Remote ps: the listing of cmd-ps.c (ps-rows.h), its containers from io.podman's Ps records (and inspect
 * documents for the JSON and template fields Ps lacks). */
#include <stdlib.h>
#include <string.h>

#include "cmd-container.h"
#include "manifest.h"
#include "output.h"
#include "ps-rows.h"
#include "remote.h"

static bool remote_image_is(PsSource *src, const char *ref, const char *image_id) {
        _cleanup_(vl_json_unrefp) VlJson *reply = NULL;
        CpodError err = {};

        if (remote_call(src->cli, "GetImage", remote_params1("id", ref), &reply, &err) < 0)
                return false;
        return streq_ptr(vl_json_get_string(vl_json_object_get(vl_json_object_get(reply, "image"), "id")),
                         image_id);
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
        PsSource src = {.image_is = remote_image_is, .cli = cli};
        CpodError err = {};
        Container *cs = NULL;
        const VlJson *recs;
        size_t n = 0;
        int r;

        r = ps_parse_args(cli, argc, argv, &a);
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
                r = ps_print(&src, cs, n, &a, &err);
        for (size_t i = 0; i < n; i++)
                container_free(&cs[i]);
        free(cs);
        strv_free_n(a.filters, a.n_filters);
        if (r == -EINVAL && err.code == 0)
                return CLI_EXIT_ERROR; /* a filter error, printed */
        return r < 0 ? cli_engine_error(&err, r) : CLI_EXIT_OK;
}
