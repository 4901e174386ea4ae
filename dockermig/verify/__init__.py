"""The companion verifier: does the migrated image behave like the old one?

It compares, it does not deploy: two images (or two running services) get the same load,
interleaved, and the mission's gates and rollback triggers decide pass, fail or
rollback. Traffic shifting stays with the user's proxy, driven through commands.
"""
