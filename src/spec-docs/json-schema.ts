/**
 * JSON Schema from the zod schemas the code validates with, so the published
 * descriptions cannot drift from what the service accepts and sends.
 */
import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

/**
 * `io: 'input'` describes what a client may send (defaults make fields
 * optional); `output` what the service sends. Draft 2020-12 is OpenAPI
 * 3.1's dialect; AsyncAPI's own schema format is a draft-07 superset.
 */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output', target: 'draft-2020-12' | 'draft-7' = 'draft-2020-12'): JsonSchema {
  const out = z.toJSONSchema(schema, { io, target, unrepresentable: 'any' }) as JsonSchema;
  delete out.$schema;
  return out;
}
