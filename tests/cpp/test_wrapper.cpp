/*
 * test_wrapper.cpp - the C++ wrapper rs_idc.hpp against the fake endpoint.
 *
 * Runs under `rs-idc-fake run -- PROGRAM` (and under valgrind): tokens from
 * the default client and from client handles made every way (environment,
 * initializer list, map, vector) through every call (clusters, Serverless
 * workgroups, host names); every error path throws rs_idc::error with the
 * right status and a useful message that never holds a secret; moves leave
 * their source empty and nothing is freed twice (valgrind would tell).
 *
 * Per-user tokens: web tokens come from the fake's control endpoint
 * (control operation FAKE_CONTROL_WEB_TOKEN on 127.0.0.1) and the user a
 * token was issued to from FAKE_CONTROL_TOKEN_SUBJECT; two users get their own tokens, and
 * malformed, expired and refused web tokens throw the right status.
 *
 * A device-code sign-in: the test is the person, who opens the URL shown
 * (the fake approves, or refuses with deny=1); the sign-in is kept.
 *
 * Tokens and web tokens are compared by length, expiry and subject, never
 * printed. Ends with "N passed, M failed" and exits non-zero when a check
 * failed.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <map>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "fake_names.h"
#include "rs_idc.hpp"

namespace {

int passed = 0;
int failed = 0;

bool record(bool ok, const char *file, int line, const std::string &what)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        std::fprintf(stderr, "FAIL %s:%d: %s\n", file, line, what.c_str());
    }
    return ok;
}

#define CHECK(cond) record(!!(cond), __FILE__, __LINE__, #cond)
#define EXPECT(cond, what) record(!!(cond), __FILE__, __LINE__, (what))

/* The named environment variable (set by rs-idc-fake run); "" if missing (reported). */
std::string env(const char *name)
{
    const char *value = std::getenv(name);
    EXPECT(value != nullptr && *value != '\0', std::string(name) + " is set");
    return value != nullptr ? value : "";
}

/* A usable token: non-empty, NUL-terminated at size(), expiring in the future. */
bool expect_good(const rs_idc::token &t, const char *what, int line)
{
    std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    bool ok = record(static_cast<bool>(t) && !t.empty(), __FILE__, line,
                     std::string(what) + ": a token");
    ok &= record(t.c_str() != nullptr && t.size() > 0 && std::strlen(t.c_str()) == t.size(),
                 __FILE__, line, std::string(what) + ": c_str() is size() bytes long");
    ok &= record(t.str().size() == t.size() && t.str().data() == t.c_str(), __FILE__, line,
                 std::string(what) + ": str() views the same bytes");
    ok &= record(t.expires_at() > now, __FILE__, line,
                 std::string(what) + ": expires in the future");
    ok &= record(std::chrono::system_clock::to_time_t(t.expires()) ==
                     static_cast<std::time_t>(t.expires_at()),
                 __FILE__, line, std::string(what) + ": expires() matches expires_at()");
    std::printf("%-44s %zu bytes, expires in %lld s\n", what, t.size(),
                static_cast<long long>(t.expires_at() - now));
    return ok;
}

#define EXPECT_GOOD(t, what) expect_good((t), (what), __LINE__)

/* An empty token: what a moved-from or released token must look like. */
bool expect_empty(const rs_idc::token &t, const char *what, int line)
{
    return record(!t && t.empty() && t.c_str() == nullptr && t.size() == 0 && t.str().empty() &&
                      t.expires_at() == 0,
                  __FILE__, line, std::string(what) + ": empty");
}

#define EXPECT_EMPTY(t, what) expect_empty((t), (what), __LINE__)

/*
 * Runs `body`, which must throw rs_idc::error with `want`; `part`, if not
 * NULL, must be in its detail. Anything else (no exception, another status,
 * another exception type) fails.
 */
template <typename Body>
void expect_error(const char *what, int want, const char *part, Body body, int line)
{
    try {
        body();
        record(false, __FILE__, line, std::string(what) + ": no exception, expected " +
                                          rs_idc::status_name(want));
    } catch (const rs_idc::error &e) {
        record(e.status() == want, __FILE__, line,
               std::string(what) + ": status " + e.status_name() + ", expected " +
                   rs_idc::status_name(want) + " (" + e.what() + ")");
        std::string text = e.what();
        record(text.rfind(std::string(rs_idc::status_name(want)) + ": ", 0) == 0, __FILE__, line,
               std::string(what) + ": what() starts with the status name: " + text);
        record(std::string(e.status_name()) == rs_idc::status_name(e.status()), __FILE__, line,
               std::string(what) + ": status_name()");
        if (part != nullptr) {
            record(std::strstr(e.detail(), part) != nullptr, __FILE__, line,
                   std::string(what) + ": detail \"" + e.detail() + "\" should contain \"" +
                       part + "\"");
        }
        std::printf("%-44s -> %s\n", what, e.what());
    } catch (const std::exception &e) {
        record(false, __FILE__, line, std::string(what) + ": another exception: " + e.what());
    }
}

#define EXPECT_ERROR(what, want, part, ...) \
    expect_error((what), (want), (part), [&]() { (void)(__VA_ARGS__); }, __LINE__)

/* Options for a handle with the fake's endpoint and the identity-enhanced keys. */
std::vector<std::pair<std::string, std::string>> fake_options()
{
    return {
        {"region", "us-east-1"},
        {"endpoint_url", env("AWS_ENDPOINT_URL")},
        {"access_key_id", env("RS_IDC_TEST_IDC_ACCESS_KEY_ID")},
        {"secret_access_key", env("RS_IDC_TEST_IDC_SECRET_ACCESS_KEY")},
        {"session_token", env("RS_IDC_TEST_IDC_SESSION_TOKEN")},
        {"timeout_ms", "60000"},
        {"max_attempts", "2"},
    };
}

/* An answer of the fake's control endpoint: the HTTP status (0 when there
 * was no answer) and the body. */
struct answer {
    int status = 0;
    std::string body;
};

/* One request to the fake's control endpoint on 127.0.0.1 (RS_IDC_FAKE_PORT),
 * read to the end (the connection is closed after it). */
answer control_request(const std::string &method, const std::string &path,
                       const std::string &body)
{
    answer result;
    int port = std::atoi(env("RS_IDC_FAKE_PORT").c_str());
    if (port <= 0 || port > 65535) {
        return result;
    }
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return result;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                          "Connection: close\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\n\r\n" + body;
    std::string raw;
    if (::connect(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof addr) == 0) {
        std::size_t sent = 0;
        while (sent < request.size()) {
            ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) {
                break;
            }
            sent += static_cast<std::size_t>(n);
        }
        char buffer[4096];
        for (;;) {
            ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n <= 0) {
                break;
            }
            raw.append(buffer, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    std::size_t end_of_head = raw.find("\r\n\r\n");
    if (raw.rfind("HTTP/1.1 ", 0) != 0 || end_of_head == std::string::npos) {
        return result;
    }
    result.status = std::atoi(raw.c_str() + 9);
    result.body = raw.substr(end_of_head + 4);
    return result;
}

/* One request of the fake's control API: operation `op` (a FAKE_CONTROL_
 * name) with more JSON `members` (",\"name\":value..."). */
answer control(const char *op, const std::string &members)
{
    return control_request("POST", "/_fake/control",
                           std::string("{\"op\":\"") + op + "\"" + members + "}");
}

/* The string member `name` of a control answer ("" if absent; the values
 * read here hold no escapes). */
std::string member(const answer &a, const std::string &name)
{
    std::string key = "\"" + name + "\":\"";
    std::size_t at = a.body.find(key);
    if (at == std::string::npos) {
        return "";
    }
    at += key.size();
    return a.body.substr(at, a.body.find('"', at) - at);
}

/* A web token (JWT) for `subject` that the fake trusts, expiring in
 * `ttl_secs` (negative: already expired), signed with a wrong key if asked;
 * "" when the fake did not make one (reported). */
std::string web_token_for(const std::string &subject, long ttl_secs, bool wrong_key = false)
{
    answer a = control(FAKE_CONTROL_WEB_TOKEN, ",\"sub\":\"" + subject + "\",\"ttl\":" +
                                                   std::to_string(ttl_secs) +
                                                   (wrong_key ? ",\"wrong_key\":true" : ""));
    std::string token = member(a, "token");
    EXPECT(a.status == 200 && !token.empty(),
           "the fake makes a web token for " + subject + " (HTTP " + std::to_string(a.status) +
               ")");
    return token;
}

/* The user the fake issued `t` to; "" for a token that names no user. */
std::string subject_of(const rs_idc::token &t)
{
    return member(control(FAKE_CONTROL_TOKEN_SUBJECT,
                          ",\"token\":\"" + std::string(t.str()) + "\""),
                  "subject");
}

/* Options for a per-user handle: the fake's endpoint, its application and
 * access role, signed by the plain application credentials (a multi-user
 * server's own, without a session token). */
std::vector<std::pair<std::string, std::string>> user_options()
{
    return {
        {"region", "us-east-1"},
        {"endpoint_url", env("AWS_ENDPOINT_URL")},
        {"access_key_id", env("RS_IDC_TEST_PLAIN_ACCESS_KEY_ID")},
        {"secret_access_key", env("RS_IDC_TEST_PLAIN_SECRET_ACCESS_KEY")},
        {"idc_application_arn", env("RS_IDC_TEST_APPLICATION_ARN")},
        {"access_role_arn", env("RS_IDC_TEST_ACCESS_ROLE_ARN")},
        {"timeout_ms", "60000"},
        {"max_attempts", "2"},
    };
}

/* Checks that no part of `secret` (a web token) is in an error's text. */
template <typename Body>
void expect_secret_kept(const char *what, const std::string &secret, Body body, int line)
{
    try {
        body();
    } catch (const rs_idc::error &e) {
        std::string text = e.what();
        record(secret.size() < 16 || text.find(secret.substr(secret.size() - 16)) ==
                                          std::string::npos,
               __FILE__, line, std::string(what) + ": the error does not show the web token");
    }
}

#define EXPECT_SECRET_KEPT(what, secret, ...) \
    expect_secret_kept((what), (secret), [&]() { (void)(__VA_ARGS__); }, __LINE__)

// ---------------------------------------------------------------------------

void types_are_move_only()
{
    // Ownership must not be copied: a copy would free the token twice.
    CHECK(!std::is_copy_constructible_v<rs_idc::token>);
    CHECK(!std::is_copy_assignable_v<rs_idc::token>);
    CHECK(std::is_nothrow_move_constructible_v<rs_idc::token>);
    CHECK(std::is_nothrow_move_assignable_v<rs_idc::token>);
    CHECK(!std::is_copy_constructible_v<rs_idc::client>);
    CHECK(!std::is_copy_assignable_v<rs_idc::client>);
    CHECK(std::is_nothrow_move_constructible_v<rs_idc::client>);
    CHECK(std::is_nothrow_move_assignable_v<rs_idc::client>);
    // An error is an exception like any other, and copying it cannot throw.
    CHECK((std::is_base_of_v<std::runtime_error, rs_idc::error>));
    CHECK(std::is_nothrow_copy_constructible_v<rs_idc::error>);
}

void version_matches_header()
{
    EXPECT(std::strcmp(rs_idc::version(), RS_IDC_VERSION) == 0,
           std::string("version() ") + rs_idc::version() + " == RS_IDC_VERSION " RS_IDC_VERSION);
    CHECK(std::strcmp(rs_idc::status_name(RS_IDC_ENOTFOUND), "RS_IDC_ENOTFOUND") == 0);
}

void default_client_tokens()
{
    rs_idc::token t = rs_idc::get_token({"my-cluster"});
    EXPECT_GOOD(t, "get_token(my-cluster)");
    rs_idc::token many = rs_idc::get_token({"cpp-a", "cpp-b", "CPP-A"});
    EXPECT_GOOD(many, "get_token(cpp-a, cpp-b, CPP-A)");
    rs_idc::cache_clear();
    rs_idc::token again = rs_idc::get_token({"my-cluster"});
    EXPECT_GOOD(again, "get_token after cache_clear()");
}

void handle_tokens()
{
    rs_idc::client from_env;
    CHECK(static_cast<bool>(from_env) && from_env.native_handle() != nullptr);
    EXPECT_GOOD(from_env.get_token({"env-cluster"}), "client().get_token");
    EXPECT_GOOD(from_env.get_serverless_token({"env-wg"}), "client().get_serverless_token");

    rs_idc::client listed(fake_options());
    EXPECT_GOOD(listed.get_token({"listed-cluster"}), "client(vector).get_token");
    EXPECT_GOOD(listed.get_serverless_token({"wg-one", "wg-two"}),
                "client(vector).get_serverless_token");
    EXPECT_GOOD(listed.get_token_for_host("host-cluster.abc123.us-east-1.redshift.amazonaws.com"),
                "get_token_for_host(cluster host)");
    EXPECT_GOOD(listed.get_token_for_host(
                    "wg-host.123456789012.us-east-1.redshift-serverless.amazonaws.com"),
                "get_token_for_host(workgroup host)");

    std::vector<std::pair<std::string, std::string>> opts = fake_options();
    std::map<std::string, std::string> mapped(opts.begin(), opts.end());
    rs_idc::client from_map(mapped);
    EXPECT_GOOD(from_map.get_token({"mapped-cluster"}), "client(map).get_token");

    rs_idc::client braced{{"timeout_ms", "60000"}, {"cache", "off"}};
    EXPECT_GOOD(braced.get_token({"braced-cluster"}), "client{{...}}.get_token");
    EXPECT_GOOD(braced.get_serverless_token({"braced-wg"}), "client{{...}}.get_serverless_token");
}

void service_errors_throw()
{
    EXPECT_ERROR("get_token(err-notfound)", RS_IDC_ENOTFOUND, "ClusterNotFound",
                 rs_idc::get_token({"err-notfound"}));
    EXPECT_ERROR("get_token(err-state)", RS_IDC_ESTATE, "InvalidClusterState",
                 rs_idc::get_token({"err-state"}));
    EXPECT_ERROR("get_token(err-denied)", RS_IDC_EDENIED, "AccessDenied",
                 rs_idc::get_token({"err-denied"}));
    EXPECT_ERROR("get_token(err-unsupported)", RS_IDC_EUNSUPPORTED, "UnsupportedOperation",
                 rs_idc::get_token({"err-unsupported"}));
    EXPECT_ERROR("get_token(fault-noexpiry)", RS_IDC_EBADRESPONSE, nullptr,
                 rs_idc::get_token({"fault-noexpiry"}));

    rs_idc::client c(fake_options());
    EXPECT_ERROR("client.get_token(err-notfound)", RS_IDC_ENOTFOUND, "ClusterNotFound",
                 c.get_token({"err-notfound"}));
    EXPECT_ERROR("client.get_serverless_token(err-notfound)", RS_IDC_ENOTFOUND,
                 "ResourceNotFoundException", c.get_serverless_token({"err-notfound"}));
    EXPECT_ERROR("client.get_token_for_host(err-notfound...)", RS_IDC_ENOTFOUND,
                 "ClusterNotFound",
                 c.get_token_for_host("err-notfound.abc123.us-east-1.redshift.amazonaws.com"));
    // The handle still works after its errors.
    EXPECT_GOOD(c.get_token({"after-errors"}), "client.get_token after errors");
}

void bad_arguments_throw()
{
    EXPECT_ERROR("get_token(bad id)", RS_IDC_EINVAL, nullptr, rs_idc::get_token({"bad_id!"}));
    EXPECT_ERROR("get_token(no ids)", RS_IDC_EINVAL, nullptr, rs_idc::get_token({}));
    // An empty list is a count of 0 to the library, not a NULL array.
    try {
        (void)rs_idc::get_token({});
    } catch (const rs_idc::error &e) {
        EXPECT(std::strstr(e.detail(), "NULL") == nullptr,
               std::string("an empty list is not reported as NULL: ") + e.detail());
    }
    std::vector<std::string> too_many;
    for (int i = 0; i < RS_IDC_MAX_IDENTIFIERS + 1; i++) {
        too_many.push_back("cluster-" + std::to_string(i));
    }
    EXPECT_ERROR("get_token(21 ids)", RS_IDC_EINVAL, nullptr, rs_idc::get_token(too_many));
    EXPECT_ERROR("get_token(id with a NUL byte)", RS_IDC_EINVAL, "ids[1] contains a NUL byte",
                 rs_idc::get_token({"good", std::string("my\0cluster", 10)}));

    rs_idc::client c(fake_options());
    EXPECT_ERROR("get_serverless_token(no workgroups)", RS_IDC_EINVAL, nullptr,
                 c.get_serverless_token({}));
    EXPECT_ERROR("get_serverless_token(upper case)", RS_IDC_EINVAL, nullptr,
                 c.get_serverless_token({"WG-Upper"}));
    EXPECT_ERROR("get_token_for_host(IP address)", RS_IDC_EINVAL, nullptr,
                 c.get_token_for_host("10.1.2.3"));
    EXPECT_ERROR("get_token_for_host(NUL byte)", RS_IDC_EINVAL, "host contains a NUL byte",
                 c.get_token_for_host(std::string("a.b.us-east-1.redshift.amazonaws.com\0x", 38)));
}

void bad_options_throw()
{
    EXPECT_ERROR("client{unknown key}", RS_IDC_EINVAL, "no_such_key",
                 rs_idc::client({{"no_such_key", "1"}}));
    EXPECT_ERROR("client{bad timeout}", RS_IDC_EINVAL, "timeout_ms",
                 rs_idc::client({{"timeout_ms", "soon"}}));
    EXPECT_ERROR("client{key twice}", RS_IDC_EINVAL, "region",
                 rs_idc::client({{"region", "us-east-1"}, {"REGION", "us-west-2"}}));
    EXPECT_ERROR("client{NUL in a value}", RS_IDC_EINVAL, "option region contains a NUL byte",
                 rs_idc::client({{"region", std::string("us-east-1\0x", 11)}}));

    // Credentials without all three parts: the message must not show the secret.
    const std::string secret = "cpp-test-secret-value-0123456789";
    try {
        rs_idc::client c{{"access_key_id", "AKIACPPTEST000000001"}, {"secret_access_key", secret}};
        record(false, __FILE__, __LINE__, "incomplete credentials: no exception");
    } catch (const rs_idc::error &e) {
        CHECK(e.status() == RS_IDC_EINVAL);
        EXPECT(std::strstr(e.what(), secret.c_str()) == nullptr,
               "the error message does not contain the secret value");
        std::printf("%-44s -> %s (%zu bytes)\n", "client{two of three credential parts}",
                    e.status_name(), std::strlen(e.detail()));
    }
}

void errors_copy_and_catch_as_std()
{
    try {
        (void)rs_idc::get_token({"err-notfound"});
        record(false, __FILE__, __LINE__, "err-notfound: no exception");
    } catch (const std::runtime_error &e) {
        const rs_idc::error *ours = dynamic_cast<const rs_idc::error *>(&e);
        EXPECT(ours != nullptr, "caught as std::runtime_error, it is an rs_idc::error");
        if (ours != nullptr) {
            rs_idc::error copy = *ours;
            CHECK(copy.status() == RS_IDC_ENOTFOUND);
            CHECK(std::strcmp(copy.what(), ours->what()) == 0);
            CHECK(std::strcmp(copy.detail(), ours->detail()) == 0);
            CHECK(std::strstr(copy.detail(), "ClusterNotFound") != nullptr);
        }
    }
    rs_idc::error made(RS_IDC_ETIMEOUT, "the call's time bound ran out");
    CHECK(made.status() == RS_IDC_ETIMEOUT);
    CHECK(std::strcmp(made.what(), "RS_IDC_ETIMEOUT: the call's time bound ran out") == 0);
    CHECK(std::strcmp(made.detail(), "the call's time bound ran out") == 0);
}

void token_moves()
{
    rs_idc::token a = rs_idc::get_token({"move-cluster"});
    EXPECT_GOOD(a, "token to move");
    const char *bytes = a.c_str();
    std::size_t size = a.size();
    std::int64_t expiry = a.expires_at();

    rs_idc::token b(std::move(a));
    EXPECT_EMPTY(a, "moved-from token (construction)");
    CHECK(b.c_str() == bytes && b.size() == size && b.expires_at() == expiry);

    rs_idc::token c;
    EXPECT_EMPTY(c, "default token");
    c = std::move(b);
    EXPECT_EMPTY(b, "moved-from token (assignment)");
    CHECK(c.c_str() == bytes && c.size() == size && c.expires_at() == expiry);

    // Assigning over a live token frees the old one (valgrind: no leak).
    rs_idc::token d = rs_idc::get_token({"other-cluster"});
    d = std::move(c);
    EXPECT_EMPTY(c, "moved-from token (assignment over a live one)");
    CHECK(d.c_str() == bytes && d.size() == size);

    // Self-move keeps the token (and does not free it).
    rs_idc::token &alias = d;
    d = std::move(alias);
    CHECK(d.c_str() == bytes && d.size() == size);

    // release() hands ownership out; the C function frees it once.
    char *raw = d.release();
    EXPECT_EMPTY(d, "released token");
    CHECK(raw == bytes);
    rs_idc_free_token(raw);

    // reset() frees now; a second reset() and the destructor do nothing.
    rs_idc::token e = rs_idc::get_token({"reset-cluster"});
    e.reset();
    EXPECT_EMPTY(e, "reset token");
    e.reset();

    // Adopting a NULL pointer gives an empty token.
    rs_idc::token none(nullptr, 12345);
    EXPECT_EMPTY(none, "token(nullptr, ...)");
}

void client_moves()
{
    rs_idc::client a(fake_options());
    rs_idc_client *handle = a.native_handle();
    CHECK(handle != nullptr);

    rs_idc::client b(std::move(a));
    CHECK(!a && a.native_handle() == nullptr);
    CHECK(b.native_handle() == handle);
    EXPECT_GOOD(b.get_token({"moved-client"}), "moved-to client");
    // A call on the empty source is refused like a NULL handle.
    EXPECT_ERROR("moved-from client.get_token", RS_IDC_EINVAL, nullptr,
                 a.get_token({"moved-client"}));
    EXPECT_ERROR("moved-from client.get_serverless_token", RS_IDC_EINVAL, nullptr,
                 a.get_serverless_token({"moved-wg"}));
    EXPECT_ERROR("moved-from client.get_token_for_host", RS_IDC_EINVAL, nullptr,
                 a.get_token_for_host("x.abc123.us-east-1.redshift.amazonaws.com"));

    // Assignment over a live handle frees it (valgrind: no leak); the
    // moved-from one can be assigned to again.
    rs_idc::client c;
    c = std::move(b);
    CHECK(!b && c.native_handle() == handle);
    rs_idc::client &alias = c;
    c = std::move(alias);
    CHECK(c.native_handle() == handle);
    a = std::move(c);
    CHECK(!c && a.native_handle() == handle);
    EXPECT_GOOD(a.get_token({"moved-back"}), "client moved back");

    // Tokens outlive the client that made them.
    rs_idc::token kept;
    {
        rs_idc::client scoped(fake_options());
        kept = scoped.get_token({"outlives-client"});
    }
    EXPECT_GOOD(kept, "token after its client was destroyed");
}

void user_tokens()
{
    std::string alice = web_token_for("cpp-alice@example.com", 3600);
    std::string bob = web_token_for("cpp-bob", 3600);
    rs_idc::client app(user_options());

    // Two users, one cluster: each gets a token of their own.
    rs_idc::token for_alice = app.get_user_token(alice, {"user-cluster"});
    rs_idc::token for_bob = app.get_user_token(bob, {"user-cluster"});
    EXPECT_GOOD(for_alice, "get_user_token(alice)");
    EXPECT_GOOD(for_bob, "get_user_token(bob)");
    EXPECT(subject_of(for_alice) == "cpp-alice@example.com", "alice's token is alice's");
    EXPECT(subject_of(for_bob) == "cpp-bob", "bob's token is bob's");
    EXPECT(for_alice.str() != for_bob.str(), "the users' tokens differ");
    std::printf("%-44s %s, %s\n", "subjects of the two users' tokens",
                subject_of(for_alice).c_str(), subject_of(for_bob).c_str());

    // Serverless, several workgroups; a user's second call is answered too.
    rs_idc::token wg = app.get_user_serverless_token(bob, {"user-wg-a", "user-wg-b"});
    EXPECT_GOOD(wg, "get_user_serverless_token(bob)");
    EXPECT(subject_of(wg) == "cpp-bob", "bob's serverless token is bob's");
    rs_idc::token again = app.get_user_token(alice, {"user-cluster-2"});
    EXPECT_GOOD(again, "get_user_token(alice) again");
    EXPECT(subject_of(again) == "cpp-alice@example.com", "alice's second token is alice's");

    // An application role assumed with the web token signs the exchange:
    // no credentials of the handle's own.
    rs_idc::client role_signed{
        {"region", "us-east-1"},
        {"endpoint_url", env("AWS_ENDPOINT_URL")},
        {"idc_application_arn", env("RS_IDC_TEST_APPLICATION_ARN")},
        {"access_role_arn", env("RS_IDC_TEST_ACCESS_ROLE_ARN")},
        {"application_role_arn", env("RS_IDC_TEST_APPLICATION_ROLE_ARN")},
        {"role_session_name", "cpp-test"},
    };
    rs_idc::token via_role = role_signed.get_user_token(alice, {"role-cluster"});
    EXPECT_GOOD(via_role, "get_user_token(alice) via the application role");
    EXPECT(subject_of(via_role) == "cpp-alice@example.com",
           "the application role's exchange gives alice's token");

    // The process's own token names no user.
    rs_idc::client own(fake_options());
    EXPECT(subject_of(own.get_token({"user-cluster"})).empty(),
           "the process's own token names no user");
}

void user_token_errors_throw()
{
    rs_idc::client app(user_options());
    std::string expired = web_token_for("cpp-expired", -60);
    EXPECT_ERROR("get_user_token(expired web token)", RS_IDC_EIDENTITY, "expired",
                 app.get_user_token(expired, {"user-cluster"}));
    EXPECT_ERROR("get_user_serverless_token(expired web token)", RS_IDC_EIDENTITY, nullptr,
                 app.get_user_serverless_token(expired, {"user-wg"}));
    EXPECT_SECRET_KEPT("expired web token", expired,
                       app.get_user_token(expired, {"user-cluster"}));

    EXPECT_ERROR("get_user_token(not a JWT)", RS_IDC_EINVAL, "web_token",
                 app.get_user_token("not-a-jwt", {"user-cluster"}));
    EXPECT_ERROR("get_user_token(two parts)", RS_IDC_EINVAL, nullptr,
                 app.get_user_token("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0", {"user-cluster"}));
    EXPECT_ERROR("get_user_token(empty)", RS_IDC_EINVAL, nullptr,
                 app.get_user_token("", {"user-cluster"}));
    EXPECT_ERROR("get_user_token(NUL byte)", RS_IDC_EINVAL, "web_token contains a NUL byte",
                 app.get_user_token(std::string("a.b\0.c", 6), {"user-cluster"}));
    EXPECT_ERROR("get_user_token(too long)", RS_IDC_EINVAL, nullptr,
                 app.get_user_token(std::string(RS_IDC_MAX_WEB_TOKEN_LEN + 1, 'a'),
                                    {"user-cluster"}));

    std::string carol = web_token_for("cpp-carol", 3600);
    EXPECT_ERROR("get_user_token(bad cluster id)", RS_IDC_EINVAL, nullptr,
                 app.get_user_token(carol, {"bad_id!"}));
    EXPECT_ERROR("get_user_serverless_token(no workgroups)", RS_IDC_EINVAL, nullptr,
                 app.get_user_serverless_token(carol, {}));

    // A web token signed with another key is refused by the service.
    std::string forged = web_token_for("cpp-mallory", 600, true);
    EXPECT_ERROR("get_user_token(web token the service refuses)", RS_IDC_EIDENTITY, nullptr,
                 app.get_user_token(forged, {"user-cluster"}));
    EXPECT_SECRET_KEPT("refused web token", forged,
                       app.get_user_token(forged, {"user-cluster"}));

    // A role that may not be assumed.
    std::vector<std::pair<std::string, std::string>> denied = user_options();
    for (auto &option : denied) {
        if (option.first == "access_role_arn") {
            option.second = env("RS_IDC_TEST_DENIED_ROLE_ARN");
        }
    }
    rs_idc::client denied_client(denied);
    EXPECT_ERROR("get_user_token(denied access role)", RS_IDC_EDENIED, nullptr,
                 denied_client.get_user_token(carol, {"user-cluster"}));

    // A handle without the per-user options, and an empty one.
    rs_idc::client plain(fake_options());
    EXPECT_ERROR("get_user_token on a handle without per-user options", RS_IDC_EINVAL,
                 "idc_application_arn", plain.get_user_token(carol, {"user-cluster"}));
    rs_idc::client moved(std::move(plain));
    EXPECT_ERROR("moved-from client.get_user_token", RS_IDC_EINVAL, nullptr,
                 plain.get_user_token(carol, {"user-cluster"}));
    EXPECT_ERROR("moved-from client.get_user_serverless_token", RS_IDC_EINVAL, nullptr,
                 plain.get_user_serverless_token(carol, {"user-wg"}));

    // Per-user options without both ARNs are refused when the handle is made.
    EXPECT_ERROR("client{access_role_arn alone}", RS_IDC_EINVAL, "access_role_arn",
                 rs_idc::client({{"access_role_arn", env("RS_IDC_TEST_ACCESS_ROLE_ARN")}}));
    CHECK(std::strcmp(rs_idc::status_name(RS_IDC_EIDENTITY), "RS_IDC_EIDENTITY") == 0);
}

/* The person of a device-code sign-in: opens the URL the library shows
 * (a page of the fake's, which approves the sign-in, or refuses it with
 * deny=1) and counts what was shown. */
struct person {
    bool refuse = false;
    int shown = 0;
    int opened = 0;
    std::string code;
};

int person_opens(const char *url, const char *code, void *userdata)
{
    person *who = static_cast<person *>(userdata);
    who->shown++;
    who->code = code;
    std::string prefix = "http://127.0.0.1:" + env("RS_IDC_FAKE_PORT");
    std::string page = url;
    if (page.rfind(prefix + "/", 0) != 0 || page.find(code) == std::string::npos) {
        return 1;
    }
    page = page.substr(prefix.size()) + (who->refuse ? "&deny=1" : "");
    if (control_request("GET", page, "").status == 200) {
        who->opened++;
    }
    return 0;
}

void device_code_sign_in()
{
    std::vector<std::pair<std::string, std::string>> options = {
        {"region", "us-east-1"},
        {"endpoint_url", env("AWS_ENDPOINT_URL")},
        {"issuer_url", "https://identitycenter.amazonaws.com/ssoins-cpp-device"},
        {"idp_response_timeout_s", "30"},
    };
    person approves;
    rs_idc_set_device_code_callback(person_opens, &approves);
    rs_idc::client signs_in(options);
    rs_idc::token access = signs_in.get_device_token();
    EXPECT(access.size() > 0 && access.expires_at() > std::time(nullptr),
           "get_device_token() gives an access token that has not expired");
    EXPECT(approves.shown == 1 && approves.opened == 1, "one code shown and its page opened");
    rs_idc::token kept = signs_in.get_device_token();
    EXPECT(kept.str() == access.str() && approves.shown == 1, "the sign-in is kept");

    person refuses;
    refuses.refuse = true;
    rs_idc_set_device_code_callback(person_opens, &refuses);
    options[2].second = "https://identitycenter.amazonaws.com/ssoins-cpp-refused";
    rs_idc::client refused(options);
    try {
        static_cast<void>(refused.get_device_token());
        EXPECT(false, "a refused device code throws");
    } catch (const rs_idc::error &e) {
        EXPECT(e.status() == RS_IDC_EIDENTITY, "a refused device code is RS_IDC_EIDENTITY");
        EXPECT(std::strstr(e.detail(), "refused") != nullptr, "the message says it was refused");
        EXPECT(!refuses.code.empty() && std::strstr(e.what(), refuses.code.c_str()) == nullptr,
               "the code is not in the message");
    }
    rs_idc_set_device_code_callback(nullptr, nullptr);
}

}  // namespace

int main()
{
    types_are_move_only();
    version_matches_header();
    try {
        default_client_tokens();
        handle_tokens();
        service_errors_throw();
        bad_arguments_throw();
        bad_options_throw();
        errors_copy_and_catch_as_std();
        token_moves();
        client_moves();
        user_tokens();
        user_token_errors_throw();
        device_code_sign_in();
    } catch (const std::exception &e) {
        record(false, __FILE__, __LINE__, std::string("unexpected exception: ") + e.what());
    }
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
