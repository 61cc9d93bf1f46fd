import { execFileSync } from 'node:child_process';

/**
 * The tools' answers for the same image and arguments, kept for this test file: suites that run
 * over both kinds of repository read the same images twice, and the oracle need not run twice.
 */
const answers = new Map<string, unknown>();
function once<A extends unknown[], R>(name: string, f: (...a: A) => R): (...a: A) => R {
  return (...a: A) => {
    const key = JSON.stringify([name, ...a]);
    if (!answers.has(key)) answers.set(key, f(...a));
    return answers.get(key) as R;
  };
}

/** One entry of `fls -r -m /` (TSK body format). */
export interface TskEntry {
  path: string;
  inode: string;
  type: string;
  size: number;
  mtime: number;
}

/** Names TSK shows that are not user files (metadata, virtual entries). */
const META = /^\/(\$MBR|\$FAT\d|\$OrphanFiles|\$ALLOC_BITMAP|\$UPCASE_TABLE|\$Extend|\$[A-Za-z]+)(\/|$|:)/;

/** Runs `fls -r -m /` on a partition (sector offset in units of `sectorSize`). */
export const tskList = once('fls', (img: string, sectorOffset: number, sectorSize = 512): TskEntry[] => {
  const args = ['-r', '-m', '/', '-o', String(sectorOffset)];
  if (sectorSize !== 512) args.push('-b', String(sectorSize));
  const out = execFileSync('fls', [...args, img], { maxBuffer: 256 * 1024 * 1024 }).toString('utf8');
  const res: TskEntry[] = [];
  for (const line of out.split('\n')) {
    if (!line) continue;
    const f = line.split('|');
    const tail = f.slice(-9);
    let path = f.slice(1, f.length - 9).join('|');
    if (path.endsWith(' ($FILE_NAME)') || path.includes('(deleted') || META.test(path) || path.includes('(Volume Label Entry)')) continue;
    const type = tail[1][0];
    if (type === 'v' || type === 'V' || path === '/.' || path === '/..') continue;
    if (type === 'l') path = path.replace(/ -> .*$/s, '');
    res.push({ path, inode: tail[0], type, size: Number(tail[4]), mtime: Number(tail[6]) });
  }
  return res;
});

/** SHA-256 of `icat` output for an inode. */
export const tskHash = once('icat', (img: string, sectorOffset: number, inode: string, sectorSize = 512): string => {
  const b = sectorSize !== 512 ? `-b ${sectorSize}` : '';
  return execFileSync('bash', ['-c', `icat ${b} -o ${sectorOffset} "$1" "$2" | sha256sum`, 'icat', img, inode])
    .toString()
    .split(' ')[0];
});

/** Partition rows of `mmls`: start and length in sectors. */
export const mmlsPartitions = once('mmls', (img: string, sectorSize = 512): { start: number; length: number; desc: string }[] => {
  const args = sectorSize !== 512 ? ['-b', String(sectorSize), img] : [img];
  const out = execFileSync('mmls', args).toString();
  const rows: { start: number; length: number; desc: string }[] = [];
  for (const line of out.split('\n')) {
    const m = /^\d+:\s+(\d+(?::\d+)?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (m) rows.push({ start: Number(m[2]), length: Number(m[4]), desc: m[5] });
  }
  return rows;
});

/** TSK prints control characters as `^`. */
export function tskName(s: string): string {
  return s.replace(/[\x00-\x1f]/g, '^');
}

/** Names in one ext directory as e2fsprogs' own reader sees them (`debugfs -R "ls -p DIR"`). */
export const debugfsNames = once('debugfs', (img: string, dir: string): Set<string> => {
  const out = execFileSync('debugfs', ['-R', `ls -p "${dir}"`, img], { maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] }).toString('latin1');
  const names = new Set<string>();
  for (const line of out.split('\n')) {
    const f = line.split('/');
    if (f.length >= 7) names.add(f[5]);
  }
  return names;
});
