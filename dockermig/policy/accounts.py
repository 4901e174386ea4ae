"""Users and groups a service creates that its master already has.

On the master, ``groupadd appuser`` exits 9 and ``useradd appuser`` 9 too: the build
fails. When the service asks for nothing the master's account does not already give
(same name; same uid, gid, primary group and home, or none asked for; no extra groups,
password or non-unique id), the creation is a no-op to remove. Otherwise (other ids or
home, or another name with an id the master's accounts use) a person decides.
"""

from __future__ import annotations

from typing import NamedTuple

from dockermig.policy.model import Master
from dockermig.policy.provenance import Account
from dockermig.syntax.accounts import AccountCreation, account_creations
from dockermig.syntax.nodes import Instruction
from dockermig.syntax.query import Stage


class Recreated(NamedTuple):
    creation: AccountCreation
    instruction: Instruction
    account: Account  # the master's account it collides with
    problem: str | None  # None: the same account, safe to remove; else why a person must look

    @property
    def removable(self) -> bool:
        return self.problem is None


def recreated_accounts(stage: Stage, master: Master) -> list[Recreated]:
    """Creations, in the stage's chain, of users or groups the master already has."""
    found = []
    for instruction in stage.lineage_instructions():
        if instruction.keyword != "RUN":
            continue
        for creation in account_creations(instruction):
            if creation.guarded or creation.name is None:
                continue  # ``|| true``, ``groupadd -f``: it cannot fail the build
            collision = _collision(creation, master)
            if collision is not None:
                found.append(Recreated(creation, instruction, *collision))
    return found


def _collision(creation: AccountCreation, master: Master) -> tuple[Account, str | None] | None:
    kind = creation.kind
    for account in master.accounts:
        name = account.name if kind == "user" else account.group
        number = account.uid if kind == "user" else account.gid
        if creation.name == name:
            return account, _differences(creation, account, master)
        if creation.id is not None and number is not None and creation.id == str(number):
            return account, (f"creates {kind} {creation.name} with id {creation.id}, which {master.image}'s "
                             f"{kind} {name} already has")
    return None


def _differences(creation: AccountCreation, account: Account, master: Master) -> str | None:
    """What the creation asks for that the master's account does not give, or cannot be
    shown to give (an id the master leaves to the build is not the id the service asks)."""
    kind = creation.kind
    number = account.uid if kind == "user" else account.gid
    asked = []
    if creation.id is not None and creation.id != str(number):
        asked.append(f"id {creation.id}")
    if kind == "user" and creation.group is not None and creation.group not in (account.group, str(account.gid)):
        asked.append(f"primary group {creation.group}")
    if kind == "user" and creation.home is not None and creation.home.rstrip("/") != (account.home or "").rstrip("/"):
        asked.append(f"home {creation.home}")
    if creation.extra:
        asked.append(" ".join(creation.extra))
    if not asked:
        return None
    has = [f"id {number}" if number is not None else "no fixed id"]
    if kind == "user":
        has += [f"primary group {account.group}" if account.group else "", f"home {account.home}" if account.home
                else "no home directory"]
    return (f"creates {kind} {creation.name} with {', '.join(asked)}; {master.image}'s {creation.name} has "
            f"{', '.join(h for h in has if h)}")
