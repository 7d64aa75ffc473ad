/**
 * `npm run bench`: every benchmark, figures as medians and ratios against references measured in the same run.
 *
 *   npm run bench                  # all: parquet, drain, rules, snapshot, writer, feed
 *   npm run bench -- drain         # only the named ones (parquet = commit-to-parquet.ts, drain = pg-drain.ts,
 *                                  # rules = rules.ts: rule evaluation per core, per strategy, 1 vs 100 subscriptions;
 *                                  # snapshot = snapshot.ts: a 5M-row table to Parquet beside COPY TO STDOUT;
 *                                  # writer = writer.ts: our Parquet writer vs DuckDB COPY, 1 thread and default;
 *                                  # feed = feed.ts: commit → receipt latency for NATS and webhooks, max feed rate)
 *
 * Each benchmark documents its own settings (BENCH_* environment variables) at the top of its file.
 */
import { benchCommitToParquet, printCommitToParquet } from './commit-to-parquet.ts';
import { benchFeed, printFeed } from './feed.ts';
import { benchPgDrain, printPgDrain } from './pg-drain.ts';
import { benchRules, printRules } from './rules.ts';
import { benchSnapshot, printSnapshot } from './snapshot.ts';
import { benchWriter, printWriter } from './writer.ts';

const BENCHMARKS: Record<string, () => Promise<void>> = {
  parquet: async () => printCommitToParquet(await benchCommitToParquet()),
  drain: async () => printPgDrain(await benchPgDrain()),
  rules: async () => printRules(await benchRules()),
  snapshot: async () => printSnapshot(await benchSnapshot()),
  writer: async () => printWriter(await benchWriter()),
  feed: async () => printFeed(await benchFeed()),
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((n) => !(n in BENCHMARKS));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; choose from: ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(BENCHMARKS)) await BENCHMARKS[name]!();
