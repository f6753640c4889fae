#!/usr/bin/env python3
"""Every option of the option table (pam_oauth2/options.cpp) is documented in the man page, the
configuration reference and the README, and nothing documented as an option is unknown to the code."""

import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def read(path):
    with open(os.path.join(ROOT, path)) as f:
        return f.read()


def main():
    table = read("pam_oauth2/options.cpp")
    body = table[table.index("make_option_table()"):]
    keys = set(re.findall(r'\{"([a-z_]+)",', body))
    if len(keys) < 30:
        sys.exit(f"found only {len(keys)} options in options.cpp; the pattern is out of date")
    man = read("doc/pam_oauth2.8")
    reference = read("docs/configuration.md")
    readme = read("README.md")
    problems = []
    for key in sorted(keys):
        if not re.search(rf"^\.B[I]? {key}\b", man, re.M):
            problems.append(f"{key}: missing from doc/pam_oauth2.8 OPTIONS")
        if f"`{key}`" not in reference:
            problems.append(f"{key}: missing from docs/configuration.md")
        if f"`{key}`" not in readme:
            problems.append(f"{key}: missing from README.md's option table")
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", reference, re.M))
    for key in sorted(documented - keys):
        problems.append(f"{key}: documented in docs/configuration.md but not an option")
    if problems:
        sys.exit("\n".join(problems))
    print(f"{len(keys)} options documented in the man page, docs/configuration.md and README.md")


if __name__ == "__main__":
    main()
