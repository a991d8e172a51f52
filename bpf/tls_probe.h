/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The TLS plaintext source (--tls): loads tls.bpf.c, attaches uprobes to
 * the TLS libraries found on this host and in the running processes'
 * memory maps (libssl.so.3, libssl.so.1.1, libgnutls.so.30), and hands each
 * TLS read or write to a callback with its owner and connection
 * (docs/tls.md).
 *
 * Owns: its own BPF skeleton, links and ring buffer. Does not print:
 * failures return a negative errno and a one-line reason in the caller's
 * buffer; which libraries were attached is reported by tls_probe_libraries.
 */
#ifndef EBPFDUMP_TLS_PROBE_H
#define EBPFDUMP_TLS_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls_frame.h"

struct tls_probe;

struct tls_probe_stats {
	uint64_t delivered;   /* records handed to the callback */
	uint64_t lost;	      /* records the kernel could not queue (ring full) */
	uint64_t cut;	      /* records cut at TLS_DATA_MAX bytes */
	uint64_t faults;      /* buffers the kernel could not read */
	uint64_t keys;	      /* key-log lines handed to the key callback */
	uint64_t go_programs; /* Go executables with the key-log hook */
};

typedef void (*tls_probe_cb)(const struct tls_data *d, void *ctx);
/* One TLS secret as a key-log line ("LABEL <client random hex> <secret
 * hex>\n", NSS key log format), from a Go program's crypto/tls. */
typedef void (*tls_probe_key_cb)(uint32_t pid, uint64_t ts_ns, const char *line, size_t len,
				 void *ctx);

/* The Go function whose entry carries every secret (Go 1.17+). */
#define TLS_GO_KEYLOG_FUNC "crypto/tls.(*Config).writeKeyLog"

/* pid: only that process (0: every process, and programs executed later:
 * Go programs among them get the key-log hook). proc: the /proc to scan
 * ("/proc"). Returns 0, or -errno with a reason in err when nothing could
 * be loaded or no TLS library or Go program was found. */
int tls_probe_open(uint32_t pid, const char *proc, tls_probe_cb cb, tls_probe_key_cb key_cb,
		   void *ctx, struct tls_probe **ret, char *err, size_t errlen);
/* The ring buffer's fd, for epoll. */
int tls_probe_fd(const struct tls_probe *p);
/* Deliver every queued record; returns the count or -errno. */
int tls_probe_consume(struct tls_probe *p);
void tls_probe_stats(const struct tls_probe *p, struct tls_probe_stats *st);
/* "path (functions), path (functions)" of the attached libraries. */
const char *tls_probe_libraries(const struct tls_probe *p);
/* Accepts NULL, returns NULL. */
struct tls_probe *tls_probe_free(struct tls_probe *p);

#endif
