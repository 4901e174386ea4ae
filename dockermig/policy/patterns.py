"""Image patterns: ``[registry/]path[:tag]`` with ``*`` globs, matched against parsed
image references (never by substring)."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import NamedTuple

from dockermig.syntax.query import DOCKER_HUB, ImageRef, parse_image_ref


class ImagePattern(NamedTuple):
    """``[registry/]path[:tag]`` where path and tag may hold ``*`` globs."""

    text: str
    registry: str | None
    path: str
    tags: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str, tags: tuple[str, ...] = ()) -> ImagePattern:
        ref = parse_image_ref(text)
        explicit = ref.registry != DOCKER_HUB or text.startswith("docker.io/")
        tag_patterns = tags or ((ref.tag,) if ref.tag else ())
        return cls(text, ref.registry if explicit else None, _short_path(ref), tag_patterns)

    def matches(self, ref: ImageRef) -> bool:
        if self.registry is not None and ref.registry != self.registry:
            return False
        if not _glob_match(_short_path(ref), self.path):
            return False
        return not self.tags or any(_glob_match(ref.tag or "latest", t) for t in self.tags)


def _glob_match(text: str, pattern: str) -> bool:
    # Most patterns are plain names; compiling ~100 of them as globs costs more than
    # the rest of a one-file lint, so only real globs go through fnmatch.
    if "*" in pattern or "?" in pattern or "[" in pattern:
        return fnmatchcase(text, pattern)
    return text == pattern


def _short_path(ref: ImageRef) -> str:
    return ref.path.removeprefix("library/")
