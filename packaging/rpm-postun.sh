# Erasing (not upgrading) removes the JWKS cache the module filled at run time.
if [ "$1" = "0" ]; then
    rm -rf /var/cache/pam_oauth2
    if getent passwd pam_oauth2 >/dev/null; then userdel pam_oauth2 || true; fi
    if getent group pam_oauth2 >/dev/null; then groupdel pam_oauth2 || true; fi
fi
