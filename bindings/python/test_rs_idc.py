#!/usr/bin/env python3
"""Tests of the rs_idc Python binding against the local fake endpoint.

Run under the fake, with the library's path in RS_IDC_LIBRARY:

    RS_IDC_LIBRARY=$PWD/target/release/librs_idc.so \\
        target/release/rs-idc-fake run -- python3 bindings/python/test_rs_idc.py

`rs-idc-fake run` puts the fake's address (127.0.0.1 only) and the test
credentials in the environment; per-user tests get web tokens, and the
user a token was issued to, from its control endpoint on 127.0.0.1. Tokens
and web tokens are never printed: only lengths and subjects.
The last line is `N passed, M failed`; the exit status is 0 only when
nothing failed and at least one test passed.
"""

import os
import re
import sys
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests"))

import rs_idc  # noqa: E402
from fake_control import control, names  # noqa: E402

HOST = "my-cluster.abc123xyz789.us-east-1.redshift.amazonaws.com"
SERVERLESS_HOST = "my-wg.123456789012.us-east-1.redshift-serverless.amazonaws.com"


def fake_options(**extra):
    """Client options naming the fake and the identity-enhanced test keys."""
    options = {
        "region": "us-east-1",
        "endpoint_url": os.environ["AWS_ENDPOINT_URL"],
        "access_key_id": os.environ["RS_IDC_TEST_IDC_ACCESS_KEY_ID"],
        "secret_access_key": os.environ["RS_IDC_TEST_IDC_SECRET_ACCESS_KEY"],
        "session_token": os.environ["RS_IDC_TEST_IDC_SESSION_TOKEN"],
        "timeout_ms": 20000,
    }
    options.update(extra)
    return options


def user_options(**extra):
    """Client options for per-user tokens: the fake's application and access
    role, signed by the plain application credentials (no session token)."""
    options = {
        "region": "us-east-1",
        "endpoint_url": os.environ["AWS_ENDPOINT_URL"],
        "access_key_id": os.environ["RS_IDC_TEST_PLAIN_ACCESS_KEY_ID"],
        "secret_access_key": os.environ["RS_IDC_TEST_PLAIN_SECRET_ACCESS_KEY"],
        "idc_application_arn": os.environ["RS_IDC_TEST_APPLICATION_ARN"],
        "access_role_arn": os.environ["RS_IDC_TEST_ACCESS_ROLE_ARN"],
        "timeout_ms": 20000,
    }
    options.update(extra)
    return options


# The fake's control endpoint, always on loopback; no proxy is ever used.
_control = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _control_url(path):
    base = os.environ["RS_IDC_FAKE_URL"]
    if not base.startswith("http://127.0.0.1:"):
        raise AssertionError("the fake is not on 127.0.0.1: %r" % base)
    return base + path


def web_token(subject, ttl, wrong_key=False):
    """A web token (JWT) for `subject` from the fake, expiring in `ttl` s."""
    status, answer = control(names().CONTROL_WEB_TOKEN, sub=subject, ttl=ttl,
                             wrong_key=wrong_key)
    if status != 200:
        raise AssertionError("the fake made no web token (HTTP %d)" % status)
    return answer["token"]


def _subject(op, token):
    """What the fake's control operation `op` says of `token`: whom it was
    issued to, or None when it names no one."""
    status, answer = control(op, token=token.value)
    if status not in (200, 404):
        raise AssertionError("the fake answered %d" % status)
    return answer.get("subject")


def subject_of(token):
    """The user the fake issued `token` to, or None for a token of no user."""
    return _subject(names().CONTROL_TOKEN_SUBJECT, token)


def access_token_subject(token):
    """The person the fake's sign-in issued access token `token` to, or None."""
    return _subject(names().CONTROL_ACCESS_TOKEN_SUBJECT, token)


def visit(url):
    """The person opens `url` (a page of the fake's, on 127.0.0.1)."""
    if not url.startswith("http://127.0.0.1:"):
        raise AssertionError("not a loopback URL")
    with _control.open(url, timeout=10) as answer:
        answer.read()


class TokenChecks(unittest.TestCase):
    # Token values are compared with assertTrue/assertFalse only, so that a
    # failure message never quotes a token.
    def assertGoodToken(self, token):
        self.assertIsInstance(token, rs_idc.Token)
        self.assertIsInstance(token.value, str)
        self.assertGreaterEqual(len(token.value), 100, "token length")
        self.assertIsInstance(token.expires_at, int)
        self.assertGreater(token.expires_at, int(time.time()), "expiry lies in the future")

    def assertFails(self, status, call, *args, message_part=None):
        with self.assertRaises(rs_idc.RsIdcError) as caught:
            call(*args)
        err = caught.exception
        self.assertEqual(err.status, status, str(err))
        self.assertEqual(err.name, rs_idc.status_str(status))
        self.assertTrue(err.message, "the error carries the library's message")
        if message_part is not None:
            self.assertIn(message_part, err.message)
        return err


class TestLibrary(unittest.TestCase):
    def test_environment_is_the_fake(self):
        url = os.environ.get("AWS_ENDPOINT_URL", "")
        self.assertTrue(url.startswith("http://127.0.0.1:"),
                        "run under `rs-idc-fake run --` (AWS_ENDPOINT_URL=%r)" % url)

    def test_version(self):
        self.assertRegex(rs_idc.version(), r"^\d+\.\d+\.\d+")

    def test_status_names(self):
        self.assertEqual(rs_idc.status_str(rs_idc.RS_IDC_OK), "RS_IDC_OK")
        self.assertEqual(rs_idc.RS_IDC_EIDENTITY, -14)
        self.assertEqual(rs_idc.status_str(rs_idc.RS_IDC_EIDENTITY), "RS_IDC_EIDENTITY")
        for name in rs_idc.__all__:
            if name.startswith("RS_IDC_E"):
                self.assertEqual(rs_idc.status_str(getattr(rs_idc, name)), name)
        self.assertEqual(rs_idc.status_str(-5), "RS_IDC_ENOTFOUND")
        self.assertEqual(rs_idc.status_str(-1), "RS_IDC_EINVAL")
        self.assertEqual(rs_idc.status_str(12345), "RS_IDC_UNKNOWN")

    def test_every_header_function_is_declared(self):
        header = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "..", "..", "include", "rs_idc.h")
        with open(header, encoding="utf-8") as f:
            names = set(re.findall(r"\b(rs_idc_[a-z_]+)\s*\(", f.read()))
        self.assertTrue(names, "the header declares functions")
        for name in sorted(names):
            fn = getattr(rs_idc._lib, name)
            self.assertIsNotNone(fn.argtypes, "%s has argtypes" % name)


class TestForget(TokenChecks):
    def test_a_forgotten_token_is_fetched_anew(self):
        with rs_idc.Client({"region": "us-east-1"}) as client:
            refused = client.get_token(["forget-me"])
            self.assertTrue(client.get_token(["forget-me"]).value == refused.value)
            rs_idc.forget_token(refused)
            fresh = client.get_token(["forget-me"])
            self.assertGoodToken(fresh)
            self.assertTrue(fresh.value != refused.value, "a new token")
            rs_idc.forget_token("not a token anyone has")
            self.assertTrue(client.get_token(["forget-me"]).value == fresh.value)
            self.assertRaises(TypeError, rs_idc.forget_token, 42)

    def test_browser_sign_in_needs_an_issuer(self):
        with rs_idc.Client({"region": "us-east-1"}) as client:
            with self.assertRaises(rs_idc.RsIdcError) as caught:
                client.get_browser_token()
            self.assertEqual(caught.exception.status, rs_idc.RS_IDC_EINVAL)
            self.assertIn("issuer_url", str(caught.exception))


class TestDeviceCode(TokenChecks):
    """The device-code sign-in: the test is the person, who opens the URL
    the callback is given; the fake approves the sign-in when its page is
    visited (and refuses it with deny=1)."""

    def tearDown(self):
        rs_idc.set_device_code_callback(None)

    def client(self, issuer):
        return rs_idc.Client({
            "region": "us-east-1",
            "issuer_url": "https://identitycenter.amazonaws.com/" + issuer,
            "idp_response_timeout_s": 20,
        })

    def test_a_confirmed_code_gives_a_kept_access_token(self):
        shown = []

        def person(url, code):
            shown.append(code)
            self.assertIn(code, url)
            visit(url)

        rs_idc.set_device_code_callback(person)
        with self.client("ssoins-py-device") as client:
            token = client.get_device_token()
            self.assertIsInstance(token.expires_at, int)
            self.assertGreater(token.expires_at, int(time.time()))
            self.assertIsNotNone(access_token_subject(token), "an access token of the fake's")
            again = client.get_device_token()
            self.assertTrue(again.value == token.value, "the kept token")
        self.assertEqual(len(shown), 1, "one code shown")

    def test_a_refused_code_raises_the_identity_error(self):
        shown = []

        def person(url, code):
            shown.append(code)
            visit(url + "&deny=1")

        rs_idc.set_device_code_callback(person)
        with self.client("ssoins-py-denied") as client:
            err = self.assertFails(rs_idc.RS_IDC_EIDENTITY, client.get_device_token,
                                   message_part="refused")
        self.assertEqual(len(shown), 1)
        self.assertNotIn(shown[0], err.message, "the code stays out of messages")

    def test_a_callback_that_raises_fails_the_sign_in(self):
        def broken(url, code):
            raise RuntimeError("no screen")

        rs_idc.set_device_code_callback(broken)
        with self.client("ssoins-py-broken") as client:
            self.assertFails(rs_idc.RS_IDC_EIDENTITY, client.get_device_token,
                             message_part="could not be shown")
        self.assertRaises(TypeError, rs_idc.set_device_code_callback, 42)


class TestDefaultClient(TokenChecks):
    def test_get_token(self):
        self.assertGoodToken(rs_idc.get_token(["my-cluster"]))

    def test_single_string_and_several_ids(self):
        self.assertGoodToken(rs_idc.get_token("my-cluster"))
        self.assertGoodToken(rs_idc.get_token(["cluster-a", "cluster-b", "cluster-c"]))

    def test_cached_token_ignores_case_and_order(self):
        first = rs_idc.get_token(["py-cache-a", "py-cache-b"])
        second = rs_idc.get_token(["PY-CACHE-B", "py-cache-a"])
        self.assertTrue(first.value == second.value, "the cache serves the same token")
        self.assertEqual(first.expires_at, second.expires_at)

    def test_cache_clear_gives_a_new_token(self):
        first = rs_idc.get_token(["py-cache-clear"])
        rs_idc.cache_clear()
        second = rs_idc.get_token(["py-cache-clear"])
        self.assertTrue(first.value != second.value, "a cleared cache asks again")

    def test_not_found(self):
        err = self.assertFails(rs_idc.RS_IDC_ENOTFOUND, rs_idc.get_token, ["err-notfound"],
                               message_part="ClusterNotFound")
        self.assertEqual(err.status, -5)
        self.assertEqual(err.name, "RS_IDC_ENOTFOUND")

    def test_other_service_errors(self):
        self.assertFails(rs_idc.RS_IDC_ESTATE, rs_idc.get_token, ["err-state"])
        self.assertFails(rs_idc.RS_IDC_EDENIED, rs_idc.get_token, ["err-denied"])
        self.assertFails(rs_idc.RS_IDC_EUNSUPPORTED, rs_idc.get_token, ["err-unsupported"])

    def test_invalid_identifiers(self):
        for bad in ("1cluster", "bad--id", "ends-", "", "a" * 64, "under_score"):
            with self.subTest(identifier=bad):
                err = self.assertFails(rs_idc.RS_IDC_EINVAL, rs_idc.get_token, [bad])
                self.assertEqual(err.status, -1)

    def test_identifier_count(self):
        self.assertFails(rs_idc.RS_IDC_EINVAL, rs_idc.get_token, [])
        self.assertFails(rs_idc.RS_IDC_EINVAL, rs_idc.get_token,
                         ["c%d" % i for i in range(21)])
        self.assertGoodToken(rs_idc.get_token(["c%d" % i for i in range(20)]))

    def test_python_type_errors(self):
        with self.assertRaises(TypeError):
            rs_idc.get_token([42])
        with self.assertRaises(ValueError):
            rs_idc.get_token(["my\0cluster"])


class TestClient(TokenChecks):
    def test_cluster_serverless_and_host(self):
        with rs_idc.Client(fake_options()) as client:
            self.assertGoodToken(client.get_token(["my-cluster"]))
            self.assertGoodToken(client.get_serverless_token(["my-workgroup"]))
            self.assertGoodToken(client.get_token_for_host(HOST))
            self.assertGoodToken(client.get_token_for_host(SERVERLESS_HOST))

    def test_no_options_uses_the_environment(self):
        with rs_idc.Client() as client:
            self.assertGoodToken(client.get_token("my-cluster"))
        with rs_idc.Client({}) as client:
            self.assertGoodToken(client.get_serverless_token("my-workgroup"))

    def test_option_types(self):
        with rs_idc.Client(fake_options(cache=False, max_attempts=2)) as client:
            first = client.get_token(["py-nocache"])
            second = client.get_token(["py-nocache"])
            self.assertGoodToken(first)
            self.assertTrue(first.value != second.value, "cache=off asks every time")

    def test_errors(self):
        with rs_idc.Client(fake_options()) as client:
            self.assertFails(rs_idc.RS_IDC_ENOTFOUND, client.get_token, ["err-notfound"])
            self.assertFails(rs_idc.RS_IDC_ENOTFOUND, client.get_serverless_token,
                             ["err-notfound"])
            self.assertFails(rs_idc.RS_IDC_EINVAL, client.get_token, ["-bad"])
            self.assertFails(rs_idc.RS_IDC_EINVAL, client.get_serverless_token, ["ab"])
            self.assertFails(rs_idc.RS_IDC_EINVAL, client.get_serverless_token, ["Upper-Case"])
            self.assertFails(rs_idc.RS_IDC_EINVAL, client.get_token_for_host, "10.1.2.3")
            self.assertFails(rs_idc.RS_IDC_EINVAL, client.get_token_for_host, "127.0.0.1")

    def test_unknown_option_names_the_key(self):
        err = self.assertFails(rs_idc.RS_IDC_EINVAL, rs_idc.Client,
                               {"no_such_setting": "x"}, message_part="no_such_setting")
        self.assertEqual(err.status, -1)

    def test_bad_value_names_the_key(self):
        self.assertFails(rs_idc.RS_IDC_EINVAL, rs_idc.Client, {"timeout_ms": "soon"},
                         message_part="timeout_ms")
        self.assertFails(rs_idc.RS_IDC_EINVAL, rs_idc.Client, {"max_attempts": 0},
                         message_part="max_attempts")

    def test_partial_credentials_refused(self):
        options = fake_options()
        del options["session_token"]
        self.assertFails(rs_idc.RS_IDC_EINVAL, rs_idc.Client, options)

    def test_wrong_session_token_is_denied(self):
        with rs_idc.Client(fake_options(session_token="not-the-session-token",
                                        cache=False)) as client:
            self.assertFails(rs_idc.RS_IDC_EDENIED, client.get_token, ["my-cluster"])

    def test_error_text_never_holds_secrets(self):
        secret = os.environ["RS_IDC_TEST_IDC_SECRET_ACCESS_KEY"]
        with self.assertRaises(rs_idc.RsIdcError) as caught:
            rs_idc.Client(fake_options(timeout_ms="not-a-number"))
        for text in (str(caught.exception), repr(caught.exception)):
            self.assertNotIn(secret, text)

    def test_close_twice_and_use_after_close(self):
        client = rs_idc.Client(fake_options())
        self.assertGoodToken(client.get_token(["my-cluster"]))
        self.assertFalse(client.closed)
        client.close()
        client.close()
        self.assertTrue(client.closed)
        self.assertFails(rs_idc.RS_IDC_EINVAL, client.get_token, ["my-cluster"])
        self.assertIn("closed", repr(client))

    def test_context_manager_closes(self):
        with rs_idc.Client(fake_options()) as client:
            self.assertFalse(client.closed)
        self.assertTrue(client.closed)
        client.close()


class TestUserTokens(TokenChecks):
    """Per-user tokens: a user's web token exchanged for that user's token."""

    def assertKeepsSecret(self, err, secret):
        for text in (str(err), repr(err), err.message):
            self.assertFalse(secret in text, "an error shows the web token")

    def test_two_users_get_their_own_tokens(self):
        alice = web_token("py-alice@example.com", 3600)
        bob = web_token("py-bob", 3600)
        with rs_idc.Client(user_options()) as app:
            for_alice = app.get_user_token(alice, ["py-user-cluster"])
            for_bob = app.get_user_token(bob.encode("ascii"), "py-user-cluster")
            self.assertGoodToken(for_alice)
            self.assertGoodToken(for_bob)
            self.assertEqual(subject_of(for_alice), "py-alice@example.com")
            self.assertEqual(subject_of(for_bob), "py-bob")
            self.assertTrue(for_alice.value != for_bob.value, "the users' tokens differ")
            wg = app.get_user_serverless_token(bob, ["py-user-wg", "py-user-wg-2"])
            self.assertGoodToken(wg)
            self.assertEqual(subject_of(wg), "py-bob")
            again = app.get_user_token(alice, ["py-user-cluster"])
            self.assertTrue(again.value == for_alice.value, "a user's token is cached")
        with rs_idc.Client(fake_options()) as own:
            self.assertIsNone(subject_of(own.get_token(["py-user-cluster"])),
                              "the process's own token names no user")

    def test_an_application_role_signs_the_exchange(self):
        role = os.environ["RS_IDC_TEST_APPLICATION_ROLE_ARN"]
        options = user_options(application_role_arn=role, role_session_name="py-test")
        for key in ("access_key_id", "secret_access_key"):
            del options[key]
        with rs_idc.Client(options) as app:
            token = app.get_user_token(web_token("py-carol", 3600), ["py-role-cluster"])
        self.assertGoodToken(token)
        self.assertEqual(subject_of(token), "py-carol")

    def test_expired_web_token(self):
        expired = web_token("py-expired", -60)
        with rs_idc.Client(user_options()) as app:
            err = self.assertFails(rs_idc.RS_IDC_EIDENTITY, app.get_user_token, expired,
                                   ["py-user-cluster"], message_part="expired")
            self.assertEqual(err.name, "RS_IDC_EIDENTITY")
            self.assertKeepsSecret(err, expired)
            self.assertFails(rs_idc.RS_IDC_EIDENTITY, app.get_user_serverless_token,
                             expired.encode("ascii"), ["py-user-wg"])

    def test_malformed_web_token(self):
        with rs_idc.Client(user_options()) as app:
            too_long = "x" * (rs_idc.RS_IDC_MAX_WEB_TOKEN_LEN + 1)
            for bad in ("not-a-jwt", "", "a.b", b"a.b.c.d", too_long):
                with self.subTest(length=len(bad)):
                    self.assertFails(rs_idc.RS_IDC_EINVAL, app.get_user_token, bad,
                                     ["py-user-cluster"], message_part="web_token")
            with self.assertRaises(ValueError):
                app.get_user_token("a.b\0.c", ["py-user-cluster"])
            with self.assertRaises(TypeError):
                app.get_user_token(42, ["py-user-cluster"])
            good = web_token("py-dave", 3600)
            self.assertFails(rs_idc.RS_IDC_EINVAL, app.get_user_token, good, ["bad_id!"])
            self.assertFails(rs_idc.RS_IDC_EINVAL, app.get_user_serverless_token, good, [])

    def test_refused_web_token_and_denied_role(self):
        forged = web_token("py-mallory", 600, wrong_key=True)
        with rs_idc.Client(user_options()) as app:
            err = self.assertFails(rs_idc.RS_IDC_EIDENTITY, app.get_user_token, forged,
                                   ["py-user-cluster"])
            self.assertKeepsSecret(err, forged)
        denied = user_options(access_role_arn=os.environ["RS_IDC_TEST_DENIED_ROLE_ARN"])
        with rs_idc.Client(denied) as app:
            self.assertFails(rs_idc.RS_IDC_EDENIED, app.get_user_token,
                             web_token("py-erin", 600), ["py-user-cluster"])

    def test_handle_without_per_user_options(self):
        good = web_token("py-frank", 3600)
        with rs_idc.Client(fake_options()) as client:
            self.assertFails(rs_idc.RS_IDC_EINVAL, client.get_user_token, good,
                             ["py-user-cluster"], message_part="idc_application_arn")
            self.assertFails(rs_idc.RS_IDC_EINVAL, client.get_user_serverless_token, good,
                             ["py-user-wg"], message_part="idc_application_arn")
        self.assertFails(rs_idc.RS_IDC_EINVAL, rs_idc.Client,
                         {"access_role_arn": os.environ["RS_IDC_TEST_ACCESS_ROLE_ARN"]},
                         message_part="idc_application_arn")
        app = rs_idc.Client(user_options())
        app.close()
        self.assertFails(rs_idc.RS_IDC_EINVAL, app.get_user_token, good, ["py-user-cluster"])

    def test_exchange_steps_are_logged_without_the_web_token(self):
        records = []
        lock = threading.Lock()

        def collect(level, message):
            with lock:
                records.append(message)

        secret = web_token("py-gina", 3600)
        rs_idc.set_log_level(rs_idc.RS_IDC_LOG_DEBUG)
        rs_idc.set_log_callback(collect)
        try:
            with rs_idc.Client(user_options()) as app:
                token = app.get_user_token(secret, ["py-log-user"])
        finally:
            rs_idc.set_log_callback(None)
            rs_idc.set_log_level(rs_idc.RS_IDC_LOG_OFF)
        self.assertGoodToken(token)
        with lock:
            seen = list(records)
        steps = [m for m in seen if "per-user exchange:" in m]
        self.assertTrue(any("CreateTokenWithIAM" in m for m in steps), "the grant is logged")
        self.assertTrue(any("AssumeRole" in m for m in steps), "the role is logged")
        for message in seen:
            self.assertFalse(secret in message or token.value in message,
                             "a log record holds the web token or the token")


class TestTokenSecrecy(TokenChecks):
    def test_repr_and_str_hide_the_value(self):
        token = rs_idc.get_token(["my-cluster"])
        self.assertGoodToken(token)
        for shown in (repr(token), str(token), "%s" % token, "%r" % (token,),
                      "{}".format(token), f"{token!r}", repr([token])):
            self.assertFalse(token.value in shown, "the token shows in %d chars" % len(shown))
            self.assertFalse(token.value[:16] in shown, "part of the token shows")
        self.assertIn(str(len(token.value)), repr(token))
        self.assertIn(str(token.expires_at), repr(token))

    def test_every_token_is_freed_once(self):
        real_free = rs_idc._free_token
        freed = []

        def counting_free(ptr):
            freed.append(ptr.value)
            real_free(ptr)

        rs_idc._free_token = counting_free
        try:
            rs_idc.get_token(["py-free-a"])
            with rs_idc.Client(fake_options()) as client:
                client.get_serverless_token(["py-free-wg"])
                client.get_token_for_host(HOST)
                with self.assertRaises(rs_idc.RsIdcError):
                    client.get_token(["err-notfound"])
        finally:
            rs_idc._free_token = real_free
        self.assertEqual(len(freed), 3, "one free per token handed out")
        self.assertTrue(all(freed), "only real pointers are freed")


class TestLogging(TokenChecks):
    def tearDown(self):
        rs_idc.set_log_callback(None)
        rs_idc.set_log_level(rs_idc.RS_IDC_LOG_OFF)

    def test_callback_gets_records_without_secrets(self):
        records = []
        lock = threading.Lock()

        def collect(level, message):
            with lock:
                records.append((level, message))

        rs_idc.set_log_level(rs_idc.RS_IDC_LOG_INFO)
        rs_idc.set_log_callback(collect)
        with rs_idc.Client(fake_options(cache=False)) as client:
            token = client.get_token(["py-log"])
            with self.assertRaises(rs_idc.RsIdcError):
                client.get_token(["err-notfound"])
        self.assertGoodToken(token)
        with lock:
            seen = list(records)
        self.assertTrue(seen, "records reach the callback")
        self.assertTrue(all(rs_idc.RS_IDC_LOG_ERROR <= level <= rs_idc.RS_IDC_LOG_TRACE
                            for level, _ in seen), [level for level, _ in seen])
        self.assertTrue(all(isinstance(message, str) and message for _, message in seen))
        self.assertTrue(any("err-notfound" in message or "ClusterNotFound" in message
                            for _, message in seen), "the failure is logged")
        secrets = (token.value, os.environ["RS_IDC_TEST_IDC_SECRET_ACCESS_KEY"],
                   os.environ["RS_IDC_TEST_IDC_SESSION_TOKEN"])
        for _, message in seen:
            self.assertFalse(any(secret in message for secret in secrets),
                             "a log record holds a secret")

    def test_level_off_and_removed_callback_stop_records(self):
        records = []
        rs_idc.set_log_level(rs_idc.RS_IDC_LOG_OFF)
        rs_idc.set_log_callback(lambda level, message: records.append(level))
        # Fresh identifiers, so every call asks the service (an INFO record).
        with rs_idc.Client(fake_options()) as client:
            self.assertGoodToken(client.get_token(["py-log-off"]))
            self.assertEqual(records, [], "level off: no records")
            rs_idc.set_log_level(rs_idc.RS_IDC_LOG_INFO)
            self.assertGoodToken(client.get_token(["py-log-on"]))
            count = len(records)
            self.assertGreater(count, 0, "level info: records")
            rs_idc.set_log_callback(None)
            rs_idc.set_log_level(rs_idc.RS_IDC_LOG_OFF)
            self.assertGoodToken(client.get_token(["py-log-after"]))
        self.assertEqual(len(records), count, "a removed callback gets nothing")

    def test_raising_callback_does_not_break_calls(self):
        def broken(level, message):
            raise RuntimeError("broken log hook")

        rs_idc.set_log_level(rs_idc.RS_IDC_LOG_DEBUG)
        rs_idc.set_log_callback(broken)
        with rs_idc.Client(fake_options(cache=False)) as client:
            self.assertGoodToken(client.get_token(["py-log-broken"]))

    def test_callback_type_checked(self):
        with self.assertRaises(TypeError):
            rs_idc.set_log_callback("not callable")


class TestThreads(TokenChecks):
    THREADS = 8
    CALLS = 10

    def run_threads(self, work):
        results, errors = [], []
        lock = threading.Lock()

        def body(index):
            try:
                for call in range(self.CALLS):
                    outcome = work(index, call)
                    with lock:
                        results.append(outcome)
            except Exception as err:  # reported below, with the thread's index
                with lock:
                    errors.append("thread %d: %r" % (index, err))

        threads = [threading.Thread(target=body, args=(i,)) for i in range(self.THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertFalse(any(t.is_alive() for t in threads), "threads finished")
        self.assertEqual(errors, [])
        self.assertEqual(len(results), self.THREADS * self.CALLS)
        return results

    def test_default_client_from_threads(self):
        results = self.run_threads(lambda i, c: rs_idc.get_token(["py-threads"]))
        for token in results:
            self.assertGoodToken(token)
        self.assertEqual(len({t.value for t in results}), 1,
                         "concurrent calls for one set share one token")

    def test_shared_client_from_threads(self):
        with rs_idc.Client(fake_options()) as client:
            def work(index, call):
                kind = (index + call) % 3
                if kind == 0:
                    return client.get_token(["py-thread-%d" % index])
                if kind == 1:
                    return client.get_serverless_token(["py-wg-%d" % index])
                return client.get_token_for_host(HOST)
            for token in self.run_threads(work):
                self.assertGoodToken(token)

    def test_errors_stay_on_their_thread(self):
        def work(index, call):
            if index % 2:
                try:
                    rs_idc.get_token(["err-notfound"])
                except rs_idc.RsIdcError as err:
                    return ("error", err.status, "ClusterNotFound" in err.message)
                return ("no error",)
            try:
                rs_idc.get_token(["1-invalid"])
            except rs_idc.RsIdcError as err:
                return ("error", err.status, "ClusterNotFound" not in err.message)
            return ("no error",)

        results = self.run_threads(work)
        statuses = {r[1] for r in results if r[0] == "error"}
        self.assertEqual(len([r for r in results if r[0] == "error"]), len(results))
        self.assertEqual(statuses, {rs_idc.RS_IDC_ENOTFOUND, rs_idc.RS_IDC_EINVAL})
        self.assertTrue(all(r[2] for r in results), "each thread reads its own last error")

    def test_close_waits_for_running_calls(self):
        client = rs_idc.Client(fake_options(cache=False))
        started = threading.Event()
        outcome = []

        def caller():
            started.set()
            try:
                outcome.append(client.get_token(["py-close-race"]))
            except rs_idc.RsIdcError as err:
                outcome.append(err.status)

        t = threading.Thread(target=caller)
        t.start()
        started.wait(10)
        client.close()
        t.join(60)
        self.assertFalse(t.is_alive())
        self.assertEqual(len(outcome), 1)
        # Either the call ran before close() (a token) or after it (closed).
        self.assertTrue(isinstance(outcome[0], rs_idc.Token)
                        or outcome[0] == rs_idc.RS_IDC_EINVAL, repr(outcome[0]))


def main():
    if "RS_IDC_FAKE_PORT" not in os.environ:
        print("run under `rs-idc-fake run --` (RS_IDC_FAKE_PORT is not set)", file=sys.stderr)
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    # A test with several failing subtests counts once.
    bad = result.failures + result.errors + [(t, "") for t in result.unexpectedSuccesses]
    failed = len({getattr(test, "test_case", test).id() for test, _ in bad})
    passed = result.testsRun - failed - len(result.skipped)
    print("%d passed, %d failed" % (passed, failed))
    sys.stdout.flush()
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
