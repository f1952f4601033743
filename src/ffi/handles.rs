//! Client handles: the options type, making one, its token calls, freeing
//! it, and what acts on everything the process keeps (clearing, forgetting
//! a refused token).

use super::{boundary, bounded_bytes, guard, identifiers, output_slot, text_argument, token_call};
use crate::client::Client;
use crate::error::Error;
use crate::hosts::RS_IDC_MAX_HOST_LEN;
use crate::memory::{clear_cache, forget_token};
use crate::options::{
    settings_from_options, RawOption, RS_IDC_MAX_OPTIONS, RS_IDC_MAX_OPTION_KEY_LEN,
    RS_IDC_MAX_OPTION_VALUE_LEN,
};
use crate::token::Api;
use std::ffi::{c_char, c_int};
use std::sync::Arc;

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
///   token_cache_dir          a folder where the sign-in is kept across
///                            processes (RS_IDC_TOKEN_CACHE_DIR; default:
///                            in memory only)
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
/// options, n: n options, at most RS_IDC_MAX_OPTIONS; options may be NULL
/// when n is 0.
/// out: receives the new handle; release it with rs_idc_client_free().
///
/// Every option is checked here, and nothing is contacted until the first
/// token call.
///
/// Returns RS_IDC_OK, or RS_IDC_EINVAL for an unknown key, a key given
/// twice, a malformed value, credentials without all three parts or an
/// unusable CA file; then *out is NULL and rs_idc_last_error() names the
/// key (never a secret value or a password).
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

/// Gets a token for Redshift provisioned clusters with the settings of a
/// client handle. The call is rs_idc_get_token() with the handle's
/// settings in place of the environment's.
///
/// client: a handle from rs_idc_client_new(); NULL gives RS_IDC_EINVAL.
/// ids, n, out, exp: as for rs_idc_get_token().
///
/// Returns RS_IDC_OK or a negative status, as rs_idc_get_token() does.
///
/// Threads: as for rs_idc_get_token(); many threads may use one handle at
/// once.
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
        client.read_api_token(Api::Provisioned, ids, |token| hand.write(token))
    })
}

/// Gets a token for Redshift Serverless workgroups (the API
/// redshift-serverless:GetIdentityCenterAuthToken).
///
/// client, out, exp: as for rs_idc_client_get_token().
/// workgroups, n: n names, 1 to RS_IDC_MAX_IDENTIFIERS, each 3 to 64
/// lower-case ASCII letters, digits and hyphens, checked before any
/// network traffic.
///
/// Otherwise as rs_idc_client_get_token().
///
/// Returns RS_IDC_OK or a negative status, as rs_idc_client_get_token()
/// does.
///
/// Threads: any thread; many threads may use one handle at once.
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
        client.read_api_token(Api::Serverless, workgroups, |token| hand.write(token))
    })
}

/// Gets a token for the cluster or workgroup a host name names, as the
/// official drivers read it.
///
/// client, out, exp: as for rs_idc_client_get_token().
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
/// Returns RS_IDC_OK or a negative status, as rs_idc_client_get_token()
/// does, and RS_IDC_ENOTFOUND for a custom domain name neither service
/// knows.
///
/// Threads: any thread; many threads may use one handle at once.
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

/// Releases a client handle and wipes its secret settings.
///
/// client: a handle from rs_idc_client_new(); NULL is fine and does
/// nothing.
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
