/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The binary event record: the one wire form of struct event, used in
 * pcapng event frames, on ZeroMQ and by the dissector. The format is
 * specified in docs/event-format.md; this codec follows it.
 *
 * Layout: a 24-byte header, then type-length-value items; all integers
 * big-endian (network order), no padding, no host pointers.
 *   0  u16 magic 0x4542 ("EB")   2  u8 version (1)   3  u8 header length (24)
 *   4  u16 event type            6  u16 flags (0; readers ignore unknown bits)
 *   8  u32 total record length, header included
 *  12  u32 sequence number       16  u64 timestamp, ns since the Unix epoch
 *  24  items: u16 id, u16 value length, value bytes
 * Unknown item ids are skipped; a longer header is skipped to its length.
 */
#ifndef EBPFDUMP_RECORD_H
#define EBPFDUMP_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "event/event.h"

#define RECORD_MAGIC 0x4542u
#define RECORD_VERSION 1u
#define RECORD_HEADER_LEN 24u
/* Largest record a reader accepts and a writer produces. */
#define RECORD_MAX_LEN 16384u

/* Encode ev into buf. Returns the record length (> 0), or -ENOSPC when
 * size is too small (nothing useful is left in buf). Items are written
 * only for the fields present in ev->present. */
int record_encode(const struct event *ev, uint8_t *buf, size_t size);

/* Decode exactly one record occupying buf[0..len). Returns 0 and fills
 * *ret (zeroed first), or -EBADMSG with *ret_reason set to a static
 * one-line reason ("truncated header", "unsupported version 7", ...).
 * Never reads outside buf. Strings longer than the model's limit are
 * truncated (not an error). */
int record_decode(const uint8_t *buf, size_t len, struct event *ret, const char **ret_reason);

/* For streams: the total length the header at buf announces, or -EBADMSG
 * when fewer than 12 bytes are given or magic/length are invalid. */
int record_peek_length(const uint8_t *buf, size_t len);

#endif
