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
    // The version macros come from Cargo.toml, never by hand.
    config.after_includes = Some(format!(
        "\n/* The version of the library this header belongs to (see also rs_idc_version()). */\n\
         #define RS_IDC_VERSION \"{version}\"\n\
         #define RS_IDC_VERSION_MAJOR {major}\n\
         #define RS_IDC_VERSION_MINOR {minor}\n\
         #define RS_IDC_VERSION_PATCH {patch}"
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

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
