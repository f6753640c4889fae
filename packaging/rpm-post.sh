# The JWKS cache root: sticky, each service user makes a private <uid> directory inside.
install -d -o root -g root -m 1733 /var/cache/pam_oauth2
chmod 1733 /var/cache/pam_oauth2
