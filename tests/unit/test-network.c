/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Networks without netavark: CIDR and -p parsing, documents (create, overlap, list, remove, prune) and
 * address allocation. */
#include <errno.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "engine-internal.h"
#include "engine.h"
#include "network-internal.h"
#include "network.h"
#include "tests.h"
#include "util.h"

static char tmpdir[64];

static Engine *open_engine(void) {
        char root[128], run[128];
        EngineOptions o = {.root = root, .runroot = run};
        CpodError err = {};
        Engine *e = NULL;

        if (!tmpdir[0]) {
                snprintf(tmpdir, sizeof tmpdir, "/tmp/test-network-XXXXXX");
                if (!mkdtemp(tmpdir))
                        abort();
        }
        snprintf(root, sizeof root, "%s/root", tmpdir);
        snprintf(run, sizeof run, "%s/run", tmpdir);
        if (engine_open(&o, &e, &err) < 0) {
                diag("engine_open: %s", err.message);
                abort();
        }
        return e;
}

TEST(cidr) {
        NetPrefix a, b;
        is_int(net_parse_cidr("10.88.0.0/16", false, &a), 0, "10.88.0.0/16");
        is_int((int)a.bits, 16, "prefix length");
        is_int(net_parse_cidr("10.88.0.1/16", false, &b), -EINVAL, "host bits set: not a network");
        is_int(net_parse_cidr("10.88.0.1/16", true, &b), 0, "loose: masked");
        ok(memcmp(a.addr, b.addr, 16) == 0, "masked to the network address");
        is_int(net_parse_cidr("10.300.0.0/16", false, &b), -EINVAL, "bad octet");
        is_int(net_parse_cidr("10.0.0.0/33", false, &b), -EINVAL, "prefix too long");
        is_int(net_parse_cidr("10.0.0.0", false, &b), -EINVAL, "no prefix");
        is_int(net_parse_cidr("10.0.0.0/", false, &b), -EINVAL, "empty prefix");
        is_int(net_parse_cidr("fd00::/64", false, &b), 0, "IPv6");
        is_int(b.family, AF_INET6, "IPv6 family");
        is_int(net_parse_cidr("10.88.4.0/24", false, &b), 0, "10.88.4.0/24");
        ok(net_prefix_overlap(&a, &b) && net_prefix_overlap(&b, &a), "a /24 inside a /16 overlaps");
        is_int(net_parse_cidr("10.89.0.0/24", false, &b), 0, "10.89.0.0/24");
        ok(!net_prefix_overlap(&a, &b), "disjoint subnets do not overlap");
}

static const char *mapping(VlJson *arr, size_t i, const char *key, char *buf) {
        const VlJson *v = vl_json_object_get(vl_json_array_get(arr, i), key);
        if (vl_json_get_string(v))
                return vl_json_get_string(v);
        snprintf(buf, 32, "%lld", (long long)vl_json_get_int(v));
        return buf;
}

TEST(publish) {
        _cleanup_(vl_json_unrefp) VlJson *arr = vl_json_new_array();
        CpodError err = {};
        char b[32];
        is_int(net_parse_publish("127.0.0.1:8080:80", arr, &err), 0, "ip:host:ctr");
        is_str(mapping(arr, 0, "host_ip", b), "127.0.0.1", "host ip");
        is_str(mapping(arr, 0, "host_port", b), "8080", "host port");
        is_str(mapping(arr, 0, "container_port", b), "80", "container port");
        is_str(mapping(arr, 0, "protocol", b), "tcp", "tcp by default");
        is_int(net_parse_publish("53/udp", arr, &err), 0, "container port only");
        is_str(mapping(arr, 1, "host_port", b), "0", "random host port");
        is_str(mapping(arr, 1, "protocol", b), "udp", "udp");
        is_int(net_parse_publish("127.0.0.1::80", arr, &err), 0, "ip with an empty host port");
        is_str(mapping(arr, 2, "host_port", b), "0", "random host port");
        is_int(net_parse_publish("9000-9002:80-82", arr, &err), 0, "ranges");
        is_str(mapping(arr, 3, "range", b), "3", "range of 3");
        is_int(net_parse_publish("[::1]:8080:80", arr, &err), 0, "IPv6 host ip");
        is_str(mapping(arr, 4, "host_ip", b), "::1", "IPv6 host ip");
        is_int(net_parse_publish("9000-9001:80", arr, &err), -EINVAL, "ranges of different sizes");
        is_int(net_parse_publish("70000:80", arr, &err), -EINVAL, "port out of range");
        is_int(net_parse_publish("80/xyz", arr, &err), -EINVAL, "unknown protocol");
        is_int(net_parse_publish("1.2.3:80:80", arr, &err), -EINVAL, "bad host ip");
        is_int(net_parse_publish("abc", arr, &err), -EINVAL, "not a port");
}

TEST(documents) {
        Engine *e = open_engine();
        CpodError err = {};
        VlJson *doc = NULL, *list = NULL;
        char *subnets[] = {"10.77.0.0/24"}, *overlap[] = {"10.77.0.128/25"}, *bad[] = {"10.77.1.1/24"};
        char *labels[] = {"a=b"};

        is_int(net_exists(e, "podman", &err), 1, "the default network exists implicitly");
        is_int(net_get(e, "podman", &doc, &err), 0, "and has a document");
        is_str(vl_json_get_string(vl_json_object_get(doc, "network_interface")), "cni-podman0",
               "cni-podman0");
        doc = vl_json_unref(doc);
        NetCreateOptions o = {
                .name = "n1", .subnets = subnets, .n_subnets = 1, .labels = labels, .n_labels = 1};
        is_int(net_create(e, &o, &doc, &err), 0, "create n1");
        const VlJson *s = vl_json_array_get(vl_json_object_get(doc, "subnets"), 0);
        is_str(vl_json_get_string(vl_json_object_get(s, "gateway")), "10.77.0.1",
               "first address is the gateway");
        ok(vl_json_get_bool(vl_json_object_get(doc, "dns_enabled")), "DNS on for created networks");
        is_int(net_create(e, &o, NULL, &err), -EEXIST, "a taken name");
        NetCreateOptions o2 = {.name = "n2", .subnets = overlap, .n_subnets = 1};
        is_int(net_create(e, &o2, NULL, &err), -EEXIST, "an overlapping subnet");
        o2.subnets = bad;
        is_int(net_create(e, &o2, NULL, &err), -EINVAL, "host bits in a subnet");
        o2.name = "bad/name";
        is_int(net_create(e, &o2, NULL, &err), -EINVAL, "a bad name");
        NetCreateOptions o3 = {};
        VlJson *auto_doc = NULL;
        is_int(net_create(e, &o3, &auto_doc, &err), 0, "create with generated name and subnet");
        const char *auto_name = vl_json_get_string(vl_json_object_get(auto_doc, "name"));
        ok(auto_name && startswith(auto_name, "podman"), "generated name podmanN");
        const char *want[] = {"label=a=b"};
        is_int(net_list(e, want, 1, &list, &err), 0, "list by label");
        is_int((int)vl_json_array_length(list), 1, "one match");
        list = vl_json_unref(list);

        /* addresses */
        VlJson *ips = NULL;
        is_int(net_ip_allocate(e, doc, "c1", NULL, &ips, &err), 0, "allocate for c1");
        is_str(vl_json_get_string(vl_json_array_get(ips, 0)), "10.77.0.2", "the first free address");
        ips = vl_json_unref(ips);
        is_int(net_ip_allocate(e, doc, "c2", NULL, &ips, &err), 0, "allocate for c2");
        is_str(vl_json_get_string(vl_json_array_get(ips, 0)), "10.77.0.3", "not shared");
        ips = vl_json_unref(ips);
        is_int(net_ip_allocate(e, doc, "c3", "10.77.0.3", &ips, &err), -EADDRINUSE,
               "a taken static address");
        is_int(net_ip_allocate(e, doc, "c3", "10.77.0.1", &ips, &err), -EINVAL, "the gateway");
        net_ip_release(e, "c1", NULL);
        is_int(net_ip_allocate(e, doc, "c3", NULL, &ips, &err), 0, "allocate after a release");
        is_str(vl_json_get_string(vl_json_array_get(ips, 0)), "10.77.0.2", "the released address again");
        ips = vl_json_unref(ips);
        net_ip_release(e, "c2", NULL);
        net_ip_release(e, "c3", NULL);

        is_int(net_remove(e, "podman", false, &err), -EPERM, "the default network stays");
        char **names = NULL;
        size_t n = 0;
        is_int(net_prune(e, &names, &n, &err), 0, "prune");
        is_int((int)n, 2, "both unused networks pruned");
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        is_int(net_exists(e, "n1", &err), 0, "n1 is gone");
        is_int(net_remove(e, "n1", false, &err), -ENOENT, "removing it again");
        vl_json_unref(doc);
        vl_json_unref(auto_doc);
        engine_close(e);
}

TEST(cleanup) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
        ok(system(cmd) == 0, "temporary files removed");
}

TESTS_MAIN
