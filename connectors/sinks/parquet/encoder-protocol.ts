import type { PartResult } from './parted-file.ts';
import type { StreamOptions } from './stream-writer.ts';
import type { QualityIssue } from './types.ts';

/** What the main thread asks the encoder thread (encode-worker.ts), per file being streamed. */
export type EncoderRequest = { id: number; file: number } & (
  | { op: 'create'; path: string; options: StreamOptions; partBytes?: number }
  | { op: 'group'; values: (string | null)[][]; rows: number }
  | { op: 'finish'; metadata: Record<string, string> }
  | { op: 'abort' }
);

export type EncoderReply =
  | { id: number; ok: true; issues?: QualityIssue[]; result?: { parts: PartResult[]; quality: QualityIssue[] } }
  | { id: number; ok: false; error: string; code?: string };
