"""The fake endpoint's control API (POST /_fake/control on 127.0.0.1,
never through a proxy), for the Python tests (bindings/python,
tests/login)."""

import functools
import json
import os
import types
import urllib.error
import urllib.request


def control(op, **members):
    """One control request: (HTTP status, JSON answer)."""
    url = "http://127.0.0.1:%s/_fake/control" % os.environ["RS_IDC_FAKE_PORT"]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=json.dumps(dict(op=op, **members)).encode(),
                                     method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with opener.open(request, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


@functools.lru_cache(maxsize=None)
def names():
    """The names the fake shares with its tests, from the fake itself:
    names().COUNTER_TOKENS, names().OP_AUTHORIZE, ..."""
    return types.SimpleNamespace(**control("names")[1])


def fake_stat(name):
    """A counter of the fake's stats: a names().COUNTER_* or OP_* name."""
    status, stats = control(names().CONTROL_STATS)
    if status != 200:
        raise OSError("the fake's stats answered %d" % status)
    return stats[names().COUNTER_OPERATIONS].get(name, stats.get(name))
