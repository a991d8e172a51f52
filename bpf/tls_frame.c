/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Exported-PDU frames for TLS plaintext. Tag numbers and layout are
 * Wireshark's (wsutil/exported_pdu_tlvs.h): big-endian 16-bit tag and
 * length, values padded to 32 bits. */
#include "tls_frame.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#define TAG_END 0
#define TAG_DISSECTOR_NAME 12
#define TAG_IPV4_SRC 20
#define TAG_IPV4_DST 21
#define TAG_IPV6_SRC 22
#define TAG_IPV6_DST 23
#define TAG_PORT_TYPE 24
#define TAG_SRC_PORT 25
#define TAG_DST_PORT 26
#define PORT_TYPE_TCP 2 /* Wireshark's port_type PT_TCP */

static const char http2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

bool tls_frame_is_http2_preface(const uint8_t *data, size_t len)
{
	return len >= sizeof(http2_preface) - 1 &&
	       memcmp(data, http2_preface, sizeof(http2_preface) - 1) == 0;
}

static uint8_t *put_tag(uint8_t *p, uint16_t tag, const void *v, uint16_t len)
{
	uint16_t padded = (uint16_t)((len + 3u) & ~3u);

	p[0] = (uint8_t)(tag >> 8);
	p[1] = (uint8_t)tag;
	p[2] = (uint8_t)(padded >> 8);
	p[3] = (uint8_t)padded;
	memset(p + 4, 0, padded);
	if (len)
		memcpy(p + 4, v, len);
	return p + 4 + padded;
}

static uint8_t *put_u32_tag(uint8_t *p, uint16_t tag, uint32_t v)
{
	uint8_t be[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	return put_tag(p, tag, be, 4);
}

int tls_frame_build(const struct tls_data *d, bool http2, uint8_t *buf, size_t size)
{
	const char *name = http2 ? "http2" : "http";
	/* A write goes from the local end to the peer, a read the other way. */
	const uint8_t *src = d->received ? d->raddr : d->laddr;
	const uint8_t *dst = d->received ? d->laddr : d->raddr;
	uint16_t sport = d->received ? d->rport : d->lport;
	uint16_t dport = d->received ? d->lport : d->rport;
	uint8_t *p = buf;

	if (size < TLS_FRAME_TAGS_MAX || d->len > size - TLS_FRAME_TAGS_MAX)
		return -ENOSPC;
	/* Wireshark stops at the first NUL: padding NULs are harmless. */
	p = put_tag(p, TAG_DISSECTOR_NAME, name, (uint16_t)strlen(name));
	if (d->family == AF_INET) {
		p = put_tag(p, TAG_IPV4_SRC, src, 4);
		p = put_tag(p, TAG_IPV4_DST, dst, 4);
	} else if (d->family == AF_INET6) {
		p = put_tag(p, TAG_IPV6_SRC, src, 16);
		p = put_tag(p, TAG_IPV6_DST, dst, 16);
	}
	if (d->family) {
		p = put_u32_tag(p, TAG_PORT_TYPE, PORT_TYPE_TCP);
		p = put_u32_tag(p, TAG_SRC_PORT, sport);
		p = put_u32_tag(p, TAG_DST_PORT, dport);
	}
	p = put_tag(p, TAG_END, NULL, 0);
	if (d->len)
		memcpy(p, d->data, d->len);
	return (int)((size_t)(p - buf) + d->len);
}
