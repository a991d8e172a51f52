# SPDX-License-Identifier: GPL-2.0-or-later
# Remote events end to end: publishers in namespaces, a subscriber through
# tshark's extcap path, CURVE rejection, garbage.
add_executable(zmq_raw ${PROJECT_SOURCE_DIR}/tests/tools/zmq_raw.c)
target_link_libraries(zmq_raw PRIVATE ebpf_remote PkgConfig::LIBZMQ)
if(TARGET tcp_client)
  add_test(NAME remote_e2e
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/remote_e2e.sh ${PROJECT_BINARY_DIR}
                   ${PROJECT_SOURCE_DIR} $<TARGET_FILE_DIR:tcp_client> $<TARGET_FILE:zmq_raw>)
  set_tests_properties(remote_e2e PROPERTIES LABELS "e2e" TIMEOUT 120 SKIP_RETURN_CODE 77
                       RUN_SERIAL TRUE)
endif()
