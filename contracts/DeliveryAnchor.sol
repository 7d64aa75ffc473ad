// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title DeliveryAnchor — checkpoints of Sluice's delivery log (an RFC 6962 Merkle tree) anchored on chain.
 *
 * The operator anchors `(treeSize, root)`; the tree size strictly grows, so a checkpoint can neither be rewritten
 * nor replayed. Each checkpoint is an event (indexed by tree size, so a verifier finds the one it needs); the latest
 * is also kept in storage for contracts that read it. One transaction per checkpoint, however many deliveries it
 * covers.
 */
contract DeliveryAnchor {
    address public immutable operator;
    uint64 public treeSize; // with `checkpoints`, one storage slot
    uint64 public checkpoints;
    bytes32 public root;

    event Checkpoint(uint64 indexed treeSize, bytes32 root, uint64 index);

    error NotOperator(address caller);
    error NotGrowing(uint64 treeSize, uint64 anchored);

    constructor() {
        operator = msg.sender;
    }

    function anchor(uint64 size, bytes32 newRoot) external {
        if (msg.sender != operator) revert NotOperator(msg.sender);
        if (size <= treeSize) revert NotGrowing(size, treeSize);
        treeSize = size;
        root = newRoot;
        emit Checkpoint(size, newRoot, checkpoints);
        checkpoints += 1;
    }

    /** The latest checkpoint. */
    function latest() external view returns (uint64, bytes32) {
        return (treeSize, root);
    }
}
