#!/usr/bin/env python3
"""wheel_check.py - the checks of the rs-idc wheel, for tests/package/test_package.sh.

    wheel_check.py contents WHEEL LIBRARY VERSION TAG
        what the wheel file holds: the package, the library (the same bytes
        as LIBRARY, the dist build), the metadata, the tag, and a RECORD
        whose every hash and size is right.

    wheel_check.py use VERSION
        run with a venv's python in which the wheel is installed, under the
        fake (`rs-idc-fake run -- ...`), with no Rust on PATH and no
        $RS_IDC_LIBRARY: the module comes from the venv, loads the library
        it carries (even while another is installed on the system), gets a
        token, a per-user token, a token for a host name, a Serverless
        token, and raises RsIdcError with the right status.

Run from the project's top directory. Prints "ok   WHAT" or "FAIL WHAT" per check, which the shell test counts;
exits 1 when a check failed. Tokens and web tokens are never printed, only
their lengths.
"""

import base64
import hashlib
import os
import sys
import time
import zipfile

failures = 0


def check(what, ok, detail=""):
    global failures
    if ok:
        print("ok   " + what)
    else:
        failures += 1
        print("FAIL " + what + (": " + detail if detail else ""))
    sys.stdout.flush()
    return ok


def contents(wheel, library, version, tag):
    dist_info = "rs_idc-%s.dist-info" % version
    name = os.path.basename(wheel)
    check("the wheel's name carries the tag", name == "rs_idc-%s-py3-none-%s.whl" % (version, tag), name)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        want = [
            "rs_idc/__init__.py",
            "rs_idc/librs_idc.so",
            dist_info + "/METADATA",
            dist_info + "/WHEEL",
            dist_info + "/LICENSE",
            dist_info + "/RECORD",
        ]
        check("the wheel holds the package, the library and the metadata", sorted(names) == sorted(want),
              repr(names))
        read = {n: archive.read(n) for n in names}
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in archive.infolist()}

    with open(library, "rb") as f:
        check("rs_idc/librs_idc.so is the dist build's library", read.get("rs_idc/librs_idc.so") == f.read())
    check("rs_idc/librs_idc.so is executable (0755)", modes.get("rs_idc/librs_idc.so") == 0o755,
          oct(modes.get("rs_idc/librs_idc.so", 0)))
    with open("bindings/python/rs_idc.py", "rb") as f:
        check("rs_idc/__init__.py is the binding", read.get("rs_idc/__init__.py") == f.read())

    wheel_meta = read.get(dist_info + "/WHEEL", b"").decode("utf-8").splitlines()
    check("WHEEL: Tag: py3-none-" + tag, "Tag: py3-none-" + tag in wheel_meta, repr(wheel_meta))
    check("WHEEL: Root-Is-Purelib: false (the wheel holds a library)",
          "Root-Is-Purelib: false" in wheel_meta, repr(wheel_meta))
    metadata = read.get(dist_info + "/METADATA", b"").decode("utf-8").splitlines()
    for line in ("Name: rs-idc", "Version: " + version, "License: Apache-2.0"):
        check("METADATA: " + line, line in metadata)

    record = read.get(dist_info + "/RECORD", b"").decode("utf-8").splitlines()
    listed = {}
    for line in record:
        path, digest, size = line.rsplit(",", 2)
        listed[path] = (digest, size)
    check("RECORD lists every file of the wheel", sorted(listed) == sorted(names), repr(sorted(listed)))
    wrong = []
    for path, (digest, size) in listed.items():
        if path == dist_info + "/RECORD":
            if digest or size:
                wrong.append(path)
            continue
        data = read.get(path, b"")
        sha = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
        if digest != "sha256=" + sha or size != str(len(data)):
            wrong.append(path)
    check("RECORD: every sha256 and size is right", not wrong, ", ".join(wrong))


def use(version):
    # Before the import: the conditions the wheel is used in.
    path_dirs = os.environ.get("PATH", "").split(os.pathsep)
    rust = [d for d in path_dirs for tool in ("cargo", "rustc") if os.path.exists(os.path.join(d, tool))]
    check("no Rust on PATH (cargo, rustc)", not rust, ", ".join(rust))
    check("RS_IDC_LIBRARY is not set", "RS_IDC_LIBRARY" not in os.environ)
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if not check("the fake is on 127.0.0.1", endpoint.startswith("http://127.0.0.1:"), endpoint):
        return

    import rs_idc

    here = os.path.dirname(os.path.realpath(rs_idc.__file__))
    check("rs_idc is imported from the venv", here.startswith(os.path.realpath(sys.prefix) + os.sep), here)
    bundled = os.path.join(here, "librs_idc.so")
    with open("/proc/self/maps") as maps:
        loaded = sorted({os.path.realpath(line.split()[-1]) for line in maps if "librs_idc" in line})
    check("the library loaded is the one the wheel carries", loaded == [bundled], repr(loaded))
    check("rs_idc.version() is " + version, rs_idc.version() == version, rs_idc.version())

    def good(what, call):
        try:
            token = call()
        except rs_idc.RsIdcError as err:
            check(what, False, str(err))
            return
        print("   %s: %d chars, expires in %d s" % (what, len(token.value), token.expires_at - time.time()))
        check(what, len(token.value) >= 100 and token.expires_at > time.time())

    good("the process-wide client gets a token", lambda: rs_idc.get_token(["my-cluster"]))
    options = {"region": "us-east-1", "endpoint_url": endpoint, "timeout_ms": 20000}
    with rs_idc.Client(options) as client:
        good("a client gets a token", lambda: client.get_token(["my-cluster"]))
        good("a client gets a Serverless token", lambda: client.get_serverless_token(["my-workgroup"]))
        good("a token for a host name",
             lambda: client.get_token_for_host("my-cluster.abc123xyz789.us-east-1.redshift.amazonaws.com"))
        try:
            client.get_token(["err-notfound"])
            check("an unknown cluster raises RsIdcError", False, "no error")
        except rs_idc.RsIdcError as err:
            check("an unknown cluster raises RsIdcError (an Exception) with RS_IDC_ENOTFOUND",
                  isinstance(err, Exception) and err.status == rs_idc.RS_IDC_ENOTFOUND
                  and err.name == "RS_IDC_ENOTFOUND", repr(err))

    # A user's token from their web token, signed by the plain application
    # keys: the web token comes from the fake's control API.
    import json
    import urllib.request

    url = os.environ.get("RS_IDC_FAKE_CONTROL_URL", "")
    if not check("the fake's control API is on 127.0.0.1", url.startswith("http://127.0.0.1:"), url):
        return
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, data=json.dumps({"op": "names"}).encode(), timeout=10) as answer:
        op = json.load(answer)["CONTROL_WEB_TOKEN"]
    request = json.dumps({"op": op, "sub": "wheel-user", "ttl": 600}).encode()
    with opener.open(url, data=request, timeout=10) as answer:
        web_token = json.load(answer)["token"]
    user_options = dict(
        options,
        access_key_id=os.environ["RS_IDC_TEST_PLAIN_ACCESS_KEY_ID"],
        secret_access_key=os.environ["RS_IDC_TEST_PLAIN_SECRET_ACCESS_KEY"],
        idc_application_arn=os.environ["RS_IDC_TEST_APPLICATION_ARN"],
        access_role_arn=os.environ["RS_IDC_TEST_ACCESS_ROLE_ARN"],
    )
    with rs_idc.Client(user_options) as app:
        good("a user's token from their web token", lambda: app.get_user_token(web_token, ["my-cluster"]))


def main(argv):
    if len(argv) == 5 and argv[0] == "contents":
        contents(*argv[1:])
    elif len(argv) == 2 and argv[0] == "use":
        use(argv[1])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
