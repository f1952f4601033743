//! Fixed, test-only credentials that the fake accepts. It never prints the
//! secret keys or session tokens, so that tests can search logs for them.

/// Access key ID of the first identity-enhanced identity (gets tokens).
pub const IDC_ACCESS_KEY_ID: &str = "AKIAIDCENHANCED00001";
/// Secret access key of the first identity-enhanced identity.
pub const IDC_SECRET_ACCESS_KEY: &str = "IdcSecret0001/rs+idc+FAKE/onlyForTests0A";
/// Session token of the first identity-enhanced identity; requests must
/// carry it in `x-amz-security-token`.
pub const IDC_SESSION_TOKEN: &str =
    "FakeSessionToken//rs-idc//IdentityEnhanced//0001//AQoDYXdzEJr+TESTONLY+aGVsbG8gd29ybGQ=";

/// Access key ID of the second identity-enhanced identity.
pub const IDC2_ACCESS_KEY_ID: &str = "AKIAIDCENHANCED00002";
/// Secret access key of the second identity-enhanced identity.
pub const IDC2_SECRET_ACCESS_KEY: &str = "IdcSecret0002/rs+idc+FAKE/onlyForTests0B";
/// Session token of the second identity-enhanced identity.
pub const IDC2_SESSION_TOKEN: &str =
    "FakeSessionToken//rs-idc//IdentityEnhanced//0002//AQoDYXdzEJr+TESTONLY+c2Vjb25kIG9uZQ==";

/// Access key ID of valid credentials that carry no Identity Center identity
/// (no session token): answered with `UnsupportedOperation`.
pub const PLAIN_ACCESS_KEY_ID: &str = "AKIAPLAINCREDS000001";
/// Secret access key of the plain credentials.
pub const PLAIN_SECRET_ACCESS_KEY: &str = "PlainSecret01/rs+idc+FAKE/onlyForTests0C";

/// Access key ID of credentials that the fake treats as expired:
/// answered with `ExpiredToken` after a valid signature.
pub const EXPIRED_ACCESS_KEY_ID: &str = "AKIAEXPIREDCREDS0001";
/// Secret access key of the expired credentials.
pub const EXPIRED_SECRET_ACCESS_KEY: &str = "ExpiredSecret/rs+idc+FAKE/onlyForTests0D";

/// `iss` of the web tokens (JWTs) that the fake makes and trusts.
pub const WEB_TOKEN_ISSUER: &str = "https://idp.rs-idc.test";
/// `aud` of the web tokens that the fake makes and trusts.
pub const WEB_TOKEN_AUDIENCE: &str = "rs-idc-test";

/// The IAM Identity Center application that trusts [`WEB_TOKEN_ISSUER`]:
/// a `clientId` of CreateTokenWithIAM. Any other application ARN of the
/// same shape is accepted the same way, except the two below.
pub const APPLICATION_ARN: &str =
    "arn:aws:sso::123456789012:application/ssoins-1111222233334444/apl-5555666677778888";
/// An application that exists but may not use the grant: CreateTokenWithIAM
/// answers `UnauthorizedClientException`.
pub const UNAUTHORIZED_APPLICATION_ARN: &str =
    "arn:aws:sso::123456789012:application/ssoins-1111222233334444/apl-unauthorized0000";
/// An application that does not exist: CreateTokenWithIAM answers
/// `InvalidClientException` (as for a `clientId` of another shape).
pub const UNKNOWN_APPLICATION_ARN: &str =
    "arn:aws:sso::123456789012:application/ssoins-1111222233334444/apl-unknown000000000";

/// The role that a user's identity-enhanced session is made from (AssumeRole
/// with an identity context).
pub const ACCESS_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/rs-idc-user-access";
/// The role of the application, for AssumeRoleWithWebIdentity.
pub const APPLICATION_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/rs-idc-application";
/// A role nobody may assume: AssumeRole and AssumeRoleWithWebIdentity
/// answer 403 `AccessDenied`. Any other `arn:aws:iam::<12 digits>:role/<name>`
/// is assumable.
pub const DENIED_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/denied";
/// The context provider of IAM Identity Center identity contexts, for
/// `ProvidedContexts` of AssumeRole.
pub const CONTEXT_PROVIDER_ARN: &str = "arn:aws:iam::aws:contextProvider/IdentityCenter";
/// The certificate of every custom domain association that
/// `DescribeCustomDomainAssociations` and `ListCustomDomainAssociations`
/// answer with.
pub const CUSTOM_DOMAIN_CERTIFICATE_ARN: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";

/// What kind of caller an access key ID stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Identity-enhanced credentials: tokens are issued.
    IdentityEnhanced,
    /// Valid credentials without an Identity Center identity.
    Plain,
    /// Credentials whose session has expired.
    Expired,
}

/// Every identity: access key ID, kind, secret access key, session token.
#[rustfmt::skip]
const IDENTITIES: [(&str, Kind, &str, Option<&str>); 4] = [
    (IDC_ACCESS_KEY_ID, Kind::IdentityEnhanced, IDC_SECRET_ACCESS_KEY, Some(IDC_SESSION_TOKEN)),
    (IDC2_ACCESS_KEY_ID, Kind::IdentityEnhanced, IDC2_SECRET_ACCESS_KEY, Some(IDC2_SESSION_TOKEN)),
    (PLAIN_ACCESS_KEY_ID, Kind::Plain, PLAIN_SECRET_ACCESS_KEY, None),
    (EXPIRED_ACCESS_KEY_ID, Kind::Expired, EXPIRED_SECRET_ACCESS_KEY, None),
];

/// The kind, secret access key and session token behind an access key ID.
pub(crate) fn lookup(access_key_id: &str) -> Option<(Kind, &'static str, Option<&'static str>)> {
    let found = IDENTITIES.into_iter().find(|(id, ..)| *id == access_key_id);
    found.map(|(_, kind, secret, token)| (kind, secret, token))
}
