//! The command line: what it may say (`USAGE`), and what a given one asks
//! for ([`Command`]), read with `lexopt`.

use lexopt::prelude::*;
use std::ffi::OsString;

/// The text of `--help`, also shown after a bad command line.
pub const USAGE: &str = "\
usage: rs-idc-token [OPTIONS] (--cluster-id ID... | --workgroup NAME... | --host HOST)
       rs-idc-token [OPTIONS] --browser --issuer-url URL [BROWSER OPTIONS]

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

Browser sign-in (as the drivers' BrowserIdcAuthPlugin): a person signs in to
IAM Identity Center in their browser, and the Identity Center access token is
printed, to send to Redshift with token_type=ACCESS_TOKEN. No AWS credentials
are needed.

  --browser                 sign in through the browser (instead of a target)
  --issuer-url URL          the Identity Center issuer URL (needed)
  --idc-region REGION       the Identity Center region (default: --region)
  --listen-port PORT        the loopback port the browser is sent back to
                            (default 7890)
  --idp-response-timeout S  how long the sign-in may take, in seconds
                            (default 120)
  --open-with CMD           open the sign-in page with CMD instead of xdg-open
                            (open on macOS): sh runs CMD with the URL as its
                            last argument, and CMD should return once the
                            browser has it

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
    /// No cluster: an IAM Identity Center access token from a sign-in in
    /// the browser (`--browser`).
    Browser(BrowserArgs),
}

/// The flags of the browser sign-in (the handle options of the same
/// names; the library checks the values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserArgs {
    /// `--issuer-url`: the Identity Center issuer URL.
    pub issuer_url: String,
    /// `--idc-region`, if given.
    pub idc_region: Option<String>,
    /// `--listen-port`, if given.
    pub listen_port: Option<String>,
    /// `--idp-response-timeout`, in seconds, if given.
    pub idp_response_timeout: Option<String>,
    /// `--open-with`: a command that opens the sign-in page, if given.
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
    let mut browser = BrowserFlags::default();
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
            Long("browser") => browser.browser = true,
            Long("issuer-url") => browser.issuer_url = Some(parser.value()?.string()?),
            Long("idc-region") => browser.idc_region = Some(parser.value()?.string()?),
            Long("listen-port") => browser.listen_port = Some(parser.value()?.string()?),
            Long("idp-response-timeout") => {
                browser.idp_response_timeout = Some(parser.value()?.string()?)
            }
            Long("open-with") => browser.open_with = Some(parser.value()?.string()?),
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
    let browser = browser.finish()?;
    if browser.is_some() && user.is_some() {
        return Err(
            "--browser does not go with the per-user flags (--web-token-file, ...): \
                    the browser sign-in is a person's own"
                .into(),
        );
    }
    let mut targets = [
        (!cluster_ids.is_empty()).then_some(Target::Clusters(cluster_ids)),
        (!workgroups.is_empty()).then_some(Target::Workgroups(workgroups)),
        host.map(Target::Host),
        browser.map(Target::Browser),
    ]
    .into_iter()
    .flatten();
    let target = match (targets.next(), targets.next()) {
        (Some(_), Some(Target::Browser(_))) => {
            return Err(
                "--browser does not go with --cluster-id, --workgroup or --host: \
                        it gets an Identity Center access token, not a cluster's token"
                    .into(),
            )
        }
        (Some(_), Some(_)) => {
            return Err("give only one of --cluster-id, --workgroup and --host".into())
        }
        (None, _) if mode != Mode::Check => {
            return Err("give --cluster-id, --workgroup, --host or --browser".into())
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

/// The browser flags as given, before they are checked together.
#[derive(Default)]
struct BrowserFlags {
    browser: bool,
    issuer_url: Option<String>,
    idc_region: Option<String>,
    listen_port: Option<String>,
    idp_response_timeout: Option<String>,
    open_with: Option<String>,
}

impl BrowserFlags {
    /// The browser sign-in's flags: none without `--browser`, whose
    /// flags need it; `--browser` needs `--issuer-url`.
    fn finish(self) -> Result<Option<BrowserArgs>, lexopt::Error> {
        if !self.browser {
            let given = [
                ("--issuer-url", self.issuer_url.is_some()),
                ("--idc-region", self.idc_region.is_some()),
                ("--listen-port", self.listen_port.is_some()),
                (
                    "--idp-response-timeout",
                    self.idp_response_timeout.is_some(),
                ),
                ("--open-with", self.open_with.is_some()),
            ];
            return match given.iter().find(|(_, is_given)| *is_given) {
                Some((flag, _)) => Err(format!("{flag} needs --browser").into()),
                None => Ok(None),
            };
        }
        let issuer_url = self.issuer_url.ok_or(
            "--browser needs --issuer-url (the IAM Identity Center issuer URL, \
             e.g. https://identitycenter.amazonaws.com/ssoins-...)",
        )?;
        Ok(Some(BrowserArgs {
            issuer_url,
            idc_region: self.idc_region,
            listen_port: self.listen_port,
            idp_response_timeout: self.idp_response_timeout,
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
