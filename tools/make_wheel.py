#!/usr/bin/env python3
"""make_wheel.py - the Python wheel of rs-idc, with the standard library only.

    python3 tools/make_wheel.py --library DISTDIR/librs_idc.so \\
        --module bindings/python/rs_idc.py --version 0.1.0 \\
        --platform manylinux_2_28_x86_64 --license LICENSE --out target/package

writes OUT/rs_idc-VERSION-py3-none-PLATFORM.whl, a zip file (PEP 427) with

    rs_idc/__init__.py                   the ctypes binding (--module)
    rs_idc/librs_idc.so                  the library (--library), which the
                                         binding loads before any other
    rs_idc-VERSION.dist-info/METADATA    name, version, summary, license
    rs_idc-VERSION.dist-info/WHEEL       the tag: not pure Python
    rs_idc-VERSION.dist-info/LICENSE     (--license)
    rs_idc-VERSION.dist-info/RECORD      every file's sha256 and size

The binding is ctypes, not an extension module, so the wheel needs no build
backend (maturin, setuptools) and fits every Python 3 (py3-none); only the
library ties it to a platform. The platform tag is the caller's claim:
tests/package checks it with objdump and auditwheel. The wheel is the same
bytes for the same inputs: entries in a fixed order, each dated
SOURCE_DATE_EPOCH (or 1980-01-01, the first date a zip file can hold).
"""

import argparse
import base64
import hashlib
import os
import sys
import time
import zipfile

NAME = "rs-idc"
PACKAGE = "rs_idc"
LIBRARY = "librs_idc.so"
SUMMARY = "Amazon Redshift IAM Identity Center auth tokens (ctypes binding to rs-idc)"
REQUIRES_PYTHON = ">=3.8"

DESCRIPTION = """\
# rs-idc

Amazon Redshift IAM Identity Center auth tokens for Python: a `ctypes`
binding to rs-idc's C library, which this wheel carries. Nothing but the
standard library is needed.

```python
import rs_idc

with rs_idc.Client({"region": "eu-west-1"}) as client:
    token = client.get_token(["my-cluster"])   # token.value, token.expires_at
# a user's own token from their web token (trusted identity propagation):
#   rs_idc.Client({"idc_application_arn": ..., "access_role_arn": ...})
#     .get_user_token(web_token, ["my-cluster"])
```

Failures raise `rs_idc.RsIdcError`, with the status number, its name and
the library's message. The library runs on Linux x86-64 with glibc 2.28 or
newer.
"""


def record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def zip_time():
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0") or "0")
    stamp = time.gmtime(max(epoch, 315532800))  # 1980-01-01, zip's first day
    return stamp[:6]


def metadata(version):
    return (
        "Metadata-Version: 2.1\n"
        "Name: %s\n"
        "Version: %s\n"
        "Summary: %s\n"
        "License: Apache-2.0\n"
        "Classifier: License :: OSI Approved :: Apache Software License\n"
        "Classifier: Operating System :: POSIX :: Linux\n"
        "Classifier: Programming Language :: Python :: 3\n"
        "Classifier: Topic :: Database\n"
        "Requires-Python: %s\n"
        "Description-Content-Type: text/markdown\n"
        "\n%s" % (NAME, version, SUMMARY, REQUIRES_PYTHON, DESCRIPTION)
    )


def wheel_file(tag):
    return (
        "Wheel-Version: 1.0\n"
        "Generator: rs-idc tools/make_wheel.py\n"
        "Root-Is-Purelib: false\n"
        "Tag: %s\n" % tag
    )


def read(path):
    with open(path, "rb") as f:
        return f.read()


def build(args):
    tag = "py3-none-" + args.platform
    dist_info = "%s-%s.dist-info" % (PACKAGE, args.version)
    # (name in the wheel, contents, executable)
    files = [
        (PACKAGE + "/__init__.py", read(args.module), False),
        (PACKAGE + "/" + LIBRARY, read(args.library), True),
        (dist_info + "/METADATA", metadata(args.version).encode("utf-8"), False),
        (dist_info + "/WHEEL", wheel_file(tag).encode("utf-8"), False),
        (dist_info + "/LICENSE", read(args.license), False),
    ]
    record = "".join(
        "%s,%s,%d\n" % (name, record_hash(data), len(data)) for name, data, _ in files
    )
    record += dist_info + "/RECORD,,\n"
    files.append((dist_info + "/RECORD", record.encode("utf-8"), False))

    os.makedirs(args.out, exist_ok=True)
    wheel = os.path.join(args.out, "%s-%s-%s.whl" % (PACKAGE, args.version, tag))
    partial = wheel + ".part"
    date = zip_time()
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data, executable in files:
            info = zipfile.ZipInfo(name, date_time=date)
            info.create_system = 3  # Unix, so the modes below count
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    os.replace(partial, wheel)
    return wheel


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--library", required=True, help="the shared library to carry")
    parser.add_argument("--module", required=True, help="the binding, rs_idc.py")
    parser.add_argument("--version", required=True)
    parser.add_argument("--platform", required=True, help="e.g. manylinux_2_28_x86_64")
    parser.add_argument("--license", required=True, help="the license text")
    parser.add_argument("--out", required=True, help="the folder to write the wheel to")
    args = parser.parse_args(argv)
    print(build(args))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
