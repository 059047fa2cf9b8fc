# One image for the platform's TypeScript components (xds-server, orchestrator, redis-rest,
# statsd-listener); docker-compose.yml picks the component with `command`.
# BASE_IMAGE defaults to the official Node image; offline machines can pass a local one.
ARG BASE_IMAGE=node:20-bookworm-slim
# Offline target (scripts/make-offline-images.sh; first, so a
# builder without BuildKit stops here): the build context is a staged copy of the
# checkout already built on the host (dist + node_modules), so nothing needs the network.
FROM ${BASE_IMAGE} AS prebuilt
WORKDIR /app
COPY . /app
USER node

FROM ${BASE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY contracts contracts
COPY faas-runtime faas-runtime
COPY xds-server xds-server
COPY orchestrator orchestrator
COPY redis-rest redis-rest
COPY statsd-listener statsd-listener
COPY envoy-standin envoy-standin
COPY gateway-openresty gateway-openresty
COPY stack stack
COPY native-stack native-stack
RUN npm ci --no-audit --no-fund && npx tsc -b && npm prune --omit=dev

FROM ${BASE_IMAGE}
WORKDIR /app
COPY --from=build /app /app
COPY global-function-definition.yml ./
COPY functions functions
USER node
