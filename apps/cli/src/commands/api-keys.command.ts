import { ApiKey, ApiKeyRole } from '@quarry/db';
import { ApiKeysService, badInput, isUuid } from '@quarry/documents';
import Table from 'cli-table3';
import { Command, CommandRunner, Option, SubCommand } from 'nest-commander';
import { CliOutput } from '../cli-output';

interface JsonOption {
  json?: boolean;
}

const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);

function keyView(key: ApiKey) {
  return {
    id: key.id,
    owner_id: key.ownerId,
    role: key.role,
    name: key.name,
    created_at: iso(key.createdAt),
    last_used_at: iso(key.lastUsedAt),
    revoked_at: iso(key.revokedAt),
  };
}

abstract class JsonCommand extends CommandRunner {
  constructor(protected readonly out: CliOutput) {
    super();
  }

  @Option({ flags: '--json', description: 'machine-readable output' })
  parseJson(): boolean {
    this.out.json = true;
    return true;
  }
}

@SubCommand({
  name: 'create',
  description: 'create an API key for an owner and print it (shown only this once)',
})
export class ApiKeysCreateCommand extends JsonCommand {
  constructor(
    private readonly apiKeys: ApiKeysService,
    out: CliOutput,
  ) {
    super(out);
  }

  async run(
    _args: string[],
    options: JsonOption & { owner?: string; role?: ApiKeyRole; name?: string },
  ): Promise<void> {
    if (!options.owner) throw badInput('--owner <id> is required');
    const created = await this.apiKeys.create({
      ownerId: options.owner,
      role: options.role,
      name: options.name,
    });
    this.out.result(
      {
        id: created.id,
        owner_id: created.ownerId,
        role: created.role,
        name: created.name,
        key: created.key,
      },
      () =>
        [
          `created ${created.role} key ${created.id} for owner ${created.ownerId} (${created.name})`,
          `key: ${created.key}`,
          'Store it now: only its hash is kept, it cannot be shown again.',
        ].join('\n'),
    );
  }

  @Option({ flags: '--owner <id>', description: 'the owner the key acts for', required: true })
  parseOwner(value: string): string {
    return value;
  }

  @Option({
    flags: '--role <role>',
    description: 'user (default) or admin',
    choices: [ApiKeyRole.User, ApiKeyRole.Admin],
  })
  parseRole(value: string): ApiKeyRole {
    return value as ApiKeyRole;
  }

  @Option({ flags: '--name <name>', description: 'a label to recognise the key by' })
  parseName(value: string): string {
    return value;
  }
}

@SubCommand({ name: 'list', description: 'list API keys (never the keys themselves)' })
export class ApiKeysListCommand extends JsonCommand {
  constructor(
    private readonly apiKeys: ApiKeysService,
    out: CliOutput,
  ) {
    super(out);
  }

  async run(_args: string[], options: JsonOption & { owner?: string }): Promise<void> {
    const keys = (await this.apiKeys.list(options.owner)).map(keyView);
    this.out.result(keys, () => {
      if (keys.length === 0) return 'no API keys';
      const table = new Table({
        head: ['id', 'owner', 'role', 'name', 'created', 'last used', 'revoked'],
        // colours only on a terminal, so piped output stays plain text
        ...(this.out.isTty ? {} : { style: { head: [], border: [] } }),
      });
      for (const k of keys) {
        table.push([
          k.id,
          k.owner_id,
          k.role,
          k.name,
          k.created_at ?? '',
          k.last_used_at ?? 'never',
          k.revoked_at ?? '',
        ]);
      }
      return table.toString();
    });
  }

  @Option({ flags: '--owner <id>', description: "only this owner's keys" })
  parseOwner(value: string): string {
    return value;
  }
}

@SubCommand({
  name: 'revoke',
  arguments: '<id>',
  description:
    'revoke an API key (requests with it answer 401 within API_KEY_CACHE_TTL_MS, 5 s by default)',
})
export class ApiKeysRevokeCommand extends JsonCommand {
  constructor(
    private readonly apiKeys: ApiKeysService,
    out: CliOutput,
  ) {
    super(out);
  }

  async run([id]: string[]): Promise<void> {
    if (!id || !isUuid(id)) throw badInput(`${id ?? ''} is not an API key id (a UUID)`);
    const key = keyView(await this.apiKeys.revoke(id));
    this.out.result(
      key,
      () => `revoked key ${key.id} of owner ${key.owner_id} at ${key.revoked_at}`,
    );
  }
}

@Command({
  name: 'api-keys',
  description: 'create, list and revoke API keys',
  subCommands: [ApiKeysCreateCommand, ApiKeysListCommand, ApiKeysRevokeCommand],
})
export class ApiKeysCommand extends CommandRunner {
  async run(): Promise<void> {
    this.command.help();
  }
}

/** Everything `api-keys` needs registered as providers. */
export const API_KEYS_COMMANDS = [
  ApiKeysService,
  ApiKeysCommand,
  ApiKeysCreateCommand,
  ApiKeysListCommand,
  ApiKeysRevokeCommand,
];
