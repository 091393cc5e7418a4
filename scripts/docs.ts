// `npm run docs`: regenerates the generated documents (docs/ERRORS.md; protocol schemas when present).
import { writeFileSync } from 'node:fs';
import { renderErrorsDoc } from '../src/protocol/errors/render.js';

writeFileSync(new URL('../docs/ERRORS.md', import.meta.url), renderErrorsDoc());
console.log('wrote docs/ERRORS.md');
