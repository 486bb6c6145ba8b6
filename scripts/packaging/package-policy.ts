// The project's own rules for a published tarball, beyond what publint and attw check:
// license, metadata, no test code, no source maps without their sources, engines that hold
// for the dependencies, bounded peer ranges.
import semver from 'semver';

/** A packed package as the checks see it: its manifest and the files in the tarball. */
export interface PackedPackage {
  readonly manifest: Manifest;
  /** Paths inside the tarball, relative to `package/` (`dist/index.js`, `LICENSE`, …). */
  readonly files: readonly string[];
  /** Reads a file of the tarball as text. */
  readonly read: (path: string) => string;
}

export interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly license?: string;
  readonly repository?: { readonly type?: string; readonly url?: string; readonly directory?: string } | string;
  readonly homepage?: string;
  readonly bugs?: { readonly url?: string } | string;
  readonly keywords?: readonly string[];
  readonly engines?: Readonly<Record<string, string>>;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
}

/** What the checks know from outside the tarball. */
export interface PolicyContext {
  /** The repository's LICENSE text: every tarball ships the same. */
  readonly license: string;
  /** The repository URL every package names. */
  readonly repositoryUrl: string;
  /** The package's directory in the repository (`backends/s3`). */
  readonly directory: string;
  /** `engines.node` of each dependency that declares one, by name. */
  readonly dependencyEngines: Readonly<Record<string, string>>;
}

/** Paths that are tests or test helpers, never published. */
const TEST_PATH = /(^|\/)(e2e|test|tests|test-support|__tests__)\/|\.(test|spec|fuzz)\.[cm]?[jt]s$|\.(test|spec)\.d\.ts$/;

/** Problems found in a packed package, one sentence each; empty when it follows every rule. */
export function checkPackedPackage(pkg: PackedPackage, context: PolicyContext): string[] {
  const problems: string[] = [];
  const { manifest, files } = pkg;
  const has = new Set(files);

  if (!has.has('LICENSE')) problems.push('LICENSE is missing from the tarball');
  else if (normalize(pkg.read('LICENSE')) !== normalize(context.license)) problems.push('LICENSE differs from the repository LICENSE');
  if (manifest.license !== 'Apache-2.0') problems.push(`license is ${JSON.stringify(manifest.license)}, expected "Apache-2.0"`);

  const repository = typeof manifest.repository === 'object' ? manifest.repository : undefined;
  if (!repository?.url?.includes(context.repositoryUrl.replace(/^https:\/\//, ''))) problems.push(`repository.url must name ${context.repositoryUrl}`);
  if (repository?.directory !== context.directory) problems.push(`repository.directory is ${JSON.stringify(repository?.directory)}, expected ${JSON.stringify(context.directory)}`);
  if (!manifest.homepage) problems.push('homepage is missing');
  const bugs = typeof manifest.bugs === 'string' ? manifest.bugs : manifest.bugs?.url;
  if (!bugs) problems.push('bugs is missing');
  if (!manifest.keywords?.length) problems.push('keywords are missing');

  for (const file of files) if (TEST_PATH.test(file)) problems.push(`test file published: ${file}`);
  problems.push(...checkSourceMaps(pkg, has));
  problems.push(...checkEngines(manifest, context.dependencyEngines));
  for (const [name, range] of Object.entries(manifest.peerDependencies ?? {})) {
    if (!isBounded(range)) problems.push(`peer dependency ${name} has no upper bound: ${JSON.stringify(range)}`);
  }
  return problems;
}

/** A map whose sources are not in the tarball points debuggers at nothing. */
function checkSourceMaps(pkg: PackedPackage, has: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const file of pkg.files.filter((f) => f.endsWith('.map'))) {
    let sources: string[];
    try {
      sources = (JSON.parse(pkg.read(file)) as { sources?: string[] }).sources ?? [];
    } catch {
      problems.push(`${file}: not a JSON source map`);
      continue;
    }
    const dir = file.split('/').slice(0, -1);
    for (const source of sources) {
      const target = resolveRelative(dir, source);
      if (!has.has(target)) {
        problems.push(`${file} refers to ${source}, which is not published`);
        break;
      }
    }
  }
  return problems;
}

/** `engines.node` must be at least as strict as each dependency's. */
function checkEngines(manifest: Manifest, dependencyEngines: Readonly<Record<string, string>>): string[] {
  const ours = manifest.engines?.node;
  if (!ours) return ['engines.node is missing'];
  if (!semver.validRange(ours)) return [`engines.node ${JSON.stringify(ours)} is not a valid range`];
  const problems: string[] = [];
  for (const [name, theirs] of Object.entries(dependencyEngines)) {
    if (semver.validRange(theirs) && !semver.subset(ours, theirs)) problems.push(`engines.node ${JSON.stringify(ours)} allows Node versions that ${name} refuses (${JSON.stringify(theirs)})`);
  }
  return problems;
}

/** True when the range excludes every version from some point on (`^1.2.0`, `>=1 <3`). */
export function isBounded(range: string): boolean {
  if (!semver.validRange(range)) return false;
  return !semver.intersects(range, '>=999999.0.0');
}

function resolveRelative(dir: readonly string[], relative: string): string {
  const parts = [...dir];
  for (const part of relative.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '.' && part !== '') parts.push(part);
  }
  return parts.join('/');
}

function normalize(text: string): string {
  return text.replace(/\r\n/g, '\n').trim();
}
