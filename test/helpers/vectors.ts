import { readFileSync } from 'node:fs';

/** Path of a file under test/vectors (the project's copy of ../shared/vectors). */
export function vectorPath(name: string): string {
  return new URL(`../../../test/vectors/${name}`, import.meta.url).pathname;
}

export function loadVectors(name: string): any {
  return JSON.parse(readFileSync(vectorPath(name), 'utf8'));
}
