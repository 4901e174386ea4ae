"""What the yum, dnf and zypper rules (DM546-DM555) share."""

from dockermig.rules._packages import rpm_pinned

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
