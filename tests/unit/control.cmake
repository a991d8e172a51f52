# SPDX-License-Identifier: GPL-2.0-or-later
# Unit tests of the Wireshark toolbar's control pipes and filter
# (extcap/control.c) and of the capability checks (extcap/privs.c).
# The sources are compiled in directly so the tests do not depend on how
# the program's library is put together.
add_executable(test_control ${CMAKE_CURRENT_LIST_DIR}/test_control.c
               ${PROJECT_SOURCE_DIR}/extcap/control.c)
target_link_libraries(test_control PRIVATE ebpf_event)
foreach(group framing bad full sentences counters filter)
  add_test(NAME control_${group} COMMAND test_control ${group})
  set_tests_properties(control_${group} PROPERTIES LABELS "unit" TIMEOUT 30)
endforeach()

add_executable(test_privs ${CMAKE_CURRENT_LIST_DIR}/test_privs.c
               ${PROJECT_SOURCE_DIR}/extcap/privs.c)
add_test(NAME privs_capabilities COMMAND test_privs)
set_tests_properties(privs_capabilities PROPERTIES LABELS "unit" TIMEOUT 30
                     SKIP_RETURN_CODE 77)
