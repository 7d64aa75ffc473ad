import test from 'ava';
import { readFileSync } from 'node:fs';
import { ARTIFACTS, artifactsSource, compileContracts } from './build.ts';

test('contracts/artifacts.ts is what solc-js makes of contracts/*.sol (npm run contracts)', (t) => {
  const compiled = compileContracts();
  t.deepEqual(Object.keys(compiled).sort(), ['DeliveryAnchor', 'SharingPolicy']);
  t.is(readFileSync(ARTIFACTS, 'utf8'), artifactsSource(compiled), 'stale: run npm run contracts');
});
