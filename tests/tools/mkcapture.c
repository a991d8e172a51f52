/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mkcapture: writes pcapng captures with known content for the dissector tests.
 *
 *   mkcapture [--events] [--malformed] [--merged] [--decode] OUTPUT.pcapng
 *
 * --events     one well-formed record per event type, together covering every item,
 *              IPv4 and IPv6 (encoded with record_encode, as ebpfdump does)
 * --malformed  hand-built broken records, one defect each, plus records that must
 *              still decode (unknown item, longer header)
 * --merged     Ethernet/IPv4/TCP packets whose comments carry "ebpf:1 src.* dst.*"
 * --random N   N records mutated from the --events ones (bytes changed, items cut,
 *              repeated or retyped, lengths off by a little), the same for every run:
 *              with --decode, a differential test of the dissector against the codec
 * --decode     also run the C decoder (record_decode) on every event frame written and
 *              print "FRAME accepted" or "FRAME rejected: REASON" on stdout, so the test
 *              can check that the dissector and the codec judge records alike
 *
 * Every value is fixed, so tests/unit/dissector_golden.tsv can state exact results;
 * change both together. Frame numbers follow the order of the tables below.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/comment.h"
#include "event/event.h"
#include "event/record.h"
#include "pcapng/writer.h"

#define BASE_TS_NS UINT64_C(1700000000000000000) /* 2023-11-14T22:13:20Z */
#define STEP_NS UINT64_C(1000000)		 /* 1 ms between frames */
#define FRAME_MAX 2048				 /* largest frame built here */

struct capture {
	struct pcapng_writer *w;
	uint32_t events_if, packets_if;
	uint64_t ts_ns;
	bool decode;	 /* --decode */
	unsigned frames; /* written so far, for --decode's frame numbers */
};

static uint64_t next_ts(struct capture *c)
{
	c->ts_ns += STEP_NS;
	return c->ts_ns;
}

static void set_str(struct event *ev, enum event_item item, char *dst, size_t size, const char *s)
{
	event_copy_str(dst, size, s, strlen(s));
	EVENT_SET(ev, item);
}

#define SET_STR(ev, item, member, s) set_str(ev, item, (ev)->member, sizeof((ev)->member), s)
#define SET_INT(ev, item, member, v)                                                               \
	do {                                                                                       \
		(ev)->member = (v);                                                                \
		EVENT_SET(ev, item);                                                               \
	} while (0)

static void set_addrs(struct event *ev, int family, const char *laddr, const char *raddr)
{
	ev->family = (uint8_t)family;
	if (laddr) {
		inet_pton(family, laddr, ev->laddr);
		EVENT_SET(ev, ITEM_LADDR);
	}
	if (raddr) {
		inet_pton(family, raddr, ev->raddr);
		EVENT_SET(ev, ITEM_RADDR);
	}
}

static void set_ports(struct event *ev, uint16_t lport, uint16_t rport)
{
	SET_INT(ev, ITEM_LPORT, lport, lport);
	SET_INT(ev, ITEM_RPORT, rport, rport);
}

/* curl (pid 4242) in a shell, the client in most events. */
static void set_curl(struct event *ev)
{
	SET_INT(ev, ITEM_PID, pid, 4242);
	SET_INT(ev, ITEM_TID, tid, 4243);
	SET_INT(ev, ITEM_UID, uid, 1000);
	SET_INT(ev, ITEM_GID, gid, 1001);
	SET_STR(ev, ITEM_COMM, comm, "curl");
	SET_STR(ev, ITEM_EXE, exe, "/usr/bin/curl");
	SET_STR(ev, ITEM_CMDLINE, cmdline, "curl -s http://10.0.0.2/ünï");
	SET_INT(ev, ITEM_PPID, ppid, 4000);
	SET_STR(ev, ITEM_PCOMM, pcomm, "bash");
	SET_STR(ev, ITEM_USER, user, "alice");
	SET_STR(ev, ITEM_GROUP, group, "staff");
	SET_INT(ev, ITEM_CGROUP_ID, cgroup_id, UINT64_C(12345678901234));
	SET_STR(ev, ITEM_CGROUP, cgroup, "session-1.scope");
	SET_INT(ev, ITEM_NETNS, netns, 4026531840u);
	SET_INT(ev, ITEM_IFINDEX, ifindex, 2);
	SET_STR(ev, ITEM_IFNAME, ifname, "eth0");
}

/* nginx (pid 80) in a Kubernetes pod, the server. */
static void set_nginx(struct event *ev)
{
	SET_INT(ev, ITEM_PID, pid, 80);
	SET_INT(ev, ITEM_TID, tid, 81);
	SET_STR(ev, ITEM_COMM, comm, "nginx");
	SET_STR(ev, ITEM_CONTAINER_ID, container_id,
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	SET_STR(ev, ITEM_CONTAINER, container, "web");
	SET_STR(ev, ITEM_POD, pod, "web-7d4b9c");
	SET_STR(ev, ITEM_NAMESPACE, namespace_, "default");
	SET_STR(ev, ITEM_RUNTIME, runtime, "containerd");
	SET_STR(ev, ITEM_IMAGE, image, "nginx:1.25");
	SET_STR(ev, ITEM_HOST, host, "node-1");
}

/* "FRAME accepted pid tid lport rport bytes_sent laddr raddr", "-" for an absent item:
 * what the dissector must show of the same frame. */
static void print_accepted(unsigned frame, const struct event *ev)
{
	char l[INET6_ADDRSTRLEN] = "-", r[INET6_ADDRSTRLEN] = "-";
	int af = ev->family == AF_INET6 ? AF_INET6 : AF_INET;

	if (EVENT_HAS(ev, ITEM_LADDR))
		inet_ntop(af, ev->laddr, l, sizeof(l));
	if (EVENT_HAS(ev, ITEM_RADDR))
		inet_ntop(af, ev->raddr, r, sizeof(r));
	printf("%u accepted", frame);
#define INT_OR_DASH(item, v)                                                                       \
	do {                                                                                       \
		if (EVENT_HAS(ev, item))                                                           \
			printf(" %llu", (unsigned long long)(v));                                  \
		else                                                                               \
			printf(" -");                                                              \
	} while (0)
	INT_OR_DASH(ITEM_PID, ev->pid);
	INT_OR_DASH(ITEM_TID, ev->tid);
	INT_OR_DASH(ITEM_LPORT, ev->lport);
	INT_OR_DASH(ITEM_RPORT, ev->rport);
	INT_OR_DASH(ITEM_BYTES_SENT, ev->bytes_sent);
#undef INT_OR_DASH
	printf(" %s %s\n", l, r);
}

static int write_record(struct capture *c, const uint8_t *rec, size_t len)
{
	c->frames++;
	if (c->decode) {
		struct event ev;
		const char *reason = NULL;

		if (record_decode(rec, len, &ev, &reason) == 0)
			print_accepted(c->frames, &ev);
		else
			printf("%u rejected: %s\n", c->frames, reason ? reason : "?");
	}
	return pcapng_write_event(c->w, c->events_if, next_ts(c), rec, len);
}

static int write_event(struct capture *c, const struct event *ev)
{
	uint8_t buf[RECORD_MAX_LEN];
	int len = record_encode(ev, buf, sizeof(buf));

	if (len < 0)
		return len;
	return write_record(c, buf, (size_t)len);
}

/* One event per type; frame numbers (1-based) are what the golden table uses. */
static int write_events(struct capture *c)
{
	struct event ev;
	int r;

	/* 1: TCP_Connect, IPv4, every process item. */
	memset(&ev, 0, sizeof(ev));
	ev.type = EVENT_TCP_CONNECT;
	ev.seq = 1;
	ev.ts_ns = BASE_TS_NS + 123456789;
	set_curl(&ev);
	SET_INT(&ev, ITEM_PROTO, proto, 6);
	set_addrs(&ev, AF_INET, "10.0.0.1", "10.0.0.2");
	set_ports(&ev, 40000, 80);
	SET_INT(&ev, ITEM_LATENCY_US, latency_us, 153);
	SET_INT(&ev, ITEM_SOCK_COOKIE, sock_cookie, UINT64_C(0x1122334455667788));
	r = write_event(c, &ev);
	if (r < 0)
		return r;

	/* 2: TCP_Connect_Failed with ECONNREFUSED. */
	memset(&ev, 0, sizeof(ev));
	ev.type = EVENT_TCP_CONNECT_FAILED;
	ev.seq = 2;
	ev.ts_ns = BASE_TS_NS + 2000000;
	SET_INT(&ev, ITEM_PID, pid, 4242);
	SET_STR(&ev, ITEM_COMM, comm, "curl");
	SET_INT(&ev, ITEM_PROTO, proto, 6);
	set_addrs(&ev, AF_INET, "10.0.0.1", "10.0.0.3");
	set_ports(&ev, 40002, 81);
	SET_INT(&ev, ITEM_ERROR, error, 111);
	r = write_event(c, &ev);
	if (r < 0)
		return r;

	/* 3: TCP_Accept, IPv6 loopback, container and pod items. */
	memset(&ev, 0, sizeof(ev));
	ev.type = EVENT_TCP_ACCEPT;
	ev.seq = 3;
	ev.ts_ns = BASE_TS_NS + 3000000;
	set_nginx(&ev);
	SET_INT(&ev, ITEM_PROTO, proto, 6);
	set_addrs(&ev, AF_INET6, "::1", "::1");
	set_ports(&ev, 80, 40001);
	r = write_event(c, &ev);
	if (r < 0)
		return r;

	/* 4: TCP_Close with connection totals. */
	memset(&ev, 0, sizeof(ev));
	ev.type = EVENT_TCP_CLOSE;
	ev.seq = 4;
	ev.ts_ns = BASE_TS_NS + 4000000;
	SET_INT(&ev, ITEM_PID, pid, 4242);
	SET_STR(&ev, ITEM_COMM, comm, "curl");
	SET_INT(&ev, ITEM_PROTO, proto, 6);
	set_addrs(&ev, AF_INET, "10.0.0.1", "10.0.0.2");
	set_ports(&ev, 40000, 80);
	SET_INT(&ev, ITEM_BYTES_SENT, bytes_sent, 12345);
	SET_INT(&ev, ITEM_BYTES_RECEIVED, bytes_received, 678);
	SET_INT(&ev, ITEM_RETRANSMITS, retransmits, 2);
	SET_INT(&ev, ITEM_SRTT_US, srtt_us, 300);
	r = write_event(c, &ev);
	if (r < 0)
		return r;

	/* 5: TCP_Retransmit, IPv6 documentation prefix. */
	memset(&ev, 0, sizeof(ev));
	ev.type = EVENT_TCP_RETRANSMIT;
	ev.seq = 5;
	ev.ts_ns = BASE_TS_NS + 5000000;
	SET_INT(&ev, ITEM_PID, pid, 4242);
	SET_STR(&ev, ITEM_COMM, comm, "curl");
	SET_INT(&ev, ITEM_PROTO, proto, 6);
	set_addrs(&ev, AF_INET6, "2001:db8::1", "2001:db8::2");
	set_ports(&ev, 40003, 443);
	SET_INT(&ev, ITEM_RETRANSMITS, retransmits, 1);
	r = write_event(c, &ev);
	if (r < 0)
		return r;

	/* 6: UDP_Send, IPv4 DNS query. */
	memset(&ev, 0, sizeof(ev));
	ev.type = EVENT_UDP_SEND;
	ev.seq = 6;
	ev.ts_ns = BASE_TS_NS + 6000000;
	SET_INT(&ev, ITEM_PID, pid, 5000);
	SET_STR(&ev, ITEM_COMM, comm, "dig");
	SET_INT(&ev, ITEM_PROTO, proto, 17);
	set_addrs(&ev, AF_INET, "10.0.0.1", "10.0.0.53");
	set_ports(&ev, 53000, 53);
	SET_INT(&ev, ITEM_PACKETS, packets, 1);
	SET_INT(&ev, ITEM_BYTES, bytes, 40);
	r = write_event(c, &ev);
	if (r < 0)
		return r;

	/* 7: UDP_Recv, IPv6, u64 values above 2^53 (Lua numbers cannot hold them). */
	memset(&ev, 0, sizeof(ev));
	ev.type = EVENT_UDP_RECV;
	ev.seq = 7;
	ev.ts_ns = BASE_TS_NS + 7000000;
	SET_INT(&ev, ITEM_PID, pid, 5000);
	SET_STR(&ev, ITEM_COMM, comm, "dig");
	SET_INT(&ev, ITEM_PROTO, proto, 17);
	set_addrs(&ev, AF_INET6, "2001:db8::1", "2001:db8::53");
	set_ports(&ev, 53001, 53);
	SET_INT(&ev, ITEM_PACKETS, packets, UINT64_C(9007199254740993));
	SET_INT(&ev, ITEM_BYTES, bytes, UINT64_MAX);
	r = write_event(c, &ev);
	if (r < 0)
		return r;

	/* 8: TCP_Open, a connection open before the capture. */
	memset(&ev, 0, sizeof(ev));
	ev.type = EVENT_TCP_OPEN;
	ev.seq = 8;
	ev.ts_ns = BASE_TS_NS + 8000000;
	SET_INT(&ev, ITEM_PID, pid, 700);
	SET_STR(&ev, ITEM_COMM, comm, "sshd");
	SET_INT(&ev, ITEM_PROTO, proto, 6);
	set_addrs(&ev, AF_INET, "10.0.0.1", "10.0.0.9");
	set_ports(&ev, 22, 50000);
	r = write_event(c, &ev);
	if (r < 0)
		return r;

	/* 9: UDP_Open, a bound socket without a peer. */
	memset(&ev, 0, sizeof(ev));
	ev.type = EVENT_UDP_OPEN;
	ev.seq = 9;
	ev.ts_ns = BASE_TS_NS + 9000000;
	SET_INT(&ev, ITEM_PID, pid, 600);
	SET_STR(&ev, ITEM_COMM, comm, "chronyd");
	SET_INT(&ev, ITEM_PROTO, proto, 17);
	set_addrs(&ev, AF_INET, "0.0.0.0", NULL);
	SET_INT(&ev, ITEM_LPORT, lport, 123);
	r = write_event(c, &ev);
	if (r < 0)
		return r;

	/* 10: an event type this dissector does not know (a newer writer's). */
	memset(&ev, 0, sizeof(ev));
	ev.type = 200;
	ev.seq = 10;
	ev.ts_ns = BASE_TS_NS + 10000000;
	SET_INT(&ev, ITEM_PID, pid, 1);
	return write_event(c, &ev);
}

/* A hand-built record, for defects the encoder cannot produce. */
struct raw_record {
	uint8_t buf[512];
	size_t len;
};

static void put_u8(struct raw_record *r, uint8_t v)
{
	if (r->len < sizeof(r->buf))
		r->buf[r->len++] = v;
}

static void put_u16(struct raw_record *r, uint16_t v)
{
	put_u8(r, (uint8_t)(v >> 8));
	put_u8(r, (uint8_t)v);
}

static void put_u32(struct raw_record *r, uint32_t v)
{
	put_u16(r, (uint16_t)(v >> 16));
	put_u16(r, (uint16_t)v);
}

static void put_u64(struct raw_record *r, uint64_t v)
{
	put_u32(r, (uint32_t)(v >> 32));
	put_u32(r, (uint32_t)v);
}

static void put_bytes(struct raw_record *r, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		put_u8(r, b[i]);
}

static void put_item(struct raw_record *r, uint16_t id, const void *value, uint16_t len)
{
	put_u16(r, id);
	put_u16(r, len);
	put_bytes(r, value, len);
}

/* Header with version 1 and header length 24; the total length is patched by
 * raw_finish so that it matches unless a test overrides it. */
static void raw_start(struct raw_record *r, uint16_t type, uint32_t seq)
{
	r->len = 0;
	put_u16(r, RECORD_MAGIC);
	put_u8(r, RECORD_VERSION);
	put_u8(r, RECORD_HEADER_LEN);
	put_u16(r, type);
	put_u16(r, 0);
	put_u32(r, 0);
	put_u32(r, seq);
	put_u64(r, BASE_TS_NS + (uint64_t)seq * STEP_NS);
}

static void raw_finish(struct raw_record *r)
{
	uint32_t len = (uint32_t)r->len;

	r->buf[8] = (uint8_t)(len >> 24);
	r->buf[9] = (uint8_t)(len >> 16);
	r->buf[10] = (uint8_t)(len >> 8);
	r->buf[11] = (uint8_t)len;
}

static void put_pid_comm(struct raw_record *r)
{
	static const uint8_t pid[4] = {0, 0, 0x10, 0x92}; /* 4242 */

	put_item(r, ITEM_PID, pid, 4);
	put_item(r, ITEM_COMM, "curl", 4);
}

static int write_raw(struct capture *c, const struct raw_record *r, size_t len)
{
	return write_record(c, r->buf, len);
}

/* One defect per frame; the golden table expects exactly this order. */
static int write_malformed(struct capture *c)
{
	static const uint8_t v4[4] = {10, 0, 0, 1};
	static const uint8_t v6[16] = {[15] = 1};
	struct raw_record r;
	int e;

	/* 1: truncated header (10 bytes). */
	raw_start(&r, EVENT_TCP_CONNECT, 1);
	e = write_raw(c, &r, 10);
	/* 2: bad magic. */
	raw_start(&r, EVENT_TCP_CONNECT, 2);
	put_pid_comm(&r);
	raw_finish(&r);
	r.buf[0] = 0x12;
	r.buf[1] = 0x34;
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 3: unsupported version 7. */
	raw_start(&r, EVENT_TCP_CONNECT, 3);
	put_pid_comm(&r);
	raw_finish(&r);
	r.buf[2] = 7;
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 4: header length 20 < 24. */
	raw_start(&r, EVENT_TCP_CONNECT, 4);
	raw_finish(&r);
	r.buf[3] = 20;
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 5: record cut short: the header announces 3 more bytes than the frame has. */
	raw_start(&r, EVENT_TCP_CONNECT, 5);
	put_pid_comm(&r);
	raw_finish(&r);
	if (!e)
		e = write_raw(c, &r, r.len - 3);
	/* 6: record length above RECORD_MAX_LEN. */
	raw_start(&r, EVENT_TCP_CONNECT, 6);
	put_pid_comm(&r);
	raw_finish(&r);
	r.buf[8] = 0;
	r.buf[9] = 0;
	r.buf[10] = 0x4e; /* 20000 */
	r.buf[11] = 0x20;
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 7: item value past the end: comm claims 40 bytes. */
	raw_start(&r, EVENT_TCP_CONNECT, 7);
	put_pid_comm(&r);
	raw_finish(&r);
	r.buf[r.len - 6] = 0;
	r.buf[r.len - 5] = 40;
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 8: pid of 2 bytes (an integer item with the wrong width), after a good comm. */
	raw_start(&r, EVENT_TCP_CONNECT, 8);
	put_item(&r, ITEM_COMM, "curl", 4);
	put_item(&r, ITEM_PID, "\x10\x92", 2);
	raw_finish(&r);
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 9: local address of 5 bytes. */
	raw_start(&r, EVENT_TCP_CONNECT, 9);
	put_item(&r, ITEM_LADDR, "\x0a\x00\x00\x01\x00", 5);
	raw_finish(&r);
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 10: IPv4 local and IPv6 remote address. */
	raw_start(&r, EVENT_TCP_CONNECT, 10);
	put_item(&r, ITEM_LADDR, v4, 4);
	put_item(&r, ITEM_RADDR, v6, 16);
	raw_finish(&r);
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 11: a string with a NUL inside. */
	raw_start(&r, EVENT_TCP_CONNECT, 11);
	put_item(&r, ITEM_COMM, "cu\0rl", 5);
	raw_finish(&r);
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 12: item header truncated: 2 bytes left after the last item. */
	raw_start(&r, EVENT_TCP_CONNECT, 12);
	put_pid_comm(&r);
	put_u16(&r, ITEM_PID);
	raw_finish(&r);
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 13: 5 bytes after the record's announced length. */
	raw_start(&r, EVENT_TCP_CONNECT, 13);
	put_pid_comm(&r);
	raw_finish(&r);
	put_bytes(&r, "extra", 5);
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 14: NOT malformed: unknown item 60 is skipped, the items around it decode. */
	raw_start(&r, EVENT_TCP_CONNECT, 14);
	put_item(&r, ITEM_PID, "\x00\x00\x10\x92", 4);
	put_item(&r, 60, "abc", 3);
	put_item(&r, ITEM_COMM, "curl", 4);
	raw_finish(&r);
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 15: NOT malformed: a 28-byte header (a newer writer's) is skipped to its length. */
	raw_start(&r, EVENT_TCP_CLOSE, 15);
	put_u32(&r, 0xdeadbeef);
	put_pid_comm(&r);
	raw_finish(&r);
	r.buf[3] = 28;
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 16: NOT malformed: an empty string item and unknown flag bits. */
	raw_start(&r, EVENT_UDP_SEND, 16);
	put_item(&r, ITEM_COMM, "", 0);
	raw_finish(&r);
	r.buf[7] = 0x80;
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 17: TCP_Connect_Failed without an error item, and 1-byte proto of value 1. */
	raw_start(&r, EVENT_TCP_CONNECT_FAILED, 17);
	put_item(&r, ITEM_PROTO, "\x01", 1);
	raw_finish(&r);
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 18: NOT malformed: a comm that is not UTF-8 (a task may name itself anything). */
	raw_start(&r, EVENT_UDP_SEND, 18);
	put_item(&r, ITEM_COMM, "x\xffy", 3);
	raw_finish(&r);
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 19: an empty record. */
	if (!e)
		e = write_raw(c, &r, 0);
	/* 20: NOT malformed: pid twice, the last one (4242) wins (5.3). */
	raw_start(&r, EVENT_TCP_CONNECT, 20);
	put_item(&r, ITEM_PID, "\x00\x00\x04\x57", 4); /* 1111 */
	put_item(&r, ITEM_COMM, "curl", 4);
	put_item(&r, ITEM_PID, "\x00\x00\x10\x92", 4);
	raw_finish(&r);
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 21: NOT malformed: raddr IPv6 then IPv4; the winner has laddr's family. */
	raw_start(&r, EVENT_TCP_CONNECT, 21);
	put_item(&r, ITEM_LADDR, v4, 4);
	put_item(&r, ITEM_RADDR, v6, 16);
	put_item(&r, ITEM_RADDR, "\x0a\x00\x00\x02", 4);
	raw_finish(&r);
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 22: raddr IPv4 then IPv6: the winner's family differs from laddr's. */
	raw_start(&r, EVENT_TCP_CONNECT, 22);
	put_item(&r, ITEM_LADDR, v4, 4);
	put_item(&r, ITEM_RADDR, "\x0a\x00\x00\x02", 4);
	put_item(&r, ITEM_RADDR, v6, 16);
	raw_finish(&r);
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 23: NOT malformed: strings over their limit: comm of 20 ASCII bytes (kept: 16),
	 * pcomm of 15 ASCII bytes and a 2-byte character (kept: 15, not half of it). */
	raw_start(&r, EVENT_TCP_CONNECT, 23);
	put_item(&r, ITEM_COMM, "abcdefghijklmnopqrst", 20);
	put_item(&r, ITEM_PCOMM, "abcdefghijklmno\xc3\xa9", 17);
	raw_finish(&r);
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 24: NOT malformed: a cmdline that is not UTF-8 (escaped as \xHH), an unknown
	 * protocol number. */
	raw_start(&r, EVENT_TCP_CONNECT, 24);
	put_item(&r, ITEM_CMDLINE, "a\xff\\b \xc3( \xed\xa0\x80 \xe2\x82\xac", 15);
	put_item(&r, ITEM_PROTO, "\x63", 1);
	raw_finish(&r);
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 25: header length (60) larger than the total length. */
	raw_start(&r, EVENT_TCP_CONNECT, 25);
	put_pid_comm(&r);
	raw_finish(&r);
	r.buf[3] = 60;
	if (!e)
		e = write_raw(c, &r, r.len);
	/* 26: errno of 2 bytes, after good items that must not show. */
	raw_start(&r, EVENT_TCP_CONNECT_FAILED, 26);
	put_pid_comm(&r);
	put_item(&r, ITEM_ERROR, "\x00\x6f", 2);
	raw_finish(&r);
	if (!e)
		e = write_raw(c, &r, r.len);
	return e;
}

/* A fixed pseudo-random sequence (xorshift64*), so every run writes the same file. */
static uint64_t rnd_state = UINT64_C(0x9e3779b97f4a7c15);

static uint32_t rnd(uint32_t n)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return n ? (uint32_t)((rnd_state * UINT64_C(2685821657736338717)) >> 33) % n : 0;
}

/* Offsets of the items of a record (its header length 24 assumed, as encoded). */
static size_t item_offsets(const uint8_t *rec, size_t len, size_t *off, size_t max)
{
	size_t n = 0, pos = RECORD_HEADER_LEN;

	while (pos + 4 <= len && n < max) {
		off[n++] = pos;
		pos += 4 + ((size_t)rec[pos + 2] << 8 | rec[pos + 3]);
	}
	return n;
}

static void set_total(uint8_t *rec, size_t len)
{
	rec[8] = (uint8_t)(len >> 24);
	rec[9] = (uint8_t)(len >> 16);
	rec[10] = (uint8_t)(len >> 8);
	rec[11] = (uint8_t)len;
}

/* One mutation of a well-formed record in buf (len bytes, room for size). */
static size_t mutate(uint8_t *buf, size_t len, size_t size)
{
	size_t off[64], n = item_offsets(buf, len, off, 64), k = n ? off[rnd((uint32_t)n)] : 0;
	size_t vlen = n ? ((size_t)buf[k + 2] << 8 | buf[k + 3]) : 0;

	switch (rnd(10)) {
	case 0: /* a random byte anywhere */
		buf[rnd((uint32_t)len)] = (uint8_t)rnd(256);
		break;
	case 1: /* cut short, total length kept or fixed */
		len = rnd((uint32_t)len);
		if (rnd(2) && len >= 12)
			set_total(buf, len);
		break;
	case 2: /* an item's value length off by a little */
		if (n) {
			vlen = (vlen + rnd(5) + 65534) & 0xffff; /* -2 .. +2 */
			buf[k + 2] = (uint8_t)(vlen >> 8);
			buf[k + 3] = (uint8_t)vlen;
		}
		break;
	case 3: /* an item retyped: another id, known or not */
		if (n) {
			unsigned id = rnd(3) ? 1 + rnd(ITEM_MAX - 1) : rnd(70);
			buf[k] = (uint8_t)(id >> 8);
			buf[k + 1] = (uint8_t)id;
		}
		break;
	case 4: /* an item repeated at the end, maybe with a byte changed */
		if (n && len + 4 + vlen <= size) {
			memcpy(buf + len, buf + k, 4 + vlen);
			if (vlen && rnd(2))
				buf[len + 4 + rnd((uint32_t)vlen)] = (uint8_t)rnd(256);
			len += 4 + vlen;
			set_total(buf, len);
		}
		break;
	case 5: /* a NUL or a byte that is not UTF-8 in a value */
		if (n && vlen && k + 4 + vlen <= len)
			buf[k + 4 + rnd((uint32_t)vlen)] = rnd(2) ? 0 : (uint8_t)(0x80 + rnd(128));
		break;
	case 6: /* header fields: version, header length, total length */
		if (rnd(3) == 0)
			buf[2] = (uint8_t)rnd(3);
		else if (rnd(2))
			buf[3] = (uint8_t)(20 + rnd(12));
		else
			set_total(buf, len + rnd(5) - 2);
		break;
	case 7: /* bytes after the record */
		if (len + 3 <= size) {
			memcpy(buf + len, "xyz", 3);
			len += 3;
			if (rnd(2))
				set_total(buf, len);
		}
		break;
	case 8: /* an address of the other family or an odd length, at the end */
		if (len + 4 + 16 <= size) {
			/* an IPv6 address, then bytes for the odd lengths (up to 19) */
			static const uint8_t v6[20] = {0x20, 0x01, 0x0d, 0xb8, [15] = 9};
			unsigned alen = rnd(3) ? (rnd(2) ? 4 : 16) : rnd(20);

			buf[len] = 0;
			buf[len + 1] = (uint8_t)(rnd(2) ? ITEM_LADDR : ITEM_RADDR);
			buf[len + 2] = 0;
			buf[len + 3] = (uint8_t)alen;
			memcpy(buf + len + 4, v6, alen);
			len += 4 + alen;
			set_total(buf, len);
		}
		break;
	default: /* two mutations */
		len = mutate(buf, len, size);
		len = mutate(buf, len, size);
		break;
	}
	return len;
}

/* count mutated records; about 60 % are rejected, the test needs both kinds. */
static int write_random(struct capture *c, unsigned count)
{
	int r = 0;

	for (unsigned i = 0; i < count && r >= 0; i++) {
		uint8_t buf[RECORD_MAX_LEN] = {0}; /* a mutation may copy bytes past the record */
		struct event ev;
		int len;

		/* Start from one of the --events records: encode it again. */
		memset(&ev, 0, sizeof(ev));
		ev.type = (uint16_t)(1 + rnd(9));
		ev.seq = i;
		ev.ts_ns = BASE_TS_NS;
		if (rnd(2))
			set_curl(&ev);
		else
			set_nginx(&ev);
		SET_INT(&ev, ITEM_PROTO, proto, rnd(2) ? 6 : 17);
		if (rnd(2))
			set_addrs(&ev, AF_INET, "10.0.0.1", "10.0.0.2");
		else
			set_addrs(&ev, AF_INET6, "2001:db8::1", "2001:db8::2");
		set_ports(&ev, 40000, 80);
		SET_INT(&ev, ITEM_BYTES_SENT, bytes_sent, 1000 + i);
		SET_INT(&ev, ITEM_ERROR, error, 111);
		len = record_encode(&ev, buf, sizeof(buf) - 64);
		if (len < 0)
			return len;
		len = (int)mutate(buf, (size_t)len, sizeof(buf));
		r = write_record(c, buf, (size_t)len);
	}
	return r;
}

static size_t build_tcp_frame(uint8_t *f, const char *src, const char *dst, uint16_t sport,
			      uint16_t dport, uint8_t tcp_flags, size_t payload_len);

/* A packet with a comment; with --decode, what event_comment_parse makes of the comment:
 * "FRAME comment accepted SRC_PID DST_PID" ("-" for absent), "FRAME comment rejected:
 * REASON", or nothing when the comment has no ebpf:1 line. */
static int write_commented(struct capture *c, const struct pcapng_packet_meta *meta,
			   const uint8_t *frame, size_t len)
{
	c->frames++;
	if (c->decode && meta->comment) {
		struct event src, dst;
		const char *reason = NULL;
		int r = event_comment_parse(meta->comment, &src, &dst, &reason);

		if (r == 0) {
			printf("%u comment accepted", c->frames);
			if (EVENT_HAS(&src, ITEM_PID))
				printf(" %u", src.pid);
			else
				printf(" -");
			if (EVENT_HAS(&dst, ITEM_PID))
				printf(" %u\n", dst.pid);
			else
				printf(" -\n");
		} else if (r == -EBADMSG) {
			printf("%u comment rejected: %s\n", c->frames, reason ? reason : "?");
		}
	}
	return pcapng_write_packet(c->w, c->packets_if, next_ts(c), frame, (uint32_t)len,
				   (uint32_t)len, meta);
}

/* Comments mutated from a good one: pairs cut, bad escapes, long and leading-zero
 * integers, NUL, bytes that are not UTF-8, repeated keys, unknown keys. */
static int write_random_comments(struct capture *c, unsigned count)
{
	static const char *const pieces[] = {
	    "src.pid=4242",
	    "dst.pid=80",
	    "src.pid=00000000000000000007",
	    "src.pid=000000000000000000007",
	    "src.pid=4294967295",
	    "src.pid=4294967296",
	    "dst.cgroup_id=18446744073709551615",
	    "dst.cgroup_id=18446744073709551616",
	    "src.comm=cu%72l",
	    "src.comm=%zz",
	    "src.comm=ab%4",
	    "src.comm=a%00b",
	    "src.comm=%FF%fe",
	    "src.exe=/usr/bin/curl",
	    "garbage",
	    "=x",
	    "src.color=blue",
	    "foo.pid=1",
	    "src.pid=",
	    "src.pid=12a",
	    "dst.comm=nginx",
	    "src.tid=5",
	    "src.pid=+5",
	    "dst.pid=-1",
	    "src.cmdline=a%20b%3D",
	    "dst.pod=web%",
	    "src.uid=1",
	    /* compact process tags (docs/event-format.md 9.1) */
	    "src=curl[4242]#1f",
	    "dst=nginx[80]@web%23a#A0",
	    "src=cu%5Bx[]#ff",
	    "src=curl#1f",
	    "src=curl[12]",
	    "dst=x[1]#",
	    "src=x[1]#1g",
	    "src=x[1x]#1",
	    "src=x[4294967296]#1",
	    "src=x[12]web#1",
	    "dst=a[]@p%2#1",
	    "src=[7]#12345678901234567",
	};
	uint8_t frame[FRAME_MAX];
	size_t len = build_tcp_frame(frame, "10.0.0.1", "10.0.0.2", 40000, 80, 0x10, 0);
	int r = 0;

	for (unsigned i = 0; i < count && r >= 0; i++) {
		char comment[1024];
		struct pcapng_packet_meta meta = {.comment = comment};
		unsigned n = 1 + rnd(5);
		int pos = snprintf(comment, sizeof(comment), "%s",
				   rnd(8) ? "ebpf:1" : (rnd(2) ? "note\nebpf:1" : "ebpf:1\t"));

		for (unsigned k = 0; k < n; k++)
			pos += snprintf(comment + pos, sizeof(comment) - (size_t)pos, "%s%s",
					rnd(6) ? " " : "\t",
					pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))]);
		r = write_commented(c, &meta, frame, len);
	}
	return r;
}

static uint16_t ip_checksum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Ethernet + IPv4 + TCP (20-byte headers) with payload_len zero bytes of payload. */
static size_t build_tcp_frame(uint8_t *f, const char *src, const char *dst, uint16_t sport,
			      uint16_t dport, uint8_t tcp_flags, size_t payload_len)
{
	static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 1}, mac_b[6] = {0x02, 0, 0, 0, 0, 2};
	uint8_t *ip = f + 14, *tcp = ip + 20;
	size_t ip_len = 20 + 20 + payload_len;
	uint16_t sum;

	memset(f, 0, 14 + ip_len);
	memcpy(f, mac_b, 6);
	memcpy(f + 6, mac_a, 6);
	f[12] = 0x08; /* IPv4 */
	ip[0] = 0x45;
	ip[2] = (uint8_t)(ip_len >> 8);
	ip[3] = (uint8_t)ip_len;
	ip[8] = 64;
	ip[9] = 6;
	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	sum = ip_checksum(ip, 20);
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
	tcp[0] = (uint8_t)(sport >> 8);
	tcp[1] = (uint8_t)sport;
	tcp[2] = (uint8_t)(dport >> 8);
	tcp[3] = (uint8_t)dport;
	tcp[7] = 1; /* seq 1 */
	tcp[12] = 5 << 4;
	tcp[13] = tcp_flags;
	tcp[14] = 0xff; /* window */
	return 14 + ip_len;
}

#define TCP_SYN 0x02
#define TCP_ACK 0x10
#define TCP_PSH 0x08

static const char *const curl_src =
    "src.pid=4242 src.tid=4243 src.uid=1000 src.gid=1001 src.comm=curl src.exe=/usr/bin/curl "
    "src.cmdline=curl%20-d%20a%3Db%25%20%C3%BCn%C3%AF src.ppid=4000 src.pcomm=bash "
    "src.user=alice src.group=staff src.cgroup_id=12345678901234 src.cgroup=session-1.scope";
static const char *const nginx_dst =
    "dst.pid=80 dst.tid=81 dst.comm=nginx "
    "dst.container_id=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef "
    "dst.container=web dst.pod=web-7d4b9c dst.namespace=default dst.runtime=containerd "
    "dst.image=nginx:1.25 dst.host=node-1";

struct merged_packet {
	const char *src, *dst;
	uint16_t sport, dport;
	uint8_t flags;
	size_t payload;
	bool has_pid;
	/* comment: either a fixed text, or (NULL) built from the two parts below */
	const char *comment;
	const char *part1, *part2;
};

/* Frame numbers (1-based) are what the golden table uses. */
static const struct merged_packet merged_packets[] = {
    /* 1: curl's SYN to nginx: sender curl, receiver nginx */
    {"10.0.0.1", "10.0.0.2", 40000, 80, TCP_SYN, 0, true, NULL, curl_src, nginx_dst},
    /* 2: nginx's SYN-ACK: the roles swap */
    {"10.0.0.2", "10.0.0.1", 80, 40000, TCP_SYN | TCP_ACK, 0, false,
     "ebpf:1 src.pid=80 src.comm=nginx dst.pid=4242 dst.comm=curl", NULL, NULL},
    /* 3: only the sender known */
    {"10.0.0.1", "10.0.0.2", 40000, 80, TCP_ACK | TCP_PSH, 100, true,
     "ebpf:1 src.pid=4242 src.comm=curl", NULL, NULL},
    /* 4: malformed pairs among good ones, unknown keys ignored */
    {"10.0.0.1", "10.0.0.2", 40000, 80, TCP_ACK, 0, false,
     "ebpf:1 src.pid=4242 garbage src.uid=abc src.comm=%zz src.color=blue foo.pid=1 "
     "dst.pid=99999999999 dst.comm=nginx",
     NULL, NULL},
    /* 5: a comment that is not ours */
    {"10.0.0.1", "10.0.0.2", 40000, 80, TCP_ACK, 0, false, "hello from a human", NULL, NULL},
    /* 6: no comment at all */
    {"10.0.0.1", "10.0.0.2", 40000, 80, TCP_ACK, 0, false, NULL, NULL, NULL},
    /* 7: a later format version: not ours either */
    {"10.0.0.1", "10.0.0.2", 40000, 80, TCP_ACK, 0, false, "ebpf:10 src.pid=1", NULL, NULL},
    /* 8: our line after a human's line; u64 cgroup id above 2^53 */
    {"10.0.0.2", "10.0.0.1", 80, 40000, TCP_ACK, 0, false,
     "checked by hand\nebpf:1 src.pid=80 src.comm=nginx src.cgroup_id=18446744073709551615", NULL,
     NULL},
    /* 9: a NUL, percent-encoded: the whole line is malformed */
    {"10.0.0.1", "10.0.0.2", 40000, 80, TCP_ACK, 0, false,
     "ebpf:1 src.pid=1 src.pid=9 src.comm=bad%FFutf8 src.exe=nul%00here", NULL, NULL},
};

/* After the 70-pair frame (10); frame numbers continue from 11. */
static const char *const merged_more[] = {
    /* 11: repeated keys (last wins), bytes that are not UTF-8, 20 digits with leading
     * zeros, a comm over its limit, unknown keys */
    "ebpf:1 src.pid=1 src.pid=9 src.comm=bad%FFutf8%e2%82 src.tid=00000000000000000042 "
    "src.pcomm=abcdefghijklmnopqrst src.color=blue =x dst.pid=7",
    /* 12: an integer of 21 digits, even if its value fits */
    "ebpf:1 src.pid=000000000000000000042 src.comm=curl",
    /* 13: a u64 one above its maximum */
    "ebpf:1 src.pid=5 src.cgroup_id=18446744073709551616",
    /* 14: a truncated percent escape */
    "ebpf:1 src.pid=5 src.comm=ab%4",
};

static int write_merged(struct capture *c)
{
	static char comment[4096];
	uint8_t frame[FRAME_MAX];
	int r;

	for (size_t i = 0; i < sizeof(merged_packets) / sizeof(merged_packets[0]); i++) {
		const struct merged_packet *p = &merged_packets[i];
		struct pcapng_packet_meta meta = {.has_pid = p->has_pid, .pid = 4242, .tid = 4243};
		size_t len = build_tcp_frame(frame, p->src, p->dst, p->sport, p->dport, p->flags,
					     p->payload);

		if (p->part1) {
			snprintf(comment, sizeof(comment), "ebpf:1 %s %s", p->part1, p->part2);
			meta.comment = comment;
		} else {
			meta.comment = p->comment;
		}
		r = write_commented(c, &meta, frame, len);
		if (r < 0)
			return r;
	}

	/* 10: more pairs than a reader looks at (64): src.pid=1 ... src.pid=70. */
	{
		struct pcapng_packet_meta meta = {.comment = comment};
		size_t len = build_tcp_frame(frame, "10.0.0.1", "10.0.0.2", 40000, 80, TCP_ACK, 0);
		int n = snprintf(comment, sizeof(comment), "ebpf:1");

		for (int i = 1; i <= 70; i++)
			n += snprintf(comment + n, sizeof(comment) - (size_t)n, " src.pid=%d", i);
		r = write_commented(c, &meta, frame, len);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < sizeof(merged_more) / sizeof(merged_more[0]); i++) {
		struct pcapng_packet_meta meta = {.comment = merged_more[i]};
		size_t len = build_tcp_frame(frame, "10.0.0.1", "10.0.0.2", 40000, 80, TCP_ACK, 0);

		r = write_commented(c, &meta, frame, len);
		if (r < 0)
			return r;
	}
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: mkcapture [--events] [--malformed] [--merged] [--random N] [--decode] "
		     "OUTPUT.pcapng\n");
}

int main(int argc, char **argv)
{
	bool events = false, malformed = false, merged = false;
	unsigned random = 0;
	const char *path = NULL;
	struct capture c = {.ts_ns = BASE_TS_NS};
	int r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--events")) {
			events = true;
		} else if (!strcmp(argv[i], "--malformed")) {
			malformed = true;
		} else if (!strcmp(argv[i], "--merged")) {
			merged = true;
		} else if (!strcmp(argv[i], "--random") && i + 1 < argc) {
			random = (unsigned)strtoul(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--decode")) {
			c.decode = true;
		} else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			usage(stderr);
			return 2;
		} else if (!path) {
			path = argv[i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!path || !(events || malformed || merged || random)) {
		usage(stderr);
		return 2;
	}

	r = pcapng_writer_open_path(path, "mkcapture (ebpfdump tests)", &c.w);
	if (r < 0) {
		fprintf(stderr, "mkcapture: cannot open %s: %s\n", path, strerror(-r));
		return 1;
	}
	if (events || malformed || random) {
		struct pcapng_interface iface = {.linktype = LINKTYPE_WIRESHARK_UPPER_PDU,
						 .name = "ebpfevents",
						 .description = "eBPF Events"};
		r = pcapng_add_interface(c.w, &iface, &c.events_if);
	}
	if (r >= 0 && (merged || random)) {
		struct pcapng_interface iface = {
		    .linktype = LINKTYPE_ETHERNET, .snaplen = 262144, .name = "veth0"};
		r = pcapng_add_interface(c.w, &iface, &c.packets_if);
	}
	if (r >= 0 && events)
		r = write_events(&c);
	if (r >= 0 && malformed)
		r = write_malformed(&c);
	if (r >= 0 && random)
		r = write_random(&c, random);
	if (r >= 0 && random)
		r = write_random_comments(&c, random / 3);
	if (r >= 0 && merged)
		r = write_merged(&c);
	if (r >= 0)
		r = pcapng_writer_flush(c.w);
	c.w = pcapng_writer_close(c.w);
	if (r < 0) {
		fprintf(stderr, "mkcapture: cannot write %s: %s\n", path, strerror(-r));
		return 1;
	}
	return 0;
}
