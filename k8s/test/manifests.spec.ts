import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// The constant's own file, not the lib's index: these tests need no Nest or prom-client.
import { HealthPaths } from '../../libs/observability/src/health-paths';
import {
  configOf,
  containersOf,
  find,
  invariants,
  invariantViolations,
  podLabelsOf,
  podSpecOf,
} from './invariants';
import { unknownFields } from './known-fields';
import { K8sObject, k8sDir, parseYamlObjects, renderKustomization, schemaProblems } from './render';

const TARGETS = ['base', 'overlays/dev', 'overlays/prod', 'overlays/cluster'] as const;
const rendered = new Map<string, K8sObject[]>(TARGETS.map((t) => [t, renderKustomization(t)]));

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'Job', 'CronJob'];
const get = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const o = find(objects, kind, name);
  if (!o) throw new Error(`${kind}/${name} not rendered`);
  return o;
};
const config = (objects: K8sObject[]): Record<string, string> => {
  const data = configOf(objects);
  if (Object.keys(data).length === 0) throw new Error('quarry-config not rendered');
  return data;
};

describe.each(TARGETS)('k8s/%s', (target) => {
  const objects = rendered.get(target) ?? [];
  const workloads = objects.filter((o) => WORKLOAD_KINDS.includes(o.kind));

  it('renders the whole deployment', () => {
    for (const [kind, name] of [
      ['Deployment', 'quarry-api'],
      ['Deployment', 'quarry-worker'],
      ['Service', 'quarry-api'],
      ['PodDisruptionBudget', 'quarry-api'],
      ['PodDisruptionBudget', 'quarry-worker'],
      ['Job', 'quarry-migrate'],
      ['CronJob', 'quarry-check-data'],
      ['StatefulSet', 'quarry-qdrant'],
      ['Service', 'quarry-qdrant'],
      ['NetworkPolicy', 'quarry-default-deny'],
      ['NetworkPolicy', 'quarry-api-ingress'],
    ]) {
      expect({ kind, name, found: !!find(objects, kind, name) }).toEqual({
        kind,
        name,
        found: true,
      });
    }
  });

  it('is valid against the Kubernetes (and KEDA, prometheus-operator) schemas', () => {
    expect(objects.length).toBeGreaterThan(15);
    expect(schemaProblems(objects)).toEqual([]);
  });

  it('declares no field that the API server would reject as unknown', () => {
    expect(unknownFields(objects)).toEqual([]);
  });

  it.each(Object.keys(invariants))('holds: %s', (name) => {
    expect(invariants[name](objects)).toEqual([]);
  });

  it('starts each process with its own entry point', () => {
    const command = (kind: string, name: string) =>
      podSpecOf(get(objects, kind, name)).containers[0].args;
    expect(command('Deployment', 'quarry-api')).toEqual(['node', 'dist/apps/api/src/main.js']);
    expect(command('Deployment', 'quarry-worker')).toEqual([
      'node',
      'dist/apps/worker/src/main.js',
    ]);
  });

  it('runs migrations in the Job only, and check-data on a schedule', () => {
    const [migrate] = podSpecOf(get(objects, 'Job', 'quarry-migrate')).containers;
    expect(migrate.args).toEqual(['node', 'dist/apps/cli/src/main.js', 'migrate']);
    expect(config(objects).DB_MIGRATIONS_RUN).toBe('false');
    const [check] = podSpecOf(get(objects, 'CronJob', 'quarry-check-data')).containers;
    expect(check.args).toEqual(['node', 'dist/apps/cli/src/main.js', 'check-data', '--json']);
  });

  it('the pre-rollout selection holds everything the migration Job needs', () => {
    // k8s/README.md applies `app.kubernetes.io/component in (setup,migrate)` first.
    const selected = objects.filter((o) =>
      ['setup', 'migrate'].includes(o.metadata.labels?.['app.kubernetes.io/component'] ?? ''),
    );
    const has = (kind: string, name: string) =>
      selected.some((o) => o.kind === kind && o.metadata.name === name);
    const job = get(objects, 'Job', 'quarry-migrate');
    const spec = podSpecOf(job);
    expect(has('Job', 'quarry-migrate')).toBe(true);
    expect(has('ServiceAccount', spec.serviceAccountName)).toBe(true);
    const namespace = job.metadata.namespace;
    if (namespace) expect(has('Namespace', namespace)).toBe(true);
    for (const ref of spec.containers[0].envFrom) {
      if (ref.configMapRef) expect(has('ConfigMap', ref.configMapRef.name)).toBe(true);
      // A Secret that the overlay generates must come along; prod's is created out of band.
      if (ref.secretRef && objects.some((o) => o.kind === 'Secret')) {
        expect(has('Secret', ref.secretRef.name)).toBe(true);
      }
    }
    expect(selected.filter((o) => o.kind === 'Deployment')).toEqual([]);
  });

  it('gives Qdrant persistent storage and its own probes', () => {
    const qdrant = get(objects, 'StatefulSet', 'quarry-qdrant');
    expect(qdrant.spec.volumeClaimTemplates[0].metadata.name).toBe('storage');
    const [c] = podSpecOf(qdrant).containers;
    expect(c.image).toMatch(/^qdrant\/qdrant:v1\.19\.\d+(-unprivileged)?$/);
    expect(c.volumeMounts).toEqual(
      expect.arrayContaining([{ name: 'storage', mountPath: '/qdrant/storage' }]),
    );
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.livenessProbe.httpGet.path).toBe('/livez');
    expect(config(objects).QDRANT_URL).toBe('http://quarry-qdrant:6333');
  });

  it('allows only the traffic the design needs', () => {
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const deny = get(objects, 'NetworkPolicy', 'quarry-default-deny');
    expect(deny.spec.podSelector).toEqual({});
    expect(deny.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    expect(deny.spec.ingress ?? []).toEqual([]);
    expect(deny.spec.egress ?? []).toEqual([]);
    type Rule = { from?: unknown[]; to?: unknown[]; ports?: { port: number }[] };
    for (const p of policies) {
      // No rule may open a pod to everyone or to every port.
      for (const rule of (p.spec.ingress ?? []) as Rule[]) {
        expect({ policy: p.metadata.name, from: (rule.from ?? []).length > 0 }).toEqual({
          policy: p.metadata.name,
          from: true,
        });
        expect((rule.ports ?? []).length).toBeGreaterThan(0);
      }
      for (const rule of (p.spec.egress ?? []) as Rule[]) {
        expect({ policy: p.metadata.name, to: (rule.to ?? []).length > 0 }).toEqual({
          policy: p.metadata.name,
          to: true,
        });
      }
    }
    const ports = (name: string, direction: 'ingress' | 'egress') =>
      ((get(objects, 'NetworkPolicy', name).spec[direction] ?? []) as Rule[])
        .flatMap((r) => r.ports ?? [])
        .map((x) => x.port)
        .sort((a, b) => a - b);
    expect(ports('quarry-api-ingress', 'ingress')).toEqual([
      Number(config(objects).PORT),
      Number(config(objects).METRICS_PORT),
    ]);
    expect(ports('quarry-worker-ingress', 'ingress')).toEqual([
      Number(config(objects).WORKER_HTTP_PORT),
    ]);
    // api and worker reach PostgreSQL, PgBouncer, Redis and Qdrant, and nothing else.
    expect(ports('quarry-app-egress', 'egress')).toEqual([5432, 6333, 6334, 6379, 6432]);
    expect(ports('quarry-allow-dns', 'egress')).toEqual([53, 53]);
  });

  it('reads every secret reference from quarry-secrets', () => {
    for (const w of workloads) {
      for (const c of containersOf(podSpecOf(w))) {
        const refs = [
          ...(c.envFrom ?? []).map((e: { secretRef?: { name: string } }) => e.secretRef?.name),
          ...(c.env ?? []).map(
            (e: { valueFrom?: { secretKeyRef?: { name: string } } }) =>
              e.valueFrom?.secretKeyRef?.name,
          ),
        ].filter(Boolean);
        for (const ref of refs) expect(ref).toMatch(/^quarry-secrets(-[a-z0-9]{10})?$/);
      }
    }
  });
});

describe('overlay specifics', () => {
  const dev = rendered.get('overlays/dev') ?? [];
  const prod = rendered.get('overlays/prod') ?? [];
  const cluster = rendered.get('overlays/cluster') ?? [];

  it('autoscales workers on CPU by default and on the ingest backlog in prod, never with both', () => {
    expect(find(dev, 'HorizontalPodAutoscaler', 'quarry-worker')).toBeDefined();
    expect(find(dev, 'ScaledObject', 'quarry-worker')).toBeUndefined();
    expect(find(prod, 'HorizontalPodAutoscaler', 'quarry-worker')).toBeUndefined();
    const scaled = get(prod, 'ScaledObject', 'quarry-worker');
    expect(scaled.spec.scaleTargetRef.name).toBe('quarry-worker');
    expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    const redis = scaled.spec.triggers.find((t: { type: string }) => t.type === 'redis');
    expect(redis.metadata.listName).toBe('quarry:ingest:wait');
    expect(find(prod, 'TriggerAuthentication', redis.authenticationRef.name)).toBeDefined();
  });

  it('dev secrets come from a generator and every reference resolves to it', () => {
    const secret = dev.find((o) => o.kind === 'Secret');
    expect(secret?.metadata.name).toMatch(/^quarry-secrets-[a-z0-9]{10}$/);
    const api = podSpecOf(get(dev, 'Deployment', 'quarry-api')).containers[0];
    expect(api.envFrom.map((e: { secretRef?: { name: string } }) => e.secretRef?.name)).toContain(
      secret?.metadata.name,
    );
  });

  it('prod ships no Secret, and installs alerts and the dashboard', () => {
    expect(prod.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(find(prod, 'PrometheusRule', 'quarry')).toBeDefined();
    expect(find(prod, 'PodMonitor', 'quarry')).toBeDefined();
    const dashboard = get(prod, 'ConfigMap', 'quarry-grafana-dashboard');
    expect(dashboard.metadata.labels?.grafana_dashboard).toBe('1');
    expect(JSON.parse(dashboard.data?.['quarry-overview.json'] ?? '{}').uid).toBe(
      'quarry-overview',
    );
  });

  it('prod ingress reaches the api Service and lets a multipart upload of UPLOAD_MAX_BYTES through', () => {
    const ingress = get(prod, 'Ingress', 'quarry-api');
    const backend = ingress.spec.rules[0].http.paths[0].backend.service;
    const service = get(prod, 'Service', backend.name);
    expect(service.spec.ports.map((p: { name: string }) => p.name)).toContain(backend.port.name);
    const limit = /^(\d+)([kmg])?$/i.exec(
      (ingress.metadata as { annotations?: Record<string, string> }).annotations?.[
        'nginx.ingress.kubernetes.io/proxy-body-size'
      ] ?? '',
    );
    expect(limit).not.toBeNull();
    const unit = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(limit?.[2] ?? '').toLowerCase()] ?? 1;
    expect(Number(limit?.[1]) * unit).toBeGreaterThan(Number(config(prod).UPLOAD_MAX_BYTES));
    // The api's NetworkPolicy admits the ingress controller's namespace.
    const from = get(prod, 'NetworkPolicy', 'quarry-api-ingress').spec.ingress[0].from;
    expect(from).toContainEqual({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } },
    });
  });

  it('cluster runs Qdrant as 3 peers on the p2p port, bootstrapped from pod 0, one per node', () => {
    const qdrant = get(cluster, 'StatefulSet', 'quarry-qdrant');
    expect(qdrant.spec.replicas).toBe(3);
    const spec = podSpecOf(qdrant);
    const [c] = spec.containers;
    const env = Object.fromEntries(
      (c.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]),
    );
    expect(env.QDRANT__CLUSTER__ENABLED).toBe('true');
    expect(env.QDRANT__CLUSTER__P2P__PORT).toBe('6335');
    expect(c.ports).toContainEqual({ name: 'p2p', containerPort: 6335 });
    const script = (c.args as string[]).join('\n');
    // Every peer announces itself on its stable name; all but pod 0 join pod 0.
    expect(script).toContain('--uri "$self"');
    expect(script).toContain('http://${HOSTNAME}.quarry-qdrant-headless:6335');
    expect(script).toContain('--bootstrap "http://quarry-qdrant-0.quarry-qdrant-headless:6335"');
    expect(qdrant.spec.serviceName).toBe('quarry-qdrant-headless');
    const headless = get(cluster, 'Service', 'quarry-qdrant-headless');
    expect(headless.spec.ports).toContainEqual({ name: 'p2p', port: 6335, targetPort: 'p2p' });
    // Anti-affinity: never two peers on one node.
    const [term] = spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution;
    expect(term.topologyKey).toBe('kubernetes.io/hostname');
    expect(term.labelSelector.matchLabels).toEqual(podLabelsOf(qdrant));
    // A drain keeps the Raft quorum.
    expect(get(cluster, 'PodDisruptionBudget', 'quarry-qdrant').spec.minAvailable).toBe(2);
    // Peers talk to each other on 6335 and nothing else opens it.
    const peers = get(cluster, 'NetworkPolicy', 'quarry-qdrant');
    expect(JSON.stringify(peers.spec.ingress)).toContain('6335');
    // The collection is laid out for the cluster (config-contract checks that it loads).
    expect(Number(config(cluster).QDRANT_REPLICATION_FACTOR)).toBeGreaterThanOrEqual(2);
    expect(Number(config(cluster).QDRANT_SHARD_NUMBER) % 3).toBe(0);
    expect(config(prod).QDRANT_SHARD_NUMBER).toBeUndefined();
  });

  it('cluster puts PgBouncer in front of PostgreSQL, in transaction mode, with Quarry ready for it', () => {
    const bouncer = get(cluster, 'Deployment', 'quarry-pgbouncer');
    const [c] = podSpecOf(bouncer).containers;
    const env = Object.fromEntries(
      (c.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]),
    );
    expect(env.POOL_MODE).toBe('transaction');
    expect(config(cluster).DB_PREPARED_STATEMENTS).toBe('false');
    expect(config(prod).DB_PREPARED_STATEMENTS).toBeUndefined();
    expect(bouncer.spec.replicas).toBeGreaterThanOrEqual(2);
    const service = get(cluster, 'Service', 'quarry-pgbouncer');
    expect(service.spec.ports).toContainEqual({
      name: 'pgbouncer',
      port: 6432,
      targetPort: 'pgbouncer',
    });
    // The apps may reach its pods; it reaches PostgreSQL only.
    const toBouncer = get(cluster, 'NetworkPolicy', 'quarry-app-to-pgbouncer').spec.egress[0];
    expect(toBouncer.to[0].podSelector.matchLabels).toEqual(podLabelsOf(bouncer));
    const own = get(cluster, 'NetworkPolicy', 'quarry-pgbouncer').spec;
    expect(own.egress.flatMap((r: { ports: { port: number }[] }) => r.ports.map((p) => p.port))).toEqual([5432]);
    expect(find(prod, 'Deployment', 'quarry-pgbouncer')).toBeUndefined();
  });

  it('sets a namespace on every namespaced object', () => {
    for (const [objects, ns] of [
      [dev, 'quarry-dev'],
      [prod, 'quarry'],
      [cluster, 'quarry'],
    ] as const) {
      for (const o of objects.filter((x) => x.kind !== 'Namespace')) {
        expect({ object: `${o.kind}/${o.metadata.name}`, ns: o.metadata.namespace }).toEqual({
          object: `${o.kind}/${o.metadata.name}`,
          ns,
        });
      }
    }
  });
});

describe('k8s/base/secret.example.yaml', () => {
  const [secret] = parseYamlObjects(
    readFileSync(join(k8sDir, 'base', 'secret.example.yaml'), 'utf8'),
  );

  it('is a valid Secret holding every secret variable, and no real value', () => {
    expect(schemaProblems([secret])).toEqual([]);
    expect(unknownFields([secret])).toEqual([]);
    expect(Object.keys(secret.stringData ?? {}).sort()).toEqual(
      [
        'BULL_BOARD_PASSWORD',
        'DATABASE_READ_URL',
        'DATABASE_URL',
        'EMBEDDING_API_KEY',
        'PGBOUNCER_DATABASE_URL',
        'QDRANT_API_KEY',
        'REDIS_PASSWORD',
        'REDIS_SENTINEL_PASSWORD',
        'REDIS_URL',
      ].sort(),
    );
    for (const value of Object.values(secret.stringData ?? {})) {
      expect(value === '' || value.includes('CHANGE_ME')).toBe(true);
    }
  });

  it('is never rendered: no target ships its placeholder values', () => {
    for (const target of TARGETS) {
      expect(JSON.stringify(rendered.get(target))).not.toContain('CHANGE_ME');
    }
  });
});

describe('invariant checks', () => {
  const prod = () => structuredClone(rendered.get('overlays/prod') ?? []);
  const container = (objects: K8sObject[], name: string) =>
    podSpecOf(get(objects, 'Deployment', name)).containers[0];

  it.each<[string, (objects: K8sObject[]) => void, string[]]>([
    [
      'a floating image tag',
      (o) => (container(o, 'quarry-worker').image = 'registry.example.com/quarry/quarry:latest'),
      [
        'Deployment/quarry-worker/worker: image registry.example.com/quarry/quarry:latest is not pinned',
      ],
    ],
    [
      'a writable root filesystem',
      (o) => (container(o, 'quarry-api').securityContext.readOnlyRootFilesystem = false),
      ['Deployment/quarry-api/api: root filesystem writable'],
    ],
    [
      'a container without limits',
      (o) => delete container(o, 'quarry-api').resources.limits,
      ['Deployment/quarry-api/api: no cpu limits', 'Deployment/quarry-api/api: no memory limits'],
    ],
    [
      'a Deployment without its PDB',
      (o) => o.splice(o.indexOf(get(o, 'PodDisruptionBudget', 'quarry-worker')), 1),
      ['Deployment/quarry-worker: 0 PodDisruptionBudgets'],
    ],
    [
      'a readiness probe on the wrong path',
      (o) => (container(o, 'quarry-api').readinessProbe.httpGet.path = '/healthz'),
      [
        `Deployment/quarry-api/api: readinessProbe on /healthz, the app serves ${HealthPaths.ready}`,
      ],
    ],
    [
      'a worker probe on the api port',
      (o) => (container(o, 'quarry-worker').livenessProbe.httpGet.port = 3000),
      [
        'Deployment/quarry-worker/worker: livenessProbe on port 3000, the app listens on WORKER_HTTP_PORT=3001',
      ],
    ],
    [
      'a termination grace shorter than the drain',
      (o) => (podSpecOf(get(o, 'Deployment', 'quarry-api')).terminationGracePeriodSeconds = 30),
      ['Deployment/quarry-api/api: terminationGracePeriodSeconds 30 <= 35'],
    ],
    [
      'a command that bypasses tini',
      (o) => (container(o, 'quarry-api').command = ['node', 'dist/apps/api/src/main.js']),
      ['Deployment/quarry-api/api: command overrides the image entrypoint; use args'],
    ],
    [
      'a single api replica',
      (o) => (get(o, 'Deployment', 'quarry-api').spec.replicas = 1),
      ['Deployment/quarry-api: 1 replica(s)'],
    ],
  ])('catch %s', (_name, mutate, expected) => {
    const objects = prod();
    mutate(objects);
    expect(invariantViolations(objects)).toEqual(expected);
  });
});

describe('schema validation', () => {
  it('rejects objects that a cluster would reject', () => {
    const problems = schemaProblems([
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'x' },
        spec: { replicas: 'two' },
      },
      {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: 'y' },
        spec: { minAvailable: true },
      },
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'z' } },
    ]);
    expect(problems.map((p) => p.name)).toEqual(['x', 'y', 'z']);
    expect(problems[0].error).toMatch(/replicas must be integer/);
  });

  it('rejects misspelt fields that the schemas alone let through', () => {
    const prod = structuredClone(rendered.get('overlays/prod') ?? []);
    const api = get(prod, 'Deployment', 'quarry-api');
    api.spec.template.spec.terminationGracePeriodSecond = 45;
    api.spec.template.spec.containers[0].readinessProbe.httpGet.paht = '/health/ready';
    get(prod, 'ScaledObject', 'quarry-worker').spec.minReplicas = 1;
    expect(schemaProblems(prod)).toEqual([]);
    expect(unknownFields(prod).sort()).toEqual([
      'Deployment/quarry-api: unknown field spec.template.spec.containers[0].readinessProbe.httpGet.paht',
      'Deployment/quarry-api: unknown field spec.template.spec.terminationGracePeriodSecond',
      'ScaledObject/quarry-worker: unknown field spec.minReplicas',
    ]);
  });
});
