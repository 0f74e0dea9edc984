import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES_DIR = join(__dirname, 'fixtures');

export function fixture(name: string): Buffer {
  return readFileSync(join(FIXTURES_DIR, name));
}
