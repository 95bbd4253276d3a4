/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Containers: the inspect document (podman's `container inspect` shape),
 * built from the row, the stored create options and the OCI spec.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "container-internal.h"
#include "db.h"
#include "engine-internal.h"
#include "network.h"
#include "util.h"

/* ---- inspect ---- */

static VlJson *time_json(int64_t ns) {
        char buf[48];
        if (ns <= 0)
                return vl_json_new_string("0001-01-01T00:00:00Z");
        ctr_format_rfc3339nano(ns, buf, sizeof buf);
        return vl_json_new_string(buf);
}

static VlJson *state_json(Engine *e, const Container *c) {
        VlJson *s = vl_json_new_object();
        _cleanup_free_ char *error = NULL;
        (void)db_get_text(e->db, "SELECT error FROM containers WHERE id = ?1", DB_PARAMS(c->id), &error,
                          NULL);
        const char *name = c->state == CONTAINER_CONFIGURED ? "created" : container_state_name(c->state);
        int r = s ? 0 : -ENOMEM;
        r = r < 0 ? r : vl_json_object_set_string(s, "OciVersion", "1.0.2-dev");
        r = r < 0 ? r : vl_json_object_set_string(s, "Status", name);
        r = r < 0 ? r : vl_json_object_set_bool(s, "Running", c->state == CONTAINER_RUNNING);
        r = r < 0 ? r : vl_json_object_set_bool(s, "Paused", c->state == CONTAINER_PAUSED);
        r = r < 0 ? r : vl_json_object_set_bool(s, "Restarting", false);
        r = r < 0 ? r : vl_json_object_set_bool(s, "OOMKilled", false);
        r = r < 0 ? r : vl_json_object_set_bool(s, "Dead", false);
        r = r < 0 ? r : vl_json_object_set_int(s, "Pid", c->pid);
        r = r < 0 ? r : vl_json_object_set_int(s, "ConmonPid", c->conmon_pid);
        r = r < 0 ? r : vl_json_object_set_int(s, "ExitCode", c->exit_code);
        r = r < 0 ? r : vl_json_object_set_string(s, "Error", error ?: "");
        r = r < 0 ? r : vl_json_object_set(s, "StartedAt", time_json(c->started_at));
        r = r < 0 ? r : vl_json_object_set(s, "FinishedAt", time_json(c->finished_at));
        return r < 0 ? vl_json_unref(s) : s;
}

static VlJson *mounts_inspect(const VlJson *spec) {
        VlJson *a = vl_json_new_array(), *m;
        VL_JSON_FOREACH_ELEMENT (m, vl_json_object_get(spec, "mounts")) {
                const char *type = vl_json_get_string(vl_json_object_get(m, "type"));
                const char *dest = vl_json_get_string(vl_json_object_get(m, "destination"));
                if (!a || !type || !streq(type, "bind") || !dest || startswith(dest, "/etc/") ||
                    startswith(dest, "/run/cpod-init"))
                        continue;
                VlJson *o = vl_json_new_object();
                bool ro = false;
                VlJson *opt;
                VL_JSON_FOREACH_ELEMENT (opt, vl_json_object_get(m, "options")) {
                        ro = ro || streq_ptr(vl_json_get_string(opt), "ro");
                }
                if (!o || vl_json_object_set_string(o, "Type", "bind") < 0 ||
                    vl_json_object_set(o, "Source", vl_json_copy(vl_json_object_get(m, "source"))) < 0 ||
                    vl_json_object_set_string(o, "Destination", dest) < 0 ||
                    vl_json_object_set_string(o, "Driver", "") < 0 ||
                    vl_json_object_set_string(o, "Mode", "") < 0 ||
                    vl_json_object_set_bool(o, "RW", !ro) < 0 ||
                    vl_json_object_set_string(o, "Propagation", "rprivate") < 0 ||
                    vl_json_array_append(a, o) < 0)
                        a = vl_json_unref(a);
        }
        return a;
}

static int read_spec(const Container *c, VlJson **ret) {
        _cleanup_close_ int fd = open(c->spec_path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return -errno;
        _cleanup_free_ char *text = malloc((size_t)st.st_size + 1);
        if (!text)
                return -ENOMEM;
        ssize_t n = read(fd, text, (size_t)st.st_size);
        if (n < 0)
                return -errno;
        return vl_json_parse(text, (size_t)n, NULL, ret, NULL) < 0 ? -EBADMSG : 0;
}

static int inspect_build(Engine *e, const Container *c, VlJson *cfg, VlJson *spec, VlJson *d) {
        char created[48], rootfs[4200];
        _cleanup_free_ char *upper = container_path(e, c->id, "upper"),
                            *work = container_path(e, c->id, "work");
        _cleanup_free_ char *merged = container_run_path(e, c->id, "merged");
        ctr_format_rfc3339nano(c->created * 1000000000, created, sizeof created);
        snprintf(rootfs, sizeof rootfs, "%s", merged ?: "");
        VlJson *gd = vl_json_new_object(), *gdd = vl_json_new_object(), *net = vl_json_new_object();
        int r = gd && gdd && net && upper && work ? 0 : -ENOMEM;
        r = r < 0 ? r : vl_json_object_set_string(d, "Id", c->id);
        r = r < 0 ? r : vl_json_object_set_string(d, "Created", created);
        r = r < 0 ? r : vl_json_object_set_string(d, "Path", c->n_command ? c->command[0] : "");
        r = r < 0 ? r
                  : vl_json_object_set(d, "Args",
                                       ctr_strv_json(c->n_command ? c->command + 1 : NULL,
                                                     c->n_command ? c->n_command - 1 : 0));
        r = r < 0 ? r : vl_json_object_set(d, "State", state_json(e, c));
        r = r < 0 ? r : vl_json_object_set_string(d, "Image", c->image_id);
        r = r < 0 ? r : vl_json_object_set_string(d, "ImageName", c->image_name);
        r = r < 0 ? r : vl_json_object_set_string(d, "Rootfs", "");
        r = r < 0 ? r : vl_json_object_set_string(d, "Pod", c->pod_id ?: "");
        r = r < 0 ? r : vl_json_object_set_string(d, "Name", c->name);
        r = r < 0 ? r : vl_json_object_set_int(d, "RestartCount", c->restart_count);
        r = r < 0 ? r : vl_json_object_set_string(d, "Driver", "overlay");
        r = r < 0 ? r : vl_json_object_set_string(d, "MountLabel", "");
        r = r < 0 ? r : vl_json_object_set_string(d, "ProcessLabel", "");
        r = r < 0 ? r : vl_json_object_set(d, "Mounts", mounts_inspect(spec));
        r = r < 0 ? r : vl_json_object_set_string(d, "OCIRuntime", c->runtime);
        r = r < 0 ? r : vl_json_object_set_string(d, "OCIConfigPath", c->spec_path);
        r = r < 0 ? r : vl_json_object_set_string(gdd, "UpperDir", upper);
        r = r < 0 ? r : vl_json_object_set_string(gdd, "WorkDir", work);
        r = r < 0 ? r : vl_json_object_set_string(gdd, "MergedDir", rootfs);
        r = r < 0 ? r : vl_json_object_set_string(gd, "Name", "overlay");
        r = r < 0 ? r : vl_json_object_set(gd, "Data", TAKE_PTR(gdd));
        r = r < 0 ? r : vl_json_object_set(d, "GraphDriver", TAKE_PTR(gd));
        r = r < 0 ? r : vl_json_object_set_string(net, "IPAddress", "");
        r = r < 0 ? r : vl_json_object_set_string(net, "Gateway", "");
        r = r < 0 ? r : vl_json_object_set_string(net, "MacAddress", "");
        r = r < 0 ? r : vl_json_object_set(net, "Ports", vl_json_new_object());
        r = r < 0 ? r : net_container_settings(e, c->id, net);
        r = r < 0 ? r : vl_json_object_set(d, "NetworkSettings", TAKE_PTR(net));
        r = r < 0 ? r : vl_json_object_set(d, "Config", vl_json_copy(vl_json_object_get(cfg, "Config")));
        r = r < 0 ? r
                  : vl_json_object_set(d, "HostConfig", vl_json_copy(vl_json_object_get(cfg, "HostConfig")));
        vl_json_unref(gd);
        vl_json_unref(gdd);
        vl_json_unref(net);
        return r;
}

int container_inspect(Engine *e, const char *ref, VlJson **ret, CpodError *err) {
        Container c = {};
        _cleanup_(vl_json_unrefp) VlJson *cfg = NULL, *spec = NULL, *d = NULL;
        int r = container_get(e, ref, &c, err);
        if (r < 0)
                return r;
        r = container_load_config(e, c.id, &cfg, err);
        if (r >= 0) {
                (void)read_spec(&c, &spec);
                d = vl_json_new_object();
                r = d ? inspect_build(e, &c, cfg, spec, d) : -ENOMEM;
                if (r < 0)
                        r = ctr_oom(err);
        }
        container_done(&c);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(d);
        return 0;
}
