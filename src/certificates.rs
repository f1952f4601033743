//! CA certificates in PEM (`ca_file`, `AWS_CA_BUNDLE`, the system's
//! bundle), checked before the TLS stack reads them: every block a
//! certificate it accepts as a trust anchor, written so that its own PEM
//! reader reads each one the same way (its reader stops the process on
//! anything else).
//!
//! Certificates are public, so each block is decoded once with a fast
//! base64 decoder rather than the TLS stack's constant-time one, which a
//! cold start would otherwise run twice over the system's 150 or so roots.

use aws_smithy_types::base64;
use rustls_pki_types::CertificateDer;

/// Checks that every PEM block of `pem` is an X.509 certificate the TLS
/// stack accepts as a trust anchor, and that there is at least one. The
/// error completes a sentence about the file ("holds no PEM certificate").
///
/// Blocks are accepted only in the form the TLS stack's reader reads the
/// same way: a `-----BEGIN CERTIFICATE-----` line, lines of canonical
/// base64, and the `-----END CERTIFICATE-----` line; text between blocks
/// is ignored.
pub(crate) fn check_ca_pem(pem: &[u8]) -> Result<(), String> {
    let mut blocks = 0;
    let mut lines = Lines(pem);
    while let Some(line) = lines.next() {
        if !line.starts_with(BEGIN) {
            continue;
        }
        blocks += 1;
        let not_pem = || format!("is not valid PEM (block {blocks})");
        let label = begin_label(line).ok_or_else(not_pem)?;
        let mut body = Vec::with_capacity(2048);
        loop {
            let line = lines.next().ok_or_else(not_pem)?;
            if line.starts_with(DASHES) {
                if !is_end_of(line, label) {
                    return Err(not_pem());
                }
                break;
            }
            // Any other character, white space inside a line included,
            // fails the canonical base64 check below.
            body.extend_from_slice(line);
        }
        if label != b"CERTIFICATE" {
            return Err(format!(
                "holds a PEM block that is not a CERTIFICATE (block {blocks}: {})",
                shown_label(label)
            ));
        }
        let der = canonical_base64(&body).ok_or_else(not_pem)?;
        rustls::RootCertStore::empty()
            .add(CertificateDer::from(der))
            .map_err(|e| {
                format!("holds a certificate that cannot be parsed (block {blocks}: {e})")
            })?;
    }
    if blocks == 0 {
        return Err("holds no PEM certificate".into());
    }
    Ok(())
}

/// The lines of a text, each without its end (`\n`, `\r\n`) or the
/// blanks before it; found with the C library's vectorised `memchr`, as a
/// bundle has thousands.
struct Lines<'a>(&'a [u8]);

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.0.is_empty() {
            return None;
        }
        // SAFETY: memchr reads at most `len` bytes of the slice.
        let found = unsafe { libc::memchr(self.0.as_ptr().cast(), i32::from(b'\n'), self.0.len()) };
        let end = match found.is_null() {
            true => self.0.len(),
            false => found as usize - self.0.as_ptr() as usize,
        };
        let (line, rest) = self.0.split_at(end);
        self.0 = rest.get(1..).unwrap_or_default();
        Some(trim_end(line))
    }
}

const BEGIN: &[u8] = b"-----BEGIN ";
const END: &[u8] = b"-----END ";
const DASHES: &[u8] = b"-----";

/// `line` without the white space at its end (`\r` of CRLF files).
fn trim_end(line: &[u8]) -> &[u8] {
    let kept = line
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t' | b'\r'))
        .map_or(0, |last| last + 1);
    &line[..kept]
}

/// The label of a `-----BEGIN LABEL-----` line: five dashes at the end,
/// not more.
fn begin_label(line: &[u8]) -> Option<&[u8]> {
    let label = line.strip_prefix(BEGIN)?.strip_suffix(DASHES)?;
    (!label.is_empty() && !label.ends_with(b"-")).then_some(label)
}

/// Whether `line` is exactly `-----END LABEL-----`.
fn is_end_of(line: &[u8], label: &[u8]) -> bool {
    line.strip_prefix(END)
        .and_then(|rest| rest.strip_prefix(label))
        .is_some_and(|rest| rest == DASHES)
}

/// The bytes `text` encodes, if it is canonical padded base64 (what every
/// decoder reads the same way).
fn canonical_base64(text: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(text).ok()?;
    let bytes = base64::decode(text).ok()?;
    (base64::encode(&bytes) == text).then_some(bytes)
}

/// A label for a message: printable ASCII of a sensible length, else a
/// description.
fn shown_label(label: &[u8]) -> String {
    let printable = label.len() <= 40 && label.iter().all(|b| matches!(b, b' '..=b'~'));
    match printable {
        true => String::from_utf8_lossy(label).into_owned(),
        false => "a label that cannot be shown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::pem::{PemObject, SectionKind};

    /// The TLS stack's own reader accepts what the check accepts, and
    /// reads the same certificates from it.
    fn tls_stack_reads_the_same(pem: &[u8]) {
        let theirs: Vec<(SectionKind, Vec<u8>)> = <(SectionKind, Vec<u8>)>::pem_slice_iter(pem)
            .collect::<Result<_, _>>()
            .expect("the TLS stack's reader accepts it");
        assert!(theirs
            .iter()
            .all(|(kind, _)| *kind == SectionKind::Certificate));
        let mut blocks = 0;
        for (_, der) in theirs {
            rustls::RootCertStore::empty()
                .add(CertificateDer::from(der))
                .expect("a trust anchor");
            blocks += 1;
        }
        assert!(blocks > 0);
    }

    /// A CA certificate made for the test (the local fake's), and the
    /// system's bundle when there is one.
    fn bundles() -> Vec<String> {
        let fake = rs_idc_fake::FakeServer::start_with(rs_idc_fake::FakeOptions {
            tls: true,
            ..Default::default()
        })
        .expect("the fake starts");
        let mut bundles = vec![fake.ca_pem().expect("a TLS fake has a CA")];
        for path in [
            "/etc/ssl/certs/ca-certificates.crt",
            "/etc/pki/tls/certs/ca-bundle.crt",
        ] {
            if let Ok(bundle) = std::fs::read_to_string(path) {
                bundles.push(bundle);
                break;
            }
        }
        bundles
    }

    #[test]
    fn a_bundle_the_check_accepts_is_one_the_tls_stack_reads() {
        for bundle in bundles() {
            check_ca_pem(bundle.as_bytes()).expect("all certificates");
            tls_stack_reads_the_same(bundle.as_bytes());
            let crlf = bundle.replace('\n', "\r\n");
            check_ca_pem(crlf.as_bytes()).expect("CRLF line ends");
            tls_stack_reads_the_same(crlf.as_bytes());
        }
    }

    #[test]
    fn a_certificate_in_other_forms_is_refused_or_read_alike() {
        let bundle = &bundles()[0];
        let first = &bundle[..bundle.find("-----END CERTIFICATE-----").unwrap() + 25];
        let first = &first[first.find("-----BEGIN CERTIFICATE-----").unwrap()..];
        let forms = [
            first.replace("-----\n", "----- \n"),
            first.replace(
                "-----BEGIN CERTIFICATE-----",
                "-----BEGIN CERTIFICATE------",
            ),
            first.replace("-----END CERTIFICATE-----", "-----END CERTIFICATE-----x"),
            first.replacen('\n', "\n ", 2),
            first.replacen('A', "-", 1),
            first.replace("-----END CERTIFICATE-----", ""),
            format!("{first}\n-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n"),
            format!("{first}\n-----BEGIN CERTIFICATE-----\n{first}"),
        ];
        let mut refused = 0;
        for form in &forms {
            match check_ca_pem(form.as_bytes()) {
                Ok(()) => tls_stack_reads_the_same(form.as_bytes()),
                Err(_) => refused += 1,
            }
        }
        assert!(
            refused >= 5,
            "only {refused} of {} odd forms refused",
            forms.len()
        );
    }

    #[test]
    fn messages_name_the_block_and_never_show_a_strange_label() {
        let refused = |pem: &str| check_ca_pem(pem.as_bytes()).unwrap_err();
        assert_eq!(refused("nothing\n"), "holds no PEM certificate");
        assert!(refused("-----BEGIN CERTIFICATE-----\nAAAA\n").contains("not valid PEM (block 1)"));
        assert!(
            refused("-----BEGIN CERTIFICATE-----\nAA\u{7}A\n-----END CERTIFICATE-----\n")
                .contains("not valid PEM")
        );
        let key = refused("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        assert!(
            key.contains("not a CERTIFICATE (block 1: PRIVATE KEY)"),
            "{key}"
        );
        let odd = refused("-----BEGIN \u{1b}[2J-----\nAAAA\n-----END \u{1b}[2J-----\n");
        assert!(odd.contains("a label that cannot be shown"), "{odd}");
        let garbage =
            refused("-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n");
        assert!(garbage.contains("cannot be parsed (block 1"), "{garbage}");
        let not_canonical =
            refused("-----BEGIN CERTIFICATE-----\nZ2FyYmFnZR==\n-----END CERTIFICATE-----\n");
        assert!(
            not_canonical.contains("not valid PEM (block 1)"),
            "{not_canonical}"
        );
    }
}
