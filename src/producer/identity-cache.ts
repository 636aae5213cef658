/**
 * The identity of each repository (name, delegates, default branch), parsed once and kept while
 * `refs/rad/id` stays where it was: checking the ref is one object read, where reading and
 * validating the document for every ref of an event cost fifty. A changed identity moves the ref,
 * so the next check reads the document again; a failed read is not kept.
 */
import type { IdentityInfo, StoragePort } from './storage-port.ts';

const IDENTITY_REF = 'refs/rad/id';

export class IdentityCache {
  readonly #storage: Pick<StoragePort, 'identity' | 'resolveRef'>;
  readonly #byRepo = new Map<string, { at: string; identity: Promise<IdentityInfo> }>();

  constructor(storage: Pick<StoragePort, 'identity' | 'resolveRef'>) {
    this.#storage = storage;
  }

  /** The identity as of now: `refs/rad/id` is looked at on every call (once per event is enough). */
  async get(rid: string): Promise<IdentityInfo> {
    const at = await this.#storage.resolveRef(rid, IDENTITY_REF);
    if (at === null) {
      this.#byRepo.delete(rid);
      return this.#storage.identity(rid); // says why there is none
    }
    const cached = this.#byRepo.get(rid);
    if (cached?.at === at) return cached.identity;
    // Read after the ref: a document newer than `at` is possible (read again next time), never older.
    const identity = this.#storage.identity(rid);
    this.#byRepo.set(rid, { at, identity });
    identity.catch(() => {
      if (this.#byRepo.get(rid)?.identity === identity) this.#byRepo.delete(rid);
    });
    return identity;
  }
}
