/**
 * # Secure model downloads
 *
 * `downloadFile` fetches one model file whose SHA-256 and size are known in advance, so that a substituted file can
 * never end up in the models directory. Guarantees, each enforced in code and covered by a test in
 * test/app/downloads/:
 *
 * 1. **https only, allowlisted hosts only.** Every URL, the first and every redirect hop, must be `https:`, carry no
 *    credentials, and name a host on `policy.allowedHosts` (exact match; `*.example.com` for subdomains). A host
 *    that is not listed is refused before it is even resolved. At most `maxRedirects` (default 5) hops.
 * 2. **Public addresses only (no SSRF).** IP-literal hosts are checked after WHATWG normalisation (`2130706433`,
 *    `0x7f.1`, `[::ffff:7f00:1]` are all 127.0.0.1). Names are resolved by our own lookup, which refuses the name
 *    if any answer is loopback, private, CGNAT, link-local (including 169.254.169.254), unique-local, multicast,
 *    unspecified, reserved, or an IPv4-mapped / NAT64 / 6to4 form of those, and the socket connects to exactly the
 *    address that was checked. The connected `remoteAddress` is checked again. `allowPrivateAddresses` (tests)
 *    only exempts loopback and private IP *literals*; a name resolving to them is always refused.
 * 3. **Verified TLS, optional key pinning.** Certificates are always verified (never `rejectUnauthorized: false`);
 *    no proxy from the environment and no shared agent. `policy.pins[host]` lists SPKI SHA-256 pins (base64), one
 *    of which must match a key in the verified chain.
 * 4. **Bounded size.** A Content-Length above `expectedSize` is refused before reading the body, and the transfer
 *    stops as soon as more than `expectedSize` bytes arrive.
 * 5. **Atomic, verified result.** Bytes stream into `<destination>.part` (opened without following symlinks) while
 *    being hashed; only when the SHA-256 matches is the part renamed to `<destination>`. A mismatch deletes the
 *    part and throws `ChecksumMismatchError` naming both hashes. Nothing is written outside the destination's
 *    directory, which must already exist.
 * 6. **Resumable.** An interrupted transfer (`DownloadInterruptedError`) or an abort through `signal` keeps the part.
 *    The next call hashes the part's bytes and asks for `Range: bytes=N-`; a 206 is accepted only with a matching
 *    Content-Range, and a 200 restarts from zero. The final hash covers every byte, old and new.
 */
import { lstat, rename, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { checkDownloadUrl, type CheckedUrl, type UrlPolicy } from './address-policy.ts';
import {
  ChecksumMismatchError,
  DownloadInterruptedError,
  DownloadTooLargeError,
  InsecureUrlError,
  InvalidDownloadRequestError,
  TooManyRedirectsError,
  UnexpectedResponseError,
} from './download-errors.ts';
import { ConnectionTimeoutError, openGuardedRequest, type ConnectionPolicy } from './guarded-request.ts';
import { PartFile } from './part-file.ts';

export interface DownloadPolicy extends UrlPolicy {
  /** SPKI SHA-256 pins (base64, optionally `sha256/`-prefixed) per host; one must match the verified chain. */
  pins?: Readonly<Record<string, readonly string[]>>;
  /** Tests only: lets loopback/private IP-literal hosts (such as 127.0.0.1) through. Names are never exempt. */
  allowPrivateAddresses?: boolean;
  /** Redirect hops to follow (default 5); each hop is checked like the first URL. */
  maxRedirects?: number;
  /** An extra trusted CA certificate (PEM), in addition to the system roots. Tests only. */
  ca?: string | Buffer;
  /** Idle time on the connection before the transfer counts as interrupted (default 30 s). */
  timeoutMs?: number;
}

export interface DownloadRequest {
  url: string;
  /** Final path of the file; its directory must exist. `<destination>.part` holds the bytes until verified. */
  destination: string;
  /** Lowercase or uppercase hex SHA-256 of the whole file. */
  expectedSha256: string;
  /** Exact size of the file in bytes. */
  expectedSize: number;
  policy: DownloadPolicy;
  /** Called as bytes arrive (at most every 100 ms, and once at the end); `received` includes resumed bytes. */
  onProgress?(received: number, total: number, bytesPerSecond: number): void;
  /** Aborting stops the transfer, keeps the `.part` for a later resume and rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface DownloadResult {
  path: string;
  sha256: string;
  size: number;
  /** Bytes that were already in the `.part` file and not downloaded again. */
  resumedFrom: number;
  /** The URL the bytes finally came from, after redirects. */
  finalUrl: string;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const DEFAULT_MAX_REDIRECTS = 5;
const DEFAULT_TIMEOUT_MS = 30_000;
const PROGRESS_INTERVAL_MS = 100;
const RATE_WINDOW_MS = 2_000;

/** Downloads `url` to `destination`, refusing anything but the exact expected bytes; see the guarantees above. */
export async function downloadFile(request: DownloadRequest): Promise<DownloadResult> {
  const { url, policy, signal } = request;
  // 1. validate everything that can be checked without touching the network or the disk
  const expectedSha256 = validateSha256(request.expectedSha256);
  const expectedSize = validateSize(request.expectedSize);
  validatePolicyLimits(policy);
  checkDownloadUrl(url, policy);
  const destination = await validateDestination(request.destination);
  signal?.throwIfAborted();

  // 2. open the part file; its existing bytes are hashed so a resume is verified end to end
  const part = await PartFile.open(`${destination}.part`, expectedSize, signal);
  const resumedFrom = part.size;
  let finalUrl = url;
  try {
    // 3. transfer the missing bytes
    if (part.size < expectedSize) {
      finalUrl = await transferRemaining(request, part, expectedSize);
    }
    // 4. verify, then publish under the final name
    const found = part.digest();
    if (found !== expectedSha256) {
      await part.remove();
      throw new ChecksumMismatchError(finalUrl, expectedSha256, found);
    }
    await part.sync();
    await part.close();
    await rename(part.path, destination);
    return { path: destination, sha256: found, size: expectedSize, resumedFrom, finalUrl };
  } catch (error) {
    // An empty part has nothing to resume: a refusal before the first byte leaves the directory as it was.
    if (part.size === 0) await part.remove();
    else await part.close().catch(() => undefined);
    throw translateTransferError(error, request, part.size);
  }
}

/** Fetches from `part.size` to the end, restarting from zero at most once if the server cannot resume. */
async function transferRemaining(request: DownloadRequest, part: PartFile, expectedSize: number): Promise<string> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const offset = part.size;
    const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'fooocus-ts' };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    const { response, target } = await requestFollowingRedirects(request, headers);
    const shownUrl = target.url.href;
    const status = response.statusCode ?? 0;

    if (offset > 0 && (status === 416 || (status === 206 && !isMatchingRange(response, offset, expectedSize)))) {
      await checkAnnouncedTotal(response, shownUrl, expectedSize, part);
      response.destroy();
      await part.restart();
      continue;
    }
    if (status === 200 && offset > 0) await part.restart();
    if (status !== 200 && !(status === 206 && offset > 0)) {
      response.destroy();
      throw new UnexpectedResponseError(shownUrl, status, 'server did not send the file');
    }
    await checkContentLength(response, shownUrl, expectedSize - part.size, expectedSize, part);
    await streamBody(response, part, request, shownUrl, expectedSize);
    return shownUrl;
  }
  throw new UnexpectedResponseError(request.url, 206, 'server answered the restarted download with a partial range');
}

async function requestFollowingRedirects(
  request: DownloadRequest,
  headers: Record<string, string>,
): Promise<{ response: IncomingMessage; target: CheckedUrl }> {
  const { policy, signal } = request;
  const maxRedirects = policy.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const connection: ConnectionPolicy = {
    allowPrivateAddresses: policy.allowPrivateAddresses,
    pins: policy.pins,
    ca: policy.ca,
    timeoutMs: policy.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
  let target = checkDownloadUrl(request.url, policy);
  for (let hop = 0; ; hop++) {
    const response = await openGuardedRequest(target, headers, connection, signal);
    const status = response.statusCode ?? 0;
    if (!REDIRECT_STATUSES.has(status)) return { response, target };
    response.destroy();
    const location = response.headers.location;
    if (location === undefined || location === '') {
      throw new UnexpectedResponseError(target.url.href, status, 'redirect without a Location header');
    }
    if (hop >= maxRedirects) throw new TooManyRedirectsError(request.url, maxRedirects);
    let next: URL;
    try {
      next = new URL(location, target.url);
    } catch {
      throw new InsecureUrlError(location, `redirect from ${target.url.href} is not a valid URL`);
    }
    target = checkDownloadUrl(next, policy);
  }
}

/** A 206 must continue exactly where the part ends, and describe the file we expect (when it says its size). */
function isMatchingRange(response: IncomingMessage, offset: number, expectedSize: number): boolean {
  const range = parseContentRange(response.headers['content-range']);
  if (range === undefined) return false;
  return range.start === offset && range.end < expectedSize && (range.total === undefined || range.total === expectedSize);
}

async function checkAnnouncedTotal(
  response: IncomingMessage,
  url: string,
  expectedSize: number,
  part: PartFile,
): Promise<void> {
  const total = parseContentRange(response.headers['content-range'])?.total;
  if (total !== undefined && total > expectedSize) {
    response.destroy();
    await part.remove();
    throw new DownloadTooLargeError(url, expectedSize, total, 'announced');
  }
}

function parseContentRange(header: string | undefined): { start: number; end: number; total?: number } | undefined {
  const match = /^bytes (\d{1,15})-(\d{1,15})\/(\d{1,15}|\*)$/.exec(header?.trim() ?? '');
  if (match === null) return undefined;
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end < start) return undefined;
  return { start, end, ...(match[3] === '*' ? {} : { total: Number(match[3]) }) };
}

async function checkContentLength(
  response: IncomingMessage,
  url: string,
  remaining: number,
  expectedSize: number,
  part: PartFile,
): Promise<void> {
  const header = response.headers['content-length'];
  if (header === undefined) return;
  const length = /^\d{1,15}$/.test(header) ? Number(header) : Number.NaN;
  if (length > remaining) {
    response.destroy();
    await part.remove();
    throw new DownloadTooLargeError(url, expectedSize, part.size + length, 'announced');
  }
  if (!(length === remaining)) {
    response.destroy();
    throw new UnexpectedResponseError(
      url,
      response.statusCode ?? 0,
      `server announced ${header} bytes but ${remaining} of ${expectedSize} are missing`,
    );
  }
}

async function streamBody(
  response: IncomingMessage,
  part: PartFile,
  request: DownloadRequest,
  url: string,
  expectedSize: number,
): Promise<void> {
  const report = createProgressReporter(part.size, expectedSize, request.onProgress);
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      if (part.size + chunk.length > expectedSize) {
        response.destroy();
        const sent = part.size + chunk.length;
        await part.remove();
        throw new DownloadTooLargeError(url, expectedSize, sent, 'sent');
      }
      await part.append(chunk);
      report(part.size, false);
    }
  } catch (error) {
    response.destroy();
    throw error;
  }
  report(part.size, true);
  if (part.size < expectedSize) {
    throw new DownloadInterruptedError(url, part.size, expectedSize, 'the server ended the response early');
  }
}

/** Transport failures once every check passed (reset, timeout, refused) end as a resumable interruption. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Aborts surface as the signal's reason; transport failures become `DownloadInterruptedError`; the rest is kept. */
function translateTransferError(error: unknown, request: DownloadRequest, received: number): unknown {
  if (request.signal?.aborted === true) return request.signal.reason;
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  if (!(error instanceof ConnectionTimeoutError) && !(code !== undefined && TRANSIENT_CODES.has(code))) return error;
  const reason = code === undefined ? (error as Error).message : `${code}: ${(error as Error).message}`;
  return new DownloadInterruptedError(request.url, received, request.expectedSize, reason);
}

function createProgressReporter(
  startBytes: number,
  total: number,
  onProgress: DownloadRequest['onProgress'],
): (received: number, final: boolean) => void {
  const samples: Array<[time: number, bytes: number]> = [[performance.now(), startBytes]];
  let lastReport = 0;
  return (received, final) => {
    if (onProgress === undefined) return;
    const now = performance.now();
    if (!final && now - lastReport < PROGRESS_INTERVAL_MS) return;
    lastReport = now;
    samples.push([now, received]);
    while (samples.length > 2 && now - samples[0]![0] > RATE_WINDOW_MS) samples.shift();
    const [startTime, startReceived] = samples[0]!;
    const seconds = (now - startTime) / 1000;
    onProgress(received, total, seconds > 0 ? (received - startReceived) / seconds : 0);
  };
}

function validateSha256(value: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(value)) {
    throw new InvalidDownloadRequestError('expectedSha256', 'must be 64 hexadecimal characters');
  }
  return value.toLowerCase();
}

function validateSize(value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidDownloadRequestError('expectedSize', 'must be a positive whole number of bytes');
  }
  return value;
}

function validatePolicyLimits(policy: DownloadPolicy): void {
  const { maxRedirects, timeoutMs } = policy;
  if (maxRedirects !== undefined && !(Number.isSafeInteger(maxRedirects) && maxRedirects >= 0 && maxRedirects <= 20)) {
    throw new InvalidDownloadRequestError('policy.maxRedirects', 'must be a whole number from 0 to 20');
  }
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new InvalidDownloadRequestError('policy.timeoutMs', 'must be a positive number of milliseconds');
  }
}

async function validateDestination(destination: string): Promise<string> {
  const path = resolve(destination);
  if (basename(path) === '' || destination.endsWith('/')) {
    throw new InvalidDownloadRequestError('destination', `${destination} is not a file path`);
  }
  const directory = await stat(dirname(path)).catch(() => undefined);
  if (directory?.isDirectory() !== true) {
    throw new InvalidDownloadRequestError('destination', `directory ${dirname(path)} does not exist`);
  }
  const existing = await lstat(path).catch(() => undefined);
  if (existing?.isDirectory() === true) {
    throw new InvalidDownloadRequestError('destination', `${path} is a directory`);
  }
  return path;
}
