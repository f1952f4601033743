//! A handle's `web_token_file`: the web token it holds now, read again
//! whenever the file may have changed. Sessions are keyed by the web
//! token's digest, so a session serves only the web token the file holds.

use crate::clock::unix_now;
use crate::error::Error;
use crate::kept::{Due, HandleId, Keepable, Kept};
use crate::web_token::WebToken;
use std::path::Path;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, SystemTime};

/// Each handle's `web_token_file` as it was last read.
pub(crate) static WEB_TOKEN_FILES: LazyLock<Kept<HandleId, Arc<FileRead>>> =
    LazyLock::new(|| Kept::new("web token files", 4, 64));

/// A file whose last change is more recent than this may change again
/// without its change time moving (file times are coarse), so it is read
/// again on the next call rather than trusted by its times.
const SETTLE: Duration = Duration::from_secs(2);

/// A web token file as it was read: the web token, while the file stays
/// as stamped.
pub(crate) struct FileRead {
    stamp: FileStamp,
    web_token: Arc<WebToken>,
    /// Whether the file's times can be trusted to show the next change
    /// (its last change was not too recent when it was read).
    settled: bool,
}

impl Keepable for Arc<FileRead> {}

/// What tells one version of a file from another without reading it. The
/// change time (`ctime`) moves with every write and cannot be set back
/// (`utimensat` sets only the access and modification times), so a file
/// rewritten in place, to the same size and with its old times restored,
/// still shows a new stamp.
#[derive(Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    device: u64,
    inode: u64,
    size: u64,
    modified_ns: i128,
    changed_ns: i128,
}

impl FileStamp {
    fn of(path: &Path) -> Option<FileStamp> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).ok()?;
        let ns = |secs: i64, nanos: i64| i128::from(secs) * 1_000_000_000 + i128::from(nanos);
        Some(FileStamp {
            device: meta.dev(),
            inode: meta.ino(),
            size: meta.size(),
            modified_ns: ns(meta.mtime(), meta.mtime_nsec()),
            changed_ns: ns(meta.ctime(), meta.ctime_nsec()),
        })
    }

    /// Whether the last change was at least [`SETTLE`] before `now`.
    fn settled(&self, now: SystemTime) -> bool {
        let now_ns = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos() as i128);
        self.changed_ns + SETTLE.as_nanos() as i128 <= now_ns
    }
}

/// The web token in `handle`'s web token file `path`: the one read
/// before while the file is unchanged, else read now. A session serves
/// only the web token the file holds, since sessions are keyed by the
/// token's digest.
pub(crate) fn web_token_from_file(handle: HandleId, path: &Path) -> Result<Arc<WebToken>, Error> {
    let now = unix_now();
    // Stamped before it is read: a change while it is read makes the next
    // call read it again.
    let stamp = FileStamp::of(path);
    if let Some(read) = WEB_TOKEN_FILES.fresh(&handle, now) {
        if read.settled && Some(read.stamp) == stamp {
            return Ok(Arc::clone(&read.web_token));
        }
    }
    let web_token = Arc::new(WebToken::read_file("web_token_file", path, now)?);
    match stamp {
        Some(stamp) => {
            let read = FileRead {
                stamp,
                web_token: Arc::clone(&web_token),
                settled: stamp.settled(SystemTime::now()),
            };
            WEB_TOKEN_FILES.keep(handle, Arc::new(read), Due::until(web_token.expires_at()));
        }
        None => {
            WEB_TOKEN_FILES.remove_where(|key, _| *key == handle);
        }
    }
    Ok(web_token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::drop_handle;
    use crate::users::tests::web_token;

    #[test]
    fn a_file_rewritten_in_place_with_its_times_restored_is_read_again() {
        use std::os::unix::fs::FileExt;
        let dir = std::env::temp_dir().join(format!("rs-idc-users-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("web-token");
        let now = unix_now();
        let (alice, bob) = (
            web_token("alice", now + 3600),
            web_token("bobby", now + 3600),
        );
        assert_eq!(alice.secret().len(), bob.secret().len());
        std::fs::write(&path, alice.secret()).unwrap();
        let handle = HandleId::new();
        let first = web_token_from_file(handle, &path).unwrap();
        assert_eq!(first.digest(), alice.digest());
        let times = std::fs::metadata(&path).unwrap();
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.write_all_at(bob.secret().as_bytes(), 0).unwrap();
        file.set_times(
            std::fs::FileTimes::new()
                .set_accessed(times.accessed().unwrap())
                .set_modified(times.modified().unwrap()),
        )
        .unwrap();
        let second = web_token_from_file(handle, &path).unwrap();
        assert_eq!(second.digest(), bob.digest());
        drop_handle(handle);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
