import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dockerfileViolations, parseStages } from './dockerfile-rules';

const root = join(__dirname, '..', '..');
const dockerfile = readFileSync(join(root, 'docker', 'Dockerfile'), 'utf8');

describe('docker/Dockerfile', () => {
  const stages = parseStages(dockerfile);
  const final = stages[stages.length - 1];
  const args = (keyword: string) =>
    final.instructions
      .filter((i) => i.getKeyword() === keyword)
      .map((i) => i.getArgumentsContent());

  it('breaks none of the image rules', () => {
    expect(dockerfileViolations(dockerfile)).toEqual([]);
  });

  it('builds on the same Node 24 release that CI provisions', () => {
    const pinned = /pinned="([\d.]+)"/.exec(
      readFileSync(join(root, '.tooling', 'ensure-node.sh'), 'utf8'),
    )?.[1];
    expect(pinned).toMatch(/^24\./);
    expect(stages[0].image).toBe(`node:${pinned}-bookworm-slim`);
  });

  it('is multi-stage: full install, build, production install, runtime', () => {
    expect(stages.map((s) => s.name)).toEqual(['base', 'deps', 'build', 'prod-deps', 'runtime']);
    const build = stages.find((s) => s.name === 'build');
    expect(build?.instructions.some((i) => i.getArgumentsContent() === 'npm run build')).toBe(true);
  });

  it('starts the api by default, under tini, with a liveness healthcheck', () => {
    expect(args('ENTRYPOINT')).toEqual(['["/usr/bin/tini", "--"]']);
    expect(args('CMD')).toEqual(['["node", "dist/apps/api/src/main.js"]']);
    expect(args('HEALTHCHECK').join(' ')).toContain('docker/healthcheck.js');
    expect(args('USER')).toEqual(['node']);
  });

  it('catches what the rules are for', () => {
    const bad = dockerfile
      .replace('FROM node:24.21.0-bookworm-slim AS base', 'FROM node:24-bookworm-slim AS base')
      .replace('USER node', 'USER root')
      .replace('RUN npm ci --omit=dev', 'RUN npm ci')
      .replace('ENV NODE_ENV=production', 'ENV DB_PASSWORD=hunter2 NODE_ENV=production')
      .replace('ENTRYPOINT ["/usr/bin/tini", "--"]', '')
      .replace(/HEALTHCHECK[^\n]*\\\n[^\n]*\n/, '');
    expect(dockerfileViolations(bad).sort()).toEqual(
      [
        'base image not pinned: node:24-bookworm-slim',
        'ENV DB_PASSWORD looks like a secret',
        'final stage runs as root',
        'no init process as ENTRYPOINT',
        'no HEALTHCHECK',
        'node_modules copied from prod-deps, not a production-only install',
      ].sort(),
    );
    expect(dockerfileViolations('FROM node:latest\nCOPY .env .\n')).toEqual(
      expect.arrayContaining(['base image not pinned: node:latest', 'COPY copies an .env file']),
    );
  });
});

describe('.dockerignore', () => {
  const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('keeps local state, build output and secrets out of the build context', () => {
    expect(ignored).toEqual(
      expect.arrayContaining(['.git', 'node_modules', 'dist', '.env', '.env.*', '.tooling']),
    );
  });

  it('keeps what the build needs', () => {
    for (const needed of [
      'package.json',
      'package-lock.json',
      'apps',
      'libs',
      'docker/healthcheck.js',
    ]) {
      expect(ignored).not.toContain(needed);
    }
  });
});
