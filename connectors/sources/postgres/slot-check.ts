import { SluiceError } from '../../../engine/errors.ts';
import { lsnToNumber } from './replication-stream.ts';

/** A row of pg_replication_slots, as read at start (columns that do not exist on the server's version are null). */
export interface SlotRow {
  plugin: string;
  confirmed: string | null;
  /** PG 13+: reserved / extended / unreserved / lost. */
  walStatus: string | null;
  /** PG 17+: why the slot was invalidated (wal_removed, rows_removed, wal_level_insufficient, idle_timeout). */
  invalidation: string | null;
}

export type SlotDecision =
  | { action: 'create' }
  | { action: 'resume'; warning?: string }
  /** Recovery an operator asked for: drop the slot (when there is one), create it anew, re-snapshot every resource. */
  | { action: 'recreate'; reason: string };

/**
 * Decides whether streaming may resume from the slot without losing anything the bus does not hold, given what the
 * bus stored from this provider: the last event position and the last checkpoint (what we were allowed to confirm).
 * Anything that would silently skip changes is refused with SLOT_INVALID and recovery steps.
 */
export function checkSlot(
  provider: string,
  slotName: string,
  slot: SlotRow | undefined,
  stored: { lastPosition: string | null; checkpoint: string | null },
  recover = false,
): SlotDecision {
  if (recover) {
    try {
      const decision = checkSlot(provider, slotName, slot, stored);
      if (decision.action === 'create') return decision;
    } catch (e) {
      return { action: 'recreate', reason: (e as Error).message };
    }
  }
  const resnapshot = `recover with \`sluice resnapshot <resource>\` while the engine runs, or start it with \`sluice run --recover-slot ${provider}\`: the slot is created anew and every resource of the provider re-snapshotted (subscribers get their current rows as _op = r, then the changes)`;
  const accept = `to accept the gap and stream from now on: select pg_drop_replication_slot('${slotName}'), then delete the bus checkpoint (update sluice_bus_sources set checkpoint = null, position = '' where source = '${provider}') and restart`;
  const delivered = stored.checkpoint ?? stored.lastPosition;
  if (!slot) {
    if (delivered === null) return { action: 'create' };
    throw new SluiceError(
      'SLOT_INVALID',
      `provider "${provider}": replication slot ${slotName} is missing, but changes from it are in the bus up to ${delivered}; changes made since then cannot be recovered from the WAL`,
      {
        details: {
          provider,
          slot: slotName,
          lastPosition: stored.lastPosition,
          checkpoint: stored.checkpoint,
          recovery: `${resnapshot}; to accept the gap and stream from now on, create the slot yourself: select pg_create_logical_replication_slot('${slotName}', 'pgoutput')`,
        },
      },
    );
  }
  if (slot.plugin !== 'pgoutput') {
    throw new SluiceError(
      'SLOT_INVALID',
      `provider "${provider}": replication slot ${slotName} uses plugin "${slot.plugin}", not pgoutput`,
      {
        details: {
          provider,
          slot: slotName,
          recovery: `drop it (select pg_drop_replication_slot('${slotName}')) and restart; then ${resnapshot}`,
        },
      },
    );
  }
  if (slot.walStatus === 'lost' || slot.invalidation) {
    throw new SluiceError(
      'SLOT_INVALID',
      `provider "${provider}": replication slot ${slotName} was invalidated by the server (${slot.invalidation ?? 'wal_status lost'}): the WAL it needed is gone, changes since ${slot.confirmed ?? 'its last position'} cannot be streamed`,
      {
        details: {
          provider,
          slot: slotName,
          walStatus: slot.walStatus,
          invalidation: slot.invalidation,
          recovery: `${resnapshot}; raise max_slot_wal_keep_size to keep it from happening again; ${accept}`,
        },
      },
    );
  }
  if (stored.checkpoint !== null && slot.confirmed !== null) {
    if (lsnToNumber(slot.confirmed) > lsnToNumber(stored.checkpoint)) {
      throw new SluiceError(
        'SLOT_INVALID',
        `provider "${provider}": replication slot ${slotName} is confirmed up to ${slot.confirmed}, beyond what the bus holds (${stored.checkpoint}): something else advanced it, and the changes in between would be skipped`,
        {
          details: {
            provider,
            slot: slotName,
            slotConfirmed: slot.confirmed,
            checkpoint: stored.checkpoint,
            recovery: `${resnapshot}; make sure no other program (pg_replication_slot_advance, another consumer) uses slot ${slotName}; ${accept}`,
          },
        },
      );
    }
  }
  if (stored.checkpoint === null && stored.lastPosition !== null) {
    return {
      action: 'resume',
      warning:
        'the bus holds events from this provider but no checkpoint (stored by an older version): the slot position cannot be verified this once',
    };
  }
  return { action: 'resume' };
}
