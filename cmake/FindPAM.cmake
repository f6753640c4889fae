# Finds Linux-PAM's headers and libpam; defines PAM::PAM.
find_path(PAM_INCLUDE_DIR NAMES security/pam_modules.h)
find_library(PAM_LIBRARY NAMES pam)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(PAM REQUIRED_VARS PAM_LIBRARY PAM_INCLUDE_DIR)
if(PAM_FOUND AND NOT TARGET PAM::PAM)
  add_library(PAM::PAM UNKNOWN IMPORTED)
  set_target_properties(PAM::PAM PROPERTIES IMPORTED_LOCATION "${PAM_LIBRARY}"
                                            INTERFACE_INCLUDE_DIRECTORIES "${PAM_INCLUDE_DIR}")
endif()
mark_as_advanced(PAM_INCLUDE_DIR PAM_LIBRARY)
