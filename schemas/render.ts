import { configJsonSchema } from './config.ts';
import { manifestJsonSchema } from './manifest.ts';

/** File name → JSON text of every generated schema (what `npm run schemas` writes). */
export function renderSchemas(): Record<string, string> {
  return {
    'config.schema.json': JSON.stringify(configJsonSchema(), null, 2) + '\n',
    'manifest.schema.json': JSON.stringify(manifestJsonSchema(), null, 2) + '\n',
  };
}
