import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { readParquetFile } from '../../connectors/sinks/parquet/index.ts';
import { SluiceError } from '../../engine/errors.ts';
import {
  decryptValue,
  deriveEncryptKeys,
  generateSubscriberKeyPair,
  unwrapDataKey,
  type WrappedKey,
} from '../../engine/masking/index.ts';
import type { Manifest } from '../../schemas/index.ts';
import { requestJson, resolveApi, type ApiTarget } from './engine-api.ts';
import { EXIT } from './exit-codes.ts';

/** `sluice keygen`: a subscriber's X25519 key pair; the private key goes to a file only its owner can read. */
export function keygenCommand(program: Command, setCode: (c: number) => void): void {
  program
    .command('keygen')
    .description(
      "make a subscriber's X25519 key pair for the encrypt strategy: the private key is written to --out (mode 0600), " +
        'the public key is printed — register it as subscribers[].publicKey',
    )
    .requiredOption('-o, --out <file>', 'where to write the private key (refused if it exists)')
    .action((o: { out: string }) => {
      if (existsSync(o.out))
        throw new SluiceError('USAGE', `${o.out} exists; choose another file (keys are never overwritten)`);
      const pair = generateSubscriberKeyPair();
      writeFileSync(o.out, `${pair.privateKey}\n`, { mode: 0o600, flag: 'wx' });
      process.stdout.write(`publicKey: ${pair.publicKey}\n`);
      process.stderr.write(`private key written to ${o.out} (keep it; without it encrypted columns cannot be read)\n`);
      setCode(EXIT.OK);
    });
}

/**
 * `sluice decrypt`: a subscriber decrypts the encrypted columns of a delivered file with its private key and the
 * wrapped data key from the file's manifest; prints the rows as JSON lines (all columns, encrypted ones in clear).
 */
export function decryptCommand(program: Command, setCode: (c: number) => void): void {
  program
    .command('decrypt <file>')
    .description(
      "decrypt a delivered Parquet file's encrypted columns with the subscriber's private key (the data key comes " +
        'wrapped in the manifest beside the file); prints the rows as JSON lines',
    )
    .requiredOption('-k, --key <file>', 'the private key file from sluice keygen')
    .option('-m, --manifest <file>', 'the manifest (default: <stem>.manifest.json beside the file)')
    .action((file: string, o: { key: string; manifest?: string }) => {
      const manifestFile =
        o.manifest ?? join(dirname(file), `${basename(file).replace(/(\.p\d{3})?\.parquet$/, '')}.manifest.json`);
      for (const f of [file, manifestFile, o.key])
        if (!existsSync(f)) throw new SluiceError('NOT_FOUND', `${f}: file not found`);
      const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
      if (!manifest.encryption)
        throw new SluiceError('USAGE', `${manifestFile}: this delivery has no encrypted column`);
      const unwrapped = unwrapDataKey(manifest.encryption.wrappedKey as WrappedKey, readFileSync(o.key, 'utf8').trim());
      if (!unwrapped.ok) {
        throw new SluiceError(
          'CONFIG_INVALID',
          `cannot unwrap the data key ${manifest.encryption.keyId} with ${o.key}: ${unwrapped.reason}`,
        );
      }
      const keys = deriveEncryptKeys(unwrapped.dataKey);
      const encrypted = manifest.columns.filter((c) => c.strategy === 'encrypt').map((c) => c.name);
      const info = readParquetFile(new Uint8Array(readFileSync(file)));
      let failed = 0;
      for (const row of info.head(info.rows)) {
        for (const c of encrypted) {
          const v = row[c];
          if (v === null || v === undefined) continue;
          const r = decryptValue(keys, c, String(v));
          if (r.ok) row[c] = r.value;
          else {
            failed++;
            row[c] = null;
          }
        }
        process.stdout.write(`${JSON.stringify(row)}\n`);
      }
      if (failed > 0)
        process.stderr.write(`sluice decrypt: ${failed} value(s) did not decrypt (altered or not ours)\n`);
      setCode(failed > 0 ? EXIT.NEGATIVE : EXIT.OK);
    });
}

/** `sluice keys rotate <subscription>`: a new version of a subscription's hash key or encrypt data key. */
export function keysCommand(program: Command, setCode: (c: number) => void): void {
  const keys = program.command('keys').description("manage subscriptions' masking secrets (never shown)");
  keys
    .command('rotate <subscription>')
    .description(
      'make a new version of the HMAC key (hash: joins with earlier files break) or the data key (encrypt); the next ' +
        'cycle uses it, files already delivered keep theirs (their manifests name the version)',
    )
    .addOption(new Option('--kind <kind>', 'which secret').choices(['hash', 'encrypt']).makeOptionMandatory())
    .option('-c, --config <file>', 'config of the running engine (for its runtime.json)', './sluice.yaml')
    .option('--api <url>', 'the engine API (default: SLUICE_API, else <dataDir>/runtime.json)')
    .action(async (subscription: string, o: ApiTarget & { kind: 'hash' | 'encrypt' }) => {
      const r = await requestJson<{ subscription: string; kind: string; version: number }>(
        resolveApi(o),
        'POST',
        `/v1/subscriptions/${encodeURIComponent(subscription)}/keys/${o.kind}/rotate`,
      );
      process.stdout.write(`${r.subscription}: ${r.kind} key is now version ${r.version}\n`);
      setCode(EXIT.OK);
    });
}
