# install_files.cmake - runs at install time (`make install`, `cmake --install`, cpack): the
# files whose text names an installation path, for the prefix in effect *now* (the one
# `cmake --install --prefix` or cpack gives, not the one configured), so the same build tree
# installs correctly under /usr/local and packs correctly for /usr.
#   wampd.service  ExecStart with the installed binary and configuration
#   wampd.8.gz     the man page (gzip -9n, as Debian ships man pages)
#   config.json    the default configuration; an existing one is kept (it is the operator's)
# Set by packaging/CMakeLists.txt: WAMPD_PKG_SRC, WAMPD_PKG_BIN, WAMPD_GZIP, WAMPD_VERSION and
# the configured directories WAMPD_DIR_{SYSCONF,SBIN,MAN,DOC,UNIT} (relative or absolute).

string(REGEX REPLACE "/+$" "" _prefix "${CMAKE_INSTALL_PREFIX}")
if(_prefix STREQUAL "")
  set(_prefix "/")
endif()

# GNUInstallDirs' rule, applied to the prefix in effect: /etc for / and /usr, /etc/opt/<pkg>
# for /opt/<pkg>, <prefix>/etc otherwise (an absolute configured directory wins).
if(IS_ABSOLUTE "${WAMPD_DIR_SYSCONF}")
  set(_etc "${WAMPD_DIR_SYSCONF}")
elseif(_prefix STREQUAL "/" OR _prefix STREQUAL "/usr")
  set(_etc "/etc")
elseif(_prefix MATCHES "^/opt/[^/]+$")
  set(_etc "/etc${_prefix}")
else()
  set(_etc "${_prefix}/${WAMPD_DIR_SYSCONF}")
endif()

foreach(_d SBIN MAN DOC UNIT)
  if(IS_ABSOLUTE "${WAMPD_DIR_${_d}}")
    set(WAMPD_FULL_${_d}DIR "${WAMPD_DIR_${_d}}")
  else()
    string(REGEX REPLACE "^//" "/" WAMPD_FULL_${_d}DIR "${_prefix}/${WAMPD_DIR_${_d}}")
  endif()
endforeach()
set(WAMPD_FULL_CONFDIR "${_etc}/wampd")

# generated in a directory of this destination's own: installs to different places from one
# build tree (make install, a cpack run) do not share files
string(MD5 _tag "$ENV{DESTDIR}|${_prefix}")
set(_gen "${WAMPD_PKG_BIN}/install-${_tag}")
file(REMOVE_RECURSE "${_gen}")
file(MAKE_DIRECTORY "${_gen}")
configure_file("${WAMPD_PKG_SRC}/wampd.service.in" "${_gen}/wampd.service" @ONLY)
configure_file("${WAMPD_PKG_SRC}/wampd.8.in" "${_gen}/wampd.8" @ONLY)
execute_process(COMMAND "${WAMPD_GZIP}" -9nf "${_gen}/wampd.8" RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "gzip ${_gen}/wampd.8 failed: ${_rc}")
endif()

file(INSTALL "${_gen}/wampd.service" DESTINATION "${WAMPD_FULL_UNITDIR}"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
file(INSTALL "${_gen}/wampd.8.gz" DESTINATION "${WAMPD_FULL_MANDIR}/man8"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
if(EXISTS "$ENV{DESTDIR}${WAMPD_FULL_CONFDIR}/config.json")
  message(STATUS "Keeping: $ENV{DESTDIR}${WAMPD_FULL_CONFDIR}/config.json (the default is "
                 "${WAMPD_PKG_BIN}/config.json)")
else()
  file(INSTALL "${WAMPD_PKG_BIN}/config.json" DESTINATION "${WAMPD_FULL_CONFDIR}"
       FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()
file(REMOVE_RECURSE "${_gen}")
