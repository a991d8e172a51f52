/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Remote events over ZeroMQ: what publisher.h and subscriber.h share — the
 * wire limits, the security settings, the key generator and the reasons a
 * received message is dropped. The wire format is docs/remote.md.
 *
 * Needs only event/ and libzmq (json-c for the JSON export): the subscriber
 * side builds and runs without libbpf. Does not print: functions return 0
 * or a negative errno and write a one-line reason into the caller's buffer.
 */
#ifndef EBPFDUMP_REMOTE_H
#define EBPFDUMP_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Topics: binary messages are "ebpf.v1.<EventType>", JSON messages
 * "ebpf.json.v1.<EventType>"; subscribers filter by prefix. */
#define REMOTE_TOPIC_PREFIX "ebpf.v1."
#define REMOTE_JSON_TOPIC_PREFIX "ebpf.json.v1."
/* Longest topic frame accepted ("ebpf.json.v1." + a type name). */
#define REMOTE_TOPIC_MAX 64u
/* Longest host identity (frame 2), bytes of UTF-8 without a NUL. */
#define REMOTE_HOST_MAX 255u
/* Longest JSON text (frame 3 of a JSON message). */
#define REMOTE_JSON_MAX (64u * 1024u)
/* Frames larger than this make libzmq close the connection before they are
 * buffered (ZMQ_MAXMSGSIZE): a peer cannot make us allocate more. Frames
 * up to it but above their own limit are received and counted oversized. */
#define REMOTE_WIRE_FRAME_MAX (64u * 1024u)

/* CURVE keys: 32 bytes, 40 characters in Z85 text. */
#define REMOTE_KEY_LEN 32u
#define REMOTE_Z85_KEY_LEN 40u
/* Authorized-keys files: at most this many keys and bytes. */
#define REMOTE_AUTHORIZED_KEYS_MAX 1024u
#define REMOTE_KEY_FILE_MAX (256u * 1024u)
/* Endpoints a subscriber connects to at once. */
#define REMOTE_CONNECT_MAX 64u
/* Longest endpoint string ("tcp://host:port", "ipc:///path"). */
#define REMOTE_ENDPOINT_MAX 256u
/* Size of the report strings in the stats (last rejection, last drop). */
#define REMOTE_REPORT_MAX 256u

/* Who may talk to us. Exactly one of the two modes:
 *  - CURVE (the default): secret_key_file is our own PREFIX.key. The side
 *    that binds is the CURVE server and admits only the public keys listed
 *    in authorized_keys_file (required: an open server would hand events
 *    to, or take them from, anyone). The side that connects must know the
 *    server's public key (server_public_key_file, a PREFIX.pub).
 *  - plain TCP: allow_plaintext set and no key file at all. Nothing is
 *    encrypted or authenticated; the caller should warn. */
struct remote_security {
	bool allow_plaintext;
	const char *secret_key_file;
	const char *authorized_keys_file;
	const char *server_public_key_file;
};

/* Why a received message was dropped (subscriber_stats.dropped[]). */
enum remote_drop {
	REMOTE_DROP_FRAMES = 0,	   /* not exactly 3 frames */
	REMOTE_DROP_OVERSIZED,	   /* a frame above its limit */
	REMOTE_DROP_TOPIC,	   /* topic not ebpf.v1.<type of the record> */
	REMOTE_DROP_VERSION,	   /* topic or record of another version */
	REMOTE_DROP_HOST,	   /* host frame empty, with NUL or not UTF-8 */
	REMOTE_DROP_TRUNCATED,	   /* record shorter than its header says */
	REMOTE_DROP_MALFORMED,	   /* record rejected by the codec */
	REMOTE_DROP_HOST_MISMATCH, /* host differs from the name its key is pinned to */
	REMOTE_DROP_MAX,
};

/* "frames", "oversized", ...; NULL for an unknown value. */
const char *remote_drop_name(unsigned reason);

/* Generate a CURVE key pair: PREFIX.key (the secret key in Z85, mode 0600)
 * and PREFIX.pub (the public key in Z85, mode 0644). Refuses to overwrite
 * existing files (-EEXIST). When ret_public is not NULL it receives the
 * public key text (REMOTE_Z85_KEY_LEN + 1 bytes). */
int remote_keygen(const char *prefix, char *ret_public, char *err, size_t errlen);

#endif
