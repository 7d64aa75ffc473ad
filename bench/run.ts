/** `npm run bench`: every benchmark, figures as medians and ratios against references measured in the same run. */
await import('./commit-to-parquet.ts').then(async (m) => {
  const r = await m.benchCommitToParquet();
  console.log(JSON.stringify(r, null, 2));
});
