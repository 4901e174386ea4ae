"""``dockermig server``: a language server for editors (LSP over stdio, built on pygls).

Only ``dockermig server`` imports this package (pygls is the optional ``server`` extra):
the lint path never pays for it. ``app`` wires the LSP messages; ``documents`` lints an
open document as ``dockermig lint`` would the file; ``diagnostics`` and ``actions`` turn
findings and fixes into LSP; ``positions`` converts offsets to the client's positions.
"""
