#!/usr/bin/env python3
"""The runtime floor of what ships: every binary named must run on RHEL 9 (and Ubuntu 22.04).

    check-abi-floor.py BINARY...     read each one's dynamic symbol table (readelf --dyn-syms -W)
    check-abi-floor.py --self-test   the version comparisons on made-up symbol names

Fails (exit 1, one line per finding) on an imported symbol that needs
  - glibc newer than 2.34 (RHEL 9; Ubuntu 22.04 has 2.35), or any GLIBC_PRIVATE symbol,
  - libstdc++ newer than GCC 11's: GLIBCXX_3.4.29, CXXABI_1.3.13,
  - OpenSSL newer than 3.0.0 (RHEL 9 and Debian 12 ship 3.0),
  - a curl_* function that is not in CURL_7_76 below.
Symbol versions say it exactly for glibc, libstdc++ and OpenSSL. libcurl versions all its symbols
alike (CURL_OPENSSL_4), so for libcurl the function names are compared with a list instead; options
(CURLOPT_*) are values, not symbols: the transport chooses those at run time (curl_protocols.cpp).
"""

import re
import subprocess
import sys

FLOORS = {"GLIBC": (2, 34), "GLIBCXX": (3, 4, 29), "CXXABI": (1, 3, 13), "OPENSSL": (3, 0, 0)}

# The libcurl functions we use, each far older than 7.76.0 (the version that added it, from the
# AVAILABILITY of its man page, is beside it). Add a function here only after checking that 7.76 has
# it; one that came later must not be called (curl_easy_header, 7.83, was replaced by a header callback).
CURL_7_76 = {
    "curl_easy_cleanup",    # 7.1
    "curl_easy_escape",     # 7.15.4
    "curl_easy_getinfo",    # 7.4.1
    "curl_easy_init",       # 7.1
    "curl_easy_perform",    # 7.1
    "curl_easy_reset",      # 7.12.1
    "curl_easy_setopt",     # 7.1
    "curl_easy_strerror",   # 7.12.0
    "curl_free",            # 7.1
    "curl_getdate",         # 7.1
    "curl_global_init",     # 7.8
    "curl_share_cleanup",   # 7.10
    "curl_share_init",      # 7.10
    "curl_share_setopt",    # 7.10
    "curl_slist_append",    # 7.1
    "curl_slist_free_all",  # 7.1
    "curl_version_info",    # 7.10
}

VERSIONED = re.compile(r"^(?P<name>[^@\s]+)@(?P<version>[A-Za-z0-9_.]+)")
RELEASE = re.compile(r"^(?P<family>GLIBCXX|GLIBC|CXXABI|OPENSSL)_(?P<number>\d+(?:\.\d+)*)$")


def dotted(parts):
    return ".".join(str(part) for part in parts)


def finding(symbol):
    """Why an imported symbol ("name@VERSION" or "name") is above the floor, or None."""
    match = VERSIONED.match(symbol)
    name, version = (match["name"], match["version"]) if match else (symbol, "")
    if name.startswith("curl_") and name not in CURL_7_76:
        return f"{name}: not a libcurl 7.76 function we have checked (CURL_7_76 in this script)"
    if version.startswith(("GLIBC_PRIVATE", "GLIBCXX_PRIVATE")):
        return f"{name}@{version}: a private glibc symbol"
    release = RELEASE.match(version)
    if release is None:
        return None  # another library's version (CURL_OPENSSL_4, PAM) or none
    family = release["family"]
    number = tuple(int(part) for part in release["number"].split("."))
    if number > FLOORS[family]:
        return f"{name}@{version}: newer than {family}_{dotted(FLOORS[family])}"
    return None


def imports(binary):
    """The undefined (imported) dynamic symbols of one ELF file, with their versions."""
    table = subprocess.run(["readelf", "--dyn-syms", "-W", binary], capture_output=True, text=True, check=True)
    symbols = []
    for line in table.stdout.splitlines():
        fields = line.split()
        # Num: Value Size Type Bind Vis Ndx Name [(version index)]
        if len(fields) >= 8 and fields[0].endswith(":") and fields[6] == "UND":
            symbols.append(fields[7])
    return symbols


def check(binaries):
    failed = False
    for binary in binaries:
        symbols = imports(binary)
        if not symbols:
            print(f"{binary}: no imported symbols found; is it an ELF file of this build?")
            failed = True
            continue
        found = sorted({reason for reason in map(finding, symbols) if reason is not None})
        for reason in found:
            print(f"{binary}: {reason}")
        failed = failed or bool(found)
        if not found:
            print(f"{binary}: {len(symbols)} imports, within the floor")
    return 1 if failed else 0


SELF_TEST = {
    "memcpy@GLIBC_2.14": None,
    "__libc_start_main@GLIBC_2.34": None,
    "arc4random@GLIBC_2.36": "newer than GLIBC_2.34",
    "_dl_find_object@GLIBC_2.35": "newer than GLIBC_2.34",
    "__nss_lookup@GLIBC_PRIVATE": "private",
    "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE9_M_createERmm@GLIBCXX_3.4.21": None,
    "_ZSt28__throw_bad_array_new_lengthv@GLIBCXX_3.4.29": None,
    "_ZSt21__glibcxx_assert_failPKciS0_S0_@GLIBCXX_3.4.30": "newer than GLIBCXX_3.4.29",
    "_ZSt21ios_base_library_initv@GLIBCXX_3.4.32": "newer than GLIBCXX_3.4.29",
    "__cxa_begin_catch@CXXABI_1.3": None,
    "__cxa_init_primary_exception@CXXABI_1.3.13": None,
    "__cxa_call_terminate@CXXABI_1.3.15": "newer than CXXABI_1.3.13",
    "EVP_MAC_fetch@OPENSSL_3.0.0": None,
    "EVP_KDF_CTX_dup@OPENSSL_3.0.9": "newer than OPENSSL_3.0.0",
    "OSSL_LIB_CTX_get0_global_default@OPENSSL_3.2.0": "newer than OPENSSL_3.0.0",
    "curl_easy_setopt@CURL_OPENSSL_4": None,
    "curl_easy_header@CURL_OPENSSL_4": "not a libcurl 7.76 function",
    "curl_easy_nextheader": "not a libcurl 7.76 function",
    "curl_ws_send@CURL_OPENSSL_4": "not a libcurl 7.76 function",
    "pam_get_item@LIBPAM_1.0": None,
    "free": None,
}


def self_test():
    wrong = 0
    for symbol, expected in SELF_TEST.items():
        got = finding(symbol)
        if (got is None) != (expected is None) or (expected is not None and expected not in got):
            print(f"self-test: {symbol}: expected {expected!r}, got {got!r}")
            wrong += 1
    print(f"self-test: {len(SELF_TEST) - wrong} of {len(SELF_TEST)} symbols judged as expected")
    return 1 if wrong else 0


def main(argv):
    if argv == ["--self-test"]:
        return self_test()
    if not argv or any(arg.startswith("-") for arg in argv):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    return check(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
