// Fabric's channel policies (common/policies/policy.go, implicitmeta.go, common/cauthdsl), re-implemented:
// a policy manager per config group, holding the group's own policies and, under "<group>/<name>",
// those of its sub-groups; signature policies (NOutOf over SignedBy principals, evaluated greedily as
// cauthdsl does, each identity used at most once); ImplicitMeta policies (ANY, ALL or MAJORITY of a
// sub-policy across the group's sub-groups; a group without sub-groups satisfies any rule, as in
// Fabric). A policy type Fabric has no provider for in a channel (MSP), or one this implementation
// does not (Fabric 3's BFT ImplicitOrderer), makes the configuration unusable, as Fabric's bundle fails.
//
// Evaluation takes the already deserialized, deduplicated, signature-checked identities (what
// SignatureSetToValidIdentities returns): every policy in Fabric starts from that same list.
import { common, type msp } from '@hyperledger/fabric-protos';
import type { MspIdentity } from './msp.js';

export class PolicyError extends Error {}

export const PATH_SEPARATOR = '/';
export const BLOCK_VALIDATION_POLICY = '/Channel/Orderer/BlockValidation';

const PolicyType = { unknown: 0, signature: 1, msp: 2, implicitMeta: 3, implicitOrderer: 4 } as const;
const ImplicitRule = common.ImplicitMetaPolicy.Rule;
/** A signature policy is a tree; configs are signed, but a bound keeps a hostile one from recursing deep. */
const MAX_SIGNATURE_POLICY_DEPTH = 64;

/** Resolves a principal against an identity (the identity's own MSP decides, as in Fabric). */
export interface Policy {
  /** Throws PolicyError when `identities` do not satisfy the policy. */
  evaluateIdentities(identities: readonly MspIdentity[]): void;
  /** A one-line description for reports. */
  readonly description: string;
}

class RejectPolicy implements Policy {
  constructor(private readonly name: string) {}
  get description(): string {
    return `no such policy: '${this.name}'`;
  }
  evaluateIdentities(): void {
    throw new PolicyError(`no such policy: '${this.name}'`);
  }
}

type Evaluator = (ids: readonly MspIdentity[], used: boolean[]) => boolean;

function compile(rule: common.SignaturePolicy | undefined, principals: readonly msp.MSPPrincipal[], depth: number): Evaluator {
  if (rule === undefined) throw new PolicyError('Empty policy element');
  if (depth > MAX_SIGNATURE_POLICY_DEPTH) throw new PolicyError('signature policy nested too deep');
  switch (rule.getTypeCase()) {
    case common.SignaturePolicy.TypeCase.N_OUT_OF: {
      const nOutOf = rule.getNOutOf()!;
      const n = nOutOf.getN();
      const subs = nOutOf.getRulesList().map((r) => compile(r, principals, depth + 1));
      return (ids, used) => {
        let verified = 0;
        const scratch = used.slice();
        for (const sub of subs) {
          for (let i = 0; i < used.length; i++) scratch[i] = used[i]!;
          if (sub(ids, scratch)) {
            verified++;
            for (let i = 0; i < used.length; i++) used[i] = scratch[i]!;
          }
        }
        return verified >= n;
      };
    }
    case common.SignaturePolicy.TypeCase.SIGNED_BY: {
      const index = rule.getSignedBy();
      if (index < 0 || index >= principals.length) {
        throw new PolicyError(`identity index out of range, requested ${index}, but identities length is ${principals.length}`);
      }
      const principal = principals[index]!;
      return (ids, used) => {
        for (let i = 0; i < ids.length; i++) {
          if (used[i]) continue;
          try {
            ids[i]!.satisfiesPrincipal(principal);
          } catch {
            continue;
          }
          used[i] = true;
          return true;
        }
        return false;
      };
    }
    default:
      throw new PolicyError(`Unknown type: ${rule.getTypeCase()}`);
  }
}

class SignaturePolicy implements Policy {
  private readonly evaluator: Evaluator;
  readonly description: string;

  constructor(value: Uint8Array) {
    let env: common.SignaturePolicyEnvelope;
    try {
      env = common.SignaturePolicyEnvelope.deserializeBinary(value);
    } catch (err) {
      throw new PolicyError(`Error unmarshaling to SignaturePolicy: ${(err as Error).message}`);
    }
    if (env.getVersion() !== 0) throw new PolicyError(`This evaluator only understands messages of version 0, but version was ${env.getVersion()}`);
    this.evaluator = compile(env.getRule(), env.getIdentitiesList(), 0);
    this.description = `signature policy over ${env.getIdentitiesList().length} principal(s)`;
  }

  evaluateIdentities(identities: readonly MspIdentity[]): void {
    if (!this.evaluator(identities, new Array<boolean>(identities.length).fill(false))) {
      throw new PolicyError('signature set did not satisfy policy');
    }
  }
}

class ImplicitMetaPolicy implements Policy {
  readonly description: string;
  private readonly threshold: number;

  constructor(private readonly subPolicies: readonly Policy[], private readonly subPolicyName: string, rule: number) {
    const n = subPolicies.length;
    let threshold: number;
    switch (rule) {
      case ImplicitRule.ANY: threshold = 1; break;
      case ImplicitRule.ALL: threshold = n; break;
      case ImplicitRule.MAJORITY: threshold = Math.floor(n / 2) + 1; break;
      // Fabric leaves the threshold at 0 for an unknown rule (anything passes); refusing is the safe reading.
      default: throw new PolicyError(`unknown ImplicitMeta rule ${rule}`);
    }
    this.threshold = n === 0 ? 0 : threshold;
    this.description = `${['ANY', 'ALL', 'MAJORITY'][rule]} ${subPolicyName} (${this.threshold} of ${n})`;
  }

  evaluateIdentities(identities: readonly MspIdentity[]): void {
    let remaining = this.threshold;
    if (remaining === 0) return;
    for (const p of this.subPolicies) {
      try {
        p.evaluateIdentities(identities);
      } catch {
        continue;
      }
      if (--remaining === 0) return;
    }
    throw new PolicyError(`implicit policy evaluation failed - ${this.threshold - remaining} sub-policies were satisfied, `
      + `but this policy requires ${this.threshold} of the '${this.subPolicyName}' sub-policies to be satisfied`);
  }
}

/** A config group's policy manager: its own policies, and its sub-groups' under "<group>/<name>". */
export class PolicyManager {
  readonly policies = new Map<string, Policy>();
  readonly managers = new Map<string, PolicyManager>();

  constructor(readonly path: string, group: common.ConfigGroup) {
    for (const [name, sub] of group.getGroupsMap().entries()) {
      this.managers.set(name, new PolicyManager(path + PATH_SEPARATOR + name, sub));
    }
    for (const [name, configPolicy] of group.getPoliciesMap().entries()) {
      const policy = configPolicy.getPolicy();
      if (policy === undefined) throw new PolicyError(`policy ${name} at path ${path} was nil`);
      this.policies.set(name, this.newPolicy(name, policy));
    }
    for (const [groupName, m] of this.managers) {
      for (const [name, p] of m.policies) this.policies.set(groupName + PATH_SEPARATOR + name, p);
    }
  }

  private newPolicy(name: string, policy: common.Policy): Policy {
    const where = `policy ${name} at path ${this.path}`;
    switch (policy.getType()) {
      case PolicyType.implicitMeta: {
        let def: common.ImplicitMetaPolicy;
        try {
          def = common.ImplicitMetaPolicy.deserializeBinary(policy.getValue_asU8());
        } catch (err) {
          throw new PolicyError(`implicit ${where} did not compile: Error unmarshaling to ImplicitMetaPolicy: ${(err as Error).message}`);
        }
        const subs = [...this.managers.values()].map((m) => m.getPolicy(def.getSubPolicy()));
        try {
          return new ImplicitMetaPolicy(subs, def.getSubPolicy(), def.getRule());
        } catch (err) {
          throw new PolicyError(`implicit ${where} did not compile: ${(err as Error).message}`);
        }
      }
      case PolicyType.signature:
        try {
          return new SignaturePolicy(policy.getValue_asU8());
        } catch (err) {
          throw new PolicyError(`${where} did not compile: ${(err as Error).message}`);
        }
      case PolicyType.implicitOrderer:
        throw new PolicyError(`${where} is a Fabric 3 BFT ImplicitOrderer policy (type 4): not supported`);
      default:
        throw new PolicyError(`${where} has unknown policy type: ${policy.getType()}`);
    }
  }

  /** Fabric's GetPolicy: by a name relative to this group, or an absolute path under it; a reject policy otherwise. */
  getPolicy(id: string): Policy {
    if (id === '') return new RejectPolicy(id);
    let rel = id;
    if (id.startsWith(PATH_SEPARATOR)) {
      if (!id.startsWith(PATH_SEPARATOR + this.path)) return new RejectPolicy(id);
      rel = id.slice(1 + this.path.length + 1);
    }
    return this.policies.get(rel) ?? new RejectPolicy(rel);
  }

  has(id: string): boolean {
    return !(this.getPolicy(id) instanceof RejectPolicy);
  }
}
