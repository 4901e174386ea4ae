"""DM527: labels that do not follow the label schema."""

from urllib.parse import urlsplit

from dockermig.regex import compile_on_use
from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.values import env_keys, env_pairs

_KEY = compile_on_use(r"^[a-z](?:[a-z0-9.-]*[a-z0-9])?$")
_RESERVED_NAMESPACES = ("com.docker.", "io.docker.", "org.dockerproject.")
_RFC3339 = compile_on_use(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")
_SEMVER = compile_on_use(r"^v?(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)"
                         r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$")
_GIT_HASH = compile_on_use(r"^(?:[0-9a-f]{7,40}|[0-9a-f]{64})$")
_EMAIL = compile_on_use(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_SPDX_ID = r"\(?[A-Za-z0-9][A-Za-z0-9.+-]*\)?"
_SPDX = compile_on_use(rf"^{_SPDX_ID}(?:\s+(?:AND|OR|WITH)\s+{_SPDX_ID})*$")

# type -> (hadolint code, check, what a valid value is)
_TYPES = {
    "text": ("DL3051", bool, "not empty"),
    "url": ("DL3052", lambda v: bool(urlsplit(v).scheme and urlsplit(v).netloc), "a URL"),
    "rfc3339": ("DL3053", lambda v: bool(_RFC3339.match(v)), "an RFC 3339 time"),
    "spdx": ("DL3054", lambda v: bool(_SPDX.match(v)), "an SPDX license expression"),
    "hash": ("DL3055", lambda v: bool(_GIT_HASH.match(v)), "a git commit hash"),
    "semver": ("DL3056", lambda v: bool(_SEMVER.match(v)), "a semantic version"),
    "email": ("DL3058", lambda v: bool(_EMAIL.match(v)), "an email address"),
}

_SCHEMA = {"rules": {"label-schema": {"label-schema": {
    "org.opencontainers.image.source": "url", "org.opencontainers.image.version": "semver"}}}}


class LabelSchema(Rule):
    """Labels that break the label conventions or the configured schema.

    ## What it does
    Always: reports a label key that is not lower-case letters, digits, `.` and `-`
    (starting with a letter, ending with a letter or digit, no `..` or `--`) or that
    uses Docker's reserved namespaces (`com.docker.`, `io.docker.`,
    `org.dockerproject.`). With a `label-schema`: reports each required label the
    shipped image lacks, and each value that is not of the label's type; with
    `strict-labels`, each label the schema does not name. A value given by a variable
    is not judged.

    ## Why is this bad?
    Labels are how registries, scanners and people find an image's source, version and
    owner: a misspelt key or a malformed value is the same as none.

    ## Configuration
    - `label-schema` (table, default empty): label -> type, one of `text` (not empty),
      `url`, `rfc3339`, `spdx`, `hash` (git commit), `semver`, `email`. Every label
      named is required on the shipped image.
    - `strict-labels` (bool, default false): report labels the schema does not name.

    hadolint's `label-schema` and `strict-labels` in `.hadolint.yaml` set them.

    ## References
    - hadolint DL3048 (key), DL3049 (missing), DL3050 (superfluous), DL3051–DL3056 and
      DL3058 (value types), one rule here. Its findings keep hadolint's severities:
      style and info for the key, missing and superfluous checks, warning for values.
      Deliberate difference: a missing label is reported for the shipped image only,
      where hadolint reports every stage.
    """

    code = "DM527"
    name = "label-schema"
    severity = Severity.WARNING
    tags = ("labels",)
    options = {"label-schema": {}, "strict-labels": False}
    hadolint = ("DL3048", "DL3049", "DL3050", "DL3051", "DL3052", "DL3053", "DL3054", "DL3055", "DL3056", "DL3058")
    keywords = frozenset({"LABEL", "FROM"})

    examples = [
        Example.valid('FROM debian:12\nLABEL org.opencontainers.image.source="https://example.com/app" '
                      'org.opencontainers.image.version=1.4.0\n', config=_SCHEMA),
        Example.valid("FROM debian:12\nLABEL maintainer.team=ml\n"),
        Example.invalid("FROM debian:12\nLABEL Team=ml\n", message="label key Team"),
        Example.invalid('FROM debian:12\nLABEL org.opencontainers.image.source=github '
                        'org.opencontainers.image.version=1.4.0\n', config=_SCHEMA, message="is not a URL"),
        Example.invalid("FROM debian:12\nLABEL org.opencontainers.image.version=1.4.0\n", config=_SCHEMA,
                        message="org.opencontainers.image.source is missing"),
    ]

    def check(self, ctx: LintContext):
        schema = self.settings["label-schema"] if isinstance(self.settings["label-schema"], dict) else {}
        strict = bool(self.settings["strict-labels"])
        for instruction in ctx.dockerfile.instructions:
            if instruction.keyword != "LABEL":
                continue
            keys = env_keys(instruction)
            bad_keys = [key for key in keys if not _valid_key(key)]
            if bad_keys:
                yield self._finding(ctx, instruction, f"label key {bad_keys[0]} breaks the key conventions "
                                                      f"(lower case, digits, . and -)", "DL3048", Severity.INFO)
            if not schema:
                continue
            for key, value in env_pairs(instruction):
                if key in schema:
                    kind = _TYPES.get(str(schema[key]))
                    if kind is not None and "$" not in value and not kind[1](value):
                        yield self._finding(ctx, instruction, f"label {key}={value!r} is not {kind[2]}", kind[0])
                elif strict and schema:
                    yield self._finding(ctx, instruction, f"label {key} is not in the label schema", "DL3050",
                                        Severity.INFO)
        if schema and ctx.dockerfile.stages:
            final = ctx.dockerfile.stages[-1]
            present = {key for stage in final.ancestry() for i in stage.all("LABEL") for key in env_keys(i)}
            for key in schema:
                if key not in present:
                    yield self._finding(ctx, final.from_, f"label {key} is missing", "DL3049", Severity.INFO)

    def _finding(self, ctx, where, message, subcode: str, severity=Severity.WARNING):
        # the hadolint code of each finding, so an ignore of one code silences only its findings
        finding = self.finding(ctx, where, message, subcode=subcode)
        return finding if severity is self.severity else finding._replace(severity=severity)


def _valid_key(key: str) -> bool:
    return bool(_KEY.match(key)) and not key.startswith(_RESERVED_NAMESPACES) and ".." not in key and "--" not in key
