"""Archives and remote sources as ADD sees them (shared by DM515, DM516)."""

from __future__ import annotations

from pathlib import Path

from dockermig.regex import compile_on_use

# the compressions and containers ADD unpacks from a local source (a zip is not one)
ARCHIVE = compile_on_use(
    r"\.(?:tar|tar\.gz|tgz|tar\.bz2|tbz2?|tb2|tar\.xz|txz|tar\.zst|tzst|tar\.lz|tlz|tar\.lzma|tar\.Z|taZ|tZ|"
    r"gz|bz2|xz|zst|lz|lzma|Z)$"
)
REMOTE = compile_on_use(r"^(?:https?://|git@|git://|ssh://)")


def basename(path: str) -> str:
    return path.strip("\"'").rstrip("/").rsplit("/", 1)[-1]


def is_archive(path: str) -> bool:
    return bool(ARCHIVE.search(path.strip("\"'")))


# gzip, bzip2, xz, zstd: the compressions ADD unpacks (a plain tar says "ustar" at 257)
_COMPRESSED = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")


def archive_by_content(context: Path | None, source: str) -> bool:
    """Whether a local source is an archive by its bytes, which is what ADD looks at:
    ``ADD rootfs /`` unpacks a tarball named ``rootfs``. Reads at most 512 bytes of a
    regular file inside the build context (taken as the Dockerfile's folder); a source
    it cannot read there is judged by its name alone."""
    if context is None or any(c in source for c in "*?[$"):
        return False
    try:
        root = context.resolve()
        target = (root / source.strip("\"'").lstrip("/")).resolve()
        from dockermig import observed

        if root not in target.parents or observed.kind(target) != "file":
            return False
        with target.open("rb") as handle:
            head = handle.read(512)
    except OSError:
        return False
    return head.startswith(_COMPRESSED) or head[257:262] == b"ustar"
