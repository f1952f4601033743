//! Files named by settings (CA bundles, web token files): checked to be
//! regular files without opening them, opened without blocking, and read
//! with a bound. `name` is the setting named in the error.

use crate::error::Error;
use std::path::Path;
use zeroize::Zeroizing;

/// Checks that `path` (the setting `name`) is a regular file, without
/// opening it: a FIFO or a device is refused without blocking.
pub(crate) fn check_regular_file(name: &str, path: &Path) -> Result<std::fs::Metadata, Error> {
    let meta = std::fs::metadata(path)
        .map_err(|e| file_error(name, path, format!("cannot be read: {e}")))?;
    if !meta.is_file() {
        return Err(file_error(name, path, "is not a regular file".into()));
    }
    Ok(meta)
}

/// Reads the regular file at `path` (the setting `name`) of at most `max`
/// bytes, wiped when dropped. It is checked before it is opened, opened
/// without blocking and checked again (the path may have been replaced
/// by a FIFO since), and read with the bound.
pub(crate) fn read_regular_file(
    name: &str,
    path: &Path,
    max: u64,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let too_large = || {
        let bound = if max.is_multiple_of(1 << 20) {
            format!("{} MiB", max >> 20)
        } else {
            format!("{max} bytes")
        };
        file_error(name, path, format!("is larger than {bound}"))
    };
    let cannot_read = |e: std::io::Error| file_error(name, path, format!("cannot be read: {e}"));
    if check_regular_file(name, path)?.len() > max {
        return Err(too_large());
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(cannot_read)?;
    let meta = file.metadata().map_err(cannot_read)?;
    if !meta.is_file() {
        return Err(file_error(name, path, "is not a regular file".into()));
    }
    let mut bytes = Zeroizing::new(Vec::with_capacity(meta.len().min(max) as usize));
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot_read)?;
    if bytes.len() as u64 > max {
        return Err(too_large());
    }
    Ok(bytes)
}

fn file_error(name: &str, path: &Path, why: String) -> Error {
    Error::invalid(format!("{name}: {} {why}", path.display()))
}
