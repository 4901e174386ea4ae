"""DM561: go install of a module without a version."""

from dockermig.rule import Example, LintContext, Rule, Severity
from dockermig.rules._packages import names
from dockermig.syntax.commands import RUN_KEYWORDS, text, uses

# go build flags that take the next word as their value (go writes them with one dash)
_VALUE_FLAGS = frozenset({"ldflags", "gcflags", "asmflags", "tags", "o", "mod", "modfile", "p", "pkgdir",
                          "toolexec", "overlay", "exec", "C", "pgo", "covermode", "coverpkg"})
# patterns that name the main module's own packages or its go.mod's tools (Go 1.24)
_NOT_MODULES = frozenset({"all", "std", "cmd", "tool"})
# a query that moves: not a version
_MOVING = frozenset({"latest", "upgrade", "patch", "master", "main"})


class GoUnpinned(Rule):
    """`go install` of a module without a version.

    ## What it does
    Reports `go install`, `go get` and `go run` of a remote module without `@version`
    (or with `@latest`, which moves). Local packages (`.`, `./cmd/...`, paths) and the
    module's own tools (`go install tool`) are built from the context and go.mod, and
    are not reported, nor are flag values or, for `go run`, the program's own arguments.

    ## Why is this bad?
    Without a version go fetches the newest one: builds of one commit differ, and a
    tool's new release can break the build.

    ## References
    - hadolint DL3062, with a fixture for its false positive on `go run` arguments
      (hadolint/hadolint#1134)
    """

    code = "DM561"
    name = "go-unpinned"
    severity = Severity.WARNING
    tags = ("packages", "go", "reproducibility")
    hadolint = ("DL3062",)
    keywords = RUN_KEYWORDS

    examples = [
        Example.valid("FROM golang:1.22\nRUN go install golang.org/x/tools/gopls@v0.16.1 && go install ./cmd/...\n"),
        Example.invalid("FROM golang:1.22\nRUN go install -ldflags '-s -w' github.com/go-delve/delve/cmd/dlv\n",
                        message="github.com/go-delve/delve/cmd/dlv"),
        Example.invalid("FROM golang:1.22\nRUN go install github.com/google/go-licenses@latest\n", message="@latest"),
        # hadolint/hadolint#1134: what follows the module of go run is the program's
        Example.valid("FROM golang:1.22\nRUN go run github.com/GoogleCloudPlatform/artifact-registry-go-tools/cmd/"
                      "auth@v0.1.0 add-locations --locations=europe-west4\n"),
    ]

    def check(self, ctx: LintContext):
        for use in uses(ctx.dockerfile, "go"):
            args = [text(w) for w in use.argv.args]
            if not args or args[0] not in ("install", "get", "run"):
                continue
            modules = _operands(args[1:])
            if args[0] == "run":
                modules = modules[:1]
            loose = [m for m in modules if _remote(m) and (m.partition("@")[2] or "latest") in _MOVING]
            if loose:
                yield self.finding(ctx, use.span, f"go modules without a version: {names(loose)} "
                                                  f"(pin them with module@version)")


def _remote(module: str) -> bool:
    """A module fetched from the network, not the context's own packages or tools."""
    return not module.startswith((".", "/", "$")) and module not in _NOT_MODULES and not module.endswith(".go")


def _operands(args: list[str]) -> list[str]:
    found, skip = [], False
    for value in args:
        if skip:
            skip = False
        elif value.startswith("-"):
            skip = "=" not in value and value.lstrip("-") in _VALUE_FLAGS
        else:
            found.append(value)
    return found
