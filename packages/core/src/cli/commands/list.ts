import { open, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { HEADER_SIZE } from '../../ltx/constants.ts';
import { decodeHeader } from '../../ltx/header.ts';
import { formatChecksum } from '../../ltx/position.ts';
import { formatTXID, parseLtxFilename } from '../../ltx/txid.ts';
import { toJSON } from '../output.ts';

interface Row {
  file: string;
  level: number | null;
  minTXID: string;
  maxTXID: string;
  size: number;
  pageSize: number;
  commit: number;
  timestamp: string;
  preApplyChecksum: string;
}

export function registerList(program: Command): void {
  program
    .command('list')
    .description('list the LTX files under a directory (a replica or a staging folder) with their headers')
    .argument('<dir>', 'directory to search recursively')
    .option('--json', 'print JSON instead of a table')
    .action(async (dir: string, opts: { json?: boolean }) => {
      const rows: Row[] = [];
      for await (const path of walk(dir)) rows.push(await describe(dir, path));
      rows.sort((a, b) => (a.level ?? -1) - (b.level ?? -1) || a.minTXID.localeCompare(b.minTXID) || a.maxTXID.localeCompare(b.maxTXID));
      if (opts.json) {
        process.stdout.write(`${toJSON(rows)}\n`);
        return;
      }
      const header = ['LEVEL', 'MIN_TXID', 'MAX_TXID', 'SIZE', 'COMMIT', 'TIMESTAMP', 'FILE'];
      const table = rows.map((r) => [r.level === null ? '-' : String(r.level), r.minTXID, r.maxTXID, String(r.size), String(r.commit), r.timestamp, r.file]);
      const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
      for (const row of [header, ...table]) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
    });
}

async function* walk(dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile() && entry.name.endsWith('.ltx')) yield path;
  }
}

async function describe(root: string, path: string): Promise<Row> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const buf = Buffer.alloc(HEADER_SIZE);
    const { bytesRead } = await fh.read(buf, 0, HEADER_SIZE, 0);
    const h = decodeHeader(buf.subarray(0, bytesRead), path);
    const levelDir = /(?:^|\/)(\d)\/[^/]+$/.exec(relative(root, path));
    const named = parseLtxFilename(path.slice(path.lastIndexOf('/') + 1));
    return {
      file: relative(root, path) || path,
      level: levelDir && named ? Number(levelDir[1]) : null,
      minTXID: formatTXID(h.minTXID),
      maxTXID: formatTXID(h.maxTXID),
      size,
      pageSize: h.pageSize,
      commit: h.commit,
      timestamp: new Date(h.timestamp).toISOString(),
      preApplyChecksum: formatChecksum(h.preApplyChecksum),
    };
  } finally {
    await fh.close();
  }
}
