# SPDX-License-Identifier: GPL-2.0-or-later
# Kernel event source: TCP events checked against real connections between
# two network namespaces (needs root, BTF, tracepoints).
# (tcp_server and tcp_client are defined in tests/tools/tools.cmake.)
if(TARGET probe_dump)
  add_test(NAME probe_events
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/probe_events.sh
                   $<TARGET_FILE:probe_dump> $<TARGET_FILE:tcp_server> $<TARGET_FILE:tcp_client>)
  # 77: not root or no kernel support; reported as skipped, not passed.
  set_tests_properties(probe_events PROPERTIES LABELS "e2e" TIMEOUT 60 SKIP_RETURN_CODE 77
                       RUN_SERIAL TRUE)
endif()
if(TARGET ebpfdump AND EBPFDUMP_WITH_BPF)
  add_test(NAME probe_abandoned
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/probe_abandoned.sh $<TARGET_FILE:ebpfdump>
                   ${PROJECT_SOURCE_DIR} $<TARGET_FILE_DIR:tcp_client>)
  set_tests_properties(probe_abandoned PROPERTIES LABELS "e2e" TIMEOUT 60)
endif()
