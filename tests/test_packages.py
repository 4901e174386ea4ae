"""Version constraints against the version a master ships: what DM304 calls a conflict,
per package manager, and the same through `lint` on npm ranges."""

from __future__ import annotations

import pytest

from dockermig.engine import lint_text
from dockermig.policy.shipped import conflicts


@pytest.mark.parametrize(
    "installer, requested, shipped, conflict",
    [
        # npm: ^ fixes the leftmost non-zero part, ~ the minor, a bare version its own parts
        ("npm", "^5.1", "5.7.2", False),
        ("npm", "^5.8", "5.7.2", True),  # older than asked
        ("npm", "^4.9", "5.7.2", True),  # another major
        ("npm", "^0.2.3", "0.2.9", False),
        ("npm", "^0.2.3", "0.3.0", True),  # below 1.0 the minor is fixed
        ("npm", "^0.0.3", "0.0.4", True),  # below 0.1 the patch is fixed
        ("npm", "~5.7.0", "5.7.2", False),
        ("npm", "~5.7.3", "5.7.2", True),
        ("npm", "~5.6.0", "5.7.2", True),
        ("npm", "~5", "5.7.2", False),  # ~5 is 5.x
        ("npm", "5.7", "5.7.2", False),
        ("npm", "5.7.2", "5.7.2", False),
        ("npm", "5.7.1", "5.7.2", True),
        ("npm", "6", "5.7.2", True),
        ("npm", "v5.7.2", "5.7.2", False),
        ("npm", "latest", "5.7.2", False),  # tags, wildcards and range expressions are not judged
        ("npm", "next", "5.7.2", False),
        ("npm", "5.x", "4.0.0", False),
        ("npm", ">=6 <7", "5.7.2", False),
        ("npm", "^6", "not-semver", False),
        # pip: PEP 440 specifiers
        ("pip", "==0.99.1", "0.115.6", True),
        ("pip", ">=0.110", "0.115.6", False),
        ("pip", "<0.100", "0.115.6", True),
        ("pip", "~=0.115.0", "0.115.6", False),
        ("pip", ">=2.0rc1", "2.0rc2", False),  # a pre-release shipped is judged like any version
        ("pip", "not a specifier", "1.0", False),
        # apk: only an exact = pin is judged
        ("apk", "=8.5.0-r0", "8.5.0-r0", False),
        ("apk", "=8.4.0-r0", "8.5.0-r0", True),
        ("apk", "~8.5", "8.5.0-r0", False),
        # apt, yum, dnf: an exact version or a glob
        ("apt", "7.88.1-10+deb12u8", "7.88.1-10+deb12u8", False),
        ("apt", "7.88.*", "7.88.1-10+deb12u8", False),
        ("apt", "7.74.0-1", "7.88.1-10+deb12u8", True),
        # nothing asked or nothing known: no conflict
        ("npm", None, "5.7.2", False),
        ("pip", "==1.0", None, False),
    ],
)
def test_a_pin_conflicts_only_when_it_excludes_the_shipped_version(installer, requested, shipped, conflict):
    assert conflicts(installer, requested, shipped) is conflict


def test_npm_caret_and_tilde_ranges_are_judged_by_lint():
    # the master ships typescript 5.7.2 and ts-node 10.9.2
    on_master = "FROM sutazai-nodejs-agent-master:latest\nRUN npm i -g {}\n"
    assert not [f for f in lint_text(on_master.format("typescript@^5.1 ts-node@~10.9.0")) if f.code == "DM304"]
    found = [f.message for f in lint_text(on_master.format("typescript@^4.9 ts-node@~10.8.0")) if f.code == "DM304"]
    assert found == [
        "typescript@^4.9 conflicts with sutazai-nodejs-agent-master:latest, which ships typescript 5.7.2",
        "ts-node@~10.8.0 conflicts with sutazai-nodejs-agent-master:latest, which ships ts-node 10.9.2",
    ]
