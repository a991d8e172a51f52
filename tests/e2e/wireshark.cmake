# SPDX-License-Identifier: GPL-2.0-or-later
# The Wireshark experience (issue 7): folders, install and uninstall, capabilities, the
# dissector's statistics and coloring, the man page, Wireshark itself under Xvfb, and the
# toolbar's control pipes on a real capture. Tests that install into the system
# directories or load BPF programs are labelled e2e and run one at a time.
set(_ws_e2e ${CMAKE_CURRENT_LIST_DIR})

add_test(NAME wireshark_folders
         COMMAND ${CMAKE_COMMAND} -P ${PROJECT_SOURCE_DIR}/cmake/WiresharkDirsTest.cmake)
set_tests_properties(wireshark_folders PROPERTIES LABELS "unit" TIMEOUT 30)

# Real configures of this project, without and then with a working tshark.
add_test(NAME wireshark_folders_configure
         COMMAND bash ${_ws_e2e}/wireshark_folders_configure.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(wireshark_folders_configure PROPERTIES LABELS "build" TIMEOUT 120
                     SKIP_RETURN_CODE 77)

add_test(NAME wireshark_lua
         COMMAND bash ${_ws_e2e}/wireshark_lua.sh $<TARGET_FILE:mkcapture>
                 ${PROJECT_SOURCE_DIR}/dissector/ebpf.lua ${PROJECT_BINARY_DIR}/profile-eBPF)
set_tests_properties(wireshark_lua PROPERTIES LABELS "dissector" TIMEOUT 60
                     SKIP_RETURN_CODE 77)

add_test(NAME wireshark_docs
         COMMAND bash ${_ws_e2e}/wireshark_docs.sh $<TARGET_FILE:ebpfdump> ${PROJECT_SOURCE_DIR})
set_tests_properties(wireshark_docs PROPERTIES LABELS "docs" TIMEOUT 60 SKIP_RETURN_CODE 77)

add_test(NAME wireshark_install_e2e
         COMMAND bash ${_ws_e2e}/wireshark_install.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
add_test(NAME wireshark_privs_e2e
         COMMAND bash ${_ws_e2e}/wireshark_privs.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR}
                 $<TARGET_FILE_DIR:tcp_client>)
add_test(NAME wireshark_gui_e2e
         COMMAND bash ${_ws_e2e}/wireshark_gui.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR}
                 $<TARGET_FILE_DIR:tcp_client>)
add_test(NAME wireshark_gui_errors_e2e
         COMMAND bash ${_ws_e2e}/wireshark_gui_errors.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR}
                 $<TARGET_FILE_DIR:tcp_client>)
add_test(NAME wireshark_control_e2e
         COMMAND bash ${_ws_e2e}/wireshark_control.sh $<TARGET_FILE:ebpfdump> ${PROJECT_SOURCE_DIR}
                 $<TARGET_FILE_DIR:tcp_client> $<TARGET_FILE:wireshark_control_peer>)
set_tests_properties(wireshark_install_e2e wireshark_privs_e2e wireshark_gui_e2e
                     wireshark_gui_errors_e2e wireshark_control_e2e
                     PROPERTIES LABELS "e2e" TIMEOUT 90 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)

# Wireshark's end of the control pipes, for wireshark_control.sh.
add_executable(wireshark_control_peer ${_ws_e2e}/wireshark_control_peer.c)
