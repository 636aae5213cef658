/** A push trigger message of the size cibq sends, for the anchors that do not build one. */
export function sampleTrigger(nid: string, rid: string, oid: string, ref: string): string {
  const did = `did:key:${nid}`;
  return `${JSON.stringify({
    request: 'trigger',
    version: 1,
    event_type: 'push',
    repository: { id: rid, name: 'bench', description: '', private: false, default_branch: 'main', delegates: [did] },
    pusher: { id: did, alias: null },
    before: oid,
    after: oid,
    branch: ref,
    commits: [oid],
  })}\n`;
}
