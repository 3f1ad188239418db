/**
 * Errors of the model downloader, typed by what the user can do about them. Each message names the URL or host and
 * the rule that refused it, so the CLI can print it as one line and the server can return it as a 4xx.
 */

/** The URL is not an absolute `https:` URL without credentials (checked on the first URL and on every redirect). */
export class InsecureUrlError extends Error {
  override readonly name = 'InsecureUrlError';
  readonly url: string;

  constructor(url: string, rule: string) {
    super(`${url}: ${rule}; models are only downloaded over https from URLs without embedded credentials`);
    this.url = url;
  }
}

/** The URL's host is not on the download allowlist (checked on the first URL and on every redirect). */
export class HostNotAllowedError extends Error {
  override readonly name = 'HostNotAllowedError';
  readonly url: string;
  readonly host: string;

  constructor(url: string, host: string) {
    super(
      `${url}: host ${JSON.stringify(host)} is not on the download allowlist; add it to the allowed hosts ` +
        'only if you trust it to serve models',
    );
    this.url = url;
    this.host = host;
  }
}

/** Where the refusal happened: the URL named the address, DNS returned it, or the socket ended up connected to it. */
export type ForbiddenAddressStage = 'url' | 'dns' | 'connect';

/**
 * The host is, resolves to, or connected to a loopback, private, link-local, metadata or otherwise non-public
 * address. Stages `url` and `dns` are refused before any connection is made.
 */
export class ForbiddenAddressError extends Error {
  override readonly name = 'ForbiddenAddressError';
  readonly host: string;
  readonly address: string;
  readonly stage: ForbiddenAddressStage;

  constructor(host: string, address: string, stage: ForbiddenAddressStage) {
    const how = stage === 'url' ? 'is' : stage === 'dns' ? 'resolves to' : 'connected to';
    super(
      `${host}: ${how} ${address}, which is not a public internet address (loopback, private, link-local, ` +
        'metadata, multicast or reserved); downloads never reach the local machine or network',
    );
    this.host = host;
    this.address = address;
    this.stage = stage;
  }
}

/** The server's certificate failed verification (untrusted issuer, expired, wrong name): it is not who it claims. */
export class UntrustedCertificateError extends Error {
  override readonly name = 'UntrustedCertificateError';
  readonly host: string;
  readonly code: string;

  constructor(host: string, code: string, detail: string) {
    super(
      `${host}: certificate not trusted (${code}: ${detail}); the connection may be intercepted. Verification ` +
        'cannot be turned off',
    );
    this.host = host;
    this.code = code;
  }
}

/** The server's certificate chain holds none of the SPKI SHA-256 pins configured for its host. */
export class CertificatePinMismatchError extends Error {
  override readonly name = 'CertificatePinMismatchError';
  readonly host: string;
  readonly found: string[];

  constructor(host: string, found: string[]) {
    super(
      `${host}: certificate matches none of the pinned public keys (chain has sha256/${found.join(', sha256/')}); ` +
        'the connection may be intercepted, or the host rotated its key and the pins need updating',
    );
    this.host = host;
    this.found = found;
  }
}

/** The server announced or sent more bytes than the expected size of the file. */
export class DownloadTooLargeError extends Error {
  override readonly name = 'DownloadTooLargeError';
  readonly url: string;
  readonly expectedSize: number;
  readonly announcedOrReceived: number;

  constructor(url: string, expectedSize: number, announcedOrReceived: number, how: 'announced' | 'sent') {
    super(
      `${url}: server ${how} ${announcedOrReceived} bytes but the file is expected to be ${expectedSize} bytes; ` +
        'refusing it (wrong file or wrong size in the model list)',
    );
    this.url = url;
    this.expectedSize = expectedSize;
    this.announcedOrReceived = announcedOrReceived;
  }
}

/** The downloaded bytes do not hash to the expected SHA-256; nothing was kept. */
export class ChecksumMismatchError extends Error {
  override readonly name = 'ChecksumMismatchError';
  readonly url: string;
  readonly expected: string;
  readonly found: string;

  constructor(url: string, expected: string, found: string) {
    super(
      `${url}: SHA-256 is ${found}, expected ${expected}; the download was discarded. The server is serving a ` +
        'different file than the one recorded; check the model list before trusting it',
    );
    this.url = url;
    this.expected = expected;
    this.found = found;
  }
}

/** The server redirected more times than allowed. */
export class TooManyRedirectsError extends Error {
  override readonly name = 'TooManyRedirectsError';
  readonly url: string;
  readonly maxRedirects: number;

  constructor(url: string, maxRedirects: number) {
    super(`${url}: more than ${maxRedirects} redirects; refusing to follow further`);
    this.url = url;
    this.maxRedirects = maxRedirects;
  }
}

/** The server answered in a way a model download cannot use (error status, missing Location, wrong length). */
export class UnexpectedResponseError extends Error {
  override readonly name = 'UnexpectedResponseError';
  readonly url: string;
  readonly status: number;

  constructor(url: string, status: number, detail: string) {
    super(`${url}: ${detail} (HTTP ${status})`);
    this.url = url;
    this.status = status;
  }
}

/**
 * The transfer stopped early (connection cut, timeout). The bytes received so far are kept in the `.part` file and
 * the next download of the same destination resumes from there.
 */
export class DownloadInterruptedError extends Error {
  override readonly name = 'DownloadInterruptedError';
  readonly url: string;
  readonly bytesReceived: number;
  readonly expectedSize: number;
  readonly resumable = true;

  constructor(url: string, bytesReceived: number, expectedSize: number, reason: string) {
    super(
      `${url}: interrupted after ${bytesReceived} of ${expectedSize} bytes (${reason}); run the download again ` +
        'to resume',
    );
    this.url = url;
    this.bytesReceived = bytesReceived;
    this.expectedSize = expectedSize;
  }
}

/** The download request itself is malformed (bad hash, size or destination): fix the model list or the call. */
export class InvalidDownloadRequestError extends Error {
  override readonly name = 'InvalidDownloadRequestError';
  readonly field: string;

  constructor(field: string, rule: string) {
    super(`${field}: ${rule}`);
    this.field = field;
  }
}
