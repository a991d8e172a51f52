/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snapshot_take(): namespaces and socket owners from /proc, sockets from
 * sock_diag in every namespace, one TCP_Open/UDP_Open event per socket. */
#define _GNU_SOURCE /* setns() and CLONE_NEWNET */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "snapshot/idmap.h"
#include "snapshot/snapshot.h"
#include "util/clock.h"

/* TCP states as the kernel numbers them (include/net/tcp_states.h); they
 * are ABI through inet_diag's idiag_state and idiag_states. */
enum {
	SNAP_TCP_ESTABLISHED = 1,
	SNAP_TCP_SYN_SENT = 2,
	SNAP_TCP_SYN_RECV = 3,
	SNAP_TCP_FIN_WAIT1 = 4,
	SNAP_TCP_FIN_WAIT2 = 5,
	SNAP_TCP_TIME_WAIT = 6,
	SNAP_TCP_CLOSE = 7,
	SNAP_TCP_CLOSE_WAIT = 8,
	SNAP_TCP_LAST_ACK = 9,
	SNAP_TCP_LISTEN = 10,
	SNAP_TCP_CLOSING = 11,
};

/* TCP states of a connection that a process can still own. SYN_RECV and
 * TIME_WAIT are left out on purpose: they are request and timewait
 * mini-sockets that no file descriptor refers to. */
#define TCP_OPEN_STATES                                                                            \
	((1u << SNAP_TCP_ESTABLISHED) | (1u << SNAP_TCP_SYN_SENT) | (1u << SNAP_TCP_FIN_WAIT1) |   \
	 (1u << SNAP_TCP_FIN_WAIT2) | (1u << SNAP_TCP_CLOSE_WAIT) | (1u << SNAP_TCP_LAST_ACK) |    \
	 (1u << SNAP_TCP_CLOSING))
/* Every UDP socket in the kernel's tables is bound; connected ones are
 * ESTABLISHED, the others CLOSE. */
#define UDP_OPEN_STATES ((1u << SNAP_TCP_ESTABLISHED) | (1u << SNAP_TCP_CLOSE))

/* One netlink read. The kernel sizes dump messages to the reader's buffer
 * but never above 32 KiB, so twice that cannot be truncated. */
#define DIAG_BUF_SIZE (64u << 10)
/* Longest link target we need: "socket:[" + 20 digits + "]". */
#define FD_LINK_MAX 40
/* Reads of /proc/<pid>/stat and status: comm, ppid, Uid and Gid all come
 * before this many bytes (the Groups line that can be long comes after). */
#define PROC_READ_MAX 4096
/* "/proc/<pid>/ns/net" or "/run/netns/<name>". */
#define NETNS_PATH_MAX (sizeof("/run/netns/") + 256)
/* The time budget is checked every this many fds inside one process. */
#define FDS_PER_TIME_CHECK 1024u

/* The inode → pid map keeps "several processes" in the value's top bit;
 * pids are below 2^22. */
#define INODE_SHARED (1u << 31)

/* stats.reason holds one line; what matters most to the user wins, and
 * among equals the first, which is usually the cause of what follows. */
enum reason_rank {
	REASON_ACCESS = 1, /* a process whose fds we may not read */
	REASON_NETNS,	   /* one namespace could not be entered or dumped */
	REASON_LIMIT,	   /* a named limit cut the snapshot short */
	REASON_TIME,	   /* the time budget did */
	REASON_FAILED,	   /* the snapshot failed: always shown */
};

struct netns_ref {
	uint64_t ino;
	char path[NETNS_PATH_MAX];
};

struct proc_info {
	bool valid; /* false: the process vanished before it was read */
	bool has_pcomm;
	uint32_t pid, ppid, uid, gid;
	char comm[EVENT_COMM_MAX + 1];
	char pcomm[EVENT_COMM_MAX + 1];
};

struct take {
	struct snapshot_config cfg; /* limits resolved */
	snapshot_event_fn fn;
	void *ctx;
	struct snapshot_stats *st;
	uint64_t start_mono_ns, deadline_mono_ns;
	uint32_t seq;		      /* of events */
	uint32_t req_seq;	      /* of netlink requests */
	bool stopped;		      /* the callback said stop */
	enum reason_rank reason_rank; /* of stats.reason; 0 while empty */
	int proc_fd;
	int own_netns_fd;
	uint64_t own_netns_ino;
	dev_t nsfs_dev;
	struct netns_ref *netns;
	uint32_t n_netns, cap_netns;
	struct idmap netns_seen;  /* namespace inodes met so far */
	struct idmap inode_owner; /* socket inode → pid | INODE_SHARED */
	struct idmap proc_index;  /* pid → index into procs */
	struct proc_info *procs;
	uint32_t n_procs, cap_procs;
	uint8_t *buf;
	struct event ev;
};

static void set_reason(struct take *t, enum reason_rank rank, const char *fmt, ...)
{
	va_list ap;

	if (rank < t->reason_rank || (rank == t->reason_rank && rank != REASON_FAILED))
		return;
	t->reason_rank = rank;
	va_start(ap, fmt);
	vsnprintf(t->st->reason, sizeof(t->st->reason), fmt, ap);
	va_end(ap);
}

static bool out_of_time(struct take *t)
{
	if (t->st->out_of_time)
		return true;
	if (clock_ns(CLOCK_MONOTONIC) < t->deadline_mono_ns)
		return false;
	t->st->out_of_time = true;
	set_reason(t, REASON_TIME, "time budget of %u ms used up; the snapshot is partial",
		   t->cfg.time_budget_ms);
	return true;
}

static int resolve_config(const struct snapshot_config *in, struct snapshot_config *out)
{
	const uint32_t known =
		(1u << EVENT_TCP_OPEN) | (1u << EVENT_UDP_OPEN) | (1u << EVENT_TCP_LISTEN);

	if (in)
		*out = *in;
	else
		memset(out, 0, sizeof(*out));
	if (out->event_mask & ~known)
		return -EINVAL;
	if (out->max_sockets > SNAPSHOT_SOCKETS_LIMIT || out->max_inodes > SNAPSHOT_INODES_LIMIT ||
	    out->max_processes > SNAPSHOT_PROCESSES_LIMIT ||
	    out->max_netns > SNAPSHOT_NETNS_LIMIT ||
	    out->time_budget_ms > SNAPSHOT_TIME_BUDGET_LIMIT_MS)
		return -EINVAL;
	if (!out->event_mask)
		out->event_mask = (1u << EVENT_TCP_OPEN) | (1u << EVENT_UDP_OPEN);
	if (!out->max_sockets)
		out->max_sockets = SNAPSHOT_SOCKETS_DEFAULT;
	if (!out->max_inodes)
		out->max_inodes = SNAPSHOT_INODES_DEFAULT;
	if (!out->max_processes)
		out->max_processes = SNAPSHOT_PROCESSES_DEFAULT;
	if (!out->max_netns)
		out->max_netns = SNAPSHOT_NETNS_DEFAULT;
	if (!out->time_budget_ms)
		out->time_budget_ms = SNAPSHOT_TIME_BUDGET_DEFAULT_MS;
	return 0;
}

/* ---- network namespaces ------------------------------------------------ */

/* Remember a namespace once; the first path that reached it is kept. */
static int netns_add(struct take *t, const struct stat *st, const char *path)
{
	uint32_t *seen;
	bool is_new;
	int r;

	/* Every namespace file lives on the one nsfs; anything else (a stale
	 * file left in /run/netns) is not a namespace. */
	if (st->st_dev != t->nsfs_dev)
		return 0;
	/* Called once per process: a map, not a search of the list. */
	r = idmap_upsert(&t->netns_seen, (uint64_t)st->st_ino, &seen, &is_new);
	if (r < 0)
		return r;
	if (!is_new)
		return 0;
	t->st->netns_found++;
	if (t->n_netns >= t->cfg.max_netns) {
		t->st->netns_skipped++;
		set_reason(t, REASON_LIMIT,
			   "more than %u network namespaces; the rest were skipped",
			   t->cfg.max_netns);
		return 0;
	}
	if (t->n_netns == t->cap_netns) {
		uint32_t cap = t->cap_netns ? t->cap_netns * 2 : 16;
		struct netns_ref *n = realloc(t->netns, (size_t)cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->netns = n;
		t->cap_netns = cap;
	}
	t->netns[t->n_netns].ino = (uint64_t)st->st_ino;
	snprintf(t->netns[t->n_netns].path, NETNS_PATH_MAX, "%s", path);
	t->n_netns++;
	return 0;
}

/* Namespaces kept alive by `ip netns add` may hold no process at all. */
static int netns_scan_named(struct take *t)
{
	char path[NETNS_PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int r = 0;

	d = opendir("/run/netns");
	if (!d)
		return 0; /* none named: normal */
	while (r == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0)
			continue;
		if (snprintf(path, sizeof(path), "/run/netns/%s", de->d_name) >= (int)sizeof(path))
			continue;
		r = netns_add(t, &st, path);
	}
	closedir(d);
	return r;
}

/* ---- processes: socket fds, owners ------------------------------------ */

/* "socket:[12345]" → 12345; 0 for any other link. */
static uint64_t socket_inode(const char *link, ssize_t len)
{
	static const char prefix[] = "socket:[";
	uint64_t ino = 0;
	ssize_t i;

	if (len < (ssize_t)sizeof(prefix) || memcmp(link, prefix, sizeof(prefix) - 1) != 0)
		return 0;
	for (i = sizeof(prefix) - 1; i < len && link[i] >= '0' && link[i] <= '9'; i++) {
		if (ino > (UINT64_MAX - 9) / 10)
			return 0;
		ino = ino * 10 + (uint64_t)(link[i] - '0');
	}
	return i + 1 == len && link[i] == ']' ? ino : 0;
}

static int inode_note_owner(struct take *t, uint64_t ino, uint32_t pid)
{
	uint32_t *v;
	bool is_new;
	int r;

	v = idmap_find(&t->inode_owner, ino);
	if (!v) {
		if (t->inode_owner.count >= t->cfg.max_inodes) {
			t->st->inodes_skipped++;
			set_reason(t, REASON_LIMIT,
				   "more than %u socket inodes; owners of the rest are unknown",
				   t->cfg.max_inodes);
			return 0;
		}
		r = idmap_upsert(&t->inode_owner, ino, &v, &is_new);
		if (r < 0)
			return r;
		*v = pid;
		return 0;
	}
	if ((*v & ~INODE_SHARED) == pid)
		return 0; /* the same socket twice in one fd table (dup) */
	/* Shared (fork, SCM_RIGHTS): the lowest pid is usually the parent
	 * that opened it; whichever, the choice is stable between runs. */
	if (pid < (*v & ~INODE_SHARED))
		*v = pid;
	*v |= INODE_SHARED;
	return 0;
}

/* Every socket fd of one process. Threads normally share the fd table,
 * so the process's directory covers them. */
static int scan_fds(struct take *t, uint32_t pid)
{
	char path[32], link[FD_LINK_MAX];
	struct dirent *de;
	uint32_t n = 0;
	DIR *d;
	int fd, r = 0;

	snprintf(path, sizeof(path), "%u/fd", pid);
	fd = openat(t->proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == EACCES || errno == EPERM) {
			t->st->processes_denied++;
			set_reason(t, REASON_ACCESS, "cannot read /proc/%u/fd: %s", pid,
				   strerror(errno));
		} else {
			t->st->processes_vanished++;
		}
		return 0;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return errno == ENOMEM ? -ENOMEM : 0;
	}
	while (r == 0 && (de = readdir(d))) {
		ssize_t len;
		uint64_t ino;

		if (de->d_name[0] == '.')
			continue;
		if (++n % FDS_PER_TIME_CHECK == 0 && out_of_time(t))
			break;
		/* A closed fd or an exited process makes the link vanish: skip. */
		len = readlinkat(fd, de->d_name, link, sizeof(link));
		if (len < 0 && (errno == EACCES || errno == EPERM)) {
			/* Listing allowed, links not (a hardened or
			 * non-dumpable process): its sockets stay unowned. */
			t->st->processes_denied++;
			set_reason(t, REASON_ACCESS, "cannot read the fds of process %u: %s", pid,
				   strerror(errno));
			break;
		}
		if (len <= 0 || len >= (ssize_t)sizeof(link))
			continue;
		ino = socket_inode(link, len);
		if (!ino)
			continue;
		t->st->socket_fds++;
		r = inode_note_owner(t, ino, pid);
	}
	closedir(d);
	return r;
}

/* One pass over /proc: the namespace of every process and its sockets. */
static int scan_processes(struct take *t)
{
	char path[NETNS_PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, r = 0;

	fd = openat(t->proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	while (r == 0 && (de = readdir(d))) {
		char *end;
		unsigned long pid;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		errno = 0;
		pid = strtoul(de->d_name, &end, 10);
		if (*end || errno || pid > INT32_MAX)
			continue;
		if (t->st->processes_scanned >= t->cfg.max_processes || out_of_time(t)) {
			if (t->st->processes_skipped++ == 0 && !t->st->out_of_time)
				set_reason(t, REASON_LIMIT,
					   "more than %u processes; the rest were not scanned",
					   t->cfg.max_processes);
			continue;
		}
		t->st->processes_scanned++;
		if (!t->cfg.host_netns_only) {
			snprintf(path, sizeof(path), "%lu/ns/net", pid);
			if (fstatat(t->proc_fd, path, &st, 0) == 0) {
				snprintf(path, sizeof(path), "/proc/%lu/ns/net", pid);
				r = netns_add(t, &st, path);
				if (r < 0)
					break;
			}
		}
		r = scan_fds(t, (uint32_t)pid);
	}
	closedir(d);
	return r;
}

/* Read at most size - 1 bytes of /proc/<pid>/<name>, NUL-terminated. */
static ssize_t proc_read(struct take *t, uint32_t pid, const char *name, char *buf, size_t size)
{
	char path[48];
	ssize_t n, total = 0;
	int fd;

	snprintf(path, sizeof(path), "%u/%s", pid, name);
	fd = openat(t->proc_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((size_t)total < size - 1) {
		n = read(fd, buf + total, size - 1 - (size_t)total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += n;
	}
	close(fd);
	buf[total] = '\0';
	return total;
}

/* comm and ppid from "pid (comm) state ppid ...": comm may hold spaces
 * and parentheses, so it ends at the last ')'. */
static bool parse_stat(const char *buf, struct proc_info *p)
{
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	unsigned long ppid;
	char state;

	if (!open || !close || close < open)
		return false;
	event_copy_str(p->comm, sizeof(p->comm), open + 1, (size_t)(close - open - 1));
	if (sscanf(close + 1, " %c %lu", &state, &ppid) != 2 || ppid > UINT32_MAX)
		return false;
	p->ppid = (uint32_t)ppid;
	return true;
}

/* The real uid or gid: the first of the four ids on "Uid:" / "Gid:", as
 * the kernel probe reports (bpf_get_current_uid_gid). */
static bool parse_status_id(const char *buf, const char *key, uint32_t *ret)
{
	const char *line = buf;
	size_t klen = strlen(key);
	unsigned long v;

	while (line && *line) {
		if (strncmp(line, key, klen) == 0) {
			if (sscanf(line + klen, " %lu", &v) != 1 || v > UINT32_MAX)
				return false;
			*ret = (uint32_t)v;
			return true;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return false;
}

static void proc_load(struct take *t, struct proc_info *p)
{
	char buf[PROC_READ_MAX];
	ssize_t n;

	if (proc_read(t, p->pid, "stat", buf, sizeof(buf)) <= 0 || !parse_stat(buf, p))
		return;
	if (proc_read(t, p->pid, "status", buf, sizeof(buf)) <= 0 ||
	    !parse_status_id(buf, "Uid:", &p->uid) || !parse_status_id(buf, "Gid:", &p->gid))
		return;
	p->valid = true;
	/* pid 1 and kernel threads have ppid 0: no parent to name. */
	if (p->ppid) {
		n = proc_read(t, p->ppid, "comm", buf, sizeof(buf));
		if (n > 0) {
			if (buf[n - 1] == '\n')
				buf[--n] = '\0';
			event_copy_str(p->pcomm, sizeof(p->pcomm), buf, (size_t)n);
			p->has_pcomm = true;
		}
	}
}

/* The identity of pid, read once per snapshot. NULL: gone, or no memory. */
static const struct proc_info *proc_get(struct take *t, uint32_t pid)
{
	struct proc_info *p;
	uint32_t *slot;
	bool is_new;

	slot = idmap_find(&t->proc_index, pid);
	if (slot)
		return t->procs[*slot].valid ? &t->procs[*slot] : NULL;
	if (t->n_procs == t->cap_procs) {
		uint32_t cap = t->cap_procs ? t->cap_procs * 2 : 64;
		struct proc_info *n = realloc(t->procs, (size_t)cap * sizeof(*n));

		if (!n)
			return NULL;
		t->procs = n;
		t->cap_procs = cap;
	}
	if (idmap_upsert(&t->proc_index, pid, &slot, &is_new) < 0)
		return NULL;
	*slot = t->n_procs;
	p = &t->procs[t->n_procs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	proc_load(t, p);
	return p->valid ? p : NULL;
}

/* ---- sock_diag -------------------------------------------------------- */

/* A NETLINK_SOCK_DIAG socket inside the namespace. The socket keeps the
 * namespace it was created in, so the thread leaves it again at once:
 * nothing else (callback, /proc reads) ever runs in a foreign namespace.
 * Returns the socket, a negative errno for this namespace only, or
 * -ENOTRECOVERABLE (with *fatal_errno) when the way back failed. */
static int diag_socket_in(struct take *t, const struct netns_ref *n, int *fatal_errno)
{
	struct stat st;
	int fd, sk, err, r;

	if (n->ino == t->own_netns_ino) {
		sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
		return sk >= 0 ? sk : -errno;
	}
	fd = open(n->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* The process that showed us this namespace may be gone and its pid
	 * reused by one in another namespace. */
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_ino != n->ino) {
		close(fd);
		return -ESTALE;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	close(fd);
	sk = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	err = sk < 0 ? -errno : 0;
	if (setns(t->own_netns_fd, CLONE_NEWNET) < 0) {
		*fatal_errno = errno;
		if (sk >= 0)
			close(sk);
		return -ENOTRECOVERABLE;
	}
	return sk >= 0 ? sk : err;
}

static bool addr_is_v4mapped(const uint8_t a[16])
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

#define TCPI_HAS(len, field)                                                                       \
	((len) >= offsetof(struct tcp_info, field) + sizeof(((struct tcp_info *)0)->field))

/* Connection totals so far from tcp_info, as far as this kernel's struct
 * reaches (older kernels send a shorter one). bytes_sent counts payload
 * transmitted once (tcpi_bytes_sent less retransmitted bytes, 4.19+): it
 * needs no guess whether our SYN is in bytes_acked, which depends on
 * whether the connection was opened actively, unknown here. */
static void event_add_tcp_info(struct event *ev, const void *data, size_t len, uint8_t state)
{
	struct tcp_info ti;

	memset(&ti, 0, sizeof(ti));
	memcpy(&ti, data, len < sizeof(ti) ? len : sizeof(ti));
	if (TCPI_HAS(len, tcpi_bytes_retrans)) {
		ev->bytes_sent = ti.tcpi_bytes_sent >= ti.tcpi_bytes_retrans
				     ? ti.tcpi_bytes_sent - ti.tcpi_bytes_retrans
				     : 0;
		EVENT_SET(ev, ITEM_BYTES_SENT);
	} else if (TCPI_HAS(len, tcpi_bytes_acked)) {
		ev->bytes_sent = ti.tcpi_bytes_acked;
		EVENT_SET(ev, ITEM_BYTES_SENT);
	}
	if (TCPI_HAS(len, tcpi_bytes_received)) {
		/* Sequence space: the peer's FIN is in it once received. */
		ev->bytes_received = ti.tcpi_bytes_received;
		if (ev->bytes_received && (state == SNAP_TCP_CLOSE_WAIT ||
					   state == SNAP_TCP_LAST_ACK || state == SNAP_TCP_CLOSING))
			ev->bytes_received--;
		EVENT_SET(ev, ITEM_BYTES_RECEIVED);
	}
	if (TCPI_HAS(len, tcpi_total_retrans)) {
		ev->retransmits = ti.tcpi_total_retrans;
		EVENT_SET(ev, ITEM_RETRANSMITS);
	}
	if (TCPI_HAS(len, tcpi_rtt)) {
		ev->srtt_us = ti.tcpi_rtt;
		EVENT_SET(ev, ITEM_SRTT_US);
	}
}

static void event_add_owner(struct event *ev, const struct proc_info *p)
{
	ev->pid = p->pid;
	ev->tid = p->pid;
	ev->uid = p->uid;
	ev->gid = p->gid;
	ev->ppid = p->ppid;
	memcpy(ev->comm, p->comm, sizeof(p->comm));
	EVENT_SET(ev, ITEM_PID);
	EVENT_SET(ev, ITEM_TID);
	EVENT_SET(ev, ITEM_UID);
	EVENT_SET(ev, ITEM_GID);
	EVENT_SET(ev, ITEM_PPID);
	EVENT_SET(ev, ITEM_COMM);
	if (p->has_pcomm) {
		memcpy(ev->pcomm, p->pcomm, sizeof(p->pcomm));
		EVENT_SET(ev, ITEM_PCOMM);
	}
}

/* One inet_diag_msg of a dump in namespace netns → one event. */
static int diag_handle(struct take *t, const struct nlmsghdr *nlh, uint8_t family, uint8_t proto,
		       uint64_t netns)
{
	const struct inet_diag_msg *m = NLMSG_DATA(nlh);
	struct event *ev = &t->ev;
	const struct rtattr *rta;
	const struct proc_info *p = NULL;
	uint32_t *owner;
	int attr_len, r;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)) || m->idiag_family != family) {
		set_reason(t, REASON_NETNS, "malformed sock_diag message skipped");
		return 0;
	}
	/* inode 0: a TCP socket its process has closed, which the kernel is
	 * finishing (FIN_WAIT, LAST_ACK); nobody owns it any more. */
	if (!m->idiag_inode) {
		t->st->sockets_orphaned++;
		return 0;
	}
	if (t->st->tcp_reported + t->st->udp_reported >= t->cfg.max_sockets) {
		if (t->st->sockets_skipped++ == 0)
			set_reason(t, REASON_LIMIT,
				   "more than %u sockets; the rest were not reported",
				   t->cfg.max_sockets);
		return 0;
	}

	memset(ev, 0, sizeof(*ev));
	if (proto == IPPROTO_UDP)
		ev->type = EVENT_UDP_OPEN;
	else
		ev->type = m->idiag_state == SNAP_TCP_LISTEN ? EVENT_TCP_LISTEN : EVENT_TCP_OPEN;
	ev->seq = ++t->seq;
	ev->ts_ns = t->st->ts_ns;
	ev->proto = proto;
	EVENT_SET(ev, ITEM_PROTO);
	if (family == AF_INET6 && addr_is_v4mapped((const uint8_t *)m->id.idiag_src) &&
	    addr_is_v4mapped((const uint8_t *)m->id.idiag_dst)) {
		ev->family = AF_INET;
		memcpy(ev->laddr, &m->id.idiag_src[3], 4);
		memcpy(ev->raddr, &m->id.idiag_dst[3], 4);
	} else {
		ev->family = family;
		memcpy(ev->laddr, m->id.idiag_src, family == AF_INET6 ? 16 : 4);
		memcpy(ev->raddr, m->id.idiag_dst, family == AF_INET6 ? 16 : 4);
	}
	ev->lport = ntohs(m->id.idiag_sport);
	ev->rport = ntohs(m->id.idiag_dport);
	EVENT_SET(ev, ITEM_LADDR);
	EVENT_SET(ev, ITEM_RADDR);
	EVENT_SET(ev, ITEM_LPORT);
	EVENT_SET(ev, ITEM_RPORT);
	ev->netns = (uint32_t)netns;
	EVENT_SET(ev, ITEM_NETNS);
	/* The same cookie the kernel probe reads (sock_gen_cookie). */
	ev->sock_cookie = (uint64_t)m->id.idiag_cookie[0] | (uint64_t)m->id.idiag_cookie[1] << 32;
	if (ev->sock_cookie)
		EVENT_SET(ev, ITEM_SOCK_COOKIE);
	if (m->id.idiag_if) {
		ev->ifindex = m->id.idiag_if; /* bound with SO_BINDTODEVICE */
		EVENT_SET(ev, ITEM_IFINDEX);
	}

	attr_len = (int)(nlh->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	rta = (const struct rtattr *)((const char *)m + NLMSG_ALIGN(sizeof(*m)));
	if (proto == IPPROTO_TCP && m->idiag_state != SNAP_TCP_LISTEN) {
		for (; RTA_OK(rta, attr_len); rta = RTA_NEXT(rta, attr_len))
			if (rta->rta_type == INET_DIAG_INFO)
				event_add_tcp_info(ev, RTA_DATA(rta), RTA_PAYLOAD(rta),
						   m->idiag_state);
	}

	owner = idmap_find(&t->inode_owner, m->idiag_inode);
	if (owner) {
		p = proc_get(t, *owner & ~INODE_SHARED);
		if (p && (*owner & INODE_SHARED))
			t->st->sockets_shared++;
	}
	if (p) {
		event_add_owner(ev, p);
	} else {
		/* No process: the socket's own uid (its creator's) still says
		 * whose it is. */
		t->st->sockets_unowned++;
		ev->uid = m->idiag_uid;
		EVENT_SET(ev, ITEM_UID);
	}

	if (proto == IPPROTO_TCP)
		t->st->tcp_reported++;
	else
		t->st->udp_reported++;
	r = t->fn ? t->fn(ev, t->ctx) : 0;
	if (r < 0) {
		t->stopped = true;
		set_reason(t, REASON_FAILED, "stopped by the event callback: %s", strerror(-r));
		return r;
	}
	if (t->cfg.table && p) {
		r = snapshot_add(t->cfg.table, ev);
		if (r == -ENOSPC) {
			if (t->st->table_dropped++ == 0)
				set_reason(t, REASON_LIMIT,
					   "owner table full; later sockets cannot be "
					   "attributed afterwards");
		} else if (r < 0) {
			return r;
		}
	}
	return 0;
}

/* One dump (family × protocol) on sk. Returns 0, 1 when out of time, or a
 * negative errno (the callback's own value when it stopped us). */
static int diag_dump(struct take *t, int sk, uint8_t family, uint8_t proto, uint64_t netns)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg;
	uint32_t seq = ++t->req_seq;

	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	msg.nlh.nlmsg_seq = seq;
	msg.req.sdiag_family = family;
	msg.req.sdiag_protocol = proto;
	if (proto == IPPROTO_TCP) {
		msg.req.idiag_states = 0;
		if (t->cfg.event_mask & (1u << EVENT_TCP_OPEN))
			msg.req.idiag_states |= TCP_OPEN_STATES;
		if (t->cfg.event_mask & (1u << EVENT_TCP_LISTEN))
			msg.req.idiag_states |= 1u << SNAP_TCP_LISTEN;
		msg.req.idiag_ext = 1u << (INET_DIAG_INFO - 1);
	} else {
		msg.req.idiag_states = UDP_OPEN_STATES;
	}
	if (sendto(sk, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;

	for (;;) {
		struct iovec iov = { .iov_base = t->buf, .iov_len = DIAG_BUF_SIZE };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		const struct nlmsghdr *nlh;
		ssize_t n;
		int len, r;

		if (out_of_time(t))
			return 1;
		n = recvmsg(sk, &mh, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		if (mh.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		len = (int)n;
		for (nlh = (const struct nlmsghdr *)t->buf; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) {
				/* The tables changed under the dump: some
				 * sockets may be missing or doubled. */
				t->st->dumps_interrupted++;
			}
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);

				if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EBADMSG;
				if (e->error)
					return e->error < 0 ? e->error : -e->error;
				continue;
			}
			if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
				continue;
			r = diag_handle(t, nlh, family, proto, netns);
			if (r < 0)
				return r;
		}
	}
}

/* Every requested dump in one namespace. Returns 0, 1 when out of time,
 * or a negative errno that ends the snapshot. */
static int dump_netns(struct take *t, const struct netns_ref *n)
{
	static const struct {
		uint8_t family, proto;
		uint32_t types; /* the event types a dump reports */
	} dumps[] = {
	    { AF_INET, IPPROTO_TCP, 1u << EVENT_TCP_OPEN | 1u << EVENT_TCP_LISTEN },
	    { AF_INET6, IPPROTO_TCP, 1u << EVENT_TCP_OPEN | 1u << EVENT_TCP_LISTEN },
	    { AF_INET, IPPROTO_UDP, 1u << EVENT_UDP_OPEN },
	    { AF_INET6, IPPROTO_UDP, 1u << EVENT_UDP_OPEN },
	};
	int sk, fatal = 0, r = 0;
	size_t i;

	sk = diag_socket_in(t, n, &fatal);
	if (sk == -ENOTRECOVERABLE) {
		set_reason(t, REASON_FAILED, "cannot return to the original network namespace: %s",
			   strerror(fatal));
		return -fatal;
	}
	if (sk < 0) {
		t->st->netns_failed++;
		if (sk != -ESTALE && sk != -ENOENT)
			set_reason(t, REASON_NETNS, "cannot enter network namespace %s: %s",
				   n->path, strerror(-sk));
		return 0;
	}
	for (i = 0; i < sizeof(dumps) / sizeof(dumps[0]); i++) {
		if (!(t->cfg.event_mask & dumps[i].types))
			continue;
		r = diag_dump(t, sk, dumps[i].family, dumps[i].proto, n->ino);
		if (r == -ENOENT) {
			/* No handler: a kernel without IPv6, or without the
			 * tcp_diag/udp_diag module. The other dumps still work. */
			set_reason(t, REASON_NETNS,
				   "sock_diag cannot dump %s over IPv%c on this kernel",
				   dumps[i].proto == IPPROTO_TCP ? "TCP" : "UDP",
				   dumps[i].family == AF_INET ? '4' : '6');
			r = 0;
			continue;
		}
		if (r != 0)
			break;
	}
	close(sk);
	if (r == 1)
		return 1;
	if (r < 0 && (t->stopped || r == -ENOMEM))
		return r; /* the callback's error or no memory ends everything */
	if (r < 0) {
		/* One namespace's dump failing leaves the others worth doing. */
		t->st->netns_failed++;
		set_reason(t, REASON_NETNS, "sock_diag dump in %s failed: %s", n->path,
			   strerror(-r));
		return 0;
	}
	t->st->netns_dumped++;
	return 0;
}

/* ---- the snapshot ------------------------------------------------------ */

static int take_open(struct take *t)
{
	struct stat st;

	t->proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->proc_fd < 0) {
		set_reason(t, REASON_FAILED, "cannot open /proc: %s", strerror(errno));
		return -errno;
	}
	/* thread-self, not self: namespaces are per thread and the caller's
	 * thread is the one that must come back. */
	t->own_netns_fd = openat(t->proc_fd, "thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (t->own_netns_fd < 0 || fstat(t->own_netns_fd, &st) < 0) {
		set_reason(t, REASON_FAILED, "cannot open /proc/thread-self/ns/net: %s",
			   strerror(errno));
		return -errno;
	}
	t->own_netns_ino = (uint64_t)st.st_ino;
	t->nsfs_dev = st.st_dev;
	t->buf = malloc(DIAG_BUF_SIZE);
	if (!t->buf)
		return -ENOMEM;
	/* The caller's namespace comes first, whatever else fails. */
	return netns_add(t, &st, "/proc/thread-self/ns/net");
}

static void take_close(struct take *t)
{
	if (t->proc_fd >= 0)
		close(t->proc_fd);
	if (t->own_netns_fd >= 0)
		close(t->own_netns_fd);
	free(t->netns);
	free(t->procs);
	free(t->buf);
	idmap_clear(&t->netns_seen);
	idmap_clear(&t->inode_owner);
	idmap_clear(&t->proc_index);
}

int snapshot_take(const struct snapshot_config *cfg, snapshot_event_fn fn, void *ctx,
		  struct snapshot_stats *ret_stats)
{
	struct snapshot_stats local_stats;
	struct take *t;
	uint32_t i;
	int r;

	if (!ret_stats)
		ret_stats = &local_stats;
	memset(ret_stats, 0, sizeof(*ret_stats));
	/* struct event is large; keep it off the caller's stack. */
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(ret_stats->reason, sizeof(ret_stats->reason), "out of memory");
		return -ENOMEM;
	}
	t->st = ret_stats;
	t->fn = fn;
	t->ctx = ctx;
	t->proc_fd = -1;
	t->own_netns_fd = -1;
	t->start_mono_ns = clock_ns(CLOCK_MONOTONIC);
	ret_stats->ts_ns = clock_ns(CLOCK_REALTIME);

	r = resolve_config(cfg, &t->cfg);
	if (r < 0) {
		set_reason(t, REASON_FAILED, "invalid snapshot configuration (limit out of range)");
		goto out;
	}
	t->deadline_mono_ns = t->start_mono_ns + (uint64_t)t->cfg.time_budget_ms * 1000000u;
	r = take_open(t);
	if (r < 0)
		goto out;
	if (!t->cfg.host_netns_only) {
		r = netns_scan_named(t);
		if (r < 0)
			goto out;
	}
	r = scan_processes(t);
	if (r < 0) {
		set_reason(t, REASON_FAILED, "cannot scan /proc: %s", strerror(-r));
		goto out;
	}
	for (i = 0; i < t->n_netns; i++) {
		if (t->st->out_of_time) {
			t->st->netns_skipped += t->n_netns - i;
			break;
		}
		r = dump_netns(t, &t->netns[i]);
		if (r < 0)
			goto out;
		if (r == 1) {
			t->st->netns_skipped += t->n_netns - i; /* this one half done */
			r = 0;
			break;
		}
	}
	/* Nothing at all could be dumped: not a snapshot. */
	if (!t->st->netns_dumped && !t->st->out_of_time) {
		char cause[SNAPSHOT_REASON_MAX];

		snprintf(cause, sizeof(cause), "%s", t->st->reason[0] ? t->st->reason : "unknown");
		r = -EIO;
		set_reason(t, REASON_FAILED, "no network namespace could be dumped: %s", cause);
	}
out:
	if (r == -ENOMEM)
		set_reason(t, REASON_FAILED, "out of memory");
	ret_stats->elapsed_ns = clock_ns(CLOCK_MONOTONIC) - t->start_mono_ns;
	take_close(t);
	free(t);
	return r;
}
