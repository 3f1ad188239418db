import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  detectCpuFeatures,
  listExecutionProviders,
  onnxRuntimeVersion,
  type CpuFeatures,
  type ExecutionProviderInfo,
} from '../engine/index.ts';

/** What `fooocus doctor` reports: enough to tell whether this machine can run the studio, and how fast. */
export interface DoctorReport {
  node: { version: string; required: string; supported: boolean };
  platform: { os: string; arch: string; release: string };
  cpu: CpuFeatures;
  onnxRuntime: { version: string; executionProviders: ExecutionProviderInfo[] };
  /** Runtime dependencies (they ship to users), with the version actually installed. */
  dependencies: { name: string; wanted: string; installed: string | null }[];
}

interface PackageManifest {
  version: string;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
}

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Compares dotted versions numerically; `>=X.Y.Z` is the only engines form we use. */
export function satisfiesMinimum(version: string, range: string): boolean {
  const min = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  if (min === null) throw new Error(`engines.node must have the form ">=X.Y.Z", got "${range}"`);
  const have = version.replace(/^v/, '').split('.').map(Number);
  const want = [Number(min[1]), Number(min[2] ?? 0), Number(min[3] ?? 0)];
  for (let i = 0; i < 3; i++) {
    const a = have[i] ?? 0;
    const b = want[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

async function readManifest(file: string): Promise<PackageManifest> {
  return JSON.parse(await readFile(file, 'utf8')) as PackageManifest;
}

/** Finds a dependency's installed package.json even when its `exports` map hides it. */
async function installedVersion(name: string): Promise<string | null> {
  const require = createRequire(path.join(projectRoot, 'package.json'));
  for (const dir of require.resolve.paths(name) ?? []) {
    try {
      return (await readManifest(path.join(dir, name, 'package.json'))).version;
    } catch {
      // not installed in this node_modules; try the next one up
    }
  }
  return null;
}

export async function collectDoctorReport(nodeVersion: string = process.versions.node): Promise<DoctorReport> {
  const manifest = await readManifest(path.join(projectRoot, 'package.json'));
  const required = manifest.engines?.node ?? '>=0.0.0';
  const dependencies = await Promise.all(
    Object.entries(manifest.dependencies ?? {}).map(async ([name, wanted]) => ({
      name,
      wanted,
      installed: await installedVersion(name),
    })),
  );
  return {
    node: { version: nodeVersion, required, supported: satisfiesMinimum(nodeVersion, required) },
    platform: { os: process.platform, arch: process.arch, release: os.release() },
    cpu: await detectCpuFeatures(),
    onnxRuntime: { version: onnxRuntimeVersion(), executionProviders: listExecutionProviders() },
    dependencies,
  };
}
