//! Generates the C header with cbindgen and sets the cdylib's link options.
//!
//! The header goes to `$OUT_DIR/rs_idc.h` only: the build never writes
//! into the source tree. `make header` copies it to `include/rs_idc.h`,
//! the committed copy, and a test fails while the two differ.

use std::path::PathBuf;

fn main() {
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_default();
    let patch = std::env::var("CARGO_PKG_VERSION_PATCH").unwrap_or_default();

    // dlclose() must never unload code that runtime threads may still run.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    // Programs record the major version's name; installs add the links.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,librs_idc.so.{major}");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");

    let crate_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let mut config = match cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")) {
        Ok(config) => config,
        Err(err) => fail(&format!("cbindgen.toml: {err}")),
    };
    // The version macros come from Cargo.toml, never by hand; the export
    // and deprecation macros of cbindgen.toml follow them.
    config.after_includes = Some(format!(
        "\n/* The version of the library this header belongs to (see also rs_idc_version()). */\n\
         #define RS_IDC_VERSION \"{version}\"\n\
         #define RS_IDC_VERSION_MAJOR {major}\n\
         #define RS_IDC_VERSION_MINOR {minor}\n\
         #define RS_IDC_VERSION_PATCH {patch}\n{}",
        config.after_includes.as_deref().unwrap_or_default()
    ));
    let bindings = match cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
    {
        Ok(bindings) => bindings,
        Err(err) => fail(&format!("cbindgen could not generate the header: {err}")),
    };
    let mut text = Vec::new();
    bindings.write(&mut text);
    let header = c89_comments(&String::from_utf8_lossy(&text));
    let header = group_banners(&parenthesised_negatives(&header));
    if let Err(err) = std::fs::write(out_dir.join("rs_idc.h"), header) {
        fail(&format!("cannot write the header: {err}"));
    }
}

/// The header with cbindgen's line comments after code (`#endif //
/// __cplusplus`, `} // extern "C"`) turned into block comments, which C89
/// and C++98 both accept.
fn c89_comments(header: &str) -> String {
    let mut out = String::with_capacity(header.len());
    for line in header.lines() {
        let in_block_comment = line.starts_with(" *") || line.starts_with("/*");
        match line.split_once("//") {
            Some((code, comment)) if !in_block_comment => {
                out.push_str(&format!("{}  /* {} */", code.trim_end(), comment.trim()));
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// The header's groups of functions in reading order, each named by its
/// first function. cbindgen writes the functions in the order of the
/// modules in src/ffi/mod.rs; a banner before each group's first function
/// shows where it starts, and the build fails when a group is missing or
/// out of order. docs/api/ and the man pages take their groups from the
/// banners.
const GROUPS: &[(&str, &str)] = &[
    (
        "rs_idc_get_token",
        "The process-wide call and its companions",
    ),
    ("rs_idc_client_new", "Client handles"),
    ("rs_idc_client_get_user_token", "Per-user tokens"),
    ("rs_idc_client_start_token", "Non-blocking requests"),
    (
        "rs_idc_client_get_browser_token",
        "Sign-ins for people: browser and device code",
    ),
    ("rs_idc_set_log_callback", "Logging"),
];

/// The header with a banner comment before the doc comment of each group's
/// first function (see [`GROUPS`]).
fn group_banners(header: &str) -> String {
    let rule = "=".repeat(72);
    let mut out = Vec::new();
    let mut comment_start = None;
    let mut next = GROUPS.iter().peekable();
    for line in header.lines() {
        let is_code = !line.starts_with(" *") && !line.starts_with("/*");
        if line == "/**" {
            comment_start = Some(out.len());
        }
        if let Some(&&(first, title)) = next.peek() {
            if is_code && line.contains(&format!(" {first}(")) {
                // Before the function's doc comment, if it has one.
                let at = comment_start.unwrap_or(out.len());
                let banner = [
                    format!("/* {rule}"),
                    format!(" * {title}"),
                    format!(" * {rule} */"),
                    String::new(),
                ];
                out.splice(at..at, banner);
                next.next();
            }
        }
        if is_code && (line.ends_with(';') || line.starts_with('#')) {
            // The end of an item: the next one has its own comment.
            comment_start = None;
        }
        out.push(line.to_owned());
    }
    if let Some((first, _)) = next.next() {
        fail(&format!(
            "the header's functions are not in reading order: {first} comes too early or is \
             missing (see GROUPS in build.rs and the modules in src/ffi/mod.rs)"
        ));
    }
    out.join("\n") + "\n"
}

/// The header with every macro whose value is a bare negative number
/// (`#define RS_IDC_EINVAL -1`, as cbindgen writes the statuses) in
/// parentheses, `(-1)`, as C headers write negative constants: the macro
/// is then one primary expression wherever it is used.
fn parenthesised_negatives(header: &str) -> String {
    let mut out = String::with_capacity(header.len() + 64);
    for line in header.lines() {
        let value = line
            .strip_prefix("#define ")
            .and_then(|rest| rest.split_once(' '))
            .map(|(_, value)| value);
        match value {
            Some(value)
                if value.len() > 1
                    && value.starts_with('-')
                    && value[1..].bytes().all(|b| b.is_ascii_digit()) =>
            {
                out.push_str(&line[..line.len() - value.len()]);
                out.push_str(&format!("({value})"));
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
