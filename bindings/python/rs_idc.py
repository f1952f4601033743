"""rs_idc - Amazon Redshift IAM Identity Center auth tokens for Python.

A thin ``ctypes`` binding to rs-idc's C library (``librs_idc.so``); only the
standard library is needed.

    import rs_idc

    token = rs_idc.get_token(["my-cluster"])      # process-wide default client
    send_to_server(token.value)                    # the token itself: a secret
    print(token)                                   # Token(<800 chars>, expires_at=...)

    with rs_idc.Client({"region": "eu-west-1", "timeout_ms": 10000}) as client:
        token = client.get_token(["my-cluster"])
        token = client.get_serverless_token(["my-workgroup"])
        token = client.get_token_for_host(
            "my-cluster.abc123.eu-west-1.redshift.amazonaws.com")

    # One user's token, from the user's web token (a JWT from their
    # identity provider): trusted identity propagation.
    with rs_idc.Client({"idc_application_arn": application_arn,
                        "access_role_arn": access_role_arn}) as app:
        token = app.get_user_token(web_token, ["my-cluster"])
        token = app.get_user_serverless_token(web_token, ["my-workgroup"])

Failures raise :class:`RsIdcError`, which carries the library's status number
(``.status``), its name (``.name``, e.g. ``"RS_IDC_ENOTFOUND"``) and the
detailed message for the failure (``.message``). None of them, nor the
``repr()`` or ``str()`` of a :class:`Token`, ever shows a token or a secret.

Logging: ``set_log_level(RS_IDC_LOG_INFO)`` and
``set_log_callback(lambda level, message: ...)`` route the library's records
(never a secret) to Python; ``set_log_callback(None)`` sends them back to
stderr.

The library is found, in this order, at the path in ``$RS_IDC_LIBRARY``, as
``librs_idc.so`` next to this file (the copy the wheel carries), as
``librs_idc.so`` through the dynamic loader's search path, or at
``target/release/librs_idc.so`` in the source tree this file belongs to.

Every call releases the GIL while the library works, so threads run their
calls in parallel. The C token is copied into a Python string and then
wiped and freed at once with ``rs_idc_free_token()``; the Python string
itself cannot be wiped, so keep the :class:`Token` no longer than needed.
"""

import atexit
import ctypes
import ctypes.util
import os
import threading

__all__ = [
    "Client",
    "RsIdcError",
    "Token",
    "cache_clear",
    "forget_token",
    "get_token",
    "last_error",
    "set_device_code_callback",
    "set_log_callback",
    "set_open_url_callback",
    "set_log_level",
    "status_str",
    "version",
    "RS_IDC_OK",
    "RS_IDC_EINVAL",
    "RS_IDC_ENOCREDS",
    "RS_IDC_ENOREGION",
    "RS_IDC_EUNSUPPORTED",
    "RS_IDC_ENOTFOUND",
    "RS_IDC_ESTATE",
    "RS_IDC_EDENIED",
    "RS_IDC_ETHROTTLED",
    "RS_IDC_ETIMEOUT",
    "RS_IDC_ENETWORK",
    "RS_IDC_ESERVICE",
    "RS_IDC_EBADRESPONSE",
    "RS_IDC_EINTERNAL",
    "RS_IDC_EIDENTITY",
    "RS_IDC_EAGAIN",
    "RS_IDC_LOG_OFF",
    "RS_IDC_LOG_ERROR",
    "RS_IDC_LOG_WARN",
    "RS_IDC_LOG_INFO",
    "RS_IDC_LOG_DEBUG",
    "RS_IDC_LOG_TRACE",
]

# Status numbers, as in include/rs_idc.h; they never change.
RS_IDC_OK = 0
RS_IDC_EINVAL = -1
RS_IDC_ENOCREDS = -2
RS_IDC_ENOREGION = -3
RS_IDC_EUNSUPPORTED = -4
RS_IDC_ENOTFOUND = -5
RS_IDC_ESTATE = -6
RS_IDC_EDENIED = -7
RS_IDC_ETHROTTLED = -8
RS_IDC_ETIMEOUT = -9
RS_IDC_ENETWORK = -10
RS_IDC_ESERVICE = -11
RS_IDC_EBADRESPONSE = -12
RS_IDC_EINTERNAL = -13
RS_IDC_EIDENTITY = -14
RS_IDC_EAGAIN = -15

# Log levels, as in include/rs_idc.h.
RS_IDC_LOG_OFF = 0
RS_IDC_LOG_ERROR = 1
RS_IDC_LOG_WARN = 2
RS_IDC_LOG_INFO = 3
RS_IDC_LOG_DEBUG = 4
RS_IDC_LOG_TRACE = 5

# Limits, as in include/rs_idc.h.
RS_IDC_MAX_IDENTIFIERS = 20
RS_IDC_MAX_OPTIONS = 64
RS_IDC_MAX_WEB_TOKEN_LEN = 16 * 1024

LIBRARY_ENV = "RS_IDC_LIBRARY"
_SONAME = "librs_idc.so"


# --- the C declarations --------------------------------------------------


class rs_idc_option(ctypes.Structure):
    """``rs_idc_option``: one key/value setting for ``rs_idc_client_new()``."""

    _fields_ = [("key", ctypes.c_char_p), ("value", ctypes.c_char_p)]


class rs_idc_client(ctypes.Structure):
    """The opaque ``rs_idc_client``; only pointers to it are used."""


_client_p = ctypes.POINTER(rs_idc_client)
_ids_p = ctypes.POINTER(ctypes.c_char_p)
# Tokens come back as `char *` the caller owns: a plain void pointer keeps
# ctypes from converting (and losing) the pointer, so it can be freed.
_out_p = ctypes.POINTER(ctypes.c_void_p)
_exp_p = ctypes.POINTER(ctypes.c_int64)
class rs_idc_request(ctypes.Structure):
    """The opaque ``rs_idc_request``; only pointers to it are used."""


_request_p = ctypes.POINTER(rs_idc_request)
# int (*fn)(const char *url, void *userdata)
_open_url_cb = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
# void (*cb)(int level, const char *msg, void *userdata)
_log_cb = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
# int (*fn)(const char *verification_uri_complete, const char *user_code, void *userdata)
_device_code_cb = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p
)


_HERE = os.path.dirname(os.path.abspath(__file__))


def _bundled_library():
    """The library next to this file (the wheel's copy), if there is one."""
    path = os.path.join(_HERE, _SONAME)
    return path if os.path.isfile(path) else None


def _repo_library():
    return os.path.join(_HERE, "..", "..", "target", "release", _SONAME)


def _load():
    """Loads the library from $RS_IDC_LIBRARY, next to this file, the
    loader's path, or the tree.

    The copy next to this file comes before the loader's path, so that a
    wheel uses the library it was built with, not another version installed
    on the system."""
    path = os.environ.get(LIBRARY_ENV)
    if path:
        return ctypes.CDLL(path)
    errors = []
    for candidate in (
        _bundled_library(),
        _SONAME,
        ctypes.util.find_library("rs_idc"),
        _repo_library(),
    ):
        if not candidate:
            continue
        try:
            return ctypes.CDLL(candidate)
        except OSError as err:
            errors.append(str(err))
    raise OSError(
        "rs_idc: cannot load %s (set %s to its path): %s"
        % (_SONAME, LIBRARY_ENV, "; ".join(errors))
    )


def _declare(lib):
    """Declares the argument and result types of every function in rs_idc.h."""
    table = {
        "rs_idc_get_token": (ctypes.c_int, [_ids_p, ctypes.c_size_t, _out_p, _exp_p]),
        "rs_idc_client_new": (
            ctypes.c_int,
            [ctypes.POINTER(rs_idc_option), ctypes.c_size_t, ctypes.POINTER(_client_p)],
        ),
        "rs_idc_client_get_token": (
            ctypes.c_int,
            [_client_p, _ids_p, ctypes.c_size_t, _out_p, _exp_p],
        ),
        "rs_idc_client_get_serverless_token": (
            ctypes.c_int,
            [_client_p, _ids_p, ctypes.c_size_t, _out_p, _exp_p],
        ),
        "rs_idc_client_get_token_for_host": (
            ctypes.c_int,
            [_client_p, ctypes.c_char_p, _out_p, _exp_p],
        ),
        "rs_idc_client_get_user_token": (
            ctypes.c_int,
            [_client_p, ctypes.c_char_p, _ids_p, ctypes.c_size_t, _out_p, _exp_p],
        ),
        "rs_idc_client_get_user_serverless_token": (
            ctypes.c_int,
            [_client_p, ctypes.c_char_p, _ids_p, ctypes.c_size_t, _out_p, _exp_p],
        ),
        "rs_idc_client_get_browser_token": (ctypes.c_int, [_client_p, _out_p, _exp_p]),
        "rs_idc_set_open_url_callback": (None, [_open_url_cb, ctypes.c_void_p]),
        "rs_idc_client_get_device_token": (ctypes.c_int, [_client_p, _out_p, _exp_p]),
        "rs_idc_set_device_code_callback": (None, [_device_code_cb, ctypes.c_void_p]),
        "rs_idc_client_start_token": (
            ctypes.c_int,
            [_client_p, _ids_p, ctypes.c_size_t, ctypes.POINTER(_request_p)],
        ),
        "rs_idc_request_fd": (ctypes.c_int, [_request_p]),
        "rs_idc_request_finish": (ctypes.c_int, [_request_p, _out_p, _exp_p]),
        "rs_idc_request_free": (None, [_request_p]),
        "rs_idc_forget_token": (None, [ctypes.c_char_p]),
        "rs_idc_client_free": (None, [_client_p]),
        "rs_idc_cache_clear": (None, []),
        "rs_idc_set_log_callback": (None, [_log_cb, ctypes.c_void_p]),
        "rs_idc_set_log_level": (None, [ctypes.c_int]),
        "rs_idc_free_token": (None, [ctypes.c_void_p]),
        "rs_idc_status_str": (ctypes.c_char_p, [ctypes.c_int]),
        "rs_idc_last_error": (ctypes.c_char_p, []),
        "rs_idc_version": (ctypes.c_char_p, []),
    }
    for name, (restype, argtypes) in table.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


_lib = _declare(_load())

# Module-level references, so every call site frees tokens the same way.
_free_token = _lib.rs_idc_free_token


# --- small helpers -------------------------------------------------------


def _text(raw):
    return raw.decode("utf-8", "replace") if raw is not None else ""


def status_str(status):
    """The static name of a status number, e.g. ``"RS_IDC_ENOTFOUND"``."""
    return _text(_lib.rs_idc_status_str(int(status)))


def last_error():
    """This thread's last failure message from the library ("" if none)."""
    return _text(_lib.rs_idc_last_error())


def version():
    """The library's version, e.g. ``"0.1.0"``."""
    return _text(_lib.rs_idc_version())


def cache_clear():
    """Empties the process-wide token cache (the dropped tokens are wiped)."""
    _lib.rs_idc_cache_clear()


def forget_token(token):
    """Drops a cached token that a login refused (a Token, str or bytes),
    so that the next call fetches a new one; an unknown token is ignored."""
    value = getattr(token, "value", token)
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, bytes):
        raise TypeError("token must be a Token, str or bytes, not %s" % type(token).__name__)
    if b"\0" in value:
        return
    _lib.rs_idc_forget_token(value)


def set_log_level(level):
    """Sets which records are logged: ``RS_IDC_LOG_OFF`` .. ``RS_IDC_LOG_TRACE``.

    Overrides ``$RS_IDC_LOG``; numbers outside the range are clamped.
    """
    _lib.rs_idc_set_log_level(int(level))


def set_log_callback(callback):
    """Routes the library's log records to ``callback(level, message)``.

    ``callback`` gets the level (``RS_IDC_LOG_ERROR`` .. ``RS_IDC_LOG_TRACE``)
    and the line as a ``str``; None sends the records back to stderr.
    Records never hold a token or a secret. The callback may run on any
    thread that calls into the library, several at once; it must return
    quickly and must not call rs_idc. An exception it raises is dropped.
    The callback is removed when the interpreter exits.
    """
    def trampoline(level, msg, _userdata):
        try:
            callback(level, _text(msg))
        except Exception:  # a logging hook must not break a token call
            pass

    _set_callback("log", callback, trampoline)


def set_open_url_callback(callback):
    """Opens the browser sign-in's page with ``callback(url)`` instead of
    the system's opener; an exception it raises fails the sign-in. None
    restores the default (xdg-open, open on macOS)."""

    def trampoline(url, _userdata):
        try:
            callback(_text(url))
            return 0
        except Exception:
            return 1

    _set_callback("open_url", callback, trampoline)


def set_device_code_callback(callback):
    """Shows a device-code sign-in's URL and code with
    ``callback(verification_uri_complete, user_code)`` instead of writing
    them to stderr; an exception it raises fails the sign-in. None
    restores the default."""

    def trampoline(url, code, _userdata):
        try:
            callback(_text(url), _text(code))
            return 0
        except Exception:
            return 1

    _set_callback("device_code", callback, trampoline)


# The callbacks handed to the library, by kind, with their C types and
# setters: ctypes frees a trampoline that nothing references.
_CALLBACKS = {
    "log": (_log_cb, "rs_idc_set_log_callback"),
    "open_url": (_open_url_cb, "rs_idc_set_open_url_callback"),
    "device_code": (_device_code_cb, "rs_idc_set_device_code_callback"),
}
_installed = {}
_callback_lock = threading.Lock()
_retired_callbacks = []


def _set_callback(kind, callback, trampoline):
    """Hands ``trampoline`` (for ``callback``) to the library as its
    callback of ``kind``, or the default when ``callback`` is None."""
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable or None")
    c_type, setter = _CALLBACKS[kind]
    with _callback_lock:
        old = _installed.pop(kind, None)
        if callback is None:
            getattr(_lib, setter)(c_type(), None)
        else:
            _installed[kind] = c_type(trampoline)
            getattr(_lib, setter)(_installed[kind], None)
        # Keep the replaced callback alive: ctypes may still hold it while
        # the library switches to the new one.
        if old is not None:
            _retired_callbacks.append(old)


@atexit.register
def _unset_callbacks():
    # No Python code can run once the interpreter is gone: the defaults again.
    for kind in list(_installed):
        c_type, setter = _CALLBACKS[kind]
        getattr(_lib, setter)(c_type(), None)


class RsIdcError(Exception):
    """A failed rs-idc call.

    ``.status`` is the negative status number (compare with the
    ``RS_IDC_E*`` constants), ``.name`` its name and ``.message`` the
    library's detailed message (AWS error code and request id where there
    is one). Never holds a token or a secret.
    """

    def __init__(self, status, message=None):
        self.status = int(status)
        self.name = status_str(self.status)
        self.message = message if message is not None else ""
        super().__init__(self.status, self.name, self.message)

    def __str__(self):
        if self.message:
            return "%s (%d): %s" % (self.name, self.status, self.message)
        return "%s (%d)" % (self.name, self.status)

    def __repr__(self):
        return "RsIdcError(%d, %r, %r)" % (self.status, self.name, self.message)


class Token:
    """An auth token and its expiry.

    ``.value`` is the token (a ``str``; a secret: hand it to the server, never
    log it) and ``.expires_at`` its expiry in Unix seconds (UTC). ``repr()``
    and ``str()`` show only the length and the expiry.
    """

    __slots__ = ("value", "expires_at")

    def __init__(self, value, expires_at):
        self.value = value
        self.expires_at = int(expires_at)

    def __repr__(self):
        return "Token(<%d chars>, expires_at=%d)" % (len(self.value), self.expires_at)

    __str__ = __repr__

    def __format__(self, spec):
        return format(repr(self), spec)


def _names(names, what):
    """A ctypes array of C strings from a str or an iterable of str."""
    if isinstance(names, (str, bytes)):
        names = [names]
    encoded = []
    for name in names:
        if isinstance(name, bytes):
            raw = name
        elif isinstance(name, str):
            raw = name.encode("utf-8")
        else:
            raise TypeError("%s must be str, not %s" % (what, type(name).__name__))
        if b"\0" in raw:
            raise ValueError("%s must not contain a NUL character" % what)
        encoded.append(raw)
    return (ctypes.c_char_p * max(len(encoded), 1))(*encoded), len(encoded)


def _web_token(web_token):
    """A user's web token as bytes, from str or bytes; its value is never
    in an error."""
    if isinstance(web_token, str):
        raw = web_token.encode("utf-8")
    elif isinstance(web_token, (bytes, bytearray)):
        raw = bytes(web_token)
    else:
        raise TypeError("web_token must be str or bytes, not %s" % type(web_token).__name__)
    if b"\0" in raw:
        raise ValueError("web_token must not contain a NUL character")
    return raw


def _call(fn, *args):
    """Calls a token function and turns its answer into a Token or an error."""
    out = ctypes.c_void_p()
    exp = ctypes.c_int64(0)
    status = fn(*args, ctypes.byref(out), ctypes.byref(exp))
    if status != RS_IDC_OK:
        # Read on the calling thread, right after the failing call.
        message = last_error()
        if out.value:
            _free_token(out)
        raise RsIdcError(status, message)
    if not out.value:
        raise RsIdcError(RS_IDC_EINTERNAL, "the library reported success without a token")
    try:
        value = ctypes.string_at(out.value).decode("utf-8")
    finally:
        _free_token(out)
    return Token(value, exp.value)


def get_token(ids):
    """A token for provisioned clusters, from the process-wide default client.

    ``ids``: a cluster identifier or a list of 1 to 20 of them (checked
    before any network traffic). Raises :class:`RsIdcError` on failure.
    """
    array, n = _names(ids, "cluster identifier")
    return _call(_lib.rs_idc_get_token, array, n)


def _option_value(key, value):
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    raise TypeError("option %r: value must be str, int or bool, not %s"
                    % (key, type(value).__name__))


class Client:
    """A client handle with explicit settings (see the README for the keys).

    ``options``: a dict of option keys to values (``str``; ``int`` and
    ``bool`` are converted), or None to take everything from the
    environment. Every option is checked here: an unknown key or a bad
    value raises :class:`RsIdcError` with status ``RS_IDC_EINVAL`` and a
    message naming the key.

    A client may be used from many threads at once. ``close()`` waits for
    running calls, releases the handle and may be called more than once;
    later calls raise :class:`RsIdcError` (``RS_IDC_EINVAL``). ``with``
    closes it on exit.
    """

    def __init__(self, options=None):
        self._handle = None
        self._cond = threading.Condition()
        self._running = 0
        items = list((options or {}).items())
        opts = (rs_idc_option * max(len(items), 1))()
        for i, (key, value) in enumerate(items):
            if not isinstance(key, str):
                raise TypeError("option keys must be str, not %s" % type(key).__name__)
            text = _option_value(key, value)
            if "\0" in key or "\0" in text:
                raise ValueError("option %r must not contain a NUL character" % key)
            opts[i].key = key.encode("utf-8")
            opts[i].value = text.encode("utf-8")
        handle = _client_p()
        status = _lib.rs_idc_client_new(opts if items else None, len(items),
                                        ctypes.byref(handle))
        if status != RS_IDC_OK:
            raise RsIdcError(status, last_error())
        self._handle = handle

    # Calls hold a count while they run, so close() never frees a handle in use.
    def _enter(self):
        with self._cond:
            if self._handle is None:
                raise RsIdcError(RS_IDC_EINVAL, "the client is closed")
            self._running += 1
            return self._handle

    def _leave(self):
        with self._cond:
            self._running -= 1
            if self._running == 0:
                self._cond.notify_all()

    def _token(self, fn, *args):
        handle = self._enter()
        try:
            return _call(fn, handle, *args)
        finally:
            self._leave()

    def get_token(self, ids):
        """A token for provisioned clusters: 1 to 20 cluster identifiers."""
        array, n = _names(ids, "cluster identifier")
        return self._token(_lib.rs_idc_client_get_token, array, n)

    def get_serverless_token(self, workgroups):
        """A token for Redshift Serverless: 1 to 20 workgroup names."""
        array, n = _names(workgroups, "workgroup name")
        return self._token(_lib.rs_idc_client_get_serverless_token, array, n)

    def get_token_for_host(self, host):
        """A token for the cluster or workgroup a Redshift host name names."""
        if not isinstance(host, str):
            raise TypeError("host must be str, not %s" % type(host).__name__)
        if "\0" in host:
            raise ValueError("host must not contain a NUL character")
        return self._token(_lib.rs_idc_client_get_token_for_host, host.encode("utf-8"))

    def get_user_token(self, web_token, ids):
        """The token of one user, for provisioned clusters.

        ``web_token``: the user's token from their identity provider (a JWT,
        ``str`` or ``bytes``, at most ``RS_IDC_MAX_WEB_TOKEN_LEN`` bytes);
        ``ids``: 1 to 20 cluster identifiers. The client needs the options
        ``idc_application_arn`` and ``access_role_arn`` (else
        ``RS_IDC_EINVAL``). A web token that is not a JWT with a numeric
        ``exp`` raises ``RS_IDC_EINVAL``, an expired or refused one
        ``RS_IDC_EIDENTITY``, a role that may not be assumed
        ``RS_IDC_EDENIED``. The web token is a secret: no error holds it.
        """
        raw = _web_token(web_token)
        array, n = _names(ids, "cluster identifier")
        return self._token(_lib.rs_idc_client_get_user_token, raw, array, n)

    def get_user_serverless_token(self, web_token, workgroups):
        """As :meth:`get_user_token`, for 1 to 20 Redshift Serverless workgroups."""
        raw = _web_token(web_token)
        array, n = _names(workgroups, "workgroup name")
        return self._token(_lib.rs_idc_client_get_user_serverless_token, raw, array, n)

    def get_browser_token(self):
        """The IAM Identity Center access token of a browser sign-in (the
        handle needs the ``issuer_url`` option); send it to Redshift with
        ``token_type=ACCESS_TOKEN``. Opens the browser only when no kept or
        renewable sign-in exists."""
        return self._token(_lib.rs_idc_client_get_browser_token)

    def get_device_token(self):
        """As :meth:`get_browser_token`, with a device code: the person
        confirms a code in a browser on any device (see
        :func:`set_device_code_callback`)."""
        return self._token(_lib.rs_idc_client_get_device_token)

    @property
    def closed(self):
        """Whether close() has been called."""
        return self._handle is None

    def close(self):
        """Releases the handle (after running calls finish); safe to repeat."""
        with self._cond:
            handle, self._handle = self._handle, None
            while self._running:
                self._cond.wait()
        if handle is not None:
            _lib.rs_idc_client_free(handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            if getattr(self, "_handle", None) is not None:
                self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def __repr__(self):
        return "<rs_idc.Client %s>" % ("closed" if self._handle is None else "open")
