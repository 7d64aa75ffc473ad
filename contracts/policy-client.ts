import type { Contract } from 'ethers';
import { SluiceError } from '../engine/errors.ts';
import type { MaskingMatrix, MaskingRow } from '../engine/masking/index.ts';
import type { Application, ApplicationSubscriber, FieldPolicy } from '../engine/rules/decision.ts';
import { SharingPolicyAbi } from './artifacts.ts';
import { applicationInput, decodeOutcome, hashString, maskingInput, resourceInput, subscriberInput } from './encode.ts';
import { ChainContract } from './chain-contract.ts';

/** A decision as the contract gives it, by field name. */
export type ChainDecision = ReturnType<typeof decodeOutcome>;

/**
 * SharingPolicy through ethers for one signer (the operator, a provider, a subscriber) or none (reads only):
 * connects lazily, names reverts (`NotProvider(…)`), turns an unreachable node into UNAVAILABLE. Ids, names and
 * policies are encoded by contracts/encode.ts.
 */
export class ChainPolicy {
  private readonly chain: ChainContract;

  constructor(private readonly opts: { rpc: string; address: string; key?: string; confirmations?: number }) {
    this.chain = new ChainContract({
      rpc: opts.rpc,
      address: opts.address,
      abi: SharingPolicyAbi,
      name: 'SharingPolicy',
      ...(opts.key ? { key: opts.key } : {}),
    });
  }

  async registerProvider(provider: string, account: string) {
    return this.send((c) => c.registerProvider!(hashString(provider), account));
  }

  async attest(account: string, s: ApplicationSubscriber) {
    return this.send((c) => c.attest!(account, subscriberInput(s)));
  }

  async setMasking(matrix: Partial<MaskingMatrix>, tags?: Record<string, MaskingRow>) {
    const m = maskingInput(matrix, tags);
    return this.send((c) => c.setMasking!(m.rows, m.tags, m.tagRows));
  }

  async registerResource(resource: string, provider: string, fields: Readonly<Record<string, FieldPolicy>>) {
    return this.send((c) => c.registerResource!(hashString(resource), hashString(provider), resourceInput(fields)));
  }

  /** Applies for `subscription`; resolves with the contract's decision, read from the transaction's events. */
  async apply(
    subscription: string,
    app: Pick<Application, 'resource' | 'fields' | 'masks' | 'purpose' | 'businessSystem'>,
  ): Promise<ChainDecision> {
    const receipt = (await this.send((c) => c.applyFor!(hashString(subscription), applicationInput(app)))) as {
      logs: { topics: readonly string[]; data: string }[];
    };
    const { contract } = await this.chain.connect();
    const codes: number[] = new Array<number>(app.fields.length).fill(-1);
    for (const log of receipt.logs) {
      const e = contract.interface.parseLog(log);
      if (e?.name === 'Granted') codes[Number(e.args.position)] = Number(e.args.strategy);
      if (e?.name === 'Denied') codes[Number(e.args.position)] = 16 + Number(e.args.reason);
    }
    if (codes.includes(-1)) throw new SluiceError('INTERNAL', 'the application transaction did not decide every field');
    return decodeOutcome(app.fields, codes);
  }

  /** Revokes the named fields of a subscription's grant (all when none is named). */
  async revoke(subscription: string, fields: string[] = []) {
    return this.send((c) => c.revoke!(hashString(subscription), fields.map(hashString)));
  }

  /**
   * The subscription's grant now: its stored application decided under the current conditions and attestations,
   * revocations overlaid, with `usage` (deliveries so far of each field, counted off chain). `names` are the field
   * names the caller knows (the contract holds their hashes); a field of the application not among them is reported
   * by its hash. Null when the subscription never applied.
   */
  async currentDecision(
    subscription: string,
    names: readonly string[],
    usage?: ReadonlyMap<string, number>,
  ): Promise<ChainDecision | null> {
    const sub = hashString(subscription);
    const subscriber = (await this.chain.call((c) => c.subscriberOf!(sub))) as string;
    if (/^0x0{40}$/.test(subscriber)) return null;
    const byHash = new Map(names.map((n) => [hashString(n), n]));
    const [, hashes, plain] = (await this.chain.call((c) => c.currentDecision!(sub, []))) as [
      string,
      string[],
      bigint[],
    ];
    const fields = hashes.map((h) => byHash.get(h) ?? h);
    if (!usage || fields.every((f) => (usage.get(f) ?? 0) === 0)) return decodeOutcome(fields, plain);
    const counts = fields.map((f) => usage.get(f) ?? 0);
    const [, , outcome] = (await this.chain.call((c) => c.currentDecision!(sub, counts))) as [
      string,
      string[],
      bigint[],
    ];
    return decodeOutcome(fields, outcome);
  }

  /** Drops the connection (the next call connects again). */
  close(): void {
    this.chain.close();
  }

  private send(f: (c: Contract) => Promise<{ wait(confirms?: number): Promise<unknown> }>) {
    return this.chain.send(f, this.opts.confirmations ?? 1);
  }
}
