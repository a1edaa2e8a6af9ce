# SPDX-License-Identifier: BSD-3-Clause
# Install rules for what is not a build target: the default configuration
# under /etc/ringfence, the boot files (systemd unit, SysV init script), the
# state directory and the samples under the documentation directory.
# Included by the top-level CMakeLists.txt after GNUInstallDirs.
#
# Paths: with CMAKE_INSTALL_PREFIX=/usr, GNUInstallDirs makes
# CMAKE_INSTALL_FULL_SYSCONFDIR /etc and CMAKE_INSTALL_FULL_LOCALSTATEDIR /var
# (with /usr/local: /usr/local/etc and /usr/local/var). They are absolute and
# fixed at configure time, so `cmake --install --prefix` does not move them;
# `make install PREFIX=...` reconfigures first. DESTDIR applies to all of them.
#

# Empty means derived from the prefix at each configure (so that a later
# -DCMAKE_INSTALL_PREFIX moves them too): PREFIX/lib/systemd/system and
# SYSCONFDIR/init.d.
set(RINGFENCE_UNITDIR "" CACHE PATH
    "systemd system unit directory (default PREFIX/lib/systemd/system; RHEL: /usr/lib/systemd/system, %{_unitdir})")
set(RINGFENCE_INITDDIR "" CACHE PATH
    "SysV init script directory (default SYSCONFDIR/init.d; RHEL: /etc/rc.d/init.d, %{_initddir})")
set(_rf_unitdir "${RINGFENCE_UNITDIR}")
if(NOT _rf_unitdir)
  set(_rf_unitdir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()
set(_rf_initddir "${RINGFENCE_INITDDIR}")
if(NOT _rf_initddir)
  set(_rf_initddir "${CMAKE_INSTALL_FULL_SYSCONFDIR}/init.d")
endif()
option(RINGFENCE_INSTALL_BOOT "Install the systemd unit and the SysV init script of ringfence-firewall" ON)

set(RINGFENCE_CONFDIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}/ringfence")
set(RINGFENCE_STATEDIR "${CMAKE_INSTALL_FULL_LOCALSTATEDIR}/lib/ringfence")

set(_rf_etc "${PROJECT_SOURCE_DIR}/etc")
# The spec configures with RINGFENCE_INSTALL_STRICT=ON: a missing file is then
# a configure error instead of a package that silently lacks its unit or init
# script. Developer builds only warn, so that the tree configures while those
# files are being written.
option(RINGFENCE_INSTALL_STRICT "Fail the configure when a file to install is missing" OFF)
function(_rf_have_data out)
  set(ok TRUE)
  foreach(f IN LISTS ARGN)
    if(NOT EXISTS "${_rf_etc}/${f}")
      set(ok FALSE)
      if(RINGFENCE_INSTALL_STRICT)
        message(FATAL_ERROR "etc/${f} is missing; it is installed and packaged")
      endif()
      message(WARNING "etc/${f} is missing: not installed")
    endif()
  endforeach()
  set(${out} ${ok} PARENT_SCOPE)
endfunction()

# Defaults: root-owned, not group/world-writable (the config-trust rule of
# every ringfence reader). firewall.conf is the ESX preset; it only takes
# effect once the admin enables the firewall (`ringfence enable firewall`).
install(DIRECTORY DESTINATION "${RINGFENCE_CONFDIR}"
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
                              GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
install(FILES "${_rf_etc}/firewall/esx.conf" DESTINATION "${RINGFENCE_CONFDIR}"
        RENAME firewall.conf PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# State of the firewall (last good rule set, rollback copies): root only.
install(DIRECTORY DESTINATION "${RINGFENCE_STATEDIR}"
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
                              GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
install(DIRECTORY DESTINATION "${RINGFENCE_STATEDIR}/firewall"
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)

if(RINGFENCE_INSTALL_BOOT)
  _rf_have_data(_rf_ok systemd/ringfence-firewall.service)
  if(_rf_ok)
    install(FILES "${_rf_etc}/systemd/ringfence-firewall.service" DESTINATION "${_rf_unitdir}"
            PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()
  # ringfence sync's timer: installed, not enabled (ringfence-sync(8)).
  _rf_have_data(_rf_ok systemd/ringfence-sync.service systemd/ringfence-sync.timer)
  if(_rf_ok)
    install(FILES "${_rf_etc}/systemd/ringfence-sync.service" "${_rf_etc}/systemd/ringfence-sync.timer"
            DESTINATION "${_rf_unitdir}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()
  # ringfence audit's timer (a node_exporter textfile): installed, not enabled.
  _rf_have_data(_rf_ok systemd/ringfence-audit.service systemd/ringfence-audit.timer)
  if(_rf_ok)
    install(FILES "${_rf_etc}/systemd/ringfence-audit.service" "${_rf_etc}/systemd/ringfence-audit.timer"
            DESTINATION "${_rf_unitdir}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  endif()
  _rf_have_data(_rf_ok init.d/ringfence-firewall)
  if(_rf_ok)
    install(PROGRAMS "${_rf_etc}/init.d/ringfence-firewall" DESTINATION "${_rf_initddir}")
  endif()
endif()

# Samples, not active configuration: the admin copies them where they belong
# (README "Install on RHEL"). Mode 0644 even for the init script sample.
install(FILES "${_rf_etc}/access.conf.example" DESTINATION "${CMAKE_INSTALL_DOCDIR}")
install(FILES "${_rf_etc}/firewall/esx.conf" DESTINATION "${CMAKE_INSTALL_DOCDIR}/firewall")
install(FILES "${_rf_etc}/xinetd.d/vmware-authd.example" DESTINATION "${CMAKE_INSTALL_DOCDIR}/xinetd.d")
install(FILES "${_rf_etc}/init.d/vmware-hostd-ringfence.example" DESTINATION "${CMAKE_INSTALL_DOCDIR}/init.d")
install(FILES "${_rf_etc}/systemd/vmware-hostd.service.d/ringfence.conf"
        DESTINATION "${CMAKE_INSTALL_DOCDIR}/systemd/vmware-hostd.service.d")
install(FILES "${_rf_etc}/sync/sync.conf.example" DESTINATION "${CMAKE_INSTALL_DOCDIR}/sync")
install(FILES "${_rf_etc}/cron.d/ringfence-sync" DESTINATION "${CMAKE_INSTALL_DOCDIR}/cron.d")
install(FILES "${_rf_etc}/nrpe/ringfence.cfg" DESTINATION "${CMAKE_INSTALL_DOCDIR}/nrpe")
install(FILES "${PROJECT_SOURCE_DIR}/README.md" DESTINATION "${CMAKE_INSTALL_DOCDIR}")
