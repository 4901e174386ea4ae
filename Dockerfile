# dockermig in a container: lint (and fix) the repository mounted at /src.
#
#   docker build -t dockermig .
#   docker run --rm -v "$PWD:/src" dockermig                 # lint .
#   docker run --rm -v "$PWD:/src" --user "$(id -u):$(id -g)" dockermig fix .
#
FROM python:3.12-slim AS build
WORKDIR /build
COPY pyproject.toml README.md ./
COPY dockermig ./dockermig
COPY rules ./rules
# Only what runs dockermig goes on: pip and setuptools (install-time tools, 25 MB) and the
# test suites some packages ship are left behind in this stage.
RUN python -m venv /opt/dockermig \
    && /opt/dockermig/bin/pip install --no-cache-dir --disable-pip-version-check '.[shellcheck]' \
    && /opt/dockermig/bin/pip uninstall --yes --quiet pip setuptools \
    && find /opt/dockermig -name '*.dist-info' -prune -o -name tests -type d -prune -exec rm -rf {} +

# dockermig is a tool every organisation runs, not one of its services: its image builds
# on the public Python image, never on an organisation's master.
# dockermig: ignore=DM101 a tool shipped to every organisation cannot build on one organisation's master
FROM python:3.12-slim
ENV PATH=/opt/dockermig/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1
COPY --from=build /opt/dockermig /opt/dockermig
RUN useradd --create-home --uid 10001 --user-group dockermig
USER 10001
# The rule packs parsed once, into the cache of the user the image runs as: a cache is
# believed only by the user who owns it (SECURITY.md), so `fix` run with --user (to write
# the mounted files as their owner) parses them afresh, a few milliseconds.
RUN python -c 'from dockermig.policy.loader import load_pack, packs_dir; [load_pack(p.name) for p in packs_dir().glob("*.yaml")]'
WORKDIR /src
ENTRYPOINT ["dockermig"]
CMD ["lint", "."]
