/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The --tls source: tls.bpf.c's uprobes on the TLS libraries in use. */
#include "tls_probe.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tls.skel.h"
#include "tls_event.h"
#include "util/clock.h"

/* Distinct library files attached at most (by device and inode). */
#define TLS_LIBS_MAX 64
#define TLS_LINKS_MAX (TLS_LIBS_MAX * 8)
/* Executables looked at for Go's crypto/tls (by device and inode). */
#define TLS_EXES_MAX 4096
#define TLS_GO_LINKS_MAX 256
#define TLS_LIBS_TEXT 4096

struct tls_probe {
	struct tls_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[TLS_LINKS_MAX];
	unsigned n_links;
	struct {
		dev_t dev;
		ino_t ino;
	} libs[TLS_LIBS_MAX];
	unsigned n_libs;
	char libs_text[TLS_LIBS_TEXT];
	struct {
		dev_t dev;
		ino_t ino;
	} exes[TLS_EXES_MAX];
	unsigned n_exes;
	struct bpf_link *go_links[TLS_GO_LINKS_MAX];
	unsigned n_go_links;
	const char *proc;
	tls_probe_key_cb key_cb;
	uint64_t keys;
	int64_t boot_to_wall; /* ns added to CLOCK_BOOTTIME stamps */
	tls_probe_cb cb;
	void *ctx;
	uint64_t delivered;
};

/* Functions hooked per library: entry program, and whether the return is
 * hooked too (always, the return carries the length). */
struct hook {
	const char *func;
	int which; /* 0 write, 1 read, 2 write_ex, 3 read_ex */
};

static const struct hook openssl_hooks[] = {
    {"SSL_write", 0},
    {"SSL_read", 1},
    {"SSL_write_ex", 2},
    {"SSL_read_ex", 3},
};
static const struct hook gnutls_hooks[] = {
    {"gnutls_record_send", 0},
    {"gnutls_record_recv", 1},
};

/* Attach the key-log hook to the program pid runs if it is a Go program
 * with crypto/tls; each executable file is looked at once. */
static void attach_go(struct tls_probe *p, const char *pid)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o, .func_name = TLS_GO_KEYLOG_FUNC);
	char path[256];
	struct stat st;
	struct bpf_link *l;

	snprintf(path, sizeof(path), "%s/%s/exe", p->proc, pid);
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	for (unsigned i = 0; i < p->n_exes; i++)
		if (p->exes[i].dev == st.st_dev && p->exes[i].ino == st.st_ino)
			return;
	if (p->n_exes < TLS_EXES_MAX) {
		p->exes[p->n_exes].dev = st.st_dev;
		p->exes[p->n_exes].ino = st.st_ino;
		p->n_exes++;
	}
	if (p->n_go_links >= TLS_GO_LINKS_MAX)
		return;
	/* libbpf finds the symbol in the file's ELF symbol table: absent in
	 * other programs and in stripped Go binaries. */
	l = bpf_program__attach_uprobe_opts(p->skel->progs.go_keylog, -1, path, 0, &o);
	if (l)
		p->go_links[p->n_go_links++] = l;
}

static void on_key(struct tls_probe *p, const struct tls_key_record *k)
{
	static const char hex[] = "0123456789abcdef";
	char line[TLS_KEY_LABEL_MAX + 2 * (TLS_KEY_RANDOM_LEN + TLS_KEY_SECRET_MAX) + 4];
	size_t n;

	if (!k->label_len || k->label_len >= TLS_KEY_LABEL_MAX ||
	    k->secret_len > TLS_KEY_SECRET_MAX)
		return;
	memcpy(line, k->label, k->label_len);
	n = k->label_len;
	line[n++] = ' ';
	for (unsigned i = 0; i < TLS_KEY_RANDOM_LEN; i++) {
		line[n++] = hex[k->random[i] >> 4];
		line[n++] = hex[k->random[i] & 15];
	}
	line[n++] = ' ';
	for (unsigned i = 0; i < k->secret_len; i++) {
		line[n++] = hex[k->secret[i] >> 4];
		line[n++] = hex[k->secret[i] & 15];
	}
	line[n++] = '\n';
	p->keys++;
	if (p->key_cb)
		p->key_cb(k->pid, k->ts_ns + (uint64_t)p->boot_to_wall, line, n, p->ctx);
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct tls_probe *p = ctx;
	const struct tls_record *r = data;
	struct tls_data d;

	if (size >= sizeof(struct tls_key_record) && r->kind == TLS_KIND_KEY) {
		on_key(p, data);
		return 0;
	}
	if (size >= sizeof(struct tls_exec_record) && r->kind == TLS_KIND_EXEC) {
		char pid[16];

		snprintf(pid, sizeof(pid), "%u", ((const struct tls_exec_record *)data)->pid);
		attach_go(p, pid);
		return 0;
	}
	if (size < TLS_RECORD_HEAD_LEN || r->kind != TLS_KIND_DATA ||
	    r->len > size - TLS_RECORD_HEAD_LEN)
		return 0;
	memset(&d, 0, sizeof(d));
	d.ts_ns = r->ts_ns + (uint64_t)p->boot_to_wall;
	d.cgroup_id = r->cgroup_id;
	d.pid = r->pid;
	d.tid = r->tid;
	memcpy(d.comm, r->comm, sizeof(r->comm));
	d.comm[sizeof(r->comm)] = '\0';
	d.received = r->dir == TLS_DIR_READ;
	d.family = r->family;
	d.lport = r->lport;
	d.rport = r->rport;
	memcpy(d.laddr, r->laddr, 16);
	memcpy(d.raddr, r->raddr, 16);
	d.data = r->data;
	d.len = r->len;
	d.orig_len = r->orig_len;
	p->delivered++;
	p->cb(&d, p->ctx);
	return 0;
}

static struct bpf_program *entry_prog(struct tls_probe *p, int which)
{
	switch (which) {
	case 0:
		return p->skel->progs.tls_write_enter;
	case 1:
		return p->skel->progs.tls_read_enter;
	case 2:
		return p->skel->progs.tls_write_ex_enter;
	default:
		return p->skel->progs.tls_read_ex_enter;
	}
}

static int add_link(struct tls_probe *p, struct bpf_program *prog, const char *path,
		    const char *func, bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o, .func_name = func, .retprobe = ret);
	struct bpf_link *l;

	if (p->n_links >= TLS_LINKS_MAX)
		return -E2BIG;
	l = bpf_program__attach_uprobe_opts(prog, -1, path, 0, &o);
	if (!l)
		return -errno;
	p->links[p->n_links++] = l;
	return 0;
}

static void note_lib(struct tls_probe *p, const char *path, const char *funcs)
{
	size_t n = strlen(p->libs_text);

	snprintf(p->libs_text + n, sizeof(p->libs_text) - n, "%s%s (%s)", n ? ", " : "", path,
		 funcs);
}

/* Attach to one library file unless already attached (same inode). */
static void attach_lib(struct tls_probe *p, const char *path)
{
	const char *base = strrchr(path, '/');
	const struct hook *hooks;
	size_t n_hooks;
	char funcs[128] = "";
	struct stat st;
	bool any = false;

	base = base ? base + 1 : path;
	if (strncmp(base, "libssl.so", 9) == 0) {
		hooks = openssl_hooks;
		n_hooks = sizeof(openssl_hooks) / sizeof(openssl_hooks[0]);
	} else if (strncmp(base, "libgnutls.so", 12) == 0) {
		hooks = gnutls_hooks;
		n_hooks = sizeof(gnutls_hooks) / sizeof(gnutls_hooks[0]);
	} else {
		return;
	}
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || p->n_libs >= TLS_LIBS_MAX)
		return;
	for (unsigned i = 0; i < p->n_libs; i++)
		if (p->libs[i].dev == st.st_dev && p->libs[i].ino == st.st_ino)
			return;
	p->libs[p->n_libs].dev = st.st_dev;
	p->libs[p->n_libs].ino = st.st_ino;
	p->n_libs++;
	for (size_t i = 0; i < n_hooks; i++) {
		/* A function this version lacks (SSL_read_ex before 1.1.1) is
		 * skipped; the return probe goes first so that an entry never
		 * lacks its return. */
		if (add_link(p, p->skel->progs.tls_return, path, hooks[i].func, true) < 0)
			continue;
		if (add_link(p, entry_prog(p, hooks[i].which), path, hooks[i].func, false) < 0)
			continue;
		snprintf(funcs + strlen(funcs), sizeof(funcs) - strlen(funcs), "%s%s",
			 any ? " " : "", hooks[i].func);
		any = true;
	}
	if (any)
		note_lib(p, path, funcs);
}

/* TLS libraries a process has mapped, opened through its root (a
 * container's files are not at the same path on the host). */
static void scan_maps(struct tls_probe *p, const char *proc, const char *pid)
{
	char path[512], line[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/maps", proc, pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *file = strchr(line, '/');
		char *nl;

		if (!file || (!strstr(file, "/libssl.so") && !strstr(file, "/libgnutls.so")))
			continue;
		nl = strchr(file, '\n');
		if (nl)
			*nl = '\0';
		snprintf(path, sizeof(path), "%s/%s/root%s", proc, pid, file);
		attach_lib(p, path);
	}
	fclose(f);
}

static void find_libs(struct tls_probe *p, uint32_t pid, const char *proc)
{
	static const char *const patterns[] = {
	    "/usr/lib/*/libssl.so.3",	  "/usr/lib/*/libssl.so.1.1", "/usr/lib/libssl.so.3",
	    "/usr/lib64/libssl.so.3",	  "/usr/lib64/libssl.so.1.1", "/usr/lib/*/libgnutls.so.30",
	    "/usr/lib64/libgnutls.so.30",
	};
	char buf[16];

	if (pid) {
		snprintf(buf, sizeof(buf), "%u", pid);
		scan_maps(p, proc, buf);
		attach_go(p, buf);
	} else {
		DIR *d = opendir(proc);
		struct dirent *e;

		while (d && (e = readdir(d)))
			if (e->d_name[0] >= '1' && e->d_name[0] <= '9') {
				scan_maps(p, proc, e->d_name);
				attach_go(p, e->d_name);
			}
		if (d)
			closedir(d);
	}
	/* Processes started later load the system's copies. */
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		glob_t g;

		if (glob(patterns[i], 0, NULL, &g) == 0)
			for (size_t j = 0; j < g.gl_pathc; j++)
				attach_lib(p, g.gl_pathv[j]);
		globfree(&g);
	}
}

int tls_probe_open(uint32_t pid, const char *proc, tls_probe_cb cb, tls_probe_key_cb key_cb,
		   void *ctx, struct tls_probe **ret, char *err, size_t errlen)
{
	struct tls_probe *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	p->cb = cb;
	p->key_cb = key_cb;
	p->proc = proc;
	p->ctx = ctx;
	p->boot_to_wall = clock_boot_to_realtime_ns();
	p->skel = tls_bpf__open();
	if (!p->skel) {
		r = -errno;
		snprintf(err, errlen, "cannot open the TLS BPF object: %s", strerror(-r));
		goto fail;
	}
	p->skel->rodata->filter_pid = pid;
	r = tls_bpf__load(p->skel);
	if (r < 0) {
		snprintf(
		    err, errlen,
		    "cannot load the TLS BPF programs: %s; run with --debug for the verifier log",
		    strerror(-r));
		goto fail;
	}
	p->links[p->n_links] = bpf_program__attach(p->skel->progs.tls_sys_enter);
	if (!p->links[p->n_links]) {
		r = -errno;
		snprintf(err, errlen, "cannot attach to the sys_enter raw tracepoint: %s",
			 strerror(-r));
		goto fail;
	}
	p->n_links++;
	p->links[p->n_links] = bpf_program__attach(p->skel->progs.tls_exec);
	if (!p->links[p->n_links]) {
		r = -errno;
		snprintf(err, errlen, "cannot attach to the sched_process_exec raw tracepoint: %s",
			 strerror(-r));
		goto fail;
	}
	p->n_links++;
	find_libs(p, pid, proc);
	if (!p->libs_text[0] && !p->n_go_links && pid) {
		r = -ENOENT;
		snprintf(err, errlen,
			 "--tls found no TLS library (libssl.so.3, libssl.so.1.1, libgnutls.so.30) "
			 "and no Go crypto/tls in process %u; check --pid, or drop --tls",
			 pid);
		goto fail;
	}
	p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.tls_events), on_record, p, NULL);
	if (!p->rb) {
		r = -errno;
		snprintf(err, errlen, "cannot open the TLS ring buffer: %s", strerror(-r));
		goto fail;
	}
	*ret = p;
	return 0;
fail:
	tls_probe_free(p);
	return r < 0 ? r : -EINVAL;
}

int tls_probe_fd(const struct tls_probe *p)
{
	return ring_buffer__epoll_fd(p->rb);
}

int tls_probe_consume(struct tls_probe *p)
{
	return ring_buffer__consume(p->rb);
}

void tls_probe_stats(const struct tls_probe *p, struct tls_probe_stats *st)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v;

	memset(st, 0, sizeof(*st));
	st->delivered = p->delivered;
	st->keys = p->keys;
	st->go_programs = p->n_go_links;
	if (ncpu <= 0)
		return;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return;
	for (uint32_t k = 0; k < 3; k++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.tls_counters), &k, v) < 0)
			continue;
		for (int c = 0; c < ncpu; c++)
			sum += v[c];
		if (k == 0)
			st->lost = sum;
		else if (k == 1)
			st->cut = sum;
		else
			st->faults = sum;
	}
	free(v);
}

const char *tls_probe_libraries(const struct tls_probe *p)
{
	return p->libs_text;
}

struct tls_probe *tls_probe_free(struct tls_probe *p)
{
	if (!p)
		return NULL;
	ring_buffer__free(p->rb);
	for (unsigned i = 0; i < p->n_links; i++)
		bpf_link__destroy(p->links[i]);
	for (unsigned i = 0; i < p->n_go_links; i++)
		bpf_link__destroy(p->go_links[i]);
	tls_bpf__destroy(p->skel);
	free(p);
	return NULL;
}
