import { Contract, ContractFactory, type ContractRunner, type InterfaceAbi, type Signer } from 'ethers';
import { DeliveryAnchorAbi, DeliveryAnchorBytecode, SharingPolicyAbi, SharingPolicyBytecode } from './artifacts.ts';

/** Deployed contract addresses and what each deployment cost. */
export interface Deployment {
  policy: string;
  anchor: string;
  gas: { policy: bigint; anchor: bigint };
}

async function deploy(abi: InterfaceAbi, bytecode: string, signer: Signer) {
  const c = await new ContractFactory(abi, bytecode, signer).deploy();
  const receipt = await c.deploymentTransaction()!.wait();
  return { address: await c.getAddress(), gas: receipt!.gasUsed };
}

/** Deploys SharingPolicy and DeliveryAnchor with `operator` as their operator (`sluice contracts deploy`). */
export async function deployContracts(operator: Signer): Promise<Deployment> {
  const policy = await deploy(SharingPolicyAbi as InterfaceAbi, SharingPolicyBytecode, operator);
  const anchor = await deploy(DeliveryAnchorAbi as InterfaceAbi, DeliveryAnchorBytecode, operator);
  return { policy: policy.address, anchor: anchor.address, gas: { policy: policy.gas, anchor: anchor.gas } };
}

/** SharingPolicy at `address`, for `runner` (a provider for reads, a signer for transactions). */
export const sharingPolicy = (address: string, runner: ContractRunner) =>
  new Contract(address, SharingPolicyAbi as InterfaceAbi, runner);

/** DeliveryAnchor at `address`. */
export const deliveryAnchor = (address: string, runner: ContractRunner) =>
  new Contract(address, DeliveryAnchorAbi as InterfaceAbi, runner);
