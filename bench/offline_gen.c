/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offline_gen: writes a packet capture and a matching events capture for
 * the offline merge test and benchmark.
 *
 *   offline_gen [--flows F] [--packets N] [--payload B] [--burst K] [--ns] [--reopen]
 *               [--rich] PACKETS.pcap EVENTS.pcapng
 *
 * F TCP/IPv4 connections (default 1000) between clients and one server,
 * N packets in all (default 1,000,000) of B payload bytes (default 64) in
 * Ethernet frames, written as a pcap file (microseconds like tcpdump's
 * default; --ns for nanoseconds, with sub-microsecond parts in the
 * stamps), one packet per microsecond. Flows take
 * turns in bursts of K packets (default 16), alternating direction; a
 * flow's first packet is its SYN. EVENTS gets, per flow, a TCP_Connect
 * 20 us after the SYN (so the SYN waits in the reorder window, as it does
 * live) and a TCP_Accept 30 us after it (the events file stays in time order
 * for bursts of 11 packets or more).
 *
 * Deterministic identities, so tests can check tags from the packets
 * alone: client k is 10.1.(k / 250).(k % 250 + 1), port 20000 + k, pid
 * 2000 + k % 97, comm "cli<k % 97>"; the server is 10.2.0.1:80, pid 80,
 * comm "srv".
 *
 * --reopen: halfway, every flow closes (TCP_Close of both ends, 2.5 s
 * later), and the second half, 5 s after the first, reopens the same
 * 5-tuples for other clients: pid 3000 + k % 89, comm "new<k % 89>". The
 * old owners expire from the merge's table meanwhile, so their memory can
 * be reused for the new ones: the tags must follow.
 *
 * --rich: each identity also has what a live capture's events carry (exe,
 * a 90-byte command line, uid/gid, user and group names, parent, cgroup),
 * so a full comment is as long as on a real host (about 400 bytes for
 * both sides) instead of pid and comm only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "event/record.h"
#include "pcapng/writer.h"

#define T0_NS 1700000000000000000ull
#define STEP_NS 1000ull /* one packet per microsecond */
#define CONNECT_DELAY_NS 20000ull
#define ACCEPT_DELAY_NS 30000ull
#define FLOWS_MAX 40000u /* client ports 20000..59999 */
#define PAYLOAD_MAX 9000u
#define FRAME_HEAD 54u /* Ethernet 14 + IPv4 20 + TCP 20 */
#define SERVER_PORT 80
#define SERVER_PID 80
#define CLIENT_PORT_BASE 20000u
#define CLIENT_PID_BASE 2000u
#define CLIENT_PID_SPREAD 97u
/* --reopen: the second half's clients */
#define REOPEN_PID_BASE 3000u
#define REOPEN_PID_SPREAD 89u
#define REOPEN_GAP_NS 5000000000ull /* longer than the merge's linger */

static void client_addr(uint32_t k, uint8_t a[4])
{
	a[0] = 10;
	a[1] = 1;
	a[2] = (uint8_t)(k / 250);
	a[3] = (uint8_t)(k % 250 + 1);
}

static const uint8_t server_addr[4] = {10, 2, 0, 1};

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static size_t build_frame(uint8_t *f, uint32_t k, bool to_server, bool syn, uint32_t seq,
			  uint32_t payload)
{
	uint8_t c[4];
	const uint8_t *src, *dst;
	uint16_t sport, dport, tot = (uint16_t)(20 + 20 + (syn ? 0 : payload));

	client_addr(k, c);
	src = to_server ? c : server_addr;
	dst = to_server ? server_addr : c;
	sport = (uint16_t)(to_server ? CLIENT_PORT_BASE + k : SERVER_PORT);
	dport = (uint16_t)(to_server ? SERVER_PORT : CLIENT_PORT_BASE + k);

	memset(f, 0, FRAME_HEAD);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	f[12] = 0x08; /* IPv4 */
	f[14] = 0x45;
	f[16] = (uint8_t)(tot >> 8);
	f[17] = (uint8_t)tot;
	f[18] = (uint8_t)(seq >> 8);
	f[19] = (uint8_t)seq;
	f[22] = 64;
	f[23] = 6; /* TCP */
	memcpy(f + 26, src, 4);
	memcpy(f + 30, dst, 4);
	{
		uint16_t s = csum(f + 14, 20);

		f[24] = (uint8_t)(s >> 8);
		f[25] = (uint8_t)s;
	}
	f[34] = (uint8_t)(sport >> 8);
	f[35] = (uint8_t)sport;
	f[36] = (uint8_t)(dport >> 8);
	f[37] = (uint8_t)dport;
	f[38] = (uint8_t)(seq >> 24);
	f[39] = (uint8_t)(seq >> 16);
	f[40] = (uint8_t)(seq >> 8);
	f[41] = (uint8_t)seq;
	f[46] = 5 << 4;
	f[47] = syn ? 0x02 : 0x18; /* SYN, or PSH|ACK */
	f[48] = 0xff;
	f[49] = 0xff;
	if (syn)
		return FRAME_HEAD;
	for (uint32_t i = 0; i < payload; i++)
		f[FRAME_HEAD + i] = (uint8_t)('a' + (seq + i) % 26);
	return FRAME_HEAD + payload;
}

static bool rich;

static void set_str(struct event *ev, unsigned item, char *field, size_t size, const char *s)
{
	event_copy_str(field, size, s, strlen(s));
	EVENT_SET(ev, item);
}

static void set_identity(struct event *ev, uint32_t pid, const char *comm)
{
	char text[256];

	ev->pid = pid;
	ev->tid = pid;
	EVENT_SET(ev, ITEM_PID);
	EVENT_SET(ev, ITEM_TID);
	set_str(ev, ITEM_COMM, ev->comm, sizeof(ev->comm), comm);
	if (!rich)
		return;
	ev->uid = ev->gid = 33;
	ev->ppid = 1;
	ev->cgroup_id = 4242;
	ev->present |= EVENT_BIT(ITEM_UID) | EVENT_BIT(ITEM_GID) | EVENT_BIT(ITEM_PPID) |
		       EVENT_BIT(ITEM_CGROUP_ID);
	snprintf(text, sizeof(text), "/usr/local/bin/%s", comm);
	set_str(ev, ITEM_EXE, ev->exe, sizeof(ev->exe), text);
	snprintf(text, sizeof(text),
		 "%s --connect 10.2.0.1:80 --threads 4 --duration 30 --json --log /var/log/%s.log",
		 comm, comm);
	set_str(ev, ITEM_CMDLINE, ev->cmdline, sizeof(ev->cmdline), text);
	set_str(ev, ITEM_USER, ev->user, sizeof(ev->user), "www-data");
	set_str(ev, ITEM_GROUP, ev->group, sizeof(ev->group), "www-data");
	set_str(ev, ITEM_PCOMM, ev->pcomm, sizeof(ev->pcomm), "systemd");
	set_str(ev, ITEM_CGROUP, ev->cgroup, sizeof(ev->cgroup), "app.service");
}

/* One event record into the events file. */
static int put_event(struct pcapng_writer *w, uint32_t if_id, const struct event *ev)
{
	uint8_t rec[RECORD_MAX_LEN];
	int len = record_encode(ev, rec, sizeof(rec));

	return len < 0 ? len : pcapng_write_event(w, if_id, ev->ts_ns, rec, (size_t)len);
}

static void set_tuple(struct event *ev, uint32_t k, bool server)
{
	uint8_t c[4];

	client_addr(k, c);
	ev->family = AF_INET;
	ev->proto = 6;
	memcpy(ev->laddr, server ? server_addr : c, 4);
	memcpy(ev->raddr, server ? c : server_addr, 4);
	ev->lport = (uint16_t)(server ? SERVER_PORT : CLIENT_PORT_BASE + k);
	ev->rport = (uint16_t)(server ? CLIENT_PORT_BASE + k : SERVER_PORT);
	ev->present |= EVENT_BIT(ITEM_PROTO) | EVENT_BIT(ITEM_LADDR) | EVENT_BIT(ITEM_RADDR) |
		       EVENT_BIT(ITEM_LPORT) | EVENT_BIT(ITEM_RPORT);
}

/* Both ends of flow k close at ts (identity left out: the close of a
 * known flow needs none). */
static int write_closes(struct pcapng_writer *w, uint32_t if_id, uint32_t k, uint64_t ts,
			uint32_t *seq)
{
	static struct event ev;

	for (int side = 0; side < 2; side++) {
		int r;

		memset(&ev, 0, sizeof(ev));
		ev.type = EVENT_TCP_CLOSE;
		ev.seq = (*seq)++;
		ev.ts_ns = ts;
		set_tuple(&ev, k, side);
		r = put_event(w, if_id, &ev);
		if (r < 0)
			return r;
	}
	return 0;
}

static int write_events(struct pcapng_writer *w, uint32_t if_id, uint32_t k, uint64_t syn_ts,
			bool second, uint32_t *seq)
{
	static struct event ev;
	char comm[EVENT_COMM_MAX + 1];

	for (int side = 0; side < 2; side++) {
		int r;

		memset(&ev, 0, sizeof(ev));
		ev.type = side ? EVENT_TCP_ACCEPT : EVENT_TCP_CONNECT;
		ev.seq = (*seq)++;
		ev.ts_ns = syn_ts + (side ? ACCEPT_DELAY_NS : CONNECT_DELAY_NS);
		set_tuple(&ev, k, side);
		if (side) {
			set_identity(&ev, SERVER_PID, "srv");
		} else if (!second) {
			snprintf(comm, sizeof(comm), "cli%u", k % CLIENT_PID_SPREAD);
			set_identity(&ev, CLIENT_PID_BASE + k % CLIENT_PID_SPREAD, comm);
		} else {
			snprintf(comm, sizeof(comm), "new%u", k % REOPEN_PID_SPREAD);
			set_identity(&ev, REOPEN_PID_BASE + k % REOPEN_PID_SPREAD, comm);
		}
		r = put_event(w, if_id, &ev);
		if (r < 0)
			return r;
	}
	return 0;
}

static void put32(FILE *f, uint32_t v)
{
	fwrite(&v, sizeof(v), 1, f);
}

static void put16(FILE *f, uint16_t v)
{
	fwrite(&v, sizeof(v), 1, f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"flows", required_argument, NULL, 'f'},
	    {"packets", required_argument, NULL, 'n'},
	    {"payload", required_argument, NULL, 'p'},
	    {"burst", required_argument, NULL, 'b'},
	    {"ns", no_argument, NULL, 's'},
	    {"reopen", no_argument, NULL, 'r'},
	    {"rich", no_argument, NULL, 'R'},
	    {0},
	};
	static uint8_t frame[FRAME_HEAD + PAYLOAD_MAX];
	struct pcapng_interface ev_if = {
	    .linktype = LINKTYPE_WIRESHARK_UPPER_PDU,
	    .snaplen = RECORD_MAX_LEN + 64,
	    .name = "ebpfevents",
	    .description = "eBPF Events",
	};
	uint32_t flows = 1000, payload = 64, burst = 16, if_id, ev_seq = 0;
	uint64_t packets = 1000000;
	bool ns = false, reopen = false, *started;
	struct pcapng_writer *w;
	FILE *pf;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			flows = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'R':
			rich = true;
			break;
		case 'n':
			packets = strtoull(optarg, NULL, 0);
			break;
		case 'p':
			payload = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'b':
			burst = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 's':
			ns = true;
			break;
		case 'r':
			reopen = true;
			break;
		default:
			return 2;
		}
	}
	if (argc - optind != 2 || !flows || flows > FLOWS_MAX || payload > PAYLOAD_MAX || !burst) {
		fprintf(stderr,
			"usage: offline_gen [--flows F<=%u] [--packets N] [--payload B<=%u] "
			"[--burst K] [--ns] [--reopen] PACKETS.pcap EVENTS.pcapng\n",
			FLOWS_MAX, PAYLOAD_MAX);
		return 2;
	}
	started = calloc(flows, sizeof(*started));
	pf = fopen(argv[optind], "w");
	if (!started || !pf) {
		perror(argv[optind]);
		return 1;
	}
	setvbuf(pf, NULL, _IOFBF, 1 << 20);
	r = pcapng_writer_open_path(argv[optind + 1], "offline_gen", &w);
	if (r == 0)
		r = pcapng_add_interface(w, &ev_if, &if_id);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", argv[optind + 1], strerror(-r));
		return 1;
	}
	/* pcap header: host byte order, as tcpdump writes it */
	put32(pf, ns ? 0xa1b23c4d : 0xa1b2c3d4);
	put16(pf, 2);
	put16(pf, 4);
	put32(pf, 0);
	put32(pf, 0);
	put32(pf, 262144);
	put32(pf, 1);
	for (uint64_t i = 0; i < packets; i++) {
		bool second = reopen && i >= packets / 2;
		/* With --ns, a sub-microsecond part that a us file would lose. */
		uint64_t ts =
		    T0_NS + i * STEP_NS + (ns ? i * 7919 % 1000 : 0) + (second ? REOPEN_GAP_NS : 0);
		uint32_t k = (uint32_t)((i / burst) % flows), n;
		bool syn;

		if (reopen && i == packets / 2) {
			/* Every flow closes, and opens again in the second
			 * half with other client processes. */
			for (uint32_t f = 0; f < flows; f++) {
				if (started[f] && write_closes(w, if_id, f, ts - REOPEN_GAP_NS / 2,
							       &ev_seq) < 0) {
					fprintf(stderr, "cannot write events\n");
					return 1;
				}
				started[f] = false;
			}
		}
		syn = !started[k];
		n = (uint32_t)build_frame(frame, k, syn || i % 2 == 0, syn, (uint32_t)i, payload);
		if (syn) {
			started[k] = true;
			if (write_events(w, if_id, k, ts, second, &ev_seq) < 0) {
				fprintf(stderr, "cannot write events\n");
				return 1;
			}
		}
		put32(pf, (uint32_t)(ts / 1000000000ull));
		put32(pf, (uint32_t)(ns ? ts % 1000000000ull : ts % 1000000000ull / 1000));
		put32(pf, n);
		put32(pf, n);
		fwrite(frame, 1, n, pf);
	}
	if (fclose(pf) != 0 || pcapng_writer_flush(w) < 0) {
		fprintf(stderr, "write failed\n");
		return 1;
	}
	pcapng_writer_close(w);
	free(started);
	return 0;
}
