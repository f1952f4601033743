#!/usr/bin/env python3
"""Tests examples-c/libpq_login.c against tests/login/fake_pg.py, and
compares it with the official Python driver on the same server.

    rs-idc-fake run -- python3 tests/login/test_login.py build/libpq_login \\
        [--valgrind "valgrind --error-exitcode=99 ..."] \\
        [--driver-python .venv/bin/python]

Runs under `rs-idc-fake run --`, which puts the fake Redshift endpoint
(127.0.0.1) and the test credentials in the environment, so the example
and the driver get real tokens from the fake. The test makes its own
certificates with the openssl command in a temporary directory: a CA, a
server certificate for localhost and 127.0.0.1, one for another host name,
and one from a CA nobody trusts. Each case starts a fresh login server on
127.0.0.1, runs the example, and checks its exit status and output and
what the server saw. With --valgrind, three cases run again under it (a
browser sign-in among them). With
--driver-python (a Python with redshift_connector), the driver logs in to
the same kind of server and the test compares what the two sent.

The browser sign-in (-b) is tested too: tests/login/play_browser.py plays
the browser (the example runs it through RS_IDC_OPEN_WITH), the fake
endpoint signs browser-user in, and the login server checks the startup
(BrowserIdcAuthPlugin, token_type=ACCESS_TOKEN) and asks the fake whose
access token came in the 'i' message.

Nothing prints a token: the example, the driver script and the server show
lengths only, and a check fails if any output holds a long base64 run. The
last line is `N passed, M failed`; the exit status is 0 only when nothing
failed.
"""

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from fake_control import fake_stat, names  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "fake_pg.py")
DRIVER = os.path.join(HERE, "driver_login.py")
PLAYER = os.path.join(HERE, "play_browser.py")
ISSUER = "https://identitycenter.amazonaws.com/ssoins-login-test"
DISPLAY_NAME = "rs-idc login test"
HOST_NAME = "my-cluster.abc123xyz789.us-east-1.redshift.amazonaws.com"
NAMESPACE = "rs-idc-test-namespace"
TIMEOUT = 60
LONG_BASE64 = re.compile(r"[A-Za-z0-9+/=]{100,}")
# The access tokens of the browser sign-in are base64url, and codes too.
LONG_BASE64URL = re.compile(r"[A-Za-z0-9_-]{60,}")
# Variables that choose a trust store or a server for libpq-style programs:
# every run starts without them and sets what it needs.
PG_VARIABLES = ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGSSLMODE", "PGSSLROOTCERT",
                "PGAPPNAME", "SSL_CERT_FILE", "SSL_CERT_DIR")

OPENSSL_CONFIG = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = rs-idc login test
[v3_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, IP:127.0.0.1
[server_wrong_host]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:db.wrong-host.test
"""


class Certificates:
    """The test's certificates (PEM files in `directory`), made with openssl:
    ca (the trust anchor), good (localhost and 127.0.0.1, from ca),
    wrong_host (db.wrong-host.test, from ca) and untrusted (localhost and
    127.0.0.1, from another CA). Each server has .cert and .key paths."""

    def __init__(self, directory):
        self.directory = directory
        self.config = self.path("openssl.cnf")
        with open(self.config, "w") as f:
            f.write(OPENSSL_CONFIG)
        self.ca = self.make_ca("ca", "rs-idc login test CA")
        self.make_ca("other-ca", "rs-idc login untrusted CA")
        self.good = self.make_server("good", "localhost", "server", "ca", 1)
        self.wrong_host = self.make_server("wrong-host", "db.wrong-host.test",
                                           "server_wrong_host", "ca", 2)
        self.untrusted = self.make_server("untrusted", "localhost", "server", "other-ca", 3)

    def path(self, name):
        return os.path.join(self.directory, name)

    def openssl(self, *args):
        proc = subprocess.run(["openssl", *args], stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=TIMEOUT)
        if proc.returncode != 0:
            raise RuntimeError("openssl %s failed: %s" % (args[0], proc.stderr.strip()))

    def make_key(self, name):
        key = self.path(name + ".key")
        self.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-out", key)
        return key

    def make_ca(self, name, common_name):
        key = self.make_key(name)
        cert = self.path(name + ".pem")
        self.openssl("req", "-new", "-x509", "-config", self.config, "-extensions", "v3_ca",
                     "-key", key, "-subj", "/CN=" + common_name, "-days", "2", "-sha256",
                     "-out", cert)
        return cert

    def make_server(self, name, common_name, section, ca, serial):
        key = self.make_key(name)
        csr = self.path(name + ".csr")
        cert = self.path(name + ".pem")
        self.openssl("req", "-new", "-config", self.config, "-key", key,
                     "-subj", "/CN=" + common_name, "-out", csr)
        self.openssl("x509", "-req", "-in", csr, "-CA", self.path(ca + ".pem"),
                     "-CAkey", self.path(ca + ".key"), "-set_serial", str(serial),
                     "-days", "2", "-sha256", "-extfile", self.config, "-extensions", section,
                     "-out", cert)
        return argparse.Namespace(cert=cert, key=key)


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


def note(case, text):
    print("     %s: %s" % (case, text))
    sys.stdout.flush()


class Server:
    """One fake_pg.py run; `port` once it listens, `result` once it ends.
    `tls` is a certificate (with .cert and .key) or None to decline TLS."""

    def __init__(self, tls, *args):
        tls_args = ["--cert", tls.cert, "--key", tls.key] if tls is not None else []
        self.proc = subprocess.Popen([sys.executable, SERVER, *tls_args, *args],
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


def run_program(argv, env_extra=None, timeout=TIMEOUT):
    env = dict(os.environ)
    for name in PG_VARIABLES:
        env.pop(name, None)
    env.update(env_extra or {})
    try:
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        return proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as err:
        return None, err.stdout or "", "timed out"


class Suite:
    def __init__(self, example, wrap, driver_python, certs):
        self.example = example
        self.wrap = wrap
        self.driver_python = driver_python
        self.certs = certs
        self.r = Results()

    def run_example(self, server, args, env_extra=None, wrap=()):
        port = server.port if server is not None else "1"
        args = [a.replace("{port}", port).replace("{ca}", self.certs.ca) for a in args]
        env = {k: v.replace("{port}", port).replace("{ca}", self.certs.ca)
               for k, v in (env_extra or {}).items()}
        return run_program([*wrap, self.example, *args], env,
                           timeout=TIMEOUT * (4 if wrap else 1))

    def no_secret(self, case, *texts):
        leaked = any(LONG_BASE64.search(t or "") or LONG_BASE64URL.search(t or "")
                     for t in texts)
        self.r.check(case, "no output holds a token", not leaked)

    def login_ok(self, case, tls, server_args, example_args, env_extra=None, wrap=(),
                 redshift_tokens=1):
        """A login that must succeed; checks both sides and the fake's token count
        (`redshift_tokens` Redshift tokens issued: 0 for the browser sign-in)."""
        server = Server(tls, *server_args)
        tokens_before = fake_stat(names().COUNTER_TOKENS)
        rc, out, err = self.run_example(server, example_args, env_extra, wrap)
        res = server.finish()
        c = self.r.check
        c(case, "exit status 0", rc == 0, "status %s, stderr: %s" % (rc, err.strip()))
        c(case, "prints 'login ok'", "login ok" in out.splitlines(), out.strip())
        c(case, "prints the token's length", re.search(r"^token: \d+ bytes", out, re.M), out)
        c(case, "SSLRequest, then TLS before the startup message",
          res.get("ssl_request") is True and res.get("tls") is True,
          "%s %s" % (res.get("ssl_request"), res.get("tls_error")))
        c(case, "server saw no problem", res.get("problems") == [] and not res.get("io_error"),
          "%s %s" % (res.get("problems"), res.get("io_error")))
        c(case, "server got a well-formed token", res.get("token_ok") is True
          and res.get("token_length", 0) >= 100, "length %s" % res.get("token_length"))
        c(case, "the 'i' message ends with a NUL", res.get("token_nul") is True)
        c(case, "client sent Terminate and closed", res.get("terminated") is True)
        c(case, "the fake endpoint issued %d Redshift token(s)" % redshift_tokens,
          fake_stat(names().COUNTER_TOKENS) == tokens_before + redshift_tokens)
        self.no_secret(case, out, err, server.output)
        return res, out, err

    def login_fails(self, case, tls, server_args, example_args, stderr_parts, env_extra=None,
                    wrap=()):
        server = Server(tls, *server_args)
        rc, out, err = self.run_example(server, example_args, env_extra, wrap)
        res = server.finish()
        c = self.r.check
        c(case, "exit status 1", rc == 1, "status %s, stderr: %s" % (rc, err.strip()))
        c(case, "no 'login ok'", "login ok" not in out)
        for part in stderr_parts:
            c(case, "stderr says %r" % part, part in err, err.strip())
        self.no_secret(case, out, err, server.output)
        return rc, out, err, res

    def refused_before_token(self, case, tls, example_args, stderr_parts, env_extra=None):
        """The server is refused before the startup message: no token is
        fetched, and nothing but the SSLRequest (and TLS handshake) reaches it."""
        tokens_before = fake_stat(names().COUNTER_TOKENS)
        _, _, _, res = self.login_fails(case, tls, ["--accept-timeout", "10"], example_args,
                                        stderr_parts, env_extra)
        c = self.r.check
        c(case, "the client asked for TLS first", res.get("ssl_request") is True)
        c(case, "no startup message, no token reached the server",
          res.get("protocol") == 0 and res.get("startup") == {} and res.get("token_length") == 0,
          "protocol %s, token_length %s" % (res.get("protocol"), res.get("token_length")))
        c(case, "no token was fetched", fake_stat(names().COUNTER_TOKENS) == tokens_before)
        return res

    def run(self):
        c = self.r.check
        good, wrong_host, untrusted = self.certs.good, self.certs.wrong_host, self.certs.untrusted

        # Logins that succeed.
        res, _, _ = self.login_ok("cluster id", good, ["--expect-user", ""],
                                  ["-h", "localhost", "-p", "{port}", "-c", "{ca}", "my-cluster"])
        startup = res.get("startup", {})
        c("cluster id", "no user parameter without -U", "user" not in startup)
        c("cluster id", "no identity_namespace without -n", "identity_namespace" not in startup)
        for key, want in (("plugin_name", "IdpTokenAuthPlugin"), ("idp_type", "AwsIdc"),
                          ("token_type", "SUBJECT_TOKEN"), ("client_encoding", "UTF8"),
                          ("database", "dev"), ("application_name", "libpq_login"),
                          ("client_protocol_version", "0")):
            got = startup.get(key)
            c("cluster id", "startup %s=%s" % (key, want), got == want, repr(got))
        c("cluster id", "protocol 3.0", res.get("protocol") == 196608, res.get("protocol"))
        c("cluster id", "SNI localhost", res.get("sni") == "localhost", res.get("sni"))

        res, _, _ = self.login_ok("host name, IP address",
                                  good, ["--expect-user", "alice", "--expect-database",
                                         "analytics", "--expect-namespace", NAMESPACE],
                                  ["-h", "127.0.0.1", "-p", "{port}", "-U", "alice",
                                   "-d", "analytics", "-n", NAMESPACE, "-c", "{ca}", HOST_NAME])
        startup = res.get("startup", {})
        c("host name, IP address", "user, database and identity_namespace sent",
          startup.get("user") == "alice" and startup.get("database") == "analytics"
          and startup.get("identity_namespace") == NAMESPACE)
        c("host name, IP address", "no SNI for an IP address", res.get("sni") is None,
          res.get("sni"))

        res, _, _ = self.login_ok("PG* environment", good,
                                  ["--expect-user", "bob", "--expect-database", "db2"],
                                  ["my-cluster"],
                                  env_extra={"PGHOST": "localhost", "PGPORT": "{port}",
                                             "PGUSER": "bob", "PGDATABASE": "db2",
                                             "PGSSLMODE": "verify-full", "PGSSLROOTCERT": "{ca}",
                                             "PGAPPNAME": "my-app"})
        c("PG* environment", "application_name from PGAPPNAME",
          res.get("startup", {}).get("application_name") == "my-app")

        self.login_ok("byte-by-byte server", good, ["--mode", "chunked"],
                      ["-p", "{port}", "-c", "{ca}", "my-cluster"])

        _, out, _ = self.login_ok("verify-ca, another host name", wrong_host, [],
                                  ["-h", "localhost", "-p", "{port}", "-m", "verify-ca",
                                   "-c", "{ca}", "my-cluster"])
        c("verify-ca, another host name", "says the host name was not checked",
          "host name not checked" in out, out.strip())

        _, _, err = self.login_ok("require, untrusted certificate", untrusted, [],
                                  ["-h", "localhost", "-p", "{port}", "-m", "require",
                                   "my-cluster"])
        c("require, untrusted certificate", "warns that nothing was verified",
          "warning: sslmode require" in err, err.strip())

        # Servers refused before the startup message: no token fetched or sent.
        self.refused_before_token("untrusted certificate", untrusted,
                                  ["-h", "localhost", "-p", "{port}", "-c", "{ca}", "my-cluster"],
                                  ["certificate was refused (sslmode verify-full)",
                                   "unable to get local issuer certificate"])
        self.refused_before_token("untrusted certificate, verify-ca", untrusted,
                                  ["-h", "localhost", "-p", "{port}", "-m", "verify-ca",
                                   "-c", "{ca}", "my-cluster"],
                                  ["certificate was refused (sslmode verify-ca)"])
        self.refused_before_token("wrong host name", wrong_host,
                                  ["-h", "localhost", "-p", "{port}", "-c", "{ca}", "my-cluster"],
                                  ["certificate was refused", "hostname mismatch"])
        self.refused_before_token("wrong IP address", wrong_host,
                                  ["-h", "127.0.0.1", "-p", "{port}", "-c", "{ca}", "my-cluster"],
                                  ["certificate was refused", "IP address mismatch"])
        self.refused_before_token("system trust store", good,
                                  ["-h", "localhost", "-p", "{port}", "my-cluster"],
                                  ["certificate was refused"])
        self.refused_before_token("PGSSLROOTCERT=system", good,
                                  ["-h", "localhost", "-p", "{port}", "my-cluster"],
                                  ["certificate was refused"],
                                  env_extra={"PGSSLROOTCERT": "system"})
        res = self.refused_before_token("server declines TLS", None,
                                        ["-h", "localhost", "-p", "{port}", "-c", "{ca}",
                                         "my-cluster"],
                                        ["the server declined TLS", "never sent without TLS"])
        c("server declines TLS", "the client sent nothing after the 'N'",
          res.get("declined_then") == 0, res.get("declined_then"))

        # Logins the server refuses, or a server that misbehaves, inside TLS.
        _, _, _, res = self.login_fails("token refused", good, ["--mode", "reject"],
                                        ["-p", "{port}", "-c", "{ca}", "my-cluster"],
                                        ["server error: FATAL 28000",
                                         "IdP token authentication failed"])
        c("token refused", "the token was sent and well-formed", res.get("token_ok") is True)

        _, _, _, res = self.login_fails("wrong user", good, ["--expect-user", "bob"],
                                        ["-p", "{port}", "-c", "{ca}", "-U", "alice",
                                         "my-cluster"],
                                        ["server error: FATAL 08P01", "startup user='alice'"])
        c("wrong user", "no token sent before authentication was asked",
          res.get("token_length") == 0)

        _, _, _, res = self.login_fails("password request", good, ["--mode", "password"],
                                        ["-p", "{port}", "-c", "{ca}", "my-cluster"],
                                        ["unexpected authentication request 3"])
        c("password request", "the client sent nothing back (no token as a password)",
          res.get("sent_after_request") == [], res.get("sent_after_request"))

        self.login_fails("unknown message", good, ["--mode", "garbage"],
                         ["-p", "{port}", "-c", "{ca}", "my-cluster"],
                         ["unexpected message type 0x3f"])
        self.login_fails("server hangs up", good, ["--mode", "close"],
                         ["-p", "{port}", "-c", "{ca}", "my-cluster"],
                         ["the server closed the connection"])

        # Token failures: after TLS, nothing more reaches the server.
        for case, ident, status in (("cluster not found", "err-notfound", "RS_IDC_ENOTFOUND"),
                                    ("invalid identifier", "1-bad", "RS_IDC_EINVAL"),
                                    ("IP address for a host name", "10.1.2.3", "RS_IDC_EINVAL"),
                                    ("unknown custom domain name", "db.example.com",
                                     "RS_IDC_ENOTFOUND")):
            _, _, _, res = self.login_fails(case, good, ["--accept-timeout", "10"],
                                            ["-p", "{port}", "-c", "{ca}", ident], [status])
            c(case, "no startup message reached the server",
              res.get("protocol") == 0 and res.get("token_length") == 0)

        # Settings refused before any connection.
        for case, args, status, part in (
                ("sslmode prefer", ["-m", "prefer"], 2, "may send the token without TLS"),
                ("sslmode disable", ["-m", "disable"], 2, "may send the token without TLS"),
                ("unknown sslmode", ["-m", "verify"], 2, "unknown sslmode verify"),
                ("missing CA file", ["-c", os.path.join(self.certs.directory, "none.pem")], 1,
                 "cannot load the trust anchors")):
            server = Server(good, "--accept-timeout", "1")
            rc, out, err = self.run_example(server, ["-p", "{port}", *args, "my-cluster"])
            res = server.finish()
            c(case, "exit status %d" % status, rc == status, "status %s, %s" % (rc, err.strip()))
            c(case, "stderr says %r" % part, part in err, err.strip())
            c(case, "no connection to the server", res.get("connected") is False)

        # Usage.
        for case, args in (("no arguments", []), ("two targets", ["a-cluster", "b-cluster"]),
                           ("unknown flag", ["-x", "my-cluster"])):
            rc, out, err = self.run_example(None, args)
            c(case, "exit status 2 with usage", rc == 2 and "usage:" in err,
              "status %s" % rc)

        # Under valgrind: a success and a refusal, with the memory checks on.
        if self.wrap:
            self.login_ok("valgrind: login", good, [],
                          ["-p", "{port}", "-c", "{ca}", "my-cluster"], wrap=self.wrap)
            self.login_fails("valgrind: refused", good, ["--mode", "reject"],
                             ["-p", "{port}", "-c", "{ca}", "my-cluster"],
                             ["server error: FATAL 28000"], wrap=self.wrap)

        self.browser_logins()

        if self.driver_python:
            self.compare_with_driver()

        print("%d passed, %d failed" % (self.r.passed, self.r.failed))
        sys.stdout.flush()
        return 0 if self.r.failed == 0 and self.r.passed > 0 else 1

    def browser_env(self, log):
        """The example's environment for a sign-in that play_browser.py plays."""
        return {"RS_IDC_OPEN_WITH": "%s %s" % (shlex.quote(sys.executable),
                                               shlex.quote(PLAYER)),
                "PLAY_BROWSER_LOG": log}

    def browser_login_ok(self, case, port, server_args, example_args, wrap=()):
        """A browser sign-in and login that must succeed: one sign-in at the
        fake, browser-user's access token in the 'i' message, the page shown."""
        c = self.r.check
        log = os.path.join(self.certs.directory, "browser-%s.log" % port)
        before = {name: fake_stat(name)
                  for name in (names().OP_REGISTER_CLIENT, names().OP_AUTHORIZE, names().OP_CODE)}
        res, out, _ = self.login_ok(case, self.certs.good, ["--access-token", *server_args],
                                    ["-h", "localhost", "-p", "{port}", "-c", "{ca}",
                                     "-b", ISSUER, "-l", str(port), *example_args],
                                    self.browser_env(log), wrap=wrap, redshift_tokens=0)
        startup = res.get("startup", {})
        for key, want in (("plugin_name", "BrowserIdcAuthPlugin"), ("idp_type", "AwsIdc"),
                          ("token_type", "ACCESS_TOKEN")):
            c(case, "startup %s=%s" % (key, want), startup.get(key) == want,
              repr(startup.get(key)))
        c(case, "the server got browser-user's access token",
          res.get("token_subject") == "browser-user", repr(res.get("token_subject")))
        for name, was in before.items():
            c(case, "one %s at the fake" % name,
              fake_stat(name) == was + 1, name)
        c(case, "says it signs in through the browser",
          "signing in through the browser (opened with RS_IDC_OPEN_WITH)" in out
          and "signed in" in out.splitlines(), out.strip())
        try:
            with open(log) as f:
                played = [json.loads(line) for line in f if line.strip()]
        except (OSError, ValueError):
            played = []
        c(case, "the browser was opened once", len(played) == 1, played)
        if played:
            c(case, "the fake redirected the browser (302)",
              played[0].get("authorize_status") == 302, played[0])
            c(case, "the browser saw 'You may close this window'",
              played[0].get("page_status") == 200 and played[0].get("closable") is True,
              played[0])
        return res

    def browser_logins(self):
        """The browser sign-in (-b): logins, failures and usage."""
        c = self.r.check
        res = self.browser_login_ok("browser sign-in", 27941, ["--expect-user", ""], [])
        startup = res.get("startup", {})
        c("browser sign-in", "no identity_namespace or idc_client_display_name without -n, -N",
          "identity_namespace" not in startup and "idc_client_display_name" not in startup)

        self.browser_login_ok("browser sign-in, namespace and display name", 27942,
                              ["--expect-namespace", NAMESPACE,
                               "--expect-display-name", DISPLAY_NAME],
                              ["-n", NAMESPACE, "-N", DISPLAY_NAME, "-r", "us-east-1",
                               "-w", "30"])

        # Nobody signs in, or no browser opens: no connection is made.
        for case, opener, args, parts in (
                ("browser: nobody signs in", "true", ["-w", "1"],
                 ["RS_IDC_ETIMEOUT", "idp_response_timeout_s"]),
                ("browser: the opener fails", "false", [],
                 ["RS_IDC_EIDENTITY", "RS_IDC_OPEN_WITH ended with status 1"])):
            codes = fake_stat(names().OP_CODE)
            _, _, _, res = self.login_fails(case, self.certs.good,
                                            ["--access-token", "--accept-timeout", "2"],
                                            ["-p", "{port}", "-c", "{ca}", "-b", ISSUER,
                                             "-l", "27943", *args], parts,
                                            env_extra={"RS_IDC_OPEN_WITH": opener})
            c(case, "no connection to the server", res.get("connected") is False)
            c(case, "no code exchanged",
              fake_stat(names().OP_CODE) == codes)

        # Signed in, but the server fails the certificate checks: it gets nothing.
        log = os.path.join(self.certs.directory, "browser-refused.log")
        _, _, _, res = self.login_fails("browser: untrusted server", self.certs.untrusted,
                                        ["--access-token", "--accept-timeout", "10"],
                                        ["-h", "localhost", "-p", "{port}", "-c", "{ca}",
                                         "-b", ISSUER, "-l", "27944"],
                                        ["certificate was refused"],
                                        env_extra=self.browser_env(log))
        c("browser: untrusted server", "no startup message, no token reached the server",
          res.get("protocol") == 0 and res.get("startup") == {} and res.get("token_length") == 0,
          "protocol %s, token_length %s" % (res.get("protocol"), res.get("token_length")))

        # Usage.
        for case, args in (("-b with a cluster", ["-b", ISSUER, "my-cluster"]),
                           ("-l without -b", ["-l", "27945", "my-cluster"]),
                           ("-b without a value", ["-b"])):
            rc, out, err = self.run_example(None, args)
            c(case, "exit status 2 with usage", rc == 2 and "usage:" in err,
              "status %s" % rc)

        if self.wrap:
            self.browser_login_ok("valgrind: browser sign-in", 27946, [], [], wrap=self.wrap)

    def compare_browser_with_driver(self):
        """The driver's BrowserIdcAuthPlugin and the example's -b against the
        same kind of server, both signing in at the fake: what both send."""
        c = self.r.check
        case = "python driver, browser sign-in"
        log = os.path.join(self.certs.directory, "driver-browser.log")
        server = Server(self.certs.good, "--access-token", "--expect-user", "",
                        "--expect-namespace", NAMESPACE, "--expect-display-name", DISPLAY_NAME)
        codes = fake_stat(names().OP_CODE)
        browser = "%s %s --authorize-at-fake %%s" % (shlex.quote(sys.executable),
                                                     shlex.quote(PLAYER))
        rc, out, err = run_program([self.driver_python, DRIVER, "--host", "localhost",
                                    "--port", server.port, "--namespace", NAMESPACE,
                                    "--browser", ISSUER, "--listen-port", "27951",
                                    "--display-name", DISPLAY_NAME],
                                   {"SSL_CERT_FILE": self.certs.ca,
                                    "PYTHONDONTWRITEBYTECODE": "1", "BROWSER": browser,
                                    "PLAY_BROWSER_LOG": log})
        drv = server.finish()
        c(case, "logs in (exit status 0)", rc == 0, "status %s: %s %s"
          % (rc, out.strip(), err.strip()[-2000:]))
        c(case, "signed in at the fake (one code exchanged)",
          fake_stat(names().OP_CODE) == codes + 1)
        c(case, "server saw no problem", drv.get("problems") == [] and not drv.get("io_error"),
          "%s %s" % (drv.get("problems"), drv.get("io_error")))
        c(case, "the server got browser-user's access token",
          drv.get("token_subject") == "browser-user", repr(drv.get("token_subject")))
        self.no_secret(case, out, err, server.output)

        case = "example -b, same options"
        ex = self.browser_login_ok(case, 27952,
                                   ["--expect-namespace", NAMESPACE,
                                    "--expect-display-name", DISPLAY_NAME],
                                   ["-n", NAMESPACE, "-N", DISPLAY_NAME])

        case = "example -b vs driver"
        es, ds = ex.get("startup", {}), drv.get("startup", {})
        note(case, "example startup: %s" % json.dumps(es, sort_keys=True))
        note(case, "driver startup:  %s" % json.dumps(ds, sort_keys=True))
        c(case, "same plugin (%r / %r)" % (es.get("plugin_name"), ds.get("plugin_name")),
          es.get("plugin_name") == "BrowserIdcAuthPlugin"
          and ds.get("plugin_name", "").rsplit(".", 1)[-1] == "BrowserIdcAuthPlugin")
        for key in ("idp_type", "token_type", "identity_namespace", "idc_client_display_name",
                    "database"):
            c(case, "same %s (%r)" % (key, ds.get(key)), key in ds and es.get(key) == ds.get(key),
              "%r / %r" % (es.get(key), ds.get(key)))
        c(case, "no user from either (example: left out, driver: %r)" % ds.get("user"),
          "user" not in es and ds.get("user", "") == "")
        c(case, "the same kind of token in 'i' (%d characters, browser-user's)"
          % drv.get("token_length", 0),
          ex.get("token_subject") == drv.get("token_subject") == "browser-user"
          and ex.get("token_length") == drv.get("token_length"),
          "%s / %s" % (ex.get("token_length"), drv.get("token_length")))

    def run_driver(self, server, *args):
        return run_program([self.driver_python, DRIVER, "--host", "localhost",
                            "--port", server.port, *args],
                           {"SSL_CERT_FILE": self.certs.ca, "PYTHONDONTWRITEBYTECODE": "1"})

    def compare_with_driver(self):
        """The official Python driver against the same server: what both send."""
        c = self.r.check
        case = "python driver"
        server = Server(self.certs.good, "--expect-user", "", "--expect-namespace", NAMESPACE)
        tokens_before = fake_stat(names().COUNTER_TOKENS)
        rc, out, err = self.run_driver(server, "--namespace", NAMESPACE, "my-cluster")
        drv = server.finish()
        c(case, "logs in (exit status 0)", rc == 0, "status %s: %s %s"
          % (rc, out.strip(), err.strip()[-2000:]))
        c(case, "got its token from the fake endpoint", fake_stat(names().COUNTER_TOKENS) == tokens_before + 1)
        c(case, "server saw no problem", drv.get("problems") == [] and not drv.get("io_error"),
          "%s %s" % (drv.get("problems"), drv.get("io_error")))
        c(case, "server got a well-formed token", drv.get("token_ok") is True)
        c(case, "sent Terminate and closed", drv.get("terminated") is True)
        self.no_secret(case, out, err, server.output)

        case = "example, same options"
        ex, _, _ = self.login_ok(case, self.certs.good,
                                 ["--expect-user", "", "--expect-namespace", NAMESPACE],
                                 ["-h", "localhost", "-p", "{port}", "-n", NAMESPACE,
                                  "-c", "{ca}", "my-cluster"])

        case = "example vs driver"
        es, ds = ex.get("startup", {}), drv.get("startup", {})
        note(case, "redshift_connector: %s" % (out.strip() or err.strip()[-300:]))
        note(case, "example startup: %s" % json.dumps(es, sort_keys=True))
        note(case, "driver startup:  %s" % json.dumps(ds, sort_keys=True))
        c(case, "both ask for TLS first and send everything inside it",
          ex.get("ssl_request") and ex.get("tls") and drv.get("ssl_request") and drv.get("tls"))
        c(case, "same SNI (%s)" % drv.get("sni"), ex.get("sni") == drv.get("sni") == "localhost",
          "%s / %s" % (ex.get("sni"), drv.get("sni")))
        c(case, "same protocol version (%s)" % drv.get("protocol"),
          ex.get("protocol") == drv.get("protocol") == 196608,
          "%s / %s" % (ex.get("protocol"), drv.get("protocol")))
        c(case, "same plugin (%r / %r)" % (es.get("plugin_name"), ds.get("plugin_name")),
          es.get("plugin_name") == "IdpTokenAuthPlugin"
          and ds.get("plugin_name", "").rsplit(".", 1)[-1] == "IdpTokenAuthPlugin")
        for key in ("idp_type", "token_type", "identity_namespace", "database"):
            c(case, "same %s (%r)" % (key, ds.get(key)), key in ds and es.get(key) == ds.get(key),
              "%r / %r" % (es.get(key), ds.get(key)))
        c(case, "no user from either (example: left out, driver: %r)" % ds.get("user"),
          "user" not in es and ds.get("user", "") == "")
        c(case, "both send application_name (%r / %r)"
          % (es.get("application_name"), ds.get("application_name")),
          "application_name" in es and "application_name" in ds)
        c(case, "both send client_protocol_version (%s / %s)"
          % (es.get("client_protocol_version"), ds.get("client_protocol_version")),
          es.get("client_protocol_version") in ("0", "1", "2")
          and ds.get("client_protocol_version") in ("0", "1", "2"))
        extra = sorted(set(ds) - set(es))
        note(case, "only the driver sends: %s; only the example sends: %s"
             % (", ".join(extra), ", ".join(sorted(set(es) - set(ds)))))
        c(case, "the same kind of token in 'i' (%d base64 characters, %d bytes)"
          % (drv.get("token_length", 0), drv.get("token_decoded_length", 0)),
          ex.get("token_ok") and drv.get("token_ok")
          and ex.get("token_length") == drv.get("token_length")
          and ex.get("token_decoded_length") == drv.get("token_decoded_length"),
          "%s / %s" % (ex.get("token_length"), drv.get("token_length")))
        c(case, "trailing NUL: the example sends one (as JDBC and ODBC), the driver none",
          ex.get("token_nul") is True and drv.get("token_nul") is False,
          "%s / %s" % (ex.get("token_nul"), drv.get("token_nul")))

        self.compare_browser_with_driver()

        # Both refuse a server that declines TLS or names another host.
        case = "python driver: server declines TLS"
        server = Server(None, "--accept-timeout", "10")
        tokens_before = fake_stat(names().COUNTER_TOKENS)
        rc, out, err = self.run_driver(server, "my-cluster")
        res = server.finish()
        c(case, "refused (exit status 1)", rc == 1, "status %s: %s" % (rc, out.strip()))
        c(case, "says the server refuses SSL", "Server refuses SSL" in out, out.strip())
        c(case, "nothing sent after the 'N'", res.get("declined_then") == 0
          and res.get("protocol") == 0, res.get("declined_then"))
        note(case, "the driver fetched %d token(s) before connecting; the example fetches none"
             % (fake_stat(names().COUNTER_TOKENS) - tokens_before))
        self.no_secret(case, out, err, server.output)

        case = "python driver: wrong host name"
        server = Server(self.certs.wrong_host, "--accept-timeout", "10")
        rc, out, err = self.run_driver(server, "my-cluster")
        res = server.finish()
        c(case, "refused (exit status 1)", rc == 1, "status %s: %s" % (rc, out.strip()))
        c(case, "a certificate error", "certificate" in out.lower(), out.strip())
        c(case, "no startup message, no token reached the server",
          res.get("protocol") == 0 and res.get("token_length") == 0)
        self.no_secret(case, out, err, server.output)


def main():
    parser = argparse.ArgumentParser(description="tests of examples-c/libpq_login.c")
    parser.add_argument("example", help="path of the built libpq_login program")
    parser.add_argument("--valgrind", default="",
                        help="a valgrind command line to run two cases under")
    parser.add_argument("--driver-python", default="",
                        help="a Python with redshift_connector, to compare with")
    args = parser.parse_args()
    if "RS_IDC_FAKE_PORT" not in os.environ:
        print("run under `rs-idc-fake run --` (RS_IDC_FAKE_PORT is not set)", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    with tempfile.TemporaryDirectory(prefix="rs-idc-login-") as directory:
        try:
            certs = Certificates(directory)
        except (OSError, RuntimeError, subprocess.TimeoutExpired) as err:
            print("cannot make the test certificates: %s" % err)
            print("0 passed, 1 failed")
            return 1
        suite = Suite(os.path.abspath(args.example), shlex.split(args.valgrind),
                      args.driver_python, certs)
        return suite.run()


if __name__ == "__main__":
    sys.exit(main())
