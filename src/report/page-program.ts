// The HTML report page's program: browser/page.ts, compiled by the build (`npm run build`,
// `npm install`) to browser/page.js beside this module, read once and inlined into every page.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EnvironmentError } from '../util/errors.js';

const PROGRAM_FILE = fileURLToPath(new URL('./browser/page.js', import.meta.url));
const REBUILD = 'build it with `npm run build` (or `npm install`)';

let program: string | null = null;

/** The compiled program's text. A missing or unusable build is an EnvironmentError naming the file. */
export function pageProgram(): string {
  program ??= readProgram(PROGRAM_FILE);
  return program;
}

function readProgram(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new EnvironmentError(`the HTML report's page program ${file} cannot be read (${why})`, { hint: REBUILD, cause: e });
  }
  const js = text.trimEnd();
  if (js === '') throw new EnvironmentError(`the HTML report's page program ${file} is empty`, { hint: REBUILD });
  if (/<\/script/i.test(js)) throw new EnvironmentError(`the HTML report's page program ${file} contains "</script", which would end its <script> element`);
  return js;
}
