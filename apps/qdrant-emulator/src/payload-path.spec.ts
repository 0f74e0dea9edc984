import { omitPaths, pickPaths } from './payload-path';

const payload = {
  city: 'Berlin',
  country: {
    name: 'Germany',
    cities: [
      { name: 'Berlin', population: 3.7 },
      { name: 'Hamburg', population: 1.8 },
    ],
  },
  tags: ['a', 'b'],
};

describe('payload selectors', () => {
  it('includes paths through arrays, keeping the shape', () => {
    expect(pickPaths(payload, ['country.cities[].name'])).toEqual({
      country: { cities: [{ name: 'Berlin' }, { name: 'Hamburg' }] },
    });
    expect(pickPaths(payload, ['country.cities[].name', 'country.cities[].population'])).toEqual({
      country: { cities: payload.country.cities },
    });
    expect(pickPaths(payload, ['tags[1]', 'city', 'missing.key'])).toEqual({
      tags: ['b'],
      city: 'Berlin',
    });
  });

  it('excludes paths through arrays without touching the stored payload', () => {
    const copy = structuredClone(payload);
    expect(omitPaths(payload, ['country.cities[].population', 'tags'])).toEqual({
      city: 'Berlin',
      country: { name: 'Germany', cities: [{ name: 'Berlin' }, { name: 'Hamburg' }] },
    });
    expect(payload).toEqual(copy);
  });
});
