"""dockermig: lint and migrate Dockerfiles onto approved master base images."""

from dockermig.syntax import parse

__version__ = "0.1.0"
__all__ = ["parse", "__version__"]
