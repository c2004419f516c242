// The supported algorithm languages as plain facts shared by the management API and execution:
// names and aliases, the entry-point convention and the hello-world template. The code that acts on
// them stays with its feature (the build check in algorithms/, runner commands in execution/).
export type Language = 'python3' | 'javascript' | 'r';
export const LANGUAGES: readonly Language[] = Object.freeze(['python3', 'javascript', 'r'] as const);

// Spellings seen in Algorithmia clients and docs (the Node TS client sends "python3-1").
const ALIASES: Record<string, Language> = {
  python3: 'python3',
  'python3-1': 'python3',
  python: 'python3',
  javascript: 'javascript',
  nodejs: 'javascript',
  r: 'r',
};

const EXTENSION: Record<Language, string> = { python3: 'py', javascript: 'js', r: 'r' };

export function normaliseLanguage(s: unknown): Language | undefined {
  if (typeof s !== 'string') return undefined;
  const key = s.trim().toLowerCase();
  return Object.prototype.hasOwnProperty.call(ALIASES, key) ? ALIASES[key] : undefined;
}

export function entryPath(lang: Language, algoName: string): string {
  return `src/${algoName}.${EXTENSION[lang]}`;
}

export function helloWorldSource(lang: Language, algoName: string): Record<string, string> {
  const entry = entryPath(lang, algoName);
  switch (lang) {
    case 'python3':
      // Algorithmia's own template (its Python client's tests expect "hello John"); any input works.
      return { 'src/__init__.py': '', [entry]: 'def apply(input):\n    return "hello {}".format(input)\n' };
    case 'javascript':
      return { [entry]: 'exports.apply = function(input) {\n  return "hello " + (typeof input === "string" ? input : JSON.stringify(input));\n};\n' };
    case 'r':
      return { [entry]: 'apply <- function(input) {\n  paste0("hello ", if (is.character(input)) input else jsonlite::toJSON(input, auto_unbox = TRUE))\n}\n' };
  }
}
