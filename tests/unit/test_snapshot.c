/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of snapshot/: the owner table with synthetic events, and a
 * real snapshot of this test's own sockets in its own network namespace.
 *
 * usage: test_snapshot [table|take|all]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/snapshot.h"
#include "test_util.h"

/* ---- owner table ------------------------------------------------------ */

static void set_addr(struct event *ev, uint8_t *dst, const char *s)
{
	if (inet_pton(AF_INET, s, dst) == 1) {
		ev->family = AF_INET;
	} else if (inet_pton(AF_INET6, s, dst) == 1) {
		ev->family = AF_INET6;
	} else {
		fprintf(stderr, "bad test address %s\n", s);
		abort();
	}
}

/* An event about one socket; netns 0 means "no netns item". */
static void mk(struct event *ev, uint16_t type, uint8_t proto, const char *laddr, uint16_t lport,
	       const char *raddr, uint16_t rport, uint32_t netns)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->proto = proto;
	EVENT_SET(ev, ITEM_PROTO);
	set_addr(ev, ev->laddr, laddr);
	set_addr(ev, ev->raddr, raddr);
	EVENT_SET(ev, ITEM_LADDR);
	EVENT_SET(ev, ITEM_RADDR);
	ev->lport = lport;
	ev->rport = rport;
	EVENT_SET(ev, ITEM_LPORT);
	EVENT_SET(ev, ITEM_RPORT);
	if (netns) {
		ev->netns = netns;
		EVENT_SET(ev, ITEM_NETNS);
	}
}

static void own(struct event *ev, uint32_t pid, const char *comm)
{
	ev->pid = pid;
	ev->tid = pid;
	ev->uid = 1000 + pid;
	ev->gid = 2000 + pid;
	ev->ppid = 1;
	snprintf(ev->comm, sizeof(ev->comm), "%s", comm);
	snprintf(ev->pcomm, sizeof(ev->pcomm), "init");
	ev->present |= EVENT_BIT(ITEM_PID) | EVENT_BIT(ITEM_TID) | EVENT_BIT(ITEM_UID) |
		       EVENT_BIT(ITEM_GID) | EVENT_BIT(ITEM_PPID) | EVENT_BIT(ITEM_COMM) |
		       EVENT_BIT(ITEM_PCOMM);
}

static int add(struct snapshot *s, uint8_t proto, const char *laddr, uint16_t lport,
	       const char *raddr, uint16_t rport, uint32_t netns, uint32_t pid, const char *comm)
{
	struct event ev;

	mk(&ev, proto == IPPROTO_TCP ? EVENT_TCP_OPEN : EVENT_UDP_OPEN, proto, laddr, lport, raddr,
	   rport, netns);
	own(&ev, pid, comm);
	return snapshot_add(s, &ev);
}

/* pid filled in for this event, 0 when fill_owner said no. */
static uint32_t who(struct snapshot *s, struct event *ev)
{
	return snapshot_fill_owner(s, ev) == 0 ? ev->pid : 0;
}

static void test_table_basics(void)
{
	struct snapshot *s = NULL;
	struct snapshot_table_stats ts;
	struct event ev;

	CHECK_EQ_U64(snapshot_new(SNAPSHOT_TABLE_LIMIT + 1, &s), -EINVAL);
	CHECK(s == NULL);
	CHECK(snapshot_free(NULL) == NULL);
	if (!CHECK(snapshot_new(0, &s) == 0))
		return;

	/* A TCP connection found by its tuple; the close retires it. */
	CHECK_EQ_U64(add(s, IPPROTO_TCP, "10.0.0.1", 1000, "10.0.0.2", 80, 100, 42, "curl"), 0);
	mk(&ev, EVENT_TCP_RETRANSMIT, IPPROTO_TCP, "10.0.0.1", 1000, "10.0.0.2", 80, 100);
	CHECK_EQ_U64(snapshot_fill_owner(s, &ev), 0);
	CHECK_EQ_U64(ev.pid, 42);
	CHECK_EQ_U64(ev.tid, 42);
	CHECK_EQ_U64(ev.uid, 1042);
	CHECK_EQ_U64(ev.gid, 2042);
	CHECK_EQ_U64(ev.ppid, 1);
	CHECK_STR(ev.comm, "curl");
	CHECK_STR(ev.pcomm, "init");
	CHECK(EVENT_HAS(&ev, ITEM_PID) && EVENT_HAS(&ev, ITEM_TID) && EVENT_HAS(&ev, ITEM_UID) &&
	      EVENT_HAS(&ev, ITEM_GID) && EVENT_HAS(&ev, ITEM_PPID) && EVENT_HAS(&ev, ITEM_COMM) &&
	      EVENT_HAS(&ev, ITEM_PCOMM));
	/* The event had a pid now: left alone. */
	ev.pid = 7;
	CHECK_EQ_U64(snapshot_fill_owner(s, &ev), -EALREADY);
	CHECK_EQ_U64(ev.pid, 7);

	mk(&ev, EVENT_TCP_CLOSE, IPPROTO_TCP, "10.0.0.1", 1000, "10.0.0.2", 80, 100);
	CHECK_EQ_U64(who(s, &ev), 42);
	mk(&ev, EVENT_TCP_CLOSE, IPPROTO_TCP, "10.0.0.1", 1000, "10.0.0.2", 80, 100);
	CHECK_EQ_U64(snapshot_fill_owner(s, &ev), -ENOENT); /* retired */
	CHECK(!EVENT_HAS(&ev, ITEM_PID));

	/* Other namespace, other port, reversed direction: not this socket. */
	CHECK_EQ_U64(add(s, IPPROTO_TCP, "10.0.0.1", 1001, "10.0.0.2", 80, 100, 43, "wget"), 0);
	mk(&ev, EVENT_TCP_CLOSE, IPPROTO_TCP, "10.0.0.1", 1001, "10.0.0.2", 80, 101);
	CHECK_EQ_U64(who(s, &ev), 0);
	mk(&ev, EVENT_TCP_CLOSE, IPPROTO_TCP, "10.0.0.2", 80, "10.0.0.1", 1001, 100);
	CHECK_EQ_U64(who(s, &ev), 0);
	mk(&ev, EVENT_TCP_CLOSE, IPPROTO_UDP, "10.0.0.1", 1001, "10.0.0.2", 80, 100);
	CHECK_EQ_U64(who(s, &ev), 0);

	/* By cookie alone (no tuple at all), and the cookie wins over a
	 * tuple that names another socket. */
	mk(&ev, EVENT_TCP_OPEN, IPPROTO_TCP, "10.0.0.5", 2000, "10.0.0.6", 443, 100);
	own(&ev, 44, "ssh");
	ev.sock_cookie = 0xabcdef12345ull;
	EVENT_SET(&ev, ITEM_SOCK_COOKIE);
	CHECK_EQ_U64(snapshot_add(s, &ev), 0);
	memset(&ev, 0, sizeof(ev));
	ev.type = EVENT_TCP_RETRANSMIT;
	ev.sock_cookie = 0xabcdef12345ull;
	EVENT_SET(&ev, ITEM_SOCK_COOKIE);
	CHECK_EQ_U64(who(s, &ev), 44);
	mk(&ev, EVENT_TCP_RETRANSMIT, IPPROTO_TCP, "10.0.0.1", 1001, "10.0.0.2", 80, 100);
	ev.sock_cookie = 0xabcdef12345ull;
	EVENT_SET(&ev, ITEM_SOCK_COOKIE);
	CHECK_EQ_U64(who(s, &ev), 44);
	/* An unknown cookie falls back to the tuple. */
	mk(&ev, EVENT_TCP_RETRANSMIT, IPPROTO_TCP, "10.0.0.1", 1001, "10.0.0.2", 80, 100);
	ev.sock_cookie = 99;
	EVENT_SET(&ev, ITEM_SOCK_COOKIE);
	CHECK_EQ_U64(who(s, &ev), 43);

	/* Bad input. */
	mk(&ev, EVENT_TCP_OPEN, IPPROTO_TCP, "10.0.0.1", 1, "10.0.0.2", 2, 1);
	CHECK_EQ_U64(snapshot_add(s, &ev), -EINVAL); /* no pid */
	own(&ev, 5, "x");
	ev.present &= ~EVENT_BIT(ITEM_LADDR);
	CHECK_EQ_U64(snapshot_add(s, &ev), -EINVAL); /* no local address */
	ev.present |= EVENT_BIT(ITEM_LADDR);
	ev.family = 0;
	CHECK_EQ_U64(snapshot_add(s, &ev), -EINVAL); /* no family */
	CHECK_EQ_U64(snapshot_add(NULL, &ev), -EINVAL);
	CHECK_EQ_U64(snapshot_fill_owner(s, NULL), -EINVAL);
	CHECK_EQ_U64(snapshot_fill_owner(NULL, &ev), -EINVAL);

	snapshot_table_get_stats(s, &ts);
	CHECK_EQ_U64(ts.entries, 3);
	CHECK_EQ_U64(ts.processes, 3);
	CHECK_EQ_U64(ts.filled, 5);
	CHECK_EQ_U64(ts.missed, 4);
	CHECK_EQ_U64(ts.closed, 1);
	CHECK_EQ_U64(ts.dropped, 0);
	s = snapshot_free(s);
	CHECK(s == NULL);
}

static void test_table_mapped_and_netns(void)
{
	struct snapshot *s = NULL;
	struct event ev;

	if (!CHECK(snapshot_new(0, &s) == 0))
		return;
	/* An IPv6 socket talking IPv4, seen both ways. */
	CHECK_EQ_U64(
	    add(s, IPPROTO_TCP, "::ffff:10.1.0.1", 3000, "::ffff:10.1.0.2", 22, 7, 50, "a"), 0);
	mk(&ev, EVENT_TCP_CLOSE, IPPROTO_TCP, "10.1.0.1", 3000, "10.1.0.2", 22, 7);
	CHECK_EQ_U64(who(s, &ev), 50);
	CHECK_EQ_U64(add(s, IPPROTO_TCP, "10.1.0.3", 3001, "10.1.0.4", 22, 7, 51, "b"), 0);
	mk(&ev, EVENT_TCP_RETRANSMIT, IPPROTO_TCP, "::ffff:10.1.0.3", 3001, "::ffff:10.1.0.4", 22,
	   7);
	CHECK_EQ_U64(who(s, &ev), 51);
	/* Real IPv6 stays IPv6. */
	CHECK_EQ_U64(add(s, IPPROTO_TCP, "fd00::1", 3002, "fd00::2", 22, 7, 52, "c"), 0);
	mk(&ev, EVENT_TCP_CLOSE, IPPROTO_TCP, "fd00::1", 3002, "fd00::2", 22, 7);
	CHECK_EQ_U64(who(s, &ev), 52);

	/* The same tuple in two namespaces (containers reuse addresses). */
	CHECK_EQ_U64(add(s, IPPROTO_TCP, "10.2.0.1", 4000, "10.2.0.2", 80, 200, 60, "p"), 0);
	CHECK_EQ_U64(add(s, IPPROTO_TCP, "10.2.0.1", 4000, "10.2.0.2", 80, 300, 61, "q"), 0);
	mk(&ev, EVENT_TCP_RETRANSMIT, IPPROTO_TCP, "10.2.0.1", 4000, "10.2.0.2", 80, 300);
	CHECK_EQ_U64(who(s, &ev), 61);
	mk(&ev, EVENT_TCP_RETRANSMIT, IPPROTO_TCP, "10.2.0.1", 4000, "10.2.0.2", 80, 200);
	CHECK_EQ_U64(who(s, &ev), 60);
	/* Without a netns the answer would be a guess. */
	mk(&ev, EVENT_TCP_RETRANSMIT, IPPROTO_TCP, "10.2.0.1", 4000, "10.2.0.2", 80, 0);
	CHECK_EQ_U64(snapshot_fill_owner(s, &ev), -ENOENT);
	/* ... unless every namespace names the same owner. */
	CHECK_EQ_U64(add(s, IPPROTO_TCP, "10.3.0.1", 4001, "10.3.0.2", 80, 200, 62, "r"), 0);
	CHECK_EQ_U64(add(s, IPPROTO_TCP, "10.3.0.1", 4001, "10.3.0.2", 80, 300, 62, "r"), 0);
	mk(&ev, EVENT_TCP_RETRANSMIT, IPPROTO_TCP, "10.3.0.1", 4001, "10.3.0.2", 80, 0);
	CHECK_EQ_U64(who(s, &ev), 62);
	mk(&ev, EVENT_TCP_RETRANSMIT, IPPROTO_TCP, "10.1.0.3", 3001, "10.1.0.4", 22, 0);
	CHECK_EQ_U64(who(s, &ev), 51);

	/* UDP: bound address without remote, wildcard, dual-stack [::]. */
	CHECK_EQ_U64(add(s, IPPROTO_UDP, "192.0.2.5", 53, "0.0.0.0", 0, 1, 70, "dns"), 0);
	CHECK_EQ_U64(add(s, IPPROTO_UDP, "0.0.0.0", 123, "0.0.0.0", 0, 1, 71, "ntp"), 0);
	CHECK_EQ_U64(add(s, IPPROTO_UDP, "::", 5000, "::", 0, 1, 72, "dual"), 0);
	CHECK_EQ_U64(add(s, IPPROTO_UDP, "192.0.2.5", 6000, "192.0.2.99", 7000, 1, 73, "conn"), 0);
	mk(&ev, EVENT_UDP_SEND, IPPROTO_UDP, "192.0.2.5", 53, "198.51.100.1", 5555, 1);
	CHECK_EQ_U64(who(s, &ev), 70);
	mk(&ev, EVENT_UDP_SEND, IPPROTO_UDP, "192.0.2.9", 123, "198.51.100.1", 123, 1);
	CHECK_EQ_U64(who(s, &ev), 71);
	mk(&ev, EVENT_UDP_RECV, IPPROTO_UDP, "192.0.2.9", 5000, "198.51.100.1", 9, 1);
	CHECK_EQ_U64(who(s, &ev), 72);
	mk(&ev, EVENT_UDP_RECV, IPPROTO_UDP, "fd00::9", 5000, "fd00::1", 9, 1);
	CHECK_EQ_U64(who(s, &ev), 72);
	mk(&ev, EVENT_UDP_SEND, IPPROTO_UDP, "192.0.2.5", 6000, "192.0.2.99", 7000, 1);
	CHECK_EQ_U64(who(s, &ev), 73);
	mk(&ev, EVENT_UDP_SEND, IPPROTO_UDP, "192.0.2.5", 53, "198.51.100.1", 5555, 2);
	CHECK_EQ_U64(who(s, &ev), 0); /* other namespace */
	mk(&ev, EVENT_UDP_SEND, IPPROTO_UDP, "192.0.2.5", 54, "198.51.100.1", 5555, 1);
	CHECK_EQ_U64(who(s, &ev), 0); /* other port */
	/* TCP never falls back to a wildcard: a listener is not a connection. */
	CHECK_EQ_U64(add(s, IPPROTO_TCP, "0.0.0.0", 8080, "0.0.0.0", 0, 1, 74, "srv"), 0);
	mk(&ev, EVENT_TCP_CLOSE, IPPROTO_TCP, "192.0.2.5", 8080, "192.0.2.6", 40000, 1);
	CHECK_EQ_U64(who(s, &ev), 0);
	snapshot_free(s);
}

static void test_table_limits(void)
{
	struct snapshot *s = NULL;
	struct snapshot_table_stats ts;
	const uint32_t n = 200000;
	struct event ev;
	uint32_t i, wrong = 0;
	char a[32];

	if (!CHECK(snapshot_new(3, &s) == 0))
		return;
	CHECK_EQ_U64(add(s, IPPROTO_TCP, "10.0.0.1", 1, "10.0.0.2", 2, 1, 1, "a"), 0);
	CHECK_EQ_U64(add(s, IPPROTO_TCP, "10.0.0.1", 2, "10.0.0.2", 2, 1, 1, "a"), 0);
	CHECK_EQ_U64(add(s, IPPROTO_TCP, "10.0.0.1", 3, "10.0.0.2", 2, 1, 2, "b"), 0);
	CHECK_EQ_U64(add(s, IPPROTO_TCP, "10.0.0.1", 4, "10.0.0.2", 2, 1, 3, "c"), -ENOSPC);
	CHECK_EQ_U64(add(s, IPPROTO_TCP, "10.0.0.1", 5, "10.0.0.2", 2, 1, 3, "c"), -ENOSPC);
	snapshot_table_get_stats(s, &ts);
	CHECK_EQ_U64(ts.entries, 3);
	CHECK_EQ_U64(ts.processes, 2);
	CHECK_EQ_U64(ts.dropped, 2);
	mk(&ev, EVENT_TCP_CLOSE, IPPROTO_TCP, "10.0.0.1", 3, "10.0.0.2", 2, 1);
	CHECK_EQ_U64(who(s, &ev), 2);
	snapshot_free(s);

	/* Many entries: growth and rehashing keep every one findable. */
	if (!CHECK(snapshot_new(n, &s) == 0))
		return;
	for (i = 0; i < n; i++) {
		snprintf(a, sizeof(a), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		if (add(s, IPPROTO_TCP, a, (uint16_t)(i % 50000 + 1), "192.0.2.1", 443, 5,
			i % 1000 + 1, "many") < 0)
			wrong++;
	}
	CHECK_EQ_U64(wrong, 0);
	for (i = 0; i < n; i++) {
		snprintf(a, sizeof(a), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		mk(&ev, EVENT_TCP_RETRANSMIT, IPPROTO_TCP, a, (uint16_t)(i % 50000 + 1),
		   "192.0.2.1", 443, 5);
		if (who(s, &ev) != i % 1000 + 1)
			wrong++;
	}
	CHECK_EQ_U64(wrong, 0);
	snapshot_table_get_stats(s, &ts);
	CHECK_EQ_U64(ts.entries, n);
	CHECK_EQ_U64(ts.processes, 1000);
	CHECK_EQ_U64(ts.filled, n);
	snapshot_free(s);
}

/* ---- a real snapshot of our own sockets ------------------------------- */

struct seen {
	uint16_t client_port, server_port, udp_port;
	uint64_t netns, ts_ns;
	uint32_t n, last_seq, bad_seq, bad_ts;
	struct event client, server, udp, listener;
	bool have_client, have_server, have_udp, have_listener;
	int stop_after; /* > 0: return -ECANCELED at that event */
};

static bool is_loopback4(const struct event *ev, const uint8_t *a)
{
	static const uint8_t lo[4] = { 127, 0, 0, 1 };

	return ev->family == AF_INET && memcmp(a, lo, 4) == 0;
}

static int on_event(const struct event *ev, void *ctx)
{
	struct seen *s = ctx;

	s->n++;
	if (ev->seq != s->last_seq + 1)
		s->bad_seq++;
	s->last_seq = ev->seq;
	if (ev->ts_ns != s->ts_ns && s->ts_ns)
		s->bad_ts++;
	s->ts_ns = ev->ts_ns;
	if (s->stop_after && (int)s->n == s->stop_after)
		return -ECANCELED;
	if (!is_loopback4(ev, ev->laddr) || ev->netns != s->netns)
		return 0;
	if (ev->type == EVENT_TCP_OPEN && ev->lport == s->client_port &&
	    ev->rport == s->server_port) {
		s->client = *ev;
		s->have_client = true;
	} else if (ev->type == EVENT_TCP_OPEN && ev->lport == s->server_port &&
		   ev->rport == s->client_port) {
		s->server = *ev;
		s->have_server = true;
	} else if (ev->type == EVENT_TCP_LISTEN && ev->lport == s->server_port && ev->rport == 0) {
		s->listener = *ev;
		s->have_listener = true;
	} else if (ev->type == EVENT_UDP_OPEN && ev->lport == s->udp_port) {
		s->udp = *ev;
		s->have_udp = true;
	}
	return 0;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	getsockname(fd, (struct sockaddr *)&sin, &len);
	return ntohs(sin.sin_port);
}

static void read_comm(char *buf, size_t size)
{
	FILE *f = fopen("/proc/self/comm", "r");

	buf[0] = '\0';
	if (f) {
		if (fgets(buf, (int)size, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
}

static void test_take(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct snapshot_config cfg = { 0 };
	struct snapshot_stats st;
	struct snapshot *table = NULL;
	struct seen seen;
	struct stat ns;
	struct event ev;
	char buf[2048], comm[32];
	int lfd, cfd, sfd, ufd, r;
	struct pollfd pfd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	ufd = socket(AF_INET, SOCK_DGRAM, 0);
	if (!CHECK(lfd >= 0 && cfd >= 0 && ufd >= 0) ||
	    !CHECK(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0) ||
	    !CHECK(listen(lfd, 1) == 0) ||
	    !CHECK(bind(ufd, (struct sockaddr *)&sin, sizeof(sin)) == 0))
		return;
	sin.sin_port = htons(local_port(lfd));
	if (!CHECK(connect(cfd, (struct sockaddr *)&sin, sizeof(sin)) == 0))
		return;
	sfd = accept(lfd, NULL, NULL);
	if (!CHECK(sfd >= 0))
		return;
	memset(buf, 'x', sizeof(buf));
	CHECK(send(cfd, buf, 1234, 0) == 1234);
	pfd = (struct pollfd){ .fd = sfd, .events = POLLIN };
	CHECK(poll(&pfd, 1, 5000) == 1); /* arrived: counted by the receiver */
	CHECK(stat("/proc/self/ns/net", &ns) == 0);
	read_comm(comm, sizeof(comm));

	memset(&seen, 0, sizeof(seen));
	seen.client_port = local_port(cfd);
	seen.server_port = local_port(lfd);
	seen.udp_port = local_port(ufd);
	seen.netns = (uint64_t)ns.st_ino;
	if (!CHECK(snapshot_new(0, &table) == 0))
		return;
	cfg.host_netns_only = true;
	cfg.table = table;
	r = snapshot_take(&cfg, on_event, &seen, &st);
	CHECK_EQ_U64(r, 0);
	if (r < 0)
		fprintf(stderr, "snapshot_take: %s\n", st.reason);
	CHECK_EQ_U64(st.netns_found, 1);
	CHECK_EQ_U64(st.netns_dumped, 1);
	CHECK(st.processes_scanned >= 1);
	CHECK(st.socket_fds >= 4);
	CHECK_EQ_U64(seen.n, st.tcp_reported + st.udp_reported);
	CHECK_EQ_U64(seen.bad_seq, 0);
	CHECK_EQ_U64(seen.bad_ts, 0);
	CHECK_EQ_U64(seen.ts_ns, st.ts_ns);
	CHECK(!st.out_of_time);
	CHECK(!seen.have_listener); /* listeners only when asked */

	if (CHECK(seen.have_client)) {
		const struct event *c = &seen.client;

		CHECK_EQ_U64(c->pid, (uint32_t)getpid());
		CHECK_EQ_U64(c->tid, (uint32_t)getpid());
		CHECK_EQ_U64(c->ppid, (uint32_t)getppid());
		CHECK_EQ_U64(c->uid, getuid());
		CHECK_EQ_U64(c->gid, getgid());
		CHECK_STR(c->comm, comm);
		CHECK(EVENT_HAS(c, ITEM_PCOMM));
		CHECK_EQ_U64(c->proto, IPPROTO_TCP);
		CHECK(is_loopback4(c, c->raddr));
		CHECK(EVENT_HAS(c, ITEM_SOCK_COOKIE) && c->sock_cookie != 0);
		CHECK_EQ_U64(c->bytes_sent, 1234);
		CHECK_EQ_U64(c->bytes_received, 0);
		CHECK(EVENT_HAS(c, ITEM_SRTT_US) && EVENT_HAS(c, ITEM_RETRANSMITS));
	}
	if (CHECK(seen.have_server)) {
		CHECK_EQ_U64(seen.server.pid, (uint32_t)getpid());
		CHECK_EQ_U64(seen.server.bytes_received, 1234);
		CHECK_EQ_U64(seen.server.bytes_sent, 0);
		CHECK(seen.server.sock_cookie != seen.client.sock_cookie);
	}
	if (CHECK(seen.have_udp)) {
		CHECK_EQ_U64(seen.udp.pid, (uint32_t)getpid());
		CHECK_EQ_U64(seen.udp.proto, IPPROTO_UDP);
		CHECK_EQ_U64(seen.udp.rport, 0);
		CHECK(!EVENT_HAS(&seen.udp, ITEM_BYTES_SENT));
	}

	/* The table answers for a close that arrives without a pid. */
	mk(&ev, EVENT_TCP_CLOSE, IPPROTO_TCP, "127.0.0.1", seen.client_port, "127.0.0.1",
	   seen.server_port, (uint32_t)seen.netns);
	CHECK_EQ_U64(who(table, &ev), (uint32_t)getpid());
	CHECK_STR(ev.comm, comm);
	memset(&ev, 0, sizeof(ev));
	ev.type = EVENT_TCP_RETRANSMIT;
	ev.sock_cookie = seen.server.sock_cookie;
	EVENT_SET(&ev, ITEM_SOCK_COOKIE);
	CHECK_EQ_U64(who(table, &ev), (uint32_t)getpid());
	table = snapshot_free(table);

	/* Listeners when asked; UDP only; TCP only. */
	memset(&seen, 0, sizeof(seen));
	seen.client_port = local_port(cfd);
	seen.server_port = local_port(lfd);
	seen.udp_port = local_port(ufd);
	seen.netns = (uint64_t)ns.st_ino;
	cfg = (struct snapshot_config){ .host_netns_only = true,
					.event_mask = 1u << EVENT_TCP_OPEN | 1u << EVENT_TCP_LISTEN };
	CHECK_EQ_U64(snapshot_take(&cfg, on_event, &seen, &st), 0);
	CHECK(seen.have_listener && seen.listener.pid == (uint32_t)getpid());
	CHECK(!EVENT_HAS(&seen.listener, ITEM_BYTES_SENT));

	memset(&seen, 0, sizeof(seen));
	seen.netns = (uint64_t)ns.st_ino;
	cfg = (struct snapshot_config){ .host_netns_only = true,
					.event_mask = 1u << EVENT_UDP_OPEN };
	CHECK_EQ_U64(snapshot_take(&cfg, on_event, &seen, &st), 0);
	CHECK_EQ_U64(st.tcp_reported, 0);
	CHECK(st.udp_reported >= 1);

	/* Limits are counted, not silent. */
	cfg = (struct snapshot_config){ .host_netns_only = true, .max_sockets = 1 };
	memset(&seen, 0, sizeof(seen));
	CHECK_EQ_U64(snapshot_take(&cfg, on_event, &seen, &st), 0);
	CHECK_EQ_U64(st.tcp_reported + st.udp_reported, 1);
	CHECK(st.sockets_skipped >= 2);
	CHECK(st.reason[0] != '\0');

	/* The callback can stop it, and its error comes back. */
	cfg = (struct snapshot_config){ .host_netns_only = true };
	memset(&seen, 0, sizeof(seen));
	seen.stop_after = 1;
	CHECK_EQ_U64(snapshot_take(&cfg, on_event, &seen, &st), -ECANCELED);
	CHECK_EQ_U64(seen.n, 1);
	CHECK(strstr(st.reason, "callback") != NULL);

	/* Bad configurations. */
	cfg = (struct snapshot_config){ .max_sockets = SNAPSHOT_SOCKETS_LIMIT + 1 };
	CHECK_EQ_U64(snapshot_take(&cfg, on_event, &seen, &st), -EINVAL);
	cfg = (struct snapshot_config){ .event_mask = 1u << EVENT_TCP_CLOSE };
	CHECK_EQ_U64(snapshot_take(&cfg, on_event, &seen, &st), -EINVAL);
	cfg = (struct snapshot_config){ .time_budget_ms = SNAPSHOT_TIME_BUDGET_LIMIT_MS + 1 };
	CHECK_EQ_U64(snapshot_take(&cfg, on_event, &seen, &st), -EINVAL);
	CHECK(st.reason[0] != '\0');

	close(sfd);
	close(cfd);
	close(lfd);
	close(ufd);
}

int main(int argc, char **argv)
{
	const char *group = argc > 1 ? argv[1] : "all";
	bool all = strcmp(group, "all") == 0;

	if (all || strcmp(group, "table") == 0) {
		test_table_basics();
		test_table_mapped_and_netns();
		test_table_limits();
	}
	if (all || strcmp(group, "take") == 0)
		test_take();
	return test_summary();
}
