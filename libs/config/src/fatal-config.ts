import { ConfigError, loadConfig, LoadConfigOptions } from './load-config';
import { QuarryConfig } from './quarry-config';

/**
 * Loads the configuration for a process entry point. A bad value ends the process
 * with one line on stderr that names the variable, before anything starts. Entry points
 * call it before importing the framework, so a bad value fails in milliseconds.
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
