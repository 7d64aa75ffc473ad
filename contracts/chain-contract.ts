import { Contract, Wallet, type ContractRunner, type InterfaceAbi, type JsonRpcProvider } from 'ethers';
import { SluiceError } from '../engine/errors.ts';
import { revertReason } from './revert.ts';
import { connectRpc } from './rpc.ts';

/**
 * One deployed contract through ethers, as the chain adapters use it: connects lazily (the node may be down at
 * start), signs with `key` when given, and turns failures into words — a revert into CONFLICT naming the contract's
 * error (`NotGrowing(10, 10)`), anything else (a node down, a timeout) into UNAVAILABLE after dropping the connection
 * so the next call connects again (the node may have restarted).
 */
export class ChainContract {
  private conn: { provider: JsonRpcProvider; contract: Contract; chainId: number } | null = null;

  constructor(
    private readonly opts: { rpc: string; address: string; abi: readonly unknown[]; name: string; key?: string },
  ) {}

  async connect(): Promise<{ contract: Contract; chainId: number }> {
    if (this.conn) return this.conn;
    const { provider, chainId } = await connectRpc(this.opts.rpc);
    const runner: ContractRunner = this.opts.key ? new Wallet(this.opts.key, provider) : provider;
    this.conn = { provider, contract: new Contract(this.opts.address, this.opts.abi as InterfaceAbi, runner), chainId };
    return this.conn;
  }

  /** Runs `f` against the contract; its failure in words. */
  async call<T>(f: (c: Contract) => Promise<T>): Promise<T> {
    const { contract } = await this.connect();
    try {
      return await f(contract);
    } catch (e) {
      if ((e as { code?: string }).code === 'CALL_EXCEPTION') {
        throw new SluiceError('CONFLICT', `${this.opts.name} refused: ${revertReason(e, contract.interface)}`, {
          cause: e,
        });
      }
      this.close();
      const why = (e as { shortMessage?: string }).shortMessage ?? (e as Error).message;
      throw new SluiceError('UNAVAILABLE', `the chain at ${this.opts.rpc}: ${why}`, { retriable: true, cause: e });
    }
  }

  /** Sends a transaction and waits for `confirmations` (and at most `timeoutMs`); its receipt. */
  send(
    f: (c: Contract) => Promise<{ wait(confirms?: number, timeout?: number): Promise<unknown> }>,
    confirmations = 1,
    timeoutMs?: number,
  ): Promise<unknown> {
    if (!this.opts.key) return Promise.reject(new SluiceError('USAGE', 'a transaction needs a key'));
    return this.call(async (c) => (await f(c)).wait(confirmations, timeoutMs));
  }

  /** Drops the connection (the next call connects again). */
  close(): void {
    this.conn?.provider.destroy();
    this.conn = null;
  }
}
