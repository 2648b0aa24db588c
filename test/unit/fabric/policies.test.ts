// Fabric's channel policies as src/fabric/policies.ts re-implements them (Fabric's common/policies and
// common/cauthdsl): signature policies (NOutOf over SignedBy, greedy, each identity used once), ImplicitMeta
// ANY/ALL/MAJORITY over sub-groups, the manager's policy paths, and the forms refused when a config is read.
// The identities are stand-ins that answer satisfiesPrincipal by MSP id and role, as an MSP does for
// MSPRole principals: the MSP is the thing beside the unit, and msp.ts has its own tests.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { common, msp as mspProto } from '@hyperledger/fabric-protos';
import { type Policy, PolicyError, PolicyManager } from '../../../src/fabric/policies.js';
import type { MspIdentity } from '../../../src/fabric/msp.js';

const ROLE = mspProto.MSPRole.MSPRoleType;
const RULE = common.ImplicitMetaPolicy.Rule;
/** Fabric's policy type numbers (common.Policy.PolicyType). */
const TYPE = { signature: 1, msp: 2, implicitMeta: 3, implicitOrderer: 4 } as const;
const ROOT_PATH = 'Channel';

interface FakeIdentity {
  readonly mspId: string;
  readonly role: number;
  satisfiesPrincipal(principal: mspProto.MSPPrincipal): void;
}

/** An identity of `mspId` with `role`: MEMBER principals of its MSP take any role, others the same role. */
function identity(mspId: string, role: number = ROLE.MEMBER): MspIdentity {
  const id: FakeIdentity = {
    mspId,
    role,
    satisfiesPrincipal(principal) {
      const wanted = mspProto.MSPRole.deserializeBinary(principal.getPrincipal_asU8());
      if (wanted.getMspIdentifier() !== mspId) throw new Error(`not a member of ${wanted.getMspIdentifier()}`);
      if (wanted.getRole() !== ROLE.MEMBER && wanted.getRole() !== role) throw new Error(`not in role ${wanted.getRole()}`);
    },
  };
  return id as unknown as MspIdentity;
}

function principal(mspId: string, role: number = ROLE.MEMBER): mspProto.MSPPrincipal {
  const r = new mspProto.MSPRole();
  r.setMspIdentifier(mspId);
  r.setRole(role as 0);
  const p = new mspProto.MSPPrincipal();
  p.setPrincipalClassification(mspProto.MSPPrincipal.Classification.ROLE);
  p.setPrincipal(r.serializeBinary());
  return p;
}

function signedBy(index: number): common.SignaturePolicy {
  const s = new common.SignaturePolicy();
  s.setSignedBy(index);
  return s;
}

function nOutOf(n: number, rules: common.SignaturePolicy[]): common.SignaturePolicy {
  const inner = new common.SignaturePolicy.NOutOf();
  inner.setN(n);
  inner.setRulesList(rules);
  const s = new common.SignaturePolicy();
  s.setNOutOf(inner);
  return s;
}

function policyOfType(type: number, value: Uint8Array): common.Policy {
  const p = new common.Policy();
  p.setType(type);
  p.setValue(value);
  return p;
}

function signaturePolicy(rule: common.SignaturePolicy | undefined, principals: mspProto.MSPPrincipal[], version = 0): common.Policy {
  const env = new common.SignaturePolicyEnvelope();
  env.setVersion(version);
  env.setIdentitiesList(principals);
  if (rule !== undefined) env.setRule(rule);
  return policyOfType(TYPE.signature, env.serializeBinary());
}

function implicitMeta(rule: number, subPolicy: string): common.Policy {
  const imp = new common.ImplicitMetaPolicy();
  imp.setRule(rule as 0);
  imp.setSubPolicy(subPolicy);
  return policyOfType(TYPE.implicitMeta, imp.serializeBinary());
}

interface GroupSpec {
  policies?: Record<string, common.Policy>;
  groups?: Record<string, GroupSpec>;
}

function group(spec: GroupSpec): common.ConfigGroup {
  const g = new common.ConfigGroup();
  for (const [name, p] of Object.entries(spec.policies ?? {})) {
    const cp = new common.ConfigPolicy();
    cp.setPolicy(p);
    cp.setModPolicy('Admins');
    g.getPoliciesMap().set(name, cp);
  }
  for (const [name, sub] of Object.entries(spec.groups ?? {})) g.getGroupsMap().set(name, group(sub));
  return g;
}

/** The policy `name` of a channel group holding only `policy` under that name. */
function single(policy: common.Policy, name = 'P'): Policy {
  return new PolicyManager(ROOT_PATH, group({ policies: { [name]: policy } })).getPolicy(name);
}

function satisfied(policy: Policy, ids: readonly MspIdentity[]): boolean {
  try {
    policy.evaluateIdentities(ids);
    return true;
  } catch (err) {
    assert.ok(err instanceof PolicyError, `evaluation failed with ${String(err)}, not a PolicyError`);
    return false;
  }
}

function refusedAtRead(spec: GroupSpec, message: RegExp): void {
  assert.throws(() => new PolicyManager(ROOT_PATH, group(spec)), (err: unknown) => err instanceof PolicyError && message.test(err.message));
}

const A = 'OrgA';
const B = 'OrgB';
const C = 'OrgC';

test('SignedBy: satisfied by an identity of the principal\'s MSP, not by another MSP\'s or by none', () => {
  const p = single(signaturePolicy(signedBy(0), [principal(A)]));
  assert.equal(satisfied(p, [identity(A)]), true);
  assert.equal(satisfied(p, [identity(B)]), false);
  assert.equal(satisfied(p, []), false);
  assert.equal(satisfied(p, [identity(B), identity(A)]), true, 'the matching identity need not be first');
});

test('NOutOf: 2 of 3 organisations takes two distinct ones, and one is not enough', () => {
  const p = single(signaturePolicy(nOutOf(2, [signedBy(0), signedBy(1), signedBy(2)]), [principal(A), principal(B), principal(C)]));
  assert.equal(satisfied(p, [identity(A), identity(C)]), true);
  assert.equal(satisfied(p, [identity(B), identity(C), identity(A)]), true);
  assert.equal(satisfied(p, [identity(B)]), false);
  assert.equal(satisfied(p, [identity(B), identity('OrgD')]), false);
});

test('NOutOf: one identity counts once, so AND(A, A) takes two identities of A', () => {
  const p = single(signaturePolicy(nOutOf(2, [signedBy(0), signedBy(0)]), [principal(A)]));
  assert.equal(satisfied(p, [identity(A)]), false);
  assert.equal(satisfied(p, [identity(A), identity(A)]), true);
});

test('NOutOf with N = 0 is satisfied by no identities at all (Fabric\'s "verified >= N")', () => {
  assert.equal(satisfied(single(signaturePolicy(nOutOf(0, [signedBy(0)]), [principal(A)])), []), true);
});

test('SignedBy is greedy, as cauthdsl: AND(A.member, A.admin) fails when the admin signs first and is taken by member', () => {
  const p = single(signaturePolicy(nOutOf(2, [signedBy(0), signedBy(1)]), [principal(A, ROLE.MEMBER), principal(A, ROLE.ADMIN)]));
  const admin = identity(A, ROLE.ADMIN);
  const member = identity(A, ROLE.MEMBER);
  assert.equal(satisfied(p, [member, admin]), true);
  assert.equal(satisfied(p, [admin, member]), false, 'Fabric\'s evaluation takes the first identity that fits, without backtracking');
});

test('nested rules: OR(AND(A, B), C) takes both A and B, or C alone', () => {
  const p = single(signaturePolicy(
    nOutOf(1, [nOutOf(2, [signedBy(0), signedBy(1)]), signedBy(2)]),
    [principal(A), principal(B), principal(C)],
  ));
  assert.equal(satisfied(p, [identity(A), identity(B)]), true);
  assert.equal(satisfied(p, [identity(C)]), true);
  assert.equal(satisfied(p, [identity(A)]), false);
  assert.equal(satisfied(p, [identity(B)]), false);
});

test('a sub-rule that fails leaves the identities it tried unused: OR(AND(A, B), A) with only A is satisfied', () => {
  const p = single(signaturePolicy(nOutOf(1, [nOutOf(2, [signedBy(0), signedBy(1)]), signedBy(0)]), [principal(A), principal(B)]));
  assert.equal(satisfied(p, [identity(A)]), true);
});

test('a satisfied sub-rule keeps every identity it took, its rules past N included (cauthdsl does not stop at N)', () => {
  // AND(OR(A, B), A): the OR tries both its rules, so with B and A it takes both and leaves no A for the AND.
  const p = single(signaturePolicy(nOutOf(2, [nOutOf(1, [signedBy(0), signedBy(1)]), signedBy(0)]), [principal(A), principal(B)]));
  assert.equal(satisfied(p, [identity(A)]), false);
  assert.equal(satisfied(p, [identity(A), identity(A)]), true);
  assert.equal(satisfied(p, [identity(B), identity(A)]), false);
  assert.equal(satisfied(p, [identity(B), identity(A), identity(A)]), true);
});

/** A channel with one group per org under Application, each with a Writers policy signed by its org. */
function threeOrgs(rule: number, orgs: readonly string[] = [A, B, C]): Policy {
  const groups: Record<string, GroupSpec> = {};
  for (const org of orgs) groups[org] = { policies: { Writers: signaturePolicy(signedBy(0), [principal(org)]) } };
  const root = new PolicyManager(ROOT_PATH, group({ groups: { Application: { policies: { Writers: implicitMeta(rule, 'Writers') }, groups } } }));
  return root.getPolicy('Application/Writers');
}

test('ImplicitMeta ANY: one sub-group\'s policy is enough, none is not', () => {
  const p = threeOrgs(RULE.ANY);
  assert.equal(satisfied(p, [identity(B)]), true);
  assert.equal(satisfied(p, [identity('OrgD')]), false);
  assert.match(p.description, /^ANY Writers \(1 of 3\)$/);
});

test('ImplicitMeta ALL: every sub-group\'s policy', () => {
  const p = threeOrgs(RULE.ALL);
  assert.equal(satisfied(p, [identity(A), identity(B), identity(C)]), true);
  assert.equal(satisfied(p, [identity(A), identity(C)]), false);
});

test('ImplicitMeta MAJORITY: more than half (2 of 3, 3 of 4)', () => {
  const three = threeOrgs(RULE.MAJORITY);
  assert.equal(satisfied(three, [identity(A), identity(C)]), true);
  assert.equal(satisfied(three, [identity(C)]), false);
  const four = threeOrgs(RULE.MAJORITY, [A, B, C, 'OrgD']);
  assert.equal(satisfied(four, [identity(A), identity(B)]), false, 'half of four is not a majority');
  assert.equal(satisfied(four, [identity(A), identity(B), identity('OrgD')]), true);
  assert.match(four.description, /\(3 of 4\)/);
});

test('ImplicitMeta: the refusal says how many sub-policies were satisfied of how many required', () => {
  const p = threeOrgs(RULE.ALL);
  assert.throws(() => p.evaluateIdentities([identity(A)]), {
    message: 'implicit policy evaluation failed - 1 sub-policies were satisfied, but this policy requires 3 of the \'Writers\' sub-policies to be satisfied',
  });
});

test('ImplicitMeta over a group without sub-groups is satisfied by anything, as in Fabric', () => {
  for (const rule of [RULE.ANY, RULE.ALL, RULE.MAJORITY]) {
    assert.equal(satisfied(single(implicitMeta(rule, 'Writers')), []), true);
  }
});

test('ImplicitMeta: a sub-group without the named sub-policy counts as not satisfied', () => {
  const root = new PolicyManager(ROOT_PATH, group({
    groups: {
      Application: {
        policies: { Writers: implicitMeta(RULE.ALL, 'Writers') },
        groups: { [A]: { policies: { Writers: signaturePolicy(signedBy(0), [principal(A)]) } }, [B]: { policies: {} } },
      },
    },
  }));
  const p = root.getPolicy('Application/Writers');
  assert.equal(satisfied(p, [identity(A), identity(B)]), false);
});

test('ImplicitMeta nests: the channel\'s MAJORITY Admins over Application\'s and Orderer\'s own ImplicitMeta', () => {
  const orgAdmins = (org: string): GroupSpec => ({ policies: { Admins: signaturePolicy(signedBy(0), [principal(org, ROLE.ADMIN)]) } });
  const root = new PolicyManager(ROOT_PATH, group({
    policies: { Admins: implicitMeta(RULE.ALL, 'Admins') },
    groups: {
      Application: { policies: { Admins: implicitMeta(RULE.MAJORITY, 'Admins') }, groups: { [A]: orgAdmins(A), [B]: orgAdmins(B), [C]: orgAdmins(C) } },
      Orderer: { policies: { Admins: implicitMeta(RULE.ANY, 'Admins') }, groups: { OrdererOrg: orgAdmins('OrdererOrg') } },
    },
  }));
  const p = root.getPolicy('Admins');
  const admins = [identity(A, ROLE.ADMIN), identity(B, ROLE.ADMIN), identity('OrdererOrg', ROLE.ADMIN)];
  assert.equal(satisfied(p, admins), true);
  assert.equal(satisfied(p, admins.slice(0, 2)), false, 'the orderer side is missing');
  assert.equal(satisfied(p, [identity(A, ROLE.ADMIN), identity('OrdererOrg', ROLE.ADMIN)]), false, 'one of three application orgs');
  assert.equal(satisfied(p, [identity(A), identity(B), identity('OrdererOrg', ROLE.ADMIN)]), false, 'members are not admins');
});

test('policy paths: relative names reach sub-groups\' policies, absolute ones must start at the manager\'s own path', () => {
  const orgWriters = signaturePolicy(signedBy(0), [principal(A)]);
  const root = new PolicyManager(ROOT_PATH, group({
    groups: { Application: { policies: { Writers: implicitMeta(RULE.ANY, 'Writers') }, groups: { [A]: { policies: { Writers: orgWriters } } } } },
  }));
  for (const id of ['Application/OrgA/Writers', '/Channel/Application/OrgA/Writers']) {
    assert.equal(root.has(id), true, id);
    assert.equal(satisfied(root.getPolicy(id), [identity(A)]), true, id);
    assert.equal(satisfied(root.getPolicy(id), [identity(B)]), false, id);
  }
  const application = root.managers.get('Application')!;
  assert.equal(application.path, 'Channel/Application');
  assert.equal(application.has('OrgA/Writers'), true);
  assert.equal(application.has('/Channel/Application/Writers'), true);
  for (const id of ['', 'Writers', 'Application/OrgB/Writers', '/Other/Application/Writers', 'Application/OrgA']) {
    assert.equal(root.has(id), false, `'${id}'`);
    assert.throws(() => root.getPolicy(id).evaluateIdentities([identity(A)]), /no such policy/);
  }
});

test('refused when read: MSP-type and unknown policy types, and Fabric 3\'s ImplicitOrderer (BFT)', () => {
  refusedAtRead({ policies: { P: policyOfType(TYPE.msp, new Uint8Array()) } }, /^policy P at path Channel has unknown policy type: 2$/);
  refusedAtRead({ policies: { P: policyOfType(0, new Uint8Array()) } }, /unknown policy type: 0/);
  refusedAtRead({ policies: { P: policyOfType(TYPE.implicitOrderer, new Uint8Array()) } }, /ImplicitOrderer policy \(type 4\): not supported/);
  refusedAtRead({ groups: { Orderer: { policies: { BlockValidation: policyOfType(9, new Uint8Array()) } } } }, /at path Channel\/Orderer has unknown policy type: 9/);
});

test('refused when read: a config policy without its policy, or whose bytes do not decode', () => {
  const g = new common.ConfigGroup();
  g.getPoliciesMap().set('Empty', new common.ConfigPolicy());
  assert.throws(() => new PolicyManager(ROOT_PATH, g), { message: 'policy Empty at path Channel was nil' });
  const garbage = Uint8Array.of(0xff, 0xff, 0xff);
  refusedAtRead({ policies: { P: policyOfType(TYPE.signature, garbage) } }, /Error unmarshaling to SignaturePolicy/);
  refusedAtRead({ policies: { P: policyOfType(TYPE.implicitMeta, garbage) } }, /Error unmarshaling to ImplicitMetaPolicy/);
});

test('refused when read: signature policies of another version, without a rule, with an out-of-range index, or nested too deep', () => {
  refusedAtRead({ policies: { P: signaturePolicy(signedBy(0), [principal(A)], 1) } }, /only understands messages of version 0, but version was 1/);
  refusedAtRead({ policies: { P: signaturePolicy(undefined, [principal(A)]) } }, /Empty policy element/);
  refusedAtRead({ policies: { P: signaturePolicy(nOutOf(1, [signedBy(1)]), [principal(A)]) } }, /identity index out of range, requested 1, but identities length is 1/);
  refusedAtRead({ policies: { P: signaturePolicy(nOutOf(1, [new common.SignaturePolicy()]), [principal(A)]) } }, /Unknown type: 0/);
  let deep = signedBy(0);
  for (let i = 0; i < 100; i++) deep = nOutOf(1, [deep]);
  refusedAtRead({ policies: { P: signaturePolicy(deep, [principal(A)]) } }, /nested too deep/);
  let allowed = signedBy(0);
  for (let i = 0; i < 10; i++) allowed = nOutOf(1, [allowed]);
  assert.equal(satisfied(single(signaturePolicy(allowed, [principal(A)])), [identity(A)]), true);
});

test('refused when read: an ImplicitMeta rule other than ANY, ALL, MAJORITY (Fabric would let anything pass)', () => {
  refusedAtRead({ policies: { P: implicitMeta(3, 'Writers') } }, /^implicit policy P at path Channel did not compile: unknown ImplicitMeta rule 3$/);
});
