//! Rules for the AWS names that per-user tokens are configured with: the
//! IAM Identity Center application, the roles, and the role session name.
//! As in [`crate::values`], `name` is the setting named in an error and a
//! value is never echoed.

use crate::error::Error;

/// The longest ARN accepted (IAM's own bound for role ARNs).
const MAX_ARN_LEN: usize = 2048;

/// Parses an IAM Identity Center application ARN,
/// `arn:PARTITION:sso::ACCOUNT:application/ssoins-ID/apl-ID`.
pub fn parse_application_arn(name: &str, value: &str) -> Result<String, Error> {
    let shape = "arn:aws:sso::123456789012:application/ssoins-.../apl-...";
    let resource = arn_resource(name, value, "sso", shape)?;
    let ids = resource
        .strip_prefix("application/ssoins-")
        .and_then(|rest| rest.split_once("/apl-"));
    match ids {
        Some((instance, application)) if is_id(instance) && is_id(application) => {
            Ok(value.trim().to_owned())
        }
        _ => Err(shape_error(name, shape)),
    }
}

/// Parses an IAM role ARN, `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`.
pub fn parse_role_arn(name: &str, value: &str) -> Result<String, Error> {
    let shape = "arn:aws:iam::123456789012:role/NAME";
    let resource = arn_resource(name, value, "iam", shape)?;
    let path_and_name = resource
        .strip_prefix("role/")
        .ok_or_else(|| shape_error(name, shape))?;
    let role_name = path_and_name.rsplit('/').next().unwrap_or_default();
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b);
    if role_name.is_empty() || role_name.len() > 64 || !path_and_name.bytes().all(allowed) {
        return Err(shape_error(name, shape));
    }
    Ok(value.trim().to_owned())
}

/// Parses a role session name: 2 to 64 letters, digits and `+=,.@_-`, as
/// AWS STS takes it.
pub fn parse_role_session_name(name: &str, value: &str) -> Result<String, Error> {
    let value = value.trim();
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b);
    if (2..=64).contains(&value.len()) && value.bytes().all(allowed) {
        Ok(value.to_owned())
    } else {
        Err(Error::invalid(format!(
            "{name}: must be 2 to 64 letters, digits and +=,.@_-"
        )))
    }
}

/// The resource part of `arn:PARTITION:SERVICE::ACCOUNT:RESOURCE`, after
/// checking the rest: a partition `aws` or `aws-...`, the service, no
/// region, a 12-digit account.
fn arn_resource<'a>(
    name: &str,
    value: &'a str,
    service: &str,
    shape: &str,
) -> Result<&'a str, Error> {
    let value = value.trim();
    if value.len() > MAX_ARN_LEN {
        return Err(Error::invalid(format!(
            "{name}: longer than {MAX_ARN_LEN} bytes"
        )));
    }
    let mut parts = value.splitn(6, ':');
    let fields: [Option<&str>; 6] = std::array::from_fn(|_| parts.next());
    let [Some("arn"), Some(partition), Some(arn_service), Some(""), Some(account), Some(resource)] =
        fields
    else {
        return Err(shape_error(name, shape));
    };
    let partition_ok = partition == "aws"
        || partition.strip_prefix("aws-").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        });
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    if !partition_ok || arn_service != service || !account_ok {
        return Err(shape_error(name, shape));
    }
    Ok(resource)
}

/// An Identity Center id: letters and digits.
fn is_id(text: &str) -> bool {
    !text.is_empty() && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn shape_error(name: &str, shape: &str) -> Error {
    Error::invalid(format!("{name}: must be an ARN such as {shape}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_arns_of_every_partition_are_accepted() {
        for arn in [
            "arn:aws:sso::123456789012:application/ssoins-1111222233334444/apl-5555666677778888",
            "arn:aws-cn:sso::123456789012:application/ssoins-abc/apl-def",
            "arn:aws-us-gov:sso::123456789012:application/ssoins-abc/apl-def",
            " arn:aws:sso::123456789012:application/ssoins-a1/apl-b2 ",
        ] {
            assert_eq!(parse_application_arn("a", arn).unwrap(), arn.trim());
        }
    }

    #[test]
    fn malformed_application_arns_name_the_setting_and_not_the_value() {
        for arn in [
            "",
            "apl-5555666677778888",
            "arn:aws:iam::123456789012:application/ssoins-a/apl-b",
            "arn:aws:sso:us-east-1:123456789012:application/ssoins-a/apl-b",
            "arn:aws:sso::12345678901:application/ssoins-a/apl-b",
            "arn:aws:sso::123456789012:application/ssoins-/apl-b",
            "arn:aws:sso::123456789012:application/ssoins-a/apl-b/c",
            "arn:awsx:sso::123456789012:application/ssoins-a/apl-b",
            "arn:aws:sso::123456789012:instance/ssoins-a",
        ] {
            let err = parse_application_arn("idc_application_arn", arn).unwrap_err();
            assert!(
                err.message()
                    .starts_with("idc_application_arn: must be an ARN"),
                "{arn}: {err}"
            );
            assert!(arn.is_empty() || !err.message().contains(arn));
        }
        let long = format!(
            "arn:aws:sso::123456789012:application/ssoins-a/apl-{}",
            "b".repeat(MAX_ARN_LEN)
        );
        assert!(parse_application_arn("x", &long)
            .unwrap_err()
            .message()
            .contains("longer than"));
    }

    #[test]
    fn role_arns_take_paths_and_the_role_name_characters() {
        for arn in [
            "arn:aws:iam::123456789012:role/rs-idc-user-access",
            "arn:aws:iam::123456789012:role/service-role/a+b=c,d.e@f_g",
            "arn:aws-cn:iam::123456789012:role/x",
        ] {
            assert_eq!(parse_role_arn("r", arn).unwrap(), arn);
        }
        for arn in [
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/a b",
            "arn:aws:sts::123456789012:role/x",
            "arn:aws:iam:us-east-1:123456789012:role/x",
        ] {
            let err = parse_role_arn("access_role_arn", arn).unwrap_err();
            assert!(err.message().starts_with("access_role_arn: "), "{arn}");
        }
        let long_name = format!("arn:aws:iam::123456789012:role/{}", "n".repeat(65));
        assert!(parse_role_arn("r", &long_name).is_err());
    }

    #[test]
    fn role_session_names_follow_sts() {
        assert_eq!(parse_role_session_name("s", "rs-idc").unwrap(), "rs-idc");
        assert_eq!(
            parse_role_session_name("s", "a.b@c_d=e,f+g").unwrap(),
            "a.b@c_d=e,f+g"
        );
        for bad in ["x", "with space", "slash/no", &"n".repeat(65)] {
            let err = parse_role_session_name("role_session_name", bad).unwrap_err();
            assert!(err.message().starts_with("role_session_name: "));
        }
    }
}
