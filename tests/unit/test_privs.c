/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of extcap/privs: the check and its message, the stand-ins the
 * kernel accepts, "+p" file capabilities, and the drop after start. Each
 * case runs in a child process that gives up capabilities first, so the
 * order of cases does not matter. Needs root (full capabilities); exits 77
 * (skipped) otherwise. */
#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "extcap/privs.h"
#include "test_util.h"

#define BIT(cap) (UINT64_C(1) << (cap))

/* A line "Name:\tHEX" of /proc/self/status, or UINT64_MAX. */
static uint64_t status_hex(const char *name)
{
	char line[256];
	uint64_t v = UINT64_MAX;
	FILE *f = fopen("/proc/self/status", "r");
	size_t n = strlen(name);

	if (!f)
		return v;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, name, n) == 0 && line[n] == ':')
			v = strtoull(line + n + 1, NULL, 16);
	fclose(f);
	return v;
}

/* Set effective and permitted exactly (no inheritable). */
static int set_caps(uint64_t effective, uint64_t permitted)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {
		{ .effective = (uint32_t)effective, .permitted = (uint32_t)permitted },
		{ .effective = (uint32_t)(effective >> 32),
		  .permitted = (uint32_t)(permitted >> 32) },
	};

	return (int)syscall(SYS_capset, &h, d);
}

/* Run fn in a child; its checks count through its exit status. */
static void in_child(const char *name, void (*fn)(void))
{
	pid_t pid = fork();
	int status = 0;

	if (pid == 0) {
		fn();
		fflush(stdout);
		_exit(test_failed ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "case %s failed\n", name);
	test_count(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void case_missing_message(void)
{
	char msg[PRIVS_MSG_MAX], self[512];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	self[n > 0 ? n : 0] = '\0';
	/* Keep net_raw only: as an unprivileged user with no setcap. */
	CHECK(set_caps(BIT(CAP_NET_RAW), BIT(CAP_NET_RAW)) == 0);
	CHECK(privs_check(PRIVS_NEEDS_PACKETS, msg, sizeof(msg)) == 0);
	CHECK(privs_check(PRIVS_NEEDS_EVENTS, msg, sizeof(msg)) == -EPERM);
	CHECK(strncmp(msg, "missing capabilities CAP_BPF, CAP_PERFMON, CAP_DAC_READ_SEARCH, "
			   "CAP_SYS_ADMIN: run as root or grant them with: sudo setcap "
			   "cap_bpf,cap_perfmon,cap_dac_read_search,cap_sys_admin,cap_sys_ptrace,"
			   "cap_net_raw,cap_net_admin+ep ",
		      strlen("missing capabilities CAP_BPF, CAP_PERFMON, CAP_DAC_READ_SEARCH, "
			     "CAP_SYS_ADMIN: run as root or grant them with: sudo setcap "
			     "cap_bpf,cap_perfmon,cap_dac_read_search,cap_sys_admin,cap_sys_ptrace,"
			     "cap_net_raw,cap_net_admin+ep ")) == 0);
	/* ... and names this very program. */
	CHECK(strlen(msg) > strlen(self) && strcmp(msg + strlen(msg) - strlen(self), self) == 0);
	CHECK(privs_missing(PRIVS_NEEDS_PROMISC) == PRIVS_CAP_NET_ADMIN);
	CHECK(privs_check(PRIVS_NEEDS_PROMISC, msg, sizeof(msg)) == -EPERM);
	CHECK(strncmp(msg, "missing capabilities CAP_NET_ADMIN: ", 36) == 0);
	/* A short buffer still holds a terminated start of the message. */
	CHECK(privs_check(PRIVS_NEEDS_EVENTS, msg, 20) == -EPERM);
	CHECK_STR(msg, "missing capabilitie");
}

static void case_standins(void)
{
	char msg[PRIVS_MSG_MAX];

	/* CAP_SYS_ADMIN covers CAP_BPF and CAP_PERFMON, CAP_DAC_OVERRIDE
	 * covers CAP_DAC_READ_SEARCH, as in the kernel's own checks. */
	CHECK(set_caps(BIT(CAP_SYS_ADMIN) | BIT(CAP_DAC_OVERRIDE),
		       BIT(CAP_SYS_ADMIN) | BIT(CAP_DAC_OVERRIDE)) == 0);
	CHECK(privs_check(PRIVS_NEEDS_EVENTS, msg, sizeof(msg)) == 0);
	CHECK(privs_missing(PRIVS_NEEDS_ATTRIBUTION) == PRIVS_CAP_SYS_PTRACE);
}

static void case_permitted_only(void)
{
	char msg[PRIVS_MSG_MAX];
	uint64_t want = BIT(CAP_BPF) | BIT(CAP_PERFMON);

	/* A file granted "+p": permitted but not effective until raised. */
	CHECK(set_caps(0, want) == 0);
	CHECK(privs_missing(PRIVS_CAP_BPF) == PRIVS_CAP_BPF);
	CHECK(privs_check(PRIVS_CAP_BPF | PRIVS_CAP_PERFMON, msg, sizeof(msg)) == 0);
	CHECK_EQ_U64(status_hex("CapEff"), want);
}

static void case_drop(void)
{
	char msg[PRIVS_MSG_MAX];
	uint64_t keep = BIT(CAP_BPF) | BIT(CAP_SYS_PTRACE) | BIT(CAP_DAC_READ_SEARCH);

	CHECK(privs_check(PRIVS_ALL, msg, sizeof(msg)) == 0);
	CHECK(privs_drop_after_start(PRIVS_KEEP_DURING_LOOP, msg, sizeof(msg)) == 0);
	CHECK_EQ_U64(status_hex("CapEff"), keep);
	CHECK_EQ_U64(status_hex("CapPrm"), keep);
	CHECK_EQ_U64(status_hex("CapInh"), 0);
	CHECK_EQ_U64(status_hex("CapAmb"), 0);
	CHECK_EQ_U64(status_hex("NoNewPrivs"), 1);
	CHECK(privs_missing(PRIVS_NEEDS_EVENTS) ==
	      (PRIVS_CAP_PERFMON | PRIVS_CAP_SYS_ADMIN));
	/* Gone for good: a capability not permitted cannot be raised again. */
	CHECK(set_caps(BIT(CAP_SYS_ADMIN), keep | BIT(CAP_SYS_ADMIN)) < 0);
	/* Dropping again, to less, works; keeping what is not there adds nothing. */
	CHECK(privs_drop_after_start(PRIVS_CAP_BPF | PRIVS_CAP_NET_ADMIN, msg, sizeof(msg)) == 0);
	CHECK_EQ_U64(status_hex("CapPrm"), BIT(CAP_BPF));
	CHECK(privs_drop_after_start(0, msg, sizeof(msg)) == 0);
	CHECK_EQ_U64(status_hex("CapEff"), 0);
}

static void case_names(void)
{
	char buf[256];

	CHECK(privs_names(PRIVS_ALL, buf, sizeof(buf)) == (int)strlen(buf));
	CHECK_STR(buf, "cap_bpf,cap_perfmon,cap_dac_read_search,cap_sys_admin,cap_sys_ptrace,"
		       "cap_net_raw,cap_net_admin");
	privs_names(PRIVS_NEEDS_PROMISC, buf, sizeof(buf));
	CHECK_STR(buf, "cap_net_raw,cap_net_admin");
	privs_names(0, buf, sizeof(buf));
	CHECK_STR(buf, "");
	CHECK(privs_names(PRIVS_ALL, buf, 8) == 7);
	CHECK_STR(buf, "cap_bpf");
}

int main(void)
{
	uint64_t all = BIT(CAP_BPF) | BIT(CAP_PERFMON) | BIT(CAP_SYS_ADMIN) |
		       BIT(CAP_SYS_PTRACE) | BIT(CAP_DAC_READ_SEARCH) | BIT(CAP_NET_RAW) |
		       BIT(CAP_NET_ADMIN);

	if ((status_hex("CapEff") & all) != all) {
		printf("SKIP: needs every capability (run as root)\n");
		return 77;
	}
	case_names();
	in_child("missing_message", case_missing_message);
	in_child("standins", case_standins);
	in_child("permitted_only", case_permitted_only);
	in_child("drop", case_drop);
	return test_summary();
}
