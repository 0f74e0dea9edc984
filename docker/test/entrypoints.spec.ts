import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const read = (...path: string[]) => readFileSync(join(root, ...path), 'utf8');
const k8sFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? k8sFiles(join(dir, e.name))
      : /\.ya?ml$/.test(e.name)
        ? [join(dir, e.name)]
        : [],
  );

describe('entry points named by the deployment files', () => {
  const sources = {
    'docker/Dockerfile': read('docker', 'Dockerfile'),
    'docker/compose.yml': read('docker', 'compose.yml'),
    ...Object.fromEntries(
      k8sFiles(join(root, 'k8s')).map((f) => [f.slice(root.length + 1), readFileSync(f, 'utf8')]),
    ),
  };
  const referenced = [
    ...new Set(
      Object.values(sources).flatMap((text) =>
        [...text.matchAll(/dist\/(apps\/[\w-]+\/src\/main)\.js/g)].map((m) => m[1]),
      ),
    ),
  ].sort();

  it('name the api, the worker and the cli', () => {
    expect(referenced).toEqual(['apps/api/src/main', 'apps/cli/src/main', 'apps/worker/src/main']);
  });

  it.each(['apps/api/src/main', 'apps/cli/src/main', 'apps/worker/src/main'])(
    '%s.ts exists',
    (entry) => {
      expect(existsSync(join(root, `${entry}.ts`))).toBe(true);
    },
  );

  it('the build emits each source file at dist/<its path>.js', () => {
    const build = JSON.parse(read('tsconfig.build.json')) as {
      compilerOptions: { outDir: string; rootDir: string };
      include: string[];
    };
    expect(build.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: '.' });
    expect(build.include).toContain('apps/**/*.ts');
  });

  it('matches the npm start scripts', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> })
      .scripts;
    expect(scripts['start:api']).toBe('node dist/apps/api/src/main.js');
    expect(scripts['start:worker']).toBe('node dist/apps/worker/src/main.js');
    expect(scripts.cli).toBe('node dist/apps/cli/src/main.js');
  });
});
