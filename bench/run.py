#!/usr/bin/env python3
"""Runs rs-idc's benchmark and prints the table (`make bench`).

Usage: rs-idc-fake run -- python3 bench/run.py --python .venv/bin/python

Runs inside `rs-idc-fake run`, so every program it starts talks only to the
local fake endpoint on 127.0.0.1. Steps: build/bench (cached calls, through
the process-wide client and a handle; uncached; cold start of
build/get_token), build/bench_users (the cached per-user call, from
bench/users.c), bench/boto3_peer.py with the venv's python (boto3 with one
client, a new client per call, cold start), the sizes of the library
files, then the ratios, the machine and the goals. The table goes to
stdout and to build/bench.txt.

Figures only: nothing here is a timed assertion, and a goal not met is a
figure like the others. It fails only if a program fails (a call failed)
or the fake saw an unexpected number of requests.
"""

import argparse
import http.client
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "build", "bench")
GET_TOKEN = os.path.join(ROOT, "build", "get_token")
USERS = os.path.join(ROOT, "build", "bench_users")
# The library `make install` installs: what `make dist` builds (mk/dist.mk's DISTDIR).
DIST_LIB = os.path.join(ROOT, "target", "x86_64-unknown-linux-gnu", "dist", "librs_idc.so")
RELEASE_LIB = os.path.join(ROOT, "target", "release", "librs_idc.so")
PEER = os.path.join(ROOT, "bench", "boto3_peer.py")
OUT_FILE = os.path.join(ROOT, "build", "bench.txt")

CACHED_CALLS = 200_000  # one thread
CACHED_PER_THREAD = 100_000  # each of N threads
THREADS = (2, 4, 8)
UNCACHED_CALLS = 300
NEW_CLIENT_CALLS = 50
COLD_RUNS = 10
MEAN_CALLS = 10_000  # the cached per-user mean: calls per round
MEAN_ROUNDS = 5
# Requests of a new user's first call with application credentials:
# CreateTokenWithIAM, AssumeRole, GetIdentityCenterAuthToken.
USER_EXCHANGE_REQUESTS = 3
MIB = 1024 * 1024

# The goals the figures are set against (printed only, never checked).
GOAL_CLIENT_CACHED_US = 0.2
GOAL_USER_CACHED_US = 0.5
GOAL_UNCACHED_CPU_RATIO = 0.15  # rs-idc's CPU per uncached call / boto3's
GOAL_COLD_MS = 5.0
GOAL_COLD_RATIO = 1 / 50  # rs-idc's cold start / boto3's
GOAL_LIB_MIB = 10.0


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


def mib(size):
    return f"{size / MIB:.2f} MiB"


def library_file(path, missing):
    """(size in bytes or None, a note) of a library file; `missing` is the note without one."""
    try:
        info = os.stat(path)
    except OSError:
        return None, missing
    built = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.st_mtime))
    newest = newest_source()
    if newest > info.st_mtime:
        return info.st_size, f"built {built}, before the last source change: may be stale"
    return info.st_size, f"built {built}"


def newest_source():
    """The newest modification time of the library's sources (src/, Cargo.*)."""
    newest = 0.0
    for path in (os.path.join(ROOT, "Cargo.toml"), os.path.join(ROOT, "Cargo.lock")):
        try:
            newest = max(newest, os.stat(path).st_mtime)
        except OSError:
            pass
    for folder, _, files in os.walk(os.path.join(ROOT, "src")):
        for name in files:
            try:
                newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime)
            except OSError:
                pass
    return newest


def verdict(value, goal):
    return "met" if value <= goal else "not met"


def fraction(value):
    """A ratio below 1 as a decimal and as 1/N."""
    return f"{value:.3f} (1/{1 / value:,.1f})" if value > 0 else "n/a"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", required=True, help="python with boto3 (the venv's)")
    parser.add_argument("--users", default=USERS, help="the bench_users program")
    parser.add_argument("--dist-lib", default=DIST_LIB,
                        help="the library make install installs (make dist builds it)")
    parser.add_argument("--release-lib", default=RELEASE_LIB, help="the release build's library")
    args = parser.parse_args()

    url = os.environ.get("RS_IDC_FAKE_URL", "")
    port = os.environ.get("RS_IDC_FAKE_PORT", "")
    if not url.startswith("http://127.0.0.1:") or os.environ.get("AWS_ENDPOINT_URL") != url:
        fail("run me inside `rs-idc-fake run -- ...` (no local fake endpoint in the environment)")
    port = int(port)
    env = child_env()

    load_start = os.getloadavg()[0]
    progress = sys.stderr
    progress.write("bench: rs-idc cached calls ...\n")
    cached, cached_reqs = run_lines(
        [BENCH, "cached", str(CACHED_CALLS), str(CACHED_PER_THREAD), *map(str, THREADS)],
        port, 2, env)
    progress.write("bench: rs-idc cached per-user calls ...\n")
    users, users_reqs = run_lines(
        [args.users, "cached-mean", str(MEAN_CALLS), str(MEAN_ROUNDS)],
        port, USER_EXCHANGE_REQUESTS, env)
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
        port, 1 + UNCACHED_CALLS + NEW_CLIENT_CALLS + COLD_RUNS + 1, env)  # TLS not counted

    one = cached["cached"][0]
    mean = cached["cached_mean"]
    client_mean = cached["cached_client_mean"]
    user = users["user_cached_mean"]
    rs_unc = uncached["uncached"]
    rs_cold = cold["spawn"]
    rs_tls = cold_tls["spawn"]
    b_unc = peer["boto3_uncached"]
    b_new = peer["boto3_new_client"]
    b_cold = peer["boto3_cold"]
    b_tls = peer["boto3_cold_tls"]
    b_size = peer["boto3_size"]
    pv = peer["version"]
    dist_size, dist_note = library_file(args.dist_lib, "not built: run make dist")
    release_size, release_note = library_file(args.release_lib, "not built: run make lib")

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
    w(f"  load (1 min)     {load_start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end"
      " (other work on the machine moves every figure)")
    w("")
    w("1. Cached calls: rs_idc_get_token with the token in the process cache")
    w(f"   (each call timed alone with CLOCK_MONOTONIC; a clock_gettime pair costs"
      f" {cached['timer']['overhead_ns']} ns, included)")
    w(f"   {'threads':>7}  {'calls':>9}  {'median us':>9}  {'p99 us':>8}  {'calls/s (all)':>13}")
    for row in cached["cached"]:
        w(f"   {row['threads']:>7}  {int(row['calls']):>9,}  {float(row['median_us']):>9.3f}"
          f"  {float(row['p99_us']):>8.3f}  {int(row['calls_per_s']):>13,}")
    w(f"   mean of {int(mean['calls']):,} calls with rs_idc_free_token(), back to back"
      f" (best of {mean['rounds']} rounds):")
    rows = (
        ("rs_idc_get_token, the process-wide client", float(mean["best_mean_us"])),
        ("rs_idc_client_get_token, a handle from rs_idc_client_new()",
         float(client_mean["best_mean_us"])),
        ("boto3, no token cache: a call on one long-lived client", float(b_unc["mean_ms"]) * 1e3),
    )
    for label, value in rows:
        w(f"     {label:<60}{value:>10.3f} us")
    w("")
    w("2. Cached per-user call: rs_idc_client_get_user_token with the user's token in the"
      " handle's cache")
    w(f"   (one handle with application credentials; the same web token of"
      f" {int(user['web_token_len']):,} bytes at every call)")
    w(f"   cached per-user call + free, mean of {int(user['calls']):,}:"
      f" {float(user['best_mean_us']):.3f} us (best of {user['rounds']} rounds)")
    w(f"   the user's first call (the exchange, {users_reqs} requests):"
      f" {float(user['first_call_ms']):.2f} ms")
    w("   boto3: no comparable call (the exchange takes three clients: sso-oidc, sts, redshift)")
    w("")
    w("3. Uncached calls: one signed HTTP request each, kept-alive connection,"
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
    w(f"4. Cold start: fork+exec of a fresh process to its first token"
      f" (median of {COLD_RUNS}, after one untimed run)")
    w(f"   {'':<44}{'first token ms':>14}  {'exit ms':>8}")
    rows = (
        ("rs-idc: build/get_token", rs_cold),
        ("rs-idc: the same over TLS (system roots + CA)", rs_tls),
        ("boto3: python3 -c (import, client, 1 call)", b_cold),
        ("boto3: the same over TLS (the CA file)", b_tls),
    )
    for label, r in rows:
        w(f"   {label:<44}{float(r['first_output_median_ms']):>14.2f}"
          f"  {float(r['exit_median_ms']):>8.2f}")
    w("")
    w("5. Library size: bytes on disk")
    w(f"   {'':<44}{'bytes':>14}  {'MiB':>8}")
    b_bytes = int(b_size["boto3_bytes"]) + int(b_size["botocore_bytes"])
    rows = (
        ("librs_idc.so installed (make dist)", dist_size,
         f"{os.path.relpath(args.dist_lib, ROOT)}: {dist_note}"),
        ("librs_idc.so, release build (make lib)", release_size,
         f"{os.path.relpath(args.release_lib, ROOT)}, for information: {release_note}"),
        ("boto3 + botocore packages in the venv", b_bytes,
         "their folders, everything in them; their dependencies not counted"),
    )
    for label, size, note in rows:
        if size is None:
            w(f"   {label:<44}{note}")
            continue
        w(f"   {label:<44}{size:>14,}  {size / MIB:>8.2f}")
        w(f"     ({note})")
    w("")
    w("6. Ratios (boto3 / rs-idc: how many times more time or CPU boto3 takes)")
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
        ("cold start to first token, over TLS", ratio(b_tls["first_output_median_ms"],
                                                      rs_tls["first_output_median_ms"])),
    )
    for label, value in rows:
        w(f"   {label:<46}{value:>12}")
    w("")
    w("Notes")
    w(f"   fake endpoint requests: cached run {cached_reqs} (the warm-up misses of the"
      f" process-wide client and of the handle), per-user run {users_reqs} (the exchange),"
      f" uncached run {uncached_reqs}, boto3 run {peer_reqs}")
    w(f"   first call in a process: rs-idc {float(uncached['uncached_warmup']['first_call_ms']):.1f}"
      f" ms; boto3 {float(peer['boto3_warmup']['first_call_ms']):.1f} ms on a new client"
      f" (after import boto3: {float(pv['import_ms']):.0f} ms)")
    w("   the fake endpoint runs on the same cores: its service time is part of every"
      " uncached and cold-start figure, alike for both clients")
    w("")

    # Each goal: what, the figure as shown, the goal as shown, the result.
    goals = []
    value = float(client_mean["best_mean_us"])
    goals.append(("cached rs_idc_client_get_token + free, mean", f"{value:.3f} us",
                  f"<= {GOAL_CLIENT_CACHED_US} us", verdict(value, GOAL_CLIENT_CACHED_US)))
    value = float(user["best_mean_us"])
    goals.append((f"cached per-user call + free, mean ({int(user['web_token_len'])}-byte web token)",
                  f"{value:.3f} us", f"<= {GOAL_USER_CACHED_US} us",
                  verdict(value, GOAL_USER_CACHED_US)))
    value = float(rs_unc["cpu_ms_per_call"]) / float(b_unc["cpu_ms_per_call"])
    goals.append(("uncached call CPU, rs-idc / boto3 (one client)", fraction(value),
                  f"<= {GOAL_UNCACHED_CPU_RATIO}", verdict(value, GOAL_UNCACHED_CPU_RATIO)))
    for label, rs, boto in (("plain http", rs_cold, b_cold), ("over TLS", rs_tls, b_tls)):
        ms = float(rs["first_output_median_ms"])
        goals.append((f"cold start to first token, {label}", f"{ms:.2f} ms",
                      f"<= {GOAL_COLD_MS:g} ms", verdict(ms, GOAL_COLD_MS)))
        value = ms / float(boto["first_output_median_ms"])
        goals.append((f"cold start, {label}: rs-idc / boto3 ({label} both)", fraction(value),
                      f"<= 1/{1 / GOAL_COLD_RATIO:.0f}", verdict(value, GOAL_COLD_RATIO)))
    if dist_size is None:
        goals.append(("librs_idc.so installed (dist build) size", "not built",
                      f"<= {GOAL_LIB_MIB:g} MiB", "not measured: run make dist"))
    else:
        result = verdict(dist_size / MIB, GOAL_LIB_MIB)
        if "stale" in dist_note:
            result += " (the dist build may be stale)"
        goals.append(("librs_idc.so installed (dist build) size", mib(dist_size),
                      f"<= {GOAL_LIB_MIB:g} MiB", result))
    w("Goals (this run's figures against them; figures only, nothing fails on a goal)")
    w(f"   {'figure':<62}{'measured':>16}  {'goal':<11} result")
    for label, measured, goal, result in goals:
        w(f"   {label:<62}{measured:>16}  {goal:<11} {result}")
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    os.makedirs(os.path.dirname(OUT_FILE), exist_ok=True)
    with open(OUT_FILE, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
