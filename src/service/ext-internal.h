/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The io.cpod interface (io.cpod.varlink): cpod's methods beyond io.podman,
 * in ext-network.c (networks), ext-system.c (play kube, rename, port,
 * system check and df), ext-copy.c (cp over an upgraded connection) and
 * ext-image.c (image export and mounts).
 */

#include "service-internal.h"

#define CPOD_IFACE "io.cpod"

/* A string parameter that must be present and not empty; NULL after
 * answering the call with InvalidParameter. */
const char *ext_required_string(VlCall *call, const VlJson *params, const char *key);

/* io.cpod.<error> {key: value, reason}; with key NULL only {reason}. The
 * reason is err's message, else strerror(r). Returns what the reply returned. */
int ext_reply_error(VlCall *call, const char *error, const char *key, const char *value, int r,
                    const CpodError *err);

int ext_network_bind(VlServer *s, Service *svc);
int ext_system_bind(VlServer *s, Service *svc);
int ext_copy_bind(VlServer *s, Service *svc);
int ext_image_bind(VlServer *s, Service *svc);
int ext_container_bind(VlServer *s, Service *svc);
int ext_pod_bind(VlServer *s, Service *svc);
int ext_registry_bind(VlServer *s, Service *svc);
