#!/usr/bin/env python3
"""Logs in with the official Python driver, redshift_connector, the way a
new user would with identity-enhanced credentials, for test_login.py.

    driver_login.py --host H --port P [--sslmode M] [--database D]
                    [--namespace N] CLUSTER_ID
    driver_login.py --host H --port P [...] --browser ISSUER_URL
                    --listen-port P [--display-name NAME]

Runs with the project venv's Python (redshift_connector from PyPI) under
`rs-idc-fake run --`: the driver gets its token from the fake endpoint
only. It takes the credentials from AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (the fake's identity-enhanced
test keys), the region from AWS_REGION, and is pointed at the fake with
its endpoint_url option (AWS_ENDPOINT_URL, which must be a loopback
http:// URL). `credentials_provider="IdpTokenAuthPlugin"` with those three
keys is the driver's identity-enhanced flow (redshift_connector 2.2.0,
plugin/idp_token_auth_plugin.py, IdpTokenAuthPlugin._get_subject_token:
GetIdentityCenterAuthToken through boto3 with endpoint_url).

Trust: redshift_connector 2.2.0 has no option for a root certificate.
core.py Connection.__init__ makes an SSLContext with CERT_REQUIRED that
loads the default certificates (SSLContext.load_default_certs, which
honours SSL_CERT_FILE) and its own files/redshift-ca-bundle.crt; so the
test CA is given in SSL_CERT_FILE. sslmode is passed explicitly, so with
verify-full OpenSSL checks the host name (check_hostname) and a mismatch
fails the connection.

With --browser it signs in with the driver's BrowserIdcAuthPlugin instead
(redshift_connector 2.2.0, plugin/browser_idc_auth_plugin.py): RegisterClient
and CreateToken go to the fake through boto3 (AWS_ENDPOINT_URL), idc_region
is AWS_REGION, and the browser is the command in the BROWSER variable
(Python's webbrowser module), which test_login.py sets to play_browser.py.

Prints `login ok` or `error: TYPE: MESSAGE`; exit status 0 or 1. It never
prints the token and leaves the driver's logging off.
"""

import argparse
import os
import sys
import urllib.parse


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sslmode", default="verify-full")
    parser.add_argument("--database", default="dev")
    parser.add_argument("--namespace", default=None)
    parser.add_argument("--browser", metavar="ISSUER_URL", default=None)
    parser.add_argument("--listen-port", type=int, default=None)
    parser.add_argument("--display-name", default=None)
    parser.add_argument("cluster_id", nargs="?")
    args = parser.parse_args()
    if (args.browser is None) == (args.cluster_id is None):
        parser.error("give a cluster id or --browser, not both")

    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    parsed = urllib.parse.urlsplit(endpoint)
    if parsed.scheme != "http" or parsed.hostname != "127.0.0.1":
        print("error: AWS_ENDPOINT_URL must be the local fake (http://127.0.0.1:PORT), got %r"
              % endpoint)
        return 1

    import redshift_connector  # the venv's; imported late so a bad setup says why above

    if args.browser is not None:
        plugin = dict(
            credentials_provider="BrowserIdcAuthPlugin",
            issuer_url=args.browser,
            idc_region=os.environ["AWS_REGION"],
            listen_port=args.listen_port,
            idp_response_timeout=30,
            idc_client_display_name=args.display_name,
        )
    else:
        plugin = dict(
            credentials_provider="IdpTokenAuthPlugin",
            access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
            secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
            session_token=os.environ["AWS_SESSION_TOKEN"],
            cluster_identifier=args.cluster_id,
            region=os.environ["AWS_REGION"],
            endpoint_url=endpoint,
        )
    try:
        conn = redshift_connector.connect(
            host=args.host,
            port=args.port,
            database=args.database,
            sslmode=args.sslmode,
            identity_namespace=args.namespace,
            timeout=30,
            **plugin,
        )
    except Exception as err:  # the driver's errors and the ssl module's
        print("error: %s: %s" % (type(err).__name__, err))
        return 1
    conn.close()
    print("login ok (redshift_connector %s)" % redshift_connector.__version__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
