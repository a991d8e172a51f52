/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of capture/parse: crafted frames for every path, truncation
 * at every byte, random garbage for every link type. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "packet/parse.h"
#include "test_util.h"

#define FRAME_MAX 1024

struct frame {
	uint8_t b[FRAME_MAX];
	uint32_t len;
	uint32_t l3; /* where the IP header starts, for length fix-ups */
};

static void put(struct frame *f, const void *p, size_t n)
{
	if (f->len + n > FRAME_MAX)
		abort();
	memcpy(f->b + f->len, p, n);
	f->len += (uint32_t)n;
}

static void put8(struct frame *f, uint8_t v)
{
	put(f, &v, 1);
}

static void put16(struct frame *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static void put32(struct frame *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

static void zeros(struct frame *f, size_t n)
{
	while (n--)
		put8(f, 0);
}

static void eth(struct frame *f, uint16_t type)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };

	put(f, macs, sizeof(macs));
	put16(f, type);
}

static void vlan(struct frame *f, uint16_t vid, uint16_t next_type)
{
	put16(f, vid);
	put16(f, next_type);
}

static void sll(struct frame *f, uint16_t hatype, uint16_t proto)
{
	put16(f, 0);	  /* packet type: to us */
	put16(f, hatype); /* ARPHRD_ETHER 1 */
	put16(f, 6);
	zeros(f, 8);
	put16(f, proto);
}

static void sll2(struct frame *f, uint16_t proto)
{
	put16(f, proto);
	put16(f, 0);
	put32(f, 3); /* ifindex */
	put16(f, 1); /* ARPHRD_ETHER */
	put8(f, 4);  /* outgoing */
	put8(f, 6);
	zeros(f, 8);
}

static const uint8_t v4a[4] = { 10, 0, 0, 1 }, v4b[4] = { 10, 0, 0, 2 };
static const uint8_t v6a[16] = { 0xfd, 0, [15] = 1 }, v6b[16] = { 0xfd, 0, [15] = 2 };

/* IPv4 header with optlen bytes of options (NOPs); total length patched
 * by ip_done(). frag is the flags/offset field. */
static void ipv4(struct frame *f, uint8_t proto, unsigned optlen, uint16_t id, uint16_t frag)
{
	f->l3 = f->len;
	put8(f, (uint8_t)(0x40 | (5 + optlen / 4)));
	put8(f, 0);
	put16(f, 0); /* total length, ip_done() */
	put16(f, id);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put(f, v4a, 4);
	put(f, v4b, 4);
	for (unsigned i = 0; i < optlen; i++)
		put8(f, 1);
}

static void ip_done(struct frame *f)
{
	uint32_t total = f->len - f->l3;

	if ((f->b[f->l3] >> 4) == 4) {
		f->b[f->l3 + 2] = (uint8_t)(total >> 8);
		f->b[f->l3 + 3] = (uint8_t)total;
	} else {
		total -= 40;
		f->b[f->l3 + 4] = (uint8_t)(total >> 8);
		f->b[f->l3 + 5] = (uint8_t)total;
	}
}

static void ipv6(struct frame *f, uint8_t next)
{
	f->l3 = f->len;
	put32(f, 0x60000000);
	put16(f, 0); /* payload length, ip_done() */
	put8(f, next);
	put8(f, 64);
	put(f, v6a, 16);
	put(f, v6b, 16);
}

/* Generic extension header of 8 * (1 + len8) bytes. */
static void ext(struct frame *f, uint8_t next, uint8_t len8)
{
	put8(f, next);
	put8(f, len8);
	zeros(f, 6 + 8u * len8);
}

static void frag6(struct frame *f, uint8_t next, uint16_t offset, bool more, uint32_t id)
{
	put8(f, next);
	put8(f, 0);
	put16(f, (uint16_t)((offset / 8) << 3 | (more ? 1 : 0)));
	put32(f, id);
}

static void ah(struct frame *f, uint8_t next)
{
	put8(f, next);
	put8(f, 4); /* (4 + 2) * 4 = 24 bytes */
	zeros(f, 22);
}

static void tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags, unsigned doff)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, 1);
	put32(f, 0);
	put8(f, (uint8_t)(doff << 4));
	put8(f, flags);
	put16(f, 65535);
	put32(f, 0);
	zeros(f, doff * 4 > 20 ? doff * 4 - 20 : 0);
}

static void udp(struct frame *f, uint16_t sport, uint16_t dport, unsigned payload)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, (uint16_t)(8 + payload));
	put16(f, 0);
	zeros(f, payload);
}

/* ---- the golden cases ---- */

static void f_eth_v4_tcp(struct frame *f)
{
	eth(f, 0x0800);
	ipv4(f, 6, 0, 0x1234, 0x4000);
	tcp(f, 40000, 80, 0x02, 5);
	ip_done(f);
}

static void f_eth_vlan_v4_udp(struct frame *f)
{
	eth(f, 0x8100);
	vlan(f, 100, 0x0800);
	ipv4(f, 17, 0, 7, 0);
	udp(f, 5353, 53, 12);
	ip_done(f);
}

static void f_eth_qinq_v6_tcp(struct frame *f)
{
	eth(f, 0x88a8);
	vlan(f, 10, 0x8100);
	vlan(f, 20, 0x86dd);
	ipv6(f, 6);
	tcp(f, 443, 50000, 0x12, 8);
	ip_done(f);
}

static void f_eth_oldqinq_v4(struct frame *f)
{
	eth(f, 0x9100);
	vlan(f, 10, 0x8100);
	vlan(f, 20, 0x0800);
	ipv4(f, 6, 0, 1, 0);
	tcp(f, 1, 2, 0x10, 5);
	ip_done(f);
}

static void f_sll_v4_tcp(struct frame *f)
{
	sll(f, 1, 0x0800);
	ipv4(f, 6, 0, 1, 0);
	tcp(f, 33000, 8080, 0x18, 5);
	ip_done(f);
}

static void f_sll_vlan_v4(struct frame *f)
{
	sll(f, 1, 0x8100);
	vlan(f, 5, 0x0800);
	ipv4(f, 17, 0, 1, 0);
	udp(f, 1000, 2000, 0);
	ip_done(f);
}

static void f_sll_netlink(struct frame *f)
{
	sll(f, 824, 0x0800); /* netlink family 0x800 would be nonsense anyway */
	zeros(f, 40);
}

static void f_sll2_v6_udp(struct frame *f)
{
	sll2(f, 0x86dd);
	ipv6(f, 17);
	udp(f, 546, 547, 30);
	ip_done(f);
}

static void f_raw_v4(struct frame *f)
{
	ipv4(f, 17, 0, 1, 0);
	udp(f, 123, 123, 48);
	ip_done(f);
}

static void f_raw_v6(struct frame *f)
{
	ipv6(f, 6);
	tcp(f, 22, 60000, 0x10, 5);
	ip_done(f);
}

static void f_v4_options(struct frame *f)
{
	eth(f, 0x0800);
	ipv4(f, 6, 12, 9, 0);
	tcp(f, 1234, 5678, 0x02, 6);
	ip_done(f);
}

static void f_v4_first_frag(struct frame *f)
{
	eth(f, 0x0800);
	ipv4(f, 17, 0, 0xbeef, 0x2000);
	udp(f, 4000, 4001, 64);
	ip_done(f);
}

static void f_v4_later_frag(struct frame *f)
{
	eth(f, 0x0800);
	ipv4(f, 17, 0, 0xbeef, 0x2000 | 9); /* offset 72, more */
	zeros(f, 64);
	ip_done(f);
}

static void f_v6_hbh_rt_frag_tcp(struct frame *f)
{
	eth(f, 0x86dd);
	ipv6(f, 0);
	ext(f, 43, 0);
	ext(f, 44, 1);
	frag6(f, 6, 0, true, 0xdeadbeef);
	tcp(f, 7000, 7001, 0x18, 5);
	zeros(f, 16);
	ip_done(f);
}

static void f_v6_later_frag(struct frame *f)
{
	eth(f, 0x86dd);
	ipv6(f, 44);
	frag6(f, 6, 1448, false, 0xdeadbeef);
	zeros(f, 32);
	ip_done(f);
}

static void f_v6_dst_ah_udp(struct frame *f)
{
	ipv6(f, 60);
	ext(f, 51, 0);
	ah(f, 17);
	udp(f, 500, 4500, 8);
	ip_done(f);
}

static void f_v6_esp(struct frame *f)
{
	ipv6(f, 50);
	zeros(f, 40);
	ip_done(f);
}

static void f_v6_atomic_frag(struct frame *f)
{
	ipv6(f, 44);
	frag6(f, 17, 0, false, 77);
	udp(f, 9, 10, 0);
	ip_done(f);
}

static void f_v6_too_many_ext(struct frame *f)
{
	ipv6(f, 60);
	for (int i = 0; i < PACKET_IPV6_EXT_MAX; i++)
		ext(f, 60, 0);
	ext(f, 6, 0);
	tcp(f, 1, 2, 0, 5);
	ip_done(f);
}

static void f_v6_max_ext(struct frame *f)
{
	ipv6(f, 60);
	for (int i = 0; i < PACKET_IPV6_EXT_MAX - 1; i++)
		ext(f, 60, 0);
	ext(f, 6, 0);
	tcp(f, 1, 2, 0, 5);
	ip_done(f);
}

static void f_arp(struct frame *f)
{
	eth(f, 0x0806);
	put16(f, 1);
	put16(f, 0x0800);
	zeros(f, 24);
}

static void f_llc(struct frame *f)
{
	eth(f, 46); /* 802.3 length */
	zeros(f, 46);
}

static void f_icmp(struct frame *f)
{
	eth(f, 0x0800);
	ipv4(f, 1, 0, 1, 0);
	put32(f, 0x08000000);
	put32(f, 1);
	ip_done(f);
}

static void f_vlan_too_deep(struct frame *f)
{
	eth(f, 0x8100);
	for (int i = 0; i < PACKET_VLAN_MAX; i++)
		vlan(f, 1, 0x8100);
	vlan(f, 1, 0x0800);
	ipv4(f, 6, 0, 1, 0);
	tcp(f, 1, 2, 0, 5);
	ip_done(f);
}

static void f_v4_bad_ihl(struct frame *f)
{
	f_eth_v4_tcp(f);
	f->b[14] = 0x44;
}

static void f_v4_bad_version(struct frame *f)
{
	f_eth_v4_tcp(f);
	f->b[14] = 0x55;
}

static void f_v4_total_short(struct frame *f)
{
	f_eth_v4_tcp(f);
	f->b[16] = 0;
	f->b[17] = 12;
}

static void f_tcp_bad_doff(struct frame *f)
{
	f_eth_v4_tcp(f);
	f->b[14 + 20 + 12] = 0x30;
}

static void f_snap_ports_only(struct frame *f)
{
	f_eth_v4_tcp(f);
	f->len = 14 + 20 + 4; /* snaplen 38: ports, no flags */
}

static void f_eth_padding(struct frame *f)
{
	eth(f, 0x0800);
	ipv4(f, 17, 0, 1, 0);
	udp(f, 7, 7, 2);
	ip_done(f);
	zeros(f, 60 - f->len); /* padded to the Ethernet minimum */
}

static void f_tso_zero_len(struct frame *f)
{
	f_eth_v4_tcp(f);
	zeros(f, 600);
	f->b[16] = f->b[17] = 0;
}

static void f_raw_garbage_version(struct frame *f)
{
	put8(f, 0x75);
	zeros(f, 40);
}

struct golden {
	const char *name;
	int linktype;
	void (*build)(struct frame *f);
	int ret;
	enum packet_reason reason;
	uint8_t family, proto;
	uint16_t sport, dport;
	uint8_t flags; /* PACKET_F_* that must be set */
	uint32_t l3, l4;
	uint32_t ip_id;
	uint8_t tcp_flags;
};

#define ETHL PACKET_LINKTYPE_ETHERNET
/* A frame that must not parse: only the error and reason matter. */
#define REJECT(n, lt, fn, err, why)                                                                \
	{ .name = n, .linktype = lt, .build = fn, .ret = err, .reason = why }

static const struct golden cases[] = {
	{ "eth ipv4 tcp syn", ETHL, f_eth_v4_tcp, 0, PACKET_OK, AF_INET, 6, 40000, 80, 0, 14, 34,
	  0x1234, 0x02 },
	{ "802.1Q ipv4 udp", ETHL, f_eth_vlan_v4_udp, 0, PACKET_OK, AF_INET, 17, 5353, 53,
	  PACKET_F_VLAN, 18, 38, 7, 0 },
	{ "802.1ad QinQ ipv6 tcp", ETHL, f_eth_qinq_v6_tcp, 0, PACKET_OK, AF_INET6, 6, 443, 50000,
	  PACKET_F_VLAN, 22, 62, 0, 0x12 },
	{ "0x9100 QinQ ipv4", ETHL, f_eth_oldqinq_v4, 0, PACKET_OK, AF_INET, 6, 1, 2, PACKET_F_VLAN,
	  22, 42, 1, 0x10 },
	{ "SLL ipv4 tcp", PACKET_LINKTYPE_LINUX_SLL, f_sll_v4_tcp, 0, PACKET_OK, AF_INET, 6, 33000,
	  8080, 0, 16, 36, 1, 0x18 },
	{ "SLL vlan ipv4 udp", PACKET_LINKTYPE_LINUX_SLL, f_sll_vlan_v4, 0, PACKET_OK, AF_INET, 17,
	  1000, 2000, PACKET_F_VLAN, 20, 40, 1, 0 },
	REJECT("SLL netlink", PACKET_LINKTYPE_LINUX_SLL, f_sll_netlink, -ENOMSG, PACKET_NOT_IP),
	{ "SLL2 ipv6 udp", PACKET_LINKTYPE_LINUX_SLL2, f_sll2_v6_udp, 0, PACKET_OK, AF_INET6, 17,
	  546, 547, 0, 20, 60, 0, 0 },
	{ "raw(101) ipv4", PACKET_LINKTYPE_RAW, f_raw_v4, 0, PACKET_OK, AF_INET, 17, 123, 123, 0, 0,
	  20, 1, 0 },
	{ "raw(101) ipv6", PACKET_LINKTYPE_RAW, f_raw_v6, 0, PACKET_OK, AF_INET6, 6, 22, 60000, 0,
	  0, 40, 0, 0x10 },
	{ "DLT_RAW 12 ipv6", PACKET_LINKTYPE_DLT_RAW1, f_raw_v6, 0, PACKET_OK, AF_INET6, 6, 22,
	  60000, 0, 0, 40, 0, 0x10 },
	{ "DLT_RAW 14 ipv4", PACKET_LINKTYPE_DLT_RAW2, f_raw_v4, 0, PACKET_OK, AF_INET, 17, 123,
	  123, 0, 0, 20, 1, 0 },
	{ "LINKTYPE_IPV4", PACKET_LINKTYPE_IPV4, f_raw_v4, 0, PACKET_OK, AF_INET, 17, 123, 123, 0,
	  0, 20, 1, 0 },
	{ "LINKTYPE_IPV6", PACKET_LINKTYPE_IPV6, f_raw_v6, 0, PACKET_OK, AF_INET6, 6, 22, 60000, 0,
	  0, 40, 0, 0x10 },
	REJECT("LINKTYPE_IPV4 given ipv6", PACKET_LINKTYPE_IPV4, f_raw_v6, -EBADMSG,
	       PACKET_MALFORMED),
	REJECT("raw version 7", PACKET_LINKTYPE_RAW, f_raw_garbage_version, -EBADMSG,
	       PACKET_MALFORMED),
	{ "ipv4 options", ETHL, f_v4_options, 0, PACKET_OK, AF_INET, 6, 1234, 5678, 0, 14, 46, 9,
	  0x02 },
	{ "ipv4 first fragment", ETHL, f_v4_first_frag, 0, PACKET_OK, AF_INET, 17, 4000, 4001,
	  PACKET_F_FRAGMENT | PACKET_F_FIRST_FRAGMENT, 14, 34, 0xbeef, 0 },
	{ "ipv4 later fragment", ETHL, f_v4_later_frag, 0, PACKET_NO_PORTS_FRAGMENT, AF_INET, 17, 0,
	  0, PACKET_F_FRAGMENT, 14, 0, 0xbeef, 0 },
	{ "ipv6 hbh+routing+fragment tcp", ETHL, f_v6_hbh_rt_frag_tcp, 0, PACKET_OK, AF_INET6, 6,
	  7000, 7001, PACKET_F_FRAGMENT | PACKET_F_FIRST_FRAGMENT, 14, 14 + 40 + 8 + 16 + 8,
	  0xdeadbeef, 0x18 },
	{ "ipv6 later fragment", ETHL, f_v6_later_frag, 0, PACKET_NO_PORTS_FRAGMENT, AF_INET6, 6, 0,
	  0, PACKET_F_FRAGMENT, 14, 0, 0xdeadbeef, 0 },
	{ "ipv6 dstopts+AH udp", PACKET_LINKTYPE_RAW, f_v6_dst_ah_udp, 0, PACKET_OK, AF_INET6, 17,
	  500, 4500, 0, 0, 40 + 8 + 24, 0, 0 },
	{ .name = "ipv6 ESP", .linktype = PACKET_LINKTYPE_RAW, .build = f_v6_esp,
	  .reason = PACKET_NO_PORTS_PROTO, .family = AF_INET6, .proto = 50 },
	{ "ipv6 atomic fragment", PACKET_LINKTYPE_RAW, f_v6_atomic_frag, 0, PACKET_OK, AF_INET6, 17,
	  9, 10, 0, 0, 48, 77, 0 },
	{ "ipv6 ext limit", PACKET_LINKTYPE_RAW, f_v6_max_ext, 0, PACKET_OK, AF_INET6, 6, 1, 2, 0,
	  0, 40 + 8 * PACKET_IPV6_EXT_MAX, 0, 0 },
	REJECT("ipv6 ext over limit", PACKET_LINKTYPE_RAW, f_v6_too_many_ext, -ELOOP,
	       PACKET_TOO_MANY_HEADERS),
	REJECT("ARP", ETHL, f_arp, -ENOMSG, PACKET_NOT_IP),
	REJECT("802.3 LLC", ETHL, f_llc, -ENOMSG, PACKET_NOT_IP),
	{ "ICMP", ETHL, f_icmp, 0, PACKET_NO_PORTS_PROTO, AF_INET, 1, 0, 0, 0, 14, 0, 1, 0 },
	REJECT("VLAN over limit", ETHL, f_vlan_too_deep, -ELOOP, PACKET_TOO_MANY_HEADERS),
	REJECT("unknown linktype", 105, f_eth_v4_tcp, -EPROTONOSUPPORT,
	       PACKET_UNSUPPORTED_LINKTYPE),
	REJECT("ipv4 ihl 4", ETHL, f_v4_bad_ihl, -EBADMSG, PACKET_MALFORMED),
	REJECT("ipv4 version 5", ETHL, f_v4_bad_version, -EBADMSG, PACKET_MALFORMED),
	REJECT("ipv4 total < ihl", ETHL, f_v4_total_short, -EBADMSG, PACKET_MALFORMED),
	REJECT("tcp doff 3", ETHL, f_tcp_bad_doff, -EBADMSG, PACKET_MALFORMED),
	{ "snaplen: ports only", ETHL, f_snap_ports_only, 0, PACKET_OK, AF_INET, 6, 40000, 80,
	  PACKET_F_L4_TRUNCATED, 14, 34, 0x1234, 0 },
	{ "ethernet padding", ETHL, f_eth_padding, 0, PACKET_OK, AF_INET, 17, 7, 7, 0, 14, 34, 1,
	  0 },
	{ "TSO total length 0", ETHL, f_tso_zero_len, 0, PACKET_OK, AF_INET, 6, 40000, 80, 0, 14,
	  34, 0x1234, 0x02 },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* Parse from an exactly sized heap copy so an over-read is a real one
 * (AddressSanitizer builds catch it). */
static int parse_copy(int linktype, const uint8_t *data, uint32_t len, struct packet_info *info)
{
	uint8_t *copy = malloc(len ? len : 1);
	int r;

	memcpy(copy, data, len);
	r = packet_parse(linktype, copy, len, info);
	free(copy);
	return r;
}

static void check_fields(const struct golden *g, int r, const struct packet_info *info)
{
	CHECK_EQ_U64((int64_t)r, (int64_t)g->ret);
	CHECK_EQ_U64(info->reason, g->reason);
	if (r < 0) {
		CHECK(info->family == 0 && info->sport == 0 && info->dport == 0);
		return;
	}
	CHECK_EQ_U64(info->family, g->family);
	CHECK_EQ_U64(info->proto, g->proto);
	CHECK_EQ_U64(info->sport, g->sport);
	CHECK_EQ_U64(info->dport, g->dport);
	CHECK((info->flags & g->flags) == g->flags);
	CHECK_EQ_U64(info->l3_offset, g->l3);
	CHECK_EQ_U64(info->l4_offset, g->l4);
	CHECK_EQ_U64(info->ip_id, g->ip_id);
	CHECK_EQ_U64(info->tcp_flags, g->tcp_flags);
	if (g->family == AF_INET) {
		CHECK(memcmp(info->src, v4a, 4) == 0 && memcmp(info->dst, v4b, 4) == 0);
		CHECK(info->src[4] == 0 && info->dst[15] == 0);
	} else {
		CHECK(memcmp(info->src, v6a, 16) == 0 && memcmp(info->dst, v6b, 16) == 0);
	}
}

static void check_golden(const struct golden *g)
{
	struct frame f = { 0 };
	unsigned failed_before = test_failed;
	struct packet_info info;
	int r;

	g->build(&f);
	r = parse_copy(g->linktype, f.b, f.len, &info);
	check_fields(g, r, &info);
	if (test_failed != failed_before)
		fprintf(stderr, "  in case \"%s\"\n", g->name);
}


/* Every prefix of every golden frame: never crashes, never reads past the
 * end, and a prefix gives the 5-tuple only when the ports are in it. */
static void check_truncations(const struct golden *g)
{
	struct frame f = { 0 };
	unsigned bad = 0;

	g->build(&f);
	for (uint32_t n = 0; n < f.len; n++) {
		struct packet_info info;
		int r = parse_copy(g->linktype, f.b, n, &info);

		if (r < 0) {
			if (info.reason < PACKET_NOT_IP || info.reason >= PACKET_REASON_MAX)
				bad++;
			continue;
		}
		if (info.reason == PACKET_OK) {
			if (n < info.l4_offset + 4)
				bad++;
			/* A prefix of a rejected frame may end before the flaw. */
			if (g->ret == 0 && (info.sport != g->sport || info.dport != g->dport))
				bad++;
			if (g->reason == PACKET_OK && n < g->l4 + 4)
				bad++;
		}
	}
	if (bad)
		fprintf(stderr, "truncations of %s: %u bad\n", g->name, bad);
	CHECK(bad == 0);
}

static void check_garbage(void)
{
	static const int linktypes[] = { 1, 12, 14, 101, 113, 228, 229, 276 };
	unsigned bad = 0;

	srand(12345);
	for (unsigned i = 0; i < 200000; i++) {
		uint8_t buf[128];
		uint32_t len = (uint32_t)(rand() % (int)sizeof(buf));
		int lt = linktypes[i % (sizeof(linktypes) / sizeof(linktypes[0]))];
		struct packet_info info;
		int r;

		for (uint32_t j = 0; j < len; j++)
			buf[j] = (uint8_t)rand();
		/* Make IP likely enough to reach the deeper code. */
		if (len > 20 && (i & 1)) {
			if (lt == 1) {
				buf[12] = (i & 2) ? 0x08 : 0x86;
				buf[13] = (i & 2) ? 0x00 : 0xdd;
			} else if (lt != 113 && lt != 276) {
				buf[0] = (i & 2) ? 0x45 : 0x60;
			}
		}
		r = parse_copy(lt, buf, len, &info);
		if (r == 0 && info.reason == PACKET_OK && info.l4_offset + 4 > len)
			bad++;
		if (r < 0 && (info.reason < PACKET_NOT_IP || info.reason >= PACKET_REASON_MAX))
			bad++;
		if (r == 0 && info.family != AF_INET && info.family != AF_INET6)
			bad++;
	}
	CHECK(bad == 0);
}

static void check_names(void)
{
	CHECK_STR(packet_reason_name(PACKET_OK), "ok");
	CHECK_STR(packet_reason_name(PACKET_NO_PORTS_FRAGMENT), "fragment-without-ports");
	CHECK_STR(packet_reason_name(PACKET_NOT_IP), "not-ip");
	CHECK_STR(packet_reason_name(PACKET_TRUNCATED), "truncated");
	CHECK_STR(packet_reason_name(PACKET_UNSUPPORTED_LINKTYPE), "unsupported-linktype");
	CHECK_STR(packet_reason_name(999), "unknown");
	for (unsigned i = 0; i < PACKET_REASON_MAX; i++)
		CHECK(strcmp(packet_reason_name(i), "unknown") != 0);
}

int main(void)
{
	struct packet_info info;

	for (unsigned i = 0; i < NCASES; i++)
		check_golden(&cases[i]);
	for (unsigned i = 0; i < NCASES; i++)
		check_truncations(&cases[i]);
	check_garbage();
	check_names();
	CHECK(packet_parse(1, NULL, 0, &info) == -ENODATA && info.reason == PACKET_TRUNCATED);
	return test_summary();
}
