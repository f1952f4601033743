#!/usr/bin/env python3
"""Checks the rs-idc-fake endpoints against a real client: the AWS CLI.

Usage: check_aws_cli.py PATH/TO/rs-idc-fake

The `aws` executable (from the `awscli` PyPI package) is taken from $AWS_CLI,
else from PATH. The script starts the fake with `rs-idc-fake run`, which runs
this script again inside it with the fake's URL and the test credentials in
the environment; every `aws` command then gets a clean environment that
points only at 127.0.0.1.

Tokens are never printed: only their lengths and expiry times. The last
line is `N passed, M failed`; the exit status is 0 only when nothing failed.
"""

import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request

INSIDE_FLAG = "--inside-fake"
TIMEOUT_SECS = 120


class Checker:
    """Runs `aws` commands against the fake and tallies the results."""

    def __init__(self, aws, url, home):
        self.aws = aws
        self.url = url
        self.home = home
        self.passed = 0
        self.failed = 0
        self.idc = (
            os.environ["AWS_ACCESS_KEY_ID"],
            os.environ["AWS_SECRET_ACCESS_KEY"],
            os.environ["AWS_SESSION_TOKEN"],
        )
        self.plain = (
            os.environ["RS_IDC_TEST_PLAIN_ACCESS_KEY_ID"],
            os.environ["RS_IDC_TEST_PLAIN_SECRET_ACCESS_KEY"],
            None,
        )
        self.expired = (
            os.environ["RS_IDC_TEST_EXPIRED_ACCESS_KEY_ID"],
            os.environ["RS_IDC_TEST_EXPIRED_SECRET_ACCESS_KEY"],
            None,
        )

    def env(self, creds, max_attempts=1):
        """A clean environment for one `aws` command."""
        key_id, secret, session_token = creds
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.home,
            "LANG": "C.UTF-8",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_MAX_ATTEMPTS": str(max_attempts),
            "AWS_RETRY_MODE": "standard",
            "AWS_PAGER": "",
            "AWS_ACCESS_KEY_ID": key_id,
            "AWS_SECRET_ACCESS_KEY": secret,
        }
        if session_token is not None:
            env["AWS_SESSION_TOKEN"] = session_token
        return env

    def aws_call(self, args, creds, max_attempts=1):
        """Runs `aws ARGS --endpoint-url URL --output json`."""
        cmd = [self.aws, *args, "--endpoint-url", self.url, "--output", "json"]
        try:
            return subprocess.run(
                cmd,
                env=self.env(creds, max_attempts),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(cmd, -1, "", "timed out")

    def record(self, name, ok, detail):
        if ok:
            self.passed += 1
            print(f"ok      {name}: {detail}", flush=True)
        else:
            self.failed += 1
            print(f"FAILED  {name}: {detail}", flush=True)

    @staticmethod
    def stderr_tail(proc):
        text = " ".join(proc.stderr.split())
        return text[-400:] if text else "(no stderr)"

    def missing_command(self, proc):
        return "Invalid choice" in proc.stderr or "invalid choice" in proc.stderr

    def expect_token(self, name, args, token_key, expiry_key, creds=None, max_attempts=1):
        proc = self.aws_call(args, creds or self.idc, max_attempts)
        if proc.returncode != 0:
            if self.missing_command(proc):
                self.record(name, False, "this AWS CLI does not know the command "
                            f"'aws {' '.join(args[:2])}' (awscli too old?)")
            else:
                self.record(name, False, f"exit {proc.returncode}: {self.stderr_tail(proc)}")
            return
        try:
            doc = json.loads(proc.stdout)
        except ValueError:
            self.record(name, False, "the output is not JSON")
            return
        token = doc.get(token_key)
        expiry_text = doc.get(expiry_key)
        if not isinstance(token, str) or not token:
            self.record(name, False, f"no {token_key} in the output (keys: {sorted(doc)})")
            return
        try:
            expiry = datetime.datetime.fromisoformat(str(expiry_text).replace("Z", "+00:00"))
        except ValueError:
            self.record(name, False, f"{expiry_key} does not parse: {expiry_text!r}")
            return
        if expiry.tzinfo is None:
            expiry = expiry.replace(tzinfo=datetime.timezone.utc)
        now = datetime.datetime.now(datetime.timezone.utc)
        if expiry <= now:
            self.record(name, False, f"{expiry_key} {expiry_text} is not in the future")
            return
        self.record(name, True, f"token length {len(token)}, expires {expiry_text}")

    def expect_error(self, name, args, code, creds=None):
        proc = self.aws_call(args, creds or self.idc)
        if proc.returncode == 0:
            self.record(name, False, f"exit 0, expected {code}")
        elif self.missing_command(proc):
            self.record(name, False, "this AWS CLI does not know the command "
                        f"'aws {' '.join(args[:2])}' (awscli too old?)")
        elif f"({code})" not in proc.stderr:
            self.record(name, False, f"exit {proc.returncode} without {code}: {self.stderr_tail(proc)}")
        else:
            self.record(name, True, f"exit {proc.returncode}, {code}")

    def stats(self):
        with urllib.request.urlopen(self.url + "/_fake/stats", timeout=10) as resp:
            text = resp.read().decode()
        return dict((k, int(v)) for k, v in (line.split() for line in text.splitlines()))


def redshift(*ids):
    return ["redshift", "get-identity-center-auth-token", "--cluster-ids", *ids]


def serverless(*names):
    return ["redshift-serverless", "get-identity-center-auth-token", "--workgroup-names", *names]


def inside(aws):
    """Runs the checks; the fake is already up (we run under `rs-idc-fake run`)."""
    url = os.environ["RS_IDC_FAKE_URL"]
    with tempfile.TemporaryDirectory(prefix="rs-idc-cli-home-") as home:
        c = Checker(aws, url, home)
        version = subprocess.run([aws, "--version"], capture_output=True, text=True,
                                 env=c.env(c.idc), check=False, timeout=TIMEOUT_SECS)
        print(f"using {aws}: {(version.stdout + version.stderr).strip()}", flush=True)

        c.expect_token("redshift token", redshift("my-cluster", "other"), "Token", "ExpirationTime")
        c.expect_token("redshift ttl-600", redshift("ttl-600"), "Token", "ExpirationTime")
        c.expect_error("redshift err-notfound", redshift("err-notfound"), "ClusterNotFound")
        c.expect_error("redshift err-state", redshift("err-state"), "InvalidClusterState")
        c.expect_error("redshift err-unsupported", redshift("err-unsupported"), "UnsupportedOperation")
        c.expect_error("redshift err-invalid", redshift("err-invalid"), "RedshiftInvalidParameter")
        c.expect_error("redshift err-denied", redshift("err-denied"), "AccessDenied")
        c.expect_error("redshift plain credentials", redshift("my-cluster"), "UnsupportedOperation",
                       creds=c.plain)
        c.expect_error("redshift expired credentials", redshift("my-cluster"), "ExpiredToken",
                       creds=c.expired)
        c.expect_error("redshift wrong secret", redshift("my-cluster"), "SignatureDoesNotMatch",
                       creds=(c.idc[0], "not-the-secret-" + "x" * 25, c.idc[2]))
        c.expect_error("redshift unknown key", redshift("my-cluster"), "InvalidClientTokenId",
                       creds=("AKIANOTKNOWN00000000", c.idc[1], c.idc[2]))
        # The CLI retries throttling and 5xx answers when allowed to.
        c.expect_token("redshift retries Throttling", redshift("fault-throttle-1"), "Token",
                       "ExpirationTime", max_attempts=2)
        c.expect_token("redshift retries InternalFailure", redshift("fault-500-1"), "Token",
                       "ExpirationTime", max_attempts=2)

        c.expect_token("redshift-serverless token", serverless("wg-one"), "token", "expirationTime")
        c.expect_error("redshift-serverless err-notfound", serverless("err-notfound"),
                       "ResourceNotFoundException")
        c.expect_error("redshift-serverless err-state", serverless("err-state"), "ConflictException")
        c.expect_error("redshift-serverless plain credentials", serverless("wg-one"),
                       "ValidationException", creds=c.plain)
        c.expect_error("redshift-serverless wrong secret", serverless("wg-one"),
                       "InvalidSignatureException",
                       creds=(c.idc[0], "not-the-secret-" + "x" * 25, c.idc[2]))

        try:
            stats = c.stats()
            c.record("fake counters", stats.get("tokens", 0) >= 5 and stats.get("requests", 0) >= 20,
                     f"requests {stats.get('requests')}, tokens {stats.get('tokens')}")
        except OSError as e:
            c.record("fake counters", False, f"stats endpoint: {e}")

        print(f"{c.passed} passed, {c.failed} failed", flush=True)
        return 0 if c.failed == 0 else 1


def main(argv):
    aws = os.environ.get("AWS_CLI") or shutil.which("aws")
    if len(argv) >= 2 and argv[1] == INSIDE_FLAG:
        return inside(aws)
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    fake = argv[1]
    problem = None
    if not aws or not os.access(aws, os.X_OK):
        problem = "no aws executable: set AWS_CLI or put `aws` on PATH (pip install awscli)"
    elif not os.access(fake, os.X_OK):
        problem = f"{fake} is not an executable rs-idc-fake"
    if problem:
        print(f"FAILED  setup: {problem}")
        print("0 passed, 1 failed")
        return 1
    env = dict(os.environ, AWS_CLI=os.path.abspath(aws))
    proc = subprocess.run(
        [fake, "run", "--", sys.executable, os.path.abspath(__file__), INSIDE_FLAG],
        env=env,
        check=False,
        timeout=30 * TIMEOUT_SECS,
    )
    if proc.returncode not in (0, 1):
        print(f"FAILED  setup: the check exited with status {proc.returncode}")
        print("0 passed, 1 failed")
        return 1
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))
