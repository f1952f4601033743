//! Tests of the C surface that need no endpoint.

use super::*;
use crate::status::{RS_IDC_EINVAL, RS_IDC_OK};
use std::ffi::CStr;

fn last_error() -> String {
    unsafe { CStr::from_ptr(rs_idc_last_error()) }
        .to_string_lossy()
        .into_owned()
}

#[test]
fn committed_header_matches_a_fresh_one() {
    let fresh = include_str!(concat!(env!("OUT_DIR"), "/rs_idc.h"));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/rs_idc.h");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == fresh,
        "include/rs_idc.h is stale: run `make header` and commit it"
    );
}

#[test]
fn every_name_in_the_header_has_the_prefix() {
    let header = include_str!(concat!(env!("OUT_DIR"), "/rs_idc.h"));
    for line in header.lines() {
        let line = line.strip_prefix("RS_IDC_EXPORT ").unwrap_or(line);
        if let Some(name) = line.strip_prefix("#define ") {
            assert!(name.starts_with("RS_IDC_"), "{line}");
        }
        if let Some((_, rest)) = line.split_once(" rs_") {
            assert!(
                rest.starts_with("idc_") || rest.starts_with("idc.h"),
                "{line}"
            );
        }
        if line.starts_with("int ") || line.starts_with("void ") {
            assert!(line.contains(" rs_idc_"), "{line}");
        }
    }
}

#[test]
fn a_panic_becomes_an_internal_status_with_a_message() {
    assert_eq!(guard(|| panic!("boom")), RS_IDC_EINTERNAL);
    assert!(last_error().contains("panic"));
    assert_eq!(guard(|| Ok(())), RS_IDC_OK);
}

#[test]
fn reads_at_most_the_bound() {
    let long = vec![b'a'; 4096];
    // No NUL anywhere: only the bound stops the scan.
    let got = unsafe { bounded_bytes(long.as_ptr().cast(), MAX_IDENTIFIER_SCAN) };
    assert_eq!(got.len(), MAX_IDENTIFIER_SCAN);
    let short = c"abc";
    assert_eq!(unsafe { bounded_bytes(short.as_ptr(), 65) }, b"abc");
}

#[test]
fn null_pointers_are_invalid_arguments() {
    let id = c"cluster";
    let mut ids = [id.as_ptr()];
    let status = unsafe { rs_idc_get_token(ids.as_mut_ptr(), 1, ptr::null_mut(), ptr::null_mut()) };
    assert_eq!(status, RS_IDC_EINVAL);
    assert_eq!(last_error(), "out is NULL");

    let mut out: *mut c_char = c"sentinel".as_ptr().cast_mut();
    let status = unsafe { rs_idc_get_token(ptr::null_mut(), 1, &mut out, ptr::null_mut()) };
    assert_eq!(status, RS_IDC_EINVAL);
    assert!(out.is_null());
    assert_eq!(last_error(), "ids is NULL");

    let mut with_null = [id.as_ptr(), ptr::null()];
    let status = unsafe { rs_idc_get_token(with_null.as_mut_ptr(), 2, &mut out, ptr::null_mut()) };
    assert_eq!(status, RS_IDC_EINVAL);
    assert_eq!(last_error(), "ids[1] is NULL");
}

#[test]
fn free_accepts_null_and_library_tokens() {
    unsafe { rs_idc_free_token(ptr::null_mut()) };
    let token = Token::for_tests("abc", 1);
    let mut out = ptr::null_mut();
    let mut exp = 0;
    unsafe {
        HandOut {
            out: &mut out,
            exp: &mut exp,
        }
        .write(&token)
    }
    .unwrap();
    assert_eq!(exp, 1);
    assert_eq!(unsafe { CStr::from_ptr(out) }, c"abc");
    unsafe { rs_idc_free_token(out) };
}

#[test]
fn names_and_version_are_static_strings() {
    assert_eq!(
        unsafe { CStr::from_ptr(rs_idc_status_str(-5)) },
        c"RS_IDC_ENOTFOUND"
    );
    let version = unsafe { CStr::from_ptr(rs_idc_version()) };
    assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

/// The fresh header, as build.rs made it.
const HEADER: &str = include_str!(concat!(env!("OUT_DIR"), "/rs_idc.h"));

/// The option keys a text lists: `key` at the start of the lines of a
/// list, two or three spaces in.
fn listed_keys<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<String> {
    lines
        .filter_map(|line| {
            let word: String = line
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            (!word.is_empty() && line[word.len()..].starts_with("  ")).then_some(word)
        })
        .collect()
}

fn known_keys() -> Vec<String> {
    crate::options::KEYS
        .iter()
        .map(|option| option.key.to_owned())
        .collect()
}

#[test]
fn the_headers_option_list_is_the_parsers() {
    let list = HEADER
        .split_once("not matter:")
        .map(|(_, rest)| rest)
        .and_then(|rest| rest.split_once("*/"))
        .map(|(list, _)| list)
        .unwrap_or_default();
    let keys = listed_keys(list.lines().filter_map(|l| l.strip_prefix(" *   ")));
    assert_eq!(keys, known_keys());
}

#[test]
fn the_readmes_option_table_is_the_parsers() {
    let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
    let table = readme
        .split_once("| key | value | environment equivalent |")
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let keys: Vec<String> = table
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .flat_map(|row| {
            let first = row.split('|').nth(1).unwrap_or_default();
            first
                .split(',')
                .map(|key| key.trim().trim_matches('`').to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(keys, known_keys());
}

#[test]
fn the_header_speaks_c89() {
    for (number, line) in HEADER.lines().enumerate() {
        let in_block_comment = line.starts_with(" *") || line.starts_with("/*");
        assert!(
            in_block_comment || !line.contains("//"),
            "line {}: a C99 comment: {line}",
            number + 1
        );
        assert!(!line.contains("# Safety"), "line {}: {line}", number + 1);
        assert!(
            !line.contains("| ---"),
            "line {}: a table: {line}",
            number + 1
        );
        assert!(!line.contains('`'), "line {}: markdown: {line}", number + 1);
        if let Some(rest) = line.strip_prefix("#endif") {
            let rest = rest.trim();
            assert!(
                rest.is_empty() || rest.starts_with("/*"),
                "line {}: {line}",
                number + 1
            );
        }
    }
}
