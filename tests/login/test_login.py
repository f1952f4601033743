#!/usr/bin/env python3
"""Tests examples-c/libpq_login.c against tests/login/fake_pg.py.

    rs-idc-fake run -- python3 tests/login/test_login.py build/libpq_login \\
        [--valgrind "valgrind --error-exitcode=99 ..."]

Runs under `rs-idc-fake run --`, which puts the fake Redshift endpoint
(127.0.0.1) and the test credentials in the environment, so the example
gets real tokens from the fake. Each case starts a fresh login server on
127.0.0.1, runs the example, and checks its exit status and output and
what the server saw. With --valgrind, two cases run again under it.

Nothing prints a token: the example and the server show lengths only, and
a check fails if any output holds a long base64 run. The last line is
`N passed, M failed`; the exit status is 0 only when nothing failed.
"""

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "fake_pg.py")
HOST_NAME = "my-cluster.abc123xyz789.us-east-1.redshift.amazonaws.com"
TIMEOUT = 60
LONG_BASE64 = re.compile(r"[A-Za-z0-9+/=]{100,}")


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, case, what, ok, detail=""):
        if ok:
            self.passed += 1
            print("ok   %s: %s" % (case, what))
        else:
            self.failed += 1
            print("FAIL %s: %s%s" % (case, what, " (%s)" % detail if detail else ""))
        sys.stdout.flush()
        return ok


def fake_stat(name):
    """A counter from the fake endpoint's /_fake/stats (never through a proxy)."""
    url = "http://127.0.0.1:%s/_fake/stats" % os.environ["RS_IDC_FAKE_PORT"]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as answer:
        for line in answer.read().decode().splitlines():
            key, _, value = line.partition(" ")
            if key == name:
                return int(value)
    raise KeyError(name)


class Server:
    """One fake_pg.py run; `port` once it listens, `result` once it ends."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([sys.executable, SERVER, *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("port "):
            self.proc.kill()
            raise RuntimeError("fake_pg.py did not start: %r %s"
                               % (line, self.proc.stderr.read()))
        self.port = line.split()[1]
        self.result = None
        self.output = ""

    def finish(self):
        try:
            out, err = self.proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        self.output = out + err
        lines = [l for l in out.splitlines() if l.startswith("{")]
        self.result = json.loads(lines[-1]) if lines else {"problems": ["no result: " + err]}
        return self.result


def run_example(example, args, env_extra=None, drop_env=(), wrap=()):
    env = dict(os.environ)
    for name in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", *drop_env):
        env.pop(name, None)
    env.update(env_extra or {})
    try:
        proc = subprocess.run([*wrap, example, *args], env=env, capture_output=True,
                              text=True, timeout=TIMEOUT * (4 if wrap else 1))
        return proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as err:
        return None, err.stdout or "", "timed out"


class Suite:
    def __init__(self, example, wrap):
        self.example = example
        self.wrap = wrap
        self.r = Results()

    def no_secret(self, case, *texts):
        leaked = any(LONG_BASE64.search(t or "") for t in texts)
        self.r.check(case, "no output holds a token", not leaked)

    def login_ok(self, case, server_args, example_args, env_extra=None, wrap=()):
        """A login that must succeed; checks both sides and the fake's token count."""
        server = Server(*server_args)
        tokens_before = fake_stat("tokens")
        args = [a.replace("{port}", server.port) for a in example_args]
        env = {k: v.replace("{port}", server.port) for k, v in (env_extra or {}).items()}
        rc, out, err = run_example(self.example, args, env, wrap=wrap)
        res = server.finish()
        c = self.r.check
        c(case, "exit status 0", rc == 0, "status %s, stderr: %s" % (rc, err.strip()))
        c(case, "prints 'login ok'", "login ok" in out.splitlines(), out.strip())
        c(case, "prints the token's length", re.search(r"^token: \d+ bytes", out, re.M), out)
        c(case, "server saw no problem", res.get("problems") == [] and not res.get("io_error"),
          "%s %s" % (res.get("problems"), res.get("io_error")))
        c(case, "server got a well-formed token", res.get("token_ok") is True
          and res.get("token_length", 0) >= 100, "length %s" % res.get("token_length"))
        c(case, "client sent Terminate and closed", res.get("terminated") is True)
        c(case, "the fake endpoint issued one token", fake_stat("tokens") == tokens_before + 1)
        self.no_secret(case, out, err, server.output)
        return res

    def login_fails(self, case, server_args, example_args, stderr_parts, wrap=()):
        server = Server(*server_args)
        args = [a.replace("{port}", server.port) for a in example_args]
        rc, out, err = run_example(self.example, args, wrap=wrap)
        res = server.finish()
        c = self.r.check
        c(case, "exit status 1", rc == 1, "status %s, stderr: %s" % (rc, err.strip()))
        c(case, "no 'login ok'", "login ok" not in out)
        for part in stderr_parts:
            c(case, "stderr says %r" % part, part in err, err.strip())
        self.no_secret(case, out, err, server.output)
        return rc, out, err, res

    def run(self):
        c = self.r.check

        # Logins that succeed.
        res = self.login_ok("cluster id", ["--expect-user", ""],
                            ["-h", "127.0.0.1", "-p", "{port}", "my-cluster"])
        c("cluster id", "no user parameter without -U", "user" not in res.get("startup", {}))
        for key, want in (("plugin_name", "IdpTokenAuthPlugin"), ("idp_type", "AwsIdc"),
                          ("token_type", "SUBJECT_TOKEN"), ("client_encoding", "UTF8"),
                          ("database", "dev")):
            got = res.get("startup", {}).get(key)
            c("cluster id", "startup %s=%s" % (key, want), got == want, repr(got))

        res = self.login_ok("host name", ["--expect-user", "alice",
                                          "--expect-database", "analytics"],
                            ["-h", "localhost", "-p", "{port}", "-U", "alice",
                             "-d", "analytics", HOST_NAME])
        c("host name", "user and database sent", res.get("startup", {}).get("user") == "alice"
          and res.get("startup", {}).get("database") == "analytics")

        self.login_ok("PG* environment", ["--expect-user", "bob", "--expect-database", "db2"],
                      ["my-cluster"], env_extra={"PGHOST": "127.0.0.1", "PGPORT": "{port}",
                                                 "PGUSER": "bob", "PGDATABASE": "db2"})

        self.login_ok("byte-by-byte server", ["--mode", "chunked"],
                      ["-p", "{port}", "my-cluster"])

        # Logins the server refuses, or a server that misbehaves.
        _, _, _, res = self.login_fails("token refused", ["--mode", "reject"],
                                        ["-p", "{port}", "my-cluster"],
                                        ["server error: FATAL 28000",
                                         "IdP token authentication failed"])
        c("token refused", "the token was sent and well-formed", res.get("token_ok") is True)

        _, _, _, res = self.login_fails("wrong user", ["--expect-user", "bob"],
                                        ["-p", "{port}", "-U", "alice", "my-cluster"],
                                        ["server error: FATAL 08P01", "startup user='alice'"])
        c("wrong user", "no token sent before authentication was asked",
          res.get("token_length") == 0)

        _, _, _, res = self.login_fails("password request", ["--mode", "password"],
                                        ["-p", "{port}", "my-cluster"],
                                        ["unexpected authentication request 3"])
        c("password request", "the client sent nothing back (no token as a password)",
          res.get("sent_after_request") == [], res.get("sent_after_request"))

        self.login_fails("unknown message", ["--mode", "garbage"],
                         ["-p", "{port}", "my-cluster"], ["unexpected message type 0x3f"])
        self.login_fails("server hangs up", ["--mode", "close"],
                         ["-p", "{port}", "my-cluster"], ["the server closed the connection"])

        # Token failures: nothing reaches the server.
        for case, ident, status in (("cluster not found", "err-notfound", "RS_IDC_ENOTFOUND"),
                                    ("invalid identifier", "1-bad", "RS_IDC_EINVAL"),
                                    ("invalid host name", "db.example.com", "RS_IDC_EINVAL")):
            _, _, _, res = self.login_fails(case, ["--accept-timeout", "1"],
                                            ["-p", "{port}", ident], [status])
            c(case, "no connection to the server", res.get("connected") is False)

        # Not loopback: refused before any token call or connection.
        requests_before = fake_stat("requests")
        rc, out, err = run_example(self.example, ["-h", "192.0.2.1", "-p", "5439", "my-cluster"])
        c("not loopback", "exit status 1", rc == 1, "status %s" % rc)
        c("not loopback", "stderr explains", "not a loopback address" in err, err.strip())
        c("not loopback", "no token call was made", fake_stat("requests") == requests_before)

        # Usage.
        for case, args in (("no arguments", []), ("two targets", ["a-cluster", "b-cluster"]),
                           ("unknown flag", ["-x", "my-cluster"])):
            rc, out, err = run_example(self.example, args)
            c(case, "exit status 2 with usage", rc == 2 and "usage:" in err,
              "status %s" % rc)

        # Under valgrind: a success and a refusal, with the memory checks on.
        if self.wrap:
            self.login_ok("valgrind: login", [], ["-p", "{port}", "my-cluster"], wrap=self.wrap)
            self.login_fails("valgrind: refused", ["--mode", "reject"],
                             ["-p", "{port}", "my-cluster"], ["server error: FATAL 28000"],
                             wrap=self.wrap)

        print("%d passed, %d failed" % (self.r.passed, self.r.failed))
        sys.stdout.flush()
        return 0 if self.r.failed == 0 and self.r.passed > 0 else 1


def main():
    parser = argparse.ArgumentParser(description="tests of examples-c/libpq_login.c")
    parser.add_argument("example", help="path of the built libpq_login program")
    parser.add_argument("--valgrind", default="",
                        help="a valgrind command line to run two cases under")
    args = parser.parse_args()
    if "RS_IDC_FAKE_PORT" not in os.environ:
        print("run under `rs-idc-fake run --` (RS_IDC_FAKE_PORT is not set)", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    return Suite(os.path.abspath(args.example), shlex.split(args.valgrind)).run()


if __name__ == "__main__":
    sys.exit(main())
