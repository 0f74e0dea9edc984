import { ConfigError, loadConfig, LoadConfigOptions, QuarryConfig } from '@quarry/config';

/**
 * Loads the configuration for a process entry point. A bad value ends the process
 * with one line on stderr that names the variable, before anything starts.
 */
export function loadConfigOrExit(options: LoadConfigOptions): QuarryConfig {
  try {
    return loadConfig(options);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
