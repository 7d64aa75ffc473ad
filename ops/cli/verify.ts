import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { deliveryAnchor } from '../../contracts/deploy.ts';
import { connectRpc } from '../../contracts/rpc.ts';
import { canonicalJson } from '../../engine/delivery-log/leaf.ts';
import { leafHash, verifyInclusion } from '../../engine/delivery-log/merkle.ts';
import { SluiceError } from '../../engine/errors.ts';
import type { Manifest } from '../../schemas/index.ts';
import { ENV_REF, loadConfig } from '../config/load.ts';
import type { ProofFile } from '../runtime/anchoring.ts';
import { EXIT } from './exit-codes.ts';

/** What `sluice verify` proved about a delivery. */
export interface Verified {
  deliveryId: string;
  subscription: string;
  subscriber: string;
  resource: string;
  provider: string;
  tick: string;
  rows: number;
  fields: { name: string; strategy?: string }[];
  files: { file: string; sha256: string }[];
  logIndex: number;
  checkpoint: { size: number; root: string };
  anchor: { contract: string; chainId: number; txHash: string; blockNumber: number; blockTime: string };
}

/** A verification that failed, and why (exit 1). */
export class NotVerified extends Error {}

const sha256File = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s.replace(/^0x/, ''), 'hex'));

/** `<dir>/<stem>.parquet` or `<stem>.pNNN.parquet` or `<stem>.manifest.json` → the delivery's stem and folder. */
function stemOf(file: string): { dir: string; stem: string; part?: string } {
  const name = basename(file);
  const m = /^(.*?)(\.p\d{3})?\.parquet$/.exec(name);
  if (m) return { dir: dirname(file), stem: m[1]!, part: name };
  const j = /^(.*)\.manifest\.json$/.exec(name);
  if (j) return { dir: dirname(file), stem: j[1]! };
  throw new SluiceError('USAGE', `${file}: give a delivered .parquet file or its .manifest.json`);
}

/**
 * Verifies a delivered file with nothing but the delivered files and the chain: the file's sha256 against its
 * manifest, the manifest (as RFC 8785 canonical JSON, the log's leaf) against the proof's audit path and checkpoint,
 * and the checkpoint against the one anchored in DeliveryAnchor at `anchor` on the chain at `rpc`.
 */
export async function verifyDelivery(file: string, chain: { rpc: string; anchor: string }): Promise<Verified> {
  if (!existsSync(file)) throw new SluiceError('NOT_FOUND', `${file}: no such file`);
  const { dir, stem, part } = stemOf(file);
  const manifestFile = join(dir, `${stem}.manifest.json`);
  if (!existsSync(manifestFile)) throw new NotVerified(`no manifest beside the file (${manifestFile})`);
  const manifestText = readFileSync(manifestFile, 'utf8');
  const manifest = JSON.parse(manifestText) as Manifest;
  // 1. the data: every file checked is listed in the manifest with this sha256
  const parts = part ? manifest.parts.filter((p) => p.file === part) : manifest.parts;
  if (part && parts.length === 0)
    throw new NotVerified(`${part} is not listed in the manifest ${basename(manifestFile)}`);
  for (const p of parts) {
    const f = join(dir, p.file);
    if (!existsSync(f)) throw new NotVerified(`${p.file}, listed in the manifest, is missing`);
    const actual = sha256File(f);
    if (actual !== p.sha256) {
      throw new NotVerified(`${p.file} was altered: its sha256 is ${actual}, the manifest lists ${p.sha256}`);
    }
  }
  // 2. the manifest is a leaf of the log under the proof's checkpoint
  const proofFile = join(dir, `${stem}.proof.json`);
  if (!existsSync(proofFile)) {
    throw new NotVerified(
      `no proof beside the manifest (${basename(proofFile)}): the delivery's checkpoint is not anchored yet — the proof is written once it is`,
    );
  }
  const proof = JSON.parse(readFileSync(proofFile, 'utf8')) as ProofFile;
  const leaf = leafHash(new TextEncoder().encode(canonicalJson(JSON.parse(manifestText))));
  if (Buffer.from(leaf).toString('hex') !== proof.leafHash) {
    throw new NotVerified('the manifest was altered: its leaf hash is not the one the proof names');
  }
  if (
    !verifyInclusion(
      proof.logIndex,
      proof.checkpoint.size,
      leaf,
      proof.auditPath.map(unhex),
      unhex(proof.checkpoint.root),
    )
  ) {
    throw new NotVerified(
      `the leaf is not in the tree: the audit path of leaf ${proof.logIndex} does not lead to the root of checkpoint ${proof.checkpoint.size}`,
    );
  }
  // 3. the checkpoint is anchored in that contract, with that root
  if (proof.anchor.contract.toLowerCase() !== chain.anchor.toLowerCase()) {
    throw new NotVerified(
      `the checkpoint was anchored in contract ${proof.anchor.contract}, not in ${chain.anchor}: this file is from another delivery log`,
    );
  }
  const { provider, chainId } = await connectRpc(chain.rpc);
  try {
    const contract = deliveryAnchor(chain.anchor, provider);
    if ((await provider.getCode(chain.anchor)) === '0x') {
      throw new NotVerified(`there is no contract at ${chain.anchor} on chain ${chainId}`);
    }
    const events = (await contract.queryFilter(contract.filters.Checkpoint!(proof.checkpoint.size), 0)) as unknown as {
      args: { root: string };
      transactionHash: string;
      blockNumber: number;
    }[];
    const e = events[0];
    if (!e) {
      throw new NotVerified(
        `checkpoint ${proof.checkpoint.size} is not anchored in contract ${chain.anchor} on chain ${chainId}`,
      );
    }
    const onChain = e.args.root.replace(/^0x/, '').toLowerCase();
    if (onChain !== proof.checkpoint.root.toLowerCase()) {
      throw new NotVerified(
        `root mismatch: checkpoint ${proof.checkpoint.size} is anchored with root ${onChain}, the proof says ${proof.checkpoint.root}`,
      );
    }
    const block = await provider.getBlock(e.blockNumber);
    return {
      deliveryId: manifest.deliveryId,
      subscription: manifest.subscription,
      subscriber: manifest.subscriber,
      resource: manifest.resource,
      provider: manifest.provider,
      tick: manifest.tick,
      rows: manifest.rows,
      fields: manifest.columns
        .filter((c) => !c.name.startsWith('_'))
        .map((c) => ({ name: c.name, ...(c.strategy ? { strategy: c.strategy } : {}) })),
      files: parts.map((p) => ({ file: p.file, sha256: p.sha256 })),
      logIndex: proof.logIndex,
      checkpoint: proof.checkpoint,
      anchor: {
        contract: chain.anchor,
        chainId,
        txHash: e.transactionHash,
        blockNumber: e.blockNumber,
        blockTime: block ? new Date(block.timestamp * 1000).toISOString() : '',
      },
    };
  } finally {
    provider.destroy();
  }
}

/**
 * The chain block of a config file: from the validated config, or — a subscriber's copy need not be a whole engine
 * config — read from the file as it is (`env:NAME` values taken from the environment).
 */
function chainOf(file: string): { rpc: string; anchor: string } {
  const loaded = loadConfig(file, { mode: 'validate' });
  if (loaded.config.chain) return loaded.config.chain;
  if (!existsSync(file)) throw new SluiceError('USAGE', `${file}: no such config file`);
  const raw = (parse(readFileSync(file, 'utf8')) as { chain?: { rpc?: unknown; anchor?: unknown } } | null)?.chain;
  const env = (v: unknown) => {
    if (typeof v !== 'string') return undefined;
    const ref = ENV_REF.exec(v);
    return ref ? process.env[ref[1]!] : v;
  };
  const rpc = env(raw?.rpc);
  const anchor = env(raw?.anchor);
  if (!rpc || !anchor) throw new SluiceError('USAGE', `${file} has no chain block with rpc and anchor`);
  return { rpc, anchor };
}

/** `sluice verify <file> (--rpc URL --anchor 0x… | -c FILE) [--json]`. */
export function verifyCommand(program: Command, setCode: (c: number) => void): void {
  program
    .command('verify <file>')
    .description(
      'prove a delivered file (a .parquet or its .manifest.json) with only the delivered files and the chain: its ' +
        'sha256 is in the manifest, the manifest is a leaf of the delivery log under the anchored checkpoint. Exit 0 ' +
        'proven, 1 not (with the reason), 2 usage, 3 chain unreachable',
    )
    .option('--rpc <url>', 'JSON-RPC URL of the chain')
    .option('--anchor <address>', 'the DeliveryAnchor contract')
    .option('-c, --config <file>', 'take --rpc and --anchor from the config’s chain block')
    .option('--json', 'print what was proven as JSON')
    .action(async (file: string, o: { rpc?: string; anchor?: string; config?: string; json?: boolean }) => {
      let chain = o.rpc && o.anchor ? { rpc: o.rpc, anchor: o.anchor } : null;
      if (!chain && o.config) {
        const c = chainOf(o.config);
        chain = { rpc: o.rpc ?? c.rpc, anchor: o.anchor ?? c.anchor };
      }
      if (!chain)
        throw new SluiceError('USAGE', 'give the chain: --rpc URL and --anchor 0x…, or -c FILE with a chain block');
      if (!/^0x[0-9a-fA-F]{40}$/.test(chain.anchor))
        throw new SluiceError('USAGE', `--anchor ${chain.anchor} is not an address`);
      try {
        const v = await verifyDelivery(file, chain);
        if (o.json) process.stdout.write(`${JSON.stringify({ verified: true, ...v }, null, 2)}\n`);
        else {
          process.stdout.write(
            [
              `verified: ${basename(file)}`,
              `  delivery     ${v.deliveryId} (${v.rows} rows, tick ${v.tick})`,
              `  delivered to ${v.subscriber}, subscription ${v.subscription}, resource ${v.resource} of ${v.provider}`,
              `  fields       ${v.fields.map((f) => (f.strategy ? `${f.name} (${f.strategy})` : f.name)).join(', ')}`,
              `  files        ${v.files.map((f) => `${f.file} sha256 ${f.sha256}`).join('; ')}`,
              `  log          leaf ${v.logIndex} of checkpoint ${v.checkpoint.size}, root ${v.checkpoint.root}`,
              `  anchored     in ${v.anchor.contract} on chain ${v.anchor.chainId}, block ${v.anchor.blockNumber} (${v.anchor.blockTime}), tx ${v.anchor.txHash}`,
              '',
            ].join('\n'),
          );
        }
        setCode(EXIT.OK);
      } catch (e) {
        if (!(e instanceof NotVerified)) throw e;
        if (o.json) process.stdout.write(`${JSON.stringify({ verified: false, reason: e.message }, null, 2)}\n`);
        process.stderr.write(`sluice verify: NOT VERIFIED: ${e.message}\n`);
        setCode(EXIT.NEGATIVE);
      }
    });
}
