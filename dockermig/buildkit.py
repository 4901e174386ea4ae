"""What BuildKit itself decides, for the rules that mirror its build checks: the ARGs it
predefines, which checks a ``# check=`` directive skips, what a valid image reference is,
and how it reads a ``--platform`` value.

Each answer follows BuildKit's own code (``frontend/dockerfile/linter``,
``dockerfile2llb``, ``distribution/reference``, ``containerd/platforms``), so a rule
reports what ``docker build --check`` would, no more.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from dockermig.regex import compile_on_use
from dockermig.syntax.parser import Dockerfile

# ARGs every build defines without a declaration (dockerfile2llb's defaultArgs)
PREDEFINED_ARGS = frozenset({
    "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT",
    "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "TARGETSTAGE",
})
# build arguments that never reach a variable lookup (dockerfile2llb's nonEnvArgs)
NON_ENV_ARGS = frozenset({"BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"})


class CheckSkips(NamedTuple):
    """The checks a ``# check=skip=...`` directive turns off."""

    names: frozenset[str] = frozenset()
    every: bool = False  # ``skip=all``

    def skips(self, check: str) -> bool:
        return self.every or check in self.names


def check_skips(dockerfile: Dockerfile) -> CheckSkips:
    """What ``# check=skip=A,B`` (or ``skip=all``) turns off, like linter.ParseLintOptions:
    options are ``;``-separated, names are exact (BuildKit compares them case-sensitively)."""
    directive = dockerfile.directives.get("check")
    if directive is None:
        return CheckSkips()
    for option in directive.value.split(";"):
        key, eq, value = option.partition("=")
        if eq and key.strip() == "skip":
            value = value.strip()
            if value == "all":
                return CheckSkips(every=True)
            return CheckSkips(frozenset(name.strip() for name in value.split(",") if name.strip()))
    return CheckSkips()


# distribution/reference's grammar, as ParseNormalizedNamed applies it
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REFERENCE = compile_on_use(
    rf"^(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$"
)
_IDENTIFIER = compile_on_use(r"^[a-f0-9]{64}$")


def is_valid_reference(reference: str) -> bool:
    """Whether BuildKit can pull ``reference`` by name: an empty name, an upper-case
    repository, a dangling ``:`` or a bare 64-hex identifier are not."""
    match = _REFERENCE.match(reference)
    if match is None:
        return False
    domain = match["domain"]
    # a first component with no ".", ":" or capital letter that is not localhost is a
    # Docker Hub namespace (splitDockerDomain), so the path grammar applies to it
    if domain and domain == domain.lower() and not ("." in domain or ":" in domain or domain == "localhost"):
        if not re.fullmatch(_PATH_COMPONENT, domain):
            return False
    name = f"{domain}/{match['path']}" if domain else match["path"]
    return len(name) <= 255 and not _IDENTIFIER.match(name)


class Platform(NamedTuple):
    os: str
    architecture: str  # "" when the value names only an OS


_ARCHITECTURES = {
    "x86_64": "amd64", "x86-64": "amd64", "amd64": "amd64",
    "aarch64": "arm64", "arm64": "arm64",
    "armhf": "arm", "armel": "arm", "arm": "arm",
    "i386": "386", "i686": "386", "386": "386",
}
_KNOWN_OS = frozenset({"linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "solaris", "illumos", "aix",
                       "android", "ios", "plan9", "js", "wasip1", "dragonfly"})


def parse_platform(value: str) -> Platform | None:
    """``os[/arch[/variant]]`` or a lone architecture, normalised like containerd's
    platforms.Parse; None when it is not a platform at all."""
    parts = value.lower().split("/")
    if not all(parts) or len(parts) > 3:
        return None
    if len(parts) == 1:
        if parts[0] in _KNOWN_OS:
            return Platform(parts[0], "")
        if parts[0] in _ARCHITECTURES:
            return Platform("linux", _ARCHITECTURES[parts[0]])
        return None
    os_name, arch = parts[0], parts[1]
    return Platform(os_name, _ARCHITECTURES.get(arch, arch))


class VariableRef(NamedTuple):
    """A variable a word looks up: ``$NAME`` or ``${NAME...}``, offsets in the word."""

    name: str
    start: int
    end: int
    fallback: bool  # ``${NAME:-x}``, ``${NAME+x}``, ``${NAME:?msg}``...: the unset case is handled


_NAME = compile_on_use(r"[A-Za-z_][A-Za-z0-9_]*")


def variable_refs(word: str, escape: str = "\\") -> list[VariableRef]:
    """The variables BuildKit's shell lexer looks up in ``word`` (as written): not inside
    single quotes, not after the escape character."""
    found: list[VariableRef] = []
    i, n = 0, len(word)
    in_double = False
    while i < n:
        ch = word[i]
        if ch == escape:
            i += 2
            continue
        if ch == "'" and not in_double:
            close = word.find("'", i + 1)
            i = n if close == -1 else close + 1
            continue
        if ch == '"':
            in_double = not in_double
        elif ch == "$":
            ref = _reference_at(word, i)
            if ref is not None:
                found.append(ref)
                # a default value may look up variables of its own: scan inside it too
                if word.startswith("${", i):
                    inner = word[i + 2 + len(ref.name) : ref.end - 1]
                    offset = i + 2 + len(ref.name)
                    # looked up only when the outer one is unset: it shares its fallback
                    found.extend(r._replace(start=r.start + offset, end=r.end + offset, fallback=r.fallback or ref.fallback)
                                 for r in variable_refs(inner, escape))
                i = ref.end
                continue
        i += 1
    return found


def _reference_at(word: str, i: int) -> VariableRef | None:
    if word.startswith("{", i + 1):
        name = _NAME.match(word, i + 2)
        if name is None:
            return None
        depth, j = 1, name.end()
        while j < len(word) and depth:
            depth += {"{": 1, "}": -1}.get(word[j], 0)
            j += 1
        modifier = word[name.end()] if name.end() < len(word) else "}"
        return VariableRef(name[0], i, j, modifier in ":-+?")
    name = _NAME.match(word, i + 1)
    return VariableRef(name[0], i, name.end(), False) if name else None


def defined_names(instruction) -> set[str]:
    """The variables an ``ARG`` or ``ENV`` defines: ``ARG A=1 B``, ``ENV A=1 B=2`` and
    the legacy ``ENV A value`` (parseNameVal: no ``=`` in the first word)."""
    keyword, args = instruction.keyword, instruction.args
    if keyword not in ("ARG", "ENV") or not args:
        return set()
    if any(c in args for c in "\"'" + instruction.escape):
        words = [word.value for word in instruction.words]  # quotes: the lexer decides
    else:
        words = args.split()  # the common case, without the cost of word offsets
    if keyword == "ENV" and "=" not in words[0]:
        return {words[0]}
    return {word.partition("=")[0] for word in words if keyword == "ARG" or "=" in word}
