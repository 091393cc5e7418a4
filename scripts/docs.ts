// `npm run docs`: regenerates the generated documents (docs/ERRORS.md; the control-plane schemas in docs/PROTOCOL.md).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { renderErrorsDoc } from '../src/protocol/errors/render.js';
import { withControlSchemas } from './protocol-doc.js';
import { withCommandTable } from './command-doc.js';

writeFileSync(new URL('../docs/ERRORS.md', import.meta.url), renderErrorsDoc());
console.log('wrote docs/ERRORS.md');

const protocol = new URL('../docs/PROTOCOL.md', import.meta.url);
const before = existsSync(protocol) ? readFileSync(protocol, 'utf8') : '# Protocol\n';
writeFileSync(protocol, withCommandTable(withControlSchemas(before)));
console.log('wrote docs/PROTOCOL.md (control-plane schemas, command list)');
