/**
 * Versioned migrations of the state database. Append only: never edit a released step, add a new one.
 * Applied in order inside one transaction under an advisory lock, recorded in sluice_migrations.
 */
export const MIGRATIONS: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'bus log, schemas, secrets, cursors, intents, deliveries',
    sql: `
      create table sluice_bus_sources (
        source text primary key,
        position text not null
      );
      create table sluice_bus_heads (
        resource text primary key,
        seq bigint not null
      );
      create table sluice_bus_events (
        resource text not null,
        seq bigint not null,
        source text not null,
        position text not null,
        event json not null,
        appended_at timestamptz not null default now(),
        primary key (resource, seq)
      );
      create table sluice_resource_schemas (
        resource text not null,
        version integer not null,
        shape jsonb not null,
        created_at timestamptz not null default now(),
        primary key (resource, version)
      );
      create table sluice_subscription_keys (
        subscription text primary key,
        hmac_key bytea not null,
        created_at timestamptz not null default now()
      );
      create table sluice_cursors (
        subscription text primary key,
        seq bigint not null,
        last_tick text
      );
      create table sluice_intents (
        subscription text primary key,
        resource text not null,
        tick text not null,
        window_from text,
        from_seq bigint not null,
        to_seq bigint not null,
        fields json not null,
        created_at timestamptz not null default now()
      );
      create table sluice_deliveries (
        id bigserial primary key,
        delivery_id text not null unique,
        subscription text not null,
        stem text not null,
        first_seq bigint not null,
        last_seq bigint not null,
        rows integer not null,
        manifest_sha256 text not null,
        parts jsonb not null,
        delivered_at timestamptz not null default now()
      );
      create index on sluice_deliveries (subscription, id);
    `,
  },
  {
    version: 2,
    name: 'source checkpoints stored with bus appends',
    sql: `alter table sluice_bus_sources add column checkpoint text;`,
  },
];
