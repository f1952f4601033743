/*
 * rs_idc.hpp - a header-only C++17 wrapper over rs_idc.h: Amazon Redshift
 * IAM Identity Center auth tokens with RAII and exceptions.
 *
 *     #include <rs_idc.hpp>
 *
 *     try {
 *         rs_idc::token t = rs_idc::get_token({"my-cluster"});
 *         send_subject_token(t.c_str());  // t wipes and frees itself
 *     } catch (const rs_idc::error &e) {
 *         // e.status() is an RS_IDC_E* number, e.what() "RS_IDC_E...: detail"
 *     }
 *
 *     rs_idc::client c{{"region", "eu-west-1"}, {"timeout_ms", "10000"}};
 *     rs_idc::token t = c.get_token_for_host(host);
 *
 *     // One user's token, from their identity provider's token (a JWT):
 *     rs_idc::client app{{"idc_application_arn", application_arn},
 *                        {"access_role_arn", access_role_arn}};
 *     rs_idc::token u = app.get_user_token(web_token, {"my-cluster"});
 *
 * Link with -lrs_idc (or `pkg-config --libs rs_idc`). The contract of each
 * call is the C function's in rs_idc.h; this header adds ownership and
 * exceptions, nothing else:
 *
 * - rs_idc::token owns one token and releases it with rs_idc_free_token(),
 *   which wipes it. It is move-only; a moved-from token is empty.
 * - rs_idc::client owns one rs_idc_client handle. It is move-only; a
 *   moved-from client is empty, and a call on it throws RS_IDC_EINVAL.
 * - Every failure throws rs_idc::error, which carries the status number and
 *   the calling thread's rs_idc_last_error() text. Neither ever contains a
 *   token or a secret.
 * - Like the C functions, every call is thread-safe; one client may be used
 *   from many threads at once (but not moved or destroyed during a call).
 *
 * A token is a secret: keep it in the rs_idc::token, pass c_str() or str()
 * where it is needed, and avoid copying it into a std::string (a copy is not
 * wiped) or into a log.
 */

#ifndef RS_IDC_HPP
#define RS_IDC_HPP

#if !defined(__cplusplus) || __cplusplus < 201703L
#if !defined(_MSVC_LANG) || _MSVC_LANG < 201703L
#error "rs_idc.hpp needs C++17 or later"
#endif
#endif

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rs_idc.h"

namespace rs_idc {

/*
 * A failed call: the status number (RS_IDC_EINVAL, RS_IDC_ENOTFOUND, ...)
 * and the library's message for it. what() reads "RS_IDC_ENOTFOUND: detail";
 * detail() is the message alone (rs_idc_last_error() at the time of the
 * failure). Copying never throws.
 */
class error : public std::runtime_error {
public:
    /* An error with `status` (an RS_IDC_E* number) and `detail`. */
    error(int status, const std::string &detail)
        : std::runtime_error(std::string(rs_idc_status_str(status)) + ": " + detail),
          status_(status),
          detail_offset_(std::strlen(rs_idc_status_str(status)) + 2)
    {
    }

    /* The status number, one of the RS_IDC_E* macros. */
    int status() const noexcept { return status_; }

    /* The status's name, such as "RS_IDC_ENOTFOUND" (static storage). */
    const char *status_name() const noexcept { return rs_idc_status_str(status_); }

    /* The detailed message: what went wrong, with the AWS error code and
     * request id where there is one. Valid as long as this error. */
    const char *detail() const noexcept { return what() + detail_offset_; }

private:
    int status_;
    std::size_t detail_offset_;
};

namespace detail {

/* Throws the error for `status` with this thread's last error. */
[[noreturn]] inline void throw_status(int status)
{
    throw error(status, rs_idc_last_error());
}

/* Whether `text` holds a NUL byte, which the C API would read as the end
 * of the string. */
inline bool has_nul(std::string_view text) noexcept
{
    return text.find('\0') != std::string_view::npos;
}

/* The error for an argument with a NUL byte: `what` names the argument,
 * never its value. */
[[noreturn]] inline void throw_nul(const std::string &what)
{
    throw error(RS_IDC_EINVAL, what + " contains a NUL byte");
}

/* The C strings of `names`, checked for NUL bytes. `what` is "ids" or
 * "workgroups". Never empty, so data() is never NULL: an empty list reaches
 * the library as a count of 0 and gets its message about the count. */
inline std::vector<const char *> c_strings(const std::vector<std::string> &names, const char *what)
{
    std::vector<const char *> out;
    out.reserve(names.empty() ? 1 : names.size());
    if (names.empty()) {
        out.push_back(nullptr);  // not read: the count is 0
    }
    for (std::size_t i = 0; i < names.size(); i++) {
        if (has_nul(names[i])) {
            throw_nul(std::string(what) + "[" + std::to_string(i) + "]");
        }
        out.push_back(names[i].c_str());
    }
    return out;
}

/* The C string of a web token, checked for NUL bytes; its value is never
 * in the error. */
inline const char *web_token(const std::string &text)
{
    if (has_nul(text)) {
        throw_nul("web_token");
    }
    return text.c_str();
}

}  // namespace detail

/*
 * One token, owned: released with rs_idc_free_token() (wiped, then freed)
 * when the token is destroyed or assigned over. Move-only; a moved-from
 * token is empty (c_str() is nullptr, size() and expires_at() are 0).
 */
class token {
public:
    /* An empty token. */
    token() noexcept = default;

    /* Takes ownership of `owned`, a token from this library (or NULL), and
     * its expiry in Unix seconds (UTC). */
    explicit token(char *owned, std::int64_t expires_at) noexcept
        : text_(owned), size_(owned != nullptr ? std::strlen(owned) : 0),
          expires_at_(owned != nullptr ? expires_at : 0)
    {
    }

    token(const token &) = delete;
    token &operator=(const token &) = delete;

    token(token &&other) noexcept
        : text_(std::exchange(other.text_, nullptr)), size_(std::exchange(other.size_, 0)),
          expires_at_(std::exchange(other.expires_at_, 0))
    {
    }

    token &operator=(token &&other) noexcept
    {
        if (this != &other) {
            reset();
            text_ = std::exchange(other.text_, nullptr);
            size_ = std::exchange(other.size_, 0);
            expires_at_ = std::exchange(other.expires_at_, 0);
        }
        return *this;
    }

    ~token() { reset(); }

    /* The NUL-terminated token, or nullptr when empty. Valid while this
     * token owns it. */
    const char *c_str() const noexcept { return text_; }

    /* The token as a view (no copy); empty when the token is. */
    std::string_view str() const noexcept
    {
        return text_ != nullptr ? std::string_view(text_, size_) : std::string_view();
    }

    /* Its length in bytes, without the NUL. */
    std::size_t size() const noexcept { return size_; }

    /* Whether there is no token (default-made, moved from, released). */
    bool empty() const noexcept { return text_ == nullptr; }

    /* Whether there is a token. */
    explicit operator bool() const noexcept { return text_ != nullptr; }

    /* Its expiry in Unix seconds (UTC); 0 when empty. */
    std::int64_t expires_at() const noexcept { return expires_at_; }

    /* Its expiry as a time point of the system clock. */
    std::chrono::system_clock::time_point expires() const noexcept
    {
        return std::chrono::system_clock::time_point(std::chrono::seconds(expires_at_));
    }

    /* Gives up ownership: returns the token (release it with
     * rs_idc_free_token()) and leaves this one empty. */
    char *release() noexcept
    {
        size_ = 0;
        expires_at_ = 0;
        return std::exchange(text_, nullptr);
    }

    /* Wipes and frees the token now; this one is empty afterwards. */
    void reset() noexcept
    {
        rs_idc_free_token(release());
    }

private:
    char *text_ = nullptr;
    std::size_t size_ = 0;
    std::int64_t expires_at_ = 0;
};

namespace detail {

/* Runs a C token call `call(char **out, int64_t *exp)`: the token, or an error. */
template <typename Call>
token take(Call &&call)
{
    char *out = nullptr;
    std::int64_t expires_at = 0;
    int status = call(&out, &expires_at);
    if (status != RS_IDC_OK) {
        error failure(status, rs_idc_last_error());
        rs_idc_free_token(out);  // NULL by contract; never leak if not
        throw failure;
    }
    if (out == nullptr) {
        throw error(RS_IDC_EINTERNAL, "the library reported success without a token");
    }
    return token(out, expires_at);
}

}  // namespace detail

/*
 * A client handle (rs_idc_client): settings, SDK clients and a connection
 * pool, made from string options (the keys of rs_idc_option in rs_idc.h:
 * region, profile, endpoint_url, access_key_id, secret_access_key,
 * session_token, ca_file, proxy, http_proxy, no_proxy, connect_timeout_ms,
 * timeout_ms, max_attempts, cache, refresh_margin_s, allow_http, and for
 * per-user tokens idc_application_arn, access_role_arn,
 * application_role_arn, web_token_file, role_session_name). Settings not
 * given come from the environment. Move-only; freed (secret settings wiped) when
 * destroyed. A moved-from client is empty: its calls throw RS_IDC_EINVAL.
 *
 * The option strings are only read while the client is being made; the
 * caller's own copies of secret values are the caller's to wipe.
 */
class client {
public:
    /* A handle with every setting from the environment. Throws on failure. */
    client() { make(nullptr, 0); }

    /* A handle from key/value options:
     *     rs_idc::client c{{"region", "eu-west-1"}, {"timeout_ms", "10000"}};
     * An unknown key, a key given twice or a bad value throws RS_IDC_EINVAL
     * naming the key (never a secret value). */
    client(std::initializer_list<std::pair<std::string, std::string>> options)
    {
        make_from(options.begin(), options.end(), options.size());
    }

    /* A handle from a map of options (keys are case-insensitive for the
     * library, so two spellings of one key are refused as a repeat). */
    explicit client(const std::map<std::string, std::string> &options)
    {
        make_from(options.begin(), options.end(), options.size());
    }

    /* A handle from a list of options, in order. */
    explicit client(const std::vector<std::pair<std::string, std::string>> &options)
    {
        make_from(options.begin(), options.end(), options.size());
    }

    client(const client &) = delete;
    client &operator=(const client &) = delete;

    client(client &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}

    client &operator=(client &&other) noexcept
    {
        if (this != &other) {
            rs_idc_client_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }

    /* Frees the handle; no call on it may be running. */
    ~client() { rs_idc_client_free(handle_); }

    /* A token for provisioned clusters: 1 to 20 cluster identifiers (see
     * rs_idc_client_get_token()). */
    [[nodiscard]] token get_token(const std::vector<std::string> &ids) const
    {
        std::vector<const char *> names = detail::c_strings(ids, "ids");
        return detail::take([&](char **out, std::int64_t *exp) {
            return rs_idc_client_get_token(handle_, names.data(), ids.size(), out, exp);
        });
    }

    /* A token for Redshift Serverless: 1 to 20 workgroup names (see
     * rs_idc_client_get_serverless_token()). */
    [[nodiscard]] token get_serverless_token(const std::vector<std::string> &workgroups) const
    {
        std::vector<const char *> names = detail::c_strings(workgroups, "workgroups");
        return detail::take([&](char **out, std::int64_t *exp) {
            return rs_idc_client_get_serverless_token(handle_, names.data(), workgroups.size(),
                                                      out, exp);
        });
    }

    /* A token for the cluster or workgroup a Redshift host name names (see
     * rs_idc_client_get_token_for_host()). */
    [[nodiscard]] token get_token_for_host(const std::string &host) const
    {
        if (detail::has_nul(host)) {
            detail::throw_nul("host");
        }
        return detail::take([&](char **out, std::int64_t *exp) {
            return rs_idc_client_get_token_for_host(handle_, host.c_str(), out, exp);
        });
    }

    /* The token of one user, for provisioned clusters: `web_token` is the
     * user's token from their identity provider (a JWT, at most
     * RS_IDC_MAX_WEB_TOKEN_LEN bytes), `ids` 1 to 20 cluster identifiers
     * (see rs_idc_client_get_user_token()). The handle needs the options
     * idc_application_arn and access_role_arn, else RS_IDC_EINVAL. A web
     * token that is not a JWT with a numeric exp throws RS_IDC_EINVAL, an
     * expired or refused one RS_IDC_EIDENTITY; a role that may not be
     * assumed RS_IDC_EDENIED. The web token is a secret: no error holds
     * it, and the caller's copy is the caller's to wipe. */
    [[nodiscard]] token get_user_token(const std::string &web_token,
                                       const std::vector<std::string> &ids) const
    {
        const char *user = detail::web_token(web_token);
        std::vector<const char *> names = detail::c_strings(ids, "ids");
        return detail::take([&](char **out, std::int64_t *exp) {
            return rs_idc_client_get_user_token(handle_, user, names.data(), ids.size(), out,
                                                exp);
        });
    }

    /* As get_user_token(), for Redshift Serverless: 1 to 20 workgroup names
     * (see rs_idc_client_get_user_serverless_token()). */
    [[nodiscard]] token get_user_serverless_token(const std::string &web_token,
                                                  const std::vector<std::string> &workgroups) const
    {
        const char *user = detail::web_token(web_token);
        std::vector<const char *> names = detail::c_strings(workgroups, "workgroups");
        return detail::take([&](char **out, std::int64_t *exp) {
            return rs_idc_client_get_user_serverless_token(handle_, user, names.data(),
                                                           workgroups.size(), out, exp);
        });
    }

    /* The IAM Identity Center access token of a person's sign-in in the
     * browser (see rs_idc_client_get_browser_token()); send it to Redshift
     * with token_type=ACCESS_TOKEN. The handle needs the issuer_url option. */
    [[nodiscard]] token get_browser_token() const
    {
        return detail::take([&](char **out, std::int64_t *exp) {
            return rs_idc_client_get_browser_token(handle_, out, exp);
        });
    }

    /* As get_browser_token(), with a device code confirmed in a browser on
     * any device (see rs_idc_client_get_device_token() and
     * rs_idc_set_device_code_callback()). */
    [[nodiscard]] token get_device_token() const
    {
        return detail::take([&](char **out, std::int64_t *exp) {
            return rs_idc_client_get_device_token(handle_, out, exp);
        });
    }

    /* Whether this client holds a handle (it does unless moved from). */
    explicit operator bool() const noexcept { return handle_ != nullptr; }

    /* The C handle, still owned by this client; nullptr when empty. */
    rs_idc_client *native_handle() const noexcept { return handle_; }

private:
    template <typename It>
    void make_from(It first, It last, std::size_t n)
    {
        std::vector<rs_idc_option> options;
        options.reserve(n);
        for (It it = first; it != last; ++it) {
            if (detail::has_nul(it->first)) {
                detail::throw_nul("option key");
            }
            if (detail::has_nul(it->second)) {
                detail::throw_nul("option " + it->first);
            }
            options.push_back(rs_idc_option{it->first.c_str(), it->second.c_str()});
        }
        make(options.data(), options.size());
    }

    void make(const rs_idc_option *options, std::size_t n)
    {
        int status = rs_idc_client_new(options, n, &handle_);
        if (status != RS_IDC_OK) {
            handle_ = nullptr;
            detail::throw_status(status);
        }
    }

    rs_idc_client *handle_ = nullptr;
};

/* A token for provisioned clusters from the process-wide default client,
 * configured by the environment (see rs_idc_get_token()). */
[[nodiscard]] inline token get_token(const std::vector<std::string> &ids)
{
    std::vector<const char *> names = detail::c_strings(ids, "ids");
    return detail::take([&](char **out, std::int64_t *exp) {
        return rs_idc_get_token(names.data(), ids.size(), out, exp);
    });
}

/* Empties the process-wide token cache (see rs_idc_cache_clear()). */
inline void cache_clear() noexcept { rs_idc_cache_clear(); }

/* The name of a status number, such as "RS_IDC_ENOTFOUND". */
inline const char *status_name(int status) noexcept { return rs_idc_status_str(status); }

/* The library's version at run time, such as "0.1.0"; RS_IDC_VERSION is
 * the header's. */
inline const char *version() noexcept { return rs_idc_version(); }

}  // namespace rs_idc

#endif /* RS_IDC_HPP */
