import { parseUpsertBody } from './upsert-body-parser';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** What the JSON.parse path stores: the parsed value, each vector as a Float32Array. */
function reference(text: string) {
  const value = JSON.parse(text) as {
    points: Array<{ id: unknown; vector: number[]; payload?: unknown }>;
  };
  return value.points.map((p) => ({ ...p, vector: Float32Array.from(p.vector) }));
}

/** Parses with the specialised parser and checks it against JSON.parse, bit for bit. */
function expectSameAsJsonParse(text: string, ids?: unknown[]) {
  const parsed = parseUpsertBody(Buffer.from(text));
  expect(parsed).not.toBeNull();
  const points = parsed?.points ?? [];
  const expected = reference(text);
  expect(points).toHaveLength(expected.length);
  points.forEach((point, i) => {
    expect(point.id).toEqual(ids ? ids[i] : expected[i].id);
    expect(point.payload).toEqual(expected[i].payload);
    expect(point.vector).toBeInstanceOf(Float32Array);
    const want = expected[i].vector;
    expect(point.vector.length).toBe(want.length);
    for (let d = 0; d < want.length; d++) {
      // Object.is: -0 and 0 differ, as they do in the stored float32 bits.
      if (!Object.is(point.vector[d], want[d])) {
        throw new Error(`point ${i} component ${d}: got ${point.vector[d]}, want ${want[d]}`);
      }
    }
  });
}

describe('parseUpsertBody', () => {
  it('reads the points form exactly as JSON.parse and a Float32Array would', () => {
    expectSameAsJsonParse(
      JSON.stringify({
        points: [
          { id: 1, vector: [0.1, -0.2, 3, -4.5e-3], payload: { n: 1, group: 'a' } },
          { id: 2, vector: [1e-7, -1.5e10, 0, -0], payload: null },
          { id: 3, vector: [0.30000000000000004, 5e-324, 1e300] },
        ],
      }),
    );
    // More digits than a double holds, written out (a literal would be rounded first).
    expectSameAsJsonParse(
      '{"points":[{"id":4,"vector":[123456789.123456789123,-0.1234567890123456789012345]}]}',
    );
    expectSameAsJsonParse('{"points":[]}');
  });

  it('accepts any JSON whitespace between tokens', () => {
    expectSameAsJsonParse(
      ' \n{ "points" :\t[ {\r\n "id" : 7 , "vector" : [ 1 ,\n-2.5 , 3E2 ] , "payload" : { "a" : [ 1 , 2 ] } } ] }\n ',
    );
  });

  it('reads negative, exponent and long-mantissa numbers bit-exactly, ties included', () => {
    const next = rng(7);
    const texts: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const sign = next() < 0.5 ? '-' : '';
      const r = next();
      switch (i % 8) {
        case 0: // what JavaScript prints for k / 2^31 - 1: often exactly a float32 midpoint
          texts.push(String(Math.floor(next() * 2 ** 31) / 2 ** 31 - 1));
          break;
        case 1: // a float32 midpoint, and its neighbours one double ulp away
          {
            const f = Math.fround(r);
            const mid = (f + Math.fround(f * (1 + 2 ** -23))) / 2;
            const step = [0, 1, -1][i % 3] * mid * 2 ** -53;
            texts.push(sign + String(mid + step));
          }
          break;
        case 2:
          texts.push(sign + r.toExponential(Math.floor(next() * 20)));
          break;
        case 3:
          texts.push(`${sign}${Math.floor(r * 1e6)}e${Math.floor(next() * 90) - 45}`);
          break;
        case 4: // more digits than a double holds
          texts.push(`${sign}0.${String(r).slice(2)}${Math.floor(next() * 1e15)}`);
          break;
        case 5:
          texts.push(`${sign}${Math.floor(r * 1e12)}.${Math.floor(next() * 1e9)}E+${i % 7}`);
          break;
        case 6: // float32 extremes: subnormals, the largest finite, overflow to Infinity
          texts.push(sign + ['1e-45', '1.4e-45', '3.4028235e38', '3.5e38', '1e39', '1e-46'][i % 6]);
          break;
        default:
          texts.push(sign + String(Math.fround(r * 10 ** (Math.floor(next() * 20) - 10))));
      }
    }
    for (let start = 0; start < texts.length; start += 1000) {
      const vector = texts.slice(start, start + 1000).join(',');
      expectSameAsJsonParse(`{"points":[{"id":${start},"vector":[${vector}]}]}`);
    }
  });

  it('keeps unicode payloads and canonicalises UUID ids; takes huge integer ids up to 2^53 - 1', () => {
    const text = JSON.stringify({
      points: [
        {
          id: '550E8400-E29B-41D4-A716-446655440000',
          vector: [1, 2],
          payload: { title: '한국어 문서 — ünïcödé ✓ 😀', nested: { s: 'a"b\\c}', list: ['}'] } },
        },
        { id: '{550e8400-e29b-41d4-a716-446655440001}', vector: [1, 2] },
        { id: 'urn:uuid:550e8400e29b41d4a716446655440002', vector: [1, 2] },
        { id: Number.MAX_SAFE_INTEGER, vector: [1, 2] },
        { id: 0, vector: [1, 2], payload: {} },
      ],
    });
    expectSameAsJsonParse(text, [
      '550e8400-e29b-41d4-a716-446655440000',
      '550e8400-e29b-41d4-a716-446655440001',
      '550e8400-e29b-41d4-a716-446655440002',
      Number.MAX_SAFE_INTEGER,
      0,
    ]);
    // Escapes inside payload strings, and the payload's own JSON.parse for \u escapes.
    expectSameAsJsonParse(
      '{"points":[{"id":1,"vector":[1],"payload":{"k\\u00e9":"\\ud83d\\ude00\\n"}}]}',
    );
  });

  it('leaves every other body to the general path (returns null)', () => {
    const declined = [
      // not the plain points form
      '{"batch":{"ids":[1],"vectors":[[1,2]]}}',
      '{"points":[{"id":1,"vector":{"a":[1,2]}}]}',
      '{"points":[{"id":1,"vector":{"indices":[1],"values":[0.5]}}]}',
      '{"points":[{"id":1,"vector":[[1,2],[3,4]]}]}',
      '{"points":[{"id":1,"vector":[]}]}',
      '{"points":[{"id":1,"vector":[1,null]}]}',
      '{"points":[{"id":1,"vector":[1,"2"]}]}',
      '{"points":[{"id":1,"vector":[1,2]}],"shard_key":"a"}',
      '{"points":[{"id":1,"vector":[1,2],"vectors":[1]}]}',
      '{"points":[{"vector":[1,2]}]}',
      '{"points":[{"id":1}]}',
      '{"points":[{}]}',
      '{}',
      '[]',
      'null',
      '',
      // what needs an error message from the general path
      '{"points":[{"id":-1,"vector":[1]}]}',
      '{"points":[{"id":1.5,"vector":[1]}]}',
      '{"points":[{"id":1.0,"vector":[1]}]}',
      '{"points":[{"id":1e3,"vector":[1]}]}',
      '{"points":[{"id":9007199254740992,"vector":[1]}]}',
      '{"points":[{"id":18446744073709551615,"vector":[1]}]}',
      '{"points":[{"id":"not-a-uuid","vector":[1]}]}',
      '{"points":[{"id":"550e8400-e29b-41d4-a716-44665544000\\u0030","vector":[1]}]}',
      '{"points":[{"id":true,"vector":[1]}]}',
      '{"points":[{"id":1,"vector":[1],"payload":[1]}]}',
      '{"points":[{"id":1,"vector":[1],"payload":"x"}]}',
      '{"points":[{"id":1,"vector":[1],"payload":{"a":}}]}',
      // duplicate keys (JSON.parse keeps the last one)
      '{"points":[{"id":1,"id":2,"vector":[1]}]}',
      '{"points":[{"id":1,"vector":[1],"vector":[2]}]}',
      '{"points":[{"id":1,"vector":[1],"payload":null,"payload":{}}]}',
      '{"points":[],"points":[]}',
      '{"p\\u006fints":[]}',
      // malformed JSON
      '{"points":[{"id":1,"vector":[01]}]}',
      '{"points":[{"id":1,"vector":[1.]}]}',
      '{"points":[{"id":1,"vector":[.5]}]}',
      '{"points":[{"id":1,"vector":[+1]}]}',
      '{"points":[{"id":1,"vector":[-]}]}',
      '{"points":[{"id":1,"vector":[1e]}]}',
      '{"points":[{"id":1,"vector":[1e+]}]}',
      '{"points":[{"id":1,"vector":[1,]}]}',
      '{"points":[{"id":1,"vector":[1 2]}]}',
      '{"points":[{"id":1,"vector":[NaN]}]}',
      '{"points":[{"id":1,"vector":[Infinity]}]}',
      '{"points":[{"id":1,"vector":[0x10]}]}',
      '{"points":[{"id":01,"vector":[1]}]}',
      '{"points":[{"id":1,"vector":[1]},]}',
      '{"points":[{"id":1,"vector":[1]}]}x',
      '{"points":[{"id":1,"vector":[1]}]',
      "{'points':[]}",
      '\ufeff{"points":[]}',
      '{"points":[{"id":"550e8400-e29b-41d4-a716-446655440000\n","vector":[1]}]}',
    ];
    for (const text of declined) {
      if (parseUpsertBody(Buffer.from(text)) !== null) throw new Error(`accepted: ${text}`);
    }
  });

  it('declines every truncation of a valid body', () => {
    const text = JSON.stringify({
      points: [
        { id: 12, vector: [-0.125, 3e-5, 42], payload: { a: 'x}', b: [1, { c: null }] } },
        { id: '550e8400-e29b-41d4-a716-446655440000', vector: [1.5, -2, 0] },
      ],
    });
    expectSameAsJsonParse(text);
    for (let end = 0; end < text.length; end++) {
      const cut = text.slice(0, end);
      if (parseUpsertBody(Buffer.from(cut)) !== null) throw new Error(`accepted: ${cut}`);
    }
  });

  it('accepts a mutated body only when JSON.parse reads the same from it', () => {
    const next = rng(11);
    const base = JSON.stringify({
      points: Array.from({ length: 4 }, (_, i) => ({
        id: i * 7,
        vector: [i - 1.5, 0.25, -3e-3, 1e2],
        payload: { n: i, s: 'é"\\' },
      })),
    });
    const alphabet = '0123456789-+.eE,:[]{}" \nnul\\x';
    let accepted = 0;
    for (let round = 0; round < 3000; round++) {
      const chars = [...base];
      const edits = 1 + Math.floor(next() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(next() * chars.length);
        const c = alphabet[Math.floor(next() * alphabet.length)];
        const kind = next();
        if (kind < 0.4) chars[at] = c;
        else if (kind < 0.7) chars.splice(at, 1);
        else chars.splice(at, 0, c);
      }
      const text = chars.join('');
      const parsed = parseUpsertBody(Buffer.from(text));
      if (parsed === null) continue;
      accepted++;
      // Anything accepted must be valid JSON of the plain form, read the same way.
      expectSameAsJsonParse(text);
    }
    // The mutations must also produce accepted bodies, or this test proves nothing.
    expect(accepted).toBeGreaterThan(100);
  });
});
