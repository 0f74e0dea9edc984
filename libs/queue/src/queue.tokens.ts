/*
 * Injection tokens of the queue module, in a file of their own: the module imports the
 * health indicator, and the indicator needs a token; were the tokens in the module file,
 * loading the module first would hand the indicator an undefined token.
 */

export const QUEUE_MODULE_OPTIONS = Symbol('QUEUE_MODULE_OPTIONS');
/** The shared ioredis connection the queues use. */
export const QUEUE_REDIS = Symbol('QUEUE_REDIS');
/** A second, non-blocking connection for health checks and ad-hoc commands. */
export const CLIENT_REDIS = Symbol('CLIENT_REDIS');
