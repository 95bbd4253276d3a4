/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Kubernetes YAML, podman's `generate kube` and `play kube`: a pod (its
 * members, not the infra container) or a single container becomes a v1 Pod
 * document, optionally followed by a NodePort Service; a Pod document
 * becomes a pod with its containers, named volumes for
 * persistentVolumeClaim volumes and bind mounts for hostPath ones.
 *
 * The documents are libvl JSON values, read and written by yaml.h. Values
 * read from YAML are strings; numbers (ports) are converted where used.
 */

#include <stdbool.h>
#include <stddef.h>

#include <vl/json.h>

#include "engine.h"
#include "error.h"

/*
 * Build the documents for a pod named name from its members' inspect documents (members, an array of
 * podman container inspect documents whose Config.Env holds only what the user set). hostname (may be
 * NULL) is the pod's, labels (may be NULL) an object of strings, ports the NetworkSettings.Ports object
 * of whoever owns the network. With service, a Service document follows the Pod. *ret is an array.
 */
int kube_documents(const char *name, const char *hostname, const VlJson *labels, const VlJson *members,
                   const VlJson *ports, bool service, VlJson **ret, CpodError *err);

/* The documents for a pod or a container (name, ID or prefix; a pod is looked up first). */
int kube_generate(Engine *e, const char *ref, bool service, VlJson **ret, CpodError *err);

/*
 * Check every document of a parsed stream before anything is created: kinds Pod, Service (ignored) and
 * PersistentVolumeClaim (a named volume); anything else fails, naming the document.
 */
int kube_validate(const VlJson *docs, CpodError *err);

/*
 * Create and start what the documents describe. *ret is an array of {"Pod": ID, "Containers": [IDs]}
 * and {"Volume": NAME} objects. On failure everything created so far is removed again.
 */
int kube_play(Engine *e, const VlJson *docs, VlJson **ret, CpodError *err);

/* Stop and remove the pods the documents describe (their containers with them); *ret is an array of
 * the removed pods' IDs. Pods that do not exist are skipped. */
int kube_down(Engine *e, const VlJson *docs, VlJson **ret, CpodError *err);
