/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Pods: a group of containers sharing namespaces (network, IPC and UTS by
 * default, PID optionally). An infra container running catatonit in pause
 * mode holds the namespaces; members join /proc/<infra pid>/ns/<type>,
 * rewritten into their OCI spec at every start (the infra's pid changes when
 * the pod restarts), and starting a member starts the infra first.
 *
 * State: a row in the pods table (id, name, created, infra_id, config: the
 * create options as JSON); members have containers.pod_id set. A pod's
 * status is computed from its containers, as podman does (Created, Running,
 * Degraded, Paused, Stopped, Exited).
 *
 * The default infra image, localhost/cpod-infra:latest, is built locally on
 * first use from the host's catatonit binary (no network needed).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vl/json.h>

#include "container.h"
#include "engine.h"

#define POD_INFRA_IMAGE "localhost/cpod-infra:latest"

enum {
        POD_SHARE_NET = 1 << 0,
        POD_SHARE_IPC = 1 << 1,
        POD_SHARE_UTS = 1 << 2,
        POD_SHARE_PID = 1 << 3,
};

typedef struct PodCreateOptions {
        const char *name;        /* NULL: a generated "adjective_noun" name */
        const char *infra_image; /* NULL: POD_INFRA_IMAGE, built on first use */
        const char *share;       /* "net,ipc,uts" (default), "pid" may be added, "" shares nothing */
        const char *network;     /* the infra container's network mode */
        const char *hostname;    /* NULL: the pod's name */
        char **labels;           /* "K=V" */
        size_t n_labels;
        char **publish; /* "[ip:]hostPort:containerPort[/proto]", on the infra container */
        size_t n_publish;
} PodCreateOptions;

typedef struct Pod {
        char id[65];
        char *name;
        int64_t created; /* unix seconds */
        char infra_id[65];
        char *hostname;
        char *network;
        char *infra_image;
        char **labels; /* "K=V" */
        size_t n_labels;
        unsigned share; /* POD_SHARE_* */
} Pod;

void pod_done(Pod *p);
void pod_array_free(Pod *p, size_t n);

/* Parse a --share value into POD_SHARE_* bits; -EINVAL for an unknown namespace. */
int pod_parse_share(const char *s, unsigned *ret, CpodError *err);

/* Create a pod and its infra container (not started). -EEXIST when the name is taken; nothing is
 * left behind on failure. */
int pod_create(Engine *e, const PodCreateOptions *o, char ret_id[65], CpodError *err);
/* Resolve a name, ID or unique ID prefix. -ENOENT "no such pod". */
int pod_get(Engine *e, const char *ref, Pod *ret, CpodError *err);
/* 1 when the pod exists, 0 when not. */
int pod_exists(Engine *e, const char *ref, CpodError *err);
/* All pods, newest first. */
int pod_list(Engine *e, Pod **ret, size_t *ret_n, CpodError *err);
/* The pod's containers (the infra first), states synced. */
int pod_containers(Engine *e, const Pod *p, Container **ret, size_t *ret_n, CpodError *err);
/* podman's pod status from the containers' states ("Created", "Running", "Degraded", ...). */
const char *pod_status(const Container *ctrs, size_t n);

/* Lifecycle on all containers: start (infra first), stop (members, then the infra; timeout < 0 is each
 * container's own), kill, pause, unpause, restart. */
int pod_start(Engine *e, const char *ref, CpodError *err);
int pod_stop(Engine *e, const char *ref, int timeout, CpodError *err);
int pod_restart(Engine *e, const char *ref, CpodError *err);
int pod_kill(Engine *e, const char *ref, int signo, CpodError *err);
int pod_pause(Engine *e, const char *ref, CpodError *err);
int pod_unpause(Engine *e, const char *ref, CpodError *err);
/* Remove the pod, its members and its infra container. A running member needs force. *ret_id (may be
 * NULL) gets the pod's ID. */
int pod_remove(Engine *e, const char *ref, bool force, char ret_id[65], CpodError *err);
/* Remove every pod whose containers are all stopped (or that has none running); the removed IDs. */
int pod_prune(Engine *e, char ***ret_ids, size_t *ret_n, CpodError *err);
/* podman's pod inspect document. */
int pod_inspect(Engine *e, const char *ref, VlJson **ret, CpodError *err);

/* ---- used by container create and start ---- */

/* Apply the pod's settings to a new member's create options (o is a copy the caller owns): the pod's
 * hostname when UTS is shared (*ret_hostname, freed by the caller, backs o->hostname). Creates the pod first
 * for "new:NAME" (*ret_created true). ret_pod_id is the pod's ID. A pod without an infra container yet is
 * being created: the container is its infra. */
int pod_member_options(Engine *e, ContainerCreateOptions *o, char ret_pod_id[65], char **ret_hostname,
                       bool *ret_created, CpodError *err);
/* Before a member starts: start the infra container when it is not running, then point the member's
 * spec at the infra's namespaces. Nothing to do for the infra itself. */
int pod_member_prepare(Engine *e, const Container *c, CpodError *err);
/* Make sure the default infra image exists (built from catatonit when missing). */
int pod_infra_image_ensure(Engine *e, CpodError *err);
