/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Capabilities of the process: check, explain, drop (extcap/privs.h). */
#include "extcap/privs.h"

#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Capability sets are two 32-bit words in version 3 of the interface. */
#define CAP_WORDS 2

struct privs_cap_name {
	uint32_t bit;
	int cap; /* Linux capability number */
	const char *name;
};

/* Also the order of names in messages and in the setcap suggestion. */
static const struct privs_cap_name cap_names[] = {
	{ PRIVS_CAP_BPF, CAP_BPF, "cap_bpf" },
	{ PRIVS_CAP_PERFMON, CAP_PERFMON, "cap_perfmon" },
	{ PRIVS_CAP_DAC_READ_SEARCH, CAP_DAC_READ_SEARCH, "cap_dac_read_search" },
	{ PRIVS_CAP_SYS_ADMIN, CAP_SYS_ADMIN, "cap_sys_admin" },
	{ PRIVS_CAP_SYS_PTRACE, CAP_SYS_PTRACE, "cap_sys_ptrace" },
	{ PRIVS_CAP_NET_RAW, CAP_NET_RAW, "cap_net_raw" },
	{ PRIVS_CAP_NET_ADMIN, CAP_NET_ADMIN, "cap_net_admin" },
	{ 0, 0, NULL },
};

struct cap_sets {
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[CAP_WORDS];
};

static int caps_get(struct cap_sets *s)
{
	memset(s, 0, sizeof(*s));
	s->hdr.version = _LINUX_CAPABILITY_VERSION_3;
	return syscall(SYS_capget, &s->hdr, s->data) < 0 ? -errno : 0;
}

static int caps_set(struct cap_sets *s)
{
	s->hdr.version = _LINUX_CAPABILITY_VERSION_3;
	s->hdr.pid = 0;
	return syscall(SYS_capset, &s->hdr, s->data) < 0 ? -errno : 0;
}

static bool has(const struct cap_sets *s, int cap)
{
	return (s->data[cap / 32].effective >> (cap % 32)) & 1u;
}

static uint32_t missing_in(const struct cap_sets *s, uint32_t needs)
{
	uint32_t missing = 0;

	for (const struct privs_cap_name *c = cap_names; c->name; c++) {
		bool ok;

		if (!(needs & c->bit))
			continue;
		ok = has(s, c->cap);
		/* The kernel accepts these in place of the finer capability
		 * (bpf_capable(), perfmon_capable(), DAC checks). */
		if (c->cap == CAP_BPF || c->cap == CAP_PERFMON)
			ok |= has(s, CAP_SYS_ADMIN);
		if (c->cap == CAP_DAC_READ_SEARCH)
			ok |= has(s, CAP_DAC_OVERRIDE);
		if (!ok)
			missing |= c->bit;
	}
	return missing;
}

int privs_names(uint32_t caps, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return 0;
	buf[0] = '\0';
	for (const struct privs_cap_name *c = cap_names; c->name; c++) {
		int n;

		if (!(caps & c->bit))
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? "," : "", c->name);
		if (n < 0 || (size_t)n >= len - off) {
			off = len - 1;
			break;
		}
		off += (size_t)n;
	}
	return (int)off;
}

/* "CAP_BPF, CAP_PERFMON" */
static void upper_names(uint32_t caps, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (const struct privs_cap_name *c = cap_names; c->name; c++) {
		int n;

		if (!(caps & c->bit))
			continue;
		n = snprintf(buf + off, len - off, "%s", off ? ", " : "");
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
		for (const char *p = c->name; *p && off + 1 < len; p++)
			buf[off++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
		buf[off] = '\0';
	}
}

/* Raise permitted into effective. A failure only means the check below
 * reports what is missing. */
static void raise_permitted(struct cap_sets *s)
{
	struct cap_sets want = *s;
	bool changed = false;

	for (int i = 0; i < CAP_WORDS; i++) {
		changed |= want.data[i].effective != want.data[i].permitted;
		want.data[i].effective = want.data[i].permitted;
	}
	if (changed && caps_set(&want) == 0)
		*s = want;
}

uint32_t privs_missing(uint32_t needs)
{
	struct cap_sets s;

	if (caps_get(&s) < 0)
		return needs;
	return missing_in(&s, needs);
}

int privs_check(uint32_t needs, char *msg, size_t len)
{
	char missing_text[160], grant[160], self[PATH_MAX];
	struct cap_sets s;
	uint32_t missing;
	ssize_t n;
	int r;

	r = caps_get(&s);
	if (r < 0) {
		snprintf(msg, len, "cannot read the process capabilities: %s", strerror(-r));
		return r;
	}
	raise_permitted(&s);
	missing = missing_in(&s, needs);
	if (!missing)
		return 0;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		snprintf(self, sizeof(self), "/path/to/ebpfdump");
	else
		self[n] = '\0';
	upper_names(missing, missing_text, sizeof(missing_text));
	privs_names(PRIVS_ALL, grant, sizeof(grant));
	snprintf(msg, len,
		 "missing capabilities %s: run as root or grant them with: sudo setcap %s+ep %s",
		 missing_text, grant, self);
	return -EPERM;
}

int privs_drop_after_start(uint32_t keep, char *msg, size_t len)
{
	struct cap_sets s, want = { 0 };
	int r;

	r = caps_get(&s);
	if (r < 0) {
		snprintf(msg, len, "cannot read the process capabilities: %s", strerror(-r));
		return r;
	}
	for (const struct privs_cap_name *c = cap_names; c->name; c++) {
		uint32_t bit = 1u << (c->cap % 32);
		int w = c->cap / 32;

		if ((keep & c->bit) && (s.data[w].permitted & bit)) {
			want.data[w].permitted |= bit;
			want.data[w].effective |= bit;
		}
	}
	/* Ambient capabilities would pass to any program we started. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		r = -errno;
		snprintf(msg, len, "cannot clear ambient capabilities: %s", strerror(-r));
		return r;
	}
	r = caps_set(&want);
	if (r < 0) {
		snprintf(msg, len, "cannot drop capabilities: %s", strerror(-r));
		return r;
	}
	/* Nothing dropped can come back through a set-user-ID or file
	 * capability program either. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		r = -errno;
		snprintf(msg, len, "cannot set no_new_privs: %s", strerror(-r));
		return r;
	}
	return 0;
}

/* The capabilities that override file permissions. */
static const int dac_caps[] = { CAP_DAC_READ_SEARCH, CAP_DAC_OVERRIDE, CAP_FOWNER };
static uint32_t dac_saved[CAP_WORDS];
static bool dac_lowered;

int privs_as_caller(bool on)
{
	struct cap_sets s;
	int r;

	if (getuid() == 0 || on == dac_lowered)
		return 0; /* root is root: nobody borrows its eyes */
	r = caps_get(&s);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(dac_caps) / sizeof(dac_caps[0]); i++) {
		int w = dac_caps[i] / 32;
		uint32_t bit = 1u << (dac_caps[i] % 32);

		if (on) {
			dac_saved[w] = (dac_saved[w] & ~bit) | (s.data[w].effective & bit);
			s.data[w].effective &= ~bit;
		} else {
			s.data[w].effective |= dac_saved[w] & bit & s.data[w].permitted;
		}
	}
	r = caps_set(&s);
	if (r == 0)
		dac_lowered = on;
	return r;
}

int privs_drop_all_if_borrowed(char *msg, size_t len)
{
	if (getuid() == 0)
		return 0;
	return privs_drop_after_start(0, msg, len);
}
