# syntax=docker/dockerfile:1.7
# The floe worker image: floe (compiled), Python 3.11 with venv and a C compiler for Singer plugins, and one
# Meltano project with its plugins installed at build time.
#
#   docker build -t floe-worker --build-context project=../my-meltano-project .
#   (docker compose builds it with FLOE_PROJECT_DIR; without --build-context the sample project here is used)
#
# Base: glibc Debian, never Alpine: the Temporal core bridge (@temporalio/core-bridge) ships glibc-only binaries
# and fails on musl (`__register_atfork: symbol not found`). No secret is read at build time; a plugin whose
# pip_url needs one must get it another way (a private index configured on the build machine).

ARG NODE_IMAGE=node:20-bookworm-slim

# The project defaults to this build context; `--build-context project=DIR` (compose: additional_contexts)
# replaces it.
FROM scratch AS project
COPY . /

FROM ${NODE_IMAGE} AS build
WORKDIR /opt/floe
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
# uv installs plugins several times faster than pip; pinned like scripts/ensure-tools.js (a unit test checks).
ARG UV_VERSION=0.13.9

# Debian bookworm's python3 is 3.11; python3-dev and gcc build the plugins that ship no wheels (target-jsonl's
# simplejson, tap-mysql's pendulum: docs/plugins.md).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv python3-dev gcc libc6-dev ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/floe-tools \
 && /opt/floe-tools/bin/pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"

ENV NODE_ENV=production \
    MELTANO_PROJECT_ROOT=/project \
    UV=/opt/floe-tools/bin/uv \
    UV_PYTHON_DOWNLOADS=never \
    UV_LINK_MODE=copy

WORKDIR /opt/floe
COPY --from=build /opt/floe/package.json ./package.json
COPY --from=build /opt/floe/node_modules ./node_modules
COPY --from=build /opt/floe/dist ./dist
COPY --from=build /opt/floe/bin ./bin

# The project, without what must never be baked in: its .env (secrets), installed venvs (.meltano, rebuilt
# below for this image's Python), floe's local tools and dev-server database (.floe), git metadata, node_modules.
RUN --mount=type=bind,from=project,target=/mnt/project \
    mkdir -p /project \
 && tar -C /mnt/project \
      --exclude=./.env --exclude=./.meltano --exclude=./.floe --exclude=./.git --exclude=./node_modules \
      -cf - . | tar -C /project -xf - \
 && chown -R node:node /project

# Non-root from here on: plugins are installed and run as `node` (uid 1000).
USER node
RUN --mount=type=cache,target=/home/node/.cache/uv,uid=1000,gid=1000 \
    node dist/src/cli/main.js install

CMD ["node", "bin/floe.js", "worker"]
