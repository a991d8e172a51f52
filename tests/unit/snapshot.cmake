# SPDX-License-Identifier: GPL-2.0-or-later
# Unit tests of snapshot/: the owner table (lookups by tuple, cookie,
# IPv4-mapped, UDP wildcards, ambiguity, limits) and a snapshot of the
# test's own sockets in its own network namespace (no root needed).
if(TARGET ebpf_snapshot)
  add_executable(test_snapshot ${CMAKE_CURRENT_LIST_DIR}/test_snapshot.c)
  target_link_libraries(test_snapshot PRIVATE ebpf_snapshot)
  foreach(group table take)
    add_test(NAME snapshot_${group} COMMAND test_snapshot ${group})
    set_tests_properties(snapshot_${group} PROPERTIES TIMEOUT 60)
  endforeach()
endif()
