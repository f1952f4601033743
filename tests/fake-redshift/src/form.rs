//! `application/x-www-form-urlencoded` decoding and the query-protocol
//! list encoding used for `ClusterIds`.

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_as_space`).
/// A `%` not followed by two hex digits is kept as is; bytes that are not
/// UTF-8 become U+FFFD.
pub fn percent_decode(input: &str, plus_as_space: bool) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' if plus_as_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits a form body into decoded `(name, value)` pairs, in order.
pub fn decode_form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// The value of the first parameter called `name`.
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Collects a query-protocol list parameter such as `ClusterIds`, which the
/// AWS SDKs send as `ClusterIds.ClusterIdentifier.1=a&ClusterIds.ClusterIdentifier.2=b`
/// (the member name comes from the service model; `member` is also
/// accepted, as is the flattened `ClusterIds.1`). Entries are ordered by
/// their index.
pub fn list_param(params: &[(String, String)], name: &str) -> Vec<String> {
    let prefix = format!("{name}.");
    let mut entries: Vec<(u64, String)> = params
        .iter()
        .filter_map(|(k, v)| {
            let rest = k.strip_prefix(&prefix)?;
            let index = match rest.split_once('.') {
                Some((member, index)) if !member.is_empty() && !index.contains('.') => index,
                Some(_) => return None,
                None => rest,
            };
            let index: u64 = index.parse().ok()?;
            Some((index, v.clone()))
        })
        .collect();
    entries.sort_by_key(|(i, _)| *i);
    entries.into_iter().map(|(_, v)| v).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_and_plus() {
        assert_eq!(percent_decode("a%20b+c", true), "a b c");
        assert_eq!(percent_decode("a%20b+c", false), "a b+c");
        assert_eq!(percent_decode("%2f%2F", true), "//");
        assert_eq!(percent_decode("100%", true), "100%");
        assert_eq!(percent_decode("%zz%4", true), "%zz%4");
        assert_eq!(percent_decode("%C3%BC", true), "ü");
        assert_eq!(percent_decode("%FF", true), "\u{FFFD}");
    }

    #[test]
    fn decodes_a_form_body() {
        let params = decode_form("Action=GetIdentityCenterAuthToken&Version=2012-12-01&&x&y=1%3D2");
        assert_eq!(
            params,
            vec![
                (
                    "Action".to_string(),
                    "GetIdentityCenterAuthToken".to_string()
                ),
                ("Version".to_string(), "2012-12-01".to_string()),
                ("x".to_string(), String::new()),
                ("y".to_string(), "1=2".to_string()),
            ]
        );
        assert_eq!(param(&params, "Version"), Some("2012-12-01"));
        assert_eq!(param(&params, "Nope"), None);
    }

    #[test]
    fn collects_list_members_in_index_order() {
        let params = decode_form(
            "Action=GetIdentityCenterAuthToken&ClusterIds.ClusterIdentifier.2=second\
             &ClusterIds.ClusterIdentifier.1=first&ClusterIds.ClusterIdentifier.10=tenth\
             &Other.member.1=no",
        );
        assert_eq!(
            list_param(&params, "ClusterIds"),
            vec!["first", "second", "tenth"]
        );
        let member = decode_form("ClusterIds.member.1=abc&ClusterIds.member.2=d%2Def");
        assert_eq!(list_param(&member, "ClusterIds"), vec!["abc", "d-ef"]);
        let flat = decode_form("ClusterIds.1=x");
        assert_eq!(list_param(&flat, "ClusterIds"), vec!["x"]);
        let junk = decode_form("ClusterIds.a.b.1=x&ClusterIds.member.z=y&ClusterIds=z");
        assert!(list_param(&junk, "ClusterIds").is_empty());
    }
}
