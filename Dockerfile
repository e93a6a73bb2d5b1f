# journey-executor image: one image, three entry points (chosen by the compose `command`):
#   node dist/migrations/main.js   database migrations (one-shot)
#   node dist/workers/main.js      Temporal worker
#   node dist/api/main.js          HTTP API (default)
#
# Debian slim rather than Alpine: the Temporal TypeScript SDK's native core bridge and @swc/core need glibc.
# node:*-bookworm-slim ships bash, which the package's postinstall (`bash scripts/install-tools.sh`) needs even
# when JOURNEY_SKIP_TOOLS=1 makes it skip downloading the Temporal CLI/test server.

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
ENV JOURNEY_SKIP_TOOLS=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# Compile TypeScript with the full (dev) dependency set.
FROM base AS build
COPY package.json package-lock.json ./
COPY scripts/install-tools.sh ./scripts/install-tools.sh
RUN npm ci
COPY . .
RUN npm run build

# Production dependencies only.
FROM base AS prod-deps
COPY package.json package-lock.json ./
COPY scripts/install-tools.sh ./scripts/install-tools.sh
RUN npm ci --omit=dev

FROM base AS runtime
ENV NODE_ENV=production
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Files stay root-owned (read-only for the app); the process runs as the image's unprivileged `node` user.
# The print spool is the one writable folder (a named volume starts with this folder's owner).
RUN mkdir -p /var/spool/journeys && chown node:node /var/spool/journeys
USER node
EXPOSE 3000
CMD ["node", "dist/api/main.js"]
