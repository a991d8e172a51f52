# SPDX-License-Identifier: GPL-2.0-or-later
# Fault tests of issue 9 (root, real kernel): kill -9 leaves nothing in the
# kernel, SIGPIPE stops cleanly, capabilities are dropped after start, and
# the Docker engine going away mid-capture (skipped without Docker).
if(EBPFDUMP_WITH_BPF)
  foreach(fault kill9 sigpipe privs borrowed stuck docker)
    add_test(NAME faults_${fault}_e2e
             COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/faults_${fault}.sh $<TARGET_FILE:ebpfdump>
                     ${PROJECT_SOURCE_DIR} $<TARGET_FILE_DIR:tcp_client>)
    set_tests_properties(faults_${fault}_e2e PROPERTIES LABELS "e2e" TIMEOUT 120
                         SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
  endforeach()
endif()
