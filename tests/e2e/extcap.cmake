# SPDX-License-Identifier: GPL-2.0-or-later
# The extcap contract, as Wireshark's own suite checks every extcap tool,
# and bad command lines (no root needed).
add_test(NAME extcap_contract
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/extcap_contract.sh $<TARGET_FILE:ebpfdump>)
set_tests_properties(extcap_contract PROPERTIES LABELS "extcap" TIMEOUT 60)

if(EBPFDUMP_WITH_BPF)
# Wireshark's own capture path on the real kernel (root, network namespaces).
add_test(NAME extcap_tcp_e2e
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/extcap_tcp.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR}
                 $<TARGET_FILE_DIR:tcp_client>)
set_tests_properties(extcap_tcp_e2e PROPERTIES LABELS "e2e" TIMEOUT 120 SKIP_RETURN_CODE 77
                     RUN_SERIAL TRUE)

# Faults: privileges, BTF, tracefs, unopenable output, full disk, reader gone, signals.
add_test(NAME extcap_faults_e2e
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/extcap_faults.sh $<TARGET_FILE:ebpfdump>
                 ${PROJECT_SOURCE_DIR} $<TARGET_FILE_DIR:tcp_client>)
set_tests_properties(extcap_faults_e2e PROPERTIES LABELS "e2e" TIMEOUT 120 SKIP_RETURN_CODE 77
                     RUN_SERIAL TRUE)

# Packets plus events: --ifname on a veth, tagged against tcpdump's copy.
add_test(NAME extcap_merge_e2e
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/extcap_merge.sh $<TARGET_FILE:ebpfdump>
                 ${PROJECT_SOURCE_DIR} $<TARGET_FILE_DIR:tcp_client>)
set_tests_properties(extcap_merge_e2e PROPERTIES LABELS "e2e" TIMEOUT 120 SKIP_RETURN_CODE 77
                     RUN_SERIAL TRUE)

# Several --ifname at once, each its own interface, against tcpdump on each.
add_test(NAME extcap_interfaces_e2e
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/extcap_interfaces.sh $<TARGET_FILE:ebpfdump>
                 ${PROJECT_SOURCE_DIR} $<TARGET_FILE_DIR:tcp_client>)
set_tests_properties(extcap_interfaces_e2e PROPERTIES LABELS "e2e" TIMEOUT 120
                     SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)

# Issue 5 through the program: open at start, UDP, filters, loss accounting.
if(TARGET udp_peer AND TARGET snapshot_hold)
  add_test(NAME extcap_kernel5_e2e
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/extcap_kernel5.sh $<TARGET_FILE:ebpfdump>
                   ${PROJECT_SOURCE_DIR} $<TARGET_FILE_DIR:tcp_client> $<TARGET_FILE:udp_peer>
                   $<TARGET_FILE:snapshot_hold>)
  set_tests_properties(extcap_kernel5_e2e PROPERTIES LABELS "e2e" TIMEOUT 180
                       SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
endif()

# Containers and pods on a real Docker engine: interfaces, tags, identity.
add_test(NAME extcap_docker_e2e
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/extcap_docker.sh $<TARGET_FILE:ebpfdump>
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(extcap_docker_e2e PROPERTIES LABELS "e2e" TIMEOUT 180 SKIP_RETURN_CODE 77
                     RUN_SERIAL TRUE)
endif()

if(EBPFDUMP_WITH_BPF)
# --tls: curl and a python3 HTTPS server (OpenSSL 3) on a veth (issue 19).
add_test(NAME tls_openssl_e2e
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/tls_openssl.sh $<TARGET_FILE:ebpfdump> ${PROJECT_SOURCE_DIR})
set_tests_properties(tls_openssl_e2e PROPERTIES LABELS "e2e" TIMEOUT 120 SKIP_RETURN_CODE 77
                     RUN_SERIAL TRUE)
# --tls and a Go client: secrets in DSBs, the veth's packets decrypted by tshark.
add_test(NAME tls_go_e2e
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/tls_go.sh $<TARGET_FILE:ebpfdump> ${PROJECT_SOURCE_DIR})
set_tests_properties(tls_go_e2e PROPERTIES LABELS "e2e" TIMEOUT 120 SKIP_RETURN_CODE 77
                     RUN_SERIAL TRUE)
endif()

# Issue 21: comm and thread, command lines of short-lived processes, a
# reset in the accept queue, the process filters on sockets open at start.
if(TARGET snapshot_hold)
  add_test(NAME extcap_facts_e2e
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/extcap_facts.sh $<TARGET_FILE:ebpfdump>
                   ${PROJECT_SOURCE_DIR} $<TARGET_FILE_DIR:tcp_client>
                   $<TARGET_FILE:snapshot_hold>)
  set_tests_properties(extcap_facts_e2e PROPERTIES LABELS "e2e" TIMEOUT 120
                       SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
endif()

# Issue 18: ebpfdump [options] -- COMMAND: its events and its flows' packets
# only, next to a busy neighbour; the command's exit status.
add_test(NAME extcap_command_e2e
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/extcap_command.sh $<TARGET_FILE:ebpfdump>
                 ${PROJECT_SOURCE_DIR} $<TARGET_FILE_DIR:tcp_client>)
set_tests_properties(extcap_command_e2e PROPERTIES LABELS "e2e" TIMEOUT 90
                     SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)

# Issue 22: at overload, written + lost adds up per event type.
add_test(NAME extcap_overload_e2e
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/extcap_overload.sh $<TARGET_FILE:ebpfdump>
                 ${PROJECT_SOURCE_DIR} $<TARGET_FILE_DIR:tcp_client>)
set_tests_properties(extcap_overload_e2e PROPERTIES LABELS "e2e" TIMEOUT 90
                     SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)

# Issue 14: the tracepoint tier (syscalls' own tracepoints) with tracefs
# mounted in a private mount namespace; auto's choice with and without it.
add_test(NAME extcap_tiers_e2e
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/extcap_tiers.sh $<TARGET_FILE:ebpfdump>
                 ${PROJECT_SOURCE_DIR} $<TARGET_FILE_DIR:tcp_client>)
set_tests_properties(extcap_tiers_e2e PROPERTIES LABELS "e2e" TIMEOUT 90
                     SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)

# Issue 16: a kernel without its own BTF (hidden in a private mount
# namespace): refused with a message naming --btf; --btf FILE works.
add_test(NAME extcap_btf_e2e
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/extcap_btf.sh $<TARGET_FILE:ebpfdump>
                 ${PROJECT_SOURCE_DIR} $<TARGET_FILE_DIR:tcp_client>)
set_tests_properties(extcap_btf_e2e PROPERTIES LABELS "e2e" TIMEOUT 60
                     SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
