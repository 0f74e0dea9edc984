import { HealthPaths } from '../../libs/observability/src/health-paths';
import { K8sObject } from './render';

/* Rendered manifests are plain JSON; these checks read them loosely on purpose. */
/* eslint-disable @typescript-eslint/no-explicit-any */
type PodSpec = any;
type Container = any;

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'Job', 'CronJob'];

export const podSpecOf = (o: K8sObject): PodSpec =>
  o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.spec.template.spec;
export const podLabelsOf = (o: K8sObject): Record<string, string> =>
  (o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.metadata : o.spec.template.metadata)
    ?.labels ?? {};
export const containersOf = (spec: PodSpec): Container[] => [
  ...(spec?.initContainers ?? []),
  ...(spec?.containers ?? []),
];
export const find = (objects: K8sObject[], kind: string, name: string): K8sObject | undefined =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
export const configOf = (objects: K8sObject[]): Record<string, string> =>
  objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('quarry-config'))
    ?.data ?? {};
const selects = (
  selector: { matchLabels?: Record<string, string> } | undefined,
  labels: Record<string, string>,
) =>
  !!selector?.matchLabels &&
  Object.entries(selector.matchLabels).every(([k, v]) => labels[k] === v);
export const envValue = (objects: K8sObject[], c: Container, name: string): string | undefined =>
  c.env?.find((e: { name: string }) => e.name === name)?.value ?? configOf(objects)[name];
export const preStopSleepSeconds = (c: Container): number => {
  const cmd: string[] = c.lifecycle?.preStop?.exec?.command ?? [];
  return cmd[0] === 'sleep' ? Number(cmd[1]) : (c.lifecycle?.preStop?.sleep?.seconds ?? 0);
};
const portNumber = (c: Container, port: string | number | undefined): number | undefined =>
  typeof port === 'number'
    ? port
    : c.ports?.find((p: { name: string }) => p.name === port)?.containerPort;

const workloadsOf = (objects: K8sObject[]) =>
  objects.filter((o) => WORKLOAD_KINDS.includes(o.kind));
const id = (o: K8sObject, c?: Container) => `${o.kind}/${o.metadata.name}${c ? `/${c.name}` : ''}`;

function probeProblems(objects: K8sObject[], name: string, portVariable: string): string[] {
  const d = find(objects, 'Deployment', name);
  if (!d) return [`Deployment/${name} missing`];
  const problems: string[] = [];
  const [c] = podSpecOf(d).containers ?? [];
  const port = Number(envValue(objects, c, portVariable));
  const probes = {
    readinessProbe: HealthPaths.ready,
    livenessProbe: HealthPaths.live,
    startupProbe: HealthPaths.live,
  };
  for (const [probe, path] of Object.entries(probes)) {
    const get = c?.[probe]?.httpGet;
    if (!get) {
      problems.push(`${id(d, c)}: no ${probe}`);
      continue;
    }
    if (get.path !== path)
      problems.push(`${id(d, c)}: ${probe} on ${get.path}, the app serves ${path}`);
    if (portNumber(c, get.port) !== port) {
      problems.push(
        `${id(d, c)}: ${probe} on port ${get.port}, the app listens on ${portVariable}=${port}`,
      );
    }
  }
  const scrapePath = d.spec.template.metadata?.annotations?.['prometheus.io/path'];
  if (scrapePath !== HealthPaths.metrics)
    problems.push(`${id(d)}: metrics scraped at ${scrapePath}`);
  return problems;
}

/** Each invariant the deployment relies on, as a function from rendered objects to violations. */
export const invariants: Record<string, (objects: K8sObject[]) => string[]> = {
  'images are pinned to a version, never latest': (objects) =>
    workloadsOf(objects).flatMap((w) =>
      containersOf(podSpecOf(w))
        .filter(
          (c) =>
            /:latest$/.test(c.image ?? '') ||
            !/^[\w.\-/:]+:v?\d+\.\d+\.\d+[\w.-]*$|@sha256:[a-f0-9]{64}$/.test(c.image ?? ''),
        )
        .map((c) => `${id(w, c)}: image ${c.image} is not pinned`),
    ),

  'pods run as non-root, read-only, unprivileged, without a token': (objects) =>
    workloadsOf(objects).flatMap((w) => {
      const spec = podSpecOf(w);
      const problems: string[] = [];
      if (spec.securityContext?.runAsNonRoot !== true)
        problems.push(`${id(w)}: runAsNonRoot not set`);
      if (spec.automountServiceAccountToken !== false)
        problems.push(`${id(w)}: mounts a service-account token`);
      for (const c of containersOf(spec)) {
        const sc = c.securityContext ?? {};
        if (sc.allowPrivilegeEscalation !== false)
          problems.push(`${id(w, c)}: privilege escalation allowed`);
        if (sc.readOnlyRootFilesystem !== true)
          problems.push(`${id(w, c)}: root filesystem writable`);
        if (!(sc.capabilities?.drop ?? []).includes('ALL'))
          problems.push(`${id(w, c)}: capabilities not dropped`);
        if (sc.runAsUser === 0 || sc.privileged === true)
          problems.push(`${id(w, c)}: runs privileged or as root`);
      }
      return problems;
    }),

  // `command` would replace the image's ENTRYPOINT (tini) and leave node as PID 1.
  'quarry containers keep the image entrypoint': (objects) =>
    workloadsOf(objects).flatMap((w) =>
      containersOf(podSpecOf(w))
        .filter((c) => /\/quarry(:|@)/.test(c.image ?? '') && c.command !== undefined)
        .map((c) => `${id(w, c)}: command overrides the image entrypoint; use args`),
    ),

  'every container has cpu and memory requests and limits': (objects) =>
    workloadsOf(objects).flatMap((w) =>
      containersOf(podSpecOf(w)).flatMap((c) =>
        ['requests', 'limits'].flatMap((kind) =>
          ['cpu', 'memory']
            .filter((r) => c.resources?.[kind]?.[r] === undefined)
            .map((r) => `${id(w, c)}: no ${r} ${kind}`),
        ),
      ),
    ),

  'every Deployment and StatefulSet has exactly one PodDisruptionBudget': (objects) => {
    const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget');
    return objects
      .filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')
      .map(
        (w) => [w, pdbs.filter((p) => selects(p.spec?.selector, podLabelsOf(w))).length] as const,
      )
      .filter(([, n]) => n !== 1)
      .map(([w, n]) => `${id(w)}: ${n} PodDisruptionBudgets`);
  },

  'the api runs at least 2 replicas, probed on its health paths and port': (objects) => {
    const api = find(objects, 'Deployment', 'quarry-api');
    const replicas = api?.spec.replicas ?? 1;
    return [
      ...(replicas < 2 ? [`Deployment/quarry-api: ${replicas} replica(s)`] : []),
      ...probeProblems(objects, 'quarry-api', 'PORT'),
    ];
  },

  'the worker is probed on its own health port': (objects) =>
    probeProblems(objects, 'quarry-worker', 'WORKER_HTTP_PORT'),

  'termination grace exceeds the shutdown grace plus preStop': (objects) =>
    objects
      .filter((o) => o.kind === 'Deployment')
      .flatMap((d) => {
        const spec = podSpecOf(d);
        const grace = spec.terminationGracePeriodSeconds ?? 30;
        return spec.containers.flatMap((c: Container) => {
          const shutdownS = Number(envValue(objects, c, 'SHUTDOWN_GRACE_MS') ?? 30_000) / 1000;
          const needed = shutdownS + preStopSleepSeconds(c);
          return grace > needed
            ? []
            : [`${id(d, c)}: terminationGracePeriodSeconds ${grace} <= ${needed}`];
        });
      }),

  'the api pauses before shutting down': (objects) => {
    const api = find(objects, 'Deployment', 'quarry-api');
    const [c] = api ? podSpecOf(api).containers : [];
    return c && preStopSleepSeconds(c) > 0 ? [] : ['Deployment/quarry-api: no preStop sleep'];
  },

  "a worker's memory limit holds its heap and every extraction thread's": (objects) => {
    const worker = find(objects, 'Deployment', 'quarry-worker');
    const [c] = worker ? podSpecOf(worker).containers : [];
    if (!c) return ['Deployment/quarry-worker: not rendered'];
    const heap = Number(/--max-old-space-size=(\d+)/.exec(envValue(objects, c, 'NODE_OPTIONS') ?? '')?.[1]);
    const threads = Number(envValue(objects, c, 'EXTRACT_THREADS') ?? 2);
    const threadHeap = Number(envValue(objects, c, 'EXTRACT_MAX_HEAP_MB') ?? 512);
    const limit = mebibytes(c.resources?.limits?.memory);
    const needed = heap + threads * threadHeap + NATIVE_HEADROOM_MB;
    return needed <= limit
      ? []
      : [
          `${id(worker as K8sObject, c)}: heap ${heap} MB + ${threads} × ${threadHeap} MB extraction + ${NATIVE_HEADROOM_MB} MB exceed its ${limit} MiB limit`,
        ];
  },
};

const mebibytes = (quantity: string | undefined): number => {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity ?? '');
  return m ? Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1) : NaN;
};
/** What the process may hold besides its heaps: code, buffers of the running jobs, the driver. */
const NATIVE_HEADROOM_MB = 256;

export function invariantViolations(objects: K8sObject[]): string[] {
  return Object.values(invariants).flatMap((check) => check(objects));
}
