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

/// The bytes a cluster identifier may hold: ASCII letters, digits, hyphens.
const CLUSTER_ID_BYTE: [bool; 256] = {
    let mut allowed = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        allowed[byte] = b.is_ascii_alphanumeric() || b == b'-';
        byte += 1;
    }
    allowed
};

/// Checks one cluster identifier; `position` names it in the message
/// (`ids[position]`). The bytes need not be UTF-8: anything outside ASCII
/// letters, digits and hyphens is rejected.
fn validate_cluster_id(position: usize, id: &[u8]) -> Result<(), Error> {
    let fail = |rule: String| Err(Error::invalid(format!("ids[{position}] {rule}")));
    if id.is_empty() {
        return fail("is empty".into());
    }
    if id.len() > RS_IDC_MAX_CLUSTER_ID_LEN {
        return fail(format!(
            "is longer than {RS_IDC_MAX_CLUSTER_ID_LEN} characters"
        ));
    }
    if let Some(at) = id.iter().position(|b| !CLUSTER_ID_BYTE[usize::from(*b)]) {
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
    Ok(())
}

/// Checks one Redshift Serverless workgroup name: 3 to 64 characters of
/// lower-case ASCII letters, digits and hyphens.
fn validate_workgroup(position: usize, name: &[u8]) -> Result<(), Error> {
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
    Ok(())
}

/// Checks one cluster identifier and returns it lower-cased.
pub fn check_cluster_id(position: usize, id: &[u8]) -> Result<String, Error> {
    validate_cluster_id(position, id)?;
    Ok(String::from_utf8_lossy(id).to_ascii_lowercase())
}

/// Checks one Redshift Serverless workgroup name and returns it.
pub fn check_workgroup(position: usize, name: &[u8]) -> Result<String, Error> {
    validate_workgroup(position, name)?;
    Ok(String::from_utf8_lossy(name).into_owned())
}

/// Checks a whole list of cluster identifiers and returns the normalised
/// set: lower-cased, de-duplicated and sorted.
pub fn normalise_cluster_ids<I: AsRef<[u8]>>(ids: &[I]) -> Result<Vec<String>, Error> {
    Ok(IdSet::clusters(ids)?.to_vec())
}

/// Checks a whole list of workgroup names and returns the normalised set:
/// de-duplicated and sorted.
pub fn normalise_workgroups<I: AsRef<[u8]>>(names: &[I]) -> Result<Vec<String>, Error> {
    Ok(IdSet::workgroups(names)?.to_vec())
}

/// The bytes a set holds inline; a longer one (several long identifiers)
/// goes to the heap.
const INLINE_SET_BYTES: usize = 128;

/// A checked, normalised identifier set: the identifiers lower-cased,
/// sorted, without duplicates, joined by commas. It is what cache keys are
/// made of; the usual set (one or two identifiers) is built without
/// allocating, so a cached call builds no string.
#[derive(Clone)]
pub struct IdSet {
    len: usize,
    inline: [u8; INLINE_SET_BYTES],
    /// Used instead of `inline` when the set is longer.
    spilled: Vec<u8>,
}

impl IdSet {
    /// Checks and normalises cluster identifiers.
    pub fn clusters<I: AsRef<[u8]>>(ids: &[I]) -> Result<IdSet, Error> {
        IdSet::build(ids, validate_cluster_id)
    }

    /// Checks and normalises workgroup names (lower case by rule).
    pub fn workgroups<I: AsRef<[u8]>>(names: &[I]) -> Result<IdSet, Error> {
        IdSet::build(names, validate_workgroup)
    }

    /// A set of one name already checked (by the host-name parser).
    pub(crate) fn one(name: &str) -> IdSet {
        let mut set = IdSet::empty();
        set.push(name.as_bytes());
        set
    }

    fn empty() -> IdSet {
        IdSet {
            len: 0,
            inline: [0; INLINE_SET_BYTES],
            spilled: Vec::new(),
        }
    }

    /// Appends an identifier, lower-cased, after a comma unless first.
    fn push(&mut self, id: &[u8]) {
        let comma = usize::from(self.len > 0);
        let end = self.len + comma + id.len();
        if end > INLINE_SET_BYTES && self.spilled.is_empty() {
            self.spilled.extend_from_slice(&self.inline[..self.len]);
        }
        let bytes = if self.spilled.is_empty() {
            &mut self.inline[self.len..end]
        } else {
            self.spilled.resize(end, 0);
            &mut self.spilled[self.len..end]
        };
        if comma == 1 {
            bytes[0] = b',';
        }
        for (to, from) in bytes[comma..].iter_mut().zip(id) {
            *to = from.to_ascii_lowercase();
        }
        self.len = end;
    }

    fn build<I: AsRef<[u8]>>(
        items: &[I],
        validate: fn(usize, &[u8]) -> Result<(), Error>,
    ) -> Result<IdSet, Error> {
        check_count(items.len())?;
        for (i, item) in items.iter().enumerate() {
            validate(i, item.as_ref())?;
        }
        let mut set = IdSet::empty();
        if let [only] = items {
            set.push(only.as_ref());
            return Ok(set);
        }
        // Sorted by their lower-case form, without copying them first.
        let lower = |i: usize| items[i].as_ref().iter().map(u8::to_ascii_lowercase);
        let mut order = [0usize; RS_IDC_MAX_IDENTIFIERS];
        let order = &mut order[..items.len()];
        for (at, slot) in order.iter_mut().enumerate() {
            *slot = at;
        }
        order.sort_unstable_by(|a, b| lower(*a).cmp(lower(*b)));
        let mut last: Option<usize> = None;
        for &i in order.iter() {
            if last.is_some_and(|previous| lower(previous).eq(lower(i))) {
                continue;
            }
            set.push(items[i].as_ref());
            last = Some(i);
        }
        Ok(set)
    }

    /// The set as text: identifiers joined by commas.
    pub fn as_str(&self) -> &str {
        let bytes = if self.spilled.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.spilled[..self.len]
        };
        // SAFETY: only checked identifiers (ASCII letters, digits and
        // hyphens) and commas are ever written.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    /// How many identifiers the set holds.
    pub fn len(&self) -> usize {
        self.as_str().split(',').count()
    }

    /// Whether the set is empty (never, once checked).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The identifiers, for a request.
    pub fn to_vec(&self) -> Vec<String> {
        self.as_str().split(',').map(str::to_owned).collect()
    }
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
    fn sets_are_joined_sorted_and_unique_without_allocating() {
        let set = IdSet::clusters(&["Beta", "alpha", "BETA", "gamma"]).unwrap();
        assert_eq!(set.as_str(), "alpha,beta,gamma");
        assert_eq!(set.len(), 3);
        let longest: Vec<Vec<u8>> = (0..RS_IDC_MAX_IDENTIFIERS)
            .map(|i| {
                let mut name = vec![b'a' + i as u8; RS_IDC_MAX_WORKGROUP_LEN];
                name[0] = b'w';
                name
            })
            .collect();
        let set = IdSet::workgroups(&longest).unwrap();
        let joined = RS_IDC_MAX_IDENTIFIERS * (RS_IDC_MAX_WORKGROUP_LEN + 1) - 1;
        assert_eq!(set.as_str().len(), joined);
        assert_eq!(set.to_vec().len(), RS_IDC_MAX_IDENTIFIERS);
        assert_eq!(IdSet::one("wg-one").as_str(), "wg-one");
    }

    #[test]
    fn names_the_position_of_the_first_bad_identifier() {
        let err = normalise_cluster_ids(&["good", "bad_one"]).unwrap_err();
        assert!(err.message().starts_with("ids[1] "), "{}", err.message());
    }
}
