// Validates Kubernetes objects against the OpenAPI-derived JSON schemas shipped by
// kubernetes-models (core and apps, batch, policy, autoscaling, networking…) and its
// KEDA and prometheus-operator packages. Those packages are ES modules only, so the
// Jest suites run this file in a child process: JSON array of objects on stdin, JSON
// array of { kind, name, error } on stdout (empty when every object is valid).
import { readFileSync } from 'node:fs';

const crdPackages = {
  'keda.sh': '@kubernetes-models/keda',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
};

function modelPath(apiVersion, kind) {
  const slash = apiVersion.indexOf('/');
  if (slash < 0) return `kubernetes-models/${apiVersion}/${kind}`;
  const group = apiVersion.slice(0, slash);
  const pkg = crdPackages[group] ?? 'kubernetes-models';
  return `${pkg}/${apiVersion}/${kind}`;
}

const objects = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for (const object of objects) {
  const kind = object?.kind;
  const name = object?.metadata?.name;
  try {
    if (typeof object?.apiVersion !== 'string' || typeof kind !== 'string') {
      throw new Error('apiVersion and kind are required');
    }
    let Model;
    try {
      Model = (await import(modelPath(object.apiVersion, kind)))[kind];
    } catch {
      Model = undefined;
    }
    if (typeof Model !== 'function') throw new Error(`no schema for ${object.apiVersion} ${kind}`);
    new Model(object).validate();
  } catch (error) {
    results.push({ kind, name, error: error instanceof Error ? error.message : String(error) });
  }
}
process.stdout.write(JSON.stringify(results));
