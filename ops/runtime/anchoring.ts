import { existsSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Gauge, type Registry } from 'prom-client';
import { ChainAnchor } from '../../contracts/anchor-client.ts';
import { Anchorer, type AnchorerStatus } from '../../engine/delivery-log/anchorer.ts';
import type { DeliveryLog } from '../../engine/delivery-log/delivery-log.ts';
import type { AnchorReceipt, Logger, StateStore } from '../../engine/ports/index.ts';
import type { ChainConfig } from '../../schemas/index.ts';
import { parseDuration } from '../config/duration.ts';

/** `<stem>.proof.json`: what `sluice verify` needs besides the manifest and the chain. */
export interface ProofFile {
  version: 1;
  logIndex: number;
  /** SHA-256(0x00 ‖ the manifest as RFC 8785 canonical JSON), hex. */
  leafHash: string;
  auditPath: string[];
  checkpoint: { size: number; root: string };
  anchor: { chainId: number; contract: string; txHash: string; blockNumber: number };
}

export interface Anchoring {
  status(): AnchorerStatus;
  stop(): Promise<void>;
}

/**
 * Runs the Anchorer against DeliveryAnchor (config `chain`), exposes `sluice_anchor_lag_records` (leaves not yet
 * under an anchored checkpoint) and `sluice_anchored_log_size`, and after each checkpoint writes
 * `<stem>.proof.json` beside the manifest of every batch delivery it newly covers (written whole and renamed).
 */
export function startAnchoring(opts: {
  chain: ChainConfig;
  log: DeliveryLog;
  state: StateStore;
  logger: Logger;
  registry: Registry;
  /** Output directory of a batch subscription (undefined for a feed). */
  dirOf: (subscription: string) => string | undefined;
  subscriptions: () => string[];
}): Anchoring {
  const { chain, log, state, logger } = opts;
  const anchor = new ChainAnchor({
    rpc: chain.rpc,
    key: chain.operatorKey,
    address: chain.anchor,
    confirmations: chain.confirmations ?? 1,
  });
  let anchorer: Anchorer | null = null;
  new Gauge({
    name: 'sluice_anchor_lag_records',
    help: 'Delivery-log leaves not yet under a checkpoint anchored on chain',
    registers: [opts.registry],
    collect() {
      this.set(anchorer?.status().pending ?? 0);
    },
  });
  new Gauge({
    name: 'sluice_anchored_log_size',
    help: 'Size of the delivery log at its latest anchored checkpoint',
    registers: [opts.registry],
    collect() {
      this.set(anchorer?.status().anchoredSize ?? 0);
    },
  });
  // leaves below this were covered by a checkpoint whose proofs are written (after a start: none known yet)
  let provenBelow = 0;
  const writeProofs = async (r: AnchorReceipt) => {
    let written = 0;
    for (const sub of opts.subscriptions()) {
      const dir = opts.dirOf(sub);
      if (dir === undefined) continue;
      for (const d of await state.deliveries(sub)) {
        const index = d.logIndex === undefined ? -1 : Number(d.logIndex);
        if (index < provenBelow || index >= r.size) continue;
        const file = join(dir, sub, `${d.stem}.proof.json`);
        if (existsSync(file)) continue;
        const p = await log.inclusion(Number(d.logIndex), r.size);
        const proof: ProofFile = {
          version: 1,
          logIndex: p.index,
          leafHash: p.leafHash,
          auditPath: p.auditPath,
          checkpoint: { size: r.size, root: r.root },
          anchor: { chainId: r.chainId, contract: r.contract, txHash: r.txHash, blockNumber: r.blockNumber },
        };
        await writeFile(`${file}.tmp`, `${JSON.stringify(proof, null, 2)}\n`);
        await rename(`${file}.tmp`, file);
        written++;
      }
    }
    provenBelow = r.size;
    if (written > 0) logger.info('proofs written beside the manifests', { checkpoint: r.size, files: written });
  };
  anchorer = new Anchorer(
    log,
    anchor,
    state,
    {
      everyLeaves: chain.anchorEvery?.leaves ?? 100,
      intervalMs: parseDuration(chain.anchorEvery?.interval, 30_000),
    },
    logger,
    writeProofs,
  );
  const stopping = new AbortController();
  const running = (async () => {
    // proofs of a checkpoint recorded before a restart (the process may have stopped while writing them)
    const last = (await state.checkpoints()).at(-1);
    if (last) await writeProofs(last);
    await anchorer!.run(stopping.signal);
  })().catch((e: unknown) => {
    logger.error('anchoring stopped', { error: (e as Error).message });
  });
  return {
    status: () => anchorer!.status(),
    async stop() {
      stopping.abort();
      await running;
      anchor.close();
    },
  };
}
