# SPDX-License-Identifier: GPL-2.0-or-later
# Kernel event source, issue 5: UDP flows, retransmissions, in-kernel
# filters and loss accounting, checked against real traffic between network
# namespaces (needs root, BTF, tracepoints; label e2e).
if(TARGET probe_dump)
  # (udp_peer is defined in tests/tools/tools.cmake.)
  set(_probe_tools $<TARGET_FILE:probe_dump> $<TARGET_FILE:udp_peer>
                   $<TARGET_FILE:tcp_server> $<TARGET_FILE:tcp_client>)
  foreach(_t probe_udp probe_udp_flood probe_retransmit probe_filters probe_loss
           probe_missed_close)
    add_test(NAME ${_t} COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/${_t}.sh ${_probe_tools}
                                $<TARGET_FILE:ebpfdump>)
    # 77: not root or no kernel support; reported as skipped, not passed.
    # Serial: they load BPF programs and count machine-wide events.
    set_tests_properties(${_t} PROPERTIES LABELS "e2e" TIMEOUT 60 SKIP_RETURN_CODE 77
                         RUN_SERIAL TRUE)
  endforeach()
endif()
