/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CURVE key files: generate, read, check; authorized-keys lists. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "remote/zmqlib.h"

#include "remote/keys.h"
#include "remote/message.h"
#include "util/error.h"

#define KEY_SUFFIX_SECRET ".key"
#define KEY_SUFFIX_PUBLIC ".pub"
/* Longest line of a key file we look at (a key, a space, a host name). */
#define KEY_LINE_MAX (REMOTE_Z85_KEY_LEN + 1 + REMOTE_HOST_MAX)
#define Z85_GROUP_CHARS 5u
#define Z85_BASE 85u

static const char z85_alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   ".-:+=^!/*?&<>()[]{}@%$#";

/* Z85 (ZeroMQ RFC 32): each 4 bytes, read big-endian, become 5 digits of
 * base 85, most significant first. Written here rather than called from
 * libzmq so that key files are read and checked before, and without,
 * loading it; some libzmq versions also decode characters outside the
 * alphabet and groups above 2^32 - 1, which a key file must not pass. */
void remote_key_z85(const uint8_t key[REMOTE_KEY_LEN], char out[REMOTE_Z85_KEY_LEN + 1])
{
	size_t g, i, o = 0;

	for (g = 0; g < REMOTE_KEY_LEN; g += 4) {
		uint32_t v = (uint32_t)key[g] << 24 | (uint32_t)key[g + 1] << 16 |
			     (uint32_t)key[g + 2] << 8 | key[g + 3];

		for (i = Z85_GROUP_CHARS; i-- > 0; v /= Z85_BASE)
			out[o + i] = z85_alphabet[v % Z85_BASE];
		o += Z85_GROUP_CHARS;
	}
	out[o] = '\0';
}

static bool z85_key_decode(const char *s, size_t len, uint8_t out[REMOTE_KEY_LEN])
{
	size_t g, i, o = 0;

	if (len != REMOTE_Z85_KEY_LEN)
		return false;
	for (g = 0; g < len; g += Z85_GROUP_CHARS) {
		uint64_t v = 0;

		for (i = g; i < g + Z85_GROUP_CHARS; i++) {
			const char *p = s[i] ? strchr(z85_alphabet, s[i]) : NULL;

			if (!p)
				return false;
			v = v * Z85_BASE + (uint64_t)(p - z85_alphabet);
		}
		if (v > UINT32_MAX)
			return false;
		out[o++] = (uint8_t)(v >> 24);
		out[o++] = (uint8_t)(v >> 16);
		out[o++] = (uint8_t)(v >> 8);
		out[o++] = (uint8_t)v;
	}
	return true;
}

/* Read a whole key file (at most REMOTE_KEY_FILE_MAX bytes) into a NUL
 * terminated buffer. */
static int read_key_file(const char *path, bool secret, char **ret, char *err, size_t errlen)
{
	struct stat st;
	size_t len = 0;
	char *buf = NULL;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set(err, errlen, -errno, "cannot open key file %s: %s", path,
			    strerror(errno));
	if (fstat(fd, &st) < 0) {
		r = error_set(err, errlen, -errno, "cannot stat key file %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = error_set(err, errlen, -EINVAL, "key file %s is not a regular file", path);
		goto out;
	}
	if (secret && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		r = error_set(err, errlen, -EPERM,
			 "secret key file %s is accessible by group or others; chmod 600 it", path);
		goto out;
	}
	if (st.st_size > (off_t)REMOTE_KEY_FILE_MAX) {
		r = error_set(err, errlen, -EFBIG, "key file %s is larger than %u bytes", path,
			 REMOTE_KEY_FILE_MAX);
		goto out;
	}
	buf = malloc(REMOTE_KEY_FILE_MAX + 1);
	if (!buf) {
		r = error_set(err, errlen, -ENOMEM, "out of memory reading %s", path);
		goto out;
	}
	/* The size may change under us: read to EOF, bounded by the buffer. */
	for (;;) {
		ssize_t n = read(fd, buf + len, REMOTE_KEY_FILE_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = error_set(err, errlen, -errno, "cannot read key file %s: %s", path,
				 strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > REMOTE_KEY_FILE_MAX) {
			r = error_set(err, errlen, -EFBIG, "key file %s is larger than %u bytes", path,
				 REMOTE_KEY_FILE_MAX);
			goto out;
		}
	}
	buf[len] = '\0';
	*ret = buf;
	buf = NULL;
	r = 0;
out:
	if (buf) {
		explicit_bzero(buf, REMOTE_KEY_FILE_MAX + 1);
		free(buf);
	}
	close(fd);
	return r;
}

static void free_key_file(char *buf)
{
	if (!buf)
		return;
	explicit_bzero(buf, strlen(buf));
	free(buf);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The next line of buf at *pos as [start, start+len), without the newline
 * and surrounding blanks; false at the end. Comment lines come back with
 * len 0, like blank ones. */
static bool next_line(const char *buf, size_t *pos, const char **start, size_t *len)
{
	const char *s = buf + *pos, *nl, *e;

	if (!*s)
		return false;
	nl = strchr(s, '\n');
	e = nl ? nl : s + strlen(s);
	*pos = (size_t)(e - buf) + (nl ? 1 : 0);
	while (s < e && is_blank(*s))
		s++;
	while (e > s && is_blank(e[-1]))
		e--;
	*start = s;
	*len = (s < e && *s != '#') ? (size_t)(e - s) : 0;
	return true;
}

/* A file with exactly one key line. */
static int load_one_key(const char *path, bool secret, uint8_t out[REMOTE_KEY_LEN], char *err,
			size_t errlen)
{
	const char *line, *what = secret ? "secret" : "public";
	size_t pos = 0, len, lineno = 0, found = 0;
	char *buf = NULL;
	int r;

	r = read_key_file(path, secret, &buf, err, errlen);
	if (r < 0)
		return r;
	while (next_line(buf, &pos, &line, &len)) {
		lineno++;
		if (len == 0)
			continue;
		if (found++) {
			r = error_set(err, errlen, -EINVAL, "%s line %zu: more than one key in the file",
				 path, lineno);
			goto out;
		}
		if (!z85_key_decode(line, len, out)) {
			r = error_set(err, errlen, -EINVAL, "%s line %zu: not a Z85 CURVE %s key", path,
				 lineno, what);
			goto out;
		}
	}
	if (!found)
		r = error_set(err, errlen, -EINVAL, "%s: no %s key in the file", path, what);
out:
	free_key_file(buf);
	return r;
}

int remote_key_load_secret(const char *path, struct remote_keypair *ret, char *err, size_t errlen)
{
	char secret_z85[REMOTE_Z85_KEY_LEN + 1], public_z85[REMOTE_Z85_KEY_LEN + 1];
	struct remote_keypair kp;
	int r;

	r = load_one_key(path, true, kp.secret_key, err, errlen);
	if (r == 0)
		r = zmqlib_open(err, errlen);
	if (r < 0)
		goto out;
	remote_key_z85(kp.secret_key, secret_z85);
	if (zmq_curve_public(public_z85, secret_z85) != 0 ||
	    !z85_key_decode(public_z85, strlen(public_z85), kp.public_key)) {
		r = error_set(err, errlen, -ENOTSUP,
			 "cannot derive the public key of %s: libzmq without CURVE support?", path);
		goto out;
	}
	*ret = kp;
out:
	explicit_bzero(secret_z85, sizeof(secret_z85));
	explicit_bzero(&kp, sizeof(kp));
	return r;
}

int remote_key_load_public(const char *path, uint8_t ret[REMOTE_KEY_LEN], char *err, size_t errlen)
{
	uint8_t key[REMOTE_KEY_LEN];
	int r = load_one_key(path, false, key, err, errlen);

	if (r == 0)
		memcpy(ret, key, sizeof(key));
	return r;
}

/* "KEY" or "KEY HOST" on an authorized-keys line. */
static int parse_authorized_line(const char *line, size_t len, struct remote_authorized_key *out,
				 const char **why)
{
	size_t klen = 0, hstart, hlen;

	while (klen < len && !is_blank(line[klen]))
		klen++;
	if (!z85_key_decode(line, klen, out->key)) {
		*why = "not a Z85 CURVE public key";
		return -EINVAL;
	}
	out->host[0] = '\0';
	for (hstart = klen; hstart < len && is_blank(line[hstart]); hstart++)
		;
	if (hstart == len)
		return 0;
	hlen = len - hstart;
	if (hlen > REMOTE_HOST_MAX) {
		*why = "host name longer than 255 bytes";
		return -EINVAL;
	}
	if (memchr(line + hstart, ' ', hlen) || memchr(line + hstart, '\t', hlen) ||
	    !remote_utf8_valid((const uint8_t *)line + hstart, hlen)) {
		*why = "host name must be one word of UTF-8 text";
		return -EINVAL;
	}
	memcpy(out->host, line + hstart, hlen);
	out->host[hlen] = '\0';
	return 0;
}

int remote_authorized_keys_load(const char *path, struct remote_authorized_keys **ret, char *err,
				size_t errlen)
{
	struct remote_authorized_keys *list = NULL;
	const char *line, *why = NULL;
	size_t pos = 0, len, lineno = 0;
	char *buf = NULL;
	int r;

	r = read_key_file(path, false, &buf, err, errlen);
	if (r < 0)
		return r;
	list = calloc(1, sizeof(*list) +
			     REMOTE_AUTHORIZED_KEYS_MAX * sizeof(struct remote_authorized_key));
	if (!list) {
		r = error_set(err, errlen, -ENOMEM, "out of memory reading %s", path);
		goto out;
	}
	while (next_line(buf, &pos, &line, &len)) {
		struct remote_authorized_key *k = &list->keys[list->count];

		lineno++;
		if (len == 0)
			continue;
		if (list->count == REMOTE_AUTHORIZED_KEYS_MAX) {
			r = error_set(err, errlen, -E2BIG, "%s: more than %u keys", path,
				 REMOTE_AUTHORIZED_KEYS_MAX);
			goto out;
		}
		if (len > KEY_LINE_MAX || parse_authorized_line(line, len, k, &why) < 0) {
			r = error_set(err, errlen, -EINVAL, "%s line %zu: %s", path, lineno,
				 why ? why : "line too long");
			goto out;
		}
		/* One key, one meaning: a second entry could pin another host. */
		if (remote_authorized_keys_find(list, k->key)) {
			r = error_set(err, errlen, -EINVAL, "%s line %zu: key listed twice", path,
				 lineno);
			goto out;
		}
		list->count++;
	}
	if (list->count == 0) {
		r = error_set(err, errlen, -EINVAL, "%s: no public key in the file", path);
		goto out;
	}
	*ret = list;
	list = NULL;
out:
	free(list);
	free_key_file(buf);
	return r;
}

const struct remote_authorized_key *
remote_authorized_keys_find(const struct remote_authorized_keys *list,
			    const uint8_t key[REMOTE_KEY_LEN])
{
	size_t i;

	for (i = 0; list && i < list->count; i++)
		if (memcmp(list->keys[i].key, key, REMOTE_KEY_LEN) == 0)
			return &list->keys[i];
	return NULL;
}

static int write_key_file(const char *path, mode_t mode, const char *comment, const char *z85,
			  char *err, size_t errlen)
{
	char text[256];
	int fd, n, r = 0;

	n = snprintf(text, sizeof(text), "# %s\n%s\n", comment, z85);
	if (n < 0 || (size_t)n >= sizeof(text))
		return error_set(err, errlen, -EINVAL, "key text too long");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		r = error_set(err, errlen, -errno, "cannot create %s: %s", path, strerror(errno));
		goto out;
	}
	/* The umask may have removed bits we want; it never adds any. A short
	 * write leaves errno alone, so it starts at 0 and reads as EIO. */
	errno = 0;
	if (fchmod(fd, mode) < 0 || write(fd, text, (size_t)n) != n || fsync(fd) < 0) {
		r = error_set(err, errlen, errno ? -errno : -EIO, "cannot write %s: %s", path,
			 strerror(errno ? errno : EIO));
		close(fd);
		unlink(path);
		goto out;
	}
	if (close(fd) < 0) {
		r = error_set(err, errlen, -errno, "cannot write %s: %s", path, strerror(errno));
		unlink(path);
	}
out:
	explicit_bzero(text, sizeof(text));
	return r;
}

int remote_keygen(const char *prefix, char *ret_public, char *err, size_t errlen)
{
	char public_z85[REMOTE_Z85_KEY_LEN + 1], secret_z85[REMOTE_Z85_KEY_LEN + 1];
	char secret_path[PATH_MAX], public_path[PATH_MAX];
	int r;

	if (!prefix || !*prefix)
		return error_set(err, errlen, -EINVAL, "empty key file prefix");
	if ((size_t)snprintf(secret_path, sizeof(secret_path), "%s" KEY_SUFFIX_SECRET, prefix) >=
		sizeof(secret_path) ||
	    (size_t)snprintf(public_path, sizeof(public_path), "%s" KEY_SUFFIX_PUBLIC, prefix) >=
		sizeof(public_path))
		return error_set(err, errlen, -ENAMETOOLONG, "key file prefix too long");
	r = zmqlib_open(err, errlen);
	if (r < 0)
		return r;
	if (!zmq_has("curve"))
		return error_set(err, errlen, -ENOTSUP, "this libzmq has no CURVE support");
	if (zmq_curve_keypair(public_z85, secret_z85) != 0)
		return error_set(err, errlen, -errno ? -errno : -EIO, "cannot generate a key pair: %s",
			    zmq_strerror(errno));
	r = write_key_file(secret_path, 0600, "ebpfdump CURVE secret key: keep it private",
			   secret_z85, err, errlen);
	if (r < 0)
		goto out;
	r = write_key_file(public_path, 0644, "ebpfdump CURVE public key", public_z85, err, errlen);
	if (r < 0) {
		unlink(secret_path);
		goto out;
	}
	if (ret_public)
		memcpy(ret_public, public_z85, sizeof(public_z85));
out:
	explicit_bzero(secret_z85, sizeof(secret_z85));
	return r;
}
