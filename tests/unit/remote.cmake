# SPDX-License-Identifier: GPL-2.0-or-later
# Tests of remote/: message decoder, key files, JSON, and publishers and
# subscribers over real ZeroMQ sockets on 127.0.0.1 and ipc:// (no root).
if(TARGET ebpf_remote)
  add_executable(test_remote ${CMAKE_CURRENT_LIST_DIR}/test_remote.c)
  target_link_libraries(test_remote PRIVATE ebpf_remote PkgConfig::LIBZMQ)

  foreach(group message keys json pubsub connect curve plaintext mask garbage hwm
                dispatch)
    add_test(NAME remote_${group} COMMAND test_remote ${group})
    set_tests_properties(remote_${group} PROPERTIES LABELS "unit" TIMEOUT 30)
  endforeach()

  # libFuzzer over the decoder: fuzz/CMakeLists.txt (test fuzz_remote).
endif()
