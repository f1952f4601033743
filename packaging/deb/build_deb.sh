#!/usr/bin/env bash
# build_deb.sh ROOT DEB VERSION MAINTAINER - the Debian package DEB from a
# tree that `make install DESTDIR=ROOT PREFIX=/usr
# INSTALL_LIBDIR=/usr/lib/x86_64-linux-gnu` staged (mk/package.mk runs both).
#
# Why dpkg-deb rather than cargo-deb: the files and their places are made
# by the same code as `make install` (the links, the .pc file, the CMake
# files, the man pages), so the package cannot drift from an installation;
# dpkg-deb is part of dpkg, on every Debian and Ubuntu system, and needs no
# build of its own. What Debian adds to an installation is done here: man
# pages compressed, the copyright file, the control file, ldconfig run by a
# trigger on install and removal, the shlibs file that lets other packages
# depend on this one, and md5sums. Depends names libc6 and the glibc
# version the library and rs-idc-token need (see below).
#
# One package, not Debian's usual split into the library, -dev and tools
# packages: one file that a user installs with `dpkg -i`.
# SOURCE_DATE_EPOCH, when set, gives every file its time (dpkg-deb).

set -euo pipefail

if [ $# -ne 4 ]; then
    echo "usage: $0 ROOT DEB VERSION MAINTAINER" >&2
    exit 2
fi
root=$(cd "$1" && pwd)
deb=$2
version=$3
maintainer=$4
here=$(cd "$(dirname "$0")" && pwd)
multiarch=x86_64-linux-gnu
lib=$root/usr/lib/$multiarch/librs_idc.so.$version
tool=$root/usr/bin/rs-idc-token

for f in "$lib" "$tool"; do
    test -f "$f" || { echo "$0: $f is missing: not a staged installation" >&2; exit 1; }
done

find "$root/usr/share/man" -type f -name '*.3' -exec gzip -9nf {} +
install -D -m 0644 "$here/copyright" "$root/usr/share/doc/rs-idc/copyright"

# Depends: libc6, from the newest glibc symbol version that the library
# and the tool need (objdump -T), which is what the dynamic linker checks.
# Not dpkg-shlibdeps: it reads this machine's symbols files, which assume a
# program compiled against this machine's glibc headers and raise some
# symbols' versions for that (Debian 12 asks libc6 (>= 2.34) of any program
# that calls sysconf), while these files were compiled and linked against
# glibc 2.28's (mk/dist.mk). Every library they need must be one of libc6's.
libc6_libraries=" libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 librt.so.1 libutil.so.1 ld-linux-x86-64.so.2 "
for f in "$lib" "$tool"; do
    for needed in $(objdump -p "$f" | awk '$1 == "NEEDED" {print $2}'); do
        case "$libc6_libraries" in
        *" $needed "*) ;;
        *) echo "$0: ${f#"$root"} needs $needed, which is not libc6's: name its package in Depends" >&2
           exit 1 ;;
        esac
    done
done
glibc=$(objdump -T "$lib" "$tool" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/^GLIBC_//' | sort -uV | tail -n 1)
if [ -z "$glibc" ]; then
    echo "$0: objdump -T finds no glibc symbol version" >&2
    exit 1
fi
depends="libc6 (>= $glibc)"

rm -rf "$root/DEBIAN"
mkdir -m 0755 "$root/DEBIAN"
installed_size=$(du -sk --apparent-size "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" \
    -e "s|@MAINTAINER@|$maintainer|" \
    -e "s|@INSTALLED_SIZE@|$installed_size|" \
    -e "s|@DEPENDS@|$depends|" \
    "$here/control.in" >"$root/DEBIAN/control"
echo "activate-noawait ldconfig" >"$root/DEBIAN/triggers"
echo "librs_idc ${version%%.*} rs-idc (>= $version)" >"$root/DEBIAN/shlibs"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort |
    xargs md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN"/*

dpkg-deb --root-owner-group -Zxz --build "$root" "$deb"
