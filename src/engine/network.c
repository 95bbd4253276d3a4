/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Network documents: parsing of CIDRs and -p values, create, list, remove,
 * prune, and the address allocation the container side (netns.c) uses.
 */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "container-internal.h"
#include "db.h"
#include "engine-internal.h"
#include "network-internal.h"
#include "network.h"
#include "util.h"

static int oom(CpodError *err) {
        return cpod_error(err, ENOMEM, "out of memory");
}

bool net_name_valid(const char *name) {
        if (!name || !*name || strlen(name) > 253)
                return false;
        for (const char *p = name; *p; p++) {
                bool alnum =
                        (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9');
                if (!alnum && (p == name || (*p != '_' && *p != '.' && *p != '-')))
                        return false;
        }
        return true;
}

/* ---- addresses ---- */

int net_parse_cidr(const char *s, bool loose, NetPrefix *ret) {
        char buf[INET6_ADDRSTRLEN + 8];
        const char *slash = strchr(s, '/');
        if (!slash || (size_t)(slash - s) >= sizeof buf - 1)
                return -EINVAL;
        memcpy(buf, s, slash - s);
        buf[slash - s] = 0;
        NetPrefix p = {};
        if (inet_pton(AF_INET, buf, p.addr) == 1)
                p.family = AF_INET;
        else if (inet_pton(AF_INET6, buf, p.addr) == 1)
                p.family = AF_INET6;
        else
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long bits = strtoul(slash + 1, &end, 10);
        unsigned max = p.family == AF_INET ? 32 : 128;
        if (errno || end == slash + 1 || *end || bits > max || !(slash[1] >= '0' && slash[1] <= '9'))
                return -EINVAL;
        p.bits = bits;
        for (unsigned i = bits; i < max; i++) {
                if (!(p.addr[i / 8] & (0x80 >> (i % 8))))
                        continue;
                if (!loose)
                        return -EINVAL; /* host bits set: "10.88.0.1/16" is not a subnet */
                p.addr[i / 8] &= ~(0x80 >> (i % 8));
        }
        *ret = p;
        return 0;
}

bool net_prefix_contains(const NetPrefix *p, int family, const uint8_t addr[16]) {
        if (family != p->family)
                return false;
        for (unsigned i = 0; i < p->bits; i++) {
                uint8_t m = 0x80 >> (i % 8);
                if ((p->addr[i / 8] & m) != (addr[i / 8] & m))
                        return false;
        }
        return true;
}

bool net_prefix_overlap(const NetPrefix *a, const NetPrefix *b) {
        return a->bits <= b->bits ? net_prefix_contains(a, b->family, b->addr)
                                  : net_prefix_contains(b, a->family, a->addr);
}

static int addr_parse(const char *s, int *ret_family, uint8_t ret[16]) {
        memset(ret, 0, 16);
        if (inet_pton(AF_INET, s, ret) == 1)
                *ret_family = AF_INET;
        else if (inet_pton(AF_INET6, s, ret) == 1)
                *ret_family = AF_INET6;
        else
                return -EINVAL;
        return 0;
}

/* Host addresses usable in p: not the network address, not the IPv4 broadcast. */
static bool prefix_host_ok(const NetPrefix *p, const uint8_t a[16]) {
        unsigned max = p->family == AF_INET ? 32 : 128;
        bool all0 = true, all1 = true;
        if (!net_prefix_contains(p, p->family, a))
                return false;
        if (max - p->bits < 2)
                return true;
        for (unsigned i = p->bits; i < max; i++) {
                bool bit = a[i / 8] & (0x80 >> (i % 8));
                all0 = all0 && !bit;
                all1 = all1 && bit;
        }
        return !all0 && !(all1 && p->family == AF_INET);
}

static void addr_increment(uint8_t a[16], int family) {
        for (int i = family == AF_INET ? 3 : 15; i >= 0; i--)
                if (++a[i] != 0)
                        break;
}

static void addr_format(int family, const uint8_t a[16], char *buf, size_t size) {
        if (!inet_ntop(family, a, buf, size))
                snprintf(buf, size, "?");
}

/* ---- -p ---- */

static int port_range(const char *s, size_t n, unsigned *ret_lo, unsigned *ret_n) {
        char buf[32];
        if (n == 0 || n >= sizeof buf)
                return -EINVAL;
        memcpy(buf, s, n);
        buf[n] = 0;
        char *end, *dash = strchr(buf, '-');
        errno = 0;
        unsigned long lo = strtoul(buf, &end, 10), hi = lo;
        if (errno || end == buf || (dash ? end != dash : *end != 0) || !(buf[0] >= '0' && buf[0] <= '9'))
                return -EINVAL;
        if (dash) {
                hi = strtoul(dash + 1, &end, 10);
                if (errno || *end || end == dash + 1)
                        return -EINVAL;
        }
        if (lo > 65535 || hi > 65535 || hi < lo)
                return -EINVAL;
        *ret_lo = lo;
        *ret_n = hi - lo + 1;
        return 0;
}

static int publish_split(const char *s, char *host_ip, size_t ip_size, const char **ret_host,
                         const char **ret_ctr) {
        const char *last = strrchr(s, ':');
        *host_ip = 0;
        *ret_host = NULL;
        *ret_ctr = last ? last + 1 : s;
        if (!last)
                return 0;
        if (s[0] == '[') { /* [::1]:8080:80 */
                const char *close = strchr(s, ']');
                if (!close || close[1] != ':' || (size_t)(close - s - 1) >= ip_size)
                        return -EINVAL;
                memcpy(host_ip, s + 1, close - s - 1);
                host_ip[close - s - 1] = 0;
                *ret_host = close + 2;
                return 0;
        }
        const char *first = strchr(s, ':');
        if (first == last) { /* host_port:ctr_port */
                *ret_host = s;
                return 0;
        }
        if ((size_t)(first - s) >= ip_size)
                return -EINVAL;
        memcpy(host_ip, s, first - s);
        host_ip[first - s] = 0;
        *ret_host = first + 1;
        return 0;
}

int net_parse_publish(const char *s, VlJson *mappings, CpodError *err) {
        char host_ip[INET6_ADDRSTRLEN + 1], proto[8] = "tcp";
        const char *host, *ctr, *slash = strchr(s, '/');
        unsigned clo, cn, hlo = 0, hn = 0;
        uint8_t a[16];
        int fam;
        if (slash) {
                if (!streq(slash + 1, "tcp") && !streq(slash + 1, "udp") && !streq(slash + 1, "sctp"))
                        return cpod_error(err, EINVAL, "invalid port protocol in \"%s\"", s);
                snprintf(proto, sizeof proto, "%s", slash + 1);
        }
        _cleanup_free_ char *spec = strndup(s, slash ? (size_t)(slash - s) : strlen(s));
        if (!spec)
                return oom(err);
        if (publish_split(spec, host_ip, sizeof host_ip, &host, &ctr) < 0 ||
            (*host_ip && addr_parse(host_ip, &fam, a) < 0))
                return cpod_error(err, EINVAL, "invalid host IP in port specification \"%s\"", s);
        if (port_range(ctr, strlen(ctr), &clo, &cn) < 0 || clo == 0)
                return cpod_error(err, EINVAL, "invalid container port in \"%s\"", s);
        size_t hlen = host ? (size_t)(ctr - 1 - host) : 0;
        if (hlen > 0 && port_range(host, hlen, &hlo, &hn) < 0)
                return cpod_error(err, EINVAL, "invalid host port in \"%s\"", s);
        if (hn && hn != cn)
                return cpod_error(err, EINVAL, "host and container port ranges of \"%s\" differ in size", s);
        VlJson *m = vl_json_new_object();
        int r = m ? 0 : -ENOMEM;
        r = r < 0 ? r : vl_json_object_set_string(m, "host_ip", host_ip);
        r = r < 0 ? r : vl_json_object_set_int(m, "container_port", clo);
        r = r < 0 ? r : vl_json_object_set_int(m, "host_port", hlo);
        r = r < 0 ? r : vl_json_object_set_int(m, "range", cn);
        r = r < 0 ? r : vl_json_object_set_string(m, "protocol", proto);
        if (r < 0 || vl_json_array_append(mappings, m) < 0) {
                vl_json_unref(m);
                return oom(err);
        }
        return 0;
}

/* ---- documents ---- */

static char *networks_dir(Engine *e) {
        char *p = NULL;
        return asprintf(&p, "%s/networks", e->root) < 0 ? NULL : p;
}

static int random_hex(char ret[65]) {
        uint8_t b[32];
        if (getrandom(b, sizeof b, 0) != sizeof b)
                return -errno;
        for (size_t i = 0; i < 32; i++)
                snprintf(ret + 2 * i, 3, "%02x", b[i]);
        return 0;
}

static VlJson *default_network(void) {
        static const char doc[] =
                "{\"name\":\"podman\","
                "\"id\":\"2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9\","
                "\"driver\":\"bridge\",\"network_interface\":\"cni-podman0\","
                "\"created\":\"2024-01-01T00:00:00.000000000Z\","
                "\"subnets\":[{\"subnet\":\"10.88.0.0/16\",\"gateway\":\"10.88.0.1\"}],"
                "\"ipv6_enabled\":false,\"internal\":false,\"dns_enabled\":false,"
                "\"ipam_options\":{\"driver\":\"host-local\"}}";
        VlJson *v = NULL;
        return vl_json_parse(doc, sizeof doc - 1, NULL, &v, NULL) < 0 ? NULL : v;
}

static int read_doc(const char *path, VlJson **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        char buf[65536];
        if (fd < 0)
                return -errno;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0)
                return -errno;
        if ((size_t)n == sizeof buf)
                return -EFBIG;
        return vl_json_parse(buf, n, NULL, ret, NULL) < 0 ? -EBADMSG : 0;
}

/* Every network document, the default one first. */
int net_all(Engine *e, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *arr = vl_json_new_array();
        _cleanup_free_ char *dir = networks_dir(e);
        if (!arr || !dir || vl_json_array_append(arr, default_network()) < 0)
                return oom(err);
        DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                size_t n = strlen(de->d_name);
                char path[4200];
                VlJson *doc = NULL;
                if (n < 6 || !streq(de->d_name + n - 5, ".json") || de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
                if (read_doc(path, &doc) < 0)
                        continue; /* half-written or foreign: not a network */
                if (vl_json_array_append(arr, doc) < 0) {
                        closedir(d);
                        return oom(err);
                }
        }
        if (d)
                closedir(d);
        *ret = TAKE_PTR(arr);
        return 0;
}

static const char *doc_str(const VlJson *doc, const char *key) {
        return vl_json_get_string(vl_json_object_get(doc, key)) ?: "";
}

int net_get(Engine *e, const char *name, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *all = NULL;
        VlJson *found = NULL, *v;
        int r = net_all(e, &all, err);
        if (r < 0)
                return r;
        VL_JSON_FOREACH_ELEMENT (v, all)
                if (streq(doc_str(v, "name"), name))
                        found = v;
        size_t len = strlen(name), matches = 0;
        VL_JSON_FOREACH_ELEMENT (v, all)
                if (!found && len >= 3 && strncmp(doc_str(v, "id"), name, len) == 0 && ++matches == 1)
                        found = v;
        if (!found || matches > 1)
                return cpod_error(err, ENOENT,
                                  "unable to find network with name or ID %s: network not found", name);
        if (ret)
                *ret = vl_json_ref(found);
        return 0;
}

int net_exists(Engine *e, const char *name, CpodError *err) {
        CpodError ignored = {};
        int r = net_get(e, name, NULL, &ignored);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                *err = ignored;
        return r < 0 ? r : 1;
}

/* ---- create ---- */

static int lock_networks(Engine *e, CpodError *err) {
        _cleanup_free_ char *dir = networks_dir(e);
        char path[4200];
        if (!dir)
                return oom(err);
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return cpod_error_errno(err, errno, "create `%s`", dir);
        snprintf(path, sizeof path, "%s/.lock", dir);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return cpod_error_errno(err, errno, "open `%s`", path);
        if (flock(fd, LOCK_EX) < 0) {
                int k = errno;
                close(fd);
                return cpod_error_errno(err, k, "lock `%s`", path);
        }
        return fd;
}

static bool subnet_taken(const VlJson *all, const NetPrefix *p, char *who, size_t who_size) {
        const VlJson *net, *s;
        VL_JSON_FOREACH_ELEMENT (net, all)
                VL_JSON_FOREACH_ELEMENT (s, vl_json_object_get(net, "subnets")) {
                        NetPrefix q;
                        if (net_parse_cidr(doc_str(s, "subnet"), true, &q) >= 0 &&
                            net_prefix_overlap(p, &q)) {
                                snprintf(who, who_size, "%s", doc_str(net, "name"));
                                return true;
                        }
                }
        /* the host's own addresses (its LAN, other bridges) */
        struct ifaddrs *ifa = NULL;
        bool taken = false;
        if (getifaddrs(&ifa) < 0)
                return false;
        for (struct ifaddrs *i = ifa; i && !taken; i = i->ifa_next) {
                uint8_t a[16] = {};
                if (!i->ifa_addr || i->ifa_addr->sa_family != p->family)
                        continue;
                if (p->family == AF_INET)
                        memcpy(a, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
                else
                        memcpy(a, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
                if (net_prefix_contains(p, p->family, a) && !(p->family == AF_INET && a[0] == 127)) {
                        snprintf(who, who_size, "host interface %s", i->ifa_name);
                        taken = true;
                }
        }
        freeifaddrs(ifa);
        return taken;
}

static bool iface_taken(const VlJson *all, const char *name) {
        const VlJson *net;
        VL_JSON_FOREACH_ELEMENT (net, all)
                if (streq(doc_str(net, "network_interface"), name))
                        return true;
        return if_nametoindex(name) != 0;
}

static int subnet_object(const char *subnet, const char *gateway, VlJson **ret) {
        VlJson *o = vl_json_new_object();
        int r = o ? vl_json_object_set_string(o, "subnet", subnet) : -ENOMEM;
        if (r >= 0 && gateway)
                r = vl_json_object_set_string(o, "gateway", gateway);
        if (r < 0) {
                vl_json_unref(o);
                return -ENOMEM;
        }
        *ret = o;
        return 0;
}

/* One subnet with its gateway (given, or the first host address). */
static int add_subnet(VlJson *subnets, const VlJson *all, const char *cidr, const char *gw, CpodError *err) {
        NetPrefix p;
        uint8_t a[16];
        int fam;
        char who[300], gbuf[INET6_ADDRSTRLEN];
        VlJson *o;
        if (net_parse_cidr(cidr, false, &p) < 0)
                return cpod_error(err, EINVAL, "invalid subnet \"%s\": not a CIDR network address", cidr);
        if (all && subnet_taken(all, &p, who, sizeof who))
                return cpod_error(err, EEXIST,
                                  "subnet %s is already used on the host or by another network (%s)", cidr,
                                  who);
        if (gw) {
                if (addr_parse(gw, &fam, a) < 0 || !prefix_host_ok(&p, a))
                        return cpod_error(err, EINVAL, "gateway %s is not a host address of subnet %s", gw,
                                          cidr);
        } else {
                memcpy(a, p.addr, 16);
                addr_increment(a, p.family);
                addr_format(p.family, a, gbuf, sizeof gbuf);
                gw = gbuf;
        }
        if (subnet_object(cidr, gw, &o) < 0 || vl_json_array_append(subnets, o) < 0)
                return oom(err);
        return 0;
}

/* No subnet given: the first free 10.89.N.0/24 (and fd00::N:0/64 with ipv6), as podman picks. */
static int pick_subnets(VlJson *subnets, const VlJson *all, bool ipv6, CpodError *err) {
        char cidr[64], who[300];
        NetPrefix p;
        int r = -ENOSPC;
        for (unsigned n = 0; n < 256 && r < 0; n++) {
                snprintf(cidr, sizeof cidr, "10.89.%u.0/24", n);
                if (net_parse_cidr(cidr, false, &p) >= 0 && !subnet_taken(all, &p, who, sizeof who))
                        r = add_subnet(subnets, all, cidr, NULL, err);
        }
        if (r < 0)
                return r == -ENOSPC ? cpod_error(err, ENOSPC, "could not find a free subnet in 10.89.0.0/16")
                                    : r;
        for (unsigned n = 0; ipv6 && n < 65536; n++) {
                snprintf(cidr, sizeof cidr, "fd00:0:0:%x::/64", n);
                if (net_parse_cidr(cidr, false, &p) >= 0 && !subnet_taken(all, &p, who, sizeof who))
                        return add_subnet(subnets, all, cidr, NULL, err);
        }
        return ipv6 ? cpod_error(err, ENOSPC, "could not find a free IPv6 subnet") : 0;
}

/* A macvlan network's subnet is the parent's own LAN, usually with host addresses in it, and two parents
 * may carry the same subnet: like podman, only bridge subnets are checked against the host and the other
 * networks. */
static int create_subnets(VlJson *doc, const VlJson *all, const NetCreateOptions *o, bool macvlan,
                          CpodError *err) {
        VlJson *subnets = vl_json_new_array();
        bool has_v6 = false;
        int r = subnets ? vl_json_object_set(doc, "subnets", subnets) : -ENOMEM;
        if (r < 0)
                return oom(err);
        if (o->n_gateways > o->n_subnets)
                return cpod_error(err, EINVAL, "every --gateway needs a --subnet");
        if (macvlan && o->n_subnets == 0)
                return cpod_error(err, EINVAL,
                                  "macvlan networks need --subnet: addresses are not taken from DHCP");
        for (size_t i = 0; i < o->n_subnets; i++) {
                r = add_subnet(subnets, macvlan ? NULL : all, o->subnets[i],
                               i < o->n_gateways ? o->gateways[i] : NULL, err);
                if (r < 0)
                        return r;
                has_v6 = has_v6 || strchr(o->subnets[i], ':');
        }
        for (size_t i = 0; i < o->n_subnets; i++) /* subnets of one network must not overlap either */
                for (size_t j = i + 1; j < o->n_subnets; j++) {
                        NetPrefix a, b;
                        if (net_parse_cidr(o->subnets[i], false, &a) >= 0 &&
                            net_parse_cidr(o->subnets[j], false, &b) >= 0 && net_prefix_overlap(&a, &b))
                                return cpod_error(err, EINVAL, "subnets %s and %s overlap", o->subnets[i],
                                                  o->subnets[j]);
                }
        if (o->n_subnets == 0)
                return pick_subnets(subnets, all, o->ipv6, err);
        r = vl_json_object_set_bool(doc, "ipv6_enabled", o->ipv6 || has_v6);
        return r < 0 ? oom(err) : 0;
}

static int kv_into(VlJson *doc, const char *key, char **kv, size_t n) {
        VlJson *o = vl_json_new_object();
        int r = o ? vl_json_object_set(doc, key, o) : -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const char *eq = strchr(kv[i], '=');
                _cleanup_free_ char *k = strndup(kv[i], eq ? (size_t)(eq - kv[i]) : strlen(kv[i]));
                r = k ? vl_json_object_set_string(o, k, eq ? eq + 1 : "") : -ENOMEM;
        }
        return r;
}

/* netavark takes a macvlan's parent from network_interface (podman moves -o parent= there too); its
 * options are mode= and mtu=. */
static int macvlan_options(VlJson *doc, const NetCreateOptions *o, CpodError *err) {
        VlJson *opts = vl_json_object_get(doc, "options");
        const char *k, *parent = vl_json_get_string(vl_json_object_get(opts, "parent")) ?: o->interface;
        const VlJson *v;
        if (!parent || !*parent)
                return cpod_error(err, EINVAL, "macvlan needs a parent interface: -o parent=IFACE");
        if (strlen(parent) >= IFNAMSIZ || if_nametoindex(parent) == 0)
                return cpod_error(err, ENODEV, "parent interface %s does not exist", parent);
        if (vl_json_object_set_string(doc, "network_interface", parent) < 0)
                return oom(err);
        (void)vl_json_object_remove(opts, "parent");
        VL_JSON_FOREACH_MEMBER (k, v, opts) {
                const char *s = vl_json_get_string(v) ?: "";
                char *end;
                if (streq(k, "mode")) {
                        if (!streq(s, "bridge") && !streq(s, "private") && !streq(s, "vepa") &&
                            !streq(s, "passthru"))
                                return cpod_error(err, EINVAL,
                                                  "unknown macvlan mode \"%s\": use bridge, private, vepa "
                                                  "or passthru",
                                                  s);
                } else if (streq(k, "mtu")) {
                        errno = 0;
                        unsigned long mtu = strtoul(s, &end, 10);
                        if (errno || end == s || *end || mtu < 68 || mtu > 65535)
                                return cpod_error(err, EINVAL, "invalid mtu \"%s\"", s);
                } else
                        return cpod_error(err, EINVAL, "unsupported macvlan network option %s", k);
        }
        return 0;
}

static int create_doc(const VlJson *all, const NetCreateOptions *o, const char *name, const char *iface,
                      VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *doc = vl_json_new_object();
        const char *driver = o->driver ?: "bridge";
        char id[65], created[48];
        if (!streq(driver, "bridge") && !streq(driver, "macvlan"))
                return cpod_error(err, EINVAL, "unsupported driver %s: use bridge or macvlan", driver);
        if (random_hex(id) < 0)
                return cpod_error_errno(err, errno, "generate a network ID");
        ctr_format_rfc3339nano(ctr_now_nsec(), created, sizeof created);
        int r = doc ? 0 : -ENOMEM;
        r = r < 0 ? r : vl_json_object_set_string(doc, "name", name);
        r = r < 0 ? r : vl_json_object_set_string(doc, "id", id);
        r = r < 0 ? r : vl_json_object_set_string(doc, "driver", driver);
        r = r < 0 ? r : vl_json_object_set_string(doc, "network_interface", iface);
        r = r < 0 ? r : vl_json_object_set_string(doc, "created", created);
        r = r < 0 ? r : vl_json_object_set_bool(doc, "ipv6_enabled", o->ipv6);
        r = r < 0 ? r : vl_json_object_set_bool(doc, "internal", o->internal);
        r = r < 0 ? r
                  : vl_json_object_set_bool(doc, "dns_enabled", !o->disable_dns && streq(driver, "bridge"));
        r = r < 0 ? r : kv_into(doc, "labels", o->labels, o->n_labels);
        r = r < 0 ? r : kv_into(doc, "options", o->options, o->n_options);
        VlJson *ipam = vl_json_new_object();
        r = r < 0 ? r : ipam ? vl_json_object_set(doc, "ipam_options", ipam) : -ENOMEM;
        r = r < 0 ? r : vl_json_object_set_string(ipam, "driver", "host-local");
        if (r < 0)
                return oom(err);
        if (streq(driver, "macvlan")) {
                r = macvlan_options(doc, o, err);
                if (r < 0)
                        return r;
        }
        r = create_subnets(doc, all, o, streq(driver, "macvlan"), err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(doc);
        return 0;
}

/* Write <dir>/<name>.json; -EEXIST when it exists (link(2) never replaces). */
static int write_new_doc(const char *dir, const char *name, const VlJson *doc, CpodError *err) {
        _cleanup_free_ char *text = vl_json_to_string(doc, VL_JSON_FORMAT_PRETTY);
        char tmp[4200], path[4200];
        if (!text)
                return oom(err);
        snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
        snprintf(path, sizeof path, "%s/%s.json", dir, name);
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return cpod_error_errno(err, errno, "create `%s`", tmp);
        size_t len = strlen(text);
        if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
                int k = errno ?: EIO;
                unlink(tmp);
                return cpod_error_errno(err, k, "write `%s`", tmp);
        }
        int r = link(tmp, path) < 0 ? -errno : 0;
        unlink(tmp);
        if (r == -EEXIST)
                return cpod_error(err, EEXIST, "network name %s already used: network already exists", name);
        return r < 0 ? cpod_error_errno(err, -r, "create `%s`", path) : 0;
}

int net_create(Engine *e, const NetCreateOptions *o, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *all = NULL, *doc = NULL;
        _cleanup_free_ char *dir = networks_dir(e);
        char name[300], iface[IFNAMSIZ];
        if (!dir)
                return oom(err);
        if (o->name && !net_name_valid(o->name))
                return cpod_error(err, EINVAL,
                                  "invalid network name \"%s\": names must match "
                                  "[a-zA-Z0-9][a-zA-Z0-9_.-]*",
                                  o->name);
        int lock = lock_networks(e, err);
        if (lock < 0)
                return lock;
        int r = net_all(e, &all, err);
        unsigned n = 1;
        for (; r >= 0 && n < 10000; n++) {
                snprintf(name, sizeof name, "podman%u", n);
                snprintf(iface, sizeof iface, "podman%u", n);
                if ((o->name || net_exists(e, name, err) == 0) && (o->interface || !iface_taken(all, iface)))
                        break;
        }
        if (o->name)
                snprintf(name, sizeof name, "%s", o->name);
        if (o->interface)
                snprintf(iface, sizeof iface, "%s", o->interface);
        if (r >= 0 && net_exists(e, name, err) > 0)
                r = cpod_error(err, EEXIST, "network name %s already used: network already exists", name);
        r = r < 0 ? r : create_doc(all, o, name, iface, &doc, err);
        r = r < 0 ? r : write_new_doc(dir, name, doc, err);
        close(lock);
        if (r >= 0 && ret)
                *ret = TAKE_PTR(doc);
        return r < 0 ? r : 0;
}

/* ---- list, remove, prune ---- */

static bool label_match(const VlJson *doc, const char *want) {
        const char *eq = strchr(want, '=');
        _cleanup_free_ char *k = strndup(want, eq ? (size_t)(eq - want) : strlen(want));
        const VlJson *v = k ? vl_json_object_get(vl_json_object_get(doc, "labels"), k) : NULL;
        return v && (!eq || streq(vl_json_get_string(v) ?: "", eq + 1));
}

static int filter_match(const VlJson *doc, const char *f, bool *ret) {
        const char *v;
        if ((v = startswith(f, "name="))) {
                regex_t re;
                if (regcomp(&re, v, REG_EXTENDED | REG_NOSUB) != 0)
                        return -EINVAL;
                *ret = regexec(&re, doc_str(doc, "name"), 0, NULL, 0) == 0;
                regfree(&re);
        } else if ((v = startswith(f, "id=")))
                *ret = startswith(doc_str(doc, "id"), v) != NULL;
        else if ((v = startswith(f, "driver=")))
                *ret = streq(doc_str(doc, "driver"), v);
        else if ((v = startswith(f, "label=")))
                *ret = label_match(doc, v);
        else
                return -EINVAL;
        return 0;
}

static int by_name(const void *a, const void *b) {
        return strcmp(doc_str(*(VlJson *const *)a, "name"), doc_str(*(VlJson *const *)b, "name"));
}

int net_list(Engine *e, const char *const *filters, size_t n_filters, VlJson **ret, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *all = NULL, *out = vl_json_new_array();
        _cleanup_free_ VlJson **v = NULL;
        int r = out ? net_all(e, &all, err) : oom(err);
        if (r < 0)
                return r;
        size_t n = vl_json_array_length(all);
        if (!(v = calloc(n + 1, sizeof(*v))))
                return oom(err);
        for (size_t i = 0; i < n; i++)
                v[i] = vl_json_array_get(all, i);
        qsort(v, n, sizeof(*v), by_name);
        for (size_t i = 0; i < n; i++) {
                bool ok = true;
                /* same key: alternatives; different keys: all must match */
                for (size_t j = 0; ok && j < n_filters; j++) {
                        const char *eq = strchr(filters[j], '=');
                        size_t klen = eq ? (size_t)(eq - filters[j]) : strlen(filters[j]);
                        bool any = false, m;
                        for (size_t k = 0; k < n_filters; k++) {
                                if (strncmp(filters[k], filters[j], klen + 1) != 0)
                                        continue;
                                if (filter_match(v[i], filters[k], &m) < 0)
                                        return cpod_error(err, EINVAL, "invalid filter \"%s\"", filters[k]);
                                any = any || m;
                        }
                        ok = any;
                }
                if (ok && vl_json_array_append(out, vl_json_ref(v[i])) < 0)
                        return oom(err);
        }
        *ret = TAKE_PTR(out);
        return 0;
}

int net_users(Engine *e, const char *name, char ***ret_ids, size_t *ret_n, CpodError *err) {
        sqlite3_stmt *st = NULL;
        char **ids = NULL;
        size_t n = 0;
        int r = db_prepare(e->db, "SELECT container_id FROM container_networks WHERE network = ?1", &st,
                           err);
        if (r < 0)
                return r;
        r = db_bind_texts(e->db, st, DB_PARAMS(name), err);
        int rc;
        while (r >= 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
                if (ctr_strv_push(&ids, &n, (const char *)sqlite3_column_text(st, 0)) < 0)
                        r = oom(err);
        sqlite3_finalize(st);
        if (r < 0) {
                ctr_strv_free(ids);
                return r;
        }
        *ret_ids = ids;
        *ret_n = n;
        return 0;
}

int net_remove(Engine *e, const char *name, bool force, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *doc = NULL;
        _cleanup_free_ char *dir = networks_dir(e);
        char **ids = NULL;
        size_t n = 0;
        int r = net_get(e, name, &doc, err);
        if (r < 0)
                return r;
        const char *real = doc_str(doc, "name");
        if (streq(real, NET_DEFAULT_NAME))
                return cpod_error(err, EPERM, "default network %s cannot be removed", real);
        r = net_users(e, real, &ids, &n, err);
        if (r >= 0 && n > 0 && !force)
                r = cpod_error(err, EBUSY,
                               "\"%s\" has associated containers with it. Use -f to forcibly "
                               "delete containers and pods: network is being used",
                               real);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = container_remove(e, ids[i], true, false, err);
        ctr_strv_free(ids);
        if (r < 0)
                return r;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s.json", dir, real);
        if (unlink(path) < 0 && errno != ENOENT)
                return cpod_error_errno(err, errno, "remove `%s`", path);
        (void)db_run(e->db, "DELETE FROM network_ips WHERE network = ?1", DB_PARAMS(real), NULL);
        return 0;
}

int net_prune(Engine *e, char ***ret_names, size_t *ret_n, CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *all = NULL;
        char **names = NULL;
        size_t n_names = 0;
        const VlJson *doc;
        int r = net_all(e, &all, err);
        VL_JSON_FOREACH_ELEMENT (doc, all) {
                const char *name = doc_str(doc, "name");
                char **ids = NULL;
                size_t n = 0;
                if (r < 0 || streq(name, NET_DEFAULT_NAME))
                        continue;
                r = net_users(e, name, &ids, &n, err);
                ctr_strv_free(ids);
                if (r >= 0 && n == 0 && (r = net_remove(e, name, false, err)) >= 0)
                        r = ctr_strv_push(&names, &n_names, name) < 0 ? oom(err) : 0;
        }
        if (r < 0) {
                ctr_strv_free(names);
                return r;
        }
        if (ret_names)
                *ret_names = names;
        else
                ctr_strv_free(names);
        if (ret_n)
                *ret_n = n_names;
        return 0;
}

/* ---- addresses of containers ---- */

static int ip_used(Engine *e, const char *network, const char *ip, CpodError *err) {
        _cleanup_free_ char *who = NULL;
        int r = db_get_text(e->db, "SELECT container_id FROM network_ips WHERE network = ?1 AND ip = ?2",
                            DB_PARAMS(network, ip), &who, err);
        return r < 0 ? r : r > 0;
}

/* One address in each subnet of doc for container id: wanted (for the subnet it belongs to) or the
 * lowest free one that is not the gateway. Appended to ips (strings). Call inside a write transaction. */
static int alloc_in_subnet(Engine *e, const char *net, const VlJson *s, const char *id, const char *wanted,
                           VlJson *ips, CpodError *err) {
        NetPrefix p;
        uint8_t a[16], gw[16] = {}, w[16];
        int fam;
        char buf[INET6_ADDRSTRLEN];
        if (net_parse_cidr(doc_str(s, "subnet"), true, &p) < 0)
                return cpod_error(err, EINVAL, "network %s: invalid subnet %s", net, doc_str(s, "subnet"));
        (void)addr_parse(doc_str(s, "gateway"), &fam, gw);
        if (wanted && addr_parse(wanted, &fam, w) >= 0 && net_prefix_contains(&p, fam, w)) {
                if (!prefix_host_ok(&p, w) || memcmp(w, gw, 16) == 0)
                        return cpod_error(err, EINVAL, "requested IP address %s is not usable in %s", wanted,
                                          doc_str(s, "subnet"));
                addr_format(fam, w, buf, sizeof buf);
                int r = ip_used(e, net, buf, err);
                if (r != 0)
                        return r < 0 ? r
                                     : cpod_error(err, EADDRINUSE,
                                                  "requested ip address %s is already "
                                                  "allocated to another container",
                                                  wanted);
        } else {
                memcpy(a, p.addr, 16);
                int r = 1;
                for (unsigned tries = 0; r > 0 && tries < 65536; tries++) {
                        addr_increment(a, p.family);
                        if (!prefix_host_ok(&p, a))
                                return cpod_error(err, ENOSPC, "no free address left in network %s", net);
                        if (memcmp(a, gw, 16) == 0)
                                continue;
                        addr_format(p.family, a, buf, sizeof buf);
                        r = ip_used(e, net, buf, err);
                }
                if (r != 0)
                        return r < 0 ? r
                                     : cpod_error(err, ENOSPC, "no free address left in network %s", net);
        }
        int r = db_run(e->db, "INSERT INTO network_ips(network, ip, container_id) VALUES (?1, ?2, ?3)",
                       DB_PARAMS(net, buf, id), err);
        if (r < 0)
                return r;
        return vl_json_array_append(ips, vl_json_new_string(buf)) < 0 ? oom(err) : 0;
}

int net_ip_allocate(Engine *e, const VlJson *doc, const char *id, const char *wanted, VlJson **ret_ips,
                    CpodError *err) {
        _cleanup_(vl_json_unrefp) VlJson *ips = vl_json_new_array();
        const char *net = doc_str(doc, "name");
        const VlJson *s;
        if (!ips)
                return oom(err);
        int r = db_begin_write(e->db, err);
        if (r < 0)
                return r;
        (void)db_run(e->db, "DELETE FROM network_ips WHERE network = ?1 AND container_id = ?2",
                     DB_PARAMS(net, id), NULL);
        VL_JSON_FOREACH_ELEMENT (s, vl_json_object_get(doc, "subnets"))
                if (r >= 0)
                        r = alloc_in_subnet(e, net, s, id, wanted, ips, err);
        if (r < 0) {
                db_rollback(e->db);
                return r;
        }
        r = db_commit(e->db, err);
        if (r >= 0)
                *ret_ips = TAKE_PTR(ips);
        return r;
}

void net_ip_release(Engine *e, const char *id, const char *network) {
        if (network)
                (void)db_run(e->db, "DELETE FROM network_ips WHERE container_id = ?1 AND network = ?2",
                             DB_PARAMS(id, network), NULL);
        else
                (void)db_run(e->db, "DELETE FROM network_ips WHERE container_id = ?1", DB_PARAMS(id), NULL);
}
