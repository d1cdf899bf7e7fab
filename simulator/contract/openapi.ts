import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/**
 * PagerDuty's REST OpenAPI 3.0 description, from github.com/PagerDuty/api-schema at commit 91a06fb
 * (2026-08-14), file reference/REST/openapiv3.json, SHA-256
 * b2e80f8b83b170f29702e96a69adf230702b4ec43dddab7e348a2985c707ef35, stored gzip-compressed.
 */
const SPEC_FILE = new URL('./pagerduty-rest-openapiv3.json.gz', import.meta.url);
const SPEC_ID = 'pagerduty-rest';

type JsonObject = Record<string, unknown>;

export interface SchemaPatch {
  /** JSON pointer into the description, e.g. `/components/schemas/AcknowledgeLogEntry`. */
  pointer: string;
  /** The reason the published description is wrong there, and the change the patch makes. */
  reason: string;
  apply: (node: JsonObject) => void;
}

export function loadSpec(): JsonObject {
  return JSON.parse(gunzipSync(readFileSync(SPEC_FILE)).toString('utf8')) as JsonObject;
}

function resolvePointer(root: JsonObject, pointer: string): JsonObject {
  let node: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || !(key in node)) throw new Error(`JSON pointer ${pointer} does not resolve at "${key}"`);
    node = (node as JsonObject)[key];
  }
  if (typeof node !== 'object' || node === null) throw new Error(`JSON pointer ${pointer} does not name an object`);
  return node as JsonObject;
}

/**
 * Rewrites OpenAPI 3.0's `nullable: true` on schemas without a `type` (beside `anyOf`, `allOf` or
 * `$ref`) as `anyOf: [schema, {type: 'null'}]`, which means the same and which Ajv can compile.
 */
function normalizeUntypedNullable(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) normalizeUntypedNullable(item);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const schema = node as JsonObject;
  for (const value of Object.values(schema)) normalizeUntypedNullable(value);
  if (schema.nullable === true && schema.type === undefined) {
    const { nullable: _nullable, description, ...rest } = schema;
    for (const key of Object.keys(schema)) delete schema[key];
    if (description !== undefined) schema.description = description;
    schema.anyOf = [rest, { type: 'null' }];
  }
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Validates simulator responses against the response schemas of PagerDuty's OpenAPI description. */
export class ContractValidator {
  private readonly ajv: Ajv;
  private readonly spec: JsonObject;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(patches: readonly SchemaPatch[] = []) {
    this.spec = loadSpec();
    for (const patch of patches) patch.apply(resolvePointer(this.spec, patch.pointer));
    normalizeUntypedNullable(this.spec);

    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true, discriminator: false });
    const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
    addFormats(this.ajv);
    // Formats the description uses beyond JSON Schema's own: `url` is a URI, `tzinfo` an IANA zone name.
    this.ajv.addFormat('url', true);
    this.ajv.addFormat('tzinfo', true);
    this.ajv.addSchema(this.spec, SPEC_ID);
  }

  /** Returns the JSON pointer of the response schema for an operation and status. */
  responsePointer(method: string, pathTemplate: string, status: number): string {
    const operationPointer = `/paths/${escapePointer(pathTemplate)}/${method.toLowerCase()}`;
    const responses = resolvePointer(this.spec, operationPointer).responses as JsonObject | undefined;
    const documented = responses?.[String(status)] as JsonObject | undefined;
    if (documented === undefined) throw new Error(`${method} ${pathTemplate} documents no ${status} response`);
    // Error responses are usually shared components: `{"$ref": "#/components/responses/Unauthorized"}`.
    const responsePointer = typeof documented.$ref === 'string' ? documented.$ref.slice(1) : `${operationPointer}/responses/${status}`;
    return `${responsePointer}/content/application~1json/schema`;
  }

  /** Validates `body`; returns the failures, empty when it matches. */
  validate(method: string, pathTemplate: string, status: number, body: unknown): ErrorObject[] {
    return this.validateAt(this.responsePointer(method, pathTemplate, status), body);
  }

  /** Validates `body` against the schema at a JSON pointer into the description. */
  validateAt(pointer: string, body: unknown): ErrorObject[] {
    let validator = this.validators.get(pointer);
    if (validator === undefined) {
      validator = this.ajv.compile({ $ref: `${SPEC_ID}#${pointer}` });
      this.validators.set(pointer, validator);
    }
    return validator(body) ? [] : [...(validator.errors ?? [])];
  }
}
