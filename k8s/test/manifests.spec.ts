import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// The constant's own file, not the lib's index: these tests need no Nest or prom-client.
import { HealthPaths } from '../../libs/observability/src/health-paths';
import { unknownFields } from './known-fields';
import { K8sObject, k8sDir, parseYamlObjects, renderKustomization, schemaProblems } from './render';

type PodSpec = any;
type Container = any;

const TARGETS = ['base', 'overlays/dev', 'overlays/prod'] as const;
const rendered = new Map<string, K8sObject[]>(TARGETS.map((t) => [t, renderKustomization(t)]));

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'Job', 'CronJob'];
const podSpecOf = (o: K8sObject): PodSpec =>
  o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.spec.template.spec;
const podLabelsOf = (o: K8sObject): Record<string, string> =>
  (o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.metadata : o.spec.template.metadata)
    .labels;
const containersOf = (spec: PodSpec): Container[] => [
  ...(spec.initContainers ?? []),
  ...(spec.containers ?? []),
];
const find = (objects: K8sObject[], kind: string, name: string): K8sObject | undefined =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
const get = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const o = find(objects, kind, name);
  if (!o) throw new Error(`${kind}/${name} not rendered`);
  return o;
};
const config = (objects: K8sObject[]): Record<string, string> => {
  const cm = objects.find(
    (o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('quarry-config'),
  );
  if (!cm?.data) throw new Error('quarry-config not rendered');
  return cm.data;
};
const selects = (
  selector: { matchLabels?: Record<string, string> },
  labels: Record<string, string>,
) => Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
const envValue = (objects: K8sObject[], container: Container, name: string): string | undefined =>
  container.env?.find((e: { name: string }) => e.name === name)?.value ?? config(objects)[name];
const preStopSleepSeconds = (container: Container): number => {
  const cmd: string[] = container.lifecycle?.preStop?.exec?.command ?? [];
  return cmd[0] === 'sleep' ? Number(cmd[1]) : (container.lifecycle?.preStop?.sleep?.seconds ?? 0);
};
const portNumber = (container: Container, port: string | number): number =>
  typeof port === 'number'
    ? port
    : container.ports.find((p: { name: string }) => p.name === port)?.containerPort;

describe.each(TARGETS)('k8s/%s', (target) => {
  const objects = rendered.get(target) ?? [];
  const workloads = objects.filter((o) => WORKLOAD_KINDS.includes(o.kind));
  const deployments = objects.filter((o) => o.kind === 'Deployment');

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

  it('pins every image to a version and never uses latest', () => {
    for (const w of workloads) {
      for (const c of containersOf(podSpecOf(w))) {
        const image: string = c.image;
        expect({ workload: w.metadata.name, image }).toEqual({
          workload: w.metadata.name,
          image: expect.stringMatching(/^[\w.\-/:]+:v?\d+\.\d+\.\d+[\w.-]*$|@sha256:[a-f0-9]{64}$/),
        });
        expect(image).not.toMatch(/:latest$/);
      }
    }
  });

  it('runs every pod as non-root with a read-only root filesystem and no privileges', () => {
    for (const w of workloads) {
      const spec = podSpecOf(w);
      expect({
        workload: w.metadata.name,
        runAsNonRoot: spec.securityContext?.runAsNonRoot,
      }).toEqual({
        workload: w.metadata.name,
        runAsNonRoot: true,
      });
      expect(spec.automountServiceAccountToken).toBe(false);
      for (const c of containersOf(spec)) {
        expect({ container: c.name, ...c.securityContext }).toMatchObject({
          container: c.name,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
  });

  it('gives every container resource requests and limits', () => {
    for (const w of workloads) {
      for (const c of containersOf(podSpecOf(w))) {
        expect({ container: `${w.metadata.name}/${c.name}`, resources: c.resources }).toMatchObject(
          {
            resources: {
              requests: { cpu: expect.anything(), memory: expect.anything() },
              limits: { cpu: expect.anything(), memory: expect.anything() },
            },
          },
        );
      }
    }
  });

  it('covers every Deployment and StatefulSet with a PodDisruptionBudget', () => {
    const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget');
    for (const w of objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')) {
      const covering = pdbs.filter((p) => selects(p.spec.selector, podLabelsOf(w)));
      expect({ workload: w.metadata.name, pdbs: covering.length }).toEqual({
        workload: w.metadata.name,
        pdbs: 1,
      });
    }
  });

  it('probes the api on the health paths the apps serve, on the port they listen on', () => {
    const api = get(objects, 'Deployment', 'quarry-api');
    expect(api.spec.replicas).toBeGreaterThanOrEqual(2);
    const [c] = podSpecOf(api).containers;
    expect(c.readinessProbe.httpGet.path).toBe(HealthPaths.ready);
    expect(c.livenessProbe.httpGet.path).toBe(HealthPaths.live);
    expect(c.startupProbe.httpGet.path).toBe(HealthPaths.live);
    const port = Number(envValue(objects, c, 'PORT'));
    for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
      expect(portNumber(c, probe.httpGet.port)).toBe(port);
    }
    expect(api.spec.template.metadata.annotations['prometheus.io/path']).toBe(HealthPaths.metrics);
  });

  it('probes the worker on its own health port', () => {
    const worker = get(objects, 'Deployment', 'quarry-worker');
    const [c] = podSpecOf(worker).containers;
    expect(c.command).toEqual(['node', 'dist/apps/worker/src/main.js']);
    expect(c.readinessProbe.httpGet.path).toBe(HealthPaths.ready);
    expect(c.livenessProbe.httpGet.path).toBe(HealthPaths.live);
    expect(c.startupProbe).toBeDefined();
    const port = Number(envValue(objects, c, 'WORKER_HTTP_PORT'));
    expect(port).toBeGreaterThan(0);
    for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
      expect(portNumber(c, probe.httpGet.port)).toBe(port);
    }
    expect(worker.spec.template.metadata.annotations['prometheus.io/path']).toBe(
      HealthPaths.metrics,
    );
  });

  it('lets every app finish its drain before the kubelet kills it', () => {
    for (const d of deployments) {
      const spec = podSpecOf(d);
      for (const c of spec.containers) {
        const graceS = Number(envValue(objects, c, 'SHUTDOWN_GRACE_MS')) / 1000;
        expect(graceS).toBeGreaterThan(0);
        expect({
          deployment: d.metadata.name,
          exceeds: spec.terminationGracePeriodSeconds > graceS + preStopSleepSeconds(c),
        }).toEqual({
          deployment: d.metadata.name,
          exceeds: true,
        });
      }
    }
    const [apiContainer] = podSpecOf(get(objects, 'Deployment', 'quarry-api')).containers;
    expect(preStopSleepSeconds(apiContainer)).toBeGreaterThan(0);
  });

  it('runs migrations in the Job only, and check-data on a schedule', () => {
    const [migrate] = podSpecOf(get(objects, 'Job', 'quarry-migrate')).containers;
    expect(migrate.command).toEqual(['node', 'dist/apps/cli/src/main.js', 'migrate']);
    expect(config(objects).DB_MIGRATIONS_RUN).toBe('false');
    const [check] = podSpecOf(get(objects, 'CronJob', 'quarry-check-data')).containers;
    expect(check.command).toEqual(['node', 'dist/apps/cli/src/main.js', 'check-data', '--json']);
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

  it('sets a namespace on every namespaced object', () => {
    for (const [objects, ns] of [
      [dev, 'quarry-dev'],
      [prod, 'quarry'],
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
        'QDRANT_API_KEY',
        'REDIS_PASSWORD',
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
