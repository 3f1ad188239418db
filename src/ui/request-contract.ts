/**
 * What the server accepts in a generate request, read from its OpenAPI document (`GET /api/openapi.json`, built
 * from the route's own schema): the performance modes, output formats and metadata schemes it lists, and the
 * bounds of every number. The page sets its controls from this, so the form offers exactly what the API takes
 * and no list or limit is written twice.
 */

export interface NumberLimits {
  min: number;
  max: number;
  /** An integer field (step 1); otherwise the control keeps its own display step. */
  integer: boolean;
}

export interface GenerateContract {
  /** Every top-level field the request takes: the page sends no other and hides controls for fields not here. */
  fields: ReadonlySet<string>;
  performanceModes: string[];
  formats: string[];
  /** Empty when the server does not let a request choose. */
  metadataSchemes: string[];
  /** How the refiner may take over (joint, separate, vae); empty when the server does not let a request choose. */
  refinerSwitchMethods: string[];
  /** Upscale or Variation modes; empty when the server takes no `varyUpscale`. */
  varyUpscaleModes: string[];
  /** Inpaint methods and engines; empty when the server takes no `inpaint`. */
  inpaintModes: string[];
  inpaintEngines: string[];
  /** The server previews PyraCanny and CPDS maps (POST /api/v1/image-prompts/preview). */
  imagePromptPreview?: boolean;
  /** By request field; nested fields by dotted path (`admScalers.end`), list items with `[]` (`loras[].weight`). */
  limits: ReadonlyMap<string, NumberLimits>;
}

type Rec = Record<string, unknown>;

const isRecord = (value: unknown): value is Rec => typeof value === 'object' && value !== null && !Array.isArray(value);

export class ContractError extends Error {
  override readonly name = 'ContractError';
}

/** The generate body's schema out of the OpenAPI document; a document without it is refused by name. */
function generateBodySchema(doc: unknown): Rec {
  const paths = isRecord(doc) && isRecord(doc.paths) ? doc.paths : undefined;
  const post = paths !== undefined && isRecord(paths['/api/v1/generate']) ? paths['/api/v1/generate'].post : undefined;
  const body = isRecord(post) && isRecord(post.requestBody) ? post.requestBody.content : undefined;
  const json = isRecord(body) && isRecord(body['application/json']) ? body['application/json'].schema : undefined;
  if (!isRecord(json) || !isRecord(json.properties)) throw new ContractError('The server\'s API description has no schema for POST /api/v1/generate.');
  return json.properties;
}

function readEnum(properties: Rec, field: string, required = true): string[] {
  const schema = properties[field];
  if (schema === undefined && !required) return [];
  const values = isRecord(schema) ? schema.enum : undefined;
  if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'string')) {
    throw new ContractError(`The server's API description lists no values for ${field}.`);
  }
  return values;
}

/** The values a nested field lists (`inpaint` > `engine`); empty when the server has no such field. */
function readNestedEnum(properties: Rec, parent: string, field: string): string[] {
  const schema = properties[parent];
  const nested = isRecord(schema) && isRecord(schema.properties) ? schema.properties[field] : undefined;
  const values = isRecord(nested) ? nested.enum : undefined;
  return Array.isArray(values) && values.every((v) => typeof v === 'string') ? values : [];
}

function collectLimits(properties: Rec, prefix: string, into: Map<string, NumberLimits>): void {
  for (const [name, schema] of Object.entries(properties)) {
    if (!isRecord(schema)) continue;
    const field = prefix + name;
    if (schema.type === 'object' && isRecord(schema.properties)) collectLimits(schema.properties, `${field}.`, into);
    if (schema.type === 'array' && isRecord(schema.items) && isRecord(schema.items.properties)) collectLimits(schema.items.properties, `${field}[].`, into);
    if (schema.type !== 'number' && schema.type !== 'integer') continue;
    const min = typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum : undefined;
    const max = typeof schema.maximum === 'number' ? schema.maximum : undefined;
    if (min !== undefined && max !== undefined) into.set(field, { min, max, integer: schema.type === 'integer' });
  }
}

export function readGenerateContract(doc: unknown): GenerateContract {
  const properties = generateBodySchema(doc);
  const limits = new Map<string, NumberLimits>();
  collectLimits(properties, '', limits);
  return {
    fields: new Set(Object.keys(properties)),
    performanceModes: readEnum(properties, 'performance'),
    formats: readEnum(properties, 'format'),
    metadataSchemes: readEnum(properties, 'metadataScheme', false),
    refinerSwitchMethods: readEnum(properties, 'refinerSwitchMethod', false),
    varyUpscaleModes: readNestedEnum(properties, 'varyUpscale', 'mode'),
    inpaintModes: readNestedEnum(properties, 'inpaint', 'mode'),
    inpaintEngines: readNestedEnum(properties, 'inpaint', 'engine'),
    imagePromptPreview: isRecord(doc) && isRecord(doc.paths) && isRecord(doc.paths['/api/v1/image-prompts/preview']),
    limits,
  };
}
