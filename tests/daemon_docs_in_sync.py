#!/usr/bin/env python3
"""pam_oauth2d(8) says what the daemon's key table says. The table is read from
`pam_oauth2d --list-options` (derived from pam_oauth2/daemon/daemon_config.cpp), so nothing here
scrapes source. Every key must have its entry in the man page's CONFIGURATION section, stating its
default when it has one; nothing may be documented there as a key that the daemon does not know; and
every key the example etc/pam_oauth2d.conf names (set or commented out) must be a key.

    daemon_docs_in_sync.py build/pam_oauth2/daemon/pam_oauth2d
"""

import json
import os
import re
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def read(path):
    with open(os.path.join(ROOT, path)) as f:
        return f.read()


def plain(roff):
    """The text of roff lines without macros and font escapes, blanks collapsed."""
    words = []
    for line in roff.splitlines():
        if line.startswith("."):
            line = re.sub(r"^\.\S+\s?", "", line).replace('"', "")
        words.append(re.sub(r"\\f[BIRP]|\\", "", line))
    return " ".join(" ".join(words).split())


def man_entries(man):
    """{key: the plain text of its entry} for every `.BI key=` entry under CONFIGURATION."""
    section = man.split(".SH CONFIGURATION", 1)[1].split("\n.SH ", 1)[0]
    entries = {}
    for chunk in section.split("\n.TP\n")[1:]:
        found = re.match(r"^\.BI? ([a-z_]+)=", chunk)
        if found:
            entries[found.group(1)] = plain(chunk)
    return entries


def main():
    listing = json.loads(subprocess.run([sys.argv[1], "--list-options"], check=True, capture_output=True,
                                        text=True).stdout)
    keys = {option["name"]: option for option in listing}
    entries = man_entries(read("docs/man/pam_oauth2d.8"))
    example = set(re.findall(r"^#?\s*([a-z_]+)\s*=", read("etc/pam_oauth2d.conf"), re.M))
    problems = []
    for name, option in sorted(keys.items()):
        if name not in entries:
            problems.append(f"{name}: missing from docs/man/pam_oauth2d.8 CONFIGURATION")
            continue
        default = option["default"]
        if default and f"default {default}" not in entries[name]:
            problems.append(f"{name}: pam_oauth2d(8) does not say its default is {default}")
    for name in sorted(set(entries) - set(keys)):
        problems.append(f"{name}: documented in docs/man/pam_oauth2d.8 but not a pam_oauth2d key")
    for name in sorted(example - set(keys)):
        problems.append(f"{name}: named in etc/pam_oauth2d.conf but not a pam_oauth2d key")
    if problems:
        sys.exit("\n".join(problems))
    print(f"{len(keys)} pam_oauth2d keys documented, with their defaults, in pam_oauth2d(8)")


if __name__ == "__main__":
    main()
