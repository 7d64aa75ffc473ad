/** Writes schemas/*.schema.json from their TypeBox sources (`npm run schemas`). */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderSchemas } from '../../schemas/render.ts';

for (const [file, text] of Object.entries(renderSchemas())) {
  writeFileSync(fileURLToPath(new URL(`../../schemas/${file}`, import.meta.url)), text);
  console.log(`wrote schemas/${file}`);
}
