import test from 'ava';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  rootOf,
  verifyConsistency,
  verifyInclusion,
  type Hash,
} from './merkle.ts';

// The Certificate Transparency reference tree (RFC 6962 test data, as in certificate-transparency-go and
// transparency-dev/merkle): eight leaf inputs, the root of every prefix, and published proofs.
const CT_INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const hex = (h: Hash) => Buffer.from(h).toString('hex');
const unhex = (s: string): Hash => new Uint8Array(Buffer.from(s, 'hex'));
const LEAVES = CT_INPUTS.map((x) => leafHash(unhex(x)));

test('roots of every prefix of the reference tree are RFC 6962’s', (t) => {
  CT_ROOTS.forEach((root, n) => t.is(hex(rootOf(LEAVES.slice(0, n))), root, `size ${n}`));
});

test('audit paths and consistency proofs are the published ones', (t) => {
  t.deepEqual(inclusionProof(LEAVES, 0, 8).map(hex), [
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
  ]);
  t.deepEqual(inclusionProof(LEAVES, 5, 8).map(hex), [
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  ]);
  t.deepEqual(consistencyProof(LEAVES, 1, 1).map(hex), []);
  t.deepEqual(consistencyProof(LEAVES, 6, 8).map(hex), [
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  ]);
  t.deepEqual(consistencyProof(LEAVES, 2, 5).map(hex), [
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
  ]);
});

test('every proof of every tree up to 40 leaves verifies; a changed leaf, index, size, root or path does not', (t) => {
  const leaves = Array.from({ length: 40 }, (_, i) => leafHash(Uint8Array.of(i, i * 7)));
  const other = leafHash(Uint8Array.of(255));
  for (let size = 1; size <= leaves.length; size++) {
    const root = rootOf(leaves.slice(0, size));
    for (let i = 0; i < size; i++) {
      const path = inclusionProof(leaves, i, size);
      t.true(verifyInclusion(i, size, leaves[i]!, path, root), `leaf ${i} of ${size}`);
      if (!verifyInclusion(i, size, other, path, root)) continue;
      t.fail(`a foreign leaf verified at ${i} of ${size}`);
    }
    t.false(verifyInclusion(size, size, leaves[0]!, [], root), 'an index outside the tree');
    if (size > 1) {
      const path = inclusionProof(leaves, 1, size);
      t.false(verifyInclusion(0, size, leaves[1]!, path, root), 'the wrong index');
      t.false(verifyInclusion(1, 1, leaves[1]!, path, root), 'a size that does not hold the index');
      t.false(verifyInclusion(1, size, leaves[1]!, path.slice(1), root), 'a shortened path');
      t.false(verifyInclusion(1, size, leaves[1]!, path, other), 'another root');
    }
    for (let old = 1; old <= size; old++) {
      const oldRoot = rootOf(leaves.slice(0, old));
      const proof = consistencyProof(leaves, old, size);
      t.true(verifyConsistency(old, size, proof, oldRoot, root), `${old} → ${size}`);
      if (old < size) {
        t.false(verifyConsistency(old, size, proof, other, root), `${old} → ${size}, another old root`);
        t.false(verifyConsistency(old, size, proof.slice(1), oldRoot, root), `${old} → ${size}, shortened`);
        t.false(verifyConsistency(old, size, [], oldRoot, root), `${old} → ${size}, empty`);
      }
    }
  }
  // a history rewritten below the old size is caught
  const rewritten = [...leaves.slice(0, 10)];
  rewritten[3] = other;
  const proof = consistencyProof([...rewritten, ...leaves.slice(10, 20)], 10, 20);
  t.false(verifyConsistency(10, 20, proof, rootOf(leaves.slice(0, 10)), rootOf(leaves.slice(0, 20))));
});

test('bad sizes and indexes are refused, naming them', (t) => {
  t.throws(() => inclusionProof(LEAVES, 8, 8), { message: /leaf index 8 is not in a tree of 8/ });
  t.throws(() => inclusionProof(LEAVES, 0, 9), { message: /tree size 9/ });
  t.throws(() => consistencyProof(LEAVES, 0, 8), { message: /from size 0 to 8/ });
  t.throws(() => consistencyProof(LEAVES, 5, 4), { message: /from size 5 to 4/ });
});
