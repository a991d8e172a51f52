# SPDX-License-Identifier: GPL-2.0-or-later
# The kernel matrix (tests/kernels/): Debian 12's own kernels booted under
# qemu (TCG), each running the default capture, a merged capture of lo and
# cgroup v2 container ids. Label "kernels": `ctest -L kernels` runs them
# alone. Each downloads its kernel package once into the build tree.
if(TARGET ebpfdump AND EBPFDUMP_WITH_BPF)
  foreach(kernel "6.1:^linux-image-6\\.1\\.0-[0-9]+-amd64-unsigned$"
                 "6.12:^linux-image-6\\.12\\.[0-9]+\\+deb12-amd64-unsigned$")
    string(REPLACE ":" ";" parts "${kernel}")
    list(GET parts 0 version)
    list(GET parts 1 pattern)
    add_test(NAME kernel_debian_${version}
             COMMAND ${PROJECT_SOURCE_DIR}/tests/kernels/kernel_matrix.sh
                     ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR} "${pattern}")
    # Alone: a guest's two TCG vCPUs take both cores, and beside it other
    # tests' tshark checks failed under ctest -j2 (one CI run, not understood).
    set_tests_properties(kernel_debian_${version} PROPERTIES LABELS "kernels;e2e" TIMEOUT 900
                         RUN_SERIAL TRUE)
  endforeach()
endif()
