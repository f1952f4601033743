//! STS in the AWS query protocol (XML answers): `AssumeRoleWithWebIdentity`
//! (unsigned) and `AssumeRole` (signed, with optional IAM Identity Center
//! contexts in `ProvidedContexts`).

use super::jwt::{self, ContextError, JwtError};
use crate::auth;
use crate::http::Request;
use crate::keys::{CONTEXT_PROVIDER_ARN, DENIED_ROLE_ARN, WEB_TOKEN_AUDIENCE, WEB_TOKEN_ISSUER};
use crate::server::State;
use crate::service::{param, xml_escape, Protocol, Reply};
use crate::service::{Answer, Failure};
use crate::sigv4;
use crate::timefmt;
use std::collections::BTreeMap;

pub(crate) const ASSUME_ROLE: &str = "AssumeRole";
pub(crate) const ASSUME_ROLE_WITH_WEB_IDENTITY: &str = "AssumeRoleWithWebIdentity";
const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
const SERVICE: &str = "sts";
const MAX_CONTEXTS: usize = 5;

fn validation(message: impl Into<String>) -> Failure {
    (400, "ValidationError", message.into())
}

fn invalid_parameter(message: impl Into<String>) -> Failure {
    (400, "InvalidParameterValue", message.into())
}

/// Answers `AssumeRole` and `AssumeRoleWithWebIdentity`; `None` for any
/// other action.
pub(crate) fn handle(
    state: &State,
    req: &Request,
    params: &[(String, String)],
    close: bool,
) -> Option<Reply> {
    let action = param(params, "Action")?;
    let answer = Answer::new(Protocol::Query, XMLNS, close);
    let result = match action {
        ASSUME_ROLE => assume_role(state, req, params),
        ASSUME_ROLE_WITH_WEB_IDENTITY => assume_role_with_web_identity(state, params),
        _ => return None,
    };
    state.identity.count(action);
    Some(answer.reply(result.map(|result| answer.wrapped(action, &result))))
}

fn required<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str, Failure> {
    param(params, name).ok_or_else(|| {
        let member = name[..1].to_ascii_lowercase() + &name[1..];
        validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy \
             constraint: Member must not be null"
        ))
    })
}

struct Role {
    arn: String,
    account: String,
    name: String,
}

fn parse_role(arn: &str) -> Option<Role> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, path) = rest.split_once(":role/")?;
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    let name = path.rsplit('/').next()?;
    let chars_ok = path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-/".contains(c));
    (account_ok && chars_ok && (1..=64).contains(&name.len())).then(|| Role {
        arn: arn.to_string(),
        account: account.to_string(),
        name: name.to_string(),
    })
}

/// The parameters every assume operation has: the role, the session name;
/// and the credentials' lifetime.
fn common(state: &State, params: &[(String, String)]) -> Result<(Role, String, i64), Failure> {
    let role_arn = required(params, "RoleArn")?;
    let session = required(params, "RoleSessionName")?;
    let session_ok = (2..=64).contains(&session.len())
        && session
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !session_ok {
        let shown: String = session.chars().take(80).collect();
        return Err(validation(format!(
            "1 validation error detected: Value '{shown}' at 'roleSessionName' failed to \
             satisfy constraint: Member must have length between 2 and 64 and satisfy regular \
             expression pattern: [\\w+=,.@-]*"
        )));
    }
    let ttl = state.identity.user_credentials_ttl_secs;
    let role = parse_role(role_arn).ok_or_else(|| validation("Request ARN is invalid"))?;
    Ok((role, session.to_string(), ttl))
}

fn role_id(role_arn: &str) -> String {
    let digest = sigv4::sha256_hex(role_arn.as_bytes()).to_ascii_uppercase();
    format!("AROA{}", &digest[..17])
}

fn mint(state: &State, role: &Role, session: &str, ttl: i64, subject: Option<&str>) -> String {
    let expires = timefmt::now_epoch_secs().saturating_add(ttl);
    let (key_id, minted) = state.identity.mint(expires, subject);
    let arn = format!(
        "arn:aws:sts::{}:assumed-role/{}/{session}",
        role.account, role.name
    );
    format!(
        "    <AssumedRoleUser>\n      <Arn>{}</Arn>\n      <AssumedRoleId>{}:{}</AssumedRoleId>\n    \
         </AssumedRoleUser>\n    <Credentials>\n      <AccessKeyId>{key_id}</AccessKeyId>\n      \
         <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n      \
         <Expiration>{}</Expiration>\n    </Credentials>\n",
        xml_escape(&arn),
        role_id(&role.arn),
        xml_escape(session),
        xml_escape(&minted.secret_access_key),
        xml_escape(&minted.session_token),
        timefmt::rfc3339(expires),
    )
}

fn denied(role: &Role, action: &str) -> Result<(), Failure> {
    if role.arn == DENIED_ROLE_ARN {
        let message = format!(
            "Not authorized to perform sts:{action} on resource: {}",
            role.arn
        );
        return Err((403, "AccessDenied", message));
    }
    Ok(())
}

/// `AssumeRoleWithWebIdentity`: unsigned; the web token is the proof.
fn assume_role_with_web_identity(
    state: &State,
    params: &[(String, String)],
) -> Result<String, Failure> {
    let (role, session, ttl) = common(state, params)?;
    let name = (ASSUME_ROLE_WITH_WEB_IDENTITY.into(), session.clone());
    State::note(&state.session_names, name, false);
    let token = required(params, "WebIdentityToken")?;
    let now = timefmt::now_epoch_secs();
    let subject = jwt::verify(&state.identity.key, token, now).map_err(|e| {
        let (status, code) = match e {
            JwtError::Audience => (403, "IDPRejectedClaim"),
            JwtError::Expired => (400, "ExpiredTokenException"),
            _ => (400, "InvalidIdentityToken"),
        };
        (status, code, e.message())
    })?;
    denied(&role, ASSUME_ROLE_WITH_WEB_IDENTITY)?;
    let creds = mint(state, &role, &session, ttl, None);
    Ok(format!(
        "    <SubjectFromWebIdentityToken>{}</SubjectFromWebIdentityToken>\n    \
         <Audience>{}</Audience>\n{creds}    <Provider>{}</Provider>\n",
        xml_escape(&subject),
        xml_escape(WEB_TOKEN_AUDIENCE),
        xml_escape(WEB_TOKEN_ISSUER),
    ))
}

fn provided_subject(state: &State, params: &[(String, String)]) -> Result<Option<String>, Failure> {
    let mut entries: BTreeMap<u64, (Option<&str>, Option<&str>)> = BTreeMap::new();
    for (k, v) in params {
        let Some(rest) = k.strip_prefix("ProvidedContexts.member.") else {
            continue;
        };
        let Some((index, member)) = rest.split_once('.') else {
            continue;
        };
        let index = index
            .parse::<u64>()
            .ok()
            .filter(|i| *i >= 1)
            .ok_or_else(|| validation("ProvidedContexts has a malformed member index."))?;
        let entry = entries.entry(index).or_default();
        match member {
            "ProviderArn" => entry.0 = Some(v),
            "ContextAssertion" => entry.1 = Some(v),
            _ => {}
        }
    }
    if entries.len() > MAX_CONTEXTS {
        return Err(validation(
            "1 validation error detected: Value at 'providedContexts' failed to satisfy \
             constraint: Member must have length less than or equal to 5",
        ));
    }
    let mut subject = None;
    for (index, (provider, assertion)) in entries {
        let at = format!("ProvidedContexts.member.{index}");
        if provider != Some(CONTEXT_PROVIDER_ARN) {
            return Err(invalid_parameter(format!(
                "{at}.ProviderArn is not a supported context provider (expected \
                 {CONTEXT_PROVIDER_ARN})."
            )));
        }
        let Some(assertion) = assertion else {
            return Err(invalid_parameter(format!(
                "{at}.ContextAssertion is missing."
            )));
        };
        if subject.is_some() {
            return Err(invalid_parameter(format!(
                "{at} repeats the provider {CONTEXT_PROVIDER_ARN}."
            )));
        }
        let now = timefmt::now_epoch_secs();
        let user = jwt::verify_context(&state.identity.key, assertion, now).map_err(|e| {
            invalid_parameter(match e {
                ContextError::Malformed => format!("{at}.ContextAssertion is malformed."),
                ContextError::NotIssued => format!(
                    "{at}.ContextAssertion was not issued by the context provider or has \
                     been altered."
                ),
                ContextError::Expired => format!("{at}.ContextAssertion has expired."),
            })
        })?;
        subject = Some(user);
    }
    Ok(subject)
}

/// `AssumeRole`: signed; with an identity context, the new session is
/// identity-enhanced for the context's user.
fn assume_role(
    state: &State,
    req: &Request,
    params: &[(String, String)],
) -> Result<String, Failure> {
    auth::authenticate(state, req, SERVICE).map_err(|(e, message)| {
        let (status, code) = e.code(Protocol::Query);
        (status, code, message)
    })?;
    let (role, session, ttl) = common(state, params)?;
    State::note(
        &state.session_names,
        (ASSUME_ROLE.into(), session.clone()),
        false,
    );
    let subject = provided_subject(state, params)?;
    denied(&role, ASSUME_ROLE)?;
    Ok(mint(state, &role, &session, ttl, subject.as_deref()))
}
