#!/usr/bin/env python3
"""Checks the rs-idc-fake endpoints against a real client: the AWS CLI.

Usage: check_aws_cli.py PATH/TO/rs-idc-fake

The `aws` executable (from the `awscli` PyPI package) is taken from $AWS_CLI,
else from PATH. The script starts the fake with `rs-idc-fake run`, which runs
this script again inside it with the fake's URL and the test credentials in
the environment; every `aws` command then gets a clean environment that
points only at 127.0.0.1.

Tokens, web tokens (JWTs), refresh tokens, identity contexts, secret keys,
session tokens, client secrets, authorization, device and user codes and PKCE verifiers are
never printed: only their lengths, expiry times and the users they name. The last line is `N passed, M failed`; the exit status
is 0 only when nothing failed.
"""

import base64
import datetime
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import types
import urllib.error
import urllib.parse
import urllib.request

INSIDE_FLAG = "--inside-fake"
TIMEOUT_SECS = 120
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CONTEXT_PROVIDER_ARN = "arn:aws:iam::aws:contextProvider/IdentityCenter"
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
# The run options of the fake for these checks: polls at any pace, and the
# first poll of every device code answered slow_down, so that the CLI sees
# SlowDownException without racing a clock.
FAKE_OPTIONS = ("--device-interval", "0", "--device-slow-downs", "1")
SIGNIN_REDIRECT = "http://127.0.0.1:7890/"
SIGNIN_ISSUER = "https://identitycenter.amazonaws.com/ssoins-1111222233334444"


class Checker:
    """Runs `aws` commands against the fake and tallies the results."""

    def __init__(self, aws, url, home):
        self.aws = aws
        self.url = url
        self.home = home
        self._names = None
        # AWS CLI v1 fetches parameter values that begin with http:// or
        # https:// (redirect and issuer URLs here); this config turns that off.
        self.config = os.path.join(home, "config")
        with open(self.config, "w", encoding="utf-8") as f:
            f.write("[default]\ncli_follow_urlparam = false\n")
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
            "AWS_CONFIG_FILE": self.config,
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

    def aws_json(self, name, args, creds=None):
        """Runs `aws ARGS`; the parsed JSON output, or None (recorded as a failure)."""
        proc = self.aws_call(args, creds or self.idc)
        if proc.returncode != 0:
            if self.missing_command(proc):
                self.record(name, False, "this AWS CLI does not know the command "
                            f"'aws {' '.join(args[:2])}' (awscli too old?)")
            else:
                self.record(name, False, f"exit {proc.returncode}: {self.stderr_tail(proc)}")
            return None
        try:
            return json.loads(proc.stdout)
        except ValueError:
            self.record(name, False, "the output is not JSON")
            return None

    def control(self, op, **members):
        """One request of the fake's control API: (status, JSON answer)."""
        data = json.dumps(dict(op=op, **members)).encode()
        request = urllib.request.Request(self.url + "/_fake/control", data=data, method="POST",
                                         headers={"Content-Type": "application/json"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=10) as resp:
                return resp.status, json.load(resp)
        except urllib.error.HTTPError as e:
            return e.code, json.load(e)

    def names(self):
        """The names the fake shares with its tests, from the fake itself
        (CONTROL_*, COUNTER_*, OP_*)."""
        if self._names is None:
            self._names = types.SimpleNamespace(**self.control("names")[1])
        return self._names

    def web_token(self, sub, ttl=300, **extra):
        """A web token (JWT) from the fake; never printed."""
        status, answer = self.control(self.names().CONTROL_WEB_TOKEN, sub=sub, ttl=ttl, **extra)
        if status != 200:
            raise RuntimeError(f"the fake's web_token answered {status}")
        return answer["token"]

    def token_subject(self, token):
        """The user a Redshift token names (None if it names nobody)."""
        return self.control(self.names().CONTROL_TOKEN_SUBJECT, token=token)[1].get("subject")

    def access_token_subject(self, token):
        """The user a browser sign-in access token names (None if it names nobody)."""
        op = self.names().CONTROL_ACCESS_TOKEN_SUBJECT
        return self.control(op, token=token)[1].get("subject")

    def authorize(self, params):
        """GET /authorize without following the redirect: (status, Location query as a dict)."""
        host, port = urllib.parse.urlsplit(self.url).hostname, urllib.parse.urlsplit(self.url).port
        conn = http.client.HTTPConnection(host, port, timeout=10)
        try:
            conn.request("GET", "/authorize?" + urllib.parse.urlencode(params))
            resp = conn.getresponse()
            resp.read()
            location = resp.getheader("Location") or ""
        finally:
            conn.close()
        query = urllib.parse.urlsplit(location).query
        found = {k: v[0] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}
        return resp.status, location.split("?")[0], found

    def page(self, url):
        """GET a page of the fake by its full URL: (status, body text)."""
        if not url.startswith(self.url + "/"):
            return 0, f"not a page of the fake: {url!r}"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(url, timeout=10) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def stats(self):
        """The fake's counters (a JSON object; per operation under "operations")."""
        status, stats = self.control(self.names().CONTROL_STATS)
        if status != 200:
            raise OSError(f"the fake's stats answered {status}")
        return stats


def redshift(*ids):
    return ["redshift", "get-identity-center-auth-token", "--cluster-ids", *ids]


def serverless(*names):
    return ["redshift-serverless", "get-identity-center-auth-token", "--workgroup-names", *names]


def web_identity(role, token, session="rs-idc-cli"):
    return ["sts", "assume-role-with-web-identity", "--role-arn", role,
            "--role-session-name", session, f"--web-identity-token={token}"]


def jwt_bearer(client_id, assertion):
    return ["sso-oidc", "create-token-with-iam", f"--client-id={client_id}",
            "--grant-type", JWT_BEARER, f"--assertion={assertion}"]


def refresh_grant(client_id, refresh_token):
    return ["sso-oidc", "create-token-with-iam", f"--client-id={client_id}",
            "--grant-type", "refresh_token", f"--refresh-token={refresh_token}"]


def assume_role(role, context=None, provider=CONTEXT_PROVIDER_ARN):
    args = ["sts", "assume-role", "--role-arn", role, "--role-session-name", "rs-idc-cli-user"]
    if context is not None:
        args += ["--provided-contexts", f"ProviderArn={provider},ContextAssertion={context}"]
    return args


def register_client(redirect_uri=SIGNIN_REDIRECT):
    return ["sso-oidc", "register-client", "--client-name", "rs-idc", "--client-type", "public",
            "--scopes", "redshift:connect", "--grant-types", "authorization_code", "refresh_token",
            "--redirect-uris", redirect_uri, "--issuer-url", SIGNIN_ISSUER]


def code_grant(client, code, verifier, redirect_uri=SIGNIN_REDIRECT):
    client_id, secret = client
    return ["sso-oidc", "create-token", f"--client-id={client_id}", f"--client-secret={secret}",
            "--grant-type", "authorization_code", f"--code={code}", "--redirect-uri", redirect_uri,
            f"--code-verifier={verifier}"]


def refresh_token_grant(client, refresh_token):
    client_id, secret = client
    return ["sso-oidc", "create-token", f"--client-id={client_id}", f"--client-secret={secret}",
            "--grant-type", "refresh_token", f"--refresh-token={refresh_token}"]


def register_device_client():
    return ["sso-oidc", "register-client", "--client-name", "rs-idc-device", "--client-type",
            "public", "--scopes", "redshift:connect", "--grant-types", DEVICE_CODE, "refresh_token"]


def start_device(client):
    client_id, secret = client
    return ["sso-oidc", "start-device-authorization", f"--client-id={client_id}",
            f"--client-secret={secret}", "--start-url", "https://rs-idc-test.awsapps.com/start"]


def device_grant(client, device_code):
    client_id, secret = client
    return ["sso-oidc", "create-token", f"--client-id={client_id}", f"--client-secret={secret}",
            "--grant-type", DEVICE_CODE, f"--device-code={device_code}"]


def pkce_pair():
    """A PKCE verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(32)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def describe_domain(name):
    return ["redshift", "describe-custom-domain-associations", "--custom-domain-name", name]


def list_domains(name):
    return ["redshift-serverless", "list-custom-domain-associations", "--custom-domain-name", name]


def minted(name, c, doc):
    """The credentials of an STS answer as (key, secret, token), or None (recorded)."""
    creds = (doc or {}).get("Credentials") or {}
    parts = (creds.get("AccessKeyId"), creds.get("SecretAccessKey"), creds.get("SessionToken"))
    if not all(isinstance(p, str) and p for p in parts) or not parts[0].startswith("ASIA"):
        c.record(name, False, f"no credentials in the output (keys: {sorted(doc or {})})")
        return None
    c.record(name, True, f"credentials {parts[0]}, secret length {len(parts[1])}, "
             f"session token length {len(parts[2])}, expire {creds.get('Expiration')}")
    return parts


def identity_checks(c):
    """Trusted identity propagation: STS and SSO-OIDC with the real CLI."""
    env = os.environ
    app = env["RS_IDC_TEST_APPLICATION_ARN"]
    app_role = env["RS_IDC_TEST_APPLICATION_ROLE_ARN"]
    access_role = env["RS_IDC_TEST_ACCESS_ROLE_ARN"]
    denied_role = env["RS_IDC_TEST_DENIED_ROLE_ARN"]

    jwt = c.web_token("alice@example.com")
    doc = c.aws_json("sts assume-role-with-web-identity", web_identity(app_role, jwt))
    if doc is not None:
        app_creds = minted("sts assume-role-with-web-identity", c, doc)
        sub = doc.get("SubjectFromWebIdentityToken")
        c.record("sts web identity subject", sub == "alice@example.com"
                 and doc.get("Provider") == "https://idp.rs-idc.test",
                 f"subject {sub!r}, provider {doc.get('Provider')!r}")
        if app_creds is not None:
            c.expect_error("redshift with web identity credentials", redshift("my-cluster"),
                           "UnsupportedOperation", creds=app_creds)
    c.expect_error("sts web identity, bad signature",
                   web_identity(app_role, c.web_token("alice", wrong_key=True)), "InvalidIdentityToken")
    c.expect_error("sts web identity, expired", web_identity(app_role, c.web_token("alice", ttl=-60)),
                   "ExpiredTokenException")
    c.expect_error("sts web identity, wrong audience",
                   web_identity(app_role, c.web_token("alice", aud="someone-else")), "IDPRejectedClaim")
    c.expect_error("sts web identity, denied role", web_identity(denied_role, jwt), "AccessDenied")

    doc = c.aws_json("sso-oidc create-token-with-iam jwt-bearer", jwt_bearer(app, jwt))
    context = refresh_token = None
    if doc is not None:
        context = (doc.get("awsAdditionalDetails") or {}).get("identityContext")
        refresh_token = doc.get("refreshToken")
        ok = all(isinstance(doc.get(k), str) and doc.get(k)
                 for k in ("accessToken", "refreshToken", "idToken")) and bool(context)
        c.record("sso-oidc create-token-with-iam jwt-bearer", ok,
                 f"access token length {len(doc.get('accessToken') or '')}, refresh token length "
                 f"{len(refresh_token or '')}, identity context length {len(context or '')}, "
                 f"expires in {doc.get('expiresIn')} s")
    if refresh_token:
        doc = c.aws_json("sso-oidc create-token-with-iam refresh_token",
                         refresh_grant(app, refresh_token))
        if doc is not None:
            new_context = (doc.get("awsAdditionalDetails") or {}).get("identityContext")
            new_refresh = doc.get("refreshToken")
            c.record("sso-oidc create-token-with-iam refresh_token",
                     bool(new_context) and bool(new_refresh) and new_refresh != refresh_token,
                     f"new refresh token length {len(new_refresh or '')}, identity context length "
                     f"{len(new_context or '')}")
    c.expect_error("sso-oidc invalid grant", jwt_bearer(app, c.web_token("alice", wrong_key=True)),
                   "InvalidGrantException")
    c.expect_error("sso-oidc unknown refresh token", refresh_grant(app, "aorAAAAAGnot-issued"),
                   "InvalidGrantException")
    c.expect_error("sso-oidc unauthorized client",
                   jwt_bearer(env["RS_IDC_TEST_UNAUTHORIZED_APPLICATION_ARN"], jwt),
                   "UnauthorizedClientException")
    c.expect_error("sso-oidc unknown client", jwt_bearer(env["RS_IDC_TEST_UNKNOWN_APPLICATION_ARN"], jwt),
                   "InvalidClientException")

    if context:
        doc = c.aws_json("sts assume-role with an identity context", assume_role(access_role, context),
                         creds=c.plain)
        user_creds = minted("sts assume-role with an identity context", c, doc) if doc else None
        if user_creds is not None:
            proc = c.aws_call(redshift("my-cluster"), user_creds)
            token = None
            if proc.returncode == 0:
                try:
                    token = json.loads(proc.stdout).get("Token")
                except ValueError:
                    pass
            subject = c.token_subject(token) if token else None
            c.record("redshift token for the user", subject == "alice@example.com",
                     f"token length {len(token or '')}, names {subject!r}" if proc.returncode == 0
                     else f"exit {proc.returncode}: {c.stderr_tail(proc)}")
        c.expect_error("sts assume-role, context from another provider",
                       assume_role(access_role, context, "arn:aws:iam::aws:contextProvider/Other"),
                       "InvalidParameterValue")
        c.expect_error("sts assume-role, altered context", assume_role(access_role, "x" + context[1:]),
                       "InvalidParameterValue")
    c.expect_error("sts assume-role, denied role", assume_role(denied_role), "AccessDenied")
    c.expect_error("sts assume-role, expired credentials", assume_role(access_role), "ExpiredToken",
                   creds=c.expired)


def signin_checks(c):
    """Browser sign-in: register-client, the authorization endpoint, create-token with PKCE."""
    doc = c.aws_json("sso-oidc register-client", register_client())
    if doc is None:
        return
    client = (doc.get("clientId"), doc.get("clientSecret"))
    issued, expires = doc.get("clientIdIssuedAt"), doc.get("clientSecretExpiresAt")
    ok = all(isinstance(p, str) and p for p in client) and isinstance(issued, int) \
        and isinstance(expires, int) and expires - issued == 7776000
    c.record("sso-oidc register-client", ok, f"client id {client[0]!r}, secret length "
             f"{len(client[1] or '')}, secret valid {expires - issued if ok else '?'} s")
    if not ok:
        return
    c.expect_error("sso-oidc register-client, not a loopback redirect URI",
                   register_client("https://example.com/callback"), "InvalidRedirectUriException")

    def authorize(challenge, state, **extra):
        params = dict(response_type="code", client_id=client[0], redirect_uri=SIGNIN_REDIRECT,
                      state=state, code_challenge=challenge, code_challenge_method="S256",
                      scopes="redshift:connect", **extra)
        return c.authorize(params)

    def new_code(name, challenge, **extra):
        state = secrets.token_urlsafe(16)
        status, target, found = authorize(challenge, state, **extra)
        ok = status == 302 and target == SIGNIN_REDIRECT and found.get("state") == state \
            and bool(found.get("code"))
        c.record(name, ok, f"status {status}, to {target!r}, code length "
                 f"{len(found.get('code') or '')}, state {'kept' if found.get('state') == state else 'lost'}")
        return found.get("code") if ok else None

    verifier, challenge = pkce_pair()
    code = new_code("authorize (browser)", challenge, login_hint="cli-user@example.com")
    refresh_token = None
    if code:
        doc = c.aws_json("sso-oidc create-token authorization_code", code_grant(client, code, verifier))
        if doc is not None:
            access, refresh_token = doc.get("accessToken"), doc.get("refreshToken")
            user = c.access_token_subject(access) if access else None
            ok = bool(access) and bool(refresh_token) and bool(doc.get("idToken")) \
                and doc.get("tokenType") == "Bearer" and doc.get("expiresIn") == 3600 \
                and user == "cli-user@example.com"
            c.record("sso-oidc create-token authorization_code", ok,
                     f"access token length {len(access or '')}, names {user!r}, refresh token "
                     f"length {len(refresh_token or '')}, expires in {doc.get('expiresIn')} s")
        c.expect_error("sso-oidc create-token, reused code", code_grant(client, code, verifier),
                       "InvalidGrantException")
    if refresh_token:
        doc = c.aws_json("sso-oidc create-token refresh_token", refresh_token_grant(client, refresh_token))
        if doc is not None:
            access, new_refresh = doc.get("accessToken"), doc.get("refreshToken")
            user = c.access_token_subject(access) if access else None
            c.record("sso-oidc create-token refresh_token",
                     bool(new_refresh) and new_refresh != refresh_token and user == "cli-user@example.com",
                     f"access token length {len(access or '')}, names {user!r}, new refresh token "
                     f"length {len(new_refresh or '')}")
    code = new_code("authorize, second code", challenge)
    if code:
        c.expect_error("sso-oidc create-token, wrong client secret",
                       code_grant((client[0], "not-the-secret"), code, verifier), "InvalidClientException")
        c.expect_error("sso-oidc create-token, wrong verifier",
                       code_grant(client, code, pkce_pair()[0]), "InvalidGrantException")
    status, target, found = authorize(challenge, "st", deny="1")
    c.record("authorize, denied", status == 302 and target == SIGNIN_REDIRECT
             and found.get("error") == "access_denied" and "code" not in found,
             f"status {status}, error {found.get('error')!r}")
    device_checks(c, client)


def device_checks(c, code_client):
    """Device sign-in: register-client for the device grant, start-device-authorization, the
    verification page, and create-token polls with each of their errors."""
    doc = c.aws_json("sso-oidc register-client (device)", register_device_client())
    if doc is None:
        return
    client = (doc.get("clientId"), doc.get("clientSecret"))
    ok = all(isinstance(p, str) and p for p in client)
    c.record("sso-oidc register-client (device)", ok, f"client id {client[0]!r}, secret length "
             f"{len(client[1] or '')}")
    if not ok:
        return

    def start(name):
        doc = c.aws_json(name, start_device(client))
        if doc is None:
            return None
        user_code, page = doc.get("userCode") or "", doc.get("verificationUri")
        ok = bool(doc.get("deviceCode")) and re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", user_code) \
            and page == c.url + "/device" \
            and doc.get("verificationUriComplete") == f"{page}?user_code={user_code}" \
            and doc.get("expiresIn") == 600 and doc.get("interval") == 0
        c.record(name, bool(ok), f"device code length {len(doc.get('deviceCode') or '')}, "
                 f"user code {len(user_code)} characters, page {page!r}, "
                 f"expires in {doc.get('expiresIn')} s, interval {doc.get('interval')} s")
        return doc if ok else None

    doc = start("sso-oidc start-device-authorization")
    if doc:
        code = doc["deviceCode"]
        c.expect_error("sso-oidc create-token device_code, slow down", device_grant(client, code),
                       "SlowDownException")
        c.expect_error("sso-oidc create-token device_code, pending", device_grant(client, code),
                       "AuthorizationPendingException")
        status, text = c.page(doc["verificationUriComplete"] + "&login_hint=device-user")
        c.record("device verification page", status == 200 and "approved" in text,
                 f"status {status}")
        doc = c.aws_json("sso-oidc create-token device_code", device_grant(client, code))
        if doc is not None:
            access, refresh_token = doc.get("accessToken"), doc.get("refreshToken")
            user = c.access_token_subject(access) if access else None
            ok = bool(refresh_token) and bool(doc.get("idToken")) and doc.get("tokenType") == "Bearer" \
                and doc.get("expiresIn") == 3600 and user == "device-user"
            c.record("sso-oidc create-token device_code", ok,
                     f"access token length {len(access or '')}, names {user!r}, refresh token "
                     f"length {len(refresh_token or '')}, expires in {doc.get('expiresIn')} s")
            if refresh_token:
                doc = c.aws_json("sso-oidc create-token refresh_token (device)",
                                 refresh_token_grant(client, refresh_token))
                user = c.access_token_subject(doc.get("accessToken") or "") if doc else None
                if doc is not None:
                    c.record("sso-oidc create-token refresh_token (device)", user == "device-user",
                             f"names {user!r}")
        c.expect_error("sso-oidc create-token device_code, used code", device_grant(client, code),
                       "InvalidGrantException")
    doc = start("sso-oidc start-device-authorization, to deny")
    if doc:
        code = doc["deviceCode"]
        c.expect_error("sso-oidc create-token device_code, slow down again",
                       device_grant(client, code), "SlowDownException")
        status, text = c.page(doc["verificationUriComplete"] + "&deny=1")
        c.record("device verification page, deny", status == 200 and "denied" in text,
                 f"status {status}")
        c.expect_error("sso-oidc create-token device_code, denied", device_grant(client, code),
                       "AccessDeniedException")
    doc = start("sso-oidc start-device-authorization, to expire")
    if doc:
        status, answer = c.control(c.names().CONTROL_DEVICE, action="expire",
                                   user_code=doc["userCode"])
        c.record("control: expire a device code", status == 200 and answer.get("changed") == 1,
                 f"status {status}, {answer}")
        c.expect_error("sso-oidc create-token device_code, expired",
                       device_grant(client, doc["deviceCode"]), "ExpiredTokenException")
    c.expect_error("sso-oidc start-device-authorization, wrong client secret",
                   start_device((client[0], "not-the-secret")), "InvalidClientException")
    c.expect_error("sso-oidc start-device-authorization, client without the device grant",
                   start_device(code_client), "UnauthorizedClientException")


def associations(doc):
    """(domain name, cluster or workgroup) pairs of either lookup's output; None without a list."""
    if isinstance(doc.get("associations"), list):
        return [(a.get("customDomainName"), a.get("workgroupName")) for a in doc["associations"]]
    if isinstance(doc.get("Associations"), list):
        return [(a.get("CustomDomainName"), a.get("ClusterIdentifier")) for item in doc["Associations"]
                for a in item.get("CertificateAssociations") or []]
    return None


def domain_checks(c):
    """Custom domain names: the cluster (Redshift) or workgroup (Serverless) they stand for."""
    cluster, workgroup, unknown = "analytics.clusters.rs-idc.test", "sales.workgroups.rs-idc.test", "x.test"
    for args, creds, expected in ((describe_domain(cluster), c.plain, [(cluster, "analytics")]),
                                  (list_domains(workgroup), c.idc, [(workgroup, "sales")]),
                                  (list_domains(unknown), c.idc, []), (list_domains(cluster), c.idc, [])):
        name = " ".join(args[:2] + args[-1:])
        doc = c.aws_json(name, args, creds=creds)
        if doc is not None:
            found = associations(doc)
            c.record(name, found == expected, f"associations {found}")
    not_found = "CustomDomainAssociationNotFoundFault"
    for args, code in ((describe_domain(workgroup), not_found), (describe_domain(unknown), not_found),
                       (describe_domain("denied.clusters.rs-idc.test"), "AccessDenied"),
                       (list_domains("denied.workgroups.rs-idc.test"), "AccessDeniedException")):
        c.expect_error(" ".join(args[:2] + args[-1:]), args, code)


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

        identity_checks(c)
        domain_checks(c)
        signin_checks(c)

        try:
            stats = c.stats()
            n = c.names()
            requests, tokens = stats.get(n.COUNTER_REQUESTS, 0), stats.get(n.COUNTER_TOKENS, 0)
            c.record("fake counters", tokens >= 5 and requests >= 20,
                     f"requests {requests}, tokens {tokens}")
            ops = {name: stats[n.COUNTER_OPERATIONS].get(name, 0)
                   for symbol, name in vars(n).items() if symbol.startswith("OP_")}
            c.record("fake operation counters", all(n >= 1 for n in ops.values()),
                     ", ".join(f"{k} {v}" for k, v in ops.items()))
        except (OSError, ValueError) as e:
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
        [fake, "run", *FAKE_OPTIONS, "--", sys.executable, os.path.abspath(__file__), INSIDE_FLAG],
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
