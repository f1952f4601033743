//! Sign-ins kept on disk, in a token cache folder, so that the next
//! process uses them (a person at a terminal starts many short processes).
//!
//! Rules, each in one place below: the folder is made 0700 and refused if
//! it is not the user's own or others may write to it; a sign-in is one
//! file, 0600, written to a temporary name and renamed; a lock file per
//! sign-in (`flock`) makes racing processes take turns, so they sign in
//! once; a corrupt, truncated or foreign file is ignored (with a log
//! record) and replaced, never trusted. Per-user web-token exchanges are
//! never written here.

use super::{Client, SignIn, SignInKey};
use crate::aws::signin::{ClientKind, Registration};
use crate::clock::Deadline;
use crate::error::Error;
use crate::fork;
use crate::keyed::{token_digest, Digest};
use crate::status::Status;
use crate::token::Token;
use aws_smithy_json::deserialize::{json_token_iter, Token as Json};
use aws_smithy_json::serialize::JsonObjectWriter;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// The format of the files; another version is ignored and replaced.
const VERSION: i64 = 1;
/// The largest sign-in file read.
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// A token cache folder that passed the checks.
pub(crate) struct Folder {
    path: PathBuf,
}

/// A turn at a sign-in: the lock file, locked until dropped.
pub(crate) struct Turn {
    _file: std::fs::File,
    _closed_in_child: fork::ClosedInChild,
}

impl Folder {
    /// The folder at `path`, made (0700) if missing; refused when it is
    /// not a folder, not the user's own, or writable by others.
    pub(crate) fn open(path: &Path) -> Result<Folder, Error> {
        let refused =
            |why: String| Error::invalid(format!("token_cache_dir: {} {why}", path.display()));
        if !path.exists() {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| refused(format!("cannot be made: {e}")))?;
            }
            match std::fs::DirBuilder::new().mode(0o700).create(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(refused(format!("cannot be made: {e}"))),
            }
        }
        let meta = std::fs::metadata(path).map_err(|e| refused(format!("cannot be read: {e}")))?;
        if !meta.is_dir() {
            return Err(refused("is not a folder".into()));
        }
        // SAFETY: plain system call.
        let user = unsafe { libc::geteuid() };
        if meta.uid() != user {
            return Err(refused(format!(
                "belongs to another user (uid {}); sign-ins are kept only in a folder of \
                 your own",
                meta.uid()
            )));
        }
        if meta.permissions().mode() & 0o022 != 0 {
            return Err(refused(
                "may be written by others (group or world); run chmod 700 on it".into(),
            ));
        }
        Ok(Folder {
            path: path.to_owned(),
        })
    }

    /// A folder this process used before, for clearing and forgetting.
    pub(crate) fn known(path: PathBuf) -> Folder {
        Folder { path }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Takes the turn at `key`'s sign-in, waiting for another process's
    /// until `deadline`.
    pub(crate) fn lock(&self, key: &SignInKey, deadline: &Deadline) -> Result<Turn, Error> {
        let path = self.path.join(format!("{}.lock", file_stem(key)));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| {
                Error::invalid(format!(
                    "token_cache_dir: {} cannot be written: {e}",
                    path.display()
                ))
            })?;
        let closed_in_child = fork::ClosedInChild::new(file.as_raw_fd());
        loop {
            // SAFETY: a descriptor of this file.
            let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if locked == 0 {
                return Ok(Turn {
                    _file: file,
                    _closed_in_child: closed_in_child,
                });
            }
            let left = deadline.left();
            if left.is_zero() {
                return Err(Error::new(
                    Status::Timeout,
                    "the sign-in did not finish within its time bound (another process was \
                     signing in with the same token cache folder)",
                ));
            }
            std::thread::sleep(left.min(Duration::from_millis(20)));
        }
    }

    /// What the file of `key` holds, merged over `kept` (the file is
    /// written after every sign-in, here or in another process, so what it
    /// holds wins); `kept` alone when there is no usable file.
    pub(crate) fn read(&self, key: &SignInKey, kept: SignIn) -> SignIn {
        let path = self.file(key);
        let Some(fields) = read_fields(&path) else {
            return kept;
        };
        match stored(&fields, key) {
            Ok(on_disk) => SignIn {
                browser_client: on_disk.browser_client.or(kept.browser_client),
                device_client: on_disk.device_client.or(kept.device_client),
                access: on_disk.access.or(kept.access),
                refresh_token: on_disk.refresh_token.or(kept.refresh_token),
            },
            Err(why) => {
                tracing::warn!(
                    "token cache: {} is ignored and will be replaced: {why}",
                    path.display()
                );
                kept
            }
        }
    }

    /// Writes `sign_in` as `key`'s file: a temporary file (0600), renamed.
    /// A failure is logged; the sign-in still serves this process.
    pub(crate) fn write(&self, key: &SignInKey, sign_in: &SignIn) {
        let path = self.file(key);
        if let Err(e) = write_file(&path, &text(key, sign_in)) {
            tracing::warn!("token cache: {} could not be written: {e}", path.display());
        }
    }

    /// Removes every sign-in file of the folder.
    pub(crate) fn remove_all(&self) {
        for path in self.files() {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Drops the access token whose digest is `token` from every file
    /// that holds it (the rest stays); whether one did.
    pub(crate) fn forget(&self, token: &Digest) -> bool {
        let mut found = false;
        for path in self.files() {
            let Some(fields) = read_fields(&path) else {
                continue;
            };
            let held = string(&fields, "access_token").is_some_and(|access| {
                token_digest(access.as_bytes()).is_ok_and(|own| own.same_as(token))
            });
            let Some(key) = held.then(|| key_of(&fields)).flatten() else {
                continue;
            };
            if let Ok(mut sign_in) = stored(&fields, &key) {
                sign_in.access = None;
                found = true;
                self.write(&key, &sign_in);
            }
        }
        found
    }

    fn file(&self, key: &SignInKey) -> PathBuf {
        self.path.join(format!("{}.json", file_stem(key)))
    }

    /// The sign-in files of the folder.
    fn files(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(&self.path) else {
            return Vec::new();
        };
        entries
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| {
                path.file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with("signin-") && name.ends_with(".json"))
            })
            .collect()
    }
}

/// The name of a sign-in's files: a SHA-256 of its place, so that every
/// process finds the same file (a keyed digest would differ per process).
fn file_stem(key: &SignInKey) -> String {
    let mut place = Vec::new();
    for part in [
        key.issuer.as_str(),
        key.region.as_deref().unwrap_or(""),
        key.display_name.as_str(),
        key.endpoint.as_str(),
    ] {
        place.extend_from_slice(&(part.len() as u64).to_be_bytes());
        place.extend_from_slice(part.as_bytes());
    }
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &place);
    let hex: String = digest.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("signin-{hex}")
}

/// One field of a file.
enum Field {
    Text(Zeroizing<String>),
    Number(i64),
    Null,
}

type Fields = HashMap<String, Field>;

/// The fields of the flat JSON object in `path`; `None` when there is no
/// such file, or it is not one (logged).
fn read_fields(path: &Path) -> Option<Fields> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut bytes = Zeroizing::new(Vec::new());
    let read = (&mut file).take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes);
    let parsed = match read {
        Ok(_) if bytes.len() as u64 > MAX_FILE_BYTES => Err("it is too large"),
        Ok(_) => parse_fields(&bytes),
        Err(_) => Err("it cannot be read"),
    };
    match parsed {
        Ok(fields) => Some(fields),
        Err(why) => {
            tracing::warn!(
                "token cache: {} is ignored and will be replaced: {why}",
                path.display()
            );
            None
        }
    }
}

fn parse_fields(bytes: &[u8]) -> Result<Fields, &'static str> {
    let broken = "it is not a sign-in file (corrupt or truncated)";
    let mut tokens = json_token_iter(bytes);
    if !matches!(tokens.next(), Some(Ok(Json::StartObject { .. }))) {
        return Err(broken);
    }
    let mut fields = Fields::new();
    let mut key = None;
    loop {
        match tokens.next() {
            Some(Ok(Json::ObjectKey { key: name, .. })) => {
                key = Some(name.to_unescaped().map_err(|_| broken)?.into_owned());
            }
            Some(Ok(Json::ValueString { value, .. })) => {
                let text = value.to_unescaped().map_err(|_| broken)?;
                fields.insert(
                    key.take().ok_or(broken)?,
                    Field::Text(Zeroizing::new(text.into_owned())),
                );
            }
            Some(Ok(Json::ValueNumber { value, .. })) => {
                let number = match value {
                    aws_smithy_types::Number::PosInt(n) => i64::try_from(n).map_err(|_| broken)?,
                    aws_smithy_types::Number::NegInt(n) => n,
                    aws_smithy_types::Number::Float(_) => return Err(broken),
                };
                fields.insert(key.take().ok_or(broken)?, Field::Number(number));
            }
            Some(Ok(Json::ValueNull { .. })) => {
                fields.insert(key.take().ok_or(broken)?, Field::Null);
            }
            Some(Ok(Json::EndObject { .. })) if key.is_none() => break,
            _ => return Err(broken),
        }
    }
    if tokens.next().is_some() {
        return Err(broken);
    }
    Ok(fields)
}

fn string<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    match fields.get(name) {
        Some(Field::Text(text)) => Some(text.as_str()),
        _ => None,
    }
}

fn number(fields: &Fields, name: &str) -> Option<i64> {
    match fields.get(name) {
        Some(Field::Number(n)) => Some(*n),
        _ => None,
    }
}

/// The place a file says it holds.
fn key_of(fields: &Fields) -> Option<SignInKey> {
    Some(SignInKey {
        issuer: string(fields, "issuer")?.to_owned(),
        region: string(fields, "region").map(str::to_owned),
        display_name: string(fields, "display_name")?.to_owned(),
        endpoint: string(fields, "endpoint")?.to_owned(),
    })
}

/// The sign-in a file holds for `key`, or why it is not one to trust.
fn stored(fields: &Fields, key: &SignInKey) -> Result<SignIn, &'static str> {
    if number(fields, "version") != Some(VERSION) {
        return Err("it is of another format version");
    }
    if key_of(fields).as_ref() != Some(key) {
        return Err("it belongs to another sign-in");
    }
    let client = |prefix: &str, kind: ClientKind| -> Option<Arc<Client>> {
        let registration = Registration {
            client_id: string(fields, &format!("{prefix}_client_id"))?.to_owned(),
            client_secret: Zeroizing::new(
                string(fields, &format!("{prefix}_client_secret"))?.to_owned(),
            ),
            expires_at: number(fields, &format!("{prefix}_client_expires_at"))?,
        };
        Some(Arc::new(Client { registration, kind }))
    };
    let browser_client = string(fields, "browser_redirect_uri").and_then(|redirect_uri| {
        let redirect_uri = redirect_uri.to_owned();
        client("browser", ClientKind::Browser { redirect_uri })
    });
    let access = match (
        string(fields, "access_token"),
        number(fields, "expires_at"),
        number(fields, "issued_at"),
    ) {
        (Some(text), Some(expires_at), Some(issued_at)) => {
            Some((Token::from_kept(text, expires_at), issued_at))
        }
        _ => None,
    };
    Ok(SignIn {
        browser_client,
        device_client: client("device", ClientKind::Device),
        access,
        refresh_token: string(fields, "refresh_token").map(|t| Zeroizing::new(t.to_owned())),
    })
}

/// The file text of `sign_in` at `key`, wiped when dropped.
fn text(key: &SignInKey, sign_in: &SignIn) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::new());
    let mut object = JsonObjectWriter::new(&mut text);
    object
        .key("version")
        .number(aws_smithy_types::Number::PosInt(VERSION as u64));
    object.key("issuer").string(&key.issuer);
    match &key.region {
        Some(region) => object.key("region").string(region),
        None => object.key("region").null(),
    }
    object.key("display_name").string(&key.display_name);
    object.key("endpoint").string(&key.endpoint);
    let number = |n: i64| aws_smithy_types::Number::NegInt(n);
    for (prefix, client) in [
        ("browser", &sign_in.browser_client),
        ("device", &sign_in.device_client),
    ] {
        let Some(client) = client else { continue };
        let registration = &client.registration;
        object
            .key(&format!("{prefix}_client_id"))
            .string(&registration.client_id);
        object
            .key(&format!("{prefix}_client_secret"))
            .string(&registration.client_secret);
        object
            .key(&format!("{prefix}_client_expires_at"))
            .number(number(registration.expires_at));
        if let ClientKind::Browser { redirect_uri } = &client.kind {
            object.key("browser_redirect_uri").string(redirect_uri);
        }
    }
    if let Some((token, issued_at)) = &sign_in.access {
        object.key("access_token").string(token.secret());
        object.key("expires_at").number(number(token.expires_at()));
        object.key("issued_at").number(number(*issued_at));
    }
    if let Some(refresh_token) = &sign_in.refresh_token {
        object.key("refresh_token").string(refresh_token);
    }
    object.finish();
    text
}

/// Writes `text` to `path` through a new 0600 file renamed over it.
fn write_file(path: &Path, text: &str) -> std::io::Result<()> {
    let suffix: String = crate::keyed::random_bytes::<8>()
        .map(|bytes| bytes.iter().map(|b| format!("{b:02x}")).collect())
        .unwrap_or_default();
    let temporary = path.with_extension(format!("{suffix}.tmp"));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}
