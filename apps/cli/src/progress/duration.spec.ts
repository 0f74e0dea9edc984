import { formatAge, parseDuration } from './duration';

describe('parseDuration', () => {
  it.each([
    ['1h', 3_600_000],
    ['30m', 1_800_000],
    ['90s', 90_000],
    ['1500ms', 1_500],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['45', 45_000],
    ['0.5s', 500],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'soon', '1 hour', '1h-', 'h', '-5m'])('refuses %p', (text) => {
    expect(() => parseDuration(text)).toThrow(/is not a duration/);
  });
});

describe('formatAge', () => {
  it.each([
    [null, '-'],
    [250, '250ms'],
    [59_000, '59s'],
    [61_000, '1m1s'],
    [3_600_000, '1h'],
    [5_460_000, '1h31m'],
  ])('%p ms reads %s', (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });
});
