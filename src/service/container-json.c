/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Container records: io.podman's Container (the same fields as
 * io.projectatomic.podman's ListContainerData), PsContainer and
 * ContainerStats. Empty lists and maps are sent as [] and {}, never null.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "containers-internal.h"
#include "util.h"

const char *format_rfc3339nano(int64_t ns, char buf[static TIME_BUF_MAX]) {
        time_t t = (time_t)(ns / 1000000000);
        struct tm tm;
        char base[24];

        if (!gmtime_r(&t, &tm) || strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
                snprintf(base, sizeof(base), "1970-01-01T00:00:00");
        snprintf(buf, TIME_BUF_MAX, "%s.%09lldZ", base, (long long)(ns % 1000000000));
        return buf;
}

/* Docker's HumanDuration: "Less than a second", "5 minutes", "About an hour"… */
static void human_duration(int64_t s, char *buf, size_t size) {
        if (s < 1)
                snprintf(buf, size, "Less than a second");
        else if (s == 1)
                snprintf(buf, size, "1 second");
        else if (s < 60)
                snprintf(buf, size, "%lld seconds", (long long)s);
        else if (s < 120)
                snprintf(buf, size, "About a minute");
        else if (s < 3600)
                snprintf(buf, size, "%lld minutes", (long long)(s / 60));
        else if (s < 2 * 3600)
                snprintf(buf, size, "About an hour");
        else if (s < 48 * 3600)
                snprintf(buf, size, "%lld hours", (long long)(s / 3600));
        else if (s < 14 * 86400)
                snprintf(buf, size, "%lld days", (long long)(s / 86400));
        else if (s < 60 * 86400)
                snprintf(buf, size, "%lld weeks", (long long)(s / (7 * 86400)));
        else
                snprintf(buf, size, "%lld months", (long long)(s / (30 * 86400)));
}

static VlJson *labels_map(char *const *labels, size_t n) {
        VlJson *o = vl_json_new_object();
        for (size_t i = 0; o && i < n; i++) {
                const char *eq = strchr(labels[i], '=');
                _cleanup_free_ char *k =
                        strndup(labels[i], eq ? (size_t)(eq - labels[i]) : strlen(labels[i]));
                if (!k || vl_json_object_set_string(o, k, eq ? eq + 1 : "") < 0)
                        o = vl_json_unref(o);
        }
        return o;
}

static VlJson *namespaces(const Container *c) {
        static const char *const keys[] = {"user", "uts", "pidns", "pid", "cgroup", "net", "mnt", "ipc"};
        char pid[24];
        VlJson *o = vl_json_new_object();

        snprintf(pid, sizeof(pid), "%d",
                 c->state == CONTAINER_RUNNING || c->state == CONTAINER_PAUSED ? c->pid : 0);
        for (size_t i = 0; o && i < ELEMENTSOF(keys); i++)
                if (vl_json_object_set_string(o, keys[i], streq(keys[i], "pid") ? pid : "") < 0)
                        o = vl_json_unref(o);
        return o;
}

static bool is_running(const Container *c) {
        return c->state == CONTAINER_RUNNING || c->state == CONTAINER_PAUSED;
}

int svc_container(const Container *c, VlJson **ret) {
        char created[TIME_BUF_MAX], running[48];
        VlJson *o = vl_json_new_object();
        int r = o ? 0 : -ENOMEM;

        human_duration((int64_t)time(NULL) - c->created, running, sizeof(running));
        r = r < 0 ? r : vl_json_object_set_string(o, "id", c->id);
        r = r < 0 ? r : vl_json_object_set_string(o, "image", c->image_name ? c->image_name : "");
        r = r < 0 ? r : vl_json_object_set_string(o, "imageid", c->image_id);
        r = r < 0 ? r : json_set_strv(o, "command", c->command, c->n_command);
        r = r < 0 ? r : vl_json_object_set_string(o, "createdat", format_rfc3339(c->created, created));
        r = r < 0 ? r : vl_json_object_set_string(o, "runningfor", running);
        r = r < 0 ? r : vl_json_object_set_string(o, "status", container_state_name(c->state));
        r = r < 0 ? r : vl_json_object_set(o, "ports", vl_json_new_array());
        r = r < 0 ? r : vl_json_object_set_int(o, "rootfssize", 0);
        r = r < 0 ? r : vl_json_object_set_int(o, "rwsize", 0);
        r = r < 0 ? r : vl_json_object_set_string(o, "names", c->name ? c->name : "");
        r = r < 0 ? r : vl_json_object_set(o, "labels", labels_map(c->labels, c->n_labels));
        r = r < 0 ? r : vl_json_object_set(o, "mounts", vl_json_new_array());
        r = r < 0 ? r : vl_json_object_set_bool(o, "containerrunning", is_running(c));
        r = r < 0 ? r : vl_json_object_set(o, "namespaces", namespaces(c));
        if (r < 0) {
                vl_json_unref(o);
                return -ENOMEM;
        }
        *ret = o;
        return 0;
}

/* podman ps's STATUS column: "Up 5 minutes ago", "Exited (0) 2 seconds ago", "Created". */
static void ps_status(const Container *c, char *buf, size_t size) {
        char d[48];
        int64_t now = (int64_t)time(NULL);

        switch (c->state) {
        case CONTAINER_RUNNING:
        case CONTAINER_PAUSED:
                human_duration(now - c->started_at / 1000000000, d, sizeof(d));
                snprintf(buf, size, "Up %s ago%s", d, c->state == CONTAINER_PAUSED ? " (Paused)" : "");
                break;
        case CONTAINER_EXITED:
        case CONTAINER_STOPPED:
                human_duration(now - c->finished_at / 1000000000, d, sizeof(d));
                snprintf(buf, size, "Exited (%d) %s ago", c->exit_code, d);
                break;
        default:
                snprintf(buf, size, "%s",
                         c->state == CONTAINER_CREATED || c->state == CONTAINER_CONFIGURED
                                 ? "Created"
                                 : container_state_name(c->state));
        }
}

static int set_time_ns(VlJson *o, const char *key, int64_t ns) {
        char buf[TIME_BUF_MAX];
        return vl_json_object_set_string(o, key, ns > 0 ? format_rfc3339(ns / 1000000000, buf) : "");
}

int svc_ps_container(const Container *c, VlJson **ret) {
        static const char *const empty[] = {"cgroup", "ipc", "mnt", "net", "pidNs", "user", "uts", "mounts"};
        char created[TIME_BUF_MAX], status[96], pid[24];
        VlBuf cmd = VL_BUF_INIT;
        VlJson *o = vl_json_new_object();
        int r = o ? 0 : -ENOMEM;

        for (size_t i = 0; r >= 0 && i < c->n_command; i++)
                if ((i > 0 && vl_buf_append_char(&cmd, ' ') < 0) ||
                    vl_buf_append_str(&cmd, c->command[i]) < 0)
                        r = -ENOMEM;
        if (r >= 0 && vl_buf_append_char(&cmd, '\0') < 0)
                r = -ENOMEM;
        ps_status(c, status, sizeof(status));
        snprintf(pid, sizeof(pid), "%d", is_running(c) ? c->pid : 0);
        r = r < 0 ? r : vl_json_object_set_string(o, "id", c->id);
        r = r < 0 ? r : vl_json_object_set_string(o, "image", c->image_name ? c->image_name : "");
        r = r < 0 ? r : vl_json_object_set_string(o, "command", cmd.data ? cmd.data : "");
        r = r < 0 ? r : vl_json_object_set_string(o, "created", format_rfc3339(c->created, created));
        r = r < 0 ? r : vl_json_object_set_string(o, "ports", "");
        r = r < 0 ? r : vl_json_object_set_string(o, "names", c->name ? c->name : "");
        r = r < 0 ? r : vl_json_object_set_bool(o, "isInfra", false);
        r = r < 0 ? r : vl_json_object_set_string(o, "status", status);
        r = r < 0 ? r : vl_json_object_set_string(o, "state", container_state_name(c->state));
        r = r < 0 ? r : vl_json_object_set_int(o, "pidNum", is_running(c) ? c->pid : 0);
        r = r < 0 ? r : vl_json_object_set_int(o, "rootFsSize", 0);
        r = r < 0 ? r : vl_json_object_set_int(o, "rwSize", 0);
        r = r < 0 ? r : vl_json_object_set_string(o, "pod", c->pod_id ? c->pod_id : "");
        r = r < 0 ? r : vl_json_object_set_string(o, "createdAt", created);
        r = r < 0 ? r : set_time_ns(o, "exitedAt", c->finished_at);
        r = r < 0 ? r : set_time_ns(o, "startedAt", c->started_at);
        r = r < 0 ? r : vl_json_object_set(o, "labels", labels_map(c->labels, c->n_labels));
        r = r < 0 ? r : vl_json_object_set_string(o, "nsPid", pid);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(empty); i++)
                r = vl_json_object_set_string(o, empty[i], "");
        vl_buf_free(&cmd);
        if (r < 0) {
                vl_json_unref(o);
                return -ENOMEM;
        }
        *ret = o;
        return 0;
}

int svc_container_stats(const ContainerStats *s, VlJson **ret) {
        double mem_perc = s->mem_limit > 0 ? 100.0 * (double)s->mem_usage / (double)s->mem_limit : 0;
        VlJson *o = vl_json_new_object();
        int r = o ? 0 : -ENOMEM;

        r = r < 0 ? r : vl_json_object_set_string(o, "id", s->id);
        r = r < 0 ? r : vl_json_object_set_string(o, "name", s->name ? s->name : "");
        r = r < 0 ? r : vl_json_object_set_double(o, "cpu", s->cpu_percent);
        r = r < 0 ? r : vl_json_object_set_int(o, "cpu_nano", (int64_t)s->cpu_nano);
        r = r < 0 ? r : vl_json_object_set_int(o, "system_nano", (int64_t)time(NULL) * 1000000000);
        r = r < 0 ? r : vl_json_object_set_int(o, "mem_usage", (int64_t)s->mem_usage);
        r = r < 0 ? r : vl_json_object_set_int(o, "mem_limit", (int64_t)s->mem_limit);
        r = r < 0 ? r : vl_json_object_set_double(o, "mem_perc", mem_perc);
        r = r < 0 ? r : vl_json_object_set_int(o, "net_input", (int64_t)s->net_in);
        r = r < 0 ? r : vl_json_object_set_int(o, "net_output", (int64_t)s->net_out);
        r = r < 0 ? r : vl_json_object_set_int(o, "block_output", (int64_t)s->block_out);
        r = r < 0 ? r : vl_json_object_set_int(o, "block_input", (int64_t)s->block_in);
        r = r < 0 ? r : vl_json_object_set_int(o, "pids", (int64_t)s->pids);
        if (r < 0) {
                vl_json_unref(o);
                return -ENOMEM;
        }
        *ret = o;
        return 0;
}
