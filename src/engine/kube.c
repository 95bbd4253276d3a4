/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "container.h"
#include "image.h"
#include "kube.h"
#include "pod.h"
#include "util.h"
#include "volume.h"

static int kube_oom(CpodError *err) {
        return cpod_error(err, ENOMEM, "out of memory");
}

static VlJson *object_new_member(VlJson *o, const char *key, VlJson *v) {
        return v && vl_json_object_set(o, key, vl_json_ref(v)) >= 0 ? vl_json_unref(v), v : vl_json_unref(v);
}

/* ---- generate ---- */

/* "K=V" strings as [{name: K, value: V}]. */
static VlJson *env_list(const VlJson *env) {
        VlJson *a = vl_json_new_array(), *x;

        VL_JSON_FOREACH_ELEMENT (x, env) {
                const char *s = vl_json_get_string(x), *eq = s ? strchr(s, '=') : NULL;
                _cleanup_free_ char *k = eq ? strndup(s, eq - s) : NULL;
                VlJson *o = vl_json_new_object();
                if (!eq) {
                        vl_json_unref(o);
                        continue;
                }
                if (!a || !k || !o || vl_json_object_set_string(o, "name", k) < 0 ||
                    vl_json_object_set_string(o, "value", eq + 1) < 0 || vl_json_array_append(a, o) < 0) {
                        vl_json_unref(o);
                        return vl_json_unref(a);
                }
        }
        return a;
}

static void upper(char *s) {
        for (; *s; s++)
                *s = (char)toupper((unsigned char)*s);
}

/* One published port ("80/tcp" with {HostIp, HostPort}) as a container port, and as a Service port. */
static int add_port(VlJson *ports, VlJson *svc_ports, const char *key, const VlJson *bind) {
        char proto[8] = "TCP";
        long cport = strtol(key, NULL, 10);
        long hport = strtol(vl_json_get_string(vl_json_object_get(bind, "HostPort")) ?: "0", NULL, 10);
        const char *ip = vl_json_get_string(vl_json_object_get(bind, "HostIp")) ?: "",
                   *slash = strchr(key, '/');
        VlJson *p = vl_json_new_object(), *s = vl_json_new_object();
        int r = p && s ? 0 : -ENOMEM;

        if (slash)
                snprintf(proto, sizeof(proto), "%s", slash + 1);
        upper(proto);
        r = r < 0 ? r : vl_json_object_set_int(p, "containerPort", cport);
        r = r < 0 || hport <= 0 ? r : vl_json_object_set_int(p, "hostPort", hport);
        r = r < 0 || !*ip || streq(ip, "0.0.0.0") ? r : vl_json_object_set_string(p, "hostIP", ip);
        r = r < 0 ? r : vl_json_object_set_string(p, "protocol", proto);
        char name[16];
        snprintf(name, sizeof(name), "%ld", cport);
        r = r < 0 ? r : vl_json_object_set_string(s, "name", name);
        r = r < 0 || hport < 30000 || hport > 32767 ? r : vl_json_object_set_int(s, "nodePort", hport);
        r = r < 0 ? r : vl_json_object_set_int(s, "port", cport);
        r = r < 0 ? r : vl_json_object_set_string(s, "protocol", proto);
        r = r < 0 ? r : vl_json_object_set_int(s, "targetPort", cport);
        if (r < 0) {
                vl_json_unref(p);
                vl_json_unref(s);
                return -ENOMEM;
        }
        if (vl_json_array_append(ports, p) < 0)
                r = -ENOMEM;
        if (vl_json_array_append(svc_ports, s) < 0)
                r = -ENOMEM;
        return r;
}

/* A Kubernetes volume name for a host path: "/srv/data" → "srv-data-host-0". */
static char *host_volume_name(const char *path, size_t n) {
        char *s = NULL, *q;

        while (*path == '/')
                path++;
        if (asprintf(&s, "%s-host-%zu", *path ? path : "root", n) < 0)
                return NULL;
        for (q = s; *q; q++)
                *q = isalnum((unsigned char)*q) ? (char)tolower((unsigned char)*q) : '-';
        return s;
}

static bool volume_listed(const VlJson *volumes, const char *name) {
        const VlJson *v;
        VL_JSON_FOREACH_ELEMENT (v, volumes)
                if (streq_ptr(vl_json_get_string(vl_json_object_get(v, "name")), name))
                        return true;
        return false;
}

/* The pod volume behind a bind "SRC:DST[:OPTS]": a hostPath for a path, a claim for a named volume. */
static int add_volume(VlJson *volumes, const char *src, char **ret_name) {
        _cleanup_free_ char *name = NULL;
        VlJson *v, *inner;
        struct stat st;
        bool host = src[0] == '/';

        name = host ? host_volume_name(src, vl_json_array_length(volumes)) : NULL;
        if (!host && asprintf(&name, "%s-pvc", src) < 0)
                name = NULL;
        if (!name)
                return -ENOMEM;
        if (!volume_listed(volumes, name)) {
                if (!(v = vl_json_new_object()) || vl_json_array_append(volumes, v) < 0 ||
                    vl_json_object_set_string(v, "name", name) < 0)
                        return -ENOMEM;
                inner = object_new_member(v, host ? "hostPath" : "persistentVolumeClaim",
                                          vl_json_new_object());
                if (!inner || vl_json_object_set_string(inner, host ? "path" : "claimName", src) < 0)
                        return -ENOMEM;
                if (host && stat(src, &st) == 0 &&
                    vl_json_object_set_string(inner, "type", S_ISDIR(st.st_mode) ? "Directory" : "File") < 0)
                        return -ENOMEM;
        }
        *ret_name = TAKE_PTR(name);
        return 0;
}

static int add_mounts(VlJson *ctr, VlJson *volumes, const VlJson *binds) {
        VlJson *mounts = vl_json_new_array(), *x;
        int r = 0;

        if (!mounts || vl_json_object_set(ctr, "volumeMounts", mounts) < 0)
                return -ENOMEM;
        VL_JSON_FOREACH_ELEMENT (x, binds) {
                _cleanup_free_ char *src = strdup(vl_json_get_string(x) ?: ""), *name = NULL;
                char *dst = src ? strchr(src, ':') : NULL, *opts;
                VlJson *m;
                if (!src)
                        return -ENOMEM;
                if (!dst || !*src)
                        continue; /* an anonymous volume has nothing to claim */
                *dst++ = 0;
                if ((opts = strchr(dst, ':')))
                        *opts++ = 0;
                bool ro = opts && (streq(opts, "ro") || strstr(opts, "ro,") == opts || strstr(opts, ",ro"));
                if ((r = add_volume(volumes, src, &name)) < 0)
                        return r;
                if (!(m = vl_json_new_object()) || vl_json_array_append(mounts, m) < 0 ||
                    vl_json_object_set_string(m, "mountPath", dst) < 0 ||
                    vl_json_object_set_string(m, "name", name) < 0 ||
                    vl_json_object_set_bool(m, "readOnly", ro) < 0)
                        return -ENOMEM;
        }
        if (vl_json_array_length(mounts) == 0)
                vl_json_object_remove(ctr, "volumeMounts");
        return 0;
}

static int add_security(VlJson *ctr, const VlJson *host_config) {
        const VlJson *add = vl_json_object_get(host_config, "CapAdd"),
                     *drop = vl_json_object_get(host_config, "CapDrop");
        bool priv = vl_json_get_bool(vl_json_object_get(host_config, "Privileged"));
        bool ro = vl_json_get_bool(vl_json_object_get(host_config, "ReadonlyRootfs"));
        VlJson *sc, *caps;
        int r = 0;

        if (!priv && !ro && vl_json_array_length(add) == 0 && vl_json_array_length(drop) == 0)
                return 0;
        if (!(sc = object_new_member(ctr, "securityContext", vl_json_new_object())))
                return -ENOMEM;
        if (vl_json_array_length(add) > 0 || vl_json_array_length(drop) > 0) {
                if (!(caps = object_new_member(sc, "capabilities", vl_json_new_object())))
                        return -ENOMEM;
                r = vl_json_array_length(add) ? vl_json_object_set(caps, "add", vl_json_copy(add)) : 0;
                r = r < 0 || !vl_json_array_length(drop)
                            ? r
                            : vl_json_object_set(caps, "drop", vl_json_copy(drop));
        }
        r = r < 0 || !priv ? r : vl_json_object_set_bool(sc, "privileged", true);
        r = r < 0 || !ro ? r : vl_json_object_set_bool(sc, "readOnlyRootFilesystem", true);
        return r;
}

/* A Pod's container from a container inspect document. */
static int container_document(const VlJson *insp, VlJson *volumes, const VlJson *ports, VlJson *svc_ports,
                              VlJson **ret) {
        _cleanup_(vl_json_unrefp) VlJson *c = vl_json_new_object();
        const VlJson *cfg = vl_json_object_get(insp, "Config"), *hc = vl_json_object_get(insp, "HostConfig");
        const VlJson *ep = vl_json_object_get(cfg, "Entrypoint"), *cmd = vl_json_object_get(cfg, "Cmd"),
                     *binds;
        const char *key;
        int r = c ? 0 : -ENOMEM;

        r = r < 0 ? r
                  : vl_json_object_set_string(c, "name",
                                              vl_json_get_string(vl_json_object_get(insp, "Name")) ?: "");
        r = r < 0 ? r
                  : vl_json_object_set_string(c, "image",
                                              vl_json_get_string(vl_json_object_get(insp, "ImageName")) ?:
                                              vl_json_get_string(vl_json_object_get(cfg, "Image")) ?: "");
        r = r < 0 || !vl_json_array_length(ep) ? r : vl_json_object_set(c, "command", vl_json_copy(ep));
        r = r < 0 || !vl_json_array_length(cmd) ? r : vl_json_object_set(c, "args", vl_json_copy(cmd));
        if (r >= 0 && vl_json_array_length(vl_json_object_get(cfg, "Env")) > 0)
                r = vl_json_object_set(c, "env", env_list(vl_json_object_get(cfg, "Env")));
        if (r >= 0 && ports && vl_json_object_length(ports) > 0) {
                VlJson *pa = object_new_member(c, "ports", vl_json_new_array());
                r = pa ? 0 : -ENOMEM;
                VL_JSON_FOREACH_MEMBER (key, binds, ports) {
                        const VlJson *b;
                        VL_JSON_FOREACH_ELEMENT (b, binds)
                                if (r >= 0)
                                        r = add_port(pa, svc_ports, key, b);
                }
        }
        r = r < 0 ? r : add_mounts(c, volumes, vl_json_object_get(hc, "Binds"));
        r = r < 0 ? r : add_security(c, hc);
        const char *wd = vl_json_get_string(vl_json_object_get(cfg, "WorkingDir"));
        r = r < 0 || !wd || streq(wd, "/") ? r : vl_json_object_set_string(c, "workingDir", wd);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

static const char *restart_policy(const VlJson *insp) {
        const char *n = vl_json_get_string(vl_json_object_get(
                vl_json_object_get(vl_json_object_get(insp, "HostConfig"), "RestartPolicy"), "Name"));
        return streq_ptr(n, "always") || streq_ptr(n, "unless-stopped") ? "Always"
               : streq_ptr(n, "on-failure")                             ? "OnFailure"
                                                                        : "Never";
}

static VlJson *service_document(const char *name, VlJson *svc_ports) {
        VlJson *d = vl_json_new_object(), *meta, *spec, *sel;
        int r = d ? 0 : -ENOMEM;

        r = r < 0 ? r : vl_json_object_set_string(d, "apiVersion", "v1");
        r = r < 0 ? r : vl_json_object_set_string(d, "kind", "Service");
        r = r < 0 || !(meta = object_new_member(d, "metadata", vl_json_new_object())) ? -ENOMEM : 0;
        r = r < 0 ? r : vl_json_object_set_string(meta, "name", name);
        r = r < 0 || !(spec = object_new_member(d, "spec", vl_json_new_object())) ? -ENOMEM : 0;
        r = r < 0 ? r : vl_json_object_set(spec, "ports", vl_json_ref(svc_ports));
        r = r < 0 || !(sel = object_new_member(spec, "selector", vl_json_new_object())) ? -ENOMEM : 0;
        r = r < 0 ? r : vl_json_object_set_string(sel, "app", name);
        r = r < 0 ? r : vl_json_object_set_string(spec, "type", "NodePort");
        return r < 0 ? vl_json_unref(d) : d;
}

static int pod_metadata(VlJson *d, const char *name, const VlJson *labels) {
        VlJson *meta = object_new_member(d, "metadata", vl_json_new_object()), *l, *x;
        const char *k;

        if (!meta || !(l = object_new_member(meta, "labels", vl_json_new_object())) ||
            vl_json_object_set_string(l, "app", name) < 0)
                return -ENOMEM;
        VL_JSON_FOREACH_MEMBER (k, x, labels)
                if (vl_json_object_set(l, k, vl_json_copy(x)) < 0)
                        return -ENOMEM;
        return vl_json_object_set_string(meta, "name", name);
}

int kube_documents(const char *name, const char *hostname, const VlJson *labels, const VlJson *members,
                   const VlJson *ports, bool service, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *docs = vl_json_new_array(), *svc_ports = vl_json_new_array(),
                                         *volumes = vl_json_new_array();
        VlJson *pod = vl_json_new_object(), *spec = NULL, *ctrs = NULL, *m;
        int r = docs && pod && svc_ports && volumes && vl_json_array_append(docs, pod) >= 0 ? 0 : -ENOMEM;

        r = r < 0 ? r : vl_json_object_set_string(pod, "apiVersion", "v1");
        r = r < 0 ? r : vl_json_object_set_string(pod, "kind", "Pod");
        r = r < 0 ? r : pod_metadata(pod, name, labels);
        r = r < 0 || !(spec = object_new_member(pod, "spec", vl_json_new_object())) ? -ENOMEM : 0;
        r = r < 0 || !(ctrs = object_new_member(spec, "containers", vl_json_new_array())) ? -ENOMEM : 0;
        for (size_t i = 0; r >= 0 && i < vl_json_array_length(members); i++) {
                VlJson *c = NULL;
                /* the published ports go to the first container, as podman does */
                r = container_document(vl_json_array_get(members, i), volumes, i == 0 ? ports : NULL,
                                       svc_ports, &c);
                if (r >= 0 && vl_json_array_append(ctrs, c) < 0)
                        r = -ENOMEM;
        }
        m = vl_json_array_get(members, 0);
        r = r < 0 ? r : vl_json_object_set_string(spec, "restartPolicy", restart_policy(m));
        r = r < 0 || !hostname || !*hostname ? r : vl_json_object_set_string(spec, "hostname", hostname);
        if (r >= 0 && vl_json_array_length(volumes) > 0)
                r = vl_json_object_set(spec, "volumes", vl_json_ref(volumes));
        if (r >= 0 && service && vl_json_array_append(docs, service_document(name, svc_ports)) < 0)
                r = -ENOMEM;
        if (r < 0)
                return kube_oom(err);
        *ret = TAKE_PTR(docs);
        return 0;
}

/* The image's Env ("K=V" strings), for telling what the user set. NULL when unknown. */
static VlJson *image_env(Engine *e, const char *image_id) {
        _cleanup_(vl_json_unrefp) VlJson *cfg = NULL;
        _cleanup_free_ char *text = NULL;
        Image img = {};
        VlJson *env = NULL;

        if (image_get(e, image_id, &img, NULL) >= 0 && image_read_config(e, &img, &text, NULL) >= 0 &&
            vl_json_parse(text, strlen(text), NULL, &cfg, NULL) >= 0)
                env = vl_json_ref(vl_json_object_get(vl_json_object_get(cfg, "config"), "Env"));
        image_done(&img);
        return env;
}

static bool strv_json_contains(const VlJson *a, const char *s) {
        const VlJson *x;
        VL_JSON_FOREACH_ELEMENT (x, a)
                if (streq_ptr(vl_json_get_string(x), s))
                        return true;
        return false;
}

/* The inspect document of a container with Config.Env reduced to what the user set. */
static int member_document(Engine *e, const char *id, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *d = NULL, *ienv = NULL;
        VlJson *cfg, *env, *x;
        int r;

        if ((r = container_inspect(e, id, &d, err)) < 0)
                return r;
        ienv = image_env(e, vl_json_get_string(vl_json_object_get(d, "Image")));
        cfg = vl_json_object_get(d, "Config");
        if (!cfg || !(env = vl_json_new_array()))
                return kube_oom(err);
        VL_JSON_FOREACH_ELEMENT (x, vl_json_object_get(cfg, "Env")) {
                const char *s = vl_json_get_string(x);
                if (!s || strv_json_contains(ienv, s) || startswith(s, "container=") ||
                    startswith(s, "HOSTNAME=") || streq(s, "TERM=xterm") ||
                    streq(s, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"))
                        continue;
                if (vl_json_array_append(env, vl_json_new_string(s)) < 0) {
                        vl_json_unref(env);
                        return kube_oom(err);
                }
        }
        if (vl_json_object_set(cfg, "Env", env) < 0)
                return kube_oom(err);
        *ret = TAKE_PTR(d);
        return 0;
}

static VlJson *labels_object(char *const *labels, size_t n) {
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

static const VlJson *inspect_ports(const VlJson *insp) {
        return vl_json_object_get(vl_json_object_get(insp, "NetworkSettings"), "Ports");
}

static int generate_pod(Engine *e, const Pod *p, bool service, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *members = vl_json_new_array(), *infra = NULL, *labels = NULL;
        Container *c = NULL;
        size_t n = 0;
        int r;

        if (!members || !(labels = labels_object(p->labels, p->n_labels)))
                return kube_oom(err);
        if ((r = pod_containers(e, p, &c, &n, err)) < 0)
                return r;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                VlJson *d = NULL;
                if (streq(c[i].id, p->infra_id))
                        r = container_inspect(e, c[i].id, &infra, err);
                else if ((r = member_document(e, c[i].id, &d, err)) >= 0 &&
                         vl_json_array_append(members, d) < 0)
                        r = kube_oom(err);
        }
        container_array_free(c, n);
        if (r >= 0 && vl_json_array_length(members) == 0)
                r = cpod_error(err, EINVAL, "pod %s has no containers besides its infra container", p->name);
        if (r < 0)
                return r;
        return kube_documents(p->name, p->hostname, labels, members, inspect_ports(infra), service, ret,
                              err);
}

int kube_generate(Engine *e, const char *ref, bool service, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *members = vl_json_new_array(), *d = NULL;
        _cleanup_free_ char *name = NULL;
        Container c = {};
        Pod p = {};
        int r;

        if ((r = pod_exists(e, ref, err)) < 0)
                return r;
        if (r > 0) {
                if ((r = pod_get(e, ref, &p, err)) >= 0)
                        r = generate_pod(e, &p, service, ret, err);
                pod_done(&p);
                return r;
        }
        r = container_get(e, ref, &c, NULL);
        if (r == -ENOENT)
                return cpod_error(err, ENOENT, "%s: no such pod or container", ref);
        if (r >= 0 && (r = member_document(e, c.id, &d, err)) >= 0) {
                if (!members || vl_json_array_append(members, vl_json_ref(d)) < 0 ||
                    asprintf(&name, "%s-pod", c.name) < 0)
                        r = kube_oom(err);
                else
                        r = kube_documents(name, NULL, NULL, members, inspect_ports(d), service, ret, err);
        } else if (r < 0 && (!err || !err->code))
                r = cpod_error_errno(err, -r, "%s", ref);
        container_done(&c);
        return r;
}

/* ---- play ---- */

/* A pod to create, read from a Pod document (strings borrowed from it unless noted). */
typedef struct PlayCtr {
        ContainerCreateOptions o;
        char *name;              /* owned: "<pod>-<container>" */
        char **env, **cmd, **ep; /* owned */
        size_t n_env, n_cmd, n_ep;
        ContainerMount *mounts; /* owned */
        size_t n_mounts;
} PlayCtr;

typedef struct PlayPod {
        PodCreateOptions o;
        char **labels, **publish, **claims; /* owned; claims: named volumes to create when missing */
        size_t n_labels, n_publish, n_claims;
        const char *restart;
        PlayCtr *ctrs;
        size_t n_ctrs;
} PlayPod;

static void strv_free(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static int strv_add(char ***v, size_t *n, char *s) { /* takes s */
        char **nv = s ? realloc(*v, (*n + 1) * sizeof(char *)) : NULL;
        if (!nv) {
                free(s);
                return -ENOMEM;
        }
        nv[(*n)++] = s;
        *v = nv;
        return 0;
}

static void play_pod_done(PlayPod *p) {
        strv_free(p->labels, p->n_labels);
        strv_free(p->publish, p->n_publish);
        strv_free(p->claims, p->n_claims);
        for (size_t i = 0; i < p->n_ctrs; i++) {
                PlayCtr *c = &p->ctrs[i];
                free(c->name);
                strv_free(c->env, c->n_env);
                strv_free(c->cmd, c->n_cmd);
                strv_free(c->ep, c->n_ep);
                strv_free(c->o.cap_add, c->o.n_cap_add);
                strv_free(c->o.cap_drop, c->o.n_cap_drop);
                for (size_t k = 0; k < c->n_mounts; k++) {
                        free(c->mounts[k].source);
                        free(c->mounts[k].destination);
                        strv_free(c->mounts[k].options, c->mounts[k].n_options);
                }
                free(c->mounts);
        }
        free(p->ctrs);
        *p = (PlayPod){};
}

/* A scalar as text: YAML gives strings, JSON-built documents may hold numbers and booleans. */
static const char *scalar(const VlJson *v, char buf[32]) {
        switch (vl_json_type(v)) {
        case VL_JSON_STRING:
                return vl_json_get_string(v);
        case VL_JSON_INT:
                snprintf(buf, 32, "%lld", (long long)vl_json_get_int(v));
                return buf;
        case VL_JSON_BOOL:
                return vl_json_get_bool(v) ? "true" : "false";
        default:
                return NULL;
        }
}

static const char *get_str(const VlJson *o, const char *key) {
        return vl_json_get_string(vl_json_object_get(o, key));
}

static bool get_bool(const VlJson *o, const char *key) {
        char buf[32];
        const char *s = scalar(vl_json_object_get(o, key), buf);
        return s && (streq(s, "true") || streq(s, "True") || streq(s, "TRUE"));
}

/* A port number field: 1..65535, or 0 when absent. */
static int get_port(const VlJson *o, const char *key, unsigned *ret) {
        char buf[32], *end;
        const char *s = scalar(vl_json_object_get(o, key), buf);
        unsigned long v;

        *ret = 0;
        if (!s)
                return vl_json_object_get(o, key) && !vl_json_is_null(vl_json_object_get(o, key)) ? -EINVAL
                                                                                                  : 0;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || *end || end == s || v == 0 || v > 65535)
                return -EINVAL;
        *ret = (unsigned)v;
        return 0;
}

static int string_list(const VlJson *a, char ***v, size_t *n) {
        const VlJson *x;
        char buf[32];

        if (a && !vl_json_is_null(a) && vl_json_type(a) != VL_JSON_ARRAY)
                return -EINVAL;
        VL_JSON_FOREACH_ELEMENT (x, a) {
                const char *s = scalar(x, buf);
                if (!s)
                        return -EINVAL;
                if (strv_add(v, n, strdup(s)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static const VlJson *find_volume(const VlJson *volumes, const char *name) {
        const VlJson *v;
        VL_JSON_FOREACH_ELEMENT (v, volumes)
                if (streq_ptr(get_str(v, "name"), name))
                        return v;
        return NULL;
}

static int claim_add(PlayPod *p, const char *name) {
        for (size_t i = 0; i < p->n_claims; i++)
                if (streq(p->claims[i], name))
                        return 0;
        return strv_add(&p->claims, &p->n_claims, strdup(name));
}

/* One volumeMount: a bind for hostPath, a named volume for a claim, an anonymous one for emptyDir. */
static int play_mount(PlayPod *p, PlayCtr *c, const VlJson *vm, const VlJson *volumes, const char *where,
                      CpodError *err) {
        const char *name = get_str(vm, "name"), *dest = get_str(vm, "mountPath"), *src = NULL;
        const VlJson *v = find_volume(volumes, name), *hp = NULL, *pvc = NULL;
        ContainerMount *m;
        int r;

        if (!name || !dest || dest[0] != '/')
                return cpod_error(err, EINVAL, "%s: a volumeMount needs a name and an absolute mountPath",
                                  where);
        if (!v)
                return cpod_error(err, EINVAL, "%s: volume \"%s\" is not defined in spec.volumes", where,
                                  name);
        if ((hp = vl_json_object_get(v, "hostPath")))
                src = get_str(hp, "path");
        else if ((pvc = vl_json_object_get(v, "persistentVolumeClaim")))
                src = get_str(pvc, "claimName");
        else if (!vl_json_object_get(v, "emptyDir"))
                return cpod_error(err, EINVAL,
                                  "%s: volume \"%s\": only hostPath, persistentVolumeClaim and "
                                  "emptyDir volumes are supported",
                                  where, name);
        if ((hp || pvc) && (!src || !*src || (hp && src[0] != '/')))
                return cpod_error(err, EINVAL, "%s: volume \"%s\" has no valid path or claimName", where,
                                  name);
        if (!hp && src && !volume_name_valid(src))
                return cpod_error(err, EINVAL, "%s: invalid volume name \"%s\"", where, src);
        if (!(m = realloc(c->mounts, (c->n_mounts + 1) * sizeof(*m))))
                return kube_oom(err);
        c->mounts = m;
        m = &c->mounts[c->n_mounts++];
        *m = (ContainerMount){.type = hp ? (char *)"bind" : (char *)"volume"};
        r = (m->destination = strdup(dest)) ? 0 : -ENOMEM;
        r = r < 0 || !src || (m->source = strdup(src)) ? r : -ENOMEM;
        r = r < 0 || !get_bool(vm, "readOnly") ? r : strv_add(&m->options, &m->n_options, strdup("ro"));
        r = r < 0 || !pvc ? r : claim_add(p, src);
        return r < 0 ? kube_oom(err) : 0;
}

static int play_env(PlayCtr *c, const VlJson *env, const char *where, CpodError *err) {
        const VlJson *x;
        char buf[32];

        VL_JSON_FOREACH_ELEMENT (x, env) {
                const char *k = get_str(x, "name"), *v = scalar(vl_json_object_get(x, "value"), buf);
                char *s = NULL;
                if (!k || !*k)
                        return cpod_error(err, EINVAL, "%s: an env entry has no name", where);
                if (asprintf(&s, "%s=%s", k, v ?: "") < 0 || strv_add(&c->env, &c->n_env, s) < 0)
                        return kube_oom(err);
        }
        return 0;
}

static int play_ports(PlayPod *p, const VlJson *ports, const char *where, CpodError *err) {
        const VlJson *x;

        VL_JSON_FOREACH_ELEMENT (x, ports) {
                const char *ip = get_str(x, "hostIP"), *proto = get_str(x, "protocol") ?: "TCP";
                char lower[8], *s = NULL;
                unsigned cp, hp;
                if (get_port(x, "containerPort", &cp) < 0 || cp == 0 || get_port(x, "hostPort", &hp) < 0)
                        return cpod_error(err, EINVAL, "%s: invalid containerPort or hostPort", where);
                if (!strcasecmp(proto, "tcp") == !strcasecmp(proto, "udp") && strcasecmp(proto, "sctp"))
                        return cpod_error(err, EINVAL, "%s: invalid protocol \"%s\"", where, proto);
                if (hp == 0)
                        continue; /* only exposed: nothing to publish */
                snprintf(lower, sizeof(lower), "%s", proto);
                for (char *q = lower; *q; q++)
                        *q = (char)tolower((unsigned char)*q);
                if (asprintf(&s, "%s%s%u:%u/%s", ip ?: "", ip ? ":" : "", hp, cp, lower) < 0 ||
                    strv_add(&p->publish, &p->n_publish, s) < 0)
                        return kube_oom(err);
        }
        return 0;
}

static int play_security(PlayCtr *c, const VlJson *sc, const char *where, CpodError *err) {
        const VlJson *caps = vl_json_object_get(sc, "capabilities");

        if (sc && vl_json_type(sc) != VL_JSON_OBJECT)
                return cpod_error(err, EINVAL, "%s: securityContext is not a mapping", where);
        c->o.privileged = get_bool(sc, "privileged");
        c->o.read_only = get_bool(sc, "readOnlyRootFilesystem");
        if (string_list(vl_json_object_get(caps, "add"), &c->o.cap_add, &c->o.n_cap_add) < 0 ||
            string_list(vl_json_object_get(caps, "drop"), &c->o.cap_drop, &c->o.n_cap_drop) < 0)
                return cpod_error(err, EINVAL, "%s: capabilities must be lists of names", where);
        return 0;
}

static bool valid_list(const VlJson *v) {
        return !v || vl_json_is_null(v) || vl_json_type(v) == VL_JSON_ARRAY;
}

static int play_container(PlayPod *p, const char *pod, const VlJson *spec, size_t i, CpodError *err) {
        const VlJson *x = vl_json_array_get(vl_json_object_get(spec, "containers"), i), *vm;
        const char *name = get_str(x, "name"), *image = get_str(x, "image");
        PlayCtr *c = &p->ctrs[p->n_ctrs++];
        char where[128];
        int r;

        snprintf(where, sizeof(where), "pod %s: container %zu", pod, i);
        if (vl_json_type(x) != VL_JSON_OBJECT || !name || !*name || !image || !*image)
                return cpod_error(err, EINVAL, "%s: a container needs a name and an image", where);
        snprintf(where, sizeof(where), "pod %s: container %s", pod, name);
        if (!valid_list(vl_json_object_get(x, "env")) || !valid_list(vl_json_object_get(x, "ports")) ||
            !valid_list(vl_json_object_get(x, "volumeMounts")))
                return cpod_error(err, EINVAL, "%s: env, ports and volumeMounts must be lists", where);
        if (string_list(vl_json_object_get(x, "command"), &c->ep, &c->n_ep) < 0 ||
            string_list(vl_json_object_get(x, "args"), &c->cmd, &c->n_cmd) < 0)
                return cpod_error(err, EINVAL, "%s: command and args must be lists of strings", where);
        if (asprintf(&c->name, "%s-%s", pod, name) < 0)
                return kube_oom(err);
        r = play_env(c, vl_json_object_get(x, "env"), where, err);
        r = r < 0 ? r : play_ports(p, vl_json_object_get(x, "ports"), where, err);
        r = r < 0 ? r : play_security(c, vl_json_object_get(x, "securityContext"), where, err);
        VL_JSON_FOREACH_ELEMENT (vm, vl_json_object_get(x, "volumeMounts"))
                if (r >= 0)
                        r = play_mount(p, c, vm, vl_json_object_get(spec, "volumes"), where, err);
        if (r < 0)
                return r;
        c->o = (ContainerCreateOptions){
                .image = image,
                .name = c->name,
                .command = c->cmd,
                .n_command = c->n_cmd,
                .entrypoint = c->ep,
                .n_entrypoint = c->n_ep,
                .entrypoint_set = c->n_ep > 0,
                .env = c->env,
                .n_env = c->n_env,
                .workdir = get_str(x, "workingDir"),
                .mounts = c->mounts,
                .n_mounts = c->n_mounts,
                .restart = p->restart,
                .privileged = c->o.privileged,
                .read_only = c->o.read_only,
                .cap_add = c->o.cap_add,
                .n_cap_add = c->o.n_cap_add,
                .cap_drop = c->o.cap_drop,
                .n_cap_drop = c->o.n_cap_drop,
        };
        return 0;
}

static const char *restart_from_policy(const char *policy) {
        return !policy || streq(policy, "Never") ? "no"
               : streq(policy, "Always")         ? "always"
               : streq(policy, "OnFailure")      ? "on-failure"
                                                 : NULL;
}

/* Read a Pod document into p; every error names the pod and the field. */
static int play_pod_parse(const VlJson *doc, PlayPod *p, CpodError *err) {
        const VlJson *meta = vl_json_object_get(doc, "metadata"), *spec = vl_json_object_get(doc, "spec"),
                     *x;
        const VlJson *ctrs = vl_json_object_get(spec, "containers");
        const char *name = get_str(meta, "name"), *k;
        char buf[32];
        int r = 0;

        if (!name || !*name)
                return cpod_error(err, EINVAL, "a Pod has no metadata.name");
        if (vl_json_type(spec) != VL_JSON_OBJECT || vl_json_type(ctrs) != VL_JSON_ARRAY ||
            vl_json_array_length(ctrs) == 0)
                return cpod_error(err, EINVAL, "pod %s: spec.containers must be a non-empty list", name);
        if (!valid_list(vl_json_object_get(spec, "volumes")))
                return cpod_error(err, EINVAL, "pod %s: spec.volumes must be a list", name);
        if (!(p->restart = restart_from_policy(get_str(spec, "restartPolicy"))))
                return cpod_error(err, EINVAL, "pod %s: invalid restartPolicy \"%s\"", name,
                                  get_str(spec, "restartPolicy"));
        VL_JSON_FOREACH_MEMBER (k, x, vl_json_object_get(meta, "labels")) {
                char *s = NULL;
                if (r >= 0 && (asprintf(&s, "%s=%s", k, scalar(x, buf) ?: "") < 0 ||
                               strv_add(&p->labels, &p->n_labels, s) < 0))
                        r = kube_oom(err);
        }
        if (r >= 0 && !(p->ctrs = calloc(vl_json_array_length(ctrs), sizeof(*p->ctrs))))
                r = kube_oom(err);
        for (size_t i = 0; r >= 0 && i < vl_json_array_length(ctrs); i++)
                r = play_container(p, name, spec, i, err);
        if (r < 0)
                return r;
        p->o = (PodCreateOptions){
                .name = name,
                .hostname = get_str(spec, "hostname"),
                .labels = p->labels,
                .n_labels = p->n_labels,
                .publish = p->publish,
                .n_publish = p->n_publish,
        };
        return 0;
}

static const char *doc_kind(const VlJson *doc) {
        return get_str(doc, "kind");
}

int kube_validate(const VlJson *docs, CpodError *err) {
        const VlJson *d;
        size_t i = 0;
        int r;

        if (vl_json_type(docs) != VL_JSON_ARRAY)
                return cpod_error(err, EINVAL, "not a list of documents");
        VL_JSON_FOREACH_ELEMENT (d, docs) {
                const char *kind = doc_kind(d);
                PlayPod p = {};
                i++;
                if (vl_json_is_null(d))
                        continue;
                if (vl_json_type(d) != VL_JSON_OBJECT || !kind)
                        return cpod_error(err, EINVAL, "document %zu: not a Kubernetes object (no kind)", i);
                if (streq(kind, "Pod")) {
                        r = play_pod_parse(d, &p, err);
                        play_pod_done(&p);
                        if (r < 0)
                                return cpod_error_wrap(err, "document %zu", i);
                } else if (streq(kind, "PersistentVolumeClaim")) {
                        const char *name = get_str(vl_json_object_get(d, "metadata"), "name");
                        if (!name || !volume_name_valid(name))
                                return cpod_error(err, EINVAL,
                                                  "document %zu: PersistentVolumeClaim needs a valid "
                                                  "metadata.name",
                                                  i);
                } else if (!streq(kind, "Service"))
                        return cpod_error(err, EINVAL, "document %zu: unsupported kind \"%s\"", i, kind);
        }
        return 0;
}

/* What play created, removed again when a later step fails. */
typedef struct Undo {
        char **pods, **volumes;
        size_t n_pods, n_volumes;
} Undo;

static void undo_run(Engine *e, Undo *u, bool rollback) {
        for (size_t i = 0; rollback && i < u->n_pods; i++)
                (void)pod_remove(e, u->pods[i], true, NULL, NULL);
        for (size_t i = 0; rollback && i < u->n_volumes; i++)
                (void)volume_remove(e, u->volumes[i], true, NULL);
        strv_free(u->pods, u->n_pods);
        strv_free(u->volumes, u->n_volumes);
}

static int ensure_volume(Engine *e, const char *name, Undo *u, VlJson *result, CpodError *err) {
        VolumeCreateOptions o = {.name = name};
        VlJson *x;
        int r = volume_exists(e, name, err);

        if (r != 0)
                return r < 0 ? r : 0;
        if ((r = volume_create(e, &o, NULL, err)) < 0)
                return cpod_error_wrap(err, "volume %s", name);
        if (strv_add(&u->volumes, &u->n_volumes, strdup(name)) < 0)
                return kube_oom(err);
        if (result && (!(x = vl_json_new_object()) || vl_json_array_append(result, x) < 0 ||
                       vl_json_object_set_string(x, "Volume", name) < 0))
                return kube_oom(err);
        return 0;
}

static int play_pod(Engine *e, const VlJson *doc, Undo *u, VlJson *result, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *out = vl_json_new_object(), *ids = vl_json_new_array();
        PlayPod p = {};
        char id[65];
        int r = out && ids ? 0 : kube_oom(err);

        r = r < 0 ? r : play_pod_parse(doc, &p, err);
        for (size_t i = 0; r >= 0 && i < p.n_claims; i++)
                r = ensure_volume(e, p.claims[i], u, NULL, err);
        r = r < 0 ? r : pod_create(e, &p.o, id, err);
        if (r >= 0 && strv_add(&u->pods, &u->n_pods, strdup(id)) < 0)
                r = kube_oom(err);
        for (size_t i = 0; r >= 0 && i < p.n_ctrs; i++) {
                char cid[65];
                p.ctrs[i].o.pod = id;
                if ((r = container_create(e, &p.ctrs[i].o, cid, err)) < 0)
                        r = cpod_error_wrap(err, "container %s", p.ctrs[i].name);
                else if (vl_json_array_append(ids, vl_json_new_string(cid)) < 0)
                        r = kube_oom(err);
        }
        if (r >= 0 && (r = pod_start(e, id, err)) < 0)
                r = cpod_error_wrap(err, "start pod %s", p.o.name);
        if (r >= 0 && (vl_json_object_set_string(out, "Pod", id) < 0 ||
                       vl_json_object_set(out, "Containers", TAKE_PTR(ids)) < 0 ||
                       vl_json_array_append(result, TAKE_PTR(out)) < 0))
                r = kube_oom(err);
        play_pod_done(&p);
        return r;
}

int kube_play(Engine *e, const VlJson *docs, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *result = vl_json_new_array();
        const VlJson *d;
        Undo u = {};
        int r;

        if (!result)
                return kube_oom(err);
        if ((r = kube_validate(docs, err)) < 0)
                return r;
        /* claims first: a Pod may use a volume another document declares */
        VL_JSON_FOREACH_ELEMENT (d, docs)
                if (r >= 0 && streq_ptr(doc_kind(d), "PersistentVolumeClaim"))
                        r = ensure_volume(e, get_str(vl_json_object_get(d, "metadata"), "name"), &u, result,
                                          err);
        VL_JSON_FOREACH_ELEMENT (d, docs)
                if (r >= 0 && streq_ptr(doc_kind(d), "Pod"))
                        r = play_pod(e, d, &u, result, err);
        undo_run(e, &u, r < 0);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(result);
        return 0;
}

int kube_down(Engine *e, const VlJson *docs, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *result = vl_json_new_array();
        const VlJson *d;
        int r;

        if (!result)
                return kube_oom(err);
        if ((r = kube_validate(docs, err)) < 0)
                return r;
        VL_JSON_FOREACH_ELEMENT (d, docs) {
                const char *name = get_str(vl_json_object_get(d, "metadata"), "name");
                char id[65];
                if (!streq_ptr(doc_kind(d), "Pod"))
                        continue;
                if ((r = pod_exists(e, name, err)) <= 0) {
                        if (r < 0)
                                return r;
                        continue;
                }
                (void)pod_stop(e, name, 0, NULL);
                if ((r = pod_remove(e, name, true, id, err)) < 0)
                        return cpod_error_wrap(err, "remove pod %s", name);
                if (vl_json_array_append(result, vl_json_new_string(id)) < 0)
                        return kube_oom(err);
        }
        *ret = TAKE_PTR(result);
        return 0;
}
