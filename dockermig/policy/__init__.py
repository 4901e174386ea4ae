"""Migration knowledge, apart from the linter framework: the masters and what they ship,
the keep-as-is catalogue, what a Dockerfile's stages are and run (``facts``), and the
edits that move a service onto its master. Never imports rule, engine or config."""
