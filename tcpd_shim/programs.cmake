# SPDX-License-Identifier: BSD-3-Clause
# Layer 2 programs: ringfence-tcpdchk, ringfence-tcpdmatch, ringfence-tcpd.
# Included by tcpd_shim/CMakeLists.txt.
set(RINGFENCE_REAL_DAEMON_DIR "/usr/sbin" CACHE STRING
    "Where ringfence-tcpd looks for the real daemon when argv[0] is not absolute (tcpd's REAL_DAEMON_DIR)")
set(RINGFENCE_TCPD_FACILITY "LOG_DAEMON" CACHE STRING
    "syslog facility of ringfence-tcpd (Debian's tcpd: LOG_DAEMON; RHEL's: LOG_AUTHPRIV)")

find_package(Threads REQUIRED)

add_library(ringfence_tcpd_lookup STATIC system_reverse.cc)
target_link_libraries(ringfence_tcpd_lookup PUBLIC ringfence_hosts_access Threads::Threads)

add_executable(ringfence-tcpdchk tcpdchk_main.cc)
target_link_libraries(ringfence-tcpdchk PRIVATE ringfence_hosts_access)

add_executable(ringfence-tcpdmatch tcpdmatch_main.cc)
target_link_libraries(ringfence-tcpdmatch PRIVATE ringfence_tcpd_lookup)

add_executable(ringfence-tcpd tcpd_main.cc)
target_link_libraries(ringfence-tcpd PRIVATE ringfence_tcpd_lookup)
target_compile_definitions(ringfence-tcpd PRIVATE
  RINGFENCE_REAL_DAEMON_DIR="${RINGFENCE_REAL_DAEMON_DIR}"
  RINGFENCE_TCPD_FACILITY=${RINGFENCE_TCPD_FACILITY})

install(TARGETS ringfence-tcpdchk ringfence-tcpdmatch ringfence-tcpd
        RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
