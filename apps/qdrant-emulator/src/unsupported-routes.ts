import { Router } from './http-router';
import { QdrantError } from './qdrant-error';

/** Endpoints of features the emulator leaves out, each answered with a 400 that says so. */
const UNSUPPORTED: Array<[string, string, string]> = [
  ['GET', '/cluster/telemetry', 'Cluster telemetry'],
  ['POST', '/cluster/recover', 'Cluster recovery'],
  ['DELETE', '/cluster/peer/{peer}', 'Removing a cluster peer'],
  ['GET', '/collections/{name}/cluster', 'Collection cluster information'],
  ['POST', '/collections/{name}/cluster', 'Collection cluster operations'],
  ['PUT', '/collections/{name}/shards', 'Creating shard keys'],
  ['GET', '/collections/{name}/shards', 'Listing shard keys'],
  ['POST', '/collections/{name}/shards/delete', 'Deleting shard keys'],
  ['GET', '/collections/{name}/shards/{shard}/snapshot', 'Shard snapshots'],
  ['GET', '/collections/{name}/shards/{shard}/snapshots', 'Shard snapshots'],
  ['POST', '/collections/{name}/shards/{shard}/snapshots', 'Shard snapshots'],
  ['POST', '/collections/{name}/shards/{shard}/snapshots/upload', 'Shard snapshots'],
  ['PUT', '/collections/{name}/shards/{shard}/snapshots/recover', 'Shard snapshots'],
  ['GET', '/collections/{name}/shards/{shard}/snapshots/{snapshot}', 'Shard snapshots'],
  ['DELETE', '/collections/{name}/shards/{shard}/snapshots/{snapshot}', 'Shard snapshots'],
  ['POST', '/collections/{name}/points/search/matrix/pairs', 'The distance matrix API'],
  ['POST', '/collections/{name}/points/search/matrix/offsets', 'The distance matrix API'],
];

export function unsupportedFeature(what: string): QdrantError {
  return QdrantError.badRequest(`${what} is not supported by the Qdrant emulator`);
}

export function registerUnsupportedRoutes(router: Router): void {
  for (const [method, path, what] of UNSUPPORTED) {
    router.add(method, path, () => {
      throw unsupportedFeature(what);
    });
  }
}
