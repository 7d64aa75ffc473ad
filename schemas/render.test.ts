import test from 'ava';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { renderSchemas } from './render.ts';

test('schemas/*.schema.json are generated from their TypeBox sources (run `npm run schemas` after a change)', (t) => {
  for (const [file, text] of Object.entries(renderSchemas())) {
    t.is(readFileSync(new URL(file, import.meta.url), 'utf8'), text, `${file} is stale`);
  }
});

test('the generated schemas are valid JSON Schema 2020-12', (t) => {
  const ajv = new Ajv2020({ strict: false });
  addFormats.default(ajv, ['date-time']);
  for (const text of Object.values(renderSchemas())) {
    t.notThrows(() => ajv.compile(JSON.parse(text)));
  }
});
