import { readFileSync } from 'node:fs';
import type { Application, DenialReason, FieldPolicy, MaskingPolicy } from '../rules/decision.ts';

/** The language-neutral example table (engine/rules/decision-examples.json) the evaluator and the contract share. */
export interface DecisionExampleFile {
  description: string;
  version: number;
  reasons: string[];
  strictness: string[];
  groups: {
    description: string;
    policy: MaskingPolicy;
    fields: Record<string, FieldPolicy>;
    examples: {
      name: string;
      application: Application;
      usage?: Record<string, number>;
      expected: {
        granted: { name: string; strategy: string }[];
        denied: { field: string; index: number; reason: DenialReason }[];
      };
    }[];
  }[];
}

/** The table's content. */
export const DECISION_EXAMPLES = JSON.parse(
  readFileSync(new URL('../rules/decision-examples.json', import.meta.url), 'utf8'),
) as DecisionExampleFile;
