/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * cp over an upgraded connection: CopyFromContainer and CopyToContainer.
 *
 * Both stage through a directory under <root>/tmp so that the rules of
 * `cpod cp` (container_copy) apply unchanged on the service's side. The tar
 * stream holds one top-level entry, the source under its own name (with its
 * mode, owner and times even when a directory's contents are copied, "dir/.");
 * contents says whether the entry itself or its contents are copied. Out of
 * a container, the source is copied to <staging>/<entry> and the staging
 * directory is sent; into a container, the client's stream is extracted into
 * the staging directory and <entry> (or <entry>/.) is copied from there. The
 * client applies the same rules between its staging directory and its path.
 *
 * After a CopyToContainer stream the service answers with one message shaped
 * like a Varlink reply (ended by NUL), since the connection no longer speaks
 * Varlink: {"parameters": {}} or {"error": ..., "parameters": {"reason": ...}}.
 */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "ext-internal.h"
#include "layer.h"
#include "util.h"
#include "transfer.h"

static int stage_open(Engine *e, TransferStage *st, CpodError *err) {
        char dir[4096];

        snprintf(dir, sizeof(dir), "%s/tmp", engine_root(e));
        (void)mkdir(dir, 0700);
        return transfer_stage_open(st, dir, "cp-", err);
}

static bool check_upgrade(VlCall *call, unsigned flags) {
        if (flags & VL_CALL_UPGRADE)
                return true;
        (void)vl_call_reply_error_string(call, CPOD_IFACE ".ErrorOccurred", "reason",
                                         "this method needs a connection upgrade (call it with upgrade)");
        return false;
}

static int get_container(VlCall *call, Service *svc, const char *ref, Engine **ret_e) {
        CpodError err = {};
        Container c = {};
        int r = service_engine(svc, call, ret_e);
        if (r < 0)
                return r;
        r = container_get(*ret_e, ref, &c, &err);
        container_done(&c);
        if (r < 0)
                (void)ext_reply_error(call, r == -ENOENT ? "ContainerNotFound" : "ErrorOccurred",
                                      r == -ENOENT ? "id" : NULL, ref, r, &err);
        return r;
}

static int method_copy_from(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const char *name = ext_required_string(call, params, "name");
        const char *path = name ? ext_required_string(call, params, "path") : NULL;
        _cleanup_free_ char *entry = NULL, *dst = NULL;
        TransferStage st = {.fd = -1};
        CpodError err = {};
        bool contents = false;
        Engine *e;
        int sock, r;

        if (!path || !check_upgrade(call, flags) || get_container(call, userdata, name, &e) < 0)
                return 0;
        if ((r = transfer_copy_entry(path, &entry, &contents)) < 0)
                return r == -ENOMEM ? r
                                    : ext_reply_error(
                                              call, "ErrorOccurred", NULL, NULL, r,
                                              &(CpodError){.code = EINVAL, .message = "cannot copy `..`"});
        if ((r = stage_open(e, &st, &err)) < 0)
                return ext_reply_error(call, "ErrorOccurred", NULL, NULL, r, &err);
        if (asprintf(&dst, "%s/%s", st.path, entry) < 0) {
                transfer_stage_done(&st);
                return -ENOMEM;
        }
        r = container_copy(e, name, false, path, dst, &err);
        if (r < 0) {
                transfer_message_replace(&err, dst, "");
                transfer_stage_done(&st);
                return r == -ENOENT && strstr(err.message, "no such container")
                               ? ext_reply_error(call, "ContainerNotFound", "id", name, r, &err)
                               : ext_reply_error(call, "ErrorOccurred", NULL, NULL, r, &err);
        }
        VlJson *p = vl_json_new_object();
        if (!p || vl_json_object_set_string(p, "entry", entry) < 0 ||
            vl_json_object_set_bool(p, "contents", contents) < 0) {
                vl_json_unref(p);
                transfer_stage_done(&st);
                return -ENOMEM;
        }
        r = vl_call_reply_upgrade(call, p, &sock);
        if (r >= 0) {
                r = tar_write_dir(st.fd, sock, false, &err);
                if (r < 0)
                        fprintf(stderr, "cpod varlink: CopyFromContainer: %s\n", err.message);
                (void)shutdown(sock, SHUT_WR);
                close(sock);
        }
        transfer_stage_done(&st);
        return 0;
}

/* The closing message of CopyToContainer: a reply or an error, NUL-terminated. */
static void send_status(int sock, int r, const CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *m = vl_json_new_object(), *p = vl_json_new_object();
        if (!m || !p)
                return;
        if (r < 0 &&
            (vl_json_object_set_string(m, "error", CPOD_IFACE ".ErrorOccurred") < 0 ||
             vl_json_object_set_string(p, "reason", err->message[0] ? err->message : strerror(-r)) < 0))
                return;
        if (vl_json_object_set(m, "parameters", vl_json_ref(p)) < 0)
                return;
        _cleanup_free_ char *text = vl_json_to_string(m, 0);
        if (!text)
                return;
        size_t n = strlen(text) + 1; /* with the NUL */
        for (const char *c = text; n > 0;) {
                ssize_t k = send(sock, c, n, MSG_NOSIGNAL);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return;
                c += k;
                n -= (size_t)k;
        }
}

/* Read what the client still sends up to its end of stream, so closing does not reset the connection
 * before the status arrives. Bounded: a client that never stops is cut off. */
static void drain(int sock) {
        char buf[65536];
        for (unsigned i = 0; i < 16384; i++) {
                ssize_t k = recv(sock, buf, sizeof(buf), 0);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return;
        }
}

static int method_copy_to(VlCall *call, const VlJson *params, unsigned flags, void *userdata) {
        const char *name = ext_required_string(call, params, "name");
        const char *path = name ? ext_required_string(call, params, "path") : NULL;
        const char *entry = path ? ext_required_string(call, params, "entry") : NULL;
        const char *source = vl_json_get_string(vl_json_object_get(params, "source"));
        bool contents = vl_json_get_bool(vl_json_object_get(params, "contents"));
        _cleanup_free_ char *src = NULL;
        TransferStage st = {.fd = -1};
        CpodError err = {};
        Engine *e;
        int sock, r;

        if (!entry)
                return 0;
        if (strchr(entry, '/') || streq(entry, "..") || streq(entry, "."))
                return vl_call_reply_invalid_parameter(call, "entry");
        if (!check_upgrade(call, flags) || get_container(call, userdata, name, &e) < 0)
                return 0;
        if ((r = stage_open(e, &st, &err)) < 0)
                return ext_reply_error(call, "ErrorOccurred", NULL, NULL, r, &err);
        if (asprintf(&src, "%s/%s%s", st.path, entry, contents ? "/." : "") < 0) {
                transfer_stage_done(&st);
                return -ENOMEM;
        }
        r = vl_call_reply_upgrade(call, NULL, &sock);
        if (r < 0) {
                transfer_stage_done(&st);
                return 0;
        }
        r = layer_extract_to(sock, st.fd, &err);
        drain(sock);
        if (r >= 0) {
                r = container_copy(e, name, true, src, path, &err);
                if (r < 0)
                        transfer_message_replace(&err, src, source && *source ? source : entry);
        }
        send_status(sock, r, &err);
        (void)shutdown(sock, SHUT_WR);
        close(sock);
        transfer_stage_done(&st);
        return 0;
}

int ext_copy_bind(VlServer *s, Service *svc) {
        int r = vl_server_bind_upgrade(s, CPOD_IFACE ".CopyFromContainer", method_copy_from, svc);
        return r < 0 ? r : vl_server_bind_upgrade(s, CPOD_IFACE ".CopyToContainer", method_copy_to, svc);
}
