"""Built-in rules, one per module, named ``dm<code>_<slug>.py``."""
