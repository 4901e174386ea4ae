"""Issue 24, item 4: linting time is linear in the file, for every rule.

For each rule, a file made of the instructions its first invalid example looks at (the
example's FROM, then the rest repeated) is linted, all rules on, at n and 2n repeats: the
time must about double. DM204 scanned every later instruction per ``mkdir`` (4,000 RUNs
took 75 s), ARG/ENV values were walked again at every USER, DM203/DM303/DM530 looked
behind from every RUN. ShellCheck (DM700) is left out: its cost is the external program's,
bounded per script. bench/linear.py runs the same at larger sizes and prints the ratios.
"""

from __future__ import annotations

import time

from dockermig.config import Config

SMALL = 60  # repeats of the example's body: sizes small enough for the default tier
BOUND = 3.2  # twice the input: about twice the time (quadratic is 4); CPU time, so a busy machine counts less


def repeated(source: str, count: int) -> str:
    """The example's lines up to its first FROM, then the rest ``count`` times."""
    lines = source.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.lstrip().upper().startswith("FROM"):
            head, body = "".join(lines[: index + 1]), "".join(lines[index + 1 :])
            break
    else:
        head, body = "", source
    if not body.strip():
        head, body = "", source
    return head + (body if body.endswith("\n") else body + "\n") * count


def files() -> dict[str, str]:
    """One example source per rule (the first invalid one), the same source tested once."""
    from dockermig.registry import all_rules

    found: dict[str, str] = {}
    for rule in all_rules():
        examples = [e for e in rule.examples if not e.is_valid] or list(rule.examples)
        found.setdefault(examples[0].source, rule.code)
    return {code: source for source, code in found.items()}


def seconds(text: str, config: Config, tries: int) -> float:
    from dockermig.engine import lint_text

    best = float("inf")
    for _ in range(tries):
        start = time.process_time()
        lint_text(text, config=config)
        best = min(best, time.process_time() - start)
    return best


def ratios(size: int, tries: int = 3, codes=None) -> dict[str, tuple[float, float]]:
    """code -> (seconds at ``size`` repeats, at twice that), minimum of ``tries`` each."""
    config = Config(data={"ignore": ["DM700"]})
    seconds("FROM alpine:3.20\nRUN true\n", config, 1)  # imports, packs
    found = {}
    for code, source in files().items():
        if codes and code not in codes:
            continue
        found[code] = (seconds(repeated(source, size), config, tries), seconds(repeated(source, 2 * size), config, tries))
    return found


def test_every_rule_is_linear_in_the_file():
    measured = ratios(SMALL)
    # a ratio over the bound is measured again, bigger: a busy machine's hiccup at these
    # sizes (milliseconds) must not fail the suite, a quadratic rule still does
    suspects = [code for code, (small, large) in measured.items() if large / small > BOUND]
    if suspects:
        measured.update(ratios(3 * SMALL, tries=5, codes=suspects))
    slow = {code: f"{large / small:.1f}x" for code, (small, large) in measured.items()
            if code in suspects and large / small > BOUND}
    assert not slow, f"twice the instructions took this much more time: {slow}"


def test_mkdirs_as_root_are_linear():
    """The reproducer: RUN mkdir lines in a service that runs as the master's user."""
    head = "FROM sutazai-python-agent-master:latest\nUSER root\n"
    config = Config(data={"ignore": ["DM700"]})

    def text(count: int) -> str:
        return head + "".join(f"RUN mkdir -p /data{i} && pip install rich{i}\n" for i in range(count)) + "USER appuser\n"

    seconds(text(10), config, 1)
    small, large = seconds(text(300), config, 3), seconds(text(600), config, 3)
    assert large / small < BOUND, f"twice the mkdirs took {large / small:.1f}x the time"


def non_root_runs(count: int) -> str:
    """RUNs a non-root user runs on a known base, each asking DM205's privilege analysis
    what the file gave the user before it (chown, chmod o+w, WORKDIR) and whether a
    useradd without -m left the user without a home: a new user every few lines too."""
    return "FROM python:3.12-slim\nRUN useradd appuser\nWORKDIR /srv\n" + "".join(
        f"USER appuser\nRUN chown appuser /opt/x{i} && mkdir /etc/y{i}\nRUN pip install rich{i}\n"
        f"USER u{i}\nRUN chmod o+w /srv/a{i}\nRUN echo hi > /etc/x{i}\n" for i in range(count))


def one_long_run(count: int) -> str:
    """One RUN of many commands a non-root user runs: each command looked for its place
    in the whole chain (and for its install among the RUN's)."""
    return "FROM debian:12\nUSER appuser\nRUN " + " ; ".join(f"echo {i} > /tmp/f{i} | cat" for i in range(count)) + "\n"


def one_long_chain(count: int) -> str:
    """One RUN of many ``&&``-joined installs: the shell parser's chain was flattened by
    recursion (RecursionError past ~600 commands), and each install looked for an
    activated virtualenv through every command before it."""
    return "FROM python:3.12-slim\nUSER nobody\nRUN " + " && ".join(f"pip install p{i}" for i in range(count)) + "\n"


def test_runs_as_a_user_are_linear():
    """DM205 looked at every earlier instruction from every RUN a non-root user runs that
    writes under /etc (what chown, chmod o+w, COPY --chown or WORKDIR gave the user) and
    from every pip install (a useradd without -m), and at the whole chain of its RUN from
    every command: 500 / 1,000 such RUNs took 1.2 / 5.8 s CPU."""
    config = Config(data={"ignore": ["DM700"]})
    findings = [f for f in lint_text_of(non_root_runs(3), config) if f.code == "DM205"]
    assert [f.message.split(" needs root")[0] for f in findings] == [
        "writing /etc/y0", "pip install into the system site-packages", "writing /etc/x0",
        "writing /etc/y1", "pip install into the system site-packages", "writing /etc/x1",
        "writing /etc/y2", "pip install into the system site-packages", "writing /etc/x2"]
    # sizes where the old code was 4-5x per doubling (or, for the chain, raised RecursionError)
    for text, size in ((non_root_runs, 100), (one_long_run, 400), (one_long_chain, 800)):
        seconds(text(10), config, 1)
        small, large = seconds(text(size), config, 3), seconds(text(2 * size), config, 3)
        if large / small > BOUND:  # a busy machine's hiccup, or quadratic: measured again
            small, large = seconds(text(size), config, 5), seconds(text(2 * size), config, 5)
        assert large / small < BOUND, f"{text.__name__}: twice the RUNs took {large / small:.1f}x the time"


def lint_text_of(text: str, config: Config):
    from dockermig.engine import lint_text

    return lint_text(text, config=config)
