/**
 * The Describe use case (image to prompt), for the server's route, the `describe` command and a job that describes
 * its input first: the type's files are checked installed and verified through the model store (size and SHA-256),
 * then its describer is loaded once and kept for the next image, until its files change or the studio closes.
 */
import type { DescribeOptions, ImageDescriber, ImageDescription, RgbImage, RuntimeOptions } from '../../engine/index.ts';
import type { ModelStore } from '../models/model-store.ts';
import { describerNotInstalled, findMissingDescriberFiles, type DescribeType, type DescriberRegistry } from './describer-registry.ts';

export interface ImageDescriptionResult extends ImageDescription {
  type: DescribeType;
}

interface LoadedDescriber {
  /** The SHA-256s it was loaded from, so a re-imported file loads anew. */
  key: string;
  describer: Promise<ImageDescriber>;
}

/** Refuses (naming the field `type`) a type this build lacks or whose files are not all trusted in the store. */
export async function checkDescriberInstalled(store: ModelStore, registry: DescriberRegistry, type: DescribeType): Promise<void> {
  const missing = findMissingDescriberFiles(registry, type, await store.list());
  if (missing === null || missing.length > 0) throw describerNotInstalled(type, missing);
}

export class ImageDescribers {
  private readonly loaded = new Map<DescribeType, LoadedDescriber>();
  private closed = false;

  constructor(
    private readonly store: ModelStore,
    private readonly registry: DescriberRegistry,
    private readonly runtime: RuntimeOptions = {},
  ) {}

  /** Refuses (naming the field `type`) a type this build lacks or whose files are not all trusted in the store. */
  checkInstalled(type: DescribeType): Promise<void> {
    return checkDescriberInstalled(this.store, this.registry, type);
  }

  async describe(type: DescribeType, image: RgbImage, options: DescribeOptions = {}): Promise<ImageDescriptionResult> {
    if (this.closed) throw new Error('the describers were released');
    await this.checkInstalled(type);
    const entry = this.registry[type]!;
    // 1. verify every file now (the hash cache makes this cheap while the files are unchanged)
    const paths: string[] = [];
    for (const f of entry.files) paths.push(await this.store.resolve(f.kind, f.name, options.signal === undefined ? {} : { signal: options.signal }));
    const listing = await this.store.list();
    const key = entry.files.map((f) => listing.find((m) => m.kind === f.kind && m.name === f.name)?.sha256 ?? '').join(':');
    // 2. load, or reuse what was loaded from the same bytes
    let current = this.loaded.get(type);
    if (current?.key !== key) {
      if (current !== undefined) void current.describer.then((d) => d.release(), () => undefined);
      current = { key, describer: entry.load(paths, this.runtime) };
      this.loaded.set(type, current);
      current.describer.catch(() => this.loaded.get(type) === current && this.loaded.delete(type));
    }
    // 3. describe
    const description = await (await current.describer).describe(image, options);
    return { type, ...description };
  }

  /** Frees every loaded describer (the studio's and the command's shutdown). */
  async release(): Promise<void> {
    this.closed = true;
    const all = [...this.loaded.values()];
    this.loaded.clear();
    await Promise.all(all.map((l) => l.describer.then((d) => d.release(), () => undefined)));
  }
}
