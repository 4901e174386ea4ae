"""dockermig: lint and migrate Dockerfiles onto approved master base images."""

__version__ = "0.1.0"
__all__ = ["parse", "__version__"]


def __getattr__(name: str):
    # ``dockermig.parse`` on first use: a lint that finds its results remembered
    # (dockermig.lint_cache) parses nothing, and the parser's import is a tenth of its time
    if name == "parse":
        from dockermig.syntax import parse

        return parse
    raise AttributeError(f"module 'dockermig' has no attribute {name!r}")
