//! Generates `include/rs_idc.h` with cbindgen and sets the cdylib's link
//! options.
//!
//! The fresh header always goes to `$OUT_DIR/rs_idc.h`; a test compares it
//! with the committed one. Outside CI the committed copy is refreshed too, so
//! a developer's build keeps it current; in CI (`CI` set) the source tree is
//! left alone and a stale header fails the test.

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
    println!("cargo:rerun-if-env-changed=CI");

    let crate_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let mut config = match cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")) {
        Ok(config) => config,
        Err(err) => fail(&format!("cbindgen.toml: {err}")),
    };
    // The version macros come from Cargo.toml, never by hand.
    config.after_includes = Some(format!(
        "\n// The version of the library this header belongs to (see also rs_idc_version()).\n\
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
    bindings.write_to_file(out_dir.join("rs_idc.h"));
    if std::env::var_os("CI").is_none() {
        bindings.write_to_file(crate_dir.join("include").join("rs_idc.h"));
    }
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
