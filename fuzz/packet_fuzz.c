/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzz target: the packet parser packet_parse (packet/parse.h) over every
 * link type it knows, plus one it does not.
 *
 * Input: byte 0 picks the link type (modulo the table below), the rest is
 * the frame. Checks: the return agrees with ret->reason, offsets stay
 * inside the frame, ports are 0 unless the reason is PACKET_OK, and a
 * failed parse leaves everything but the reason zero.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "packet/parse.h"

static const int linktypes[] = {
	PACKET_LINKTYPE_ETHERNET, PACKET_LINKTYPE_DLT_RAW1,   PACKET_LINKTYPE_DLT_RAW2,
	PACKET_LINKTYPE_RAW,	  PACKET_LINKTYPE_LINUX_SLL,  PACKET_LINKTYPE_IPV4,
	PACKET_LINKTYPE_IPV6,	  PACKET_LINKTYPE_LINUX_SLL2, 252 /* not a packet link type */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct packet_info info, zero;
	int linktype, r;

	if (size < 1)
		return 0;
	linktype = linktypes[data[0] % (sizeof(linktypes) / sizeof(linktypes[0]))];
	memset(&info, 0xa5, sizeof(info));
	r = packet_parse(linktype, data + 1, (uint32_t)(size - 1), &info);
	if (!packet_reason_name(info.reason) || info.reason >= PACKET_REASON_MAX)
		abort();
	if (r < 0) {
		if (info.reason < PACKET_NOT_IP)
			abort();
		memset(&zero, 0, sizeof(zero));
		zero.reason = info.reason;
		if (memcmp(&zero, &info, sizeof(info)) != 0)
			abort();
		return 0;
	}
	if (r != 0 || info.reason >= PACKET_NOT_IP)
		abort();
	if (info.l3_offset >= size - 1 || info.l4_offset > size - 1 || info.payload_offset > size - 1)
		abort();
	if (info.reason != PACKET_OK && (info.sport || info.dport))
		abort();
	if (linktype == 252)
		abort(); /* not a link type the parser claims */
	return 0;
}
