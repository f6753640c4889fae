# Install layout and CPack settings for the .deb and the .rpm. The version comes from project().
option(PAM_OAUTH2_RPM_LAYOUT "Use the RPM distributions' PAM directory (/usr/lib64/security)" OFF)
set(PAM_OAUTH2_PAM_DIR "" CACHE PATH "Where pam_oauth2.so is installed (empty: the distribution's PAM directory)")
if(PAM_OAUTH2_PAM_DIR)
  set(pam_dir "${PAM_OAUTH2_PAM_DIR}")
elseif(PAM_OAUTH2_RPM_LAYOUT AND CMAKE_SIZEOF_VOID_P EQUAL 8)
  set(pam_dir "/usr/lib64/security")
elseif(PAM_OAUTH2_RPM_LAYOUT)
  set(pam_dir "/usr/lib/security")
else()
  # On Debian with prefix /usr this is /usr/lib/<multiarch>/security.
  set(pam_dir "${CMAKE_INSTALL_FULL_LIBDIR}/security")
endif()
set(doc_dir "${CMAKE_INSTALL_DATADIR}/doc/pam-oauth2")
# The module finds its transport helper at ../pam_oauth2/ from its own directory.
get_filename_component(transport_dir "${pam_dir}/../pam_oauth2" ABSOLUTE)

install(TARGETS pam_oauth2 LIBRARY DESTINATION "${pam_dir}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(TARGETS pam_oauth2_transport pam_oauth2_inprocess LIBRARY DESTINATION "${transport_dir}"
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
if(PAM_OAUTH2_BUILD_TOOLS)
  install(TARGETS pam_oauth2_check pam_oauth2_token RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
  # pam_oauth2_token loads the transport from there when it needs the network (tools/token/network.cpp).
  target_compile_definitions(pam_oauth2_token PRIVATE PAM_OAUTH2_TRANSPORT_DIR="${transport_dir}")
endif()
install(TARGETS pam_oauth2d RUNTIME DESTINATION "${CMAKE_INSTALL_SBINDIR}")
# The broker's units ship disabled: `systemctl enable --now pam_oauth2d.socket` turns it on. Debian 12
# keeps units in /lib/systemd/system, RPM distributions in /usr/lib/systemd/system.
if(PAM_OAUTH2_RPM_LAYOUT)
  set(systemd_unit_dir "/usr/lib/systemd/system")
else()
  set(systemd_unit_dir "/lib/systemd/system")
endif()
install(FILES packaging/systemd/pam_oauth2d.service packaging/systemd/pam_oauth2d.socket
        DESTINATION "${systemd_unit_dir}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# Man pages and changelog, compressed as Debian policy wants them (gzip -9n: reproducible).
set(pages pam_oauth2.8 pam_oauth2d.8)
if(PAM_OAUTH2_BUILD_TOOLS)
  list(APPEND pages pam_oauth2_check.1 pam_oauth2_token.1) # only with the tools they describe
endif()
foreach(page ${pages})
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section "${page}")
  add_custom_command(OUTPUT "${CMAKE_BINARY_DIR}/${page}.gz"
                     COMMAND gzip -9nc "${CMAKE_SOURCE_DIR}/docs/man/${page}" > "${CMAKE_BINARY_DIR}/${page}.gz"
                     DEPENDS "${CMAKE_SOURCE_DIR}/docs/man/${page}")
  list(APPEND man_pages "${CMAKE_BINARY_DIR}/${page}.gz")
  install(FILES "${CMAKE_BINARY_DIR}/${page}.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man${section}")
endforeach()
add_custom_command(OUTPUT "${CMAKE_BINARY_DIR}/changelog.gz"
                   COMMAND gzip -9nc "${CMAKE_SOURCE_DIR}/packaging/changelog" > "${CMAKE_BINARY_DIR}/changelog.gz"
                   DEPENDS "${CMAKE_SOURCE_DIR}/packaging/changelog")
add_custom_target(compressed_docs ALL DEPENDS ${man_pages} "${CMAKE_BINARY_DIR}/changelog.gz")

# Examples only: the package never activates a PAM service by itself.
install(FILES etc/pam.d/pg_auth.userinfo etc/pam.d/pg_auth.jwt etc/pam.d/pg_auth.introspect etc/pam_oauth2.conf
              etc/pam_oauth2.issuers.conf
              etc/pam_oauth2d.conf
              etc/pam_oauth2.map
              etc/pg_hba.conf.snippet
        DESTINATION "${doc_dir}/examples" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(DIRECTORY etc/providers/ DESTINATION "${doc_dir}/examples/providers"
        FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES README.md DESTINATION "${doc_dir}")
install(DIRECTORY docs/ DESTINATION "${doc_dir}/docs" FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
        PATTERN man EXCLUDE)
install(FILES packaging/copyright DESTINATION "${doc_dir}")
install(FILES "${CMAKE_BINARY_DIR}/changelog.gz" DESTINATION "${doc_dir}")
# The JWKS cache root /var/cache/pam_oauth2 is made by the maintainer scripts, not shipped: it must be
# 1733 (sticky, like /var/spool/cron/crontabs) so every service user can make its own private <uid>
# directory inside, and install() cannot set the sticky bit.

set(CPACK_PACKAGE_NAME "pam-oauth2")
set(CPACK_PACKAGE_VENDOR "pam_oauth2 authors")
set(CPACK_PACKAGE_CONTACT "pam_oauth2 authors <pam-oauth2@users.noreply.github.com>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "PAM module accepting OAuth 2.0 access tokens as passwords")
set(CPACK_PACKAGE_DESCRIPTION "pam_oauth2 lets PAM-using programs, first of all PostgreSQL's
pam authentication method, accept an OAuth 2.0 / OpenID Connect access token as
the password. Tokens are checked at the userinfo endpoint, by RFC 7662
introspection, or locally as JWTs against the issuer's JWKS; a configured claim
must match the PAM user. pam_oauth2_token signs a person in once (device
flow) and hands fresh access tokens to psql and other clients.")
set(CPACK_RESOURCE_FILE_LICENSE "${CMAKE_SOURCE_DIR}/LICENSE")
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libcurl 7.76 is the floor (RHEL 9; newer options are chosen at run time); shlibdeps cannot see
# option requirements, and scripts/check-abi-floor.py checks the functions.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libpam-runtime, libcurl4 (>= 7.76), passwd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${CMAKE_SOURCE_DIR}/packaging/postinst;${CMAKE_SOURCE_DIR}/packaging/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_RPM_FILE_NAME "pam-oauth2-${PROJECT_VERSION}.${CMAKE_SYSTEM_PROCESSOR}.rpm")
set(CPACK_RPM_PACKAGE_LICENSE "MIT")
set(CPACK_RPM_PACKAGE_GROUP "System Environment/Base")
set(CPACK_RPM_PACKAGE_AUTOREQ ON)
set(CPACK_RPM_PACKAGE_REQUIRES "pam, libcurl >= 7.76, openssl-libs >= 3.0, hiredis, libpq")
set(CPACK_RPM_POST_INSTALL_SCRIPT_FILE "${CMAKE_SOURCE_DIR}/packaging/rpm-post.sh")
set(CPACK_RPM_POST_UNINSTALL_SCRIPT_FILE "${CMAKE_SOURCE_DIR}/packaging/rpm-postun.sh")
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION /usr/lib64 /usr/lib64/security /usr/share/man/man1
    /usr/share/man/man8 /usr/sbin /usr/lib/systemd /usr/lib/systemd/system)
set(CPACK_RPM_SPEC_MORE_DEFINE "%define _build_id_links none")

include(CPack)
