/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OCI bundle config.json annotations → container, pod and namespace names. */
#include "enrich/oci.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Longest id put into a path. */
#define OCI_ID_MAX 128u

/* Annotation → field, first present wins (CRI's containerd spelling first,
 * then CRI-O's, then plain containerd clients'). */
enum oci_field { OCI_POD, OCI_NAMESPACE, OCI_NAME, OCI_IMAGE, OCI_SANDBOX_ID };

static const struct {
	const char *key;
	enum oci_field field;
} annotation_fields[] = {
    {"io.kubernetes.cri.sandbox-name", OCI_POD},
    {"io.kubernetes.pod.name", OCI_POD},
    {"io.kubernetes.cri.sandbox-namespace", OCI_NAMESPACE},
    {"io.kubernetes.pod.namespace", OCI_NAMESPACE},
    {"io.kubernetes.cri.container-name", OCI_NAME},
    {"io.kubernetes.container.name", OCI_NAME},
    {"nerdctl/name", OCI_NAME},
    {"io.kubernetes.cri.image-name", OCI_IMAGE},
    {"io.kubernetes.cri-o.ImageName", OCI_IMAGE},
    {"io.kubernetes.cri.sandbox-id", OCI_SANDBOX_ID},
    {"io.kubernetes.cri-o.SandboxID", OCI_SANDBOX_ID},
    {NULL, 0},
};

static const char *const sandbox_type_keys[] = {
    "io.kubernetes.cri.container-type",
    "io.kubernetes.cri-o.ContainerType",
    NULL,
};

static char *field_of(struct container_info *info, enum oci_field f, size_t *size)
{
	*size = sizeof(info->pod); /* all fields have the same size */
	switch (f) {
	case OCI_POD:
		return info->pod;
	case OCI_NAMESPACE:
		return info->namespace_;
	case OCI_NAME:
		return info->name;
	case OCI_IMAGE:
		return info->image;
	case OCI_SANDBOX_ID:
		return info->sandbox_id;
	}
	return NULL;
}

static const char *annotation(struct json_object *ann, const char *key, size_t *len)
{
	struct json_object *v;

	if (!json_object_object_get_ex(ann, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	*len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

int oci_parse_config(const char *json, size_t len, struct container_info *ret)
{
	struct json_tokener *tok;
	struct json_object *o, *ann;
	struct container_info info = *ret;
	bool filled[OCI_SANDBOX_ID + 1] = {false};

	if (len > OCI_CONFIG_MAX)
		return -EMSGSIZE;
	tok = json_tokener_new_ex(OCI_JSON_DEPTH_MAX);
	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, json, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		json_tokener_free(tok);
		return -EBADMSG;
	}
	json_tokener_free(tok);
	if (!json_object_object_get_ex(o, "annotations", &ann) ||
	    !json_object_is_type(ann, json_type_object))
		goto out; /* a plain runc bundle: nothing to learn */
	for (unsigned i = 0; annotation_fields[i].key; i++) {
		enum oci_field f = annotation_fields[i].field;
		const char *s;
		size_t n = 0, size;
		char *dst;

		if (filled[f])
			continue;
		s = annotation(ann, annotation_fields[i].key, &n);
		if (!s || n == 0)
			continue;
		dst = field_of(&info, f, &size);
		event_copy_str(dst, size, s, n);
		filled[f] = true;
	}
	for (unsigned i = 0; sandbox_type_keys[i]; i++) {
		size_t n = 0;
		const char *s = annotation(ann, sandbox_type_keys[i], &n);

		if (s && n == 7 && memcmp(s, "sandbox", 7) == 0)
			info.sandbox = true;
	}
out:
	json_object_put(o);
	*ret = info;
	return 0;
}

int oci_read_config(const char *path, struct container_info *ret)
{
	struct stat st;
	char *buf;
	size_t len = 0, cap;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EBADMSG;
		goto out_close;
	}
	if (st.st_size > (off_t)OCI_CONFIG_MAX) {
		r = -EMSGSIZE;
		goto out_close;
	}
	/* Room for one byte more than fstat said, to see the end of file; a
	 * file that grew meanwhile gets the whole limit (plus one byte, to
	 * notice one over it). */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf) {
		r = -ENOMEM;
		goto out_close;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *p =
			    cap < OCI_CONFIG_MAX + 1 ? realloc(buf, OCI_CONFIG_MAX + 1) : NULL;

			if (!p) {
				r = cap < OCI_CONFIG_MAX + 1 ? -ENOMEM : -EMSGSIZE;
				goto out_free;
			}
			buf = p;
			cap = OCI_CONFIG_MAX + 1;
		}
		n = read(fd, buf + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out_free;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > OCI_CONFIG_MAX) {
			r = -EMSGSIZE;
			goto out_free;
		}
	}
	r = oci_parse_config(buf, len, ret);
out_free:
	free(buf);
out_close:
	close(fd);
	return r;
}

/* Ids become path components: no separators, no dot-names. */
static bool plain_id(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n > OCI_ID_MAX || id[0] == '.')
		return false;
	return strchr(id, '/') == NULL;
}

int oci_lookup_containerd(const char *root, const char *id, struct container_info *ret,
			  char *ret_namespace, size_t size)
{
	struct dirent *de;
	unsigned seen = 0;
	DIR *d;
	int r = -ENOENT;

	if (!root || !plain_id(id))
		return -EINVAL;
	d = opendir(root);
	if (!d)
		return -errno;
	while ((de = readdir(d)) && seen < OCI_NAMESPACES_MAX) {
		char path[PATH_MAX];
		struct container_info info;
		int n;

		if (de->d_name[0] == '.')
			continue;
		seen++;
		n = snprintf(path, sizeof(path), "%s/%s/%s/config.json", root, de->d_name, id);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		memset(&info, 0, sizeof(info));
		r = oci_read_config(path, &info);
		if (r == -ENOENT || r == -ENOTDIR)
			continue;
		if (r < 0)
			break;
		info.runtime = CONTAINER_RUNTIME_CONTAINERD;
		event_copy_str(info.id, sizeof(info.id), id, strlen(id));
		*ret = info;
		if (ret_namespace && size)
			snprintf(ret_namespace, size, "%s", de->d_name);
		break;
	}
	closedir(d);
	if (r == -ENOTDIR)
		r = -ENOENT;
	return r;
}

int oci_lookup_storage(const char *root, const char *id, enum container_runtime runtime,
		       struct container_info *ret)
{
	char path[PATH_MAX];
	struct container_info info;
	int n, r;

	if (!root || !plain_id(id))
		return -EINVAL;
	n = snprintf(path, sizeof(path), "%s/%s/userdata/config.json", root, id);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	memset(&info, 0, sizeof(info));
	r = oci_read_config(path, &info);
	if (r == -ENOTDIR)
		r = -ENOENT;
	if (r < 0)
		return r;
	info.runtime = runtime;
	event_copy_str(info.id, sizeof(info.id), id, strlen(id));
	*ret = info;
	return 0;
}
