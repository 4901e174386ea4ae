"""Archives and remote sources as ADD sees them (shared by DM515, DM516)."""

import re

# the compressions and containers ADD unpacks from a local source (a zip is not one)
ARCHIVE = re.compile(
    r"\.(?:tar|tar\.gz|tgz|tar\.bz2|tbz2?|tb2|tar\.xz|txz|tar\.zst|tzst|tar\.lz|tlz|tar\.lzma|tar\.Z|taZ|tZ|"
    r"gz|bz2|xz|zst|lz|lzma|Z)$"
)
REMOTE = re.compile(r"^(?:https?://|git@|git://|ssh://)")


def basename(path: str) -> str:
    return path.strip("\"'").rstrip("/").rsplit("/", 1)[-1]


def is_archive(path: str) -> bool:
    return bool(ARCHIVE.search(path.strip("\"'")))
