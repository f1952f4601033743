#!/usr/bin/env python3
"""The peer for rs-idc's benchmark: the same call through boto3.

Usage (inside `rs-idc-fake run`, with the venv's python that has boto3):

    boto3_peer.py --calls 300 --new-client-calls 50 --cold-runs 10 --spawn build/bench

* uncached calls: one long-lived `boto3.client("redshift", ...)`, one
  untimed warm-up call, then CALLS timed calls of
  `get_identity_center_auth_token`: median/p99 ms and CPU time per call
  (time.process_time, the whole process).
* new client per call: `boto3.client(...)` created anew for every call, as
  a driver does per connection (NEW_CLIENT_CALLS calls, each timed whole).
* cold start: `build/bench spawn RUNS python3 -c SNIPPET`, the same
  fork+exec harness that times rs-idc's cold start; the snippet imports
  boto3, makes a client and gets one token. Once on the fake's plain http
  endpoint, once on its TLS endpoint (RS_IDC_FAKE_TLS_URL, trusting the
  fake's CA file), as rs-idc's two cold starts.
* size: the bytes on disk of the installed boto3 and botocore packages
  (their folders, everything in them).

Output: one line per figure, `name key=value ...`, read by bench/run.py.
Tokens are never printed, only their lengths. Exits non-zero if a call fails.
"""

import argparse
import os
import subprocess
import sys
import time

CLUSTER_ID = "bench-boto3"

# The fresh process of the cold start: import, client, one token, then one
# line on stdout (the harness stops the "first token" clock at that byte).
COLD_SNIPPET = (
    "import os, boto3\n"
    "c = boto3.client('redshift', endpoint_url=os.environ['RS_IDC_FAKE_URL'],"
    " region_name='us-east-1')\n"
    "t = c.get_identity_center_auth_token(ClusterIds=['bench-boto3-cold'])['Token']\n"
    "print(len(t))\n"
)
# The same over TLS, trusting the fake's CA.
COLD_TLS_SNIPPET = (
    "import os, boto3\n"
    "c = boto3.client('redshift', endpoint_url=os.environ['RS_IDC_FAKE_TLS_URL'],"
    " region_name='us-east-1', verify=os.environ['RS_IDC_FAKE_CA_FILE'])\n"
    "t = c.get_identity_center_auth_token(ClusterIds=['bench-boto3-cold-tls'])['Token']\n"
    "print(len(t))\n"
)


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def p99(values):
    v = sorted(values)
    rank = -(-99 * len(v) // 100)  # ceil(0.99 n), nearest rank
    return v[max(rank, 1) - 1]


def tree_bytes(top):
    """Bytes of the regular files under `top`."""
    total = 0
    for folder, _, files in os.walk(top):
        for name in files:
            path = os.path.join(folder, name)
            if os.path.isfile(path) and not os.path.islink(path):
                total += os.path.getsize(path)
    return total


def new_client(boto3, url):
    return boto3.client("redshift", endpoint_url=url, region_name="us-east-1")


def get_token(client):
    answer = client.get_identity_center_auth_token(ClusterIds=[CLUSTER_ID])
    token = answer.get("Token") or ""
    if not token or answer.get("ExpirationTime") is None:
        raise SystemExit("boto3_peer: answer without a token or an expiry")
    return len(token)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--new-client-calls", type=int, default=50)
    parser.add_argument("--cold-runs", type=int, default=10)
    parser.add_argument("--spawn", required=True, help="path of the bench program (spawn mode)")
    args = parser.parse_args()

    url = os.environ["RS_IDC_FAKE_URL"]
    tls_url = os.environ["RS_IDC_FAKE_TLS_URL"]
    if not url.startswith("http://127.0.0.1:") or not tls_url.startswith("https://127.0.0.1:"):
        raise SystemExit("boto3_peer: refusing a non-loopback endpoint")

    t0 = time.perf_counter_ns()
    import boto3  # pylint: disable=import-outside-toplevel
    import botocore  # pylint: disable=import-outside-toplevel

    import_ms = (time.perf_counter_ns() - t0) / 1e6
    print(f"version boto3={boto3.__version__} botocore={botocore.__version__}"
          f" python={sys.version.split()[0]} import_ms={import_ms:.1f}")

    # One long-lived client, one warm-up call (opens the connection).
    t0 = time.perf_counter_ns()
    client = new_client(boto3, url)
    length = get_token(client)
    print(f"boto3_warmup first_call_ms={(time.perf_counter_ns() - t0) / 1e6:.3f}"
          f" token_len={length}")

    samples = []
    cpu0 = time.process_time()
    wall0 = time.perf_counter_ns()
    for _ in range(args.calls):
        t0 = time.perf_counter_ns()
        get_token(client)
        samples.append(time.perf_counter_ns() - t0)
    wall = (time.perf_counter_ns() - wall0) / 1e9
    cpu = time.process_time() - cpu0
    print(f"boto3_uncached calls={args.calls} median_ms={median(samples) / 1e6:.4f}"
          f" p99_ms={p99(samples) / 1e6:.4f} mean_ms={wall * 1e3 / args.calls:.4f}"
          f" cpu_ms_per_call={cpu * 1e3 / args.calls:.4f} calls_per_s={args.calls / wall:.0f}")

    # A new client for every call, as drivers do per connection.
    samples = []
    cpu0 = time.process_time()
    for _ in range(args.new_client_calls):
        t0 = time.perf_counter_ns()
        get_token(new_client(boto3, url))
        samples.append(time.perf_counter_ns() - t0)
    cpu = time.process_time() - cpu0
    n = args.new_client_calls
    print(f"boto3_new_client calls={n} median_ms={median(samples) / 1e6:.4f}"
          f" p99_ms={p99(samples) / 1e6:.4f} cpu_ms_per_call={cpu * 1e3 / n:.4f}")

    # Cold start, in the same fork+exec harness as rs-idc's.
    for name, snippet in (("boto3_cold", COLD_SNIPPET), ("boto3_cold_tls", COLD_TLS_SNIPPET)):
        out = subprocess.run(
            [args.spawn, "spawn", str(args.cold_runs), sys.executable, "-c", snippet],
            stdout=subprocess.PIPE, text=True, check=True,
        ).stdout
        for line in out.splitlines():
            if line.startswith("spawn "):
                print(f"{name} " + line[len("spawn "):])

    print(f"boto3_size boto3_bytes={tree_bytes(os.path.dirname(boto3.__file__))}"
          f" botocore_bytes={tree_bytes(os.path.dirname(botocore.__file__))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
