/**
 * Whichever file of the queue lib is loaded first, the health indicator must receive the
 * Redis client's token: with the tokens in the module file, loading the module first left
 * the indicator's parameter undefined.
 */
describe('queue injection tokens', () => {
  it.each(['./queue.module', './queue.health', './index'])(
    'reach the health indicator when %s is loaded first',
    (first) => {
      jest.isolateModules(() => {
        require(first);
        const { QueueHealthIndicator } = require('./queue.health');
        const { CLIENT_REDIS } = require('./queue.tokens');
        const injected = Reflect.getMetadata('self:paramtypes', QueueHealthIndicator) as Array<{
          index: number;
          param: unknown;
        }>;
        expect(injected).toEqual([{ index: 1, param: CLIENT_REDIS }]);
        expect(typeof CLIENT_REDIS).toBe('symbol');
      });
    },
  );
});
