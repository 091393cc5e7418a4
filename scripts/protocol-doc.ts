// Renders the control-plane schema section of docs/PROTOCOL.md from the TypeBox schemas the coordinator validates with.
import { CONTROL_SCHEMAS, CONTROL_LIMITS, PROTOCOL_VERSION, MEMBER_STATES, MEMBER_EVENT_TYPES } from '../src/protocol/control.js';

export const BEGIN = '<!-- BEGIN GENERATED control-schemas (npm run docs) -->';
export const END = '<!-- END GENERATED control-schemas -->';

/** The generated block, markers included. */
export function renderControlSchemas(): string {
  const lines = [
    BEGIN,
    '',
    `Protocol version: **${PROTOCOL_VERSION}**. Member states (append-only): ${MEMBER_STATES.map((s) => `\`${s}\``).join(', ')}.`,
    `Membership events (append-only): ${MEMBER_EVENT_TYPES.map((s) => `\`${s}\``).join(', ')}.`,
    `Limits: ${Object.entries(CONTROL_LIMITS).map(([k, v]) => `\`${k}\` = ${v}`).join(', ')}.`,
    '',
  ];
  for (const schema of CONTROL_SCHEMAS) {
    const id = (schema as { $id?: string }).$id ?? 'schema';
    lines.push(`#### ${id}`, '', '```json', JSON.stringify(schema, null, 2), '```', '');
  }
  lines.push(END);
  return lines.join('\n');
}

/** `doc` with its generated block replaced (or appended when the markers are missing). */
export function withControlSchemas(doc: string): string {
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) return `${doc.trimEnd()}\n\n${renderControlSchemas()}\n`;
  return doc.slice(0, start) + renderControlSchemas() + doc.slice(end + END.length);
}
