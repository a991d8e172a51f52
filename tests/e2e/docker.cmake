# SPDX-License-Identifier: GPL-2.0-or-later
# Container identity against a real Docker engine (Debian docker.io): the
# resolver names a plain container and a pod-labelled one from their
# processes, and the interface mapper lists both with the right host veth.
add_executable(docker_dump ${CMAKE_CURRENT_LIST_DIR}/docker_dump.c)
target_link_libraries(docker_dump PRIVATE ebpf_enrich)

add_test(NAME e2e_docker_identity
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/docker_identity.sh $<TARGET_FILE:docker_dump>)
# 77: not root, or no Docker engine could be installed or started.
set_tests_properties(e2e_docker_identity PROPERTIES LABELS "e2e" TIMEOUT 120
                     SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)

add_test(NAME e2e_docker_scale
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/docker_scale.sh $<TARGET_FILE:docker_dump>)
set_tests_properties(e2e_docker_scale PROPERTIES LABELS "e2e" TIMEOUT 120
                     SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)

# Issue 17: a container capture holds only its namespace's events next to a
# loopback load elsewhere; alike pod names in two namespaces and a container
# named like a pod are told apart; a container whose lowest pids are
# short-lived is listed every time; docker rename reaches later events; a
# container's server that accepts late has its first packets named.
add_test(NAME e2e_docker_scope
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/docker_scope.sh $<TARGET_FILE:ebpfdump>
                 $<TARGET_FILE:docker_dump> ${CMAKE_SOURCE_DIR} $<TARGET_FILE_DIR:tcp_server>)
set_tests_properties(e2e_docker_scope PROPERTIES LABELS "e2e" TIMEOUT 180
                     SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)

# Issue 17.5: 30 containers started at once, each connecting as soon as it
# runs; every connect event names its container and image.
add_test(NAME e2e_docker_burst
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/docker_burst.sh $<TARGET_FILE:ebpfdump>
                 ${CMAKE_SOURCE_DIR})
set_tests_properties(e2e_docker_burst PROPERTIES LABELS "e2e" TIMEOUT 240
                     SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)

# Issue 17: a pod made through containerd's CRI (a containerd of the test's
# own); its events are named by ContainerStatus on the CRI socket, and not
# without it.
add_test(NAME e2e_cri_containerd
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/cri_containerd.sh $<TARGET_FILE:ebpfdump>
                 ${CMAKE_SOURCE_DIR})
set_tests_properties(e2e_cri_containerd PROPERTIES LABELS "e2e" TIMEOUT 180
                     SKIP_RETURN_CODE 77 RUN_SERIAL TRUE)
