//! Local checks of cluster identifiers, before any network traffic.
//!
//! Redshift stores cluster identifiers in lower case, so identifiers are
//! compared, cached and sent lower-cased, de-duplicated and sorted.

use crate::error::Error;

/// The most identifiers one call may name (clusters or workgroups).
pub const RS_IDC_MAX_IDENTIFIERS: usize = 20;
/// The longest cluster identifier, in characters.
pub const RS_IDC_MAX_CLUSTER_ID_LEN: usize = 63;

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

/// Checks a whole list of cluster identifiers and returns the normalised
/// set: lower-cased, de-duplicated and sorted.
pub fn normalise_cluster_ids<I: AsRef<[u8]>>(ids: &[I]) -> Result<Vec<String>, Error> {
    check_count(ids.len())?;
    let mut out = ids
        .iter()
        .enumerate()
        .map(|(i, id)| check_cluster_id(i, id.as_ref()))
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
    fn names_the_position_of_the_first_bad_identifier() {
        let err = normalise_cluster_ids(&["good", "bad_one"]).unwrap_err();
        assert!(err.message().starts_with("ids[1] "), "{}", err.message());
    }
}
