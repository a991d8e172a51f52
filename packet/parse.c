/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Packet parser: link layer → IPv4/IPv6 → TCP/UDP ports, bounds-checked. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "packet/parse.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100	/* 802.1Q */
#define ETHERTYPE_QINQ 0x88a8	/* 802.1ad service tag */
#define ETHERTYPE_QINQ_OLD 0x9100 /* pre-standard QinQ, still seen */
#define ETHERTYPE_MIN 0x0600	/* below: an 802.3 length, not a type */

#define ETH_HDR_LEN 14
#define VLAN_TAG_LEN 4
#define SLL_HDR_LEN 16
#define SLL2_HDR_LEN 20
#define ARPHRD_NETLINK_TYPE 824 /* SLL protocol field is a netlink family there */

#define IPV4_HDR_MIN 20
#define IPV6_HDR_LEN 40
#define IPV4_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_AH_ 51
#define IPPROTO_DSTOPTS_ 60
#define IPPROTO_MOBILITY_ 135
#define IPPROTO_HIP_ 139
#define IPPROTO_SHIM6_ 140

#define TCP_HDR_MIN 20
#define UDP_HDR_LEN 8
#define L4_PORTS_LEN 4	/* both ports: enough to tag a packet */
#define TCP_FLAGS_OFFSET 13

/* A view of the captured bytes; every read checks it. */
struct span {
	const uint8_t *data;
	uint32_t len;
};

static bool span_has(const struct span *s, uint32_t off, uint32_t n)
{
	return n <= s->len && off <= s->len - n;
}

static bool get_u8(const struct span *s, uint32_t off, uint8_t *ret)
{
	if (!span_has(s, off, 1))
		return false;
	*ret = s->data[off];
	return true;
}

static bool get_be16(const struct span *s, uint32_t off, uint16_t *ret)
{
	if (!span_has(s, off, 2))
		return false;
	*ret = (uint16_t)(s->data[off] << 8 | s->data[off + 1]);
	return true;
}

static bool get_be32(const struct span *s, uint32_t off, uint32_t *ret)
{
	if (!span_has(s, off, 4))
		return false;
	*ret = (uint32_t)s->data[off] << 24 | (uint32_t)s->data[off + 1] << 16 |
	       (uint32_t)s->data[off + 2] << 8 | s->data[off + 3];
	return true;
}

static bool get_bytes(const struct span *s, uint32_t off, void *dst, uint32_t n)
{
	if (!span_has(s, off, n))
		return false;
	memcpy(dst, s->data + off, n);
	return true;
}

static const struct {
	enum packet_reason reason;
	int error; /* negative errno returned with it; 0 for IP packets */
	const char *name;
} reasons[] = {
	{ PACKET_OK, 0, "ok" },
	{ PACKET_NO_PORTS_FRAGMENT, 0, "fragment-without-ports" },
	{ PACKET_NO_PORTS_PROTO, 0, "not-tcp-udp" },
	{ PACKET_NOT_IP, -ENOMSG, "not-ip" },
	{ PACKET_TRUNCATED, -ENODATA, "truncated" },
	{ PACKET_MALFORMED, -EBADMSG, "malformed" },
	{ PACKET_UNSUPPORTED_LINKTYPE, -EPROTONOSUPPORT, "unsupported-linktype" },
	{ PACKET_TOO_MANY_HEADERS, -ELOOP, "too-many-headers" },
	{ PACKET_REASON_MAX, 0, NULL },
};

const char *packet_reason_name(unsigned reason)
{
	for (unsigned i = 0; reasons[i].name; i++)
		if ((unsigned)reasons[i].reason == reason)
			return reasons[i].name;
	return "unknown";
}

static int fail(struct packet_info *ret, enum packet_reason reason)
{
	memset(ret, 0, sizeof(*ret));
	ret->reason = reason;
	for (unsigned i = 0; reasons[i].name; i++)
		if (reasons[i].reason == reason)
			return reasons[i].error;
	return -EINVAL;
}

/* Ports (and TCP flags) at off; end limits the datagram (padding after
 * the IP length is not ours). Needs only the ports to succeed, so a short
 * snaplen still tags packets. */
static int parse_l4(const struct span *pkt, uint32_t off, struct packet_info *ret)
{
	uint16_t sport, dport;

	if (ret->proto != IPPROTO_TCP_ && ret->proto != IPPROTO_UDP_) {
		ret->reason = PACKET_NO_PORTS_PROTO;
		return 0;
	}
	if (!get_be16(pkt, off, &sport) || !get_be16(pkt, off + 2, &dport))
		return fail(ret, PACKET_TRUNCATED);
	ret->sport = sport;
	ret->dport = dport;
	ret->l4_offset = off;

	if (ret->proto == IPPROTO_TCP_) {
		uint8_t doff, flags;

		if (!get_u8(pkt, off + 12, &doff) || !get_u8(pkt, off + TCP_FLAGS_OFFSET, &flags)) {
			ret->flags |= PACKET_F_L4_TRUNCATED;
		} else {
			uint32_t hlen = (uint32_t)(doff >> 4) * 4;

			if (hlen < TCP_HDR_MIN)
				return fail(ret, PACKET_MALFORMED);
			ret->tcp_flags = flags;
			if (span_has(pkt, off, hlen))
				ret->payload_offset = off + hlen;
			else
				ret->flags |= PACKET_F_L4_TRUNCATED;
		}
	} else {
		if (span_has(pkt, off, UDP_HDR_LEN))
			ret->payload_offset = off + UDP_HDR_LEN;
		else
			ret->flags |= PACKET_F_L4_TRUNCATED;
	}
	ret->reason = PACKET_OK;
	return 0;
}

static int parse_ipv4(const struct span *frame, uint32_t off, struct packet_info *ret)
{
	uint8_t vihl, proto = 0;
	/* Read after one span check; zero keeps the compiler sure. */
	uint16_t total = 0, id = 0, frag = 0;
	uint32_t hlen;
	struct span pkt;

	if (!get_u8(frame, off, &vihl))
		return fail(ret, PACKET_TRUNCATED);
	if (vihl >> 4 != 4)
		return fail(ret, PACKET_MALFORMED);
	hlen = (uint32_t)(vihl & 0x0f) * 4;
	if (hlen < IPV4_HDR_MIN)
		return fail(ret, PACKET_MALFORMED);
	if (!span_has(frame, off, hlen))
		return fail(ret, PACKET_TRUNCATED);

	get_be16(frame, off + 2, &total);
	get_be16(frame, off + 4, &id);
	get_be16(frame, off + 6, &frag);
	get_u8(frame, off + 9, &proto);

	/* The datagram ends at its total length (Ethernet pads short frames)
	 * or at caplen when the snaplen cut it. Total length 0 is what
	 * TSO/GRO super-packets show: take everything captured. */
	pkt = *frame;
	if (total != 0) {
		if (total < hlen)
			return fail(ret, PACKET_MALFORMED);
		if (span_has(frame, off, total))
			pkt.len = off + total;
	}

	ret->family = AF_INET;
	ret->proto = proto;
	ret->l3_offset = off;
	ret->ip_id = id;
	get_bytes(frame, off + 12, ret->src, 4);
	get_bytes(frame, off + 16, ret->dst, 4);

	ret->frag_offset = (uint32_t)(frag & IPV4_OFFSET_MASK) * 8;
	if (ret->frag_offset != 0 || (frag & IPV4_MF)) {
		ret->flags |= PACKET_F_FRAGMENT;
		if (ret->frag_offset != 0) {
			ret->reason = PACKET_NO_PORTS_FRAGMENT;
			return 0;
		}
		ret->flags |= PACKET_F_FIRST_FRAGMENT;
	}
	return parse_l4(&pkt, off + hlen, ret);
}

static bool ipv6_generic_ext(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS_ || nh == IPPROTO_ROUTING_ || nh == IPPROTO_DSTOPTS_ ||
	       nh == IPPROTO_MOBILITY_ || nh == IPPROTO_HIP_ || nh == IPPROTO_SHIM6_;
}

static bool ipv6_ext(uint8_t nh)
{
	return ipv6_generic_ext(nh) || nh == IPPROTO_AH_ || nh == IPPROTO_FRAGMENT_;
}

static int parse_ipv6(const struct span *frame, uint32_t off, struct packet_info *ret)
{
	uint8_t vtc, nh = 0;
	uint16_t plen = 0;
	struct span pkt;
	uint32_t cur;

	if (!get_u8(frame, off, &vtc))
		return fail(ret, PACKET_TRUNCATED);
	if (vtc >> 4 != 6)
		return fail(ret, PACKET_MALFORMED);
	if (!span_has(frame, off, IPV6_HDR_LEN))
		return fail(ret, PACKET_TRUNCATED);
	get_be16(frame, off + 4, &plen);
	get_u8(frame, off + 6, &nh);

	/* Payload length 0 is a jumbogram or a GSO super-packet: take all. */
	pkt = *frame;
	if (plen != 0 && span_has(frame, off, IPV6_HDR_LEN + (uint32_t)plen))
		pkt.len = off + IPV6_HDR_LEN + plen;

	ret->family = AF_INET6;
	ret->l3_offset = off;
	get_bytes(frame, off + 8, ret->src, 16);
	get_bytes(frame, off + 24, ret->dst, 16);

	cur = off + IPV6_HDR_LEN;
	for (unsigned n = 0; ipv6_ext(nh); n++) {
		uint8_t next, len8;

		if (n == PACKET_IPV6_EXT_MAX)
			return fail(ret, PACKET_TOO_MANY_HEADERS);
		if (ipv6_generic_ext(nh)) {
			if (!get_u8(&pkt, cur, &next) || !get_u8(&pkt, cur + 1, &len8))
				return fail(ret, PACKET_TRUNCATED);
			nh = next;
			cur += ((uint32_t)len8 + 1) * 8;
		} else if (nh == IPPROTO_AH_) {
			/* AH counts its length in 4-octet units, minus 2. */
			if (!get_u8(&pkt, cur, &next) || !get_u8(&pkt, cur + 1, &len8))
				return fail(ret, PACKET_TRUNCATED);
			nh = next;
			cur += ((uint32_t)len8 + 2) * 4;
		} else if (nh == IPPROTO_FRAGMENT_) {
			uint16_t offm;
			uint32_t id;

			if (!get_u8(&pkt, cur, &next) || !get_be16(&pkt, cur + 2, &offm) ||
			    !get_be32(&pkt, cur + 4, &id))
				return fail(ret, PACKET_TRUNCATED);
			nh = next;
			cur += 8;
			ret->ip_id = id;
			ret->frag_offset = (uint32_t)(offm >> 3) * 8;
			/* Offset 0 without M is an atomic fragment: whole. */
			if (ret->frag_offset != 0 || (offm & 1)) {
				ret->flags |= PACKET_F_FRAGMENT;
				if (ret->frag_offset != 0) {
					/* The first header of the fragmentable part
					 * is named here; usually the L4 protocol. */
					ret->proto = nh;
					ret->reason = PACKET_NO_PORTS_FRAGMENT;
					return 0;
				}
				ret->flags |= PACKET_F_FIRST_FRAGMENT;
			}
		}
		/* Headers of impossible lengths end beyond the packet. */
		if (cur > pkt.len)
			return fail(ret, PACKET_TRUNCATED);
	}
	ret->proto = nh;
	return parse_l4(&pkt, cur, ret);
}

/* An ethertype read at type_off, payload at off; walks VLAN tags, whose
 * TCI and next type follow the payload position. */
static int parse_ethertype(const struct span *frame, uint32_t type_off, uint32_t off,
			   struct packet_info *ret)
{
	uint16_t type;

	if (!get_be16(frame, type_off, &type))
		return fail(ret, PACKET_TRUNCATED);
	for (unsigned tags = 0;
	     type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD;
	     tags++) {
		if (tags >= PACKET_VLAN_MAX)
			return fail(ret, PACKET_TOO_MANY_HEADERS);
		if (!get_be16(frame, off + 2, &type))
			return fail(ret, PACKET_TRUNCATED);
		off += VLAN_TAG_LEN;
		ret->flags |= PACKET_F_VLAN;
	}
	if (type == ETHERTYPE_IPV4)
		return parse_ipv4(frame, off, ret);
	if (type == ETHERTYPE_IPV6)
		return parse_ipv6(frame, off, ret);
	return fail(ret, PACKET_NOT_IP);
}

static int parse_raw(const struct span *frame, int want, struct packet_info *ret)
{
	uint8_t v;

	if (!get_u8(frame, 0, &v))
		return fail(ret, PACKET_TRUNCATED);
	v >>= 4;
	if (want && v != want)
		return fail(ret, PACKET_MALFORMED);
	if (v == 4)
		return parse_ipv4(frame, 0, ret);
	if (v == 6)
		return parse_ipv6(frame, 0, ret);
	/* These link types carry nothing but IPv4 and IPv6. */
	return fail(ret, PACKET_MALFORMED);
}

int packet_parse(int linktype, const uint8_t *data, uint32_t caplen, struct packet_info *ret)
{
	struct span frame = { .data = data, .len = data ? caplen : 0 };
	uint16_t hatype;

	memset(ret, 0, sizeof(*ret));
	switch (linktype) {
	case PACKET_LINKTYPE_ETHERNET:
		if (!span_has(&frame, 0, ETH_HDR_LEN))
			return fail(ret, PACKET_TRUNCATED);
		return parse_ethertype(&frame, 12, ETH_HDR_LEN, ret);
	case PACKET_LINKTYPE_LINUX_SLL:
		if (!get_be16(&frame, 2, &hatype) || !span_has(&frame, 0, SLL_HDR_LEN))
			return fail(ret, PACKET_TRUNCATED);
		if (hatype == ARPHRD_NETLINK_TYPE)
			return fail(ret, PACKET_NOT_IP);
		/* libpcap reinserts a stripped VLAN tag at the protocol
		 * field, so tags follow as on Ethernet. */
		return parse_ethertype(&frame, SLL_HDR_LEN - 2, SLL_HDR_LEN, ret);
	case PACKET_LINKTYPE_LINUX_SLL2:
		if (!get_be16(&frame, 8, &hatype) || !span_has(&frame, 0, SLL2_HDR_LEN))
			return fail(ret, PACKET_TRUNCATED);
		if (hatype == ARPHRD_NETLINK_TYPE)
			return fail(ret, PACKET_NOT_IP);
		return parse_ethertype(&frame, 0, SLL2_HDR_LEN, ret);
	case PACKET_LINKTYPE_RAW:
	case PACKET_LINKTYPE_DLT_RAW1:
	case PACKET_LINKTYPE_DLT_RAW2:
		return parse_raw(&frame, 0, ret);
	case PACKET_LINKTYPE_IPV4:
		return parse_raw(&frame, 4, ret);
	case PACKET_LINKTYPE_IPV6:
		return parse_raw(&frame, 6, ret);
	default:
		return fail(ret, PACKET_UNSUPPORTED_LINKTYPE);
	}
}
