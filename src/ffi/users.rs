//! Per-user tokens: one user's token from their identity provider's web
//! token, for provisioned clusters and Serverless workgroups.

use super::handles::{client_ref, rs_idc_client};
use super::{identifiers, text_argument, token_call};
use crate::token::Api;
use crate::web_token::RS_IDC_MAX_WEB_TOKEN_LEN;
use std::ffi::{c_char, c_int};

/// Gets one user's token for Redshift provisioned clusters from that
/// user's identity-provider token. This is trusted identity propagation
/// with IAM Identity Center, for a program that acts for many users (a BI
/// server, a gateway, a pool).
///
/// client: a handle made with the options idc_application_arn and
/// access_role_arn (else RS_IDC_EINVAL).
/// web_token: the user's token from their identity provider, a JWT (an
/// OIDC ID or access token), at most RS_IDC_MAX_WEB_TOKEN_LEN bytes.
/// ids, n, out, exp: as for rs_idc_client_get_token().
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
/// Threads: any thread; many threads may use one handle at once, for one
/// user or for many.
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

/// Gets one user's token for Redshift Serverless workgroups from that
/// user's identity-provider token. The call is
/// rs_idc_client_get_user_token() for workgroups.
///
/// client, web_token, out, exp: as for rs_idc_client_get_user_token().
/// workgroups, n: n names, as for rs_idc_client_get_serverless_token().
///
/// Returns RS_IDC_OK or a negative status, as
/// rs_idc_client_get_user_token() does.
///
/// Threads: any thread; many threads may use one handle at once, for one
/// user or for many.
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
        client.read_user_token(api, web_token, ids, |token| hand.write(token))
    })
}
