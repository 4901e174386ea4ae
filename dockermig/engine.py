"""The one loop: read -> parse -> rules -> findings, for one text or a stream of files."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from dockermig.config import Config, ConfigError, Settings, config_for
from dockermig.limits import InputError
from dockermig.policy.render import TemplateError
from dockermig.rule import Finding, LintContext, Rule

if TYPE_CHECKING:
    from dockermig.syntax import Dockerfile


class FileResult:
    """The outcome for one file: findings, or the one-line reason it could not be linted."""

    def __init__(self, path: Path | None, findings: list[Finding] | None = None,
                 error: str | None = None, config: Config | None = None):
        self.path = path
        self.findings = findings or []
        self.error = error
        self.config = config
        self.suppressed: list[tuple[Finding, str]] = []  # silenced findings, with the reason
        # (code, why) of each selected rule that could not run on the file (ShellCheck
        # failed): the other rules' findings stand, the run exits 2, "passed" is never said
        self.not_run: list[tuple[str, str]] = []
        # from an earlier run (dockermig.lint_cache): kept only when its config had no
        # problem, and only while everything it read is unchanged, so it still has none
        self.remembered = False


class _Context(LintContext):
    """A LintContext whose facts are computed on first use."""

    def __init__(self, dockerfile: Dockerfile, path: Path | None, config: Config):
        self.dockerfile = dockerfile
        self.path = path
        self.config = config
        self.pragmas: list = []
        self.suppressed: list = []  # (finding, suppression) pairs
        self.used_suppressions: set = set()
        self.not_run: list[tuple[str, str]] = []  # see FileResult.not_run

    @cached_property
    def facts(self):
        from dockermig.policy.facts import analyse

        return analyse(self.dockerfile, self.path, self.config.policy)


_rules_cache: dict[int, tuple[Config, list[Rule]]] = {}
# A run has a config per config file, a handful; a long-lived process (the language server,
# a library caller) makes new ones as configs change: the oldest go, not kept forever.
_RULES_CACHED = 256


def active_rules(config: Config) -> list[Rule]:
    """Instances of the rules this config enables, with their options."""
    cached = _rules_cache.get(id(config))
    if cached is not None and cached[0] is config:
        return cached[1]
    while len(_rules_cache) >= _RULES_CACHED:
        del _rules_cache[next(iter(_rules_cache))]
    from dockermig.registry import all_rules

    rules = [
        rule_class(config.rule_options(rule_class.code, rule_class.name))
        for rule_class in all_rules()
        if config.is_enabled(rule_class.code, rule_class.name)
    ]
    _rules_cache[id(config)] = (config, rules)
    return rules


def lint_text(text: str, *, path: Path | None = None, config: Config | None = None) -> list[Finding]:
    """Findings for one Dockerfile text, sorted by position."""
    return _lint(parse(text), path, config or Config())[0]


def parse(text: str) -> Dockerfile:
    """The tree of a Dockerfile's text (dockermig.syntax, imported on first use)."""
    from dockermig.syntax import parse as parse_text

    return parse_text(text)


def _lint(tree: Dockerfile, path: Path | None, config: Config) -> tuple[list[Finding], _Context]:
    """Run the rules, then the suppressions, then the rules that judge suppressions."""
    from dockermig.pragmas import apply, suppressions

    ctx = _Context(tree, path, config)
    rules = active_rules(config)
    findings = _run([r for r in rules if not r.after_suppressions], ctx, config)
    ctx.pragmas = suppressions(tree, config)
    if ctx.pragmas:
        findings, ctx.suppressed, ctx.used_suppressions = apply(findings, ctx.pragmas, _rule_of)
        findings += _run([r for r in rules if r.after_suppressions], ctx, config)
    if any(f.fix is not None for f in findings) and (_is_master(ctx) or broken_as_is(tree) is not None):
        # a master's own Dockerfile is the standard the services follow, and a file BuildKit
        # refuses has instruction boundaries nobody meant (DM001, DM004): reported, never rewritten
        findings = [f._replace(fix=None) if f.fix is not None else f for f in findings]
    findings.sort(key=lambda f: (f.line, f.column, f.code))
    return findings, ctx


def broken_as_is(tree: Dockerfile) -> str | None:
    """Why BuildKit refuses the file before running anything (it does not parse, DM001, or
    it holds lines that are no instruction, DM004), or None. Such a file was broken before
    any fix, and no fix touches it: its instruction boundaries are not the ones its author
    meant."""
    if tree.problems:
        problem = tree.problems[0]
        return f"does not parse ({problem.message}, line {problem.line})"
    if tree.unknown:
        first = tree.unknown[0]
        word = first.source[slice(*first.keyword_span)]
        word = word if len(word) <= 24 else word[:21] + "..."
        more = len(tree.unknown) - 1
        return (f"line {first.start_line} ({word}) is not an instruction BuildKit knows"
                + (f", nor {more} more line{'s' if more > 1 else ''}" if more else ""))
    return None


def _is_master(ctx: _Context) -> bool:
    from dockermig.policy.facts import Verdict

    return bool(ctx.dockerfile.stages) and ctx.facts.verdict is Verdict.MASTER_DEFINITION


def _run(rules: list[Rule], ctx: _Context, config: Config) -> list[Finding]:
    overrides = config.severity
    present = ctx.dockerfile.keywords
    findings: list[Finding] = []
    for rule in rules:
        if rule.keywords and rule.keywords.isdisjoint(present):
            continue  # per-keyword dispatch: the file has nothing this rule looks at
        by_subcode = rule.by_subcode
        for finding in rule.check(ctx):
            if by_subcode and not config.subcode_enabled(type(rule), finding.subcode):
                continue
            severity = (finding.subcode and overrides.get(finding.subcode)) or overrides.get(finding.code) or overrides.get(finding.name)
            if severity is not None and severity != finding.severity:
                finding = finding._replace(severity=severity)
            findings.append(finding)
    return findings


def _rule_of(code: str):
    from dockermig.registry import rule_by_key

    return rule_by_key(code)


def detach(findings: list[Finding]) -> list[Finding]:
    """Findings that no longer hold their file's tree (see Fix.detached)."""
    return [f._replace(fix=f.fix.detached()) if f.fix is not None else f for f in findings]


def read_dockerfile(path: Path, max_size: int) -> str:
    """The text of a Dockerfile, or an InputError that says plainly what is wrong."""
    from dockermig.limits import read_bytes

    try:
        data = read_bytes(path, max_size=max_size)
    except FileNotFoundError:
        raise InputError("no such file") from None
    except PermissionError:
        raise InputError("permission denied") from None
    except OSError as error:
        raise InputError(f"cannot read ({error.strerror or error})") from None
    return decode_dockerfile(data)


def decode_dockerfile(data: bytes) -> str:
    """The text of a Dockerfile's bytes, or an InputError for binary or non-UTF-8 data."""
    encoding = _utf16_or_32(data)
    if encoding:
        raise InputError(f"{encoding} text, not UTF-8: Dockerfiles are read as UTF-8 "
                         f"(convert it: iconv -f {encoding} -t UTF-8)")
    nul = data.find(b"\0")
    if nul != -1:
        raise InputError(f"binary file (NUL byte at offset {nul}), not a Dockerfile")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}); Dockerfiles are read as UTF-8"
        ) from None


def _utf16_or_32(data: bytes) -> str | None:
    """The name of a UTF-16/32 encoding ``data`` is in, by its byte-order mark or, without
    one, by the NUL byte of every other character of ASCII text (Windows editors)."""
    for bom, name in ((b"\xff\xfe\0\0", "UTF-32"), (b"\0\0\xfe\xff", "UTF-32"),
                      (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16")):
        if data.startswith(bom):
            return name
    head = data[:64]
    if len(head) >= 4 and head[1::2].count(0) == len(head) // 2 and 0 not in head[0::2]:
        return "UTF-16LE"
    if len(head) >= 4 and head[0::2].count(0) == len(head) // 2 and 0 not in head[1::2]:
        return "UTF-16BE"
    return None


# What stops the analysis of one file: reported as that file's error (exit 2), never raised.
UNANALYSABLE = (InputError, ConfigError, TemplateError, RecursionError)


def unanalysable_reason(error: Exception) -> str:
    return "too deeply nested to analyse" if isinstance(error, RecursionError) else str(error)


def confined_to_repository(path: Path | None, config: Config, tree: Path | None = None):
    """Reads made while analysing ``path`` stay in its repository (or ``tree``, the folder
    being linted, outside a git repository), the config's and its ``read-roots``."""
    from dockermig.limits import confined, repository_root

    path = path if path is not None else Path.cwd() / "-"
    roots = [repository_root(path.parent, tree or path.parent), *config.read_roots]
    return confined(roots, config.max_file_size)


def lint_file(path: Path, config: Config | None = None, with_edits: bool = False,
              with_fingerprints: bool = False, root: Path | None = None) -> FileResult:
    try:
        config = config or config_for(path)
    except ConfigError as error:
        return FileResult(path, error=str(error))
    try:
        with confined_to_repository(path, config, root):
            text = read_dockerfile(path, config.max_file_size)
            return lint_source(text, path, config, with_edits, with_fingerprints)
    except InputError as error:
        return FileResult(path, error=str(error), config=config)


def lint_source(text: str, path: Path | None, config: Config, with_edits: bool | str = False,
                with_fingerprints: bool = False, tree: Dockerfile | None = None) -> FileResult:
    """Lint one text (a file's, or stdin's with ``--stdin-filename``) into a FileResult.
    ``with_edits`` builds every fix's edits; ``"buildable"`` drops the edits of a fix that
    cannot be built instead of failing the file (see _with_edits_built). ``tree``: the
    text's, when the caller parsed it already."""
    try:
        tree = tree if tree is not None else parse(text)
        findings, ctx = _lint(tree, path, config)
        if with_edits:  # reporters that print the edits (SARIF) and the server need them built here
            findings = [_with_edits_built(finding, strict=with_edits != "buildable") for finding in findings]
        if with_fingerprints:
            from dockermig.baseline import fingerprinted

            findings = fingerprinted(tree, findings)
        result = FileResult(path, detach(findings), config=config)
        result.suppressed = [(f._replace(fix=None), s.reason) for f, s in ctx.suppressed]
        result.not_run = ctx.not_run
        return result
    except UNANALYSABLE as error:
        return FileResult(path, error=unanalysable_reason(error), config=config)


def _with_edits_built(finding: Finding, strict: bool) -> Finding:
    """The finding with its fix's edits built. A fix that cannot be built (a config's
    template that fails) is the file's error when ``strict`` (a report that prints the
    edits); otherwise it is left without edits and the finding stands, as in text output
    (the language server: ``fix`` says why the fix cannot be made)."""
    if finding.fix is None:
        return finding
    try:
        finding.fix.edits
    except UNANALYSABLE:
        if strict:
            raise
        return finding._replace(fix=finding.fix.detached())
    return finding


def lint_paths(
    paths: Iterable[Path], *, settings: Settings | None = None, jobs: int | None = None,
    with_edits: bool = False, with_fingerprints: bool = False, cache: bool = False,
) -> Iterator[FileResult]:
    """Lint every Dockerfile under ``paths``, streaming results in a stable order.
    ``cache``: keep ShellCheck's answers in the persistent cache (dockermig.cache)."""
    with _persistent_cache(cache) as folder:
        yield from map_files(_lint_items, discover_files(paths, settings), jobs=jobs,
                             with_edits=with_edits, with_fingerprints=with_fingerprints, cache=folder)


def discover_files(paths: Iterable[Path], settings: Settings | None = None) -> Iterator:
    """The Dockerfiles under ``paths``, each with the settings that find its config, as
    they are found."""
    from dockermig.discover import discover

    settings = settings or Settings()
    return ((item, settings) for item in discover(paths, settings))


IN_PROCESS_MAX = 64  # fewer files are done in this process: faster than starting workers
CHUNK = 16  # files per task: small enough to balance the last ones over the workers


def map_files(worker, files: Iterable, *, jobs: int | None = None, **options) -> Iterator:
    """Run ``worker(chunk, cores=N, **options)`` on ``files`` cut in chunks of
    (discovered, settings) pairs; ``worker`` returns one result per file, and may keep
    ``cores`` processes of its own busy (ShellCheck's).

    Files are independent: many are spread over a process pool, fed as they are
    discovered (the workers start on the first ones while the walk goes on), a handful
    are done in this process. Results come in input order.
    """
    from functools import partial
    from itertools import chain, islice

    task = partial(worker, **options)
    workers = jobs if jobs is not None else min(os.cpu_count() or 1, 8)
    files = iter(files)
    head = list(islice(files, IN_PROCESS_MAX))
    rest = chain(head, files)
    chunks = iter(lambda: list(islice(rest, CHUNK)), [])  # until a chunk comes back empty
    cpus = os.cpu_count() or 1
    if workers <= 1 or len(head) < IN_PROCESS_MAX:
        for chunk in chunks:
            yield from task(chunk, cores=cpus)  # one file with many RUNs: its ShellCheck batches on every core
        return
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, initializer=_exit_with_parent, initargs=(os.getpid(),)) as pool:
        pending: deque = deque()
        for chunk in chunks:
            pending.append(pool.submit(task, chunk, cores=max(1, cpus // workers)))
            while pending and pending[0].done():  # hand over what is ready while the walk goes on
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


# Whether this process is a pool worker of a bulk run. Lint results are remembered across
# runs (dockermig.lint_cache) by runs done in one process, a pre-commit hook's: a worker's
# results would each depend on all the worker read before, and ShellCheck's own cache
# makes a bulk re-run cheap already.
_in_pool = False


def _exit_with_parent(parent: int) -> None:
    """Pool worker start-up: exit once the parent is gone. Workers inherit the write end
    of their task pipe, so a parent killed with -9 would leave them waiting for work
    forever."""
    import threading
    import time

    global _in_pool
    _in_pool = True

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="dockermig-parent-watch", daemon=True).start()


def _resolve(item, settings: Settings) -> tuple[Config | None, str | None]:
    """(config, None) for a discovered file, or (None, why it cannot be done)."""
    if item.error:
        return None, item.error
    try:
        return settings.config_for(item.path), None
    except ConfigError as error:
        return None, str(error)


def lint_stdin(data: bytes, filename: Path | None, settings: Settings, with_edits: bool | str = False,
               with_fingerprints: bool = False, cache: bool = False) -> list[FileResult]:
    """Lint stdin as if it were ``filename`` (its config, its excludes, its name in the
    output): one result, or none when ``--force-exclude`` excludes that name."""
    config, text, error = _stdin(data, filename, settings)
    if error is not None:
        return [FileResult(filename, error=error, config=config)]
    if text is None:
        return []
    prepared, tree = _stdin_prepared(filename, config, text)
    with _persistent_cache(cache) as folder, _shellcheck_run(prepared, folder, os.cpu_count() or 1):
        with confined_to_repository(filename, config):
            return [lint_source(text, filename, config, with_edits, with_fingerprints, tree=tree)]


def _stdin_prepared(filename: Path | None, config: Config, text: str) -> tuple[list, Dockerfile | None]:
    try:
        tree = parse(text)
    except UNANALYSABLE:
        return [], None  # lint_source says why
    return [(None, config, text, tree, None)], tree


def _stdin(data: bytes, filename: Path | None, settings: Settings) -> tuple[Config | None, str | None, str | None]:
    """(config, text, error) for stdin; text is None when the name is excluded."""
    from dockermig.discover import is_excluded

    try:
        config = settings.config_for(filename if filename is not None else Path.cwd())
    except ConfigError as error:
        return None, None, str(error)
    if filename is not None and settings.overrides and settings.overrides.force_exclude and is_excluded(filename, config):
        return config, None, None
    if len(data) > config.max_file_size:
        return config, None, f"input too large ({len(data)} bytes, limit {config.max_file_size}; see max-file-size)"
    try:
        return config, decode_dockerfile(data), None
    except InputError as error:
        return config, None, str(error)


def _lint_items(chunk: list, with_edits: bool = False, with_fingerprints: bool = False, cache: Path | None = None,
                cores: int = 1) -> list[FileResult]:
    remembered = None
    if cache is not None and not with_edits and not _in_pool and chunk:
        from dockermig.lint_cache import Remembered

        remembered = Remembered(cache, chunk[0][1], with_fingerprints)
    prepared, keys, results = [], [], []
    for item, settings in chunk:
        resolved = _resolve(item, settings)
        known, key, data = _recalled(remembered, item, resolved[0])
        if known is None:
            prepared.append(_prepared(item, settings, data, resolved))
        keys.append(key)
        results.append(known)
    fresh = iter(prepared)
    with _shellcheck_run(prepared, cache, cores):
        for index, result in enumerate(results):
            if result is not None:
                continue
            item, config, text, tree, error = next(fresh)
            if error is not None:
                results[index] = FileResult(item.path, error=error, config=config)
                continue
            with confined_to_repository(item.path, config, item.root):
                results[index] = lint_source(text, item.path, config, with_edits, with_fingerprints, tree=tree)
            if remembered is not None:
                remembered.keep(keys[index], results[index])
    if remembered is not None:
        remembered.close()
    return results


def _recalled(remembered, item, config: Config | None) -> tuple[FileResult | None, bytes | None, bytes | None]:
    """(the remembered result of a discovered file with this config, the key it is kept
    under, the bytes read): (None, None, None) when nothing is remembered."""
    if remembered is None or config is None:
        return None, None, None
    from dockermig.limits import read_bytes

    try:
        with confined_to_repository(item.path, config, item.root):
            data = read_bytes(item.path, max_size=config.max_file_size)
    except (OSError, *UNANALYSABLE):
        return None, None, None  # _prepared says why
    key = remembered.key(item.path, data, config)
    return remembered.recall(key, item.path, config), key, data


def _prepared(item, settings: Settings, data: bytes | None = None, resolved: tuple | None = None) -> tuple:
    """(item, config, text, tree, error) of a discovered file (``data``: its bytes, when
    read already; ``resolved``: what ``_resolve`` gave for it, when asked already): read
    and parsed, or why not."""
    config, error = resolved or _resolve(item, settings)
    if error is not None:
        return item, None, None, None, error
    try:
        if data is not None:
            text = decode_dockerfile(data)
        else:
            with confined_to_repository(item.path, config, item.root):
                text = read_dockerfile(item.path, config.max_file_size)
        return item, config, text, parse(text), None
    except UNANALYSABLE as error:
        return item, config, None, None, unanalysable_reason(error)


class _shellcheck_run:
    """Around the analysis of a chunk of files: ShellCheck set up for it (the persistent
    cache's folder, how many of its processes may run at once) and started on the
    scripts of the files ``add``ed (those given first, then any more), in as few processes
    as the batches allow, before their rules run and while they do; what is left of it
    at the end is stopped."""

    def __init__(self, prepared: list, cache: Path | None, cores: int):
        self.prepared = prepared
        self.cache = cache
        self.cores = cores
        self.shellcheck = None
        self.executable = None

    def __enter__(self):
        self.add(self.prepared)
        return self

    def add(self, prepared: list) -> None:
        """Start ShellCheck on the scripts of these (item, config, text, tree, error) files."""
        candidates = [(tree, config) for _, config, _, tree, _ in prepared
                      if tree is not None and "RUN" in tree.keywords]
        if not candidates:
            return  # (for a chunk without RUN, ShellCheck's module is not even imported)
        if self.shellcheck is None:
            from dockermig import shellcheck

            self.shellcheck = shellcheck
            shellcheck.configure(cache=self.cache, processes=self.cores)
            self.executable = shellcheck.binary()
        if self.executable is None:
            return
        scripts = []
        for tree, config in candidates:
            try:
                if self.shellcheck.enabled(config):
                    scripts += self.shellcheck.scripts_of(tree)
            except UNANALYSABLE:
                continue  # a bound hit (an ARG expansion bomb...): the file's own analysis reports it
        self.shellcheck.prefetch(scripts, self.executable)

    def __exit__(self, *exc) -> None:
        if self.shellcheck is not None:
            self.shellcheck.end_run()


class _persistent_cache:
    """The persistent cache's folder for a run (None when it is off); at the end, the
    cache is pruned if the run added to it (dockermig.cache.prune_since)."""

    def __init__(self, enabled: bool):
        self.folder = None
        if enabled:
            from dockermig.cache import location

            self.folder = location()

    def __enter__(self) -> Path | None:
        import time

        self.started = time.time_ns()
        return self.folder

    def __exit__(self, *exc) -> None:
        if self.folder is not None:
            from dockermig.cache import prune_since

            for kind in ("shellcheck", "lint"):
                prune_since(self.folder, kind, self.started)


# -- fixing ------------------------------------------------------------------------------

MAX_PASSES = 10  # sqlfluff's runaway_limit


class FixResult:
    """What ``fix_text`` did to one text.

    ``findings`` are those of the first pass (what was wrong); ``fixed`` the ones whose
    fixes were applied over all passes; ``remaining`` what is left after fixing;
    ``refused`` says why the original text was kept, when a promise broke or the loop did
    not converge. ``before``/``after`` are the analyses of the first and last pass.
    """

    def __init__(self, original: str, text: str, findings: list[Finding], fixed: list[Finding],
                 remaining: list[Finding], refused: str | None = None, passes: int = 0,
                 before=None, after=None):
        self.original = original
        self.text = text
        self.findings = findings
        self.fixed = fixed
        self.remaining = remaining
        self.refused = refused
        self.passes = passes
        self.before = before
        self.after = after
        self.changed = text != original
        self.not_run: list[tuple[str, str]] = []  # see FileResult.not_run, over every pass

    def detach(self) -> FixResult:
        """Drop what holds the trees (analyses, fix builders): for results kept in bulk."""
        self.findings, self.fixed, self.remaining = detach(self.findings), detach(self.fixed), detach(self.remaining)
        self.before = self.after = None
        return self

    def drop_texts(self) -> None:
        """Forget both texts once the new one is on disk: a worker process sends its
        results to the parent, which then needs what changed, not the two texts."""
        self.original = self.text = None


def fix_text(text: str, *, path: Path | None = None, config: Config | None = None,
             level=None, max_passes: int = MAX_PASSES, tree: Dockerfile | None = None) -> FixResult:
    """Apply fixes until nothing applicable is left: parse, lint, apply, check the
    promises, repeat. The original text comes back, with a reason, when a pass breaks a
    promise, the result cycles, or it does not settle within ``max_passes``; and, with no
    fix tried, when the text does not parse. ``tree``: the text's, when the caller parsed
    it already. Each pass lints the whole new text, but ShellCheck (DM700) answers from
    memory for every script a fix did not change: it is asked only about the RUNs that
    changed."""
    from dockermig.fix import Applicability, apply_fixes
    from dockermig.fix.promises import broken_promise

    config = config or Config()
    level = Applicability.SAFE if level is None else level
    tree = tree if tree is not None else parse(text)
    first, first_ctx = _lint(tree, path, config)
    not_run = list(first_ctx.not_run)

    def done(result: FixResult) -> FixResult:
        result.not_run = not_run
        return result

    if broken_as_is(tree) is not None:  # BuildKit would reject it (DM001, DM004): its instruction boundaries cannot be trusted
        return done(FixResult(text, text, first, [], first, None, 0, first_ctx, first_ctx))
    findings, ctx = first, first_ctx
    seen = {text}
    fixed: list[Finding] = []

    def refuse(reason: str, passes: int) -> FixResult:
        return done(FixResult(text, text, first, [], first, f"refused: {reason}", passes, first_ctx, first_ctx))

    for passes in range(1, max_passes + 1):
        result = apply_fixes(tree.text, findings, lambda f: f.fix, level)
        if not result.applied or result.text == tree.text:
            return done(FixResult(text, tree.text, first, fixed, findings, None, passes - 1, first_ctx, ctx))
        new_tree = parse(result.text)
        problem = broken_promise(tree, new_tree, result.applied)
        if problem is not None:
            return refuse(problem, passes)
        if result.text in seen:
            return refuse(f"fixes cycle ({', '.join(sorted({f.code for f in result.applied}))})", passes)
        seen.add(result.text)
        fixed.extend(result.applied)
        tree = new_tree
        findings, ctx = _lint(tree, path, config)
        not_run.extend(item for item in ctx.not_run if item not in not_run)
    codes = ", ".join(sorted({f.code for f in findings if f.fix is not None}))
    return refuse(f"failed to converge after {max_passes} passes ({codes})", max_passes)


class FileFix:
    """The outcome of ``fix`` for one file, for the summary, the report and the exit code."""

    def __init__(self, path: Path | None, *, status: str, reason: str = "", result: FixResult | None = None,
                 backup: bool = False, written: bool = False, error: str | None = None,
                 config: Config | None = None):
        self.path = path
        self.status = status  # migrated, master, keep-as-is, needs-review, error
        self.reason = reason
        self.result = result
        self.backup = backup
        self.written = written
        self.error = error
        self.config = config

    @property
    def changed(self) -> bool:
        return self.result is not None and self.result.changed

    @property
    def findings(self) -> list[Finding]:
        """What ``lint`` reports once the fixes are in: the findings left after fixing."""
        return self.result.remaining if self.result is not None else []

    @property
    def not_run(self) -> list[tuple[str, str]]:
        """See FileResult.not_run."""
        return self.result.not_run if self.result is not None else []


def fix_paths(paths: Iterable[Path], *, settings: Settings | None = None, jobs: int | None = None,
              level=None, write: bool = True, backup: bool = False, cache: bool = False) -> Iterator[FileFix]:
    """Fix every Dockerfile under ``paths`` (in place unless ``write`` is false).
    ``cache``: keep ShellCheck's answers in the persistent cache (dockermig.cache)."""
    files = discover_files(paths, settings)
    with _persistent_cache(cache) as folder:
        yield from map_files(_fix_items, files, jobs=jobs, level=level, write=write, backup=backup, cache=folder)


def _fix_items(chunk: list, level, write: bool, backup: bool, cache: Path | None = None,
               cores: int = 1) -> list[FileFix]:
    """Fix a chunk of files. Each write runs on a thread while the next file is analysed:
    its fsync waits for the disk, not for the CPU (bench/run.py: fix 1.82-1.90x lint with
    it, 2.03-2.04x without). The texts are not sent back once written (the caller, a
    worker's parent, needs what changed)."""
    from concurrent.futures import ThreadPoolExecutor

    if write:
        from dockermig.writer import allow_leases

        allow_leases()  # here, on the thread that may set signal handlers: the writes run on another
    fixes, writes = [], []
    with _shellcheck_run([], cache, cores) as shellcheck, \
            ThreadPoolExecutor(1, thread_name_prefix="dockermig-write") as writer:
        for item, settings in chunk:
            # read as the write of the file before goes on; ShellCheck starts on this file's
            # scripts before its rules run, and works while they do
            prepared = _prepared(item, settings)
            shellcheck.add([prepared])
            item, config, text, tree, error = prepared
            if error is not None:
                fix = FileFix(item.path, status="error", error=error, config=config)
            else:
                with confined_to_repository(item.path, config, item.root):
                    fix = fix_source(text, item.path, config, level=level, tree=tree)
            if write:
                writes.append(writer.submit(_write, fix, item.root, backup))
            fixes.append(fix)
    for done in writes:
        done.result()  # a failure the write did not turn into the file's error is a crash: raise it
    if write:
        for fix in fixes:
            if fix.result is not None:
                fix.result.drop_texts()
    return fixes


def fix_file(path: Path, config: Config | None = None, *, level=None, write: bool = True,
             backup: bool = False, root: Path | None = None) -> FileFix:
    try:
        config = config or config_for(path)
    except ConfigError as error:
        return FileFix(path, status="error", error=str(error))
    fix = _fixed_file(path, config, level, root)
    if write:
        _write(fix, root, backup)
    return fix


def _fixed_file(path: Path, config: Config, level, root: Path | None = None) -> FileFix:
    """Read and fix one file, writing nothing."""
    try:
        with confined_to_repository(path, config, root):
            text = read_dockerfile(path, config.max_file_size)
            return fix_source(text, path, config, level=level)
    except InputError as error:
        return FileFix(path, status="error", error=str(error), config=config)


def _write(fix: FileFix, root: Path | None, backup: bool) -> None:
    """Write a changed file; a write that fails makes the file's outcome an error."""
    from dockermig.writer import WriteError, write_fixed

    if not fix.changed or fix.error:
        return
    try:
        fix.backup = write_fixed(fix.path, fix.result.original, fix.result.text, root=root or fix.path.parent,
                                 backup=backup)
        fix.written = True
    except WriteError as error:
        fix.status, fix.reason, fix.error = "error", "", str(error)


def fix_source(text: str, path: Path | None, config: Config, *, level=None, tree: Dockerfile | None = None) -> FileFix:
    """Fix one text (a file's, or stdin's) without writing anything; ``tree``: the
    text's, when the caller parsed it already."""
    try:
        result = fix_text(text, path=path, config=config, level=level, tree=tree)
        if result.refused:
            return FileFix(path, status="error", error=result.refused, result=result.detach(), config=config)
        status, reason = _classify(result)
    except UNANALYSABLE as error:  # a bound hit, a broken template of the config
        return FileFix(path, status="error", error=unanalysable_reason(error), config=config)
    return FileFix(path, status=status, reason=reason, result=result.detach(), config=config)


def fix_stdin(data: bytes, filename: Path | None, settings: Settings, *, level=None,
              cache: bool = False) -> list[FileFix]:
    """Fix stdin as if it were ``filename``; nothing is written (the caller prints the
    text). No result when ``--force-exclude`` excludes that name."""
    config, text, error = _stdin(data, filename, settings)
    if error is not None:
        return [FileFix(filename, status="error", error=error, config=config)]
    if text is None:
        return []
    prepared, tree = _stdin_prepared(filename, config, text)
    with _persistent_cache(cache) as folder, _shellcheck_run(prepared, folder, os.cpu_count() or 1):
        with confined_to_repository(filename, config):
            return [fix_source(text, filename, config, level=level, tree=tree)]


def _classify(result: FixResult) -> tuple[str, str]:
    """Where the file stands after fixing: the summary's categories, with a reason."""
    broken = broken_as_is(result.before.dockerfile)
    if broken is not None:
        return "needs-review", f"broken before: {broken}: left untouched"
    before, after = result.before.facts.decision, result.after.facts.decision
    classification = before.classification
    if classification in ("migrated", "master"):
        return "master", ""
    if classification == "keep-as-is":
        return "keep-as-is", before.reason
    if result.changed and after.classification == "migrated":
        return "migrated", f"{result.before.facts.runtime.image.display} -> {after.target.image}"
    if classification.startswith("migrate-"):
        return "needs-review", f"{before.reason}; the migration has no safe fix (see DM101)"
    return "needs-review", before.reason
