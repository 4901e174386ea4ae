"""What the yum, dnf and zypper rules (DM546-DM555) share."""

from dockermig.rules._packages import rpm_pinned
from dockermig.syntax.commands import text

YUM = ("yum",)
DNF = ("dnf", "microdnf")
ZYPPER = ("zypper",)
INSTALL_VERBS = ("install", "groupinstall", "localinstall")
# options of yum and dnf that take the next word as their value
VALUE_FLAGS = ("x", "exclude", "setopt", "enablerepo", "disablerepo", "installroot", "releasever", "c", "config",
               "repo", "repofrompath")


def package_or_module_pinned(argv, operand: str) -> bool:
    """A module stream is pinned by ``name:stream``; a package by ``name-version``."""
    if argv.has_arg("module"):
        return ":" in operand
    return rpm_pinned(operand)


def installs(argv) -> bool:
    return argv.has_arg(*INSTALL_VERBS)


def cleans(argv) -> bool:
    """``yum clean all`` / ``dnf clean all``, or removing their cache directory."""
    if argv.name == "rm":
        return any(text(w).startswith(("/var/cache/yum", "/var/cache/dnf")) for w in argv.operands())
    return argv.has_arg("clean") and argv.has_arg("all")


def clean_all(install) -> str:
    """The cleanup for an install: the same program's ``clean all``."""
    return f"{install.argv.name} clean all"
