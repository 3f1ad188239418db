/**
 * Errors of the model downloader, typed by what the user can do about them. Each message names the URL or host and
 * the rule that refused it, so the CLI can print it as one line and the server can return it as a 4xx.
 */
import { FooocusError } from '../../engine/index.ts';

/** The URL is not an absolute `https:` URL without credentials (checked on the first URL and on every redirect). */
export class InsecureUrlError extends FooocusError {
  constructor(readonly url: string, rule: string) {
    super('invalid', `${url}: ${rule}; models are only downloaded over https from URLs without embedded credentials`, { rule: 'https' });
  }
}

/** The URL's host is not on the download allowlist (checked on the first URL and on every redirect). */
export class HostNotAllowedError extends FooocusError {
  constructor(readonly url: string, readonly host: string) {
    super(
      'invalid',
      `${url}: host ${JSON.stringify(host)} is not on the download allowlist; add it to the allowed hosts only if you trust it to serve models`,
      { rule: 'allowedHosts' },
    );
  }
}

/** Where the refusal happened: the URL named the address, DNS returned it, or the socket ended up connected to it. */
export type ForbiddenAddressStage = 'url' | 'dns' | 'connect';

/**
 * The host is, resolves to, or connected to a loopback, private, link-local, metadata or otherwise non-public
 * address. Stages `url` and `dns` are refused before any connection is made.
 */
export class ForbiddenAddressError extends FooocusError {
  constructor(readonly host: string, readonly address: string, readonly stage: ForbiddenAddressStage) {
    const how = stage === 'url' ? 'is' : stage === 'dns' ? 'resolves to' : 'connected to';
    super(
      'invalid',
      `${host}: ${how} ${address}, which is not a public internet address (loopback, private, link-local, ` +
        'metadata, multicast or reserved); downloads never reach the local machine or network',
      { rule: 'publicAddress' },
    );
  }
}

/** The server's certificate failed verification (untrusted issuer, expired, wrong name): it is not who it claims. */
export class UntrustedCertificateError extends FooocusError {
  constructor(readonly host: string, readonly code: string, detail: string) {
    super('invalid', `${host}: certificate not trusted (${code}: ${detail}); the connection may be intercepted. Verification cannot be turned off`);
  }
}

/** The server's certificate chain holds none of the SPKI SHA-256 pins configured for its host. */
export class CertificatePinMismatchError extends FooocusError {
  constructor(readonly host: string, readonly found: string[]) {
    super(
      'invalid',
      `${host}: certificate matches none of the pinned public keys (chain has sha256/${found.join(', sha256/')}); ` +
        'the connection may be intercepted, or the host rotated its key and the pins need updating',
    );
  }
}

/** The server announced or sent more bytes than the expected size of the file. */
export class DownloadTooLargeError extends FooocusError {
  constructor(
    readonly url: string,
    readonly expectedSize: number,
    readonly announcedOrReceived: number,
    how: 'announced' | 'sent',
  ) {
    super(
      'invalid',
      `${url}: server ${how} ${announcedOrReceived} bytes but the file is expected to be ${expectedSize} bytes; ` +
        'refusing it (wrong file or wrong size in the model list)',
      { limit: expectedSize },
    );
  }
}

/** The downloaded bytes do not hash to the expected SHA-256; nothing was kept. */
export class ChecksumMismatchError extends FooocusError {
  constructor(readonly url: string, readonly expected: string, readonly found: string) {
    super(
      'invalid',
      `${url}: SHA-256 is ${found}, expected ${expected}; the download was discarded. The server is serving a ` +
        'different file than the one recorded; check the model list before trusting it',
    );
  }
}

/** The server redirected more times than allowed. */
export class TooManyRedirectsError extends FooocusError {
  constructor(readonly url: string, readonly maxRedirects: number) {
    super('invalid', `${url}: more than ${maxRedirects} redirects; refusing to follow further`, { rule: 'maxRedirects', limit: maxRedirects });
  }
}

/** The server answered in a way a model download cannot use (error status, missing Location, wrong length). */
export class UnexpectedResponseError extends FooocusError {
  constructor(readonly url: string, readonly status: number, detail: string) {
    super('unavailable', `${url}: ${detail} (HTTP ${status})`);
  }
}

/**
 * The transfer stopped early (connection cut, timeout). The bytes received so far are kept in the `.part` file and
 * the next download of the same destination resumes from there.
 */
export class DownloadInterruptedError extends FooocusError {
  readonly resumable = true;

  constructor(readonly url: string, readonly bytesReceived: number, readonly expectedSize: number, reason: string) {
    super('unavailable', `${url}: interrupted after ${bytesReceived} of ${expectedSize} bytes (${reason}); run the download again to resume`);
  }
}

/** The download request itself is malformed (bad hash, size or destination): fix the model list or the call. */
export class InvalidDownloadRequestError extends FooocusError {
  constructor(field: string, rule: string) {
    super('invalid', `${field}: ${rule}`, { field });
  }
}
