// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title SharingPolicy — per-field sharing conditions and automatic, public decisions (Sluice, issue 8).
 *
 * Implements the authorization decision specified in engine/rules/decision.ts (rules 0–5, D1–D6) and is tested
 * against the same table (engine/rules/decision-examples.json) and, field by field, against the TypeScript
 * evaluator on random applications. Strings (ids, organisations, purposes, business systems, field names, tags) are
 * keccak256 hashes of their UTF-8 bytes: equal hashes ⇔ equal strings (D4), and own-key lookups (D5) hold by
 * construction. Instants are int64 microseconds since 1970-01-01T00:00:00Z (D3, parsed off chain).
 *
 * Roles: the operator (deployer) registers provider accounts, attests subscribers' attributes and sets the masking
 * policy; a provider registers its resources' fields and conditions and revokes grants on them — only the account
 * that registered a resource can change it; a subscriber (an attested account) applies. Delivery counts
 * (`maxDeliveries`) are conditions here but counted off chain: `applyFor` decides with no deliveries yet, and the engine
 * enforces the limit before each delivery (`decide` takes the counts for that).
 *
 * Encodings. Strategy (D1, numeric order = strictness): 0 clear, 1 partial, 2 generalize, 3 encrypt, 4 hash,
 * 5 null, 6 deny; 255 = no override. A masking row: 4 bits per clearance threshold t = 0…15 at bits 4t (0xF =
 * absent), the default at bits 64–67 (0xF = absent). Level: 0 core, 1 important, 2 general. Share: 0 none,
 * 1 unconditional, 2 conditional. Administrative level: 0 none, 1 national, 2 provincial, 3 municipal, 4 county.
 * Conditions `present` bits: 0 organisations, 1 adminLevels, 2 purposes, 3 businessSystems, 4 validFrom,
 * 5 validUntil, 6 minClearance, 7 maxDeliveries. A decision per requested position: the strategy (0–5) when
 * granted, else 16 + the reason (engine/rules/decision.ts DENIAL_REASONS order; 16 + 13 = revoked by the provider).
 */
contract SharingPolicy {
    uint8 internal constant DENY = 6;
    uint8 internal constant NO_OVERRIDE = 255;
    uint8 internal constant DENIED = 16;
    uint8 internal constant R_DUPLICATE = 0;
    uint8 internal constant R_UNCLASSIFIED = 1;
    uint8 internal constant R_SHARE_NONE = 2;
    uint8 internal constant R_ORGANISATION = 3;
    uint8 internal constant R_ADMIN_LEVEL = 4;
    uint8 internal constant R_PURPOSE = 5;
    uint8 internal constant R_BUSINESS_SYSTEM = 6;
    uint8 internal constant R_NOT_YET_VALID = 7;
    uint8 internal constant R_EXPIRED = 8;
    uint8 internal constant R_CLEARANCE = 9;
    uint8 internal constant R_MAX_DELIVERIES = 10;
    uint8 internal constant R_OVERRIDE_LOOSER = 11;
    uint8 internal constant R_DENY = 12;
    uint8 internal constant R_REVOKED = 13;
    uint72 internal constant NO_ROW = type(uint72).max;

    /** A classified field as a provider registers it. */
    struct FieldInput {
        bytes32 name;
        uint8 level;
        uint8 share;
        bool hasTag;
        bytes32 tag;
        uint16 present;
        uint8 adminLevels;
        uint8 minClearance;
        uint32 maxDeliveries;
        int64 validFrom;
        int64 validUntil;
        bytes32[] organisations;
        bytes32[] purposes;
        bytes32[] businessSystems;
    }

    /** A field as stored: one slot of scalars, the tag, and the three lists. */
    struct Field {
        bool classified;
        uint8 level;
        uint8 share;
        bool hasTag;
        uint16 present;
        uint8 adminLevels;
        uint8 minClearance;
        uint32 maxDeliveries;
        int64 validFrom;
        int64 validUntil;
        bytes32 tag;
        bytes32[] organisations;
        bytes32[] purposes;
        bytes32[] businessSystems;
    }

    /** A subscriber's attributes: attested by the operator, never self-declared. */
    struct Subscriber {
        bytes32 id;
        bool hasOrganisation;
        bytes32 organisation;
        uint8 adminLevel;
        uint8 clearance;
    }

    /** What a subscription asks for. */
    struct Application {
        bytes32 resource;
        bytes32[] fields;
        uint8[] masks;
        bytes32 purpose;
        bytes32 businessSystem;
    }

    /** A subscription's stored application, its subscriber's account, and the positions the provider revoked. */
    struct Stored {
        address subscriber;
        bytes32 resource;
        bytes32 purpose;
        bytes32 businessSystem;
        uint256 revoked;
        bytes32[] fields;
        uint8[] masks;
    }

    address public immutable operator;
    uint72[3] public matrix;
    mapping(bytes32 => uint72) public tagRow;
    bytes32[] internal tagList;
    mapping(bytes32 => address) public providerAccount;
    mapping(bytes32 => bytes32) public resourceProvider;
    mapping(bytes32 => bytes32[]) internal resourceFields;
    mapping(bytes32 => mapping(bytes32 => Field)) internal fields;
    mapping(address => Subscriber) internal attested;
    mapping(address => bool) public isAttested;
    mapping(bytes32 => Stored) internal subscriptions;

    event ProviderRegistered(bytes32 indexed provider, address indexed account);
    event Attested(address indexed account, bytes32 indexed subscriber, bytes32 organisation, uint8 adminLevel, uint8 clearance);
    event MaskingSet(bytes32 policyHash);
    event ResourceRegistered(bytes32 indexed resource, bytes32 indexed provider, bytes32 policyHash, uint256 fieldCount);
    event Applied(bytes32 indexed subscription, address indexed subscriber, bytes32 indexed resource, bytes32 purpose, bytes32 businessSystem);
    event Granted(bytes32 indexed subscription, bytes32 indexed field, uint256 position, uint8 strategy);
    event Denied(bytes32 indexed subscription, bytes32 indexed field, uint256 position, uint8 reason);
    event Revoked(bytes32 indexed subscription, bytes32 indexed field, uint256 position);

    error NotOperator(address caller);
    error NotProvider(bytes32 resource, address caller);
    error UnknownProvider(bytes32 provider);
    error NotAttested(address caller);
    error UnknownSubscription(bytes32 subscription);
    error SubscriptionOfAnother(bytes32 subscription, address subscriber);
    error BadInput(string what);

    constructor() {
        operator = msg.sender;
        matrix = [NO_ROW, NO_ROW, NO_ROW];
    }

    modifier onlyOperator() {
        if (msg.sender != operator) revert NotOperator(msg.sender);
        _;
    }

    // ---------------------------------------------------------------- operator

    function registerProvider(bytes32 provider, address account) external onlyOperator {
        providerAccount[provider] = account;
        emit ProviderRegistered(provider, account);
    }

    function attest(address account, Subscriber calldata s) external onlyOperator {
        if (s.adminLevel > 4) revert BadInput("adminLevel");
        attested[account] = s;
        isAttested[account] = true;
        emit Attested(account, s.id, s.hasOrganisation ? s.organisation : bytes32(0), s.adminLevel, s.clearance);
    }

    /** The masking matrix (core, important, general) and the per-tag rows, replacing the previous ones. */
    function setMasking(uint72[3] calldata rows, bytes32[] calldata tags, uint72[] calldata tagRows) external onlyOperator {
        if (tags.length != tagRows.length) revert BadInput("tags");
        for (uint256 i = 0; i < tagList.length; i++) delete tagRow[tagList[i]];
        delete tagList;
        matrix = rows;
        for (uint256 i = 0; i < tags.length; i++) {
            if (tagRows[i] == 0 || tagRow[tags[i]] != 0) revert BadInput("tag row");
            tagRow[tags[i]] = tagRows[i];
            tagList.push(tags[i]);
        }
        emit MaskingSet(keccak256(abi.encode(rows, tags, tagRows)));
    }

    // ---------------------------------------------------------------- provider

    /**
     * Registers (or replaces) a resource's classified fields and conditions; a field not listed is unclassified.
     * The first registration binds the resource to `provider`; afterwards only that provider's account may change it.
     */
    function registerResource(bytes32 resource, bytes32 provider, FieldInput[] calldata input) external {
        address account = providerAccount[provider];
        if (account == address(0)) revert UnknownProvider(provider);
        bytes32 owner = resourceProvider[resource];
        if (msg.sender != account || (owner != bytes32(0) && owner != provider)) revert NotProvider(resource, msg.sender);
        resourceProvider[resource] = provider;
        bytes32[] storage names = resourceFields[resource];
        for (uint256 i = 0; i < names.length; i++) delete fields[resource][names[i]];
        delete resourceFields[resource];
        for (uint256 i = 0; i < input.length; i++) {
            FieldInput calldata f = input[i];
            if (f.level > 2 || f.share > 2) revert BadInput("level or share");
            Field storage s = fields[resource][f.name];
            if (s.classified) revert BadInput("duplicate field");
            s.classified = true;
            s.level = f.level;
            s.share = f.share;
            s.hasTag = f.hasTag;
            s.tag = f.tag;
            s.present = f.present;
            s.adminLevels = f.adminLevels;
            s.minClearance = f.minClearance;
            s.maxDeliveries = f.maxDeliveries;
            s.validFrom = f.validFrom;
            s.validUntil = f.validUntil;
            s.organisations = f.organisations;
            s.purposes = f.purposes;
            s.businessSystems = f.businessSystems;
            resourceFields[resource].push(f.name);
        }
        emit ResourceRegistered(resource, provider, keccak256(abi.encode(input)), input.length);
    }

    /** Revokes the named fields of a subscription's grant (all its fields when `names` is empty). */
    function revoke(bytes32 subscription, bytes32[] calldata names) external {
        Stored storage a = subscriptions[subscription];
        if (a.subscriber == address(0)) revert UnknownSubscription(subscription);
        if (msg.sender != providerAccount[resourceProvider[a.resource]]) revert NotProvider(a.resource, msg.sender);
        for (uint256 i = 0; i < a.fields.length && i < 256; i++) {
            bool hit = names.length == 0;
            for (uint256 j = 0; j < names.length && !hit; j++) hit = names[j] == a.fields[i];
            if (hit && (a.revoked >> i) & 1 == 0) {
                a.revoked |= uint256(1) << i;
                emit Revoked(subscription, a.fields[i], i);
            }
        }
    }

    // ---------------------------------------------------------------- subscriber

    /**
     * A subscriber's application, decided now (block time) with no deliveries counted yet: stored under
     * `subscription` (a new application of the same subscriber replaces it and clears revocations), one `Granted` or
     * `Denied` event per requested field.
     */
    function applyFor(bytes32 subscription, Application calldata app) external returns (uint8[] memory outcome) {
        if (!isAttested[msg.sender]) revert NotAttested(msg.sender);
        Stored storage a = subscriptions[subscription];
        if (a.subscriber != address(0) && a.subscriber != msg.sender) revert SubscriptionOfAnother(subscription, a.subscriber);
        if (app.fields.length > 256) revert BadInput("at most 256 fields");
        outcome = decide(app, attested[msg.sender], _now(), new uint32[](app.fields.length));
        a.subscriber = msg.sender;
        a.resource = app.resource;
        a.purpose = app.purpose;
        a.businessSystem = app.businessSystem;
        a.revoked = 0;
        a.fields = app.fields;
        a.masks = app.masks;
        emit Applied(subscription, msg.sender, app.resource, app.purpose, app.businessSystem);
        for (uint256 i = 0; i < outcome.length; i++) {
            if (outcome[i] < DENIED) emit Granted(subscription, app.fields[i], i, outcome[i]);
            else emit Denied(subscription, app.fields[i], i, outcome[i] - DENIED);
        }
    }

    // ---------------------------------------------------------------- reading

    /**
     * A subscription's grant as of now: its stored application decided again under the current conditions and
     * attested attributes (a changed condition applies to existing grants at once), revoked positions overlaid.
     */
    function currentDecision(bytes32 subscription, uint32[] calldata usage)
        external
        view
        returns (bytes32 resource, bytes32[] memory names, uint8[] memory outcome)
    {
        Stored storage a = subscriptions[subscription];
        if (a.subscriber == address(0)) revert UnknownSubscription(subscription);
        Application memory app = Application(a.resource, a.fields, a.masks, a.purpose, a.businessSystem);
        outcome = decide(app, attested[a.subscriber], _now(), usage.length == 0 ? new uint32[](a.fields.length) : usage);
        for (uint256 i = 0; i < outcome.length; i++) {
            if ((a.revoked >> i) & 1 == 1) outcome[i] = DENIED + R_REVOKED;
        }
        return (a.resource, a.fields, outcome);
    }

    function subscriberOf(bytes32 subscription) external view returns (address) {
        return subscriptions[subscription].subscriber;
    }

    function attestation(address account) external view returns (Subscriber memory) {
        return attested[account];
    }

    /**
     * The decision of rules 0–5 for an application by subscriber `s` at instant `at` (µs), with `usage[i]` deliveries
     * so far of the field at position i. Pure apart from reading the registered policy: what `eth_call` answers is
     * what `applyFor` would decide.
     */
    function decide(Application memory app, Subscriber memory s, int64 at, uint32[] memory usage)
        public
        view
        returns (uint8[] memory outcome)
    {
        uint256 n = app.fields.length;
        if (app.masks.length != n || usage.length != n) revert BadInput("masks and usage align with fields");
        outcome = new uint8[](n);
        for (uint256 i = 0; i < n; i++) {
            bytes32 name = app.fields[i];
            bool dup = false;
            for (uint256 j = 0; j < i && !dup; j++) dup = app.fields[j] == name;
            if (dup) {
                outcome[i] = DENIED + R_DUPLICATE;
                continue;
            }
            Field storage f = fields[app.resource][name];
            outcome[i] = _field(f, app, s, at, usage[i], app.masks[i]);
        }
    }

    function _field(Field storage f, Application memory app, Subscriber memory s, int64 at, uint32 used, uint8 o)
        internal
        view
        returns (uint8)
    {
        if (!f.classified) return DENIED + R_UNCLASSIFIED;
        if (f.share == 0) return DENIED + R_SHARE_NONE;
        if (f.share == 2) {
            uint8 failed = _conditions(f, app, s, at, used);
            if (failed != type(uint8).max) return DENIED + failed;
        }
        uint8 base = _resolve(matrix[f.level], s.clearance);
        if (f.hasTag) {
            uint72 row = tagRow[f.tag];
            if (row != 0) {
                uint8 t = _resolve(row, s.clearance);
                if (t > base) base = t;
            }
        }
        if (o != NO_OVERRIDE && o < base) return DENIED + R_OVERRIDE_LOOSER;
        uint8 effective = o != NO_OVERRIDE ? o : base;
        if (effective >= DENY) return DENIED + R_DENY;
        return effective;
    }

    /** Rule 3: the first listed condition that does not hold (its reason), or 255. */
    function _conditions(Field storage f, Application memory app, Subscriber memory s, int64 at, uint32 used)
        internal
        view
        returns (uint8)
    {
        uint16 p = f.present;
        if (p & 1 != 0 && !(_in(f.organisations, s.id) || (s.hasOrganisation && _in(f.organisations, s.organisation)))) {
            return R_ORGANISATION;
        }
        if (p & 2 != 0 && (s.adminLevel == 0 || (f.adminLevels >> (s.adminLevel - 1)) & 1 == 0)) return R_ADMIN_LEVEL;
        if (p & 4 != 0 && !_in(f.purposes, app.purpose)) return R_PURPOSE;
        if (p & 8 != 0 && !_in(f.businessSystems, app.businessSystem)) return R_BUSINESS_SYSTEM;
        if (p & 16 != 0 && at < f.validFrom) return R_NOT_YET_VALID;
        if (p & 32 != 0 && at >= f.validUntil) return R_EXPIRED;
        if (p & 64 != 0 && s.clearance < f.minClearance) return R_CLEARANCE;
        if (p & 128 != 0 && used >= f.maxDeliveries) return R_MAX_DELIVERIES;
        return type(uint8).max;
    }

    /** D2: the greatest threshold ≤ clearance, else the default, else deny. */
    function _resolve(uint72 row, uint8 clearance) internal pure returns (uint8) {
        uint256 t = clearance > 15 ? 15 : clearance;
        for (uint256 k = t + 1; k > 0; k--) {
            uint8 v = uint8((row >> (4 * (k - 1))) & 0xF);
            if (v != 0xF) return v;
        }
        uint8 d = uint8((row >> 64) & 0xF);
        return d != 0xF ? d : DENY;
    }

    function _in(bytes32[] storage list, bytes32 x) internal view returns (bool) {
        for (uint256 i = 0; i < list.length; i++) if (list[i] == x) return true;
        return false;
    }

    function _now() internal view returns (int64) {
        return int64(int256(block.timestamp)) * 1_000_000;
    }
}
