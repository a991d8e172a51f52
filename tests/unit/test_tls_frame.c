/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The --tls frame: exported-PDU tags (dissector name, addresses, TCP ports
 * in the direction of the data) then the plaintext, byte for byte. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "bpf/tls_frame.h"
#include "test_util.h"

static const uint8_t *find_tag(const uint8_t *p, int len, unsigned tag, unsigned *vlen)
{
	int off = 0;

	while (off + 4 <= len) {
		unsigned t = (unsigned)(p[off] << 8 | p[off + 1]);
		unsigned l = (unsigned)(p[off + 2] << 8 | p[off + 3]);

		if (t == tag) {
			*vlen = l;
			return p + off + 4;
		}
		if (t == 0)
			return NULL;
		off += 4 + (int)l;
	}
	return NULL;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int main(void)
{
	static const uint8_t req[] = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
	uint8_t buf[TLS_FRAME_TAGS_MAX + 64];
	struct tls_data d = {
	    .family = AF_INET,
	    .lport = 40000,
	    .rport = 443,
	    .laddr = {192, 0, 2, 1},
	    .raddr = {192, 0, 2, 2},
	    .data = req,
	    .len = sizeof(req) - 1,
	    .orig_len = sizeof(req) - 1,
	};
	const uint8_t *v;
	unsigned vl = 0;
	int n;

	/* A write: local → peer. */
	n = tls_frame_build(&d, false, buf, sizeof(buf));
	CHECK(n > (int)d.len);
	v = find_tag(buf, n, 12, &vl);
	CHECK(v && vl == 4 && memcmp(v, "http", 4) == 0);
	v = find_tag(buf, n, 20, &vl);
	CHECK(v && vl == 4 && memcmp(v, d.laddr, 4) == 0);
	v = find_tag(buf, n, 21, &vl);
	CHECK(v && vl == 4 && memcmp(v, d.raddr, 4) == 0);
	v = find_tag(buf, n, 24, &vl);
	CHECK(v && vl == 4 && be32(v) == 2); /* PT_TCP */
	v = find_tag(buf, n, 25, &vl);
	CHECK(v && be32(v) == 40000);
	v = find_tag(buf, n, 26, &vl);
	CHECK(v && be32(v) == 443);
	CHECK(memcmp(buf + n - d.len, req, d.len) == 0);
	/* The end tag right before the payload. */
	CHECK(memcmp(buf + n - d.len - 4, "\0\0\0\0", 4) == 0);

	/* A read over IPv6: peer → local; "http2" padded to 8 bytes. */
	d.received = true;
	d.family = AF_INET6;
	memset(d.laddr, 0, 16);
	memset(d.raddr, 0, 16);
	d.laddr[15] = 1;
	d.raddr[15] = 2;
	n = tls_frame_build(&d, true, buf, sizeof(buf));
	v = find_tag(buf, n, 12, &vl);
	CHECK(v && vl == 8 && memcmp(v, "http2\0\0\0", 8) == 0);
	v = find_tag(buf, n, 22, &vl);
	CHECK(v && vl == 16 && v[15] == 2);
	v = find_tag(buf, n, 23, &vl);
	CHECK(v && vl == 16 && v[15] == 1);
	v = find_tag(buf, n, 25, &vl);
	CHECK(v && be32(v) == 443);
	CHECK(!find_tag(buf, n, 20, &vl));

	/* Connection unknown: name only, no addresses or ports. */
	d.family = 0;
	n = tls_frame_build(&d, false, buf, sizeof(buf));
	CHECK(!find_tag(buf, n, 22, &vl) && !find_tag(buf, n, 24, &vl));
	CHECK(n == 8 + 4 + (int)d.len);

	/* Too small a buffer. */
	CHECK(tls_frame_build(&d, false, buf, TLS_FRAME_TAGS_MAX + 4) == -ENOSPC);

	CHECK(
	    tls_frame_is_http2_preface((const uint8_t *)"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nxx", 26));
	CHECK(!tls_frame_is_http2_preface((const uint8_t *)"PRI * HTTP/2.0\r\n", 16));
	CHECK(!tls_frame_is_http2_preface(req, sizeof(req) - 1));
	return test_summary();
}
