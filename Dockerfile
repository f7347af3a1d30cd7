# syntax=docker/dockerfile:1
# The AI worker (`npm run worker`) as an image. Build from the repository root:
#   docker build -t ai-worker:dev .
# Configure it with the worker's environment variables (see `npm run worker -- --help`); on Azure the stack
# sets them (deployWorker). test/docker/entrypoint.test.ts runs this file's ENTRYPOINT and HEALTHCHECK.
ARG NODE_IMAGE=node:24-slim

# ---- Production dependencies only, exactly as locked. tsx is one of them: the worker runs its TypeScript
# through tsx's loader, the same code path `npm run worker` and the tests use (no separate build output).
# The Pulumi SDKs are dependencies of the stack program, not of the worker: removing them takes
# node_modules from about 440 MB to 175 MB (a no-op once they are devDependencies).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm uninstall --omit=dev --no-audit --no-fund @pulumi/pulumi @pulumi/azure-native \
 && npm cache clean --force

# ---- Runtime: the dependencies and the worker's sources, owned by root and only readable by the user
# that runs them.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    METRICS_PORT=9464
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY common ./common
COPY worker ./worker
# `node`, uid 1000, comes with the official image.
USER node
EXPOSE 9464
# node:24-slim has no curl or wget: Node's fetch asks /healthz on METRICS_PORT. (Container Apps ignores
# HEALTHCHECK and uses the app's own probes; `docker run` and compose use this.)
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.METRICS_PORT}/healthz`, { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The same command as `npm run worker`, without npm in between: node with tsx's loader is one process, PID 1,
# so SIGTERM reaches the worker's own handler (drain, checkpoint, release ownership) directly. The heap caps
# keep V8 from growing each thread's heap to suit a large host (RSS under 300 MB instead of ~700 MB); raise
# --max-old-space-size here and in package.json for a larger custom model. --v8-pool-size=0 sizes V8's GC
# helper pool to the machine instead of a fixed 4 threads that preempt the processing threads on few cores.
ENTRYPOINT ["node", "--max-old-space-size=256", "--max-semi-space-size=4", "--v8-pool-size=0", "--import", "tsx", "worker/cli.ts"]
