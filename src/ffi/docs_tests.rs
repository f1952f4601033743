//! The header's shape and the reference pages of docs/api/ against it:
//! every function exported and documented, every page a function's, each
//! page's synopsis the header's declaration and its text the header's
//! comment. tools/api_docs.py writes the pages (`python3 tools/api_docs.py
//! write`); its `check` compares them whole.

use std::collections::BTreeSet;
use std::path::PathBuf;

/// The fresh header, as build.rs made it.
const HEADER: &str = include_str!(concat!(env!("OUT_DIR"), "/rs_idc.h"));

/// A function the header declares.
struct Declared {
    name: String,
    /// As the header writes it, without `RS_IDC_EXPORT`.
    declaration: String,
    /// Its doc comment's lines, without the leading ` * `.
    comment: Vec<String>,
}

fn declared_functions() -> Vec<Declared> {
    let mut functions = Vec::new();
    let mut comment = Vec::new();
    let mut lines = HEADER.lines();
    while let Some(line) = lines.next() {
        if line == "/**" {
            comment.clear();
        } else if line == " *" {
            comment.push(String::new());
        } else if let Some(text) = line.strip_prefix(" * ") {
            comment.push(text.to_owned());
        } else if let Some(rest) = line.strip_prefix("RS_IDC_EXPORT") {
            let mut declaration = Vec::new();
            let mut next = if rest.is_empty() {
                lines.next()
            } else {
                Some(rest.trim_start())
            };
            while let Some(part) = next {
                declaration.push(part);
                next = (!part.ends_with(';')).then(|| lines.next()).flatten();
            }
            let name = declaration[0]
                .split('(')
                .next()
                .and_then(|head| head.rsplit([' ', '*']).next())
                .unwrap_or_default()
                .to_owned();
            functions.push(Declared {
                name,
                declaration: declaration.join("\n"),
                comment: std::mem::take(&mut comment),
            });
        }
    }
    functions
}

fn pages_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/api")
}

/// The text of docs/api/NAME.md.
fn page(name: &str) -> String {
    let path = pages_dir().join(format!("{name}.md"));
    std::fs::read_to_string(&path).unwrap_or_else(|err| {
        panic!(
            "{}: {err}: run python3 tools/api_docs.py write",
            path.display()
        )
    })
}

/// Text without Markdown's marks (code spans, escapes, list bullets,
/// fences and headings), its words joined by single spaces, in lower case.
fn plain(text: &str) -> String {
    let mut joined = String::new();
    for line in text.lines().map(str::trim_start) {
        if line.starts_with("```") || line.starts_with('#') {
            continue;
        }
        joined.push_str(line.strip_prefix("- ").unwrap_or(line));
        joined.push(' ');
    }
    let mut out = String::with_capacity(joined.len());
    let mut chars = joined.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' => {}
            '\\' if chars.peek().is_some_and(char::is_ascii_punctuation) => {}
            c => out.push(c),
        }
    }
    out.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[test]
fn the_header_declares_the_process_wide_call_first() {
    let names: Vec<String> = declared_functions().into_iter().map(|f| f.name).collect();
    assert_eq!(
        names[..5],
        [
            "rs_idc_get_token",
            "rs_idc_free_token",
            "rs_idc_last_error",
            "rs_idc_status_str",
            "rs_idc_version"
        ]
    );
    let get_token = &declared_functions()[0];
    assert_eq!(
        get_token.declaration,
        "int rs_idc_get_token(const char **ids, size_t n, char **out, int64_t *exp);"
    );
}

#[test]
fn every_function_is_exported_and_no_macro_is_a_bare_negative_number() {
    let body = HEADER
        .split_once("extern \"C\" {")
        .map(|(_, body)| body)
        .unwrap_or_default();
    let mut previous = "";
    for line in body.lines() {
        let is_code = !line.starts_with(' ') && !line.starts_with('/') && !line.starts_with('#');
        if is_code && line.contains("rs_idc_") && line.contains('(') {
            assert!(
                line.starts_with("RS_IDC_EXPORT ") || previous == "RS_IDC_EXPORT",
                "not exported: {line}"
            );
        }
        previous = line;
    }
    assert!(declared_functions().len() >= 22);
    for line in HEADER.lines() {
        if let Some((_, value)) = line
            .strip_prefix("#define ")
            .and_then(|d| d.split_once(' '))
        {
            assert!(!value.starts_with('-'), "not in parentheses: {line}");
        }
    }
    assert!(HEADER.contains("#define RS_IDC_EINVAL (-1)\n"));
    assert!(HEADER.contains("#define RS_IDC_DEPRECATED(msg)"));
}

#[test]
fn every_function_has_a_page_and_every_page_a_function() {
    let functions: BTreeSet<String> = declared_functions().into_iter().map(|f| f.name).collect();
    let pages: BTreeSet<String> = std::fs::read_dir(pages_dir())
        .expect("docs/api")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|file| file.strip_suffix(".md").map(str::to_owned))
        .filter(|stem| stem != "README")
        .collect();
    assert_eq!(
        functions, pages,
        "docs/api/ is stale: run python3 tools/api_docs.py write"
    );
    let index = page("README");
    let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
    for name in &functions {
        assert!(
            index.contains(&format!("({name}.md)")),
            "docs/api/README.md lacks {name}"
        );
        assert!(
            readme.contains(&format!("(docs/api/{name}.md)")),
            "README.md's C API at a glance lacks {name}"
        );
    }
}

#[test]
fn each_pages_synopsis_is_the_headers_declaration() {
    for function in declared_functions() {
        let text = page(&function.name);
        let synopsis = text
            .split_once("## Synopsis\n\n```c\n")
            .and_then(|(_, rest)| rest.split_once("\n```\n"))
            .map(|(block, _)| block)
            .unwrap_or_default();
        assert_eq!(
            synopsis,
            format!("#include <rs_idc.h>\n\n{}", function.declaration),
            "docs/api/{}.md: the synopsis is stale: run python3 tools/api_docs.py write",
            function.name
        );
    }
}

#[test]
fn each_page_says_what_the_headers_comment_says() {
    for function in declared_functions() {
        let text = plain(&page(&function.name));
        for paragraph in function.comment.split(|line| line.is_empty()) {
            let paragraph = paragraph.join("\n");
            let paragraph = ["Threads: ", "Pointers: "]
                .iter()
                .find_map(|label| paragraph.strip_prefix(label))
                .unwrap_or(&paragraph);
            let wanted = plain(paragraph);
            assert!(
                text.contains(&wanted),
                "docs/api/{}.md does not say what the header says: {wanted:?}: \
                 run python3 tools/api_docs.py write",
                function.name
            );
        }
    }
}
