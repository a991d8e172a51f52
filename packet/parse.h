/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Packet parser: finds the IP 5-tuple of one captured frame.
 *
 * Pure function, no libpcap: the caller passes the pcap link type and the
 * captured bytes. Understood link types: Ethernet (with any number of
 * 802.1Q / 802.1ad tags up to PACKET_VLAN_MAX), Linux cooked SLL and SLL2
 * (the "any" device), raw IP (LINKTYPE_RAW 101 and the DLT_RAW values 12
 * and 14 that libpcap maps to it, LINKTYPE_IPV4 228, LINKTYPE_IPV6 229).
 * Network layer: IPv4 with options and fragments, IPv6 with extension
 * headers (hop-by-hop, routing, destination options, fragment, AH and the
 * other RFC 7045 generic ones). Transport: TCP and UDP ports and TCP flags.
 * Every read goes through a bounds check against caplen; nothing past it
 * is ever read. No tunnels (GRE, VXLAN, IP-in-IP): the outer header wins.
 */
#ifndef EBPFDUMP_PARSE_H
#define EBPFDUMP_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* Link types (pcap LINKTYPE_* values and the DLT_* aliases libpcap maps). */
#define PACKET_LINKTYPE_ETHERNET 1
#define PACKET_LINKTYPE_DLT_RAW1 12 /* DLT_RAW on most platforms */
#define PACKET_LINKTYPE_DLT_RAW2 14 /* DLT_RAW on OpenBSD */
#define PACKET_LINKTYPE_RAW 101
#define PACKET_LINKTYPE_LINUX_SLL 113
#define PACKET_LINKTYPE_IPV4 228
#define PACKET_LINKTYPE_IPV6 229
#define PACKET_LINKTYPE_LINUX_SLL2 276

/* Limits on what an outsider's frame can make us walk. */
#define PACKET_VLAN_MAX 8     /* stacked VLAN tags (QinQ needs 2) */
#define PACKET_IPV6_EXT_MAX 16 /* IPv6 extension headers in one packet */

/* Why a packet has no usable 5-tuple. PACKET_OK and the PACKET_NO_PORTS_*
 * values come with a 0 return (the packet is IP, its addresses are known);
 * the others with a negative errno (the frame is not parsed at all). */
enum packet_reason {
	PACKET_OK = 0,		    /* IP with ports */
	PACKET_NO_PORTS_FRAGMENT,   /* later fragment: no L4 header in it */
	PACKET_NO_PORTS_PROTO,	    /* IP but not TCP/UDP (ICMP, ESP, ...) */
	PACKET_NOT_IP,		    /* -ENOMSG: ARP, LLDP, ...: passes untagged */
	PACKET_TRUNCATED,	    /* -ENODATA: caplen ends inside a header we need */
	PACKET_MALFORMED,	    /* -EBADMSG: impossible lengths or version */
	PACKET_UNSUPPORTED_LINKTYPE, /* -EPROTONOSUPPORT */
	PACKET_TOO_MANY_HEADERS,    /* -ELOOP: over PACKET_VLAN_MAX / PACKET_IPV6_EXT_MAX */
	PACKET_REASON_MAX,
};

/* flags */
#define PACKET_F_FRAGMENT 0x01	     /* part of a fragmented datagram */
#define PACKET_F_FIRST_FRAGMENT 0x02 /* offset 0 with more fragments to come */
#define PACKET_F_L4_TRUNCATED 0x04   /* ports read, rest of L4 header cut off */
#define PACKET_F_VLAN 0x08	     /* at least one VLAN tag was skipped */
#define PACKET_F_PORTS_BY_ID 0x10    /* later fragment: ports set by the merge from
				      * the first fragment with the same IP id */

struct packet_info {
	uint8_t family;	   /* AF_INET or AF_INET6 */
	uint8_t proto;	   /* IP protocol after the extension headers */
	uint8_t tcp_flags; /* FIN 0x01 SYN 0x02 RST 0x04 ... (0 when not TCP) */
	uint8_t flags;	   /* PACKET_F_* */
	uint8_t src[16];   /* network order; IPv4 uses the first 4 bytes, rest 0 */
	uint8_t dst[16];
	uint16_t sport, dport;	 /* host order; 0 unless reason is PACKET_OK */
	uint32_t ip_id;		 /* IPv4 identification or IPv6 fragment id */
	uint32_t frag_offset;	 /* bytes */
	uint32_t l3_offset;	 /* IP header */
	uint32_t l4_offset;	 /* TCP/UDP header (0 when none) */
	uint32_t payload_offset; /* first byte after the L4 header (0 when unknown) */
	enum packet_reason reason;
};

/* Parse one frame. Returns 0 for an IP packet (ret->reason tells whether
 * ports were found), or a negative errno (see enum packet_reason) when the
 * frame is not IP or cannot be parsed. ret is always written: on failure it
 * is zeroed except ret->reason, so that callers can count the cause. */
int packet_parse(int linktype, const uint8_t *data, uint32_t caplen, struct packet_info *ret);

/* "ok", "fragment-without-ports", ...; "unknown" for values out of range. */
const char *packet_reason_name(unsigned reason);

#endif
