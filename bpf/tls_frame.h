/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One TLS read or write as a frame Wireshark's own dissectors decode: an
 * exported PDU (LINKTYPE_WIRESHARK_UPPER_PDU) naming the dissector
 * ("http", or "http2" once a connection started with the HTTP/2 preface),
 * the connection's addresses and TCP ports, then the plaintext. Pure: no
 * I/O, does not print.
 */
#ifndef EBPFDUMP_TLS_FRAME_H
#define EBPFDUMP_TLS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One TLS call's plaintext as user space sees it. */
struct tls_data {
	uint64_t ts_ns; /* wall clock, ns since the Unix epoch */
	uint64_t cgroup_id;
	uint32_t pid, tid;
	char comm[17];
	bool received;	/* read by the process (else written) */
	uint8_t family; /* 0: connection unknown, AF_INET, AF_INET6 */
	uint16_t lport, rport;
	uint8_t laddr[16], raddr[16];
	const uint8_t *data;
	uint32_t len, orig_len; /* len < orig_len: cut */
};

/* Bytes of tags before the payload at most. */
#define TLS_FRAME_TAGS_MAX 128u

/* Write the frame for d into buf (size bytes). http2: name the "http2"
 * dissector. Returns the frame length, or -ENOSPC. */
int tls_frame_build(const struct tls_data *d, bool http2, uint8_t *buf, size_t size);

/* True when data starts with the HTTP/2 client connection preface. */
bool tls_frame_is_http2_preface(const uint8_t *data, size_t len);

#endif
