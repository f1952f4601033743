#!/usr/bin/env python3
"""A tiny Redshift-like TLS login server for testing examples-c/libpq_login.c
and for recording what the official Python driver sends.

    fake_pg.py [--cert FILE --key FILE] [--mode MODE] [--expect-user U]
               [--expect-database D] [--expect-namespace N]
               [--access-token] [--expect-display-name NAME]
               [--accept-timeout S]

Listens on 127.0.0.1 on a free port, prints `port N` (flushed), accepts one
connection and plays the server side of Redshift's IAM Identity Center
login over the PostgreSQL v3 protocol:

  SSLRequest (Int32 8, Int32 80877103) -> 'S' and a TLS handshake with
  --cert/--key (TLS 1.2 or 1.3), then inside TLS:
  StartupMessage (protocol 3.0; plugin_name=IdpTokenAuthPlugin, bare or
  after a package name, idp_type=AwsIdc, token_type=SUBJECT_TOKEN and the
  expected user, database and identity_namespace) -> 'R' 14 -> the
  client's 'i' message
  (Int32 length, the token, with or without a trailing NUL: both are
  recorded) -> 'R' 0, 'S'..., 'K', 'Z' -> the client's Terminate 'X'.

Without --cert the server answers 'N' to the SSLRequest (it declines TLS)
and records what the client sends after that. A StartupMessage sent
without an SSLRequest is a problem (a token might follow in clear).

With --access-token the login is that of the browser sign-in
(BrowserIdcAuthPlugin): the startup must say plugin_name=BrowserIdcAuthPlugin
and token_type=ACCESS_TOKEN (and idc_client_display_name=NAME with
--expect-display-name, none without), and the token is an IAM Identity
Center access token, which the server hands to the fake endpoint
(RS_IDC_FAKE_PORT, control operation access_token_subject) to learn whose it is
(token_subject).

A startup parameter that is wrong or missing, or a badly framed 'i'
message, gets an ErrorResponse naming the problem. The token must be at
least 100 characters of standard base64 (what the fake Redshift endpoint
hands out), or with --access-token an access token the fake endpoint
names a user for; it is never printed, only its length.

MODE:
  ok        the login above
  chunked   the same, with every byte of every server message sent alone
  reject    ErrorResponse (28000) after the token: a refused token
  password  asks for a cleartext password (code 3) instead of a token
  garbage   answers the startup with a message of an unknown type
  close     closes the connection after the startup

At the end it prints one JSON line:
  connected, ssl_request (the client asked for TLS first), tls (the
  handshake completed), tls_version, sni (the server name the client
  sent, or null), tls_error (why a handshake failed), declined_then (bytes
  the client sent after an 'N'), protocol (of the StartupMessage, 0 if
  none), startup (the parameters), problems (empty when everything the
  client sent was right), token_length (without a trailing NUL),
  token_decoded_length, token_nul (the 'i' message ended with a NUL),
  token_ok, token_subject (with --access-token: the user the fake endpoint
  names for the token, or null), sent_after_request (message types the
  client sent after a password request or an unknown message), terminated
  and io_error (a connection that broke off, e.g. the client hung up).
  Exit status 0.
"""

import argparse
import base64
import binascii
import json
import os
import re
import socket
import ssl
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from fake_control import control, names  # noqa: E402

PROTOCOL_3_0 = 196608
SSL_REQUEST = 80877103
IO_TIMEOUT = 30
REQUIRED = {
    "plugin_name": "IdpTokenAuthPlugin",
    "idp_type": "AwsIdc",
    "token_type": "SUBJECT_TOKEN",
}
REQUIRED_BROWSER = {
    "plugin_name": "BrowserIdcAuthPlugin",
    "idp_type": "AwsIdc",
    "token_type": "ACCESS_TOKEN",
}
BASE64 = re.compile(rb"^[A-Za-z0-9+/]+={0,2}$")


class Closed(Exception):
    pass


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise Closed("the client closed the connection")
        data += chunk
    return data


def message(kind, body=b""):
    return kind + struct.pack("!i", 4 + len(body)) + body


def error_response(text, code="28000"):
    fields = b"SFATAL\0VFATAL\0C" + code.encode() + b"\0M" + text.encode() + b"\0\0"
    return message(b"E", fields)


def access_token_subject(token):
    """The user the fake endpoint issued access token `token` to, or None.
    Asked on loopback only, never through a proxy."""
    try:
        status, answer = control(names().CONTROL_ACCESS_TOKEN_SUBJECT,
                                 token=token.decode("ascii", "replace"))
    except (OSError, KeyError, ValueError):
        return None
    return answer.get("subject") if status == 200 else None


class Session:
    def __init__(self, conn, chunked, access_token=False):
        self.conn = conn
        self.chunked = chunked
        self.access_token = access_token

    def send(self, data):
        if not self.chunked:
            self.conn.sendall(data)
            return
        for i in range(len(data)):
            self.conn.sendall(data[i:i + 1])
            time.sleep(0.0005)

    def read_packet(self, result):
        """One length-prefixed packet without a type byte (SSLRequest, startup)."""
        (length,) = struct.unpack("!i", recv_exact(self.conn, 4))
        if length < 8 or length > 10000:
            result["problems"].append("startup length %d" % length)
            return None, b""
        body = recv_exact(self.conn, length - 4)
        (protocol,) = struct.unpack("!i", body[:4])
        return protocol, body[4:]

    def negotiate(self, result, context):
        """The SSLRequest and the handshake. Returns the first packet inside
        TLS as (protocol, rest), or None when the session is over."""
        protocol, rest = self.read_packet(result)
        if protocol is None:
            return None
        if protocol != SSL_REQUEST:
            result["problems"].append("startup sent without TLS (no SSLRequest)")
            result["protocol"] = protocol
            return None
        result["ssl_request"] = True
        if context is None:
            self.conn.sendall(b"N")
            self.drain_raw(result)
            return None
        self.conn.sendall(b"S")
        try:
            self.conn = context.wrap_socket(self.conn, server_side=True)
        except (ssl.SSLError, OSError) as err:
            result["tls_error"] = str(err)
            return None
        result["tls"] = True
        result["tls_version"] = self.conn.version()
        return self.read_packet(result)

    def drain_raw(self, result):
        """After an 'N': counts the bytes the client sends until it closes."""
        self.conn.settimeout(5)
        try:
            while True:
                chunk = self.conn.recv(4096)
                if not chunk:
                    return
                result["declined_then"] += len(chunk)
        except OSError:
            pass

    def read_startup(self, result, context):
        first = self.negotiate(result, context)
        if first is None:
            return None
        protocol, rest = first
        if protocol is None:
            return None
        result["protocol"] = protocol
        if protocol != PROTOCOL_3_0:
            result["problems"].append("protocol %d, expected %d" % (protocol, PROTOCOL_3_0))
            return None
        if not rest.endswith(b"\0"):
            result["problems"].append("startup packet does not end with NUL")
            return None
        parts = rest[:-1].split(b"\0")
        if parts and parts[-1] == b"":
            parts = parts[:-1]
        if len(parts) % 2:
            result["problems"].append("startup parameters are not name/value pairs")
            return None
        params = {}
        for name, value in zip(parts[::2], parts[1::2]):
            key = name.decode("utf-8", "replace")
            if key in params:
                result["problems"].append("startup parameter %s given twice" % key)
            params[key] = value.decode("utf-8", "replace")
        return params

    def read_token(self, result):
        """Reads the 'i' message; returns True when it is framed right.

        The body is the token, with or without a trailing NUL: the JDBC and
        ODBC drivers send one, the Python driver does not. Which one came
        is recorded in token_nul."""
        head = recv_exact(self.conn, 5)
        kind, length = head[:1], struct.unpack("!i", head[1:])[0]
        if kind != b"i":
            result["problems"].append("expected message 'i', got %r" % kind)
            return False
        if length < 5 or length > 1024 * 1024:
            result["problems"].append("'i' message length %d" % length)
            return False
        body = recv_exact(self.conn, length - 4)
        result["token_nul"] = body.endswith(b"\0")
        token = body[:-1] if result["token_nul"] else body
        result["token_length"] = len(token)
        if b"\0" in token:
            result["problems"].append("a NUL inside the token")
            return False
        if len(token) < 100:
            result["problems"].append("token of %d bytes, expected at least 100" % len(token))
            return False
        if self.access_token:
            result["token_subject"] = access_token_subject(token)
            if not result["token_subject"]:
                result["problems"].append("the fake endpoint names no user for the access token")
                return False
            result["token_ok"] = True
            return True
        if len(token) % 4 or not BASE64.match(token):
            result["problems"].append("the token is not standard base64")
            return False
        try:
            result["token_decoded_length"] = len(base64.b64decode(token, validate=True))
        except (binascii.Error, ValueError):
            result["problems"].append("the token does not decode as base64")
            return False
        result["token_ok"] = True
        return True

    def read_terminate(self, result):
        head = recv_exact(self.conn, 5)
        if head != b"X\0\0\0\x04":
            result["problems"].append("expected Terminate, got %r" % head[:1])
            return
        self.conn.settimeout(5)
        if self.conn.recv(1) != b"":
            result["problems"].append("data after Terminate")
            return
        result["terminated"] = True

    def drain(self, result):
        """Records the message types the client sends until it closes."""
        try:
            while True:
                head = recv_exact(self.conn, 5)
                result["sent_after_request"].append(head[:1].decode("latin-1"))
                (length,) = struct.unpack("!i", head[1:])
                if length < 4 or length > 1024 * 1024:
                    return
                recv_exact(self.conn, length - 4)
        except Closed:
            pass


def check_startup(params, args, result):
    for key, want in (REQUIRED_BROWSER if args.access_token else REQUIRED).items():
        got = params.get(key)
        if key == "plugin_name" and got is not None:
            # The drivers name the plugin with their own package in front
            # (JDBC com.amazon.redshift.plugin., Python
            # redshift_connector.plugin.; ODBC none): the last part counts.
            got = got.rsplit(".", 1)[-1]
        if got != want:
            result["problems"].append("startup %s=%r, expected %r" % (key, params.get(key), want))
    if args.expect_user is not None:
        got = params.get("user")
        if args.expect_user == "":
            # No user: the example leaves the parameter out, the Python
            # driver sends it empty; both mean "take it from the token".
            if got not in (None, ""):
                result["problems"].append("startup user=%r, expected none" % got)
        elif got != args.expect_user:
            result["problems"].append("startup user=%r, expected %r" % (got, args.expect_user))
    if params.get("database") != args.expect_database:
        result["problems"].append("startup database=%r, expected %r"
                                  % (params.get("database"), args.expect_database))
    if params.get("identity_namespace") != args.expect_namespace:
        result["problems"].append("startup identity_namespace=%r, expected %r"
                                  % (params.get("identity_namespace"), args.expect_namespace))
    if params.get("idc_client_display_name") != args.expect_display_name:
        result["problems"].append("startup idc_client_display_name=%r, expected %r"
                                  % (params.get("idc_client_display_name"),
                                     args.expect_display_name))


def serve(conn, args, context, result):
    session = Session(conn, args.mode == "chunked", args.access_token)
    try:
        params = session.read_startup(result, context)
        if params is None:
            if result["problems"]:
                session.send(error_response("; ".join(result["problems"]), "08P01"))
            return
        result["startup"] = params
        check_startup(params, args, result)
        if result["problems"]:
            session.send(error_response("; ".join(result["problems"]), "08P01"))
            return
        if args.mode == "close":
            return
        if args.mode == "garbage":
            session.send(message(b"?", b"\0\0\0\0"))
            session.drain(result)
            return
        if args.mode == "password":
            session.send(message(b"R", struct.pack("!i", 3)))
            session.drain(result)
            return

        session.send(message(b"R", struct.pack("!i", 14)))
        if not session.read_token(result):
            session.send(error_response("; ".join(result["problems"]), "08P01"))
            return
        if args.mode == "reject":
            session.send(error_response("IdP token authentication failed for the test user"))
            return
        session.send(
            message(b"R", struct.pack("!i", 0))
            + message(b"S", b"server_version\x008.0.2\0")
            + message(b"S", b"client_encoding\0UTF8\0")
            + message(b"S", b"server_encoding\0UTF8\0")
            + message(b"K", struct.pack("!ii", 4242, 123456789))
            + message(b"Z", b"I")
        )
        session.read_terminate(result)
    finally:
        session.conn.close()


def tls_context(args, result):
    if args.cert is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(args.cert, args.key)

    def record_sni(_sock, name, _ctx):
        result["sni"] = name

    context.sni_callback = record_sni
    return context


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cert", help="server certificate (PEM); without it TLS is declined")
    parser.add_argument("--key", help="the certificate's private key (PEM)")
    parser.add_argument("--mode", default="ok",
                        choices=["ok", "chunked", "reject", "password", "garbage", "close"])
    parser.add_argument("--expect-user", default=None,
                        help="the user the client must send ('' for none)")
    parser.add_argument("--expect-database", default="dev")
    parser.add_argument("--expect-namespace", default=None,
                        help="the identity_namespace the client must send (default: none)")
    parser.add_argument("--access-token", action="store_true",
                        help="expect the browser sign-in's login (BrowserIdcAuthPlugin, "
                             "token_type=ACCESS_TOKEN, an access token of the fake endpoint)")
    parser.add_argument("--expect-display-name", default=None,
                        help="the idc_client_display_name the client must send (default: none)")
    parser.add_argument("--accept-timeout", type=float, default=IO_TIMEOUT)
    args = parser.parse_args()
    if (args.cert is None) != (args.key is None):
        parser.error("--cert and --key go together")

    result = {"connected": False, "ssl_request": False, "tls": False, "tls_version": None,
              "sni": None, "tls_error": "", "declined_then": 0, "protocol": 0, "startup": {},
              "problems": [], "token_length": 0, "token_decoded_length": 0, "token_nul": None,
              "token_ok": False, "token_subject": None, "sent_after_request": [], "terminated": False, "io_error": ""}
    context = tls_context(args, result)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(args.accept_timeout)
    print("port %d" % listener.getsockname()[1], flush=True)

    try:
        conn, _ = listener.accept()
    except socket.timeout:
        conn = None
    listener.close()
    if conn is not None:
        result["connected"] = True
        conn.settimeout(IO_TIMEOUT)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            serve(conn, args, context, result)
        except (Closed, OSError) as err:
            result["io_error"] = str(err)
    print(json.dumps(result, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
