import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getMetadataStorage } from 'class-validator';
import { parse } from 'yaml';
// The config lib's own files, not its index: the index also exports a Nest module.
import { EnvironmentVariables, SECRET_KEYS } from '../../libs/config/src/environment-variables';
import { loadConfig } from '../../libs/config/src/load-config';
import { QueueName } from '../../libs/queue/src/job-catalogue';
import { K8sObject, k8sDir, parseYamlObjects, renderKustomization } from './render';

/** Every variable the configuration class validates: the apps read no other. */
const KNOWN = new Set(
  getMetadataStorage()
    .getTargetValidationMetadatas(EnvironmentVariables, '', true, false)
    .map((m) => m.propertyName),
);
/** Read by the runtime, by KEDA or by PgBouncer, not by Quarry's configuration. */
const NOT_QUARRY = new Set(['NODE_OPTIONS', 'REDIS_PASSWORD', 'PGBOUNCER_DATABASE_URL']);
/** Third-party servers with their own environment. */
const NOT_QUARRY_WORKLOADS = new Set(['quarry-qdrant', 'quarry-pgbouncer']);

const configMapData = (objects: K8sObject[]): Record<string, string> =>
  objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('quarry-config'))
    ?.data ?? {};
const secretExample = parseYamlObjects(
  readFileSync(join(k8sDir, 'base', 'secret.example.yaml'), 'utf8'),
)[0].stringData as Record<string, string>;
const containerEnvNames = (objects: K8sObject[]): string[] =>
  objects
    .filter((o) => ['Deployment', 'Job', 'CronJob', 'StatefulSet'].includes(o.kind))
    .filter((o) => !NOT_QUARRY_WORKLOADS.has(o.metadata.name))
    .flatMap((o) => {
      const spec =
        o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.spec.template.spec;
      return spec.containers.flatMap((c: { env?: { name: string }[] }) =>
        (c.env ?? []).map((e) => e.name),
      );
    });

/** Compose's `${VAR:-default}` interpolation with nothing set: each takes its default. */
const interpolateDefaults = (value: string): string =>
  value.replace(
    /\$\{(\w+)(?::?-([^}]*))?\}/g,
    (_m, _name: string, fallback?: string) => fallback ?? '',
  );
const composeEnv = (): Record<string, string> => {
  const compose = parse(readFileSync(join(k8sDir, '..', 'docker', 'compose.yml'), 'utf8'), {
    merge: true,
  }) as { services: Record<string, { environment?: Record<string, string> }> };
  return Object.fromEntries(
    Object.entries(compose.services.api.environment ?? {}).map(([k, v]) => [
      k,
      interpolateDefaults(String(v)),
    ]),
  );
};

const TARGETS = ['base', 'overlays/dev', 'overlays/prod', 'overlays/cluster'];
const rendered = new Map(TARGETS.map((t) => [t, renderKustomization(t)]));
const render = (target: string): K8sObject[] => rendered.get(target) ?? [];

describe('deployment configuration against libs/config', () => {
  it('knows the configuration class', () => {
    expect(KNOWN.size).toBeGreaterThan(30);
    expect(KNOWN.has('SHUTDOWN_GRACE_MS')).toBe(true);
    expect(KNOWN.has('DB_POOL_MAX')).toBe(true);
  });

  it.each(TARGETS)('%s sets only variables Quarry reads', (target) => {
    const objects = render(target);
    const names = [...Object.keys(configMapData(objects)), ...containerEnvNames(objects)];
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((n) => !KNOWN.has(n) && !NOT_QUARRY.has(n))).toEqual([]);
  });

  it('keeps secrets out of the ConfigMap and every secret in the Secret', () => {
    for (const target of TARGETS) {
      const data = configMapData(render(target));
      expect(
        Object.keys(data).filter((k) => (SECRET_KEYS as readonly string[]).includes(k)),
      ).toEqual([]);
    }
    const exampleKeys = Object.keys(secretExample);
    expect(exampleKeys.filter((k) => !KNOWN.has(k) && !NOT_QUARRY.has(k))).toEqual([]);
    // QUARRY_DEV_API_KEY is a development convenience; production never sets it.
    expect(
      SECRET_KEYS.filter((k) => k !== 'QUARRY_DEV_API_KEY' && !exampleKeys.includes(k)),
    ).toEqual([]);
  });

  it.each(['overlays/dev', 'overlays/prod', 'overlays/cluster'])(
    '%s configuration is accepted by every app',
    (target) => {
      const objects = render(target);
      const generated = objects.find((o) => o.kind === 'Secret');
      const secrets = generated
        ? Object.fromEntries(
            Object.entries(generated.data ?? {}).map(([k, v]) => [
              k,
              Buffer.from(v, 'base64').toString('utf8'),
            ]),
          )
        : secretExample;
      const env = { ...configMapData(objects), ...secrets };
      for (const app of ['api', 'worker', 'cli'] as const) {
        const config = loadConfig({ app, env });
        expect(config.http).toMatchObject({
          port: Number(env.PORT),
          workerPort: Number(env.WORKER_HTTP_PORT),
        });
        expect(config.shutdown.graceMs).toBe(Number(env.SHUTDOWN_GRACE_MS));
      }
    },
  );

  it('the compose environment is accepted by every app and names only known variables', () => {
    const env = composeEnv();
    expect(Object.keys(env).filter((k) => !KNOWN.has(k))).toEqual([]);
    for (const app of ['api', 'worker', 'cli'] as const) {
      expect(loadConfig({ app, env }).shutdown.graceMs).toBe(Number(env.SHUTDOWN_GRACE_MS));
    }
  });

  it('loadConfig refuses what a bad manifest would carry', () => {
    const objects = render('overlays/prod');
    expect(() =>
      loadConfig({
        app: 'api',
        env: { ...configMapData(objects), ...secretExample, DB_POOL_MAX: 'twenty' },
      }),
    ).toThrow(/DB_POOL_MAX/);
  });

  it("KEDA watches the ingest queue's wait list under the configured Redis prefix", () => {
    const objects = render('overlays/prod');
    const prefix = loadConfig({
      app: 'worker',
      env: { ...configMapData(objects), ...secretExample },
    }).redis.prefix;
    const scaled = objects.find((o) => o.kind === 'ScaledObject');
    const redis = scaled?.spec.triggers.find((t: { type: string }) => t.type === 'redis');
    expect(redis?.metadata.listName).toBe(`${prefix}:${QueueName.Ingest}:wait`);
  });

  it('runs the Qdrant server release that the client library is built for', () => {
    const client = JSON.parse(
      readFileSync(
        join(k8sDir, '..', 'node_modules', '@qdrant', 'js-client-rest', 'package.json'),
        'utf8',
      ),
    ) as { version: string };
    const minor = client.version.split('.').slice(0, 2).join('.');
    const qdrantImages = [
      ...render('overlays/prod')
        .filter((o) => o.kind === 'StatefulSet')
        .map((o) => o.spec.template.spec.containers[0].image as string),
      parse(readFileSync(join(k8sDir, '..', 'docker', 'compose.yml'), 'utf8'), { merge: true })
        .services.qdrant.image as string,
    ];
    expect(qdrantImages).toHaveLength(2);
    for (const image of qdrantImages)
      expect(image).toMatch(new RegExp(`^qdrant/qdrant:v${minor.replace('.', '\\.')}\\.\\d+`));
  });
});
