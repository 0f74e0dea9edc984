/** HTTP paths that probes and scrapers depend on; k8s manifests are tested against them. */
export const HealthPaths = {
  live: '/health/live',
  ready: '/health/ready',
  metrics: '/metrics',
} as const;
