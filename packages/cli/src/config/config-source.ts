import { LineCounter, isAlias, parseDocument, type Document, type Node } from 'yaml';
import { ConfigError, formatConfigMessage } from './config-error.ts';
import { expandEnvTracked, type BlankExpansion, type Environment } from './env-expansion.ts';
import { SecretScrubber } from './redaction.ts';

/**
 * One config text being read: the parsed YAML document, the file name for messages, and the
 * means to turn a node into a `ConfigError` or a warning that points at its line and column.
 */
/**
 * Reads a config file's text as every reader of it must: expands `$VAR`/`${VAR}` (unless
 * `noExpandEnv`), records every expanded value as a secret to scrub from messages, and parses
 * the YAML. Throws `ConfigError` at the first syntax error.
 */
export function openConfigSource(text: string, options: { readonly file: string; readonly env?: Environment; readonly noExpandEnv?: boolean }): ConfigSource {
  const { text: expanded, blanks } = options.noExpandEnv ? { text, blanks: [] } : expandEnvTracked(text, options.env ?? process.env);
  const scrubber = new SecretScrubber();
  scrubber.addFromText(expanded);
  return new ConfigSource(options.file, expanded, scrubber, blanks);
}

export class ConfigSource {
  readonly file: string;
  readonly document: Document.Parsed;
  /** Warnings collected while reading (deprecated or ignored keys), already formatted. */
  readonly warnings: string[] = [];
  private readonly lineCounter: LineCounter;
  private readonly scrubber: SecretScrubber;
  private readonly blanks: readonly BlankExpansion[];

  /**
   * Parses `text` (already expanded; `blanks` says where variables expanded to nothing);
   * throws `ConfigError` at the first YAML syntax error.
   */
  constructor(file: string, text: string, scrubber: SecretScrubber, blanks: readonly BlankExpansion[] = []) {
    this.file = file;
    this.scrubber = scrubber;
    this.blanks = blanks;
    this.lineCounter = new LineCounter();
    // Plain messages: the library's pretty form quotes the offending line, which may hold a secret.
    this.document = parseDocument(text, { lineCounter: this.lineCounter, prettyErrors: false, uniqueKeys: true });
    const syntax = this.document.errors[0];
    if (syntax) {
      const offset = syntax.pos[0];
      const { line, col } = this.lineCounter.linePos(offset);
      // Parsers often notice a problem a line late, so look for a tab on the line before too.
      const tabLine = [line, line - 1].find((n) => n >= 1 && lineAt(text, this.lineCounter, n).includes('\t'));
      throw this.fail(describeSyntaxError(syntax.code, syntax.message, tabLine), { line, column: col });
    }
  }

  /** A `ConfigError` about `node` (its start), under `keyPath`. */
  error(node: Node | null | undefined, keyPath: string | undefined, detail: string, options?: { cause?: unknown }): ConfigError {
    return this.fail(detail, { ...this.locate(node), keyPath }, options);
  }

  /** Records a warning about `node`. */
  warn(node: Node | null | undefined, keyPath: string | undefined, detail: string): void {
    this.warnings.push(this.scrubber.scrub(formatConfigMessage(this.file, detail, { ...this.locate(node), keyPath })));
  }

  /** A `ConfigError` with no position in the file (the file as a whole, or the environment). */
  fileError(detail: string, options?: { cause?: unknown }): ConfigError {
    return this.fail(detail, {}, options);
  }

  /** The node an alias (`*name`) stands for; other nodes are returned as they are. */
  resolve(node: Node | null | undefined, keyPath: string | undefined): Node | null | undefined {
    if (!isAlias(node)) return node;
    const target = node.resolve(this.document);
    if (!target) throw this.error(node, keyPath, `alias *${node.source} refers to no anchor &${node.source} defined before it`);
    return target;
  }

  /**
   * The variables that expanded to nothing in a `key: value` (its value's text, or, for a key
   * left without a value, the rest of the key's line).
   */
  blankVariablesOf(keyNode: Node, value: Node | null): BlankExpansion[] {
    if (this.blanks.length === 0) return [];
    let range: readonly [number, number] | undefined = value?.range ? [value.range[0], value.range[1]] : undefined;
    if (!range && keyNode.range) {
      const { line } = this.lineCounter.linePos(keyNode.range[1]);
      range = [keyNode.range[1], (this.lineCounter.lineStarts[line] ?? Number.MAX_SAFE_INTEGER) - 1];
    }
    if (!range) return [];
    const [start, end] = range;
    return this.blanks.filter((b) => b.at >= start && b.at <= end);
  }

  /** 1-based line and column where a node starts, when it has a position. */
  locate(node: Node | null | undefined): { line?: number; column?: number } {
    const offset = node?.range?.[0];
    if (offset === undefined) return {};
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, column: col };
  }

  private fail(detail: string, location: { line?: number; column?: number; keyPath?: string | undefined }, options?: { cause?: unknown }): ConfigError {
    return new ConfigError(this.file, this.scrubber.scrub(detail), location, options);
  }
}

function lineAt(text: string, lineCounter: LineCounter, line: number): string {
  const start = lineCounter.lineStarts[line - 1] ?? 0;
  const end = lineCounter.lineStarts[line] ?? text.length;
  return text.slice(start, end);
}

/** The parser's message without quoted source tokens, plus a hint when a tab is involved. */
function describeSyntaxError(code: string, message: string, tabLine: number | undefined): string {
  if (code === 'TAB_AS_INDENT') return 'invalid YAML: a tab is used for indentation; indent with spaces (YAML does not allow tabs there)';
  if (code === 'MULTIPLE_DOCS') return 'invalid config: a second YAML document starts here (after "---"); keep all settings in one document';
  // Messages such as `Unexpected scalar token in YAML stream: "…"` quote file content.
  const base = `invalid YAML: ${message.replace(/:\s*".*"$/s, '')}`;
  return tabLine === undefined ? base : `${base} (line ${tabLine} contains a tab; YAML indentation must use spaces)`;
}
