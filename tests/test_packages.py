"""Packages a master already ships (DM301-DM304): what is reported for each package
manager, what a version constraint conflicts with, and what the removal fix keeps.

Most tests use masters defined here in the config, so they do not move when the built-in
masters' manifests are re-pinned."""

from __future__ import annotations

import pytest

from dockermig.config import Config
from dockermig.engine import fix_text, lint_text
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
        ("npm", "v4.9.0", "5.7.2", True),
        ("npm", "^0", "0.5.0", False),  # all zeros: the given parts are fixed
        ("npm", "^0", "1.0.0", True),
        ("npm", "^0.0", "0.0.5", False),
        ("npm", "^0.0", "0.1.0", True),
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
        ("pip", ">=1.0", "2.0rc1", False),  # a pre-release shipped is judged like any version
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


# masters without a health check: these tests are about packages (DM406 would add HEALTHCHECK NONE)
PYTHON_MASTER = {"image": "acme/python-master", "language": "python", "base": "python:3.12-slim", "health_path": None,
                 "user": "appuser",
                 "packages": {"apt": {"curl": "7.88.1", "wget": None}, "pip": {"fastapi": "0.115.6", "requests": "2.32.3"}}}
NODE_MASTER = {"image": "acme/node-master", "language": "node", "base": "node:18-slim", "health_path": None,
               "user": "appuser",
               "replaces": {"apt": ["nodejs"]},
               "packages": {"npm": {"pm2": "5.4.3"}}}
MASTERS = Config(data={"masters": [PYTHON_MASTER, NODE_MASTER]})


def findings(text: str, path=None) -> list[tuple[str, str, str | None]]:
    return [(f.code, f.message, f.fix.title if f.fix else None)
            for f in lint_text(text, path=path, config=MASTERS) if f.code.startswith("DM3")]


def test_system_packages_of_every_package_manager_are_compared_with_the_apt_manifest():
    found = findings("FROM acme/python-master:1\nRUN yum install -y curl && dnf install -y wget && apk add curl\n")
    whole = "Remove the RUN: the master ships what it installs"
    assert found == [
        ("DM301", "curl is already shipped by acme/python-master (apt 7.88.1): do not install it again", whole),
        ("DM301", "wget is already shipped by acme/python-master (apt): do not install it again", whole),
        ("DM301", "curl is already shipped by acme/python-master (apt 7.88.1): do not install it again", whole),
    ]


def test_every_install_of_a_run_is_looked_at():
    found = findings("FROM acme/python-master:1\nRUN apt-get install -y curl=7.0 && pip install requests\n")
    assert found == [
        ("DM304", "curl=7.0 conflicts with acme/python-master, which ships curl 7.88.1", "Remove curl"),  # unsafe
        ("DM302", "requests is already shipped by acme/python-master (pip 2.32.3): do not install it again",
         "Remove requests"),
    ]


def test_a_runtime_the_master_replaces_is_not_needed():
    assert findings("FROM acme/node-master:1\nRUN apt-get install -y nodejs\n") == [
        ("DM301", "nodejs is not needed on acme/node-master: the master's own node runtime replaces it",
         "Remove the RUN: the master ships what it installs"),
    ]


def test_local_npm_installs_are_project_dependencies_not_the_masters():
    found = findings("FROM acme/node-master:1\nRUN npm install pm2 && npm install -g pm2\n")
    assert [(code, message.split(" is ")[0]) for code, message, _ in found] == [("DM303", "pm2")]
    assert found[0][1].startswith("pm2 is already shipped") and "RUN npm install -g pm2" not in found[0][1]


def test_requirements_files_are_read_from_the_build_context(tmp_path):
    (tmp_path / "requirements.txt").write_text("fastapi==0.99.1\nrequests\nflask\n")
    dockerfile = tmp_path / "Dockerfile"
    text = "FROM acme/python-master:1\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
    assert findings(text, dockerfile) == [  # requirements files are reported, not edited
        ("DM302", "requests (from requirements.txt:2) is already shipped by acme/python-master (pip 2.32.3): "
                  "do not install it again", None),
        ("DM304", "fastapi==0.99.1 (from requirements.txt:1) conflicts with acme/python-master, which ships fastapi "
                  "0.115.6", None),
    ]
    # the same before the migration names the master the service moves to
    moving = findings(text.replace("acme/python-master:1", "python:3.12-slim"), dockerfile)
    assert moving[0][1].startswith("requests (from requirements.txt:2) is already shipped by acme/python-master, "
                                   "the master this service moves to (pip 2.32.3)")


def test_a_requirements_file_that_is_not_there_is_no_finding(tmp_path):
    text = "FROM acme/python-master:1\nRUN pip install -r requirements.txt\n"
    assert findings(text, tmp_path / "Dockerfile") == findings(text) == []


@pytest.mark.parametrize(
    "run, kept",
    [
        # another install of the same manager still needs apt-get update
        ("apt-get update && apt-get install -y curl && apt-get install -y libpq-dev && rm -rf /var/lib/apt/lists/*",
         "apt-get update && apt-get install -y libpq-dev && rm -rf /var/lib/apt/lists/*"),
        # the install and its companions go, an unrelated rm stays
        ("apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/* && rm -rf /tmp/build",
         "rm -rf /tmp/build"),
        # an emptied command and a package token of another, in one RUN
        ("pip install --no-cache-dir requests && pip install --no-cache-dir fastapi flask-cors",
         "pip install --no-cache-dir flask-cors"),
    ],
)
def test_removal_keeps_what_the_master_does_not_ship(run, kept):
    result = fix_text(f"FROM acme/python-master:1\nRUN {run}\nCMD [\"python\", \"a.py\"]\n", config=MASTERS)
    assert result.refused is None
    assert result.text == f"FROM acme/python-master:1\nRUN {kept}\nCMD [\"python\", \"a.py\"]\n"
