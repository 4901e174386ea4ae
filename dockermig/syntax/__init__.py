"""The lossless Dockerfile tree; it knows nothing of rules."""

from dockermig.syntax.nodes import Blank, Comment, Directive, Flag, Heredoc, Instruction, Node, Span, Word
from dockermig.syntax.parser import Dockerfile, ParseProblem, parse
from dockermig.syntax.query import ImageRef, Stage, parse_image_ref

__all__ = [
    "Blank",
    "Comment",
    "Directive",
    "Dockerfile",
    "Flag",
    "Heredoc",
    "ImageRef",
    "Instruction",
    "Node",
    "ParseProblem",
    "Span",
    "Stage",
    "Word",
    "parse",
    "parse_image_ref",
]
