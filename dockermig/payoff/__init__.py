"""``dockermig report``: the migration's payoff, measured on the real engine.

Every service of a repository is built twice, before and after the migration (by default
the current tree and the tree ``dockermig fix`` would write, in a temporary copy): image
size, the bytes of its layers unique to it or shared with the fleet, cold build time,
cached rebuild time after a source-only change, the uid it runs as, its health check.
Then fleet totals, the before/after comparison and the targets of the plan.

- ``layers``: pure arithmetic on layer digests and sizes (no engine);
- ``measure``: per-service results, fleet totals, comparison and targets (no engine);
- ``settings``: the ``report:`` table of the config;
- ``trees``: the two trees and the services in them;
- ``engine``: builds and runs (the docker SDK, imported only here);
- ``render``: text, markdown, JSON and the self-contained HTML page.
"""
