//! The command line: what it may say (`USAGE`), and what a given one asks
//! for ([`Command`]), read with `lexopt`.

use lexopt::prelude::*;
use std::ffi::OsString;

/// The text of `--help`, also shown after a bad command line.
pub const USAGE: &str = "\
usage: rs-idc-token [OPTIONS] (--cluster-id ID... | --workgroup NAME... | --host HOST)
       rs-idc-token [OPTIONS] (--browser | --device-code) --issuer-url URL
                    [SIGN-IN OPTIONS]

Gets an Amazon Redshift IAM Identity Center auth token and prints it.

  --cluster-id ID      a provisioned cluster (repeatable, up to 20)
  --workgroup NAME     a Redshift Serverless workgroup (repeatable, up to 20)
  --host HOST          a Redshift host name, e.g.
                       my-cluster.abc123.us-east-1.redshift.amazonaws.com
  --region REGION      AWS region (default: AWS_REGION, the profile, or the host)
  --profile NAME       AWS profile (default: AWS_PROFILE)
  --endpoint-url URL   another endpoint (default: AWS_ENDPOINT_URL)
  --json               print {\"token\", \"expires_at\", \"expiration\"} instead
  --check              check the setup, print what was found and what to fix;
                       never prints the token or a secret
  --help, --version

A user's token (trusted identity propagation): with these, the token is that
of the user whose web token (a JWT from their identity provider) is in a file.
The first three go together.

  --web-token-file FILE       the user's web token, read at each exchange
  --idc-application-arn ARN   the IAM Identity Center application that trusts
                              the web token's issuer
  --access-role-arn ARN       the role assumed with the user's identity context
  --application-role-arn ARN  a role assumed with the web token to sign the
                              exchange (default: the AWS credentials sign it)
  --role-session-name NAME    the session name of both role calls (default:
                              rs-idc-web-identity, rs-idc-identity-context)

Sign-in for people: a person signs in to IAM Identity Center, and the Identity
Center access token is printed, to send to Redshift with
token_type=ACCESS_TOKEN. No AWS credentials are needed. The sign-in is kept in
a token cache folder (files 0600 in a folder 0700 of your own), so the next
run prints a token without a new sign-in and renews it with its refresh token.

  --browser                 sign in in the browser on this machine (as the
                            drivers' BrowserIdcAuthPlugin)
  --device-code             sign in with a code confirmed in a browser on any
                            device (for a remote shell or a machine without
                            a desktop): the URL and code are printed on
                            stderr
  --issuer-url URL          the Identity Center issuer URL (needed)
  --idc-region REGION       the Identity Center region (default: --region)
  --idp-response-timeout S  how long the sign-in may take, in seconds
                            (default 120)
  --idc-client-display-name NAME
                            the name the client registers under (default
                            rs-idc)
  --token-cache-dir DIR     where the sign-in is kept (default:
                            $XDG_CACHE_HOME/rs-idc, else ~/.cache/rs-idc)
  --no-token-cache          keep the sign-in for this run only
  --listen-port PORT        --browser: the loopback port the browser is sent
                            back to (default 7890)
  --open-with CMD           --browser: open the sign-in page with CMD instead
                            of xdg-open (open on macOS): sh runs CMD with the
                            URL as its last argument, and CMD should return
                            once the browser has it. With no opener, the URL
                            is printed on stderr to open by hand, and the
                            sign-in waits for it

Exit status: 0, or the absolute value of the RS_IDC_* status (1 invalid
argument, 2 no credentials, 3 no region, 4 unsupported, 5 not found, ...,
9 timed out, 14 web token or sign-in refused), or 64 for a bad command line.
";

/// What a command line asks for.
#[derive(Debug)]
pub enum Command {
    /// Get a token, or check the setup.
    Run(Box<Args>),
    /// Print [`USAGE`].
    Help,
    /// Print the name and version.
    Version,
}

/// What a token is asked for: exactly one kind of target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Provisioned clusters, by identifier (`--cluster-id`).
    Clusters(Vec<String>),
    /// Redshift Serverless workgroups, by name (`--workgroup`).
    Workgroups(Vec<String>),
    /// A Redshift or Redshift Serverless host name (`--host`).
    Host(String),
    /// No cluster: an IAM Identity Center access token from a person's
    /// sign-in (`--browser` or `--device-code`).
    SignIn(SignInArgs),
}

/// How a person signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInFlow {
    /// In a browser on this machine, sent back to a loopback port
    /// (`--browser`).
    Browser,
    /// With a code confirmed in a browser anywhere (`--device-code`).
    DeviceCode,
}

impl SignInFlow {
    /// The flag that asks for this flow.
    pub fn flag(self) -> &'static str {
        match self {
            SignInFlow::Browser => "--browser",
            SignInFlow::DeviceCode => "--device-code",
        }
    }
}

/// Where the sign-in is kept between runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCache {
    /// `$XDG_CACHE_HOME/rs-idc`, else `~/.cache/rs-idc`.
    Default,
    /// The folder of `--token-cache-dir`.
    Dir(String),
    /// Nowhere: this run only (`--no-token-cache`).
    Off,
}

/// The flags of a sign-in (the handle options of the same names; the
/// library checks the values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInArgs {
    /// `--browser` or `--device-code`.
    pub flow: SignInFlow,
    /// `--issuer-url`: the Identity Center issuer URL.
    pub issuer_url: String,
    /// `--idc-region`, if given.
    pub idc_region: Option<String>,
    /// `--idp-response-timeout`, in seconds, if given.
    pub idp_response_timeout: Option<String>,
    /// `--idc-client-display-name`, if given.
    pub display_name: Option<String>,
    /// `--token-cache-dir` or `--no-token-cache`.
    pub token_cache: TokenCache,
    /// `--listen-port`, if given (browser only).
    pub listen_port: Option<String>,
    /// `--open-with`: a command that opens the sign-in page, if given
    /// (browser only).
    pub open_with: Option<String>,
}

/// What to do with the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Print the token alone on a line.
    PrintToken,
    /// Print the token and its expiry as one JSON object (`--json`).
    PrintJson,
    /// Report the setup and the outcome of a call, never the token
    /// (`--check`).
    Check,
}

/// The flags of a user's token: the web token file and how it is
/// exchanged (the handle options of the same names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserArgs {
    /// `--web-token-file`: the file holding the user's web token.
    pub web_token_file: String,
    /// `--idc-application-arn`: the IAM Identity Center application.
    pub idc_application_arn: String,
    /// `--access-role-arn`: the role assumed with the identity context.
    pub access_role_arn: String,
    /// `--application-role-arn`: the role that signs the exchange, if any.
    pub application_role_arn: Option<String>,
    /// `--role-session-name`, if given.
    pub role_session_name: Option<String>,
}

/// A command line that asks for a token or a check.
#[derive(Debug)]
pub struct Args {
    /// What the token is for; `None` only with [`Mode::Check`], which then
    /// reports the settings without a call.
    pub target: Option<Target>,
    /// `--region`, overriding the environment and the profile.
    pub region: Option<String>,
    /// `--profile`, overriding `AWS_PROFILE`.
    pub profile: Option<String>,
    /// `--endpoint-url`, overriding `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
    /// The user whose token is asked for; `None`: the token of the AWS
    /// credentials' own identity.
    pub user: Option<UserArgs>,
    /// What to print.
    pub mode: Mode,
}

/// Reads a command line (without the program name). A later `--host`,
/// `--region`, `--profile`, `--endpoint-url` or per-user flag replaces an
/// earlier one; `--cluster-id` and `--workgroup` add to the list.
pub fn parse_args<I>(words: I) -> Result<Command, lexopt::Error>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let mut parser = lexopt::Parser::from_args(words);
    let mut cluster_ids = Vec::new();
    let mut workgroups = Vec::new();
    let mut host = None;
    let mut region = None;
    let mut profile = None;
    let mut endpoint_url = None;
    let mut json = false;
    let mut check = false;
    let mut user = UserFlags::default();
    let mut sign_in = SignInFlags::default();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("cluster-id") => cluster_ids.push(parser.value()?.string()?),
            Long("workgroup") => workgroups.push(parser.value()?.string()?),
            Long("host") => host = Some(parser.value()?.string()?),
            Long("region") => region = Some(parser.value()?.string()?),
            Long("profile") => profile = Some(parser.value()?.string()?),
            Long("endpoint-url") => endpoint_url = Some(parser.value()?.string()?),
            Long("web-token-file") => user.web_token_file = Some(parser.value()?.string()?),
            Long("idc-application-arn") => {
                user.idc_application_arn = Some(parser.value()?.string()?)
            }
            Long("access-role-arn") => user.access_role_arn = Some(parser.value()?.string()?),
            Long("application-role-arn") => {
                user.application_role_arn = Some(parser.value()?.string()?)
            }
            Long("role-session-name") => user.role_session_name = Some(parser.value()?.string()?),
            Long("browser") => sign_in.browser = true,
            Long("device-code") => sign_in.device_code = true,
            Long("issuer-url") => sign_in.issuer_url = Some(parser.value()?.string()?),
            Long("idc-region") => sign_in.idc_region = Some(parser.value()?.string()?),
            Long("listen-port") => sign_in.listen_port = Some(parser.value()?.string()?),
            Long("idp-response-timeout") => {
                sign_in.idp_response_timeout = Some(parser.value()?.string()?)
            }
            Long("open-with") => sign_in.open_with = Some(parser.value()?.string()?),
            Long("idc-client-display-name") => {
                sign_in.display_name = Some(parser.value()?.string()?)
            }
            Long("token-cache-dir") => sign_in.token_cache_dir = Some(parser.value()?.string()?),
            Long("no-token-cache") => sign_in.no_token_cache = true,
            Long("json") => json = true,
            Long("check") => check = true,
            Long("help") | Short('h') => return Ok(Command::Help),
            Long("version") => return Ok(Command::Version),
            _ => return Err(arg.unexpected()),
        }
    }
    let mode = match (json, check) {
        (true, true) => return Err("--json and --check do not go together".into()),
        (true, false) => Mode::PrintJson,
        (false, true) => Mode::Check,
        (false, false) => Mode::PrintToken,
    };
    let user = user.finish()?;
    let sign_in = sign_in.finish()?;
    if let (Some(sign_in), Some(_)) = (&sign_in, &user) {
        return Err(format!(
            "{} does not go with the per-user flags (--web-token-file, ...): \
             the sign-in is a person's own",
            sign_in.flow.flag()
        )
        .into());
    }
    let mut targets = [
        (!cluster_ids.is_empty()).then_some(Target::Clusters(cluster_ids)),
        (!workgroups.is_empty()).then_some(Target::Workgroups(workgroups)),
        host.map(Target::Host),
        sign_in.map(Target::SignIn),
    ]
    .into_iter()
    .flatten();
    let target = match (targets.next(), targets.next()) {
        (Some(_), Some(Target::SignIn(sign_in))) => {
            return Err(format!(
                "{} does not go with --cluster-id, --workgroup or --host: \
                 it gets an Identity Center access token, not a cluster's token",
                sign_in.flow.flag()
            )
            .into())
        }
        (Some(_), Some(_)) => {
            return Err("give only one of --cluster-id, --workgroup and --host".into())
        }
        (None, _) if mode != Mode::Check => {
            return Err("give --cluster-id, --workgroup, --host, --browser or --device-code".into())
        }
        (target, _) => target,
    };
    Ok(Command::Run(Box::new(Args {
        target,
        region,
        profile,
        endpoint_url,
        user,
        mode,
    })))
}

/// The sign-in flags as given, before they are checked together.
#[derive(Default)]
struct SignInFlags {
    browser: bool,
    device_code: bool,
    issuer_url: Option<String>,
    idc_region: Option<String>,
    listen_port: Option<String>,
    idp_response_timeout: Option<String>,
    open_with: Option<String>,
    display_name: Option<String>,
    token_cache_dir: Option<String>,
    no_token_cache: bool,
}

impl SignInFlags {
    /// The sign-in's flags: none without `--browser` or `--device-code`,
    /// whose flags need one of them; either needs `--issuer-url`.
    fn finish(self) -> Result<Option<SignInArgs>, lexopt::Error> {
        let browser_only = [
            ("--listen-port", self.listen_port.is_some()),
            ("--open-with", self.open_with.is_some()),
        ];
        let shared = [
            ("--issuer-url", self.issuer_url.is_some()),
            ("--idc-region", self.idc_region.is_some()),
            (
                "--idp-response-timeout",
                self.idp_response_timeout.is_some(),
            ),
            ("--idc-client-display-name", self.display_name.is_some()),
            ("--token-cache-dir", self.token_cache_dir.is_some()),
            ("--no-token-cache", self.no_token_cache),
        ];
        let first_given = |flags: &[(&'static str, bool)]| {
            flags
                .iter()
                .find(|(_, is_given)| *is_given)
                .map(|(flag, _)| *flag)
        };
        let flow = match (self.browser, self.device_code) {
            (true, true) => return Err("--browser and --device-code do not go together".into()),
            (true, false) => SignInFlow::Browser,
            (false, true) => SignInFlow::DeviceCode,
            (false, false) => {
                return match (first_given(&browser_only), first_given(&shared)) {
                    (Some(flag), _) => Err(format!("{flag} needs --browser").into()),
                    (None, Some(flag)) => {
                        Err(format!("{flag} needs --browser or --device-code").into())
                    }
                    (None, None) => Ok(None),
                };
            }
        };
        if let (SignInFlow::DeviceCode, Some(flag)) = (flow, first_given(&browser_only)) {
            return Err(format!(
                "{flag} goes with --browser only: the device-code sign-in opens no browser here"
            )
            .into());
        }
        let token_cache = match (self.no_token_cache, self.token_cache_dir) {
            (true, Some(_)) => {
                return Err("--no-token-cache and --token-cache-dir do not go together".into())
            }
            (true, None) => TokenCache::Off,
            (false, Some(dir)) => TokenCache::Dir(dir),
            (false, None) => TokenCache::Default,
        };
        let issuer_url = self.issuer_url.ok_or_else(|| {
            format!(
                "{} needs --issuer-url (the IAM Identity Center issuer URL, \
                 e.g. https://identitycenter.amazonaws.com/ssoins-...)",
                flow.flag()
            )
        })?;
        Ok(Some(SignInArgs {
            flow,
            issuer_url,
            idc_region: self.idc_region,
            idp_response_timeout: self.idp_response_timeout,
            display_name: self.display_name,
            token_cache,
            listen_port: self.listen_port,
            open_with: self.open_with,
        }))
    }
}

/// The per-user flags as given, before they are checked together.
#[derive(Default)]
struct UserFlags {
    web_token_file: Option<String>,
    idc_application_arn: Option<String>,
    access_role_arn: Option<String>,
    application_role_arn: Option<String>,
    role_session_name: Option<String>,
}

impl UserFlags {
    /// The user's flags: none when no per-user flag is given; any of them
    /// needs the web token file and the two ARNs.
    fn finish(self) -> Result<Option<UserArgs>, lexopt::Error> {
        let given = [
            ("--web-token-file", self.web_token_file.is_some()),
            ("--idc-application-arn", self.idc_application_arn.is_some()),
            ("--access-role-arn", self.access_role_arn.is_some()),
            (
                "--application-role-arn",
                self.application_role_arn.is_some(),
            ),
            ("--role-session-name", self.role_session_name.is_some()),
        ];
        let Some((first, _)) = given.iter().find(|(_, is_given)| *is_given) else {
            return Ok(None);
        };
        match (
            self.web_token_file,
            self.idc_application_arn,
            self.access_role_arn,
        ) {
            (Some(web_token_file), Some(idc_application_arn), Some(access_role_arn)) => {
                Ok(Some(UserArgs {
                    web_token_file,
                    idc_application_arn,
                    access_role_arn,
                    application_role_arn: self.application_role_arn,
                    role_session_name: self.role_session_name,
                }))
            }
            _ => {
                let missing: Vec<&str> = given[..3]
                    .iter()
                    .filter(|(_, is_given)| !is_given)
                    .map(|(flag, _)| *flag)
                    .collect();
                Err(format!(
                    "{first} needs {} (a user's token comes from a web token file, \
                     an IAM Identity Center application and an access role)",
                    joined(&missing)
                )
                .into())
            }
        }
    }
}

/// `a`, `a and b`, `a, b and c`.
fn joined(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
#[path = "args_tests.rs"]
mod tests;
