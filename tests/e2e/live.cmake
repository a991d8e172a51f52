# SPDX-License-Identifier: GPL-2.0-or-later
# Live capture on a real veth (root, network namespaces): the same packets
# as a tcpdump running alongside, a bad capture filter refused before
# anything starts, an interface deleted mid-capture, and a tcpdump file
# merged offline with the events ebpfdump captured at the same time.
add_executable(live_capture ${PROJECT_SOURCE_DIR}/tests/tools/live_capture.c)
target_link_libraries(live_capture PRIVATE ebpf_live ebpf_pcapng)

add_test(NAME live_veth
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/live_veth.sh
                 $<TARGET_FILE:live_capture> $<TARGET_FILE:test_reader>
                 $<TARGET_FILE:live_tcp_server> $<TARGET_FILE:live_tcp_client>)
set_tests_properties(live_veth PROPERTIES LABELS "e2e" TIMEOUT 90 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)

# The test's own copies of the TCP helpers (probe.cmake builds them only
# with the BPF part).
find_package(Threads REQUIRED)
add_executable(live_tcp_server ${PROJECT_SOURCE_DIR}/tests/tools/tcp_server.c)
add_executable(live_tcp_client ${PROJECT_SOURCE_DIR}/tests/tools/tcp_client.c)
target_link_libraries(live_tcp_server PRIVATE Threads::Threads)
target_link_libraries(live_tcp_client PRIVATE Threads::Threads)

# A tcpdump file and ebpfdump's events of the same connections, merged
# offline: the tags a live capture gives (root, BPF, a veth).
if(TARGET ebpfdump)
  add_test(NAME live_kernel_merge
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/live_kernel_merge.sh
                   $<TARGET_FILE:ebpfdump>
                   $<TARGET_FILE:live_tcp_server> $<TARGET_FILE:live_tcp_client>
                   ${PROJECT_SOURCE_DIR}/dissector/ebpf.lua)
  set_tests_properties(live_kernel_merge PROPERTIES LABELS "e2e" TIMEOUT 90 SKIP_RETURN_CODE 77
                       RESOURCE_LOCK bpf)
endif()
