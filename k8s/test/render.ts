import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const k8sDir = join(__dirname, '..');

/** A rendered Kubernetes object; tests narrow the fields they read. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface SchemaProblem {
  kind: string;
  name: string;
  error: string;
}

const kubectl = process.env.KUBECTL ?? 'kubectl';

/**
 * Renders a kustomization with `kubectl kustomize` (kustomize v5 is built into kubectl;
 * the CI machines have kubectl from the base image).
 */
export function renderKustomization(relativeDir: string): K8sObject[] {
  let out: string;
  try {
    out = execFileSync(kubectl, ['kustomize', join(k8sDir, relativeDir)], {
      encoding: 'utf8',
      timeout: 30_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error(
        `${kubectl} not found: install kubectl (kustomize v5 built in) or set KUBECTL`,
        {
          cause: error,
        },
      );
    }
    throw new Error(`kubectl kustomize ${relativeDir} failed: ${e.stderr ?? e.message}`, {
      cause: error,
    });
  }
  return parseYamlObjects(out);
}

export function parseYamlObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join('; '));
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

/** Validates objects against the packaged Kubernetes, KEDA and prometheus-operator schemas. */
export function schemaProblems(objects: unknown[]): SchemaProblem[] {
  const out = execFileSync(process.execPath, [join(__dirname, 'validate-objects.mjs')], {
    input: JSON.stringify(objects),
    encoding: 'utf8',
    timeout: 60_000,
    cwd: k8sDir,
  });
  return JSON.parse(out) as SchemaProblem[];
}
