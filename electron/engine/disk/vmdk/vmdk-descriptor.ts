import { corrupt } from '../core/disk-error.js';

/** One extent line of a VMDK descriptor. */
export interface VmdkExtentLine {
  access: 'RW' | 'RDONLY' | 'NOACCESS';
  sectors: number;
  type: string;
  file?: string;
  /** Offset in sectors inside the file (FLAT extents). */
  offset: number;
}

/** A parsed VMDK descriptor. */
export interface VmdkDescriptor {
  version: number;
  cid: string;
  parentCid: string;
  createType: string;
  parentFileNameHint?: string;
  extents: VmdkExtentLine[];
  /** Every key=value pair (keys lower-case). */
  fields: Record<string, string>;
}

/** Largest descriptor text we parse (real ones are < 2 KiB). */
export const MAX_DESCRIPTOR_BYTES = 1024 * 1024;

const EXTENT_RE = /^(RW|RDONLY|NOACCESS)\s+(\d+)\s+([A-Za-z]+)(?:\s+"([^"]*)"(?:\s+(\d+))?)?/i;

/** True when `text` looks like a VMDK descriptor. */
export function looksLikeDescriptor(text: string): boolean {
  return /^\s*#\s*Disk\s*DescriptorFile/im.test(text) || (/createType\s*=/i.test(text) && /^\s*(RW|RDONLY|NOACCESS)\s+\d+\s+\w+/im.test(text));
}

/** Parses descriptor text (LF or CRLF; case-insensitive keys; comments). */
export function parseDescriptor(text: string, file: string): VmdkDescriptor {
  const nul = text.indexOf('\0');
  if (nul >= 0) text = text.slice(0, nul);
  const fields: Record<string, string> = {};
  const extents: VmdkExtentLine[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = EXTENT_RE.exec(line);
    if (m) {
      const sectors = Number(m[2]);
      const offset = m[5] ? Number(m[5]) : 0;
      if (!Number.isSafeInteger(sectors) || !Number.isSafeInteger(offset)) corrupt(file, 'descriptor extent line', `invalid numbers in '${line}'`);
      extents.push({ access: m[1].toUpperCase() as VmdkExtentLine['access'], sectors, type: m[3].toUpperCase(), file: m[4], offset });
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) {
      const key = line.slice(0, eq).trim().toLowerCase();
      let value = line.slice(eq + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      fields[key] = value;
    }
  }
  return {
    version: Number(fields.version ?? '1'),
    cid: normalizeCid(fields.cid),
    parentCid: normalizeCid(fields.parentcid),
    createType: fields.createtype ?? '',
    parentFileNameHint: fields.parentfilenamehint || undefined,
    extents,
    fields,
  };
}

/** Renders a descriptor in the layout VMware and QEMU write. */
export function renderDescriptor(d: {
  cid: string;
  parentCid?: string;
  createType: string;
  extents: { access?: string; sectors: number; type: string; file: string; offset?: number }[];
  sectors: number;
  parentFileNameHint?: string;
  adapterType?: string;
}): string {
  const heads = 255;
  const secs = 63;
  const cyl = Math.min(65535, Math.floor(d.sectors / (heads * secs)));
  const lines = [
    '# Disk DescriptorFile',
    'version=1',
    `CID=${d.cid}`,
    `parentCID=${d.parentCid ?? 'ffffffff'}`,
    `createType="${d.createType}"`,
    ...(d.parentFileNameHint ? [`parentFileNameHint="${d.parentFileNameHint}"`] : []),
    '',
    '# Extent description',
    ...d.extents.map((e) => `${e.access ?? 'RW'} ${e.sectors} ${e.type} "${e.file}"${e.offset !== undefined ? ` ${e.offset}` : ''}`),
    '',
    '# The Disk Data Base',
    '#DDB',
    '',
    `ddb.virtualHWVersion = "4"`,
    `ddb.geometry.cylinders = "${cyl}"`,
    `ddb.geometry.heads = "${heads}"`,
    `ddb.geometry.sectors = "${secs}"`,
    `ddb.adapterType = "${d.adapterType ?? 'lsilogic'}"`,
    '',
  ];
  return lines.join('\n');
}

/**
 * Content ids are 32-bit hex numbers; writers differ in zero padding (QEMU writes `b6aae7`,
 * VMware and our child writer `00b6aae7`), so they are compared in one canonical form.
 */
export function normalizeCid(v: string | undefined): string {
  const t = (v ?? 'ffffffff').trim().toLowerCase();
  return /^[0-9a-f]{1,8}$/.test(t) ? t.padStart(8, '0') : t;
}
