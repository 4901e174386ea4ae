"""Questions asked of a parsed Dockerfile: stages, base images, ARG values, users."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, NamedTuple

from dockermig.limits import ExpansionBudget
from dockermig.regex import compile_on_use
from dockermig.syntax.lexer import expand
from dockermig.syntax.nodes import Instruction, Word

if TYPE_CHECKING:
    from dockermig.syntax.parser import Dockerfile

DOCKER_HUB = "docker.io"
_REFERENCE_CHARACTERS = compile_on_use(r"[A-Za-z0-9._:/@+-]+")


class ImageRef(NamedTuple):
    """A parsed image reference: ``[registry/][namespace/]name[:tag][@digest]``.

    ``path`` is the repository path on its registry, with Docker Hub's implicit
    ``library/`` namespace made explicit, so ``python``, ``library/python`` and
    ``docker.io/library/python`` all have ``registry == "docker.io"`` and
    ``path == "library/python"``.
    """

    raw: str
    registry: str
    path: str
    tag: str | None = None
    digest: str | None = None
    unresolved: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def namespace(self) -> str | None:
        return self.path.rsplit("/", 1)[0] if "/" in self.path else None

    @property
    def short(self) -> str:
        """The repository the way people write it (no docker.io, no library/)."""
        path = self.path.removeprefix("library/") if self.registry == DOCKER_HUB else self.path
        return path if self.registry == DOCKER_HUB else f"{self.registry}/{path}"

    @property
    def display(self) -> str:
        """``short:tag`` without the digest: what a message should show."""
        return f"{self.short}:{self.tag}" if self.tag else self.short

    @property
    def is_resolved(self) -> bool:
        return not self.unresolved and "$" not in self.raw

    @property
    def is_well_formed(self) -> bool:
        """Only the characters of Docker's reference grammar: ``python:3.11\u2028RUN`` (one
        word to BuildKit too) is no image, and a fix must not take it for ``python``."""
        return bool(_REFERENCE_CHARACTERS.fullmatch(self.raw))

    @property
    def is_scratch(self) -> bool:
        return self.path == "library/scratch" and self.registry == DOCKER_HUB

    def __str__(self) -> str:
        return self.raw


def parse_image_ref(raw: str, unresolved: frozenset[str] = frozenset()) -> ImageRef:
    """Split an image reference by Docker's rules (the registry is a first component
    with a ``.`` or ``:`` in it, or ``localhost``)."""
    rest, _, digest = raw.partition("@")
    tag = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
    registry = DOCKER_HUB
    first, sep, remainder = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, rest = first.lower(), remainder
    if registry in ("index.docker.io", "registry-1.docker.io"):
        registry = DOCKER_HUB
    path = rest.lower()
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    return ImageRef(raw, registry, path, tag or None, digest or None, unresolved)


def arg_defaults(instruction: Instruction) -> dict[str, str | None]:
    """``ARG A=1 B`` -> {"A": "1", "B": None}."""
    values: dict[str, str | None] = {}
    for word in instruction.words:
        name, eq, value = word.value.partition("=")
        values[name] = value if eq else None
    return values


class Stage:
    """One build stage: its FROM and the instructions up to the next FROM."""

    def __init__(self, index: int, from_: Instruction, name: str | None, base: str,
                 image: ImageRef | None, parent: Stage | None):
        self.index = index
        self.from_ = from_
        self.name = name  # the AS alias, lower case like BuildKit
        self.base = base  # the image word as written
        self.image = image  # None when the base is an earlier stage
        self.parent = parent
        self.instructions: list[Instruction] = []
        self.is_final = False
        self.consumers: list[Stage] = []  # stages that COPY --from this one
        self._history: _VariableHistory | None = None  # built on first use
        # what analyses learn of the whole lineage once, to answer for each instruction
        # without walking it again (asked at every RUN, a walk each made them quadratic)
        self.memo: dict = {}

    def __repr__(self) -> str:
        return f"<Stage {self.index} {self.name or ''} FROM {self.base}>"

    @property
    def label(self) -> str:
        return self.name or str(self.index)

    @property
    def root_image(self) -> ImageRef | None:
        """The image at the bottom of the FROM chain (``FROM builder`` follows builder)."""
        stage: Stage | None = self
        while stage is not None and stage.image is None:
            stage = stage.parent
        return stage.image if stage else None

    def ancestry(self):
        """This stage, then the stages it builds on, nearest first."""
        stage: Stage | None = self
        while stage is not None:
            yield stage
            stage = stage.parent

    def lineage(self) -> list[Stage]:
        """The stages this one builds on, then this one: the order their instructions run in."""
        return list(reversed(list(self.ancestry())))

    def lineage_instructions(self) -> list[Instruction]:
        """Every instruction that makes this stage's image, root stage first (one list,
        made once per stage: the caller must not change it)."""
        lineage = self.memo.get("lineage")
        if lineage is None:
            lineage = self.memo["lineage"] = [i for stage in self.lineage() for i in stage.instructions]
        return lineage

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        for instruction in reversed(self.instructions):
            if instruction.keyword == keyword:
                return instruction
        return None

    def variables(self, upto: Instruction | None = None) -> Mapping[str, str]:
        """ARG defaults and ENV values visible in this stage (before ``upto``): a read-only
        view of the stage's variable history, walked once per stage, so that asking at every
        instruction stays linear."""
        history = self._history
        if history is None:
            history = self._history = _VariableHistory(self.lineage_instructions())
        return history.before(upto)

    def position(self, instruction: Instruction, default: int | None = None) -> int:
        """Where ``instruction`` stands in ``lineage_instructions()``: ``default``, or
        ValueError, when it is not there."""
        positions = self.memo.get("positions")
        if positions is None:
            positions = self.memo["positions"] = {id(i): n for n, i in enumerate(self.lineage_instructions())}
        found = positions.get(id(instruction), default)
        if found is None:
            raise ValueError(f"{instruction!r} is not in {self!r}")
        return found


class _VariableHistory:
    """Every value each ARG/ENV of a lineage gives a name, in order, and where the walk
    that expands them hit the expansion budget (raised again to anyone asking past it)."""

    def __init__(self, instructions: list[Instruction]):
        from dockermig.syntax.values import env_values

        self.instructions = instructions
        self.positions = {id(instruction): index for index, instruction in enumerate(instructions)}
        self.values: dict[str, tuple[list[int], list[str]]] = {}
        self.error: tuple[int, Exception] | None = None
        values: dict[str, str] = {}
        budget = ExpansionBudget()
        for index, instruction in enumerate(instructions):
            try:
                if instruction.keyword == "ARG":
                    for name, default in arg_defaults(instruction).items():
                        if default is not None:
                            values[name] = budget.spend(expand(default, values)[0])
                            self._record(index, name, values[name])
                elif instruction.keyword == "ENV":
                    for name, value in env_values(instruction).items():
                        values[name] = budget.spend(expand(value, values)[0])
                        self._record(index, name, values[name])
            except Exception as error:  # noqa: BLE001 -- raised again where the walk would have
                self.error = (index, error)
                break

    def _record(self, index: int, name: str, value: str) -> None:
        positions, values = self.values.setdefault(name, ([], []))
        if positions and positions[-1] == index:
            values[-1] = value
        else:
            positions.append(index)
            values.append(value)

    def before(self, upto: Instruction | None) -> _Variables:
        at = self.positions.get(id(upto), len(self.instructions)) if upto is not None else len(self.instructions)
        if self.error is not None and self.error[0] < at:
            raise self.error[1]
        return _Variables(self.values, at)


class _Variables(Mapping):
    """The variables of a history as they stand before instruction ``at``."""

    __slots__ = ("_at", "_history")

    def __init__(self, history: dict[str, tuple[list[int], list[str]]], at: int):
        self._history = history
        self._at = at

    def __getitem__(self, name: str) -> str:
        positions, values = self._history[name]
        found = bisect_left(positions, self._at)
        if found == 0:
            raise KeyError(name)
        return values[found - 1]

    def __contains__(self, name: object) -> bool:
        entry = self._history.get(name)  # type: ignore[arg-type]
        return entry is not None and entry[0][0] < self._at

    def __iter__(self) -> Iterator[str]:
        return (name for name, (positions, _) in self._history.items() if positions[0] < self._at)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return repr(dict(self))


def from_words(instruction: Instruction) -> tuple[Word | None, Word | None]:
    """(image word, stage-name word) of a FROM instruction."""
    words = instruction.words
    image = words[0] if words else None
    name = words[2] if len(words) >= 3 and words[1].value.lower() == "as" else None
    return image, name


def global_args(dockerfile: Dockerfile) -> dict[str, str]:
    """Defaults of the ARGs declared before the first FROM (the ones FROM can use)."""
    values: dict[str, str] = {}
    budget = ExpansionBudget()
    for instruction in dockerfile.instructions:
        if instruction.keyword == "FROM":
            break
        if instruction.keyword == "ARG":
            for name, default in arg_defaults(instruction).items():
                if default is not None:
                    values[name] = budget.spend(expand(default, values)[0])
    return values


def build_stages(dockerfile: Dockerfile) -> tuple[Stage, ...]:
    args = global_args(dockerfile)
    stages: list[Stage] = []
    by_name: dict[str, Stage] = {}
    current: Stage | None = None
    for instruction in dockerfile.instructions:
        if instruction.keyword == "FROM":
            image_word, name_word = from_words(instruction)
            base = image_word.value if image_word else ""
            expanded, missing = expand(base, args)
            parent = by_name.get(expanded.lower())
            current = Stage(
                index=len(stages),
                from_=instruction,
                name=name_word.value.lower() if name_word else None,
                base=base,
                image=None if parent else parse_image_ref(expanded, frozenset(missing)),
                parent=parent,
            )
            stages.append(current)
            if current.name:
                by_name[current.name] = current
        elif current is not None:
            current.instructions.append(instruction)
        instruction.stage = current
    if stages:
        stages[-1].is_final = True
    for stage in stages:
        for instruction in stage.instructions:
            source = copied_from(instruction)
            if source is None:
                continue
            producer = by_name.get(source.lower())
            if producer is None and source.isdigit() and int(source) < len(stages):
                producer = stages[int(source)]
            if producer is not None and stage not in producer.consumers:
                producer.consumers.append(stage)
    return tuple(stages)


def copied_from(instruction: Instruction) -> str | None:
    if instruction.keyword in ("COPY", "ADD"):
        flag = instruction.flag("from")
        return flag.value if flag else None
    if instruction.keyword == "RUN":
        for flag in instruction.flags:
            if flag.name == "mount" and flag.value:
                for part in flag.value.split(","):
                    key, _, value = part.partition("=")
                    if key == "from":
                        return value
    return None
