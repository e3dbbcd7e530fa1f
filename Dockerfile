# syntax=docker/dockerfile:1
# knstate function host: the compiled CLI and the example functions, production dependencies only.
#
#   docker build -t dev.local/knstate:0.1.0 .
#   docker run --rm -p 8080:8080 -e KNSTATE_FUNCTIONS=/app/dist/functions/counter dev.local/knstate:0.1.0
#
# The runtime stage writes nothing outside /tmp, so it runs with readOnlyRootFilesystem.

# An LTS release of Node; the tests run the built host on the same major release
# (test/integration/image-node.test.ts), installed from the npm registry by .ci/run.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY functions ./functions
RUN npm run build \
 && find dist -name '*.test.*' -delete

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    HOME=/tmp \
    npm_config_cache=/tmp/.npm
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /src/dist ./dist
COPY --chown=root:root package.json ./
# 65532: the conventional "nonroot" uid; numeric so Kubernetes can verify runAsNonRoot.
USER 65532:65532
EXPOSE 8080
# No HEALTHCHECK: Kubernetes probes /readyz and /livez. Choose the functions with
# KNSTATE_FUNCTIONS=/app/dist/functions/counter (comma-separated) or with arguments.
ENTRYPOINT ["node", "/app/dist/src/cli/bin.js", "serve"]
