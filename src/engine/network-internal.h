/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared between network.c (documents, addresses) and netns.c (containers). */

#include <vl/json.h>

#include "engine.h"

/* Every network document, the default one first. */
int net_all(Engine *e, VlJson **ret, CpodError *err);
/* One address per subnet of network doc for container id (wanted, when it lies in a subnet, else the
 * lowest free), recorded in network_ips; *ret_ips is an array of strings. */
int net_ip_allocate(Engine *e, const VlJson *doc, const char *id, const char *wanted, VlJson **ret_ips,
                    CpodError *err);
/* Release the addresses of container id, on one network or (NULL) on all. */
void net_ip_release(Engine *e, const char *id, const char *network);
