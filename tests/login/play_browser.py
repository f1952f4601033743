#!/usr/bin/env python3
"""A browser for the browser sign-in tests, run as the example's opener:

    RS_IDC_OPEN_WITH="python3 tests/login/play_browser.py" libpq_login -b ...
    BROWSER="python3 tests/login/play_browser.py --authorize-at-fake %s"

It is called with the authorize URL, returns at once (as xdg-open does once
the browser has the page) and, in a child process, does what a browser
would: GET the authorize URL on the fake endpoint without following the
redirect, then GET the redirect's URL on the program's loopback listener.
Only http://127.0.0.1 URLs are followed; anything else ends it.

--authorize-at-fake is for the Python driver, whose authorize URL always
names AWS's SSO-OIDC host (https://oidc.REGION.amazonaws.com/authorize):
the URL's scheme and host are replaced by the fake endpoint's,
http://127.0.0.1:$RS_IDC_FAKE_PORT, before anything is sent, so nothing
goes to AWS. (Python's webbrowser module runs the command of the BROWSER
variable, %s being the URL; BROWSER is split at colons, hence no URL in
it.)

With PLAY_BROWSER_LOG set, the child writes one JSON line to that file:
authorize_status (the fake's answer, 302), page_status (the listener's)
and closable (the page says "You may close this window"). The URLs, the
code and the state are never written or printed.
"""

import http.client
import json
import os
import sys
import urllib.parse


def get(url):
    """(status, Location header, body) of GET url, for http://127.0.0.1 only."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or parts.hostname != "127.0.0.1" or parts.port is None:
        return None, None, b""
    conn = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=10)
    try:
        conn.request("GET", (parts.path or "/") + ("?" + parts.query if parts.query else ""))
        answer = conn.getresponse()
        return answer.status, answer.getheader("Location"), answer.read()
    finally:
        conn.close()


def play(url):
    result = {"authorize_status": None, "page_status": None, "closable": False}
    try:
        result["authorize_status"], location, _ = get(url)
        if location:
            result["page_status"], _, page = get(location)
            result["closable"] = b"You may close this window" in page
    except OSError as err:
        result["error"] = type(err).__name__
    log = os.environ.get("PLAY_BROWSER_LOG")
    if log:
        with open(log, "a") as f:
            f.write(json.dumps(result, sort_keys=True) + "\n")


def authorize_at_fake(url):
    """`url`, an https://oidc.*.amazonaws.com/authorize URL, on the fake instead."""
    parts = urllib.parse.urlsplit(url)
    port = os.environ.get("RS_IDC_FAKE_PORT", "")
    if parts.scheme != "https" or parts.path != "/authorize" or not port.isdigit():
        return ""
    return urllib.parse.urlunsplit(("http", "127.0.0.1:" + port, parts.path, parts.query, ""))


def main():
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "--authorize-at-fake":
        url = authorize_at_fake(args[1])
    elif len(args) == 1:
        url = args[0]
    else:
        print("usage: play_browser.py [--authorize-at-fake] URL", file=sys.stderr)
        return 2
    if os.fork() != 0:
        return 0
    try:
        play(url)
    finally:
        os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
