"""Users and groups a RUN creates: ``useradd``/``groupadd`` (shadow), ``adduser``/
``addgroup`` (Debian's long options, BusyBox's short ones), with the ids, primary group
and home they ask for. What a creation means for an image is policy's question.
"""

from __future__ import annotations

from typing import NamedTuple

from dockermig.syntax.nodes import Instruction
from dockermig.syntax.shell import Command, commands_named, unwrap


class AccountCreation(NamedTuple):
    """One user or group a command creates."""

    kind: str  # "user" or "group"
    name: str | None  # None when not a literal
    id: str | None  # uid (user) or gid (group) asked for, as written
    group: str | None  # a user's primary group (name or gid), when given
    home: str | None  # a user's home, when given
    # options that give the account more than a name and ids (supplementary groups, a
    # password, a non-unique id...): creating it again is not a no-op to drop
    extra: tuple[str, ...]
    guarded: bool  # groupadd -f, ``|| true``, in a condition: it cannot fail the build
    command: Command
    flags: frozenset[str] = frozenset()  # the options without a value, as written (-r, --create-home)

    @property
    def creates_home(self) -> bool:
        """Whether the user's home directory is made: ``useradd -m``; Debian's and BusyBox's
        ``adduser`` unless told not to (``--no-create-home``, ``-H``, ``--system`` without
        ``--home``)."""
        if self.kind != "user":
            return False
        program = unwrap(self.command).name
        if program == "useradd":
            return bool(self.flags & {"-m", "--create-home"})
        if self.flags & {"--no-create-home", "-H"}:
            return False
        return not (self.flags & {"--system", "-S"} and self.home is None)


# option -> (takes a value, what the value sets: "id", "group", "home", or None)
_USERADD = {
    "-u": "id", "--uid": "id", "-g": "group", "--gid": "group", "-d": "home", "--home-dir": "home",
    "--home": "home", "-s": None, "--shell": None, "-c": None, "--comment": None, "-k": None, "--skel": None,
    "-e": None, "--expiredate": None, "-f": None, "--inactive": None, "-K": None, "--key": None,
    "-G": "extra", "--groups": "extra", "-p": "extra", "--password": "extra", "-b": None, "--base-dir": None,
    "-R": "extra", "--root": "extra", "-P": "extra", "--prefix": "extra", "-Z": "extra", "--selinux-user": "extra",
}
_USERADD_FLAGS = {"-r", "--system", "-m", "--create-home", "-M", "--no-create-home", "-U", "--user-group",
                  "-N", "--no-user-group", "-l", "--no-log-init", "-D", "--defaults"}
_GROUPADD = {"-g": "id", "--gid": "id", "-K": None, "--key": None, "-p": "extra", "--password": "extra",
             "-R": "extra", "--root": "extra", "-P": "extra", "--prefix": "extra"}
_GROUPADD_FLAGS = {"-r", "--system", "-f", "--force", "-o", "--non-unique"}
# Debian's adduser/addgroup take long options; BusyBox's take short ones, where -G is the
# primary group and -g the GECOS field (the opposite of useradd).
_ADDUSER = {"--uid": "id", "--gid": "group", "--ingroup": "group", "--home": "home", "--shell": None,
            "--gecos": None, "--comment": None, "--firstuid": None, "--lastuid": None, "--conf": None,
            "--add-extra-groups": "extra", "-u": "id", "-G": "group", "-h": "home", "-s": None, "-g": None,
            "-k": None}
_ADDUSER_FLAGS = {"--system", "--disabled-password", "--disabled-login", "--no-create-home", "--group",
                  "--quiet", "-q", "--force-badname", "--allow-badname", "--debug", "-D", "-S", "-H"}
_ADDGROUP = {"--gid": "id", "-g": "id", "--conf": None}
_ADDGROUP_FLAGS = {"--system", "-S", "--quiet", "-q", "--force-badname", "--allow-badname"}

_TOOLS = {
    "useradd": ("user", _USERADD, _USERADD_FLAGS),
    "groupadd": ("group", _GROUPADD, _GROUPADD_FLAGS),
    "adduser": ("user", _ADDUSER, _ADDUSER_FLAGS),
    "addgroup": ("group", _ADDGROUP, _ADDGROUP_FLAGS),
}


def account_creations(instruction: Instruction) -> tuple[AccountCreation, ...]:
    """The users and groups a RUN creates, in source order (cached on the instruction:
    the decision, DM203 and the migration all ask)."""
    cached = instruction.__dict__.get("_accounts")
    if cached is None:
        found = []
        if instruction.keyword == "RUN" and "add" in str(instruction):  # useradd, groupadd, adduser, addgroup
            found = [c for c in map(_creation, commands_named(instruction, _TOOLS)) if c is not None]
        cached = instruction.__dict__["_accounts"] = tuple(found)
    return cached


def _creation(command: Command) -> AccountCreation | None:
    words = unwrap(command).words
    program = words[0].value.rsplit("/", 1)[-1] if words and words[0].value else ""
    if program not in _TOOLS:
        return None
    kind, valued, flags = _TOOLS[program]
    values: dict[str, str | None] = {}
    extra: list[str] = []
    given: set[str] = set()
    positional: list[str | None] = []
    guarded = command.position < 0
    i = 1
    while i < len(words):
        text = words[i].value
        if text is None:  # an expansion: we cannot tell what it asks for
            positional.append(None)
            i += 1
            continue
        option, eq, inline = text.partition("=") if text.startswith("--") else (text, "", "")
        if option in ("-f", "--force") and kind == "group" and program == "groupadd":
            guarded = True
        if option in flags:
            given.add(option)
            if option in ("-o", "--non-unique"):
                extra.append(option)
            i += 1
            continue
        if option in valued:
            if eq:
                value = inline
                i += 1
            else:
                value = words[i + 1].value if i + 1 < len(words) else None
                i += 2
            sets = valued[option]
            if sets == "extra":
                extra.append(option)
            elif sets is not None:
                values[sets] = value
            continue
        if text.startswith("-") and len(text) > 2 and not text.startswith("--"):
            # short options run together: -rm, -ms /bin/bash, -rU
            letters = [f"-{c}" for c in text[1:]]
            if all(letter in flags for letter in letters):
                given.update(letters)
                i += 1
                continue
            if all(letter in flags for letter in letters[:-1]) and letters[-1] in valued:
                given.update(letters[:-1])
                words_left = words[i + 1 :]
                sets = valued[letters[-1]]
                value = words_left[0].value if words_left else None
                if sets == "extra":
                    extra.append(letters[-1])
                elif sets is not None:
                    values[sets] = value
                i += 2
                continue
        if text.startswith("-"):
            extra.append(text)  # an option we do not know: assume it matters
            i += 1
            continue
        positional.append(text)
        i += 1
    if program in ("adduser", "addgroup") and len(positional) == 2:
        # ``adduser USER GROUP`` adds an existing user to a group: it creates nothing
        return None
    if len(positional) != 1:
        return None
    return AccountCreation(kind, positional[0], values.get("id"), values.get("group"), values.get("home"),
                           tuple(extra), guarded, command, frozenset(given))
