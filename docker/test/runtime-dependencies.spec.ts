import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Source files that end up in the image and run there: apps and libs, not tests. */
function runtimeSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return ['test', 'node_modules'].includes(entry.name) ? [] : runtimeSources(path);
    return /\.ts$/.test(entry.name) && !/\.(spec|e2e-spec|d)\.ts$/.test(entry.name) ? [path] : [];
  });
}

/** Bare package names a source file loads at run time. */
function importedPackages(source: string): string[] {
  const specifiers = [
    // `import type` / `export type` are erased by the compiler: they need nothing at run time.
    ...source.matchAll(/^\s*(?:import|export)\s(?!type\s)[^;]*?\sfrom\s+['"]([^'"]+)['"]/gm),
    ...source.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm),
    ...source.matchAll(/\b(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]);
  return [
    ...new Set(
      specifiers
        .filter((s) => !s.startsWith('.') && !s.startsWith('/') && !s.startsWith('@quarry/'))
        .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]))
        .filter((s) => !s.startsWith('node:') && !builtinModules.includes(s)),
    ),
  ].sort();
}

describe('runtime dependencies of the image', () => {
  // libs/testing only serves the test suites, and the Qdrant emulator never runs in the
  // image (production uses real Qdrant): neither is loaded by api, worker or cli.
  const devOnly = [join('libs', 'testing'), join('apps', 'qdrant-emulator')];
  const files = ['apps', 'libs']
    .flatMap((d) => runtimeSources(join(root, d)))
    .filter((f) => !devOnly.some((d) => relative(root, f).startsWith(d)));

  it('every package the apps and libs import is a production dependency', () => {
    expect(files.length).toBeGreaterThan(20);
    const missing = files.flatMap((f) =>
      importedPackages(readFileSync(f, 'utf8'))
        .filter((name) => !(name in pkg.dependencies))
        .map(
          (name) =>
            `${relative(root, f)}: ${name}${name in pkg.devDependencies ? ' (devDependency)' : ''}`,
        ),
    );
    // `npm ci --omit=dev` in docker/Dockerfile leaves anything else out of the image.
    expect(missing).toEqual([]);
  });

  it('reads imports the way the compiler emits them', () => {
    expect(
      importedPackages(
        [
          "import { Injectable } from '@nestjs/common';",
          "import type {\n  Foo,\n} from 'express';",
          "import { Pool } from 'pg';",
          "export { x } from './local';",
          "import 'reflect-metadata';",
          "const y = require('node:fs'); const z = await import('unpdf/worker');",
          "import { QuarryConfig } from '@quarry/config';",
        ].join('\n'),
      ),
    ).toEqual(['@nestjs/common', 'pg', 'reflect-metadata', 'unpdf']);
  });
});
