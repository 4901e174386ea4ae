"""DM604: an instruction keyword not in the case most of the file uses."""

from dockermig.fix import Edit, Fix
from dockermig.rule import Example, FixAvailability, LintContext, Rule, Severity


class ConsistentInstructionCasing(Rule):
    """Instruction keyword in another case than the file's majority.

    ## What it does
    Counts the keywords written all upper case and all lower case, and reports every
    keyword not in the case of the majority (upper case on a tie), a mixed-case one like
    `From` included, as BuildKit's ConsistentInstructionCasing check does. Like BuildKit,
    it looks at the instructions of the build stages: the `ARG`s before the first `FROM`
    are not counted. Nor are lines that are no instruction BuildKit knows (DM004: the
    lines of a script a `RUN` meant to go on with, `class`, `self.send_header(...)`).

    ## Why is this bad?
    Keywords are case-insensitive, so the image is the same, but a file in mixed case is
    harder to scan, and `docker build` warns for each keyword out of line.

    ## Fix safety
    Safe: only the keyword's case changes, to the file's majority. A file with lines that
    are no instruction (DM004) gets no fix: it never built, and its instruction boundaries
    are not the ones its author meant.

    ## References
    - BuildKit check ConsistentInstructionCasing
    """

    code = "DM604"
    name = "consistent-instruction-casing"
    severity = Severity.INFO
    tags = ("buildkit", "style")
    fix_availability = FixAvailability.ALWAYS
    buildkit = ("ConsistentInstructionCasing",)

    examples = [
        Example.valid("from alpine:3.20\nrun apk add --no-cache curl\n"),
        Example.invalid(
            "FROM alpine:3.20\nrun apk add --no-cache curl\nCMD [\"sh\"]\n",
            message="Command 'run' should match the case of the command majority (uppercase)",
            line=2,
            fixed="FROM alpine:3.20\nRUN apk add --no-cache curl\nCMD [\"sh\"]\n",
        ),
        Example.invalid("from alpine:3.20\nRun apk add curl\nrun true\n", fixed="from alpine:3.20\nrun apk add curl\nrun true\n"),
        # the script's lines (DM004) are not keywords: upper case stays the majority
        Example.valid(
            "FROM python:3.12-slim\nRUN echo 'import os\nclass a:\n    def b(self):\n        print(\"Content-type\")\n"
            "' > /app.py\nCMD [\"python\", \"/app.py\"]\n"
        ),
        Example.invalid(
            "from python:3.12-slim\nRUN echo 'import os\nprint(1)\n' > /app.py\nCMD [\"python\", \"/app.py\"]\n",
            message="Command 'from' should match the case of the command majority (uppercase)",
            fixed=None,  # a file BuildKit refuses (DM004) is not rewritten
        ),
    ]

    def check(self, ctx: LintContext):
        df = ctx.dockerfile
        unknown = set(map(id, df.unknown))
        keywords = []
        for instruction in df.instructions:
            if id(instruction) in unknown:
                continue  # not an instruction: a script's line, which BuildKit never gets to (DM004)
            if keywords or instruction.keyword == "FROM":  # BuildKit counts the stages' instructions
                keywords.append((instruction.source[slice(*instruction.keyword_span)], instruction.keyword_span))
        lower = sum(1 for word, _ in keywords if word == word.lower())
        upper = sum(1 for word, _ in keywords if word == word.upper() and word != word.lower())
        majority_lower = lower > upper
        casing = "lowercase" if majority_lower else "uppercase"
        for word, (start, end) in keywords:
            wanted = word.lower() if majority_lower else word.upper()
            if word != wanted:
                yield self.finding(
                    ctx, (start, end), f"Command '{word}' should match the case of the command majority ({casing})",
                    fix=None if unknown else Fix(f"Write {wanted}", [Edit(start, end, wanted)]),
                )
