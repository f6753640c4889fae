# Erasing (not upgrading) removes the JWKS cache the module filled at run time.
if [ "$1" = "0" ]; then
    rm -rf /var/cache/pam_oauth2
fi
