//! Local checks of cluster identifiers and workgroup names, before any
//! network traffic.
//!
//! Redshift stores cluster identifiers in lower case, so identifiers are
//! compared, cached and sent lower-cased, de-duplicated and sorted.
//! Workgroup names are lower case by rule; they are de-duplicated and sorted.

use crate::error::Error;

/// The most identifiers one call may name (clusters or workgroups).
pub const RS_IDC_MAX_IDENTIFIERS: usize = 20;
/// The longest cluster identifier, in characters.
pub const RS_IDC_MAX_CLUSTER_ID_LEN: usize = 63;

/// The shortest workgroup name, in characters.
pub const RS_IDC_MIN_WORKGROUP_LEN: usize = 3;
/// The longest workgroup name, in characters.
pub const RS_IDC_MAX_WORKGROUP_LEN: usize = 64;

/// Checks a count of identifiers against `1..=RS_IDC_MAX_IDENTIFIERS`.
pub fn check_count(n: usize) -> Result<(), Error> {
    if (1..=RS_IDC_MAX_IDENTIFIERS).contains(&n) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "n must be from 1 to {RS_IDC_MAX_IDENTIFIERS} identifiers, got {n}"
        )))
    }
}

/// Checks one cluster identifier and returns it lower-cased.
///
/// `position` names the identifier in the message (`ids[position]`). The
/// bytes need not be UTF-8: anything outside ASCII letters, digits and
/// hyphens is rejected.
pub fn check_cluster_id(position: usize, id: &[u8]) -> Result<String, Error> {
    let fail = |rule: String| Err(Error::invalid(format!("ids[{position}] {rule}")));
    if id.is_empty() {
        return fail("is empty".into());
    }
    if id.len() > RS_IDC_MAX_CLUSTER_ID_LEN {
        return fail(format!(
            "is longer than {RS_IDC_MAX_CLUSTER_ID_LEN} characters"
        ));
    }
    if let Some(at) = id
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'-'))
    {
        return fail(format!(
            "has a byte other than an ASCII letter, digit or hyphen at offset {at}"
        ));
    }
    if !id[0].is_ascii_alphabetic() {
        return fail("must start with a letter".into());
    }
    if id.ends_with(b"-") {
        return fail("must not end with a hyphen".into());
    }
    if id.windows(2).any(|pair| pair == b"--") {
        return fail("must not contain two hyphens in a row".into());
    }
    // Only ASCII is left, so this conversion cannot fail.
    Ok(String::from_utf8_lossy(id).to_ascii_lowercase())
}

/// Checks one Redshift Serverless workgroup name: 3 to 64 characters of
/// lower-case ASCII letters, digits and hyphens.
pub fn check_workgroup(position: usize, name: &[u8]) -> Result<String, Error> {
    let fail = |rule: String| Err(Error::invalid(format!("workgroups[{position}] {rule}")));
    if name.len() < RS_IDC_MIN_WORKGROUP_LEN {
        return fail(format!(
            "is shorter than {RS_IDC_MIN_WORKGROUP_LEN} characters"
        ));
    }
    if name.len() > RS_IDC_MAX_WORKGROUP_LEN {
        return fail(format!(
            "is longer than {RS_IDC_MAX_WORKGROUP_LEN} characters"
        ));
    }
    if let Some(at) = name
        .iter()
        .position(|b| !(b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-'))
    {
        return fail(format!(
            "has a byte other than a lower-case ASCII letter, digit or hyphen at offset {at}"
        ));
    }
    Ok(String::from_utf8_lossy(name).into_owned())
}

/// Checks a whole list of cluster identifiers and returns the normalised
/// set: lower-cased, de-duplicated and sorted.
pub fn normalise_cluster_ids<I: AsRef<[u8]>>(ids: &[I]) -> Result<Vec<String>, Error> {
    normalise(ids, check_cluster_id)
}

/// Checks a whole list of workgroup names and returns the normalised set:
/// de-duplicated and sorted.
pub fn normalise_workgroups<I: AsRef<[u8]>>(names: &[I]) -> Result<Vec<String>, Error> {
    normalise(names, check_workgroup)
}

fn normalise<I: AsRef<[u8]>>(
    items: &[I],
    check: fn(usize, &[u8]) -> Result<String, Error>,
) -> Result<Vec<String>, Error> {
    check_count(items.len())?;
    let mut out = items
        .iter()
        .enumerate()
        .map(|(i, item)| check(i, item.as_ref()))
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;

    fn rejects(id: &[u8], words: &str) {
        let err = check_cluster_id(3, id).unwrap_err();
        assert_eq!(err.status(), Status::InvalidArgument);
        assert!(err.message().starts_with("ids[3] "), "{}", err.message());
        assert!(err.message().contains(words), "{}", err.message());
    }

    #[test]
    fn accepts_well_formed_identifiers_and_lower_cases_them() {
        assert_eq!(check_cluster_id(0, b"a").unwrap(), "a");
        assert_eq!(
            check_cluster_id(0, b"My-Cluster-1").unwrap(),
            "my-cluster-1"
        );
        let longest = [b'a'; RS_IDC_MAX_CLUSTER_ID_LEN];
        assert_eq!(check_cluster_id(0, &longest).unwrap().len(), 63);
    }

    #[test]
    fn rejects_each_broken_rule_with_its_own_message() {
        rejects(b"", "is empty");
        rejects(&[b'a'; 64], "longer than 63");
        rejects(b"1abc", "start with a letter");
        rejects(b"-abc", "start with a letter");
        rejects(b"abc-", "end with a hyphen");
        rejects(b"ab--c", "two hyphens");
        rejects(b"ab_c", "offset 2");
        rejects(b"ab c", "offset 2");
        rejects("abcé".as_bytes(), "offset 3");
        rejects(b"ab\xffc", "offset 2");
    }

    #[test]
    fn normalises_order_case_and_duplicates() {
        let set = normalise_cluster_ids(&["b", "A", "a", "B"]).unwrap();
        assert_eq!(set, vec!["a", "b"]);
    }

    #[test]
    fn counts_outside_one_to_twenty_are_rejected() {
        let none: [&str; 0] = [];
        assert!(normalise_cluster_ids(&none).is_err());
        let many = vec!["a"; RS_IDC_MAX_IDENTIFIERS + 1];
        let err = normalise_cluster_ids(&many).unwrap_err();
        assert!(err.message().contains("got 21"));
        assert!(normalise_cluster_ids(&vec!["a"; RS_IDC_MAX_IDENTIFIERS]).is_ok());
    }

    #[test]
    fn workgroup_names_follow_their_own_rules() {
        assert_eq!(check_workgroup(0, b"wg-1").unwrap(), "wg-1");
        assert_eq!(check_workgroup(0, &[b'a'; 64]).unwrap().len(), 64);
        assert_eq!(check_workgroup(0, b"-9-").unwrap(), "-9-");
        for (bad, words) in [
            (&b"ab"[..], "shorter than 3"),
            (&[b'a'; 65][..], "longer than 64"),
            (&b"Wg-1"[..], "offset 0"),
            (&b"wg_1"[..], "offset 2"),
            (&b"wg\xff1"[..], "offset 2"),
        ] {
            let err = check_workgroup(2, bad).unwrap_err();
            assert!(
                err.message().starts_with("workgroups[2] "),
                "{}",
                err.message()
            );
            assert!(err.message().contains(words), "{}", err.message());
        }
        assert_eq!(
            normalise_workgroups(&["b-wg", "a-wg", "b-wg"]).unwrap(),
            ["a-wg", "b-wg"]
        );
    }

    #[test]
    fn names_the_position_of_the_first_bad_identifier() {
        let err = normalise_cluster_ids(&["good", "bad_one"]).unwrap_err();
        assert!(err.message().starts_with("ids[1] "), "{}", err.message());
    }
}
