import { join } from 'node:path';
import ts from 'typescript';

/**
 * Unknown-field check for rendered objects. The packaged JSON schemas let unknown fields
 * through (the OpenAPI schemas they come from do not forbid them), but the API server
 * rejects them under kubectl's default strict field validation. The same packages ship
 * TypeScript declarations of every kind, so the check walks each object against its
 * declared interface and reports every property the interface does not declare.
 */
const crdPackages: Record<string, string> = {
  'keda.sh': '@kubernetes-models/keda',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
};

const modulePath = (apiVersion: string, kind: string): string => {
  const slash = apiVersion.indexOf('/');
  if (slash < 0) return `kubernetes-models/${apiVersion}/${kind}`;
  return `${crdPackages[apiVersion.slice(0, slash)] ?? 'kubernetes-models'}/${apiVersion}/${kind}`;
};

export interface TypedObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string };
}

export function unknownFields(objects: TypedObject[]): string[] {
  const kinds = [...new Map(objects.map((o) => [`${o.apiVersion} ${o.kind}`, o])).values()];
  const entry = join(__dirname, '__known_fields_entry__.mts');
  const source = kinds
    .map(
      (o, i) =>
        `import type { I${o.kind} as K${i} } from '${modulePath(o.apiVersion, o.kind)}';\nexport type T${i} = K${i};`,
    )
    .join('\n');
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.readFile = (f) => (f === entry ? source : readFile(f));
  host.fileExists = (f) => f === entry || fileExists(f);
  host.getSourceFile = (
    (getSourceFile) =>
    (f, lang, ...rest) =>
      f === entry ? ts.createSourceFile(f, source, lang) : getSourceFile(f, lang, ...rest)
  )(host.getSourceFile.bind(host));
  const program = ts.createProgram([entry], options, host);
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(entry);
  if (!file) throw new Error('entry not compiled');
  const diagnostics = ts.getPreEmitDiagnostics(program, file);
  if (diagnostics.length > 0) {
    throw new Error(
      diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n'),
    );
  }
  const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(file) as ts.Symbol);
  const typeOf = (i: number): ts.Type => {
    const symbol = exported.find((s) => s.name === `T${i}`);
    if (!symbol) throw new Error(`T${i} missing`);
    return checker.getDeclaredTypeOfSymbol(symbol);
  };

  const problems: string[] = [];
  const walk = (value: unknown, type: ts.Type, path: string, where: string): void => {
    if (value === null || typeof value !== 'object') return;
    const candidates = (type.isUnion() ? type.types : [type]).filter(
      (t) => !(t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)),
    );
    if (candidates.some((t) => t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown))) return;
    if (Array.isArray(value)) {
      const arrayType = candidates.find((t) => checker.isArrayType(t));
      if (!arrayType) return;
      const [element] = checker.getTypeArguments(arrayType as ts.TypeReference);
      value.forEach((v, i) => walk(v, element, `${path}[${i}]`, where));
      return;
    }
    const objectTypes = candidates.filter(
      (t) => t.flags & ts.TypeFlags.Object && !checker.isArrayType(t),
    );
    if (objectTypes.length === 0) return;
    for (const [key, child] of Object.entries(value)) {
      const owner = objectTypes.find((t) => t.getProperty(key));
      if (owner) {
        const prop = owner.getProperty(key) as ts.Symbol;
        walk(child, checker.getTypeOfSymbol(prop), `${path}.${key}`, where);
        continue;
      }
      const indexed = objectTypes
        .map((t) => checker.getIndexTypeOfType(t, ts.IndexKind.String))
        .find(Boolean);
      if (indexed) walk(child, indexed, `${path}.${key}`, where);
      else
        problems.push(
          `${where}: unknown field ${path}.${key}`.replace(': unknown field .', ': unknown field '),
        );
    }
  };
  for (const o of objects) {
    const i = kinds.findIndex((k) => k.apiVersion === o.apiVersion && k.kind === o.kind);
    walk(o, typeOf(i), '', `${o.kind}/${o.metadata?.name ?? '?'}`);
  }
  return problems;
}
