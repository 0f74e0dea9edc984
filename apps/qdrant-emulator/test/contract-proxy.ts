import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import * as fs from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';

/**
 * A pass-through HTTP proxy between the tests (official client or fetch) and Qdrant that
 * validates every request and response body against Qdrant's published OpenAPI description.
 * Responses are checked strictly: an object may carry only the properties the schema names.
 */

// OpenAPI documents and response bodies are walked generically here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Operation {
  method: string;
  template: string;
  pattern: RegExp;
  spec: Json;
  schemaId: string;
}

const NUMERIC_FORMATS = [
  'uint',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'int32',
  'int64',
  'float',
  'double',
];

function loadSpec(file: string): Json {
  return JSON.parse(fs.readFileSync(path.join(__dirname, file), 'utf8'));
}

/** Rewrites local refs to point into a registered document, and optionally forbids unknown properties. */
function prepare(schema: Json, schemaId: string, strict: boolean): Json {
  if (Array.isArray(schema)) return schema.map((s) => prepare(s, schemaId, strict));
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/'))
      out[key] = `${schemaId}${value}`;
    else if (key === 'properties' && typeof value === 'object' && value !== null) {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, prepare(v, schemaId, strict)]),
      );
    } else out[key] = prepare(value, schemaId, strict);
  }
  if (strict && out.properties && out.additionalProperties === undefined)
    out.additionalProperties = false;
  // OpenAPI 3.0 `nullable` without `type` (e.g. `anyOf: [{$ref}, {nullable: true}]`) means "or null".
  if (out.nullable !== undefined && out.type === undefined) {
    const nullable = out.nullable === true;
    delete out.nullable;
    if (!nullable) return out;
    return Object.keys(out).length === 0 ? { type: 'null' } : { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

export class ContractProxy {
  readonly violations: string[] = [];
  exchanges = 0;
  private server: Server | null = null;
  private readonly ajv: Ajv;
  private readonly operations: Operation[] = [];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly target: string) {
    this.ajv = new Ajv({ strict: false, allErrors: false, validateFormats: true });
    addFormats(this.ajv);
    for (const format of NUMERIC_FORMATS)
      this.ajv.addFormat(format, { type: 'number', validate: () => true });
    this.ajv.addFormat('partial-date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/);
    this.ajv.addFormat('binary', true);
    for (const [file, id] of [
      ['openapi.json', 'qdrant-1.19'],
      ['openapi-v1.18.x.json', 'qdrant-1.18'],
    ]) {
      const spec = loadSpec(file);
      // Strict copy of the components for responses, lenient copy for requests.
      this.ajv.addSchema({
        $id: `${id}-strict`,
        components: prepare(spec.components, `${id}-strict`, true),
      });
      this.ajv.addSchema({
        $id: `${id}-lenient`,
        components: prepare(spec.components, `${id}-lenient`, false),
      });
      for (const [template, methods] of Object.entries<Json>(spec.paths)) {
        for (const [method, op] of Object.entries<Json>(methods)) {
          if (
            this.operations.some(
              (o) => o.method === method.toUpperCase() && o.template === template,
            )
          )
            continue;
          const pattern = new RegExp(`^${template.replace(/\{[a-z_]+\}/g, '[^/]+')}$`);
          this.operations.push({
            method: method.toUpperCase(),
            template,
            pattern,
            spec: op,
            schemaId: id,
          });
        }
      }
    }
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      void this.forward(req, res);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private validator(schema: Json, schemaId: string, strict: boolean): ValidateFunction {
    const key = `${schemaId}:${strict}:${JSON.stringify(schema)}`;
    let fn = this.compiled.get(key);
    if (!fn) {
      fn = this.ajv.compile(
        prepare(schema, `${schemaId}-${strict ? 'strict' : 'lenient'}`, strict),
      );
      this.compiled.set(key, fn);
    }
    return fn;
  }

  /** Validates one exchange; returns the problems found (empty when it conforms). */
  check(
    method: string,
    url: string,
    requestBody: Buffer | null,
    requestType: string,
    status: number,
    responseType: string,
    responseBody: Buffer,
  ): string[] {
    const pathname = new URL(url, 'http://x').pathname;
    const op = this.operations.find((o) => o.method === method && o.pattern.test(pathname));
    const where = `${method} ${pathname} -> ${status}`;
    if (!op) return [`${where}: no such operation in the OpenAPI description`];
    const problems: string[] = [];
    const requestSchema = op.spec.requestBody?.content?.['application/json']?.schema;
    if (requestSchema && requestBody && requestBody.length > 0 && requestType.includes('json')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(requestBody.toString('utf8'));
        const validate = this.validator(requestSchema, op.schemaId, false);
        if (!validate(parsed))
          problems.push(`${where}: request body: ${this.ajv.errorsText(validate.errors)}`);
      } catch {
        // malformed JSON is sent on purpose by the format-error tests
      }
    }
    const declared =
      op.spec.responses?.[String(status)] ??
      (status >= 400 && status < 500 ? op.spec.responses?.['4XX'] : undefined) ??
      op.spec.responses?.default;
    if (!declared) {
      problems.push(`${where}: status not declared`);
      return problems;
    }
    const jsonSchema = declared.content?.['application/json']?.schema;
    if (jsonSchema) {
      if (!responseType.includes('application/json')) {
        problems.push(`${where}: expected application/json, got ${responseType}`);
        return problems;
      }
      const body = JSON.parse(responseBody.toString('utf8'));
      const validate = this.validator(jsonSchema, op.schemaId, true);
      if (!validate(body))
        problems.push(`${where}: response body: ${this.ajv.errorsText(validate.errors)}`);
      if (status >= 400 && typeof body?.status?.error !== 'string')
        problems.push(`${where}: error without status.error`);
    } else if (declared.content?.['text/plain'] && !responseType.includes('text/plain')) {
      problems.push(`${where}: expected text/plain, got ${responseType}`);
    }
    return problems;
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'api-key', 'authorization']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    try {
      const upstream = await fetch(`${this.target}${req.url}`, {
        method: req.method,
        headers,
        body: body.length > 0 ? body : undefined,
      });
      const responseBody = Buffer.from(await upstream.arrayBuffer());
      const responseType = upstream.headers.get('content-type') ?? '';
      this.exchanges++;
      // `x-contract-skip: request` marks a deliberately invalid request; its response is still checked.
      const skip = req.headers['x-contract-skip'];
      if (skip !== 'all') {
        this.violations.push(
          ...this.check(
            req.method ?? 'GET',
            req.url ?? '/',
            skip === 'request' ? null : body,
            String(req.headers['content-type'] ?? ''),
            upstream.status,
            responseType,
            responseBody,
          ),
        );
      }
      const outHeaders: Record<string, string> = { 'content-length': String(responseBody.length) };
      if (responseType) outHeaders['content-type'] = responseType;
      const disposition = upstream.headers.get('content-disposition');
      if (disposition) outHeaders['content-disposition'] = disposition;
      res.writeHead(upstream.status, outHeaders);
      res.end(responseBody);
    } catch (err) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(err));
    }
  }
}
