#!/usr/bin/env python3
"""The SELinux policy module in packaging/selinux/: it compiles against the installed reference
policy (selinux-policy-dev), and every path its .fc labels is one the package installs, or one that
is made at install or run time by a named file of the package (checked: that file must name it).

    check_selinux_policy.py --source-dir SRC --build-dir BUILD    compile, then the .fc against
                                                                  `cmake --install BUILD` in a DESTDIR
    check_selinux_policy.py --source-dir SRC --build-dir BUILD --self-test
                                                                  both checks refuse deliberate errors
Enforcement is not tested here: this machine has no SELinux kernel."""
import argparse
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile

DEVEL_MAKEFILE = "/usr/share/selinux/devel/Makefile"
MODULE = "pam_oauth2"

# Paths the package does not ship as files but whose label the .fc must still set, with the file
# (relative to the install tree, "a|b" for either layout, or "source:" for the source tree) that makes
# them and the text that file must contain. A path here that its maker stops naming fails the check.
MADE_AT_INSTALL_OR_RUN_TIME = {
    "/run/pam_oauth2": [("lib/systemd/system/pam_oauth2d.socket|usr/lib/systemd/system/pam_oauth2d.socket",
                         "ListenStream=/run/pam_oauth2/")],
    "/var/cache/pam_oauth2": [("source:packaging/postinst", "install -d -o root -g root -m 1733 /var/cache/pam_oauth2"),
                              ("source:packaging/rpm-post.sh", "install -d -o root -g root -m 1733 /var/cache/pam_oauth2")],
    "/var/log/pam_oauth2": [("lib/systemd/system/pam_oauth2d.service|usr/lib/systemd/system/pam_oauth2d.service",
                             "LogsDirectory=pam_oauth2")],
    # The administrator makes it (the package ships examples only); the daemon reads its default there.
    "/etc/pam_oauth2": [("usr/share/man/man8/pam_oauth2d.8.gz", "/etc/pam_oauth2/pam_oauth2d.conf")],
}


def compile_module(policy_dir):
    """Builds pam_oauth2.pp from a copy of policy_dir; returns a list of problems (empty: it built)."""
    if not os.path.exists(DEVEL_MAKEFILE):
        return [f"{DEVEL_MAKEFILE} is missing: install selinux-policy-dev, checkpolicy and semodule-utils "
                "(scripts/install-deps.sh)"]
    with tempfile.TemporaryDirectory() as work:
        for suffix in ("te", "fc", "if"):
            shutil.copy(os.path.join(policy_dir, f"{MODULE}.{suffix}"), work)
        run = subprocess.run(["make", "-f", DEVEL_MAKEFILE, f"{MODULE}.pp"], cwd=work, capture_output=True,
                             text=True, check=False)
        output = run.stdout + run.stderr
        problems = []
        if run.returncode != 0:
            problems.append(f"make {MODULE}.pp failed (exit {run.returncode}):\n{output.strip()}")
        elif not os.path.getsize(os.path.join(work, f"{MODULE}.pp")):
            problems.append(f"make {MODULE}.pp made an empty package")
        # refpolicy's deprecated interfaces are only m4 warnings (the module still builds): fail on them.
        problems += [f"compile warning: {line}" for line in output.splitlines() if re.search(r"warning", line, re.I)]
        return problems


def fc_entries(fc_path):
    """(regex, file type or None, line number) for each labelling line of an .fc file."""
    entries = []
    with open(fc_path, encoding="utf-8") as fc:
        for number, line in enumerate(fc, 1):
            fields = line.split("#", 1)[0].split()
            if not fields:
                continue
            if len(fields) not in (2, 3) or not fields[-1].startswith("gen_context("):
                raise ValueError(f"{fc_path}:{number}: not 'path [type] gen_context(...)': {line.strip()}")
            entries.append((fields[0], fields[1] if len(fields) == 3 else None, number))
    return entries


def installed_paths(root):
    """{absolute path: "--" for a file, "-d" for a directory, "-l" for a link} under an install root."""
    paths = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            full = os.path.join(directory, name)
            kind = "-l" if os.path.islink(full) else "-d" if os.path.isdir(full) else "--"
            paths["/" + os.path.relpath(full, root)] = kind
    return paths


def read_maker(maker, root, source_dir):
    """The text of the file that makes a path (None: the package has no such file)."""
    if maker.startswith("source:"):
        candidates = [os.path.join(source_dir, maker[len("source:"):])]
    else:
        candidates = [os.path.join(root, name) for name in maker.split("|")]
    path = next((candidate for candidate in candidates if os.path.exists(candidate)), None)
    if path is None:
        return None
    if path.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as page:
            return page.read()
    with open(path, encoding="utf-8") as text:
        return text.read()


def check_made_elsewhere(regex, root, source_dir):
    """Problems with a labelled path the package makes at install or run time (None: not such a path)."""
    base = next((path for path in MADE_AT_INSTALL_OR_RUN_TIME if re.fullmatch(regex, path)), None)
    if base is None:
        return None
    problems = []
    for maker, text in MADE_AT_INSTALL_OR_RUN_TIME[base]:
        content = read_maker(maker, root, source_dir)
        if content is None:
            problems.append(f"{base} is said to be made by {maker}, which the package does not have")
        elif text not in content:
            problems.append(f"{base} is said to be made by {maker}, which no longer contains '{text}'")
    return problems


def check_fc(fc_path, root, source_dir):
    """Every .fc path matches an installed path of the right type, or one made at install or run time."""
    paths = installed_paths(root)
    problems = []
    for regex, kind, number in fc_entries(fc_path):
        if any(re.fullmatch(regex, path) and kind in (None, have) for path, have in paths.items()):
            continue
        made = check_made_elsewhere(regex, root, source_dir)
        if made is None:
            problems.append(f"{fc_path}:{number}: {regex} ({kind or 'any type'}) matches nothing the package "
                            "installs and is not among the paths made at install or run time")
        problems += made or []
    return problems


def install_tree(build_dir, destdir):
    env = dict(os.environ, DESTDIR=destdir)
    run = subprocess.run(["cmake", "--install", build_dir, "--prefix", "/usr"], env=env, capture_output=True,
                         text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"cmake --install {build_dir} failed:\n{run.stdout}{run.stderr}")


def check(policy_dir, root, source_dir):
    """Problems with the policy in policy_dir against the package installed under root."""
    return compile_module(policy_dir) + check_fc(os.path.join(policy_dir, f"{MODULE}.fc"), root, source_dir)


def broken_copy(policy_dir, work, suffix, line):
    """A copy of the policy with one deliberate bad line appended to its .te or .fc."""
    copy = os.path.join(work, suffix)
    shutil.copytree(policy_dir, copy)
    with open(os.path.join(copy, f"{MODULE}.{suffix}"), "a", encoding="utf-8") as target:
        target.write(line + "\n")
    return copy


def self_test(policy_dir, root, source_dir):
    """Both checks must refuse each deliberate error (the plain run shows they pass the policy as it is)."""
    failures = []
    with tempfile.TemporaryDirectory() as work:
        cases = [
            ("te", "allow pam_oauth2d_t no_such_type_t:file read;", "unknown type no_such_type_t"),
            ("te", "this is not a policy statement", "make pam_oauth2.pp failed"),
            ("te", "corenet_tcp_sendrecv_generic_port(pam_oauth2d_t)", "has been deprecated"),  # refpolicy: a warning
            ("te", "pam_oauth2_no_such_interface(pam_oauth2d_t)", "make pam_oauth2.pp failed"),
            ("fc", "/usr/sbin/pam_oauth2_not_shipped\t--\tgen_context(system_u:object_r:pam_oauth2d_exec_t,s0)",
             "pam_oauth2_not_shipped"),
            ("fc", "/etc/pam_oauth2d\\.conf\t--\tgen_context(system_u:object_r:pam_oauth2_conf_t,s0)",
             "matches nothing the package installs"),
        ]
        for suffix, line, expected in cases:
            problems = check(broken_copy(policy_dir, work, suffix, line), root, source_dir)
            shutil.rmtree(os.path.join(work, suffix))
            if not any(expected in problem for problem in problems):
                failures.append(f"a .{suffix} with '{line}' was not refused with '{expected}': {problems}")
            else:
                print(f"refused as it should be: .{suffix} + {line}")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    policy_dir = os.path.join(args.source_dir, "packaging", "selinux")
    with tempfile.TemporaryDirectory() as root:
        install_tree(args.build_dir, root)
        run = self_test if args.self_test else check
        failures = run(policy_dir, root, args.source_dir)
    for failure in failures:
        print(failure, file=sys.stderr)
    if not failures:
        print("the policy compiles and every .fc path is in the package" if not args.self_test
              else "every deliberate error was refused")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
