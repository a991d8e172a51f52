/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to remote/: CURVE key files — a secret key (PREFIX.key), a
 * public key (PREFIX.pub) and authorized-keys lists — read and checked.
 *
 * Key files hold one Z85 key (40 characters) on a line; lines starting
 * with '#' and blank lines are ignored. An authorized-keys file lists one
 * public key per line, optionally followed by a host name: messages from
 * that key must then carry that host (docs/remote.md). Secret material is
 * wiped from our buffers after use.
 */
#ifndef EBPFDUMP_REMOTE_KEYS_H
#define EBPFDUMP_REMOTE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "remote/remote.h"

struct remote_keypair {
	uint8_t public_key[REMOTE_KEY_LEN];
	uint8_t secret_key[REMOTE_KEY_LEN];
};

struct remote_authorized_key {
	uint8_t key[REMOTE_KEY_LEN];
	char host[REMOTE_HOST_MAX + 1]; /* "" when the key is not pinned to a host */
};

struct remote_authorized_keys {
	size_t count;
	struct remote_authorized_key keys[];
};

/* Read PREFIX.key and derive its public key. A key file that group or
 * others may read is refused (-EPERM): the secret would not be one. */
int remote_key_load_secret(const char *path, struct remote_keypair *ret, char *err, size_t errlen);
/* Read a PREFIX.pub. */
int remote_key_load_public(const char *path, uint8_t ret[REMOTE_KEY_LEN], char *err, size_t errlen);
/* Read an authorized-keys file (at least one key). Free with free(). */
int remote_authorized_keys_load(const char *path, struct remote_authorized_keys **ret, char *err,
				size_t errlen);
/* The entry for key, or NULL. */
const struct remote_authorized_key *
remote_authorized_keys_find(const struct remote_authorized_keys *list,
			    const uint8_t key[REMOTE_KEY_LEN]);
/* Z85 text of a key (REMOTE_Z85_KEY_LEN + 1 bytes with the NUL). */
void remote_key_z85(const uint8_t key[REMOTE_KEY_LEN], char out[REMOTE_Z85_KEY_LEN + 1]);

#endif
