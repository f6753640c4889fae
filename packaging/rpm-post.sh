# The JWKS cache root: sticky, each service user makes a private <uid> directory inside.
install -d -o root -g root -m 1733 /var/cache/pam_oauth2
chmod 1733 /var/cache/pam_oauth2
# The service users known to use PAM with tokens get their private directory now, so nobody else
# can create it first; one that someone else created there already is removed and made anew.
for user in postgres pgbouncer; do
    uid=$(id -u "$user" 2>/dev/null) || continue
    dir=/var/cache/pam_oauth2/$uid
    if [ -e "$dir" ] && [ "$(stat -c %u:%a "$dir")" != "$uid:700" ]; then rm -rf "$dir"; fi
    install -d -o "$user" -m 0700 "$dir"
done
# pam_oauth2d's system user (the broker never runs as root); created here, used only when the
# administrator enables pam_oauth2d.socket.
getent passwd pam_oauth2 >/dev/null ||
    useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin pam_oauth2
