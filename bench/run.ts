/** `npm run bench`: every benchmark, figures as medians and ratios against references measured in the same run. */
import { benchCommitToParquet, printCommitToParquet } from './commit-to-parquet.ts';

printCommitToParquet(await benchCommitToParquet());
