/**
 * The configuration, as one TypeBox schema: every key with its type, bounds, default and a description a user can
 * read. Objects refuse unknown keys at every level, so a typo (`server.prot`) is an error rather than a silently
 * ignored setting. The defaults are the secure ones: loopback only, no insecure permissions, https downloads from
 * a short list of hosts.
 */
import { KindGuard, Type, type Static, type TSchema } from '@sinclair/typebox';
import { IMAGE_SIZE_LIMITS, MAX_IMAGES_PER_REQUEST, MAX_PROMPT_CHARS } from '../../engine/pipeline/generation-request.ts';
import { MAX_STEPS } from '../../engine/sampling/sigmas.ts';
import { GENERATION_DEFAULTS } from '../generation/generation-defaults.ts';
import { MEMORY_SETTINGS } from '../generation/memory-mode.ts';

const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$', hint: 'a SHA-256 as 64 lowercase hex digits' });

/** User and token names: what a principal is called in logs and job ownership. */
export const AUTH_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const AuthName = Type.String({ pattern: AUTH_NAME_PATTERN, hint: 'a name of letters, digits, dot, dash or underscore (at most 64)' });

/**
 * `scrypt$N$r$p$salt$hash` (base64 salt and hash), as `fooocus users add` writes it. The pattern checks the shape;
 * load-config then checks the cost bounds and lengths with the same function the server verifies with.
 */
const PasswordHash = Type.String({
  maxLength: 256,
  pattern: '^scrypt\\$[0-9]{1,10}\\$[0-9]{1,3}\\$[0-9]{1,3}\\$[A-Za-z0-9+/]+={0,2}\\$[A-Za-z0-9+/]+={0,2}$',
  hint: 'a scrypt password hash as `npm run fooocus -- users add` writes it (scrypt$N$r$p$salt$hash)',
});

/** A Host header value: a lowercase name or IPv4 address, or a bracketed IPv6 address, with an optional port. */
const HostHeader = Type.String({
  maxLength: 261,
  pattern: '^([a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\\[[0-9a-f:.]+\\])(:[0-9]{1,5})?$',
  hint: 'a lowercase host name or address with an optional :port (no scheme or path)',
});

const HostName = Type.String({
  maxLength: 253,
  pattern: '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$',
  hint: 'a lowercase host name without scheme, port or path',
});

const HostPattern = Type.String({
  maxLength: 253,
  pattern: '^(\\*\\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$',
  hint: 'a lowercase host name, or *.domain for its subdomains (no scheme, port or path)',
});

/** Base64 SHA-256 of a certificate's SubjectPublicKeyInfo, as `fooocus` and `openssl` print it. */
const SpkiPin = Type.String({ pattern: '^(sha256/)?[A-Za-z0-9+/]{43}=$', hint: 'a base64 SPKI SHA-256 pin (44 characters)' });

const pathOptions = { minLength: 1, maxLength: 4096, pattern: '^[^\\x00]+$', hint: 'a non-empty path' };

/** The shape only; load-config parses it with the same parser the queue connects with (host, port, database). */
const REDIS_URL_OPTIONS = { minLength: 10, maxLength: 1024, pattern: '^rediss?://[^\\s]+$', hint: 'a redis:// or rediss:// URL' };

/**
 * Where model downloads may go (every redirect hop is checked too). Hugging Face answers `/resolve/` URLs with a
 * redirect to its storage: Xet-backed repositories go to `cas-bridge.xethub.hf.co` or `transfer.xethub(-eu).hf.co`,
 * older LFS repositories to `cdn-lfs(-us-1|-eu-1).hf.co` (formerly `cdn-lfs*.huggingface.co`), and large files are
 * increasingly served from geo-routed edges under `*.cdn.hf.co` (`us.aws.cdn.hf.co`, `us.gcp.cdn.hf.co`, ...), as
 * listed in https://huggingface.co/.well-known/meta.json. All of these are Hugging Face's own names. Civitai's API
 * redirects to presigned object-storage URLs on account-specific hosts (Cloudflare R2, Backblaze B2) that are not
 * listed here: such a download stops with an error naming the host, which the user can add after checking it.
 * Every file is still verified against its SHA-256 before it is used, whatever host served it.
 */
export const DEFAULT_ALLOWED_HOSTS: readonly string[] = [
  'huggingface.co',
  'hf.co',
  'cas-bridge.xethub.hf.co',
  'transfer.xethub.hf.co',
  'transfer.xethub-eu.hf.co',
  'cdn-lfs.hf.co',
  'cdn-lfs-us-1.hf.co',
  'cdn-lfs-eu-1.hf.co',
  '*.cdn.hf.co',
  'cdn-lfs.huggingface.co',
  'cdn-lfs-us-1.huggingface.co',
  'cdn-lfs-eu-1.huggingface.co',
  'civitai.com',
];

export const EXECUTION_PROVIDERS = ['cpu', 'cuda', 'dml', 'coreml'] as const;
export const PRECISIONS = ['fp32', 'int8', 'fp16'] as const;

const strict = { additionalProperties: false } as const;

export const AppConfigSchema = Type.Object(
  {
    server: Type.Object(
      {
        host: Type.String({
          minLength: 1,
          maxLength: 253,
          pattern: '^[A-Za-z0-9.:-]+$',
          hint: 'an IP address or host name',
          default: '127.0.0.1',
          description: 'Address the web server listens on. Anything but loopback needs server.auth users or tokens.',
        }),
        port: Type.Integer({ minimum: 1, maximum: 65535, default: 7865, description: 'TCP port of the web server.' }),
        allowedHosts: Type.Array(HostHeader, {
          maxItems: 64,
          default: [],
          description:
            'Host header values the server answers to (DNS-rebinding protection; others get 421). Empty: 127.0.0.1, ' +
            'localhost and [::1] at the port it listens on. List the names clients really use when it is reached over ' +
            'a network or through a proxy (`192.168.1.20:7865`, `studio.example.com`); the list replaces the loopback names.',
        }),
        auth: Type.Object(
          {
            users: Type.Array(
              Type.Object(
                {
                  name: AuthName,
                  role: Type.Union([Type.Literal('user'), Type.Literal('admin')], { description: 'An admin sees every user’s jobs and images.' }),
                  passwordHash: PasswordHash,
                },
                { ...strict, description: 'A user who signs in to the page with a password.' },
              ),
              { maxItems: 256, default: [], description: 'People who may sign in (`npm run fooocus -- users add` writes these). Each sees only their own jobs and images.' },
            ),
            tokens: Type.Array(
              Type.Object(
                {
                  name: AuthName,
                  owner: Type.String({ ...AuthName, description: 'The user the token acts as, with that user’s role (one of server.auth.users).' }),
                  sha256: Sha256Hex,
                },
                { ...strict, description: 'An API token, stored as its SHA-256 only.' },
              ),
              {
                maxItems: 256,
                default: [],
                description:
                  'API tokens for scripts (`npm run fooocus -- tokens create` writes these; the token itself is shown once and never stored). ' +
                  'No users and no tokens means no authentication, which is only allowed while the server listens on loopback.',
              },
            ),
          },
          { ...strict, description: 'Who may use the API.' },
        ),
        rateLimit: Type.Object(
          {
            readsPerMinute: Type.Integer({ minimum: 1, maximum: 1000000, default: 300, description: 'Requests per client per minute other than the submissions below.' }),
            submitsPerMinute: Type.Integer({
              minimum: 1,
              maximum: 100000,
              default: 20,
              description: 'Generation requests (submit, retry), uploads and sign-in attempts per client per minute.',
            }),
          },
          { ...strict, description: 'Per-client rate limits (by user when signed in, else by IP address); over one is 429 with Retry-After.' },
        ),
        quotas: Type.Object(
          {
            maxPromptChars: Type.Integer({ minimum: 1, maximum: MAX_PROMPT_CHARS, default: 8000, description: 'Longest prompt or negative prompt, in characters.' }),
            maxPixels: Type.Integer({
              minimum: 64 * 64,
              maximum: IMAGE_SIZE_LIMITS.max ** 2,
              default: 2048 * 2048,
              description: 'Largest width x height of an image (default 2048 x 2048 = 4194304).',
            }),
            maxSteps: Type.Integer({ minimum: 1, maximum: MAX_STEPS, default: 200, description: 'Most sampling steps a request may ask for.' }),
            maxImages: Type.Integer({ minimum: 1, maximum: MAX_IMAGES_PER_REQUEST, default: 32, description: 'Most images per request.' }),
            maxUploadBytes: Type.Integer({
              minimum: 1024,
              maximum: 1024 ** 3,
              default: 20 * 1024 ** 2,
              description: 'Largest uploaded input image, in bytes (default 20 MiB = 20971520). Its pixels must also fit maxPixels.',
            }),
          },
          { ...strict, description: 'Per-request limits of the HTTP API (the server’s quotas); a request over one is refused with 400 naming the field.' },
        ),
        secureCookies: Type.Boolean({
          default: false,
          description: 'Mark the session cookie Secure, so browsers send it over HTTPS only: set it when the page is served over HTTPS (behind a TLS proxy).',
        }),
        maxQueuedJobs: Type.Integer({
          minimum: 1,
          maximum: 1024,
          default: 16,
          description: 'Generation jobs one client (a user, or everyone when there is no sign-in) may have waiting; further submissions are refused until one starts.',
        }),
      },
      { ...strict, description: 'The web server.' },
    ),
    uploads: Type.Object(
      {
        maxPerOwner: Type.Integer({
          minimum: 1,
          maximum: 100000,
          default: 100,
          description: 'Uploaded input images one owner (a user, or everyone when there is no sign-in) may keep; further uploads get 429 until one is deleted or expires.',
        }),
        maxBytesPerOwner: Type.Integer({
          minimum: 1024 ** 2,
          maximum: 1024 ** 4,
          default: 512 * 1024 ** 2,
          description: 'Bytes of stored uploads (as re-encoded PNG) one owner may keep (default 512 MiB = 536870912).',
        }),
        expireAfterMinutes: Type.Integer({
          minimum: 1,
          maximum: 30 * 24 * 60,
          default: 24 * 60,
          description: 'An upload no job has used for this long is deleted (default 1440 = 24 h); one a queued or running job names is kept.',
        }),
      },
      { ...strict, description: 'Input images for image-to-image jobs.' },
    ),
    paths: Type.Object(
      {
        models: Type.String({
          ...pathOptions,
          default: './models',
          description: 'Models directory (with its trust.json). Relative paths resolve against the config file directory.',
        }),
        outputs: Type.String({ ...pathOptions, default: './outputs', description: 'Where generated images are written.' }),
        cache: Type.String({ ...pathOptions, default: './.cache', description: 'Hash cache and built ONNX graphs; safe to delete.' }),
      },
      { ...strict, description: 'Directories. Relative paths in the file resolve against its directory; elsewhere against the working directory.' },
    ),
    runtime: Type.Object(
      {
        executionProvider: Type.Union(
          EXECUTION_PROVIDERS.map((p) => Type.Literal(p)),
          { default: 'cpu', description: 'ONNX Runtime execution provider: cpu, cuda, dml (Windows) or coreml (macOS).' },
        ),
        threads: Type.Integer({ minimum: 0, maximum: 1024, default: 0, description: 'Inference threads; 0 uses all cores.' }),
        precision: Type.Union(
          PRECISIONS.map((p) => Type.Literal(p)),
          {
            default: 'fp32',
            description: 'UNet arithmetic: fp32; int8 (linear and conv weights quantized once per checkpoint into the cache folder; faster on CPUs with VNNI or AMX, slightly different images); or fp16 (UNet and text encoders in half precision for GPU providers; the VAE stays fp32; on the cpu provider it runs, slower than fp32).',
          },
        ),
        memory: Type.Union(
          MEMORY_SETTINGS.map((m) => Type.Literal(m)),
          {
            default: 'auto',
            description: 'resident keeps every model part of a job built; per-phase builds the text encoders, the UNet and the VAE in turn, releasing each (less memory, slower); auto picks per-phase when free memory is short.',
          },
        ),
      },
      { ...strict, description: 'Inference runtime.' },
    ),
    downloads: Type.Object(
      {
        allowedHosts: Type.Array(HostPattern, {
          maxItems: 256,
          default: [...DEFAULT_ALLOWED_HOSTS],
          description: 'Hosts model downloads may contact, redirects included (exact names; *.domain for subdomains).',
        }),
        pins: Type.Record(HostName, Type.Array(SpkiPin, { minItems: 1, maxItems: 16 }), {
          additionalProperties: false,
          keyHint: 'a lowercase host name',
          default: {},
          description: 'Optional SPKI SHA-256 pins per host; when a host has pins, one must match its certificate chain.',
        }),
        maxRedirects: Type.Integer({ minimum: 0, maximum: 10, default: 5, description: 'Redirect hops a download may follow.' }),
      },
      { ...strict, description: 'Model downloads (always https, always verified against a known SHA-256).' },
    ),
    generation: Type.Object(
      {
        defaultModel: Type.Union([Type.Null(), Type.String({ minLength: 1, maxLength: 255 })], {
          default: null,
          description: 'Checkpoint name (as `npm run fooocus -- models list` shows it) used when a request names none; null: requests must name one.',
        }),
        defaultSteps: Type.Integer({
          minimum: 1,
          maximum: 200,
          default: GENERATION_DEFAULTS.steps,
          description: 'Sampling steps when a request gives none.',
        }),
      },
      { ...strict, description: 'Defaults for generation requests.' },
    ),
    queue: Type.Object(
      {
        backend: Type.Union([Type.Literal('local'), Type.Literal('redis')], {
          default: 'local',
          description:
            'Where jobs wait and run: local (a SQLite queue and one inference process on this machine) or redis (BullMQ on ' +
            'queue.redisUrl, run by `fooocus worker` processes on any machine; the server keeps history and output files).',
        }),
        redisUrl: Type.Union([Type.Null(), Type.String({ ...REDIS_URL_OPTIONS })], {
          default: null,
          description:
            'Redis for the redis backend and `fooocus worker`: redis://[:password@]host[:port][/db], or rediss:// for TLS. ' +
            'A password here is hidden by `config show`; queue.redisPasswordFile keeps it out of this file.',
        }),
        redisPasswordFile: Type.Union([Type.Null(), Type.String(pathOptions)], {
          default: null,
          description: 'A file holding the Redis password (first line), read at start; it must not be readable by group or others.',
        }),
        redisPrefix: Type.String({
          minLength: 1,
          maxLength: 64,
          pattern: '^[A-Za-z0-9_-]+$',
          default: 'fooocus',
          hint: 'letters, digits, dash or underscore',
          description: 'Prefix of every Redis key, so several studios can share one Redis.',
        }),
        localWorker: Type.Boolean({
          default: true,
          description: 'With the redis backend, also run jobs in the server’s own inference process (`serve --redis` turns it off unless --local-worker).',
        }),
        workerConcurrency: Type.Integer({ minimum: 1, maximum: 64, default: 1, description: 'Jobs one worker runs at a time (each in its own inference process).' }),
        workerModels: Type.Union([Type.Literal('verify'), Type.Literal('pull')], {
          default: 'verify',
          description:
            'What a worker does about a model a job names that it lacks: verify (refuse the job naming the model) or pull ' +
            '(download it from the signed catalog when the catalog has that SHA-256, then run).',
        }),
        providers: Type.Array(Type.Union(EXECUTION_PROVIDERS.map((p) => Type.Literal(p))), {
          uniqueItems: true,
          maxItems: EXECUTION_PROVIDERS.length,
          default: [],
          description:
            'With the redis backend: the execution providers a job may run on (each worker announces its ' +
            'runtime.executionProvider); a job waits in line for a worker running one of them. Empty: any worker.',
        }),
        maxResultBytes: Type.Integer({
          minimum: 1024 ** 2,
          maximum: 512 * 1024 ** 2,
          default: 64 * 1024 ** 2,
          description: 'Largest image a worker may send back through Redis, in bytes (default 64 MiB = 67108864); a larger one fails its job.',
        }),
      },
      { ...strict, description: 'The job queue: local, or Redis (BullMQ) with inference on worker machines.' },
    ),
    security: Type.Object(
      {
        allowInsecurePermissions: Type.Boolean({
          default: false,
          description:
            'Warn instead of refusing when the models directory is writable by group or others. Does not excuse the ' +
            'config file itself (a writable config could set this); use --insecure-permissions for that.',
        }),
      },
      { ...strict, description: 'Safety checks.' },
    ),
  },
  { ...strict, description: 'Fooocus-TS configuration (fooocus.config.json).' },
);

/** The resolved configuration: every key present, paths absolute. */
export type AppConfig = Static<typeof AppConfigSchema>;

/** A dotted key path to a leaf (`server.port`); arrays and records are leaves. */
export type ConfigKey = string;

/** The schema with every key optional at every level: what a config file may contain. Unknown keys stay refused. */
export function buildFileSchema(schema: TSchema = AppConfigSchema): TSchema {
  if (!KindGuard.IsObject(schema)) return schema;
  const properties = Object.fromEntries(
    Object.entries(schema.properties).map(([key, child]) => [key, Type.Optional(buildFileSchema(child))]),
  );
  return Type.Object(properties, { additionalProperties: false, description: schema.description });
}

/** The leaf keys of the schema in declaration order, each with its schema. */
export function listConfigKeys(schema: TSchema = AppConfigSchema, prefix = ''): { key: ConfigKey; schema: TSchema }[] {
  if (!KindGuard.IsObject(schema)) return [{ key: prefix, schema }];
  return Object.entries(schema.properties).flatMap(([name, child]) => listConfigKeys(child, prefix === '' ? name : `${prefix}.${name}`));
}

/** The schema of one leaf key, or undefined for a key the configuration does not have. */
export function findKeySchema(key: ConfigKey): TSchema | undefined {
  let schema: TSchema = AppConfigSchema;
  for (const part of key.split('.')) {
    if (!KindGuard.IsObject(schema) || !Object.hasOwn(schema.properties, part)) return undefined;
    schema = schema.properties[part]!;
  }
  return KindGuard.IsObject(schema) ? undefined : schema;
}

/** A fresh copy of the defaults (paths still relative). */
export function createDefaultConfig(): AppConfig {
  const config: Record<string, unknown> = {};
  for (const { key, schema } of listConfigKeys()) setKey(config, key, structuredClone(schema.default));
  return config as AppConfig;
}

/** Reads a leaf by dotted key. */
export function getKey(config: object, key: ConfigKey): unknown {
  let node: unknown = config;
  for (const part of key.split('.')) node = (node as Record<string, unknown>)[part];
  return node;
}

/** Writes a leaf by dotted key, creating intermediate objects. */
export function setKey(config: object, key: ConfigKey, value: unknown): void {
  const parts = key.split('.');
  let node = config as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}
