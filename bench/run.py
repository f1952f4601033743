#!/usr/bin/env python3
"""Runs rs-idc's benchmark and prints the table (`make bench`).

Usage: rs-idc-fake run -- python3 bench/run.py --python .venv/bin/python

Runs inside `rs-idc-fake run`, so every program it starts talks only to the
local fake endpoint on 127.0.0.1. Steps: build/bench (cached, uncached,
cold start of build/get_token), bench/boto3_peer.py with the venv's python
(boto3 with one client, a new client per call, cold start), then the ratios
and the machine. The table goes to stdout and to build/bench.txt.

Figures only: nothing here is a timed assertion. It fails only if a program
fails (a call failed) or the fake saw an unexpected number of requests.
"""

import argparse
import http.client
import json
import os
import platform
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "build", "bench")
GET_TOKEN = os.path.join(ROOT, "build", "get_token")
PEER = os.path.join(ROOT, "bench", "boto3_peer.py")
OUT_FILE = os.path.join(ROOT, "build", "bench.txt")

CACHED_CALLS = 200_000  # one thread
CACHED_PER_THREAD = 100_000  # each of N threads
THREADS = (2, 4, 8)
UNCACHED_CALLS = 300
NEW_CLIENT_CALLS = 50
COLD_RUNS = 10


def fail(message):
    sys.stderr.write(f"bench: {message}\n")
    sys.exit(1)


def child_env():
    """The fake's environment, without proxies (everything stays on loopback)
    and without a cache setting from the caller's shell."""
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.pop("RS_IDC_CACHE", None)  # on by default; `bench uncached` turns it off itself
    env["LC_ALL"] = "C"
    return env


def fake_control(port, op, **members):
    """One request of the fake's control API, straight to 127.0.0.1."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/_fake/control", json.dumps(dict(op=op, **members)),
                     {"Content-Type": "application/json"})
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def fake_stats(port):
    """The fake's (requests, tokens), by the names the fake itself gives."""
    names = fake_control(port, "names")
    stats = fake_control(port, names["CONTROL_STATS"])
    return stats[names["COUNTER_REQUESTS"]], stats[names["COUNTER_TOKENS"]]


def run_lines(cmd, port, expected_requests, env):
    """Runs cmd, returns {name: {key: value}} from its `name k=v ...` lines."""
    before = fake_stats(port)[0]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env, check=False)
    if proc.returncode != 0:
        fail(f"{' '.join(cmd[:3])} ... exited with {proc.returncode}")
    made = fake_stats(port)[0] - before
    if expected_requests is not None and made != expected_requests:
        fail(f"{' '.join(cmd[:2])}: the fake saw {made} requests, expected {expected_requests}")
    figures = {}
    for line in proc.stdout.splitlines():
        name, *pairs = line.split()
        values = dict(p.split("=", 1) for p in pairs)
        if name == "cached":
            figures.setdefault("cached", []).append(values)
        else:
            figures[name] = values
    return figures, made


def command_output(cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, check=False).stdout.strip()
    except OSError as err:
        return f"unavailable ({err.strerror})"


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ratio(slow, fast):
    return f"{float(slow) / float(fast):,.1f}x" if float(fast) > 0 else "n/a"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", required=True, help="python with boto3 (the venv's)")
    args = parser.parse_args()

    url = os.environ.get("RS_IDC_FAKE_URL", "")
    port = os.environ.get("RS_IDC_FAKE_PORT", "")
    if not url.startswith("http://127.0.0.1:") or os.environ.get("AWS_ENDPOINT_URL") != url:
        fail("run me inside `rs-idc-fake run -- ...` (no local fake endpoint in the environment)")
    port = int(port)
    env = child_env()

    progress = sys.stderr
    progress.write("bench: rs-idc cached calls ...\n")
    cached, cached_reqs = run_lines(
        [BENCH, "cached", str(CACHED_CALLS), str(CACHED_PER_THREAD), *map(str, THREADS)],
        port, 1, env)
    progress.write("bench: rs-idc uncached calls (RS_IDC_CACHE=0) ...\n")
    uncached, uncached_reqs = run_lines(
        [BENCH, "uncached", str(UNCACHED_CALLS)], port, UNCACHED_CALLS + 1, env)
    progress.write("bench: rs-idc cold start (build/get_token) ...\n")
    cold, _ = run_lines([BENCH, "spawn", str(COLD_RUNS), GET_TOKEN, "bench-cold"],
                        port, COLD_RUNS + 1, env)
    progress.write("bench: rs-idc cold start over TLS (build/get_token) ...\n")
    tls_env = dict(env, AWS_ENDPOINT_URL=os.environ["RS_IDC_FAKE_TLS_URL"],
                   AWS_CA_BUNDLE=os.environ["RS_IDC_FAKE_CA_FILE"])
    cold_tls, _ = run_lines([BENCH, "spawn", str(COLD_RUNS), GET_TOKEN, "bench-cold-tls"],
                            port, None, tls_env)
    progress.write("bench: boto3 peer ...\n")
    peer, peer_reqs = run_lines(
        [args.python, PEER, "--calls", str(UNCACHED_CALLS),
         "--new-client-calls", str(NEW_CLIENT_CALLS), "--cold-runs", str(COLD_RUNS),
         "--spawn", BENCH],
        port, 1 + UNCACHED_CALLS + NEW_CLIENT_CALLS + COLD_RUNS + 1, env)

    one = cached["cached"][0]
    rs_unc = uncached["uncached"]
    rs_cold = cold["spawn"]
    b_unc = peer["boto3_uncached"]
    b_new = peer["boto3_new_client"]
    b_cold = peer["boto3_cold"]
    pv = peer["version"]

    out = []
    w = out.append
    w(f"rs-idc {cached['version']['rs_idc']} benchmark, against the local fake endpoint"
      f" ({url}; ~800-char tokens)")
    w("")
    w("Machine")
    w(f"  nproc            {os.cpu_count()}")
    w(f"  CPU              {cpu_model()}")
    w(f"  kernel           {platform.system()} {platform.release()}")
    w(f"  rustc            {command_output(['rustc', '--version'])}")
    w(f"  python           {pv['python']} (boto3 {pv['boto3']}, botocore {pv['botocore']})")
    w("")
    w("1. Cached calls: rs_idc_get_token with the token in the process cache")
    w(f"   (each call timed alone with CLOCK_MONOTONIC; a clock_gettime pair costs"
      f" {cached['timer']['overhead_ns']} ns, included)")
    w(f"   {'threads':>7}  {'calls':>9}  {'median us':>9}  {'p99 us':>8}  {'calls/s (all)':>13}")
    for row in cached["cached"]:
        w(f"   {row['threads']:>7}  {int(row['calls']):>9,}  {float(row['median_us']):>9.3f}"
          f"  {float(row['p99_us']):>8.3f}  {int(row['calls_per_s']):>13,}")
    mean = cached["cached_mean"]
    w(f"   mean of {int(mean['calls']):,} calls with rs_idc_free_token(), back to back:"
      f" {float(mean['best_mean_us']):.3f} us (best of {mean['rounds']} rounds)")
    w("")
    w("2. Uncached calls: one signed HTTP request each, kept-alive connection,"
      " after one warm-up call")
    w(f"   {'':<34}{'calls':>6}  {'median ms':>9}  {'p99 ms':>8}  {'CPU ms/call':>11}")
    rows = (
        ("rs-idc, RS_IDC_CACHE=0", rs_unc),
        ("boto3, one long-lived client", b_unc),
        ("boto3, new client per call", b_new),
    )
    for label, r in rows:
        w(f"   {label:<34}{r['calls']:>6}  {float(r['median_ms']):>9.3f}"
          f"  {float(r['p99_ms']):>8.3f}  {float(r['cpu_ms_per_call']):>11.3f}")
    w("   (CPU: getrusage / time.process_time of the whole process, user+sys, per call;"
      " the boto3 figures per new client include building the client)")
    w("")
    w(f"3. Cold start: fork+exec of a fresh process to its first token"
      f" (median of {COLD_RUNS}, after one untimed run)")
    w(f"   {'':<44}{'first token ms':>14}  {'exit ms':>8}")
    w(f"   {'rs-idc: build/get_token':<44}{float(rs_cold['first_output_median_ms']):>14.2f}"
      f"  {float(rs_cold['exit_median_ms']):>8.2f}")
    tls = cold_tls["spawn"]
    w(f"   {'rs-idc: the same over TLS (system roots + CA)':<44}"
      f"{float(tls['first_output_median_ms']):>14.2f}  {float(tls['exit_median_ms']):>8.2f}")
    w(f"   {'boto3: python3 -c (import, client, 1 call)':<44}"
      f"{float(b_cold['first_output_median_ms']):>14.2f}  {float(b_cold['exit_median_ms']):>8.2f}")
    w("")
    w("4. Ratios (boto3 / rs-idc: how many times more time or CPU boto3 takes)")
    rs_cached_us = float(one["median_us"])
    rows = (
        ("boto3 call (one client) vs rs-idc cached call",
         ratio(float(b_unc["median_ms"]) * 1e3, rs_cached_us)),
        ("boto3 new client + call vs rs-idc cached call",
         ratio(float(b_new["median_ms"]) * 1e3, rs_cached_us)),
        ("uncached latency, median", ratio(b_unc["median_ms"], rs_unc["median_ms"])),
        ("uncached latency, p99", ratio(b_unc["p99_ms"], rs_unc["p99_ms"])),
        ("uncached CPU per call", ratio(b_unc["cpu_ms_per_call"], rs_unc["cpu_ms_per_call"])),
        ("boto3 new client + call vs rs-idc uncached",
         ratio(b_new["median_ms"], rs_unc["median_ms"])),
        ("cold start to first token", ratio(b_cold["first_output_median_ms"],
                                            rs_cold["first_output_median_ms"])),
    )
    for label, value in rows:
        w(f"   {label:<46}{value:>12}")
    w("")
    w("Notes")
    w(f"   fake endpoint requests: cached run {cached_reqs} (the warm-up miss),"
      f" uncached run {uncached_reqs}, boto3 run {peer_reqs}")
    w(f"   first call in a process: rs-idc {float(uncached['uncached_warmup']['first_call_ms']):.1f}"
      f" ms; boto3 {float(peer['boto3_warmup']['first_call_ms']):.1f} ms on a new client"
      f" (after import boto3: {float(pv['import_ms']):.0f} ms)")
    w("   the fake endpoint runs on the same cores: its service time is part of every"
      " uncached and cold-start figure, alike for both clients")
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    os.makedirs(os.path.dirname(OUT_FILE), exist_ok=True)
    with open(OUT_FILE, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
