/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host veth → container/pod mapping via rtnetlink, /proc namespaces, cgroups. */
#include "enrich/netdev.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* How long one netlink answer may take; the kernel answers at once, this
 * only guards against a wedged socket. */
#define NETDEV_NL_TIMEOUT_S 1
/* Shortest id prefix accepted as a name in a spec (what docker ps shows). */
#define NETDEV_ID_PREFIX_MIN 12u

/* A host veth whose peer is in another namespace. */
struct veth {
	uint32_t ifindex;
	int32_t peer_nsid;
	char ifname[IF_NAMESIZE];
};

/* A process and the inode of its network namespace. */
struct proc_ns {
	uint64_t ino;
	uint32_t pid;
};

static struct mnl_socket *nl_open(void)
{
	struct timeval tv = {.tv_sec = NETDEV_NL_TIMEOUT_S};
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	int e;

	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		e = errno;
		mnl_socket_close(nl);
		errno = e;
		return NULL;
	}
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return nl;
}

/* Send req, then hand every answer to cb until the dump is done or cb
 * says MNL_CB_STOP (a one-answer request). A late answer to an earlier
 * request (another sequence number) is skipped. Returns 0 or a negative
 * errno: -ETIMEDOUT, -EMSGSIZE for an answer larger than the buffer
 * (never silently cut), -EINTR when the kernel's tables changed under a
 * dump, or the kernel's own error. */
static int nl_talk(struct mnl_socket *nl, char *buf, const struct nlmsghdr *req, mnl_cb_t cb,
		   void *data)
{
	unsigned portid = mnl_socket_get_portid(nl);
	int r;

	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t n = mnl_socket_recvfrom(nl, buf, NETDEV_NL_BUF);

		if (n < 0 && errno == EINTR) {
			r = MNL_CB_OK;
			continue;
		}
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : errno == ENOSPC ? -EMSGSIZE : -errno;
		r = mnl_cb_run(buf, (size_t)n, req->nlmsg_seq, portid, cb, data);
	} while (r > MNL_CB_STOP || (r < 0 && errno == EPROTO));
	return r < 0 ? -(errno ? errno : EIO) : 0;
}

static void parse_link(const struct nlmsghdr *nh, struct veth *v, bool *is_veth)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nh);
	bool has_peer = false, has_nsid = false, veth = false;
	struct nlattr *a, *i;

	memset(v, 0, sizeof(*v));
	*is_veth = false;
	if (mnl_nlmsg_get_payload_len(nh) < sizeof(*ifi))
		return;
	v->ifindex = (uint32_t)ifi->ifi_index;
	mnl_attr_for_each(a, nh, sizeof(*ifi)) {
		size_t alen = mnl_attr_get_payload_len(a);

		switch (mnl_attr_get_type(a)) {
		case IFLA_IFNAME:
			event_copy_str(v->ifname, sizeof(v->ifname), mnl_attr_get_payload(a), alen);
			break;
		case IFLA_LINK:
			has_peer = alen >= sizeof(uint32_t);
			break;
		case IFLA_LINK_NETNSID:
			if (alen >= sizeof(int32_t)) {
				v->peer_nsid = (int32_t)mnl_attr_get_u32(a);
				has_nsid = v->peer_nsid >= 0;
			}
			break;
		case IFLA_LINKINFO:
			mnl_attr_for_each_nested(i, a) {
				const char *kind = mnl_attr_get_payload(i);
				size_t klen = mnl_attr_get_payload_len(i);

				if (mnl_attr_get_type(i) == IFLA_INFO_KIND && klen >= 4 &&
				    memcmp(kind, "veth", 4) == 0 && (klen == 4 || kind[4] == '\0'))
					veth = true;
			}
			break;
		}
	}
	*is_veth = veth && has_peer && has_nsid && v->ifname[0];
}

struct veth_dump {
	struct veth *v;
	size_t n, seen;
};

static int on_link(const struct nlmsghdr *nh, void *data)
{
	struct veth_dump *d = data;
	struct veth one;
	bool is_veth;

	if (nh->nlmsg_type != RTM_NEWLINK || ++d->seen > NETDEV_LINKS_MAX)
		return MNL_CB_OK;
	parse_link(nh, &one, &is_veth);
	if (!is_veth)
		return MNL_CB_OK;
	if (!(d->n & (d->n + 1))) { /* grow at 0, 1, 3, 7, ... entries */
		struct veth *p = realloc(d->v, (2 * d->n + 1) * sizeof(*d->v));

		if (!p) {
			errno = ENOMEM;
			return MNL_CB_ERROR;
		}
		d->v = p;
	}
	d->v[d->n++] = one;
	return MNL_CB_OK;
}

/* Host veths whose peers live in other namespaces. Dumping also makes the
 * kernel assign those namespaces ids in ours, which RTM_GETNSID reads. A
 * dump the kernel interrupted (links changed meanwhile) is taken again. */
static int dump_veths(struct mnl_socket *nl, char *buf, struct veth **ret, size_t *ret_n)
{
	char req[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ifinfomsg))] __attribute__((aligned(8)));
	struct veth_dump d = { 0 };
	int r = -EINTR;

	for (unsigned attempt = 1; r == -EINTR && attempt <= 3; attempt++) {
		struct nlmsghdr *nh = mnl_nlmsg_put_header(req);
		struct ifinfomsg *ifi;

		nh->nlmsg_type = RTM_GETLINK;
		nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		nh->nlmsg_seq = attempt;
		ifi = mnl_nlmsg_put_extra_header(nh, sizeof(*ifi));
		ifi->ifi_family = AF_UNSPEC;
		d.n = d.seen = 0;
		r = nl_talk(nl, buf, nh, on_link, &d);
	}
	if (r < 0) {
		free(d.v);
		return r;
	}
	*ret = d.v;
	*ret_n = d.n;
	return 0;
}

static int on_nsid(const struct nlmsghdr *nh, void *data)
{
	int32_t *id = data;
	struct nlattr *a;

	if (nh->nlmsg_type != RTM_NEWNSID)
		return MNL_CB_STOP;
	mnl_attr_for_each(a, nh, sizeof(struct rtgenmsg)) {
		if (mnl_attr_get_type(a) == NETNSA_NSID &&
		    mnl_attr_get_payload_len(a) >= sizeof(int32_t)) {
			*id = (int32_t)mnl_attr_get_u32(a);
			break;
		}
	}
	return MNL_CB_STOP; /* the one answer */
}

/* The id our namespace knows another one by, or -1 if it has none. */
static int32_t netns_id(struct mnl_socket *nl, char *buf, int ns_fd, uint32_t seq)
{
	char req[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct rtgenmsg)) + MNL_ATTR_HDRLEN +
		 MNL_ALIGN(sizeof(uint32_t))] __attribute__((aligned(8)));
	struct nlmsghdr *nh = mnl_nlmsg_put_header(req);
	struct rtgenmsg *g;
	int32_t id = -1;

	nh->nlmsg_type = RTM_GETNSID;
	nh->nlmsg_flags = NLM_F_REQUEST;
	nh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nh, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	mnl_attr_put_u32(nh, NETNSA_FD, (uint32_t)ns_fd);
	return nl_talk(nl, buf, nh, on_nsid, &id) < 0 ? -1 : id;
}

static int cmp_proc_ns(const void *a, const void *b)
{
	const struct proc_ns *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Every process's network namespace, sorted so a namespace's processes
 * are adjacent. */
static int scan_procs(const char *proc_root, struct proc_ns **ret, size_t *ret_n)
{
	struct proc_ns *p = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(proc_root);

	if (!d)
		return -errno;
	while ((de = readdir(d)) && n < NETDEV_PROCS_MAX) {
		char path[PATH_MAX + 32];
		struct stat st;
		char *end;
		unsigned long pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = strtoul(de->d_name, &end, 10);
		if (*end || pid == 0 || pid > UINT32_MAX)
			continue;
		snprintf(path, sizeof(path), "%s/%lu/ns/net", proc_root, pid);
		if (stat(path, &st) < 0)
			continue; /* gone, or a kernel thread's we may not see */
		if (n == cap) {
			size_t c = cap ? cap * 2 : 256;
			struct proc_ns *q = realloc(p, c * sizeof(*p));

			if (!q) {
				free(p);
				closedir(d);
				return -ENOMEM;
			}
			p = q;
			cap = c;
		}
		p[n].ino = st.st_ino;
		p[n].pid = (uint32_t)pid;
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(p, n, sizeof(*p), cmp_proc_ns);
	*ret = p;
	*ret_n = n;
	return 0;
}

/* A handle on the namespace of one of its n processes: any will do, and
 * the first ones (lowest pids) are often short-lived children after the
 * pid counter wrapped, so each is tried until one is still there. */
static int open_netns(const char *proc_root, const struct proc_ns *procs, size_t n)
{
	char path[PATH_MAX + 32];

	for (size_t k = 0; k < n; k++) {
		struct stat st;
		int fd;

		snprintf(path, sizeof(path), "%s/%u/ns/net", proc_root, procs[k].pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue; /* exited since the scan */
		/* The pid may have been reused by a process of another
		 * namespace since the scan. */
		if (fstat(fd, &st) == 0 && (uint64_t)st.st_ino == procs[k].ino)
			return fd;
		close(fd);
	}
	return -1;
}

static void keep_reason(struct netdev_list *l, const char *why)
{
	if (why && !l->reason[0])
		snprintf(l->reason, sizeof(l->reason), "%s", why);
}

/* Name the containers of one namespace's processes; false if none is a
 * container. */
static bool name_entry(struct container_resolver *r, struct netdev_list *l, struct netdev_entry *e,
		       const struct proc_ns *procs, size_t n)
{
	const char *first = NULL;
	size_t off = 0;

	for (size_t i = 0; i < n; i++) {
		struct cgroup_identity id;
		const struct container_info *info = NULL;
		struct netdev_container *c;
		const char *why = NULL;
		bool dup = false;

		if (e->n_pids < NETDEV_PIDS_MAX)
			e->pids[e->n_pids] = procs[i].pid;
		e->n_pids++;
		if (container_identify_pid(r, procs[i].pid, &id) < 0 ||
		    id.runtime == CONTAINER_RUNTIME_SYSTEMD || (id.flags & CGROUP_F_MONITOR))
			continue;
		for (unsigned k = 0; k < e->n_containers; k++)
			dup |= strcmp(e->containers[k].id, id.id) == 0;
		if (dup || e->n_containers == NETDEV_CONTAINERS_MAX)
			continue;
		c = &e->containers[e->n_containers++];
		snprintf(c->id, sizeof(c->id), "%s", id.id);
		snprintf(c->runtime, sizeof(c->runtime), "%s", container_runtime_name(id.runtime));
		if (container_lookup(r, &id, &info, &why) < 0) {
			keep_reason(l, why);
			continue;
		}
		snprintf(c->name, sizeof(c->name), "%s", info->name);
		snprintf(c->image, sizeof(c->image), "%s", info->image);
		snprintf(c->runtime, sizeof(c->runtime), "%s",
			 container_runtime_name(info->runtime));
		c->sandbox = info->sandbox;
		if (!e->pod[0] && info->pod[0]) {
			snprintf(e->pod, sizeof(e->pod), "%s", info->pod);
			snprintf(e->namespace_, sizeof(e->namespace_), "%s", info->namespace_);
		}
	}
	if (!e->n_containers)
		return false;
	if (e->pod[0]) {
		snprintf(e->name, sizeof(e->name), "%s", e->pod);
		/* Unique on the host: namespaces are DNS labels, without dots. */
		if (e->namespace_[0])
			snprintf(e->key, sizeof(e->key), "%s.%s", e->namespace_, e->pod);
		else
			snprintf(e->key, sizeof(e->key), "%s", e->pod);
		if (e->namespace_[0])
			snprintf(e->display, sizeof(e->display), "Pod %s, Namespace %s", e->pod,
				 e->namespace_);
		else
			snprintf(e->display, sizeof(e->display), "Pod %s", e->pod);
		return true;
	}
	/* Containers sharing one namespace (docker --network container:X)
	 * are listed together; the sandbox of a pod-less runtime is not. */
	off = (size_t)snprintf(e->display, sizeof(e->display), "Container ");
	for (unsigned k = 0; k < e->n_containers; k++) {
		const struct netdev_container *c = &e->containers[k];
		char shortid[NETDEV_ID_PREFIX_MIN + 1];
		const char *label = c->name;

		if (c->sandbox && e->n_containers > 1)
			continue;
		if (!label[0]) {
			snprintf(shortid, sizeof(shortid), "%s", c->id);
			label = shortid;
		}
		if (!first)
			first = c->name[0] ? c->name : c->id;
		if (off < sizeof(e->display))
			off += (size_t)snprintf(e->display + off, sizeof(e->display) - off, "%s%s",
						off > strlen("Container ") ? ", " : "", label);
	}
	snprintf(e->name, sizeof(e->name), "%s", first ? first : e->containers[0].id);
	snprintf(e->key, sizeof(e->key), "%s", e->name);
	return true;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct netdev_entry *x = a, *y = b;
	int c = strcmp(x->display, y->display);

	return c ? c : strcmp(x->ifname, y->ifname);
}

int netdev_list_containers(struct container_resolver *r, struct netdev_list **ret,
			   const char **ret_reason)
{
	const char *proc_root = container_resolver_proc_root(r);
	struct netdev_list *l;
	struct veth *veths = NULL;
	struct proc_ns *procs = NULL;
	size_t n_veths = 0, n_procs = 0, cap = 0, n_netns = 0;
	struct stat self;
	char path[PATH_MAX + 32];
	char *buf = NULL;
	uint32_t seq = 4; /* 1 to 3: the link dump's attempts */
	struct mnl_socket *nl = NULL;
	int e;

	if (ret_reason)
		*ret_reason = NULL;
	l = calloc(1, sizeof(*l));
	buf = malloc(NETDEV_NL_BUF);
	if (!l || !buf) {
		e = -ENOMEM;
		goto fail;
	}
	nl = nl_open();
	if (!nl) {
		e = -errno;
		goto fail;
	}
	e = dump_veths(nl, buf, &veths, &n_veths);
	if (e < 0)
		goto fail;
	if (n_veths == 0)
		goto done; /* no veth reaches another namespace: nothing to scan */
	snprintf(path, sizeof(path), "%s/self/ns/net", proc_root);
	if (stat(path, &self) < 0)
		self.st_ino = 0;
	e = scan_procs(proc_root, &procs, &n_procs);
	if (e < 0)
		goto fail;
	{
		const char *why = NULL;

		/* One list request names every Docker container at once. */
		if (container_resolver_prime(r, &why) < 0)
			keep_reason(l, why);
	}
	for (size_t i = 0; i < n_procs && n_netns < NETDEV_NETNS_MAX;) {
		size_t j = i;
		struct netdev_entry *ent;
		const struct veth *v = NULL;
		int32_t nsid;
		int fd;

		while (j < n_procs && procs[j].ino == procs[i].ino)
			j++;
		if (procs[i].ino == (uint64_t)self.st_ino)
			goto next;
		n_netns++;
		fd = open_netns(proc_root, procs + i, j - i);
		if (fd < 0)
			goto next; /* all of them exited since the scan */
		nsid = netns_id(nl, buf, fd, seq++);
		close(fd);
		if (nsid < 0)
			goto next;
		/* A pod or container with several veths is listed once, by
		 * the first (lowest ifindex: usually its primary network). */
		for (size_t k = 0; k < n_veths; k++)
			if (veths[k].peer_nsid == nsid && (!v || veths[k].ifindex < v->ifindex))
				v = &veths[k];
		if (!v)
			goto next;
		if (l->count == cap) {
			size_t c = cap ? cap * 2 : 16;
			struct netdev_entry *p = realloc(l->entries, c * sizeof(*p));

			if (!p) {
				e = -ENOMEM;
				goto fail;
			}
			l->entries = p;
			cap = c;
		}
		ent = &l->entries[l->count];
		memset(ent, 0, sizeof(*ent));
		snprintf(ent->ifname, sizeof(ent->ifname), "%s", v->ifname);
		ent->ifindex = v->ifindex;
		ent->netns = (uint32_t)procs[i].ino;
		if (name_entry(r, l, ent, procs + i, j - i))
			l->count++;
	next:
		i = j;
	}
	/* No entries: no array at all, and qsort() must not see NULL. */
	if (l->count > 1)
		qsort(l->entries, l->count, sizeof(*l->entries), cmp_entry);
done:
	free(veths);
	free(procs);
	free(buf);
	mnl_socket_close(nl);
	if (ret_reason && l->reason[0])
		*ret_reason = l->reason;
	*ret = l;
	return 0;
fail:
	free(veths);
	free(procs);
	free(buf);
	if (nl)
		mnl_socket_close(nl);
	netdev_list_free(l);
	return e;
}

struct netdev_list *netdev_list_free(struct netdev_list *l)
{
	if (l) {
		free(l->entries);
		free(l);
	}
	return NULL;
}

/* How well name names e: 2 for its key (what the interface list offers),
 * 1 for any other of its names, 0 for none. */
static int entry_named(const struct netdev_entry *e, const char *name, size_t len)
{
	char buf[2 * EVENT_NAME_MAX + 2];

	if (len == 0)
		return 0;
	if (strlen(e->key) == len && memcmp(e->key, name, len) == 0)
		return 2;
	if ((strlen(e->name) == len && memcmp(e->name, name, len) == 0) ||
	    (strlen(e->display) == len && memcmp(e->display, name, len) == 0))
		return 1;
	if (e->pod[0]) {
		snprintf(buf, sizeof(buf), "%s/%s", e->namespace_, e->pod);
		if (strlen(buf) == len && memcmp(buf, name, len) == 0)
			return 1;
	}
	for (unsigned k = 0; k < e->n_containers; k++) {
		const struct netdev_container *c = &e->containers[k];

		if (strlen(c->name) == len && memcmp(c->name, name, len) == 0)
			return 1;
		if (len >= NETDEV_ID_PREFIX_MIN && len <= strlen(c->id) &&
		    memcmp(c->id, name, len) == 0)
			return 1;
	}
	return 0;
}

static bool entry_ifname(const struct netdev_entry *e, const char *ifname, size_t len)
{
	return len && strlen(e->ifname) == len && memcmp(e->ifname, ifname, len) == 0;
}

const struct netdev_entry *netdev_find(const struct netdev_list *l, const char *spec)
{
	const char *at, *name = spec;
	const struct netdev_entry *best = NULL;
	size_t if_len, name_len;
	int best_score = 0;
	bool tie = false;

	if (!l || !spec)
		return NULL;
	if (strncmp(spec, NETDEV_VALUE_PREFIX, strlen(NETDEV_VALUE_PREFIX)) == 0)
		spec += strlen(NETDEV_VALUE_PREFIX);
	name = spec;
	at = strchr(spec, '@');
	if (at)
		name = at + 1;
	name_len = strlen(name);
	if_len = at ? (size_t)(at - spec) : strlen(spec);
	/* Among the entries the name fits, the one on the given veth wins:
	 * two pods of one name in two namespaces, or a container named like
	 * a pod, are told apart by it. */
	for (size_t i = 0; i < l->count; i++) {
		const struct netdev_entry *e = &l->entries[i];
		int score = entry_named(e, name, name_len);

		if (score && at && entry_ifname(e, spec, if_len))
			return e;
		if (score > best_score) {
			best = e;
			best_score = score;
			tie = false;
		} else if (score && score == best_score) {
			tie = true;
		}
	}
	if (best)
		return tie ? NULL : best; /* ambiguous: never guess */
	for (size_t i = 0; i < l->count; i++)
		if (entry_ifname(&l->entries[i], spec, if_len))
			return &l->entries[i];
	return NULL;
}

/* The one pod with that name in that namespace (any namespace when ns is
 * NULL), else NULL: none, or several of that name. */
static const struct netdev_entry *find_pod_in(const struct netdev_list *l, const char *ns,
					      size_t ns_len, const char *pod, size_t pod_len)
{
	const struct netdev_entry *found = NULL;

	for (size_t i = 0; l && i < l->count; i++) {
		const struct netdev_entry *e = &l->entries[i];

		if (!e->pod[0] || strlen(e->pod) != pod_len || memcmp(e->pod, pod, pod_len) != 0)
			continue;
		if (ns && (strlen(e->namespace_) != ns_len || memcmp(e->namespace_, ns, ns_len) != 0))
			continue;
		if (found)
			return NULL;
		found = e;
	}
	return found;
}

const struct netdev_entry *netdev_find_pod(const struct netdev_list *l, const char *spec)
{
	const char *slash = strchr(spec, '/'), *dot = strrchr(spec, '.');
	const struct netdev_entry *e;

	if (slash)
		return find_pod_in(l, spec, (size_t)(slash - spec), slash + 1, strlen(slash + 1));
	e = find_pod_in(l, NULL, 0, spec, strlen(spec));
	if (!e && dot)
		e = find_pod_in(l, dot + 1, strlen(dot + 1), spec, (size_t)(dot - spec));
	return e;
}

int netdev_resolve(struct container_resolver *r, const char *spec, bool pod,
		   struct netdev_entry *ret, char reason[CONTAINER_REASON_MAX])
{
	struct container_resolver *own = NULL;
	struct netdev_list *l = NULL;
	const struct netdev_entry *e;
	const char *why = NULL;
	int err;

	if (reason)
		reason[0] = '\0';
	if (!r) {
		err = container_resolver_new(NULL, &own);
		if (err < 0)
			return err;
		r = own;
	}
	err = netdev_list_containers(r, &l, &why);
	if (err == 0) {
		e = pod ? netdev_find_pod(l, spec) : netdev_find(l, spec);
		if (e)
			*ret = *e;
		else
			err = -ENODEV;
	}
	if (reason && why)
		snprintf(reason, CONTAINER_REASON_MAX, "%s", why);
	netdev_list_free(l);
	container_resolver_free(own);
	return err;
}
