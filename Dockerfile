# syntax=docker/dockerfile:1
# Multi-stage: build TypeScript, then a slim runtime with the language runtimes algorithm workers need.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
RUN npx tsc -p tsconfig.build.json \
 && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=8080 PYTHON_BIN=/usr/bin/python3 RSCRIPT_BIN=/usr/bin/Rscript WORK_DIR=/var/lib/beacon/workers
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 r-base-core r-cran-jsonlite tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/beacon beacon
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json openapi.yaml ./
COPY runtimes ./runtimes
# The beacon CLI (docs/cli.md) runs dist/src/cli here: docker compose exec beacon node bin/beacon.js migrate
COPY bin ./bin
# The web console's browser source: esbuild (a dependency) bundles it in-process on first request.
COPY console ./console
USER beacon
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# tini reaps worker processes; node receives SIGTERM directly and shuts down in order.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/src/main.js"]
