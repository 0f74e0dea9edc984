// Container HEALTHCHECK: asks the process's own liveness endpoint. The port is the first
// argument, else PORT (api), else 3000; the worker's compose service passes its
// WORKER_HTTP_PORT. Kept dependency-free: it runs inside the runtime image.
/* global AbortSignal */
const port = process.argv[2] || process.env.PORT || '3000';
const livePath = '/health/live';

fetch(`http://127.0.0.1:${port}${livePath}`, { signal: AbortSignal.timeout(4000) })
  .then((res) => process.exit(res.ok ? 0 : 1))
  .catch(() => process.exit(1));
