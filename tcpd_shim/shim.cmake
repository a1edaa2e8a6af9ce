# SPDX-License-Identifier: BSD-3-Clause
# ringfence-wrap and libringfence-preload.so (included by CMakeLists.txt).

# The shim lives inside somebody else's process: only accept and accept4 are
# exported (hidden visibility + version script), and its C++ runtime is
# linked statically so that a daemon with its own libstdc++ is unaffected.
# The reverse-lookup library (ringfence_tcpd_lookup, programs.cmake) and the
# name caches are linked in as object code, hidden like the rest.
add_library(ringfence_preload MODULE preload.cc name_cache.cc)
set_target_properties(ringfence_preload PROPERTIES
  PREFIX "lib"
  OUTPUT_NAME ringfence-preload
  CXX_VISIBILITY_PRESET hidden
  VISIBILITY_INLINES_HIDDEN ON
  LINK_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/preload.map)
target_link_libraries(ringfence_preload PRIVATE ringfence_tcpd_lookup ringfence_hosts_access ${CMAKE_DL_LIBS} pthread)
target_link_options(ringfence_preload PRIVATE
  -static-libstdc++ -static-libgcc
  -Wl,--exclude-libs,ALL
  -Wl,--version-script=${CMAKE_CURRENT_SOURCE_DIR}/preload.map
  -Wl,-z,now -Wl,-z,relro
  # Never unmapped, even if dlopen()ed and dlclose()d: a detached reverse
  # lookup thread may still be running code of this library.
  -Wl,-z,nodelete)
if(NOT RINGFENCE_SANITIZE)
  # Sanitizer runtimes are provided by the (instrumented) host executable.
  target_link_options(ringfence_preload PRIVATE -Wl,--no-undefined)
endif()

set(RINGFENCE_PRELOAD_INSTALL_PATH "${CMAKE_INSTALL_FULL_LIBDIR}/libringfence-preload.so")
add_executable(ringfence-wrap wrap_main.cc)
target_link_libraries(ringfence-wrap PRIVATE ringfence_hosts_access)
target_compile_definitions(ringfence-wrap PRIVATE
  RINGFENCE_PRELOAD_INSTALL_PATH="${RINGFENCE_PRELOAD_INSTALL_PATH}")
# ringfence-wrap finds the shim next to itself in the build tree.
add_dependencies(ringfence-wrap ringfence_preload)

install(TARGETS ringfence_preload LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS ringfence-wrap RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
