import { PgoutputPlugin } from 'pg-logical-replication';

type Column = { parser: (v: string) => unknown };
type ParserInternals = { readRelationColumn: (reader: unknown) => Column };

/**
 * pgoutput with every value kept as the server's text. pg-logical-replication 2.5.0 binds pg-types parsers to the
 * columns while it parses a Relation message — before our handler sees it — and those turn timestamptz into a JS
 * Date (ms) and would turn int8 into a double under other pg settings. Replacing the parser where the column is
 * read (the pinned 2.5.0 internals) keeps int8/numeric exact and timestamps at µs. The change-stream issue replaces
 * this library with a decoder of our own.
 */
export class RawTextPgoutputPlugin extends PgoutputPlugin {
  constructor(options: ConstructorParameters<typeof PgoutputPlugin>[0]) {
    super(options);
    const internals = (this as unknown as { parser: ParserInternals }).parser;
    const read = internals.readRelationColumn.bind(internals);
    if (typeof read !== 'function')
      throw new Error('pg-logical-replication internals changed: readRelationColumn missing');
    internals.readRelationColumn = (reader) => ({ ...read(reader), parser: (v: string) => v });
  }
}
