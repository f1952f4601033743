//! The token calls: the process-wide one and those of client handles.

use super::{boundary, bounded_bytes, guard, identifiers, output_slot, text_argument, token_call};
use crate::client::{default_client, Client};
use crate::error::Error;
use crate::hosts::RS_IDC_MAX_HOST_LEN;
use crate::memory::{clear_cache, forget_token};
use crate::options::{
    settings_from_options, RawOption, RS_IDC_MAX_OPTIONS, RS_IDC_MAX_OPTION_KEY_LEN,
    RS_IDC_MAX_OPTION_VALUE_LEN,
};
use crate::token::Api;
use crate::web_token::RS_IDC_MAX_WEB_TOKEN_LEN;
use std::ffi::{c_char, c_int};
use std::sync::Arc;

/// Gets an IAM Identity Center auth token for Amazon Redshift provisioned
/// clusters with the process-wide client, which reads its settings from
/// the environment on first use.
///
/// ids: n cluster identifiers, 1 to RS_IDC_MAX_IDENTIFIERS (20), each 1 to
/// 63 ASCII letters, digits and hyphens, starting with a letter, not
/// ending with a hyphen, without two hyphens in a row. Case, order and
/// duplicates do not matter. They are checked before any network traffic.
/// out: receives a new NUL-terminated token; release it with
/// rs_idc_free_token().
/// exp: receives the token's expiry in Unix seconds (UTC); may be NULL.
///
/// Returns RS_IDC_OK, or a negative RS_IDC_E* status; then *out is NULL,
/// *exp is left alone and rs_idc_last_error() says why.
///
/// Settings, read once: AWS_REGION or AWS_DEFAULT_REGION, AWS_PROFILE, the
/// config and credentials files and the rest of the AWS credential chain,
/// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_REDSHIFT, AWS_MAX_ATTEMPTS,
/// AWS_RETRY_MODE, AWS_CA_BUNDLE, HTTPS_PROXY, HTTP_PROXY, ALL_PROXY,
/// NO_PROXY, RS_IDC_TIMEOUT_MS (whole call, retries included, default
/// 20000), RS_IDC_CONNECT_TIMEOUT_MS (default 3000), RS_IDC_CACHE (0 turns
/// the cache off) and RS_IDC_ALLOW_HTTP. Credentials taken from the
/// environment are read again when they change.
///
/// Cache: tokens are kept per API, region, endpoint, complete credentials
/// (access key id, secret key and session token, through a keyed hash) and
/// identifier set, and served while more than the smaller of five minutes
/// and half their lifetime is left; a cached answer costs a copy.
/// Concurrent calls for the same set and credentials make one request when
/// their time bounds, attempts, proxies and CA certificates match too.
///
/// Threads: any thread, at once, also one owned by another async runtime,
/// and after fork() in the child.
///
/// Pointers: ids must point to n pointers, each a C string; out must be
/// writable; exp NULL or writable. NULL ids, out or ids[i] give
/// RS_IDC_EINVAL.
#[no_mangle]
pub unsafe extern "C" fn rs_idc_get_token(
    ids: *mut *const c_char,
    n: usize,
    out: *mut *mut c_char,
    exp: *mut i64,
) -> c_int {
    token_call(out, exp, |hand| {
        let ids = identifiers("ids", ids, n)?;
        default_client()?.read_api_token(Api::Provisioned, &ids, |token| hand.write(token))
    })
}

/// One setting for rs_idc_client_new(): a key and its value, both
/// NUL-terminated C strings.
///
/// Keys are case-insensitive; each may be given once. An option given
/// hides the environment variables in brackets, so a bad value there does
/// not matter:
///
///   region              an AWS region, e.g. us-east-1 (AWS_REGION)
///   profile             a profile of the AWS config files (AWS_PROFILE)
///   endpoint_url        https://...; plain http:// only to loopback or
///                       with allow_http (AWS_ENDPOINT_URL)
///   access_key_id       identity-enhanced credentials: the three come
///   secret_access_key   together or not at all (AWS_ACCESS_KEY_ID,
///   session_token       AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)
///   ca_file             PEM file of extra trusted CA certificates: a
///                       regular file of at most 4 MiB, every block an
///                       X.509 certificate (AWS_CA_BUNDLE)
///   proxy               http://[user:password@]host:port for https://
///                       calls (HTTPS_PROXY, ALL_PROXY)
///   http_proxy          the same for plain http:// calls (HTTP_PROXY,
///                       ALL_PROXY)
///   no_proxy            comma-separated hosts that bypass the proxies;
///                       loopback and link-local ones always do (NO_PROXY)
///   connect_timeout_ms  1 to 3600000 (RS_IDC_CONNECT_TIMEOUT_MS)
///   timeout_ms          whole call, retries included, 1 to 3600000
///                       (RS_IDC_TIMEOUT_MS)
///   max_attempts        1 to 10 (AWS_MAX_ATTEMPTS)
///   cache               on or off; also 1/0, true/false, yes/no
///                       (RS_IDC_CACHE)
///   refresh_margin_s    seconds before expiry a cached token is
///                       refreshed, 0 to 3600 (default: the smaller of 300
///                       and half the token's lifetime)
///   refresh_ahead       on or off: from the smaller of 60 s and half the
///                       margin before that, a call still gets the cached
///                       token and one background refresh starts (default
///                       on; RS_IDC_REFRESH_AHEAD)
///   allow_http          on or off: plain http:// off loopback
///                       (RS_IDC_ALLOW_HTTP)
///
/// Per-user tokens (see rs_idc_client_get_user_token()); the first two
/// go together and the others need them:
///
///   idc_application_arn   the IAM Identity Center application that
///                         trusts the web tokens' issuer:
///                         arn:aws:sso::ACCOUNT:application/ssoins-ID/apl-ID
///   access_role_arn       the role assumed with each user's identity
///                         context: arn:aws:iam::ACCOUNT:role/NAME
///   application_role_arn  a role assumed with the web token itself to
///                         sign the exchange, for a process without
///                         credentials of its own (optional)
///   web_token_file        a file holding the web token of a single-user
///                         program, read again at each exchange and
///                         whenever it changes; then
///                         rs_idc_client_get_token(),
///                         rs_idc_client_get_serverless_token() and
///                         rs_idc_client_get_token_for_host() get that
///                         user's token (optional)
///   role_session_name     2 to 64 of A-Z a-z 0-9 +=,.@_- (default
///                         rs-idc-web-identity for AssumeRoleWithWebIdentity,
///                         rs-idc-identity-context for AssumeRole)
///
/// Browser sign-in (see rs_idc_client_get_browser_token()):
///
///   issuer_url               the Identity Center issuer URL (needed)
///   idc_region               the Identity Center region (default: the
///                            handle's region)
///   listen_port              the loopback port the browser is sent back
///                            to, 1 to 65535 (default 7890)
///   idp_response_timeout_s   how long the sign-in may take, 1 to 3600
///                            (default 120)
///   idc_client_display_name  the name the client registers under
///                            (default rs-idc)
#[repr(C)]
#[allow(non_camel_case_types)] // the C name
pub struct rs_idc_option {
    /// The option's key.
    pub key: *const c_char,
    /// The option's value.
    pub value: *const c_char,
}

/// A client handle: settings, AWS SDK clients and a connection pool. Made
/// by rs_idc_client_new(), released by rs_idc_client_free(); many threads
/// may use one handle at once.
#[allow(non_camel_case_types)] // the C name
pub struct rs_idc_client {
    /// Shared with the threads of the handle's non-blocking requests,
    /// which may outlive the handle.
    pub(super) client: Arc<Client>,
}

/// The options of a C array, keys and values each read with a bound (one
/// byte past the longest allowed, so that a longer one is reported).
///
/// # Safety
/// `options` must be NULL or point to `n` readable `rs_idc_option`s.
unsafe fn raw_options<'a>(
    options: *const rs_idc_option,
    n: usize,
) -> Result<Vec<RawOption<'a>>, Error> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if options.is_null() {
        return Err(Error::invalid("options is NULL"));
    }
    if n > RS_IDC_MAX_OPTIONS {
        return Err(Error::invalid(format!(
            "n must be at most {RS_IDC_MAX_OPTIONS} options, got {n}"
        )));
    }
    std::slice::from_raw_parts(options, n)
        .iter()
        .enumerate()
        .map(|(i, option)| {
            let key = text_argument(
                &format!("options[{i}].key"),
                option.key,
                RS_IDC_MAX_OPTION_KEY_LEN + 1,
            )?;
            let value = (!option.value.is_null())
                .then(|| bounded_bytes(option.value, RS_IDC_MAX_OPTION_VALUE_LEN + 1));
            Ok((key, value))
        })
        .collect()
}

/// The client behind a handle, or an error when it is NULL.
///
/// # Safety
/// `client` must be NULL or a live handle from `rs_idc_client_new()`.
pub(super) unsafe fn client_ref<'a>(client: *mut rs_idc_client) -> Result<&'a Arc<Client>, Error> {
    client
        .as_ref()
        .map(|handle| &handle.client)
        .ok_or_else(|| Error::invalid("client is NULL"))
}

/// Makes a client handle from n options (see rs_idc_option). Settings not
/// given come from the environment, as for rs_idc_get_token().
/// A web_token_file must be a regular file when the handle is made.
///
/// options: n options; may be NULL when n is 0; at most RS_IDC_MAX_OPTIONS.
/// out: receives the new handle; release it with rs_idc_client_free().
///
/// Every option is checked here, and nothing is contacted until the first
/// token call. Returns RS_IDC_OK, or RS_IDC_EINVAL for an unknown key, a
/// key given twice, a malformed value, credentials without all three
/// parts or an unusable CA file; then *out is NULL and rs_idc_last_error()
/// names the key (never a secret value or a password).
///
/// Threads: any thread.
///
/// Pointers: options must point to n options whose keys are C strings and
/// whose values are C strings or NULL; out must be writable.
#[no_mangle]
pub unsafe extern "C" fn rs_idc_client_new(
    options: *const rs_idc_option,
    n: usize,
    out: *mut *mut rs_idc_client,
) -> c_int {
    guard(|| {
        let out = output_slot(out)?;
        let settings = settings_from_options(&raw_options(options, n)?)?;
        *out = Box::into_raw(Box::new(rs_idc_client {
            client: Arc::new(Client::new(settings)),
        }));
        Ok(())
    })
}

/// As rs_idc_get_token(), with the settings of a client handle.
///
/// client: a handle from rs_idc_client_new(); NULL gives RS_IDC_EINVAL.
/// The other arguments, the result and the thread rules are those of
/// rs_idc_get_token(); many threads may use one handle at once.
///
/// Pointers: client must be NULL or a live handle; the others as for
/// rs_idc_get_token().
#[no_mangle]
pub unsafe extern "C" fn rs_idc_client_get_token(
    client: *mut rs_idc_client,
    ids: *mut *const c_char,
    n: usize,
    out: *mut *mut c_char,
    exp: *mut i64,
) -> c_int {
    token_call(out, exp, |hand| {
        let client = client_ref(client)?;
        let ids = identifiers("ids", ids, n)?;
        client.read_api_token(Api::Provisioned, &ids, |token| hand.write(token))
    })
}

/// Gets a token for Redshift Serverless workgroups (the API
/// redshift-serverless:GetIdentityCenterAuthToken).
///
/// workgroups: n names, 1 to RS_IDC_MAX_IDENTIFIERS, each 3 to 64
/// lower-case ASCII letters, digits and hyphens, checked before any
/// network traffic. Otherwise as rs_idc_client_get_token().
///
/// Pointers: as rs_idc_client_get_token(), with workgroups for ids.
#[no_mangle]
pub unsafe extern "C" fn rs_idc_client_get_serverless_token(
    client: *mut rs_idc_client,
    workgroups: *mut *const c_char,
    n: usize,
    out: *mut *mut c_char,
    exp: *mut i64,
) -> c_int {
    token_call(out, exp, |hand| {
        let client = client_ref(client)?;
        let workgroups = identifiers("workgroups", workgroups, n)?;
        client.read_api_token(Api::Serverless, &workgroups, |token| hand.write(token))
    })
}

/// Gets a token for the cluster or workgroup a host name names, as the
/// official drivers read it.
///
/// host: at most RS_IDC_MAX_HOST_LEN bytes, one of:
/// - CLUSTER.ID.REGION.redshift.amazonaws.com or
///   WORKGROUP.ACCOUNT.REGION.redshift-serverless.amazonaws.com (also
///   under amazonaws.com.cn), read locally. The host's region is used
///   unless the handle has a region option; the process keeps clients for
///   at most 32 such regions (of all handles).
/// - any other DNS name: a custom domain name. Redshift
///   DescribeCustomDomainAssociations, then Redshift Serverless
///   ListCustomDomainAssociations, in the handle's region, say which
///   cluster or workgroup it is (RS_IDC_ENOTFOUND when neither knows it);
///   the answer is kept for an hour per region, endpoint and identity.
///
/// The handle's time bound (timeout_ms) covers the whole call, the lookup
/// included. An IP address, or a name with a scheme, port or path, gives
/// RS_IDC_EINVAL: pass the identifier instead. Otherwise as
/// rs_idc_client_get_token().
///
/// Pointers: client must be NULL or a live handle; host NULL or a C
/// string; out and exp as for rs_idc_get_token().
#[no_mangle]
pub unsafe extern "C" fn rs_idc_client_get_token_for_host(
    client: *mut rs_idc_client,
    host: *const c_char,
    out: *mut *mut c_char,
    exp: *mut i64,
) -> c_int {
    token_call(out, exp, |hand| {
        let client = client_ref(client)?;
        let host = text_argument("host", host, RS_IDC_MAX_HOST_LEN + 1)?;
        client.read_host_token(host, |token| hand.write(token))
    })
}

/// Gets the token of one user of a multi-user program (a BI server, a
/// gateway, a pool) for Redshift provisioned clusters, from that user's
/// identity-provider token: trusted identity propagation with IAM
/// Identity Center.
///
/// client: a handle made with the options idc_application_arn and
/// access_role_arn (else RS_IDC_EINVAL).
/// web_token: the user's token from their identity provider, a JWT (an
/// OIDC ID or access token), at most RS_IDC_MAX_WEB_TOKEN_LEN bytes.
/// ids, n, out, exp: as rs_idc_client_get_token().
///
/// The exchange: the handle's own credentials (or, with
/// application_role_arn, that role assumed with the web token) call
/// SSO-OIDC CreateTokenWithIAM with the web token; the identity context it
/// returns is given to STS AssumeRole of access_role_arn; the user's
/// identity-enhanced credentials then get the token. They are kept per
/// handle and web token until shortly before they expire (then renewed
/// with the refresh token, or the web token when that is refused), at most
/// 4096 users in the process, and concurrent calls for one user make one
/// exchange. Tokens are cached per user by the same rule as every token:
/// users never receive each other's.
///
/// Returns RS_IDC_OK, or a negative status: RS_IDC_EINVAL for a web token
/// that is not a JWT with a numeric exp claim, RS_IDC_EIDENTITY for an
/// expired one (both before any network traffic) and for a web token or
/// application the services refuse (the message has the service's code
/// and request id), RS_IDC_EDENIED when a role may not be assumed; the
/// others as rs_idc_client_get_token(). The web token is a secret: it is
/// never in a message or a log record.
///
/// Pointers: client must be NULL or a live handle; web_token NULL or a C
/// string; the others as for rs_idc_get_token().
#[no_mangle]
pub unsafe extern "C" fn rs_idc_client_get_user_token(
    client: *mut rs_idc_client,
    web_token: *const c_char,
    ids: *mut *const c_char,
    n: usize,
    out: *mut *mut c_char,
    exp: *mut i64,
) -> c_int {
    user_token_call(client, web_token, Api::Provisioned, "ids", ids, n, out, exp)
}

/// As rs_idc_client_get_user_token(), for Redshift Serverless workgroups
/// (names as for rs_idc_client_get_serverless_token()).
///
/// Pointers: as rs_idc_client_get_user_token(), with workgroups for ids.
#[no_mangle]
pub unsafe extern "C" fn rs_idc_client_get_user_serverless_token(
    client: *mut rs_idc_client,
    web_token: *const c_char,
    workgroups: *mut *const c_char,
    n: usize,
    out: *mut *mut c_char,
    exp: *mut i64,
) -> c_int {
    user_token_call(
        client,
        web_token,
        Api::Serverless,
        "workgroups",
        workgroups,
        n,
        out,
        exp,
    )
}

/// The body of both per-user calls; `name` names the identifiers.
///
/// # Safety
/// As the two calls' pointer rules.
#[allow(clippy::too_many_arguments)] // the C arguments, passed through
unsafe fn user_token_call(
    client: *mut rs_idc_client,
    web_token: *const c_char,
    api: Api,
    name: &str,
    ids: *mut *const c_char,
    n: usize,
    out: *mut *mut c_char,
    exp: *mut i64,
) -> c_int {
    token_call(out, exp, |hand| {
        let client = client_ref(client)?;
        let web_token = text_argument("web_token", web_token, RS_IDC_MAX_WEB_TOKEN_LEN + 1)?;
        let ids = identifiers(name, ids, n)?;
        client.read_user_token(api, web_token, &ids, |token| hand.write(token))
    })
}

/// Releases a client handle and wipes its secret settings. NULL is fine.
///
/// Threads: no call on the handle may be running or follow.
///
/// Pointers: client must be NULL or a live handle from rs_idc_client_new().
#[no_mangle]
pub unsafe extern "C" fn rs_idc_client_free(client: *mut rs_idc_client) {
    boundary((), || {
        if !client.is_null() {
            drop(Box::from_raw(client));
        }
    })
}

/// Empties everything the process keeps: cached tokens, users'
/// credentials and web token files, custom-domain mappings, browser
/// sign-ins (access and refresh tokens, registered clients) and the
/// clients kept for regions of host names. What is dropped is wiped. The
/// next call asks the services again (a browser sign-in opens the browser
/// again).
///
/// Threads: any thread; calls running at the same time may still return
/// a token they had already taken from the cache.
#[no_mangle]
pub extern "C" fn rs_idc_cache_clear() {
    boundary((), clear_cache)
}

/// The most bytes read of a token handed to rs_idc_forget_token(): the
/// largest answer the library accepts.
const MAX_TOKEN_SCAN: usize = 1 << 20;

/// Forgets a token: a driver whose login was refused with a token it got
/// from this library calls this, so that the next call fetches a new
/// one instead of the cached one. Then retry the login once:
///
///   login refused -> rs_idc_forget_token(token) -> get a token -> retry
///
/// token: the refused token, a C string: any token from this library,
/// also a browser sign-in's access token (token_type=ACCESS_TOKEN). If it
/// is still kept it is dropped (the comparison runs in constant time); a
/// browser sign-in keeps its refresh token, so the next call renews it
/// without the browser when it can. NULL or a token that is not kept does
/// nothing. The caller still frees its copy with rs_idc_free_token().
///
/// Threads: any thread.
///
/// Pointers: token must be NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn rs_idc_forget_token(token: *const c_char) {
    boundary((), || {
        if !token.is_null() {
            let text = bounded_bytes(token, MAX_TOKEN_SCAN);
            if forget_token(text) {
                tracing::info!("a refused token was forgotten; the next call fetches a new one");
            }
        }
    })
}
