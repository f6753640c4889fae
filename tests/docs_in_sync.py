#!/usr/bin/env python3
"""The documentation says what the option table says. The table is read from
`pam_oauth2_check --list-options` (derived from pam_oauth2/core/option_table.cpp), so nothing here
scrapes source. Every option must be in the man page's OPTIONS, in README.md's option table, and in
docs/configuration.md under the section of its group with its default; and nothing may be documented
there as an option that the module does not know.

    docs_in_sync.py build/tools/pam_oauth2_check
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


def reference_rows(text):
    """{key: (section heading, default cell)} for every table row of docs/configuration.md."""
    rows, section = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip().lower()
        found = re.match(r"^\| `([a-z_]+)` \| ([^|]*) \|", line)
        if found:
            rows[found.group(1)] = (section, found.group(2).strip())
    return rows


def default_problem(option, cell):
    """What is wrong with the documented default, or None."""
    value = option["default"]
    if value in ("on", "off"):
        return None if cell == value else f"documented default {cell}, the table says {value}"
    if value == "":
        # Unset by default: the cell says so in words (— or a phrase), never as a value.
        return None if not cell.startswith("`") else f"documented default {cell}, but the option is unset by default"
    return None if cell == f"`{value}`" else f"documented default {cell}, the table says `{value}`"


def main():
    listing = json.loads(subprocess.run([sys.argv[1], "--list-options"], check=True, capture_output=True,
                                        text=True).stdout)
    options = {option["name"]: option for option in listing}
    man = read("docs/man/pam_oauth2.8")
    rows = reference_rows(read("docs/configuration.md"))
    readme = read("README.md")
    problems = []
    for name, option in sorted(options.items()):
        if not re.search(rf"^\.B[I]? {name}\b", man, re.M):
            problems.append(f"{name}: missing from docs/man/pam_oauth2.8 OPTIONS")
        if f"`{name}`" not in readme:
            problems.append(f"{name}: missing from README.md's option table")
        if name not in rows:
            problems.append(f"{name}: missing from docs/configuration.md")
            continue
        section, cell = rows[name]
        if section != option["group"]:
            problems.append(f"{name}: documented under '{section}', its group is '{option['group']}'")
        if problem := default_problem(option, cell):
            problems.append(f"{name}: {problem}")
    for name in sorted(set(rows) - set(options)):
        problems.append(f"{name}: documented in docs/configuration.md but not an option")
    if problems:
        sys.exit("\n".join(problems))
    print(f"{len(options)} options documented, with their groups and defaults, in the man page, "
          "docs/configuration.md and README.md")


if __name__ == "__main__":
    main()
