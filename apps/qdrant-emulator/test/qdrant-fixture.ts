import { QdrantClient } from '@qdrant/js-client-rest';
import { randomBytes } from 'node:crypto';
import { ContractProxy } from './contract-proxy';

export interface RawResponse {
  status: number;
  // Tests assert on arbitrary response shapes.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/**
 * What every emulator test file uses: the official client and a raw-HTTP helper, both going
 * through the contract-checking proxy to QDRANT_URL (the emulator started by the test setup,
 * or a real Qdrant).
 */
export interface QdrantFixture {
  client: QdrantClient;
  proxy: ContractProxy;
  url: string;
  raw(
    method: string,
    path: string,
    body?: unknown,
    options?: { text?: string; invalidRequest?: boolean; contentType?: string },
  ): Promise<RawResponse>;
  collectionName(prefix: string): string;
  close(): Promise<void>;
}

export async function openFixture(): Promise<QdrantFixture> {
  const target = process.env.QDRANT_URL;
  if (!target)
    throw new Error('QDRANT_URL is not set: run through the integration tier (jest globalSetup)');
  const proxy = new ContractProxy(target.replace(/\/$/, ''));
  const url = await proxy.start();
  const client = new QdrantClient({ url, checkCompatibility: false });
  const created: string[] = [];
  return {
    client,
    proxy,
    url,
    async raw(method, path, body, options = {}) {
      const headers: Record<string, string> = {};
      let payload: string | undefined;
      if (options.text !== undefined) payload = options.text;
      else if (body !== undefined) payload = JSON.stringify(body);
      if (payload !== undefined)
        headers['content-type'] = options.contentType ?? 'application/json';
      if (options.invalidRequest) headers['x-contract-skip'] = 'request';
      const response = await fetch(`${url}${path}`, { method, headers, body: payload });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // plain-text endpoints
      }
      return { status: response.status, body: parsed };
    },
    collectionName(prefix) {
      const name = `${prefix}_${randomBytes(4).toString('hex')}`;
      created.push(name);
      return name;
    },
    async close() {
      for (const name of created) {
        await fetch(`${target}/collections/${name}`, { method: 'DELETE' }).catch(() => undefined);
      }
      await proxy.close();
    },
  };
}

/**
 * Registers the usual hooks of a contract test file: open the fixture before all tests,
 * fail a test on any contract violation, close (and delete its collections) after all.
 * The returned function gives the open fixture inside tests and hooks.
 */
export function useQdrantFixture(): () => QdrantFixture {
  let fixture: QdrantFixture | undefined;
  beforeAll(async () => {
    fixture = await openFixture();
  });
  afterAll(async () => {
    await fixture?.close();
  });
  afterEach(() => {
    expect(fixture?.proxy.violations.splice(0)).toEqual([]);
  });
  return () => {
    if (!fixture) throw new Error('the Qdrant fixture is used before beforeAll ran');
    return fixture;
  };
}
