/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Networks through netavark (and aardvark-dns for DNS), as podman 4 does.
 *
 * A network is netavark's network document (name, id, driver,
 * network_interface, subnets, ipv6_enabled, internal, dns_enabled, labels,
 * options, ipam_options, created) stored as <root>/networks/<name>.json.
 * The default network "podman" (bridge cni-podman0, 10.88.0.0/16, no DNS)
 * exists implicitly, as in podman. Addresses are allocated in SQLite
 * (network_ips) when a container's network is set up and released at
 * teardown, so no two containers share one.
 *
 * A container on a bridge network gets a named network namespace
 * <runroot>/netns/<id> (a bind mount of a new namespace's nsfs file) that
 * its OCI spec joins; netavark configures it (veth, bridge, iptables rules
 * for published ports, aardvark-dns) at start, and tears it down when the
 * container stops or is removed. What was given to netavark and what it
 * answered is kept in <runroot>/netns/<id>.json for teardown, `port`,
 * `ps` and inspect.
 *
 * CPOD_NET_TIMING=1 in the environment prints the wall time of each
 * netavark call to stderr.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vl/json.h>

#include "container.h"
#include "engine.h"

#define NET_DEFAULT_NAME "podman"

typedef struct NetCreateOptions {
        const char *name;   /* NULL: "podmanN", the first free */
        const char *driver; /* NULL or "bridge", "macvlan" */
        char **subnets;     /* CIDRs; none: the first free 10.89.N.0/24 */
        size_t n_subnets;
        char **gateways; /* for the subnet at the same index, may be shorter */
        size_t n_gateways;
        char **labels; /* "K=V" */
        size_t n_labels;
        char **options; /* "K=V" (driver options: parent=, mtu=, ...) */
        size_t n_options;
        const char *interface; /* bridge name; NULL: "podmanN" */
        bool internal, ipv6, disable_dns;
} NetCreateOptions;

/* True for names podman accepts: [a-zA-Z0-9][a-zA-Z0-9_.-]*. */
bool net_name_valid(const char *name);
/* Create a network; its document (netavark's shape) in *ret (may be NULL). -EEXIST for a taken name,
 * -EINVAL for a bad CIDR, gateway or driver, or a subnet overlapping another network's. */
int net_create(Engine *e, const NetCreateOptions *o, VlJson **ret, CpodError *err);
/* The document of one network by name or ID (prefix). -ENOENT "network not found". */
int net_get(Engine *e, const char *name, VlJson **ret, CpodError *err);
/* 1 when it exists, 0 when not. */
int net_exists(Engine *e, const char *name, CpodError *err);
/* All networks sorted by name (the default one included), filtered by "key=value" filters: name=, id=,
 * driver=, label=K[=V]; *ret is an array of documents. -EINVAL for an unknown filter. */
int net_list(Engine *e, const char *const *filters, size_t n_filters, VlJson **ret, CpodError *err);
/* Remove a network. Used by containers: -EBUSY, unless force (then they are removed first). The default
 * network cannot be removed. */
int net_remove(Engine *e, const char *name, bool force, CpodError *err);
/* Remove every network except the default one that no container uses. */
int net_prune(Engine *e, char ***ret_names, size_t *ret_n, CpodError *err);
/* IDs of the containers configured to use network name. */
int net_users(Engine *e, const char *name, char ***ret_ids, size_t *ret_n, CpodError *err);

/* ---- containers ---- */

/* At create: check the network options of o (network names, -p/-P with the image config's ExposedPorts,
 * --ip, --mac-address, --dns, --add-host) and store them in <root>/containers/<id>/network.json.
 * *ret_netns (malloc'ed) is the namespace path the spec joins, NULL when the container does not use
 * netavark (none, host, container:, ns:). */
int net_container_prepare(Engine *e, const char *id, const char *name, const ContainerCreateOptions *o,
                          const VlJson *image_config, char **ret_netns, CpodError *err);
/* The mode a container was created with: 1 when it uses bridge networks, 0 when not. */
int net_container_uses_bridge(Engine *e, const char *id);
/* At start, before the runtime creates the container: the namespace, netavark setup, /etc/hosts and
 * /etc/resolv.conf in the container's userdata directory. Undone by itself on failure. */
int net_container_setup(Engine *e, const char *id, const char *name, const char *hostname, CpodError *err);
/* At stop, cleanup and removal: netavark teardown, the namespace, the addresses. Harmless when nothing
 * is set up. */
int net_container_teardown(Engine *e, const char *id, CpodError *err);

/* The same two in halves, so the caller works while netavark does (it takes 50-250 ms, mostly the
 * kernel's firewall commits and link deletions). A NetPending holds the host's netavark lock; every
 * begin that gave one must be followed by its finish, which frees it (NULL: nothing to do, 0).
 *
 * setup_begin creates the namespace (the runtime can join it at once) and starts netavark; setup_finish
 * waits, then writes the container's hosts and resolv.conf in place, so call it before the container's
 * process starts. A failure in either is undone by itself. */
typedef struct NetPending NetPending;
int net_container_setup_begin(Engine *e, const char *id, const char *name, const char *hostname,
                              NetPending **ret, CpodError *err);
int net_container_setup_finish(Engine *e, NetPending *p, CpodError *err);
/* teardown_begin starts netavark once the container's processes are gone; teardown_finish waits, then
 * removes the namespace and releases the addresses. */
int net_container_teardown_begin(Engine *e, const char *id, NetPending **ret, CpodError *err);
int net_container_teardown_finish(Engine *e, NetPending *p, CpodError *err);
/* Forget the stored options at removal (after teardown). */
void net_container_forget(Engine *e, const char *id);
/* The published ports as podman prints them ("8080/tcp -> 127.0.0.1:41235"), or in ps' form
 * ("127.0.0.1:41235->8080/tcp") when ps_form. NULL-terminated; the effective ports of a running
 * container, else the configured ones (host port 0 when random). */
int net_container_ports(Engine *e, const char *id, bool ps_form, char ***ret, size_t *ret_n, CpodError *err);
/* Fill podman's inspect NetworkSettings object o: Networks, Ports, and the first network's IPAddress,
 * Gateway, MacAddress, IPPrefixLen. -ENOMEM. */
int net_container_settings(Engine *e, const char *id, VlJson *o);
/* Connect a container to one more network (set up now when it runs) and disconnect it. */
int net_connect(Engine *e, const char *ref, const char *network, char **aliases, size_t n_aliases,
                const char *ip, CpodError *err);
int net_disconnect(Engine *e, const char *ref, const char *network, bool force, CpodError *err);

/* ---- parsing, exposed for the unit tests ---- */

/* "10.88.0.0/16" → network address and prefix (IPv4 and IPv6, host bits must be 0 unless loose). */
typedef struct NetPrefix {
        int family; /* AF_INET or AF_INET6 */
        uint8_t addr[16];
        unsigned bits;
} NetPrefix;
int net_parse_cidr(const char *s, bool loose, NetPrefix *ret);
bool net_prefix_overlap(const NetPrefix *a, const NetPrefix *b);
bool net_prefix_contains(const NetPrefix *p, int family, const uint8_t addr[16]);
/* One -p value: [host_ip:][host_port[-end]:]container_port[-end][/tcp|udp|sctp], appended to the array
 * *mappings as netavark port_mapping objects (host_port 0: random). */
int net_parse_publish(const char *s, VlJson *mappings, CpodError *err);
