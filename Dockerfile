# syntax=docker/dockerfile:1
# The AI worker (`npm run worker`) as an image. Build from the repository root:
#   docker build -t ai-worker:dev .
# Configure it with the worker's environment variables (see `npm run worker -- --help`); on Azure the stack
# sets them (deployWorker). test/docker/entrypoint.test.ts runs this file's ENTRYPOINT and HEALTHCHECK.
ARG NODE_IMAGE=node:24-slim

# ---- The worker workspace's (worker/package.json) production dependencies only, exactly as locked; the
# root's (the Pulumi program, the tools, the test tooling) are not installed at all. --omit=optional as well,
# because the lock marks typescript dev-or-optional (a dev dependency here, an optional peer of @pulumi/pulumi)
# and --omit=dev alone keeps such packages; the only other optional package it drops is piscina's
# @napi-rs/nice, which piscina loads only for a niceIncrement the worker does not set.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY worker/package.json ./worker/
RUN npm ci --omit=dev --omit=optional --workspace ai-worker --include-workspace-root=false --no-audit --no-fund \
 && npm cache clean --force

# ---- The worker compiled to JavaScript (worker/tsconfig.build.json): dist/worker/ and the shared modules it
# imports, dist/common/. Its dev dependencies (typescript, @types/node) live only in this stage.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY worker/package.json ./worker/
RUN npm ci --workspace ai-worker --include-workspace-root=false --no-audit --no-fund
COPY common ./common
COPY worker ./worker
RUN npm run build --workspace ai-worker

# ---- Runtime: the dependencies and the compiled worker, laid out as in the repository (worker/, common/),
# owned by root and only readable by the user that runs them. No TypeScript loader: plain node runs it.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    METRICS_PORT=9464
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./
COPY worker/package.json ./worker/
# `node`, uid 1000, comes with the official image.
USER node
EXPOSE 9464
# node:24-slim has no curl or wget: Node's fetch asks /healthz on METRICS_PORT. (Container Apps ignores
# HEALTHCHECK and uses the app's own probes; `docker run` and compose use this.)
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.METRICS_PORT}/healthz`, { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# `npm run worker`'s command on the compiled worker, without npm in between and without tsx: node is one
# process, PID 1, so SIGTERM reaches the worker's own handler (drain, checkpoint, release ownership) directly.
# The heap caps keep V8 from growing each thread's heap to suit a large host (RSS under 300 MB instead of
# ~700 MB); raise --max-old-space-size here and in package.json for a larger custom model. --v8-pool-size=0
# sizes V8's GC helper pool to the machine instead of a fixed 4 threads that preempt the processing threads
# on few cores.
ENTRYPOINT ["node", "--max-old-space-size=256", "--max-semi-space-size=4", "--v8-pool-size=0", "worker/cli.js"]
