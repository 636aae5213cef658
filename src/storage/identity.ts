/**
 * The repository identity document (reference radicle-node.md §3), read from
 * `refs/rad/id:embeds/radicle.json`. Unknown payload keys are tolerated.
 */
import { z } from 'zod';
import { nidFromDid } from '../model/node-id.ts';

export type Identity = {
  rid: string;
  name: string;
  description: string;
  defaultBranch: string;
  /** Bare NIDs (z6Mk…), in document order. */
  delegates: string[];
  threshold: number;
  private: boolean;
};

const IdentityDoc = z.looseObject({
  delegates: z.array(z.string()).min(1),
  payload: z.looseObject({
    'xyz.radicle.project': z.looseObject({
      name: z.string(),
      description: z.string().default(''),
      defaultBranch: z.string().min(1),
    }),
  }),
  threshold: z.number().int().min(1),
  visibility: z.looseObject({ type: z.string() }).optional(),
});

/** Parses the document bytes; throws with a readable message if it is not a project identity. */
export function parseIdentityDoc(rid: string, bytes: Buffer): Identity {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new Error(`identity document of ${rid} is not JSON`, { cause: e });
  }
  const parsed = IdentityDoc.safeParse(json);
  if (!parsed.success) {
    throw new Error(`invalid identity document of ${rid}: ${z.prettifyError(parsed.error)}`);
  }
  const doc = parsed.data;
  const project = doc.payload['xyz.radicle.project'];
  return {
    rid,
    name: project.name,
    description: project.description,
    defaultBranch: project.defaultBranch,
    delegates: doc.delegates.map(nidFromDid),
    threshold: doc.threshold,
    private: doc.visibility?.type === 'private',
  };
}
