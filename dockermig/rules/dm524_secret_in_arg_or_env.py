"""DM524: an ARG or ENV whose name says it holds a secret."""


from dockermig.regex import compile_on_use
from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.syntax.parser import onbuild_trigger
from dockermig.syntax.query import arg_defaults
from dockermig.syntax.values import env_keys

_SECRET_WORDS = frozenset({"password", "passwd", "pword", "passphrase", "secret", "secrets", "token",
                           "apikey", "credential", "credentials"})
# "key" alone is too common (GPG_KEY is a public key id); these pairs are secrets
_SECRET_PAIRS = frozenset({("api", "key"), ("access", "key"), ("secret", "key"), ("private", "key"),
                           ("client", "key"), ("application", "key"), ("auth", "token")})
# a name for where the secret is, not the secret: POSTGRES_PASSWORD_FILE, TOKEN_PATH
_LOCATION_WORDS = frozenset({"file", "path", "dir", "url", "endpoint", "public"})
# a cheap first look: an instruction that mentions none of these names no secret
_MENTIONS = compile_on_use(r"(?i)pass|pword|secret|token|key|cred")
_WORD = compile_on_use(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


class SecretInArgOrEnv(Rule):
    """`ARG` or `ENV` named like a secret.

    ## What it does
    Reports an `ARG` or `ENV` whose name has a secret's word in it: `password`,
    `secret`, `token`, `apikey`, `credentials`, or `api`/`access`/`private`/`client` +
    `key` (`GITHUB_TOKEN`, `DB_PASSWORD`, `awsSecretAccessKey`). The name is read word
    by word, so `TOKENIZERS_PARALLELISM` is not a token; a name for where a secret is
    (`POSTGRES_PASSWORD_FILE`, `TOKEN_PATH`) is not reported.

    ## Why is this bad?
    `ENV` values are stored in the image, and `ARG` values in its history: anyone who
    can pull the image can read them. Build secrets belong in `RUN --mount=type=secret`,
    run-time ones in the orchestrator's secret store.

    ## References
    - hadolint DL3064, BuildKit SecretsUsedInArgOrEnv. Deliberate differences from
      hadolint: `USERNAME` and other user names are not secrets, and words are matched
      whole (hadolint matches substrings: `TOKENIZERS_PARALLELISM`).
    """

    code = "DM524"
    name = "secret-in-arg-or-env"
    severity = Severity.WARNING
    tags = ("security", "secrets")
    hadolint = ("DL3064",)
    buildkit = ("SecretsUsedInArgOrEnv",)
    keywords = frozenset({"ARG", "ENV", "ONBUILD"})

    examples = [
        Example.valid("FROM python:3.12-slim\nARG USERNAME=vscode\nENV TOKENIZERS_PARALLELISM=false\n"
                      "ENV POSTGRES_PASSWORD_FILE=/run/secrets/db\n"),
        Example.invalid("FROM python:3.12-slim\nARG GITHUB_TOKEN\n", message="GITHUB_TOKEN"),
        Example.invalid("FROM python:3.12-slim\nENV awsSecretAccessKey=x\n", message="awsSecretAccessKey"),
    ]

    def check(self, ctx: LintContext):
        for instruction in ctx.dockerfile.instructions:
            if instruction.keyword not in ("ARG", "ENV", "ONBUILD") or not _MENTIONS.search(instruction.args):
                continue
            instruction = onbuild_trigger(instruction) or instruction
            if instruction.keyword == "ARG":
                names = list(arg_defaults(instruction))
            elif instruction.keyword == "ENV":
                names = env_keys(instruction)
            else:
                continue
            for name in names:
                if _is_secret(name):
                    yield self.finding(ctx, instruction, f"{instruction.keyword} {name} looks like a secret: "
                                                         f"it stays in the image; use a secret mount")


def _is_secret(name: str) -> bool:
    words = [w.lower() for w in _WORD.findall(name)]
    if not _LOCATION_WORDS.isdisjoint(words):
        return False
    return not _SECRET_WORDS.isdisjoint(words) or any(pair in _SECRET_PAIRS for pair in zip(words, words[1:]))
