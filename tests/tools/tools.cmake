# SPDX-License-Identifier: GPL-2.0-or-later
# Traffic and socket helpers shared by the end-to-end tests and
# scripts/demo.sh; plain sockets, built whether or not the eBPF source is.
find_package(Threads REQUIRED)
add_executable(tcp_server ${CMAKE_CURRENT_LIST_DIR}/tcp_server.c)
add_executable(tcp_client ${CMAKE_CURRENT_LIST_DIR}/tcp_client.c)
target_link_libraries(tcp_server PRIVATE Threads::Threads)
target_link_libraries(tcp_client PRIVATE Threads::Threads)
add_executable(udp_peer ${CMAKE_CURRENT_LIST_DIR}/udp_peer.c)
target_link_libraries(udp_peer PRIVATE Threads::Threads)
add_executable(snapshot_hold ${CMAKE_CURRENT_LIST_DIR}/snapshot_hold.c)

# Prints every event the probe delivers (the probe tests read its output).
if(TARGET ebpf_probe)
  add_executable(probe_dump ${CMAKE_CURRENT_LIST_DIR}/probe_dump.c)
  target_link_libraries(probe_dump PRIVATE ebpf_probe ebpf_event)
endif()
