# One image for both processes of buurtfonds: the api (`node src/server.ts`, the
# default) and the Temporal worker (`node src/worker.ts`). Node 24 runs the
# TypeScript sources directly (type stripping), so there is no build step; the
# worker bundles workflows/ itself when it starts. See docker-compose.yml.
#
# Debian (glibc), not Alpine: the Temporal SDK's native core and argon2 ship
# prebuilt binaries for glibc.
FROM node:24-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first, so a source change does not reinstall them.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# The api imports activities/ (through src/runtime.ts); the worker also needs workflows/.
COPY src ./src
COPY activities ./activities
COPY workflows ./workflows

# Data dir for the api's document store (a volume in docker-compose.yml), owned by
# the unprivileged user the processes run as.
RUN mkdir -p /data/documents && chown -R node:node /data
ENV DATA_DIR=/data \
    DOCUMENT_DIR=/data/documents \
    HOST=0.0.0.0 \
    PORT=3000
USER node

EXPOSE 3000
CMD ["node", "src/server.ts"]
