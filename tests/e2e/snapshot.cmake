# SPDX-License-Identifier: GPL-2.0-or-later
# The socket snapshot on the real kernel: sockets opened in two network
# namespaces joined by a veth and in the host namespace before the
# snapshot, their owners, the owner table, limits, and the time for
# ~10k sockets (needs root: namespaces, setns).
if(TARGET ebpf_snapshot)
  add_executable(snapshot_dump ${CMAKE_CURRENT_LIST_DIR}/../tools/snapshot_dump.c)
  target_link_libraries(snapshot_dump PRIVATE ebpf_snapshot)
  # (snapshot_hold is defined in tests/tools/tools.cmake.)

  add_test(NAME snapshot_e2e
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/snapshot.sh
                   $<TARGET_FILE:snapshot_dump> $<TARGET_FILE:snapshot_hold>)
  # 77: not root; reported as skipped, not passed.
  set_tests_properties(snapshot_e2e PROPERTIES LABELS "e2e" TIMEOUT 60 SKIP_RETURN_CODE 77
                       RUN_SERIAL TRUE)
endif()
