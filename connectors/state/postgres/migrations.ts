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
  {
    version: 3,
    name: 'bus log: one row per batch (sluice_bus_batches), sluice_bus_events becomes a per-event view',
    // One row per resource per append chunk: the events with seqs first_seq..last_seq as one JSON array, each event
    // as the bus stores it (everything but resource and seq, position included). Large arrays are compressed with lz4
    // where the server has it (8x smaller, and less state-DB CPU than storing them raw: less to write to TOAST and WAL);
    // otherwise stored out of line uncompressed (pglz costs ~40% more state-DB CPU per append). Existing events become
    // one-event batches with their position folded into the event; the view sluice_bus_events keeps a per-event view.
    sql: `
      create table sluice_bus_batches (
        resource text not null,
        first_seq bigint not null,
        last_seq bigint not null,
        source text not null,
        appended_at timestamptz not null default now(),
        events json not null,
        primary key (resource, first_seq),
        check (last_seq >= first_seq)
      );
      do $lz4$
      begin
        alter table sluice_bus_batches alter column events set compression lz4;
      exception when feature_not_supported then -- a server built without lz4
        alter table sluice_bus_batches alter column events set storage external;
      end $lz4$;
      insert into sluice_bus_batches (resource, first_seq, last_seq, source, appended_at, events)
        select e.resource, e.seq, e.seq, e.source, e.appended_at,
               json_build_array((
                 select json_object_agg(f.k, f.v order by f.o)
                   from (select k, v, o from json_each(e.event) with ordinality as j(k, v, o)
                         union all select 'position', to_json(e.position), 9223372036854775807) f))
          from sluice_bus_events e;
      drop table sluice_bus_events;
      -- One-message appends (PostgresBus): lock the source's row and the heads of the resources (in name order) and
      -- check that they are where this writer last left them; SQLSTATE SLB01 when another writer moved them.
      create procedure sluice_bus_expect(p_source text, p_position text, p_resources text[], p_heads bigint[])
      language plpgsql as $proc$
      begin
        perform from sluice_bus_sources where source = p_source and position = p_position for update;
        if not found then
          raise exception 'bus source % is not at position %', p_source, p_position using errcode = 'SLB01';
        end if;
        if array(select seq from sluice_bus_heads where resource = any(p_resources)
                  order by resource collate "C" for update) is distinct from p_heads then
          raise exception 'bus heads of % moved', p_resources using errcode = 'SLB01';
        end if;
      end $proc$;
      create view sluice_bus_events as
        select b.resource, b.first_seq + x.n - 1 as seq, b.source, x.event->>'position' as position, x.event,
               b.appended_at
          from sluice_bus_batches b
          cross join lateral json_array_elements(b.events) with ordinality as x(event, n);
    `,
  },
  {
    version: 4,
    name: 'bus log: compact batch rows (names and transaction values once per row); sluice_bus_events decodes both formats',
    // PostgresBus writes a row's events as {"v":2, "keys":[…], "cols":[…], "tx":[[commitTs, txId, schemaVersion], …],
    // "ev":[[op, position, tx, key, before, after, unchanged], …]} (connectors/bus/postgres/row-codec.ts says what each
    // slot holds); rows written before stay arrays of event objects. These functions decode both for SQL: the
    // per-event view and the subscription lag gauge.
    sql: `
      -- a row image: an array aligned with names, or an object (or null) as it is
      create function sluice_bus_image(names jsonb, v jsonb) returns jsonb
      language sql immutable as $f$
        select case when jsonb_typeof(v) = 'array'
          then coalesce((select jsonb_object_agg(n.name, v -> (n.i::int - 1))
                           from jsonb_array_elements_text(names) with ordinality as n(name, i)), '{}'::jsonb)
          else v end
      $f$;
      -- one event of a compact row (h: the row) as the event object
      create function sluice_bus_unpack(h jsonb, e jsonb) returns jsonb
      language sql immutable as $f$
        select jsonb_build_object(
                 'op', e -> 0, 'position', e -> 1,
                 'commitTs', h -> 'tx' -> (e ->> 2)::int -> 0, 'txId', h -> 'tx' -> (e ->> 2)::int -> 1,
                 'schemaVersion', h -> 'tx' -> (e ->> 2)::int -> 2,
                 'key', case when e -> 3 = '1'
                          then (select coalesce(jsonb_object_agg(k, a -> k), '{}'::jsonb)
                                  from jsonb_array_elements_text(h -> 'keys') k)
                          else sluice_bus_image(h -> 'keys', e -> 3) end)
          || case when coalesce(e -> 4, '0') = '0' then '{}' else jsonb_build_object('before', sluice_bus_image(h -> 'cols', e -> 4)) end
          || case when coalesce(e -> 5, '0') = '0' then '{}' else jsonb_build_object('after', a) end
          || case when coalesce(e -> 6, '0') = '0' then '{}' else jsonb_build_object('unchanged', e -> 6) end
          from (select sluice_bus_image(h -> 'cols', e -> 5) as a) x
      $f$;
      -- the events of a row's events value, numbered from 1, as objects (either format)
      create function sluice_bus_row_events(events json) returns table (n bigint, event jsonb)
      language sql immutable as $f$
        select x.n, case when jsonb_typeof(r.j) = 'array' then x.e else sluice_bus_unpack(r.j, x.e) end
          from (select events::jsonb as j offset 0) r
          cross join lateral jsonb_array_elements(case when jsonb_typeof(r.j) = 'array' then r.j else r.j -> 'ev' end)
                     with ordinality as x(e, n)
      $f$;
      -- the commit time of the row's event at index i (from 0), either format
      create function sluice_bus_commit_ts(events json, i integer) returns timestamptz
      language sql stable as $f$
        select (case when json_typeof(events) = 'array' then events -> i ->> 'commitTs'
                     else events -> 'tx' -> (events -> 'ev' -> i ->> 2)::int ->> 0 end)::timestamptz
      $f$;
      drop view sluice_bus_events;
      create view sluice_bus_events as
        select b.resource, b.first_seq + x.n - 1 as seq, b.source, x.event ->> 'position' as position, x.event,
               b.appended_at
          from sluice_bus_batches b
          cross join lateral sluice_bus_row_events(b.events) as x;
    `,
  },
  {
    version: 5,
    name: 'runtime classifications, field usage counters, quality reports, versioned subscription secrets',
    sql: `
      -- a provider's classification of a column made at runtime (sluice classify): wins over the config until cleared
      create table sluice_classifications (
        resource text not null,
        "column" text not null,
        classification jsonb not null,
        classified_by text,
        classified_at timestamptz not null default now(),
        primary key (resource, "column")
      );
      -- deliveries of each field to a subscription (the maxDeliveries condition), counted with the delivery record
      create table sluice_field_usage (
        subscription text not null,
        field text not null,
        deliveries bigint not null,
        primary key (subscription, field)
      );
      -- the latest data-quality report of each resource per source (scan, stream); no raw values, keys hashed
      -- per-subscription secrets by kind (hash: HMAC key; encrypt: AES data key) and version; rotation adds a version.
      -- The data key's wrapping for the subscriber's X25519 key is stored once per version (re-created manifests match).
      create table sluice_subscription_secrets (
        subscription text not null,
        kind text not null check (kind in ('hash', 'encrypt')),
        version integer not null,
        secret bytea not null,
        recipient text,
        wrapped jsonb,
        created_at timestamptz not null default now(),
        primary key (subscription, kind, version)
      );
      insert into sluice_subscription_secrets (subscription, kind, version, secret, created_at)
        select subscription, 'hash', 1, hmac_key, created_at from sluice_subscription_keys;
      drop table sluice_subscription_keys;
      -- the secret versions an intent was started with: a re-creation after a crash uses them, not the current ones
      alter table sluice_intents add column keys jsonb;
      create table sluice_quality_reports (
        resource text not null,
        source text not null,
        report jsonb not null,
        primary key (resource, source)
      );
    `,
  },
  {
    version: 6,
    name: 'subscriptions as the engine has seen them: fields asked for, a backfill still to request',
    sql: `
      -- a subscription the engine has started: the fields it asks for (a field added later is backfilled) and a
      -- backfill not yet handed to its source (a new subscription on a resource that has data, added fields)
      create table sluice_subscriptions (
        subscription text primary key,
        resource text not null,
        fields jsonb not null,
        backfill text,
        started_seq bigint not null,
        created_at timestamptz not null default now()
      );
    `,
  },
  {
    version: 7,
    name: "sluice_bus_events shows a backfill row's target subscription",
    // the fourth element of a compact row's tx tuple (row-codec.ts): the subscription a backfill's rows are for
    sql: `
      create or replace function sluice_bus_unpack(h jsonb, e jsonb) returns jsonb
      language sql immutable as $f$
        select jsonb_build_object(
                 'op', e -> 0, 'position', e -> 1,
                 'commitTs', t -> 0, 'txId', t -> 1, 'schemaVersion', t -> 2,
                 'key', case when e -> 3 = '1'
                          then (select coalesce(jsonb_object_agg(k, a -> k), '{}'::jsonb)
                                  from jsonb_array_elements_text(h -> 'keys') k)
                          else sluice_bus_image(h -> 'keys', e -> 3) end)
          || case when t -> 3 is null then '{}' else jsonb_build_object('target', t -> 3) end
          || case when coalesce(e -> 4, '0') = '0' then '{}' else jsonb_build_object('before', sluice_bus_image(h -> 'cols', e -> 4)) end
          || case when coalesce(e -> 5, '0') = '0' then '{}' else jsonb_build_object('after', a) end
          || case when coalesce(e -> 6, '0') = '0' then '{}' else jsonb_build_object('unchanged', e -> 6) end
          from (select sluice_bus_image(h -> 'cols', e -> 5) as a, h -> 'tx' -> (e ->> 2)::int as t) x
      $f$;
    `,
  },
  {
    version: 8,
    name: "operators' runtime overrides of subscription settings",
    sql: `
      -- an operator's change to one setting of a subscription at runtime (sluice fields): wins over the config
      create table sluice_subscription_overrides (
        subscription text not null,
        setting text not null,
        value jsonb not null,
        set_by text,
        set_at timestamptz not null,
        primary key (subscription, setting)
      );
    `,
  },
  {
    version: 9,
    name: 'exchange cycles: the last run of each subscription and the next tick its schedule expects',
    sql: `
      -- instants as ISO 8601 text, as the engine writes them (like sluice_cursors.last_tick)
      create table sluice_cycle_state (
        subscription text primary key,
        last_run jsonb,
        next_due text
      );
    `,
  },
  {
    version: 10,
    name: 're-deliveries: an open intent of each kind per subscription, delivery records naming what they re-deliver',
    sql: `
      alter table sluice_intents add column kind text not null default 'cycle';
      alter table sluice_intents add column redelivery_of jsonb;
      alter table sluice_intents drop constraint sluice_intents_pkey;
      alter table sluice_intents add primary key (subscription, kind);
      alter table sluice_deliveries add column redelivery_of jsonb;
    `,
  },
  {
    version: 11,
    name: 'bus retention: how far each resource has been trimmed',
    sql: `alter table sluice_bus_heads add column trimmed bigint not null default 0;`,
  },
  {
    version: 12,
    name: 'feeds: the dead-letter store (events a webhook did not take, and the later events of their keys)',
    sql: `
      create table sluice_dead_letters (
        subscription text not null,
        seq bigint not null,
        event_id text not null,
        key text not null,
        body text not null,
        state text not null check (state in ('failed', 'waiting')),
        attempts integer not null,
        error text,
        parked_at text not null,
        primary key (subscription, seq)
      );
    `,
  },
  {
    version: 13,
    name: 'the delivery log: one leaf per delivery (in its transaction) and per operator action, dense indexes',
    sql: `
      create table sluice_log (
        idx bigint primary key,
        leaf text not null,
        kind text not null check (kind in ('delivery', 'action')),
        subscription text,
        delivery_id text,
        appended_at timestamptz not null default now()
      );
      alter table sluice_deliveries add column log_index bigint;
    `,
  },
  {
    version: 14,
    name: 'the delivery log: checkpoints anchored on chain',
    sql: `
      create table sluice_checkpoints (
        size bigint primary key,
        root text not null,
        chain_id bigint not null,
        contract text not null,
        tx_hash text not null,
        block_number bigint not null,
        anchored_at text not null
      );
    `,
  },
];
