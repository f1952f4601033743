//! Where the settings of a `--check` come from: the command line, the
//! environment, or the AWS profile, read with `aws-config`'s own profile
//! loader so that the files are read as the SDK reads them.
//!
//! Nothing here reaches the network: the region is looked up in the
//! environment and the profile only, never in the instance metadata.

use crate::args::{Args, Target, UserArgs};
use aws_config::meta::region::ProvideRegion;
use aws_config::profile::ProfileFileRegionProvider;
use aws_types::os_shim_internal::{Env, Fs};
use std::borrow::Cow;

/// Profile keys that give the SDK credentials, or a way to get them.
const CREDENTIAL_KEYS: &[&str] = &[
    "aws_access_key_id",
    "role_arn",
    "sso_session",
    "sso_start_url",
    "credential_process",
    "web_identity_token_file",
    "login_session",
];

/// What the AWS config and credentials files say about one profile.
#[derive(Debug, Default)]
pub struct ProfileFacts {
    /// The profile's region, or that of the profile it takes its
    /// credentials from (`source_profile`), as the SDK finds it.
    pub region: Option<String>,
    /// Whether the profile has credentials or a way to get them.
    pub has_credentials: bool,
    /// Why the files could not be read, if they could not.
    pub unreadable: Option<String>,
}

/// The profile a call uses: `--profile`, else `AWS_PROFILE`, else
/// `default`.
pub fn profile_name(args: &Args) -> String {
    args.profile
        .clone()
        .or_else(|| env_var("AWS_PROFILE"))
        .unwrap_or_else(|| "default".into())
}

/// Reads what the AWS files say about `profile`, on a small runtime of its
/// own (the loader is asynchronous; the files are read from disk only).
pub fn read_profile(profile: &str) -> ProfileFacts {
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            return ProfileFacts {
                unreadable: Some(format!("cannot start a runtime to read them: {err}")),
                ..ProfileFacts::default()
            }
        }
    };
    runtime.block_on(load_profile(profile))
}

/// Reads `profile`'s region with the SDK's profile region provider, and
/// its keys from the profile set that `aws_config::profile::load` parses.
async fn load_profile(profile: &str) -> ProfileFacts {
    let region = ProfileFileRegionProvider::builder()
        .profile_name(profile)
        .build()
        .region()
        .await
        .map(|region| region.to_string());
    let profiles = aws_config::profile::load(
        &Fs::real(),
        &Env::real(),
        &Default::default(),
        Some(Cow::Owned(profile.to_owned())),
    )
    .await;
    match profiles {
        Ok(profiles) => ProfileFacts {
            region,
            has_credentials: profiles
                .get_profile(profile)
                .is_some_and(|found| CREDENTIAL_KEYS.iter().any(|key| found.get(key).is_some())),
            unreadable: None,
        },
        Err(err) => ProfileFacts {
            region,
            has_credentials: false,
            unreadable: Some(err.to_string()),
        },
    }
}

/// The region a call uses and where it comes from, in the order the
/// library looks: `--region`, the host name, `AWS_REGION`,
/// `AWS_DEFAULT_REGION`, the profile.
pub fn region_source(args: &Args, profile: &str, facts: &ProfileFacts) -> String {
    if let Some(region) = &args.region {
        return format!("{region} (from --region)");
    }
    if let Some(Target::Host(host)) = &args.target {
        if let Ok(target) = rs_idc::hosts::parse_host(host.as_bytes()) {
            return format!("{} (from the host name)", target.region);
        }
    }
    for name in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Some(region) = env_var(name) {
            return format!("{region} (from {name})");
        }
    }
    match &facts.region {
        Some(region) => format!("{region} (from profile '{profile}')"),
        None => "none found: pass --region or set AWS_REGION".into(),
    }
}

/// Where the credentials come from, in the order the SDK looks:
/// environment variables, the profile, a web identity token, a container
/// endpoint, the instance metadata. For a user's token (`user`) they sign
/// the exchange and need not be identity-enhanced; with an application
/// role they are not needed.
pub fn credential_source(profile: &str, facts: &ProfileFacts, user: Option<&UserArgs>) -> String {
    let found = own_credentials(profile, facts, user.is_some());
    match user {
        Some(user) if user.application_role_arn.is_some() => {
            format!("{found}; not used: the application role signs the exchange")
        }
        Some(_) if found == NONE_FOUND => {
            format!("{found}: the exchange needs them, or --application-role-arn")
        }
        Some(_) => format!("{found}; they sign the exchange"),
        None => found,
    }
}

/// Where the SDK finds credentials, for [`credential_source`].
fn own_credentials(profile: &str, facts: &ProfileFacts, per_user: bool) -> String {
    if env_var("AWS_ACCESS_KEY_ID").is_some() {
        let session = match (env_var("AWS_SESSION_TOKEN").is_some(), per_user) {
            (true, _) => "with AWS_SESSION_TOKEN",
            (false, true) => "without AWS_SESSION_TOKEN",
            (false, false) => "without AWS_SESSION_TOKEN: not identity-enhanced",
        };
        return format!("environment variables (AWS_ACCESS_KEY_ID, {session})");
    }
    if facts.has_credentials {
        return format!("profile '{profile}'");
    }
    if env_var("AWS_WEB_IDENTITY_TOKEN_FILE").is_some() {
        return "web identity token (AWS_WEB_IDENTITY_TOKEN_FILE)".into();
    }
    if env_var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").is_some()
        || env_var("AWS_CONTAINER_CREDENTIALS_FULL_URI").is_some()
    {
        return "container credentials".into();
    }
    if env_var("AWS_EC2_METADATA_DISABLED").as_deref() != Some("true") {
        return "instance metadata, if this runs on EC2 (nothing else found)".into();
    }
    NONE_FOUND.into()
}

/// Where the SDK would find credentials, for a sign-in for people, whose
/// calls are not signed.
pub fn sign_in_credential_source(profile: &str, facts: &ProfileFacts) -> String {
    let found = own_credentials(profile, facts, true);
    format!("{found}; not needed: the sign-in is not signed with AWS credentials")
}

/// What [`own_credentials`] says when it finds none.
const NONE_FOUND: &str = "none found";

/// The endpoint a call goes to and where it comes from: `--endpoint-url`,
/// the service's own variable, `AWS_ENDPOINT_URL`, or the region's public
/// endpoint. For a sign-in the service is SSO-OIDC, in the Identity
/// Center region.
pub fn endpoint_source(args: &Args) -> String {
    if let Some(url) = &args.endpoint_url {
        return format!("{url} (from --endpoint-url)");
    }
    let (service, public) = match &args.target {
        Some(Target::SignIn(_)) => (
            "AWS_ENDPOINT_URL_SSO_OIDC",
            "the public SSO-OIDC endpoint of the Identity Center region",
        ),
        Some(Target::Workgroups(_)) => (
            "AWS_ENDPOINT_URL_REDSHIFT_SERVERLESS",
            "the public endpoint of the region",
        ),
        Some(Target::Host(host)) if host.contains(".redshift-serverless.") => (
            "AWS_ENDPOINT_URL_REDSHIFT_SERVERLESS",
            "the public endpoint of the region",
        ),
        Some(Target::Clusters(_) | Target::Host(_)) | None => (
            "AWS_ENDPOINT_URL_REDSHIFT",
            "the public endpoint of the region",
        ),
    };
    for name in [service, "AWS_ENDPOINT_URL"] {
        if let Some(url) = env_var(name) {
            return format!("{url} (from {name})");
        }
    }
    public.into()
}

/// An environment variable's value, if it is set and not empty.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}
