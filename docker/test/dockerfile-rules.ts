import { DockerfileParser, Instruction } from 'dockerfile-ast';

export interface Stage {
  name: string | null;
  image: string;
  instructions: Instruction[];
}

const SECRET_NAME =
  /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_KEY|CREDENTIALS?|DATABASE_URL|REDIS_URL)/i;

/** Splits a Dockerfile into its stages, each with the instructions that follow its FROM. */
export function parseStages(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const args = instruction.getArguments().map((a) => a.getValue());
      const asIndex = args.findIndex((a) => a.toUpperCase() === 'AS');
      const positional = args.filter((a) => !a.startsWith('--'));
      stages.push({
        image: positional[0] ?? '',
        name: asIndex >= 0 ? (args[asIndex + 1] ?? null) : null,
        instructions: [],
      });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  return stages;
}

const content = (i: Instruction): string => i.getArgumentsContent() ?? '';
const flagValue = (i: Instruction, flag: string): string | undefined =>
  new RegExp(`(?:^|\\s)--${flag}=(\\S+)`).exec(i.toString())?.[1];

/**
 * What the last npm install of a stage (or of the stages it is built FROM) left behind:
 * `npm ci` replaces node_modules, so only the last one counts.
 */
function lastNpmInstall(stage: Stage, byName: Map<string, Stage>): 'production' | 'full' | 'none' {
  for (const i of [...stage.instructions].reverse()) {
    if (i.getKeyword() !== 'RUN') continue;
    const commands = content(i).split(/&&|;|\|\|/);
    for (const cmd of commands.reverse()) {
      if (/\bnpm (ci|install|i|prune)\b/.test(cmd))
        return /--omit=dev|--production\b/.test(cmd) ? 'production' : 'full';
    }
  }
  const parent = byName.get(stage.image);
  return parent ? lastNpmInstall(parent, byName) : 'none';
}

/**
 * The rules that matter for Quarry's image. Returns one message per broken rule, so a
 * test can show all of them at once.
 */
export function dockerfileViolations(text: string): string[] {
  const problems: string[] = [];
  const stages = parseStages(text);
  if (stages.length < 2) problems.push('not a multi-stage build');
  const byName = new Map(stages.filter((s) => s.name).map((s) => [s.name as string, s]));

  // Pinned bases: an exact version tag (or a digest), never latest or a floating major.
  for (const stage of stages) {
    if (byName.has(stage.image)) continue;
    const pinned =
      /@sha256:[a-f0-9]{64}$/.test(stage.image) || /:v?\d+\.\d+\.\d+[\w.-]*$/.test(stage.image);
    if (!pinned || /:latest\b/.test(stage.image))
      problems.push(`base image not pinned: ${stage.image}`);
  }

  // No secret baked into any layer through ENV or ARG, and no .env copied in.
  for (const stage of stages) {
    for (const i of stage.instructions) {
      const kw = i.getKeyword();
      if (kw === 'ENV' || kw === 'ARG') {
        for (const m of content(i).matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*=?/g)) {
          if (SECRET_NAME.test(m[1])) problems.push(`${kw} ${m[1]} looks like a secret`);
        }
      }
      if ((kw === 'COPY' || kw === 'ADD') && /(^|\s|\/)\.env(\.|\s|$)/.test(content(i))) {
        problems.push(`${kw} copies an .env file`);
      }
    }
  }

  const final = stages[stages.length - 1];
  if (!final) return ['no FROM'];

  // Non-root: the last USER of the final stage names neither root nor uid 0.
  const users = final.instructions.filter((i) => i.getKeyword() === 'USER');
  const user = users.length
    ? content(users[users.length - 1])
        .split(':')[0]
        .trim()
    : 'root';
  if (user === 'root' || user === '0') problems.push(`final stage runs as ${user}`);

  // An init process as PID 1 forwards SIGTERM so the graceful drain can run.
  const entrypoint = final.instructions.filter((i) => i.getKeyword() === 'ENTRYPOINT').pop();
  if (!entrypoint || !/tini|dumb-init/.test(content(entrypoint)))
    problems.push('no init process as ENTRYPOINT');

  if (!final.instructions.some((i) => i.getKeyword() === 'HEALTHCHECK'))
    problems.push('no HEALTHCHECK');

  // Runtime dependencies: node_modules in the final image must come from a stage that
  // installed production dependencies only, and no dev install may run in the final stage.
  for (const i of final.instructions) {
    if (
      i.getKeyword() === 'RUN' &&
      /\bnpm (ci|install|i)\b/.test(content(i)) &&
      !/--omit=dev/.test(content(i))
    ) {
      problems.push('final stage installs dev dependencies');
    }
    if (i.getKeyword() === 'COPY' && /node_modules/.test(content(i))) {
      const from = flagValue(i, 'from');
      const source = from ? byName.get(from) : undefined;
      if (!source || lastNpmInstall(source, byName) !== 'production') {
        problems.push(
          `node_modules copied from ${from ?? 'the build context'}, not a production-only install`,
        );
      }
    }
  }
  return problems;
}
