/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests of enrich/oci.h (containerd and CRI-O bundle config.json) and of the
 * resolver (enrich/container.h) on a fake /proc and the fixture state
 * directories, with Docker switched off.
 *
 * Usage: test_oci FIXTURE_DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enrich/container.h"
#include "enrich/oci.h"
#include "test_util.h"

#define ID_DOCKER "dea789073b3ac558481126ebdbd6500f8bf2bfa959fef6c79c40d435159bfea4"
#define ID_K8S_WEB "0ef380c2b5635a1c927953ae15e944df95d14b743877025789f473a4390268c0"
#define ID_K8S_SANDBOX "ad68d04600e53c6c96483ebb4faacecb8ad6c35108d9e913f3a514bd276adf10"
#define ID_CRIO_API "d67e3f29e3b5a749239a5c4b9357c5f62f9cff216ae5bc6f3f7b0ac54475bb29"
#define ID_CRIO_SANDBOX "756a4d5376f8835e466f73cb8bfb889f54280c16b4b768b53e721d36f0c77a81"
#define ID_NERDCTL "cc068b23429400d33fb1999261c772e190f64463f08f3d8596471db30fac1daa"
#define ID_MOBY "734c67ed6047f1a82bf20cc818ed57e3e142de573b6419d94fd34106f19edbcd"
#define ID_ODD "9b1f6a0c3d2e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c"
#define ID_NOBODY "1241899ea9787587e6bcb093873387b9e7f4ae5faa50537c01df751cc5297ea7"

static const char *fixtures;

static const char *fx(const char *rel)
{
	static char bufs[4][4096];
	static unsigned next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof(bufs[0]), "%s/%s", fixtures, rel);
	return b;
}

static void test_containerd(void)
{
	struct container_info info;
	char ns[OCI_NAMESPACE_MAX + 1];

	memset(&info, 0, sizeof(info));
	CHECK(oci_lookup_containerd(fx("containerd"), ID_K8S_WEB, &info, ns, sizeof(ns)) == 0);
	CHECK_STR(ns, "k8s.io");
	CHECK(info.runtime == CONTAINER_RUNTIME_CONTAINERD);
	CHECK_STR(info.id, ID_K8S_WEB);
	CHECK_STR(info.name, "web");
	CHECK_STR(info.pod, "frontend-7d9f-x2kq");
	CHECK_STR(info.namespace_, "shop");
	CHECK_STR(info.image, "docker.io/library/nginx:1.25");
	CHECK_STR(info.sandbox_id, ID_K8S_SANDBOX);
	CHECK(!info.sandbox);

	memset(&info, 0, sizeof(info));
	CHECK(oci_lookup_containerd(fx("containerd"), ID_K8S_SANDBOX, &info, NULL, 0) == 0);
	CHECK(info.sandbox);
	CHECK_STR(info.name, "");
	CHECK_STR(info.pod, "frontend-7d9f-x2kq");
	CHECK_STR(info.namespace_, "shop");

	memset(&info, 0, sizeof(info));
	CHECK(oci_lookup_containerd(fx("containerd"), ID_NERDCTL, &info, ns, sizeof(ns)) == 0);
	CHECK_STR(ns, "default");
	CHECK_STR(info.name, "cache");
	CHECK_STR(info.pod, "");

	/* Docker CE's bundle: found, but nothing named in it */
	memset(&info, 0, sizeof(info));
	CHECK(oci_lookup_containerd(fx("containerd"), ID_MOBY, &info, ns, sizeof(ns)) == 0);
	CHECK_STR(ns, "moby");
	CHECK_STR(info.name, "");

	CHECK(oci_lookup_containerd(fx("containerd"), ID_NOBODY, &info, NULL, 0) == -ENOENT);
	CHECK(oci_lookup_containerd(fx("no-such-root"), ID_K8S_WEB, &info, NULL, 0) == -ENOENT);
	/* ids become path components: no way out of the root */
	CHECK(oci_lookup_containerd(fx("containerd"), "../k8s.io/" ID_K8S_WEB, &info, NULL, 0) ==
	      -EINVAL);
	CHECK(oci_lookup_containerd(fx("containerd"), "..", &info, NULL, 0) == -EINVAL);
	CHECK(oci_lookup_containerd(fx("containerd"), "", &info, NULL, 0) == -EINVAL);
}

static void test_crio(void)
{
	struct container_info info;

	memset(&info, 0, sizeof(info));
	CHECK(oci_lookup_storage(fx("crio"), ID_CRIO_API, CONTAINER_RUNTIME_CRIO, &info) == 0);
	CHECK(info.runtime == CONTAINER_RUNTIME_CRIO);
	CHECK_STR(info.name, "api");
	CHECK_STR(info.pod, "api-5c6b-mm2p");
	CHECK_STR(info.namespace_, "billing");
	CHECK_STR(info.image, "registry.example/billing/api:2.4.1");
	CHECK_STR(info.sandbox_id, ID_CRIO_SANDBOX);
	CHECK(!info.sandbox);

	memset(&info, 0, sizeof(info));
	CHECK(oci_lookup_storage(fx("crio"), ID_CRIO_SANDBOX, CONTAINER_RUNTIME_CRIO, &info) == 0);
	CHECK(info.sandbox);
	CHECK_STR(info.pod, "api-5c6b-mm2p");

	/* Odd characters are data, kept byte for byte (up to the limit). */
	memset(&info, 0, sizeof(info));
	CHECK(oci_lookup_storage(fx("crio"), ID_ODD, CONTAINER_RUNTIME_CRIO, &info) == 0);
	CHECK_STR(info.name, "we\"ird $(touch /tmp/pwned); `id` \xc3\xa9\xc3\xa8 \xe4\xb8\xad");
	CHECK_STR(info.pod, "pod\nwith\tcontrol\\chars");
	CHECK_STR(info.namespace_, "ns{with}braces");
	CHECK_EQ_U64(strlen(info.image), EVENT_NAME_MAX);

	CHECK(oci_lookup_storage(fx("crio"), ID_NOBODY, CONTAINER_RUNTIME_CRIO, &info) == -ENOENT);
	CHECK(oci_lookup_storage(fx("crio"), "a/b", CONTAINER_RUNTIME_CRIO, &info) == -EINVAL);
}

static void test_bad(void)
{
	static const struct {
		const char *file;
		int expect;
	} cases[] = {
	    {"bad/truncated.json", -EBADMSG},
	    {"bad/array.json", -EBADMSG},
	    {"bad/garbage.json", -EBADMSG},
	    {"bad/annotations_string.json", 0},
	    {"bad/wrong_types.json", 0},
	    {"bad/missing.json", -ENOENT},
	    {"bad", -EBADMSG}, /* a directory */
	};
	struct container_info info, before;

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r;

		memset(&info, 0, sizeof(info));
		snprintf(info.name, sizeof(info.name), "keep");
		before = info;
		r = oci_read_config(fx(cases[i].file), &info);
		if (r != cases[i].expect)
			fprintf(stderr, "%s: got %d, expected %d\n", cases[i].file, r,
				cases[i].expect);
		test_count(r == cases[i].expect);
		/* failures and empty annotations leave the info as it was */
		if (r < 0 || i == 3)
			CHECK(memcmp(&info, &before, sizeof(info)) == 0);
	}
	/* wrong types are skipped: a number is no pod name, an empty string
	 * no namespace, and the CRI spelling wins where both are present */
	memset(&info, 0, sizeof(info));
	CHECK(oci_read_config(fx("bad/wrong_types.json"), &info) == 0);
	CHECK_STR(info.pod, "first");
	CHECK_STR(info.namespace_, "");
	CHECK_STR(info.name, "c");

	/* In-memory edge cases. */
	CHECK(oci_parse_config("", 0, &info) == -EBADMSG);
	CHECK(oci_parse_config("{}", 2, &info) == 0);
	CHECK(oci_parse_config("{\"annotations\":{}}", 17, &info) == -EBADMSG); /* cut short */
}

/* A config.json over the limit is refused without being parsed. */
static void test_too_big(void)
{
	char dir[] = "/tmp/ebpfdump-oci-XXXXXX", path[256];
	struct container_info info;
	int fd;

	if (!CHECK(mkdtemp(dir)))
		return;
	memset(&info, 0, sizeof(info));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (CHECK(fd >= 0)) {
		/* sparse: no need to write megabytes */
		CHECK(ftruncate(fd, (off_t)OCI_CONFIG_MAX + 1) == 0);
		close(fd);
		CHECK(oci_read_config(path, &info) == -EMSGSIZE);
		/* exactly at the limit it is read (and found not to be JSON) */
		CHECK(truncate(path, (off_t)OCI_CONFIG_MAX) == 0);
		CHECK(oci_read_config(path, &info) == -EBADMSG);
		unlink(path);
	}
	rmdir(dir);
}

static struct container_resolver *fixture_resolver(void)
{
	struct container_config cfg = {
	    .proc_root = fx("proc"),
	    .docker_socket = "",
	    .podman_socket = "",
	    .containerd_socket = "",
	    .crio_socket = "",
	    .containerd_root = fx("containerd"),
	    .crio_root = fx("crio"),
	    .podman_root = "",
	    .negative_ttl_ms = 100,
	};
	struct container_resolver *r = NULL;

	CHECK(container_resolver_new(&cfg, &r) == 0);
	return r;
}

static void event_for(struct event *ev, uint32_t pid, const char *leaf)
{
	memset(ev, 0, sizeof(*ev));
	if (pid) {
		ev->pid = pid;
		EVENT_SET(ev, ITEM_PID);
	}
	if (leaf) {
		snprintf(ev->cgroup, sizeof(ev->cgroup), "%s", leaf);
		EVENT_SET(ev, ITEM_CGROUP);
	}
}

static void test_resolver(void)
{
	struct container_resolver *r = fixture_resolver();
	const char *why;
	struct event ev;

	if (!r)
		return;
	/* Kubernetes on containerd, v1 cgroupfs: the kernel's leaf is a bare
	 * id; the full path in /proc makes it containerd's. */
	event_for(&ev, 101, ID_K8S_WEB);
	CHECK(container_resolve_event(r, &ev, &why) == 1);
	CHECK(why == NULL);
	CHECK_STR(ev.container_id, ID_K8S_WEB);
	CHECK_STR(ev.container, "web");
	CHECK_STR(ev.pod, "frontend-7d9f-x2kq");
	CHECK_STR(ev.namespace_, "shop");
	CHECK_STR(ev.runtime, "containerd");
	CHECK_STR(ev.image, "docker.io/library/nginx:1.25");
	CHECK(EVENT_HAS(&ev, ITEM_POD) && EVENT_HAS(&ev, ITEM_NAMESPACE) &&
	      EVENT_HAS(&ev, ITEM_CONTAINER) && EVENT_HAS(&ev, ITEM_IMAGE));

	/* The pod sandbox: pod and namespace, no container name. */
	event_for(&ev, 109, NULL);
	CHECK(container_resolve_event(r, &ev, NULL) == 1);
	CHECK_STR(ev.pod, "frontend-7d9f-x2kq");
	CHECK(!EVENT_HAS(&ev, ITEM_CONTAINER));

	/* CRI-O, systemd driver, from /proc only. */
	event_for(&ev, 102, NULL);
	CHECK(container_resolve_event(r, &ev, NULL) == 1);
	CHECK_STR(ev.container_id, ID_CRIO_API);
	CHECK_STR(ev.container, "api");
	CHECK_STR(ev.pod, "api-5c6b-mm2p");
	CHECK_STR(ev.namespace_, "billing");
	CHECK_STR(ev.runtime, "cri-o");

	/* A leaf that spells its runtime needs no process (it may be gone). */
	event_for(&ev, 999999, "cri-containerd-" ID_K8S_WEB ".scope");
	CHECK(container_resolve_event(r, &ev, NULL) == 1);
	CHECK_STR(ev.container, "web");

	/* A bare leaf of an exited process, found in containerd's state. */
	event_for(&ev, 999999, ID_NERDCTL);
	CHECK(container_resolve_event(r, &ev, NULL) == 1);
	CHECK_STR(ev.container, "cache");
	CHECK_STR(ev.runtime, "containerd");

	/* A systemd service: the unit is the identity, no container id. */
	event_for(&ev, 103, NULL);
	CHECK(container_resolve_event(r, &ev, NULL) == 1);
	CHECK_STR(ev.container, "nginx.service");
	CHECK_STR(ev.runtime, "systemd");
	CHECK(!EVENT_HAS(&ev, ITEM_CONTAINER_ID));

	/* A host process: nothing to add. */
	event_for(&ev, 104, NULL);
	CHECK(container_resolve_event(r, &ev, &why) == 0);
	CHECK(why == NULL);
	CHECK(ev.present == EVENT_BIT(ITEM_PID));

	/* Odd names pass through as data. */
	event_for(&ev, 108, NULL);
	CHECK(container_resolve_event(r, &ev, NULL) == 1);
	CHECK_STR(ev.pod, "pod\nwith\tcontrol\\chars");

	/* Fields a source already set are kept. */
	event_for(&ev, 101, NULL);
	snprintf(ev.pod, sizeof(ev.pod), "remote-pod");
	EVENT_SET(&ev, ITEM_POD);
	CHECK(container_resolve_event(r, &ev, NULL) == 1);
	CHECK_STR(ev.pod, "remote-pod");
	CHECK_STR(ev.container, "web");

	/* A container no runtime knows (gone): ids only, a reason once, then
	 * the remembered failure without a new reason until its TTL ends. */
	event_for(&ev, 106, NULL);
	CHECK(container_resolve_event(r, &ev, &why) == -ESRCH);
	CHECK(why && strstr(why, "1241899ea978"));
	if (why)
		printf("reason for an unknown container: %s\n", why);
	CHECK_STR(ev.container_id, ID_NOBODY);
	CHECK(!EVENT_HAS(&ev, ITEM_CONTAINER));
	event_for(&ev, 106, NULL);
	CHECK(container_resolve_event(r, &ev, &why) == -EAGAIN);
	CHECK(why == NULL);
	CHECK_STR(ev.container_id, ID_NOBODY);
	usleep(150 * 1000);
	event_for(&ev, 106, NULL);
	CHECK(container_resolve_event(r, &ev, &why) == -ESRCH);
	CHECK(why != NULL);

	/* The cgroup-id cache: once a cgroup is known, /proc is not needed. */
	event_for(&ev, 101, NULL);
	ev.cgroup_id = 4242;
	EVENT_SET(&ev, ITEM_CGROUP_ID);
	CHECK(container_resolve_event(r, &ev, NULL) == 1);
	event_for(&ev, 777777, NULL); /* no such process in the fake /proc */
	ev.cgroup_id = 4242;
	EVENT_SET(&ev, ITEM_CGROUP_ID);
	CHECK(container_resolve_event(r, &ev, NULL) == 1);
	CHECK_STR(ev.container, "web");

	container_resolver_free(r);
	CHECK(container_resolver_free(NULL) == NULL);
}

/* A lookup that finds the bundle in containerd's "moby" namespace asks
 * Docker for the names; with Docker off, the event keeps its ids. */
static void test_moby(void)
{
	struct container_resolver *r = fixture_resolver();
	struct event ev;

	if (!r)
		return;
	event_for(&ev, 0, ID_MOBY);
	CHECK(container_resolve_event(r, &ev, NULL) < 0);
	CHECK_STR(ev.container_id, ID_MOBY);
	CHECK(!EVENT_HAS(&ev, ITEM_CONTAINER));
	container_resolver_free(r);
}

static void test_config(void)
{
	struct container_resolver *r = NULL;
	static char longpath[5000];
	struct container_config cfg = {.crio_root = longpath};

	memset(longpath, 'x', sizeof(longpath) - 1);
	CHECK(container_resolver_new(&cfg, &r) == -ENAMETOOLONG);
	CHECK(r == NULL);
	CHECK(container_resolver_new(NULL, &r) == 0);
	CHECK_STR(container_resolver_proc_root(r), "/proc");
	container_resolver_free(r);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
		return 2;
	}
	fixtures = argv[1];
	test_containerd();
	test_crio();
	test_bad();
	test_too_big();
	test_resolver();
	test_moby();
	test_config();
	return test_summary();
}
