import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import Checkbox from '@mui/material/Checkbox';
import Link from '@mui/material/Link';
import Table from '@mui/material/Table';
import TableBody from '@mui/material/TableBody';
import TableCell from '@mui/material/TableCell';
import TableHead from '@mui/material/TableHead';
import TableRow from '@mui/material/TableRow';
import TableSortLabel from '@mui/material/TableSortLabel';
import FolderIcon from '@mui/icons-material/Folder';
import InsertDriveFileIcon from '@mui/icons-material/InsertDriveFileOutlined';
import type { FileEntry } from '../../../../shared/domain/files.js';
import { formatBytes, formatDateTime } from '../../lib/format.js';
import { listKey, type SortKey } from './file-utils.js';

/** Props of FileTable. */
export interface FileTableProps {
  entries: FileEntry[];
  selected: string[];
  sort: { key: SortKey; dir: 'asc' | 'desc' };
  onSort(key: SortKey): void;
  onToggle(path: string): void;
  onToggleAll(): void;
  onOpen(e: FileEntry): void;
  /** Backspace / Alt+↑: the parent folder. */
  onUp?(): void;
  /** Show the full path (search results). */
  showPath?: boolean;
  /** Focus the first row when the list appears (after opening a folder from the list). */
  autoFocus?: boolean;
}

/**
 * The sortable, multi-select list of a folder (or of search results). An ARIA grid with one tab
 * stop: ↑ ↓ Home End move, Space selects, Enter or a double-click opens (folder) or previews (file), Ctrl+A
 * selects all, Backspace goes to the parent folder.
 */
export function FileTable({ entries, selected, sort, onSort, onToggle, onToggleAll, onOpen, onUp, showPath, autoFocus }: FileTableProps) {
  const all = entries.length > 0 && entries.every((e) => selected.includes(e.path));
  const [active, setActive] = useState(0);
  const body = useRef<HTMLTableSectionElement>(null);
  const wantFocus = useRef(false);
  const activeIndex = Math.min(active, Math.max(0, entries.length - 1));
  useEffect(() => setActive(0), [entries]);
  useEffect(() => {
    if (autoFocus) body.current?.querySelector<HTMLElement>('tr[data-index="0"]')?.focus();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  useEffect(() => {
    if (!wantFocus.current) return;
    wantFocus.current = false;
    body.current?.querySelector<HTMLElement>(`tr[data-index="${activeIndex}"]`)?.focus();
  });
  const onKeyDown = (ev: KeyboardEvent<HTMLTableSectionElement>) => {
    // Only the row itself: a focused checkbox or link handles its own keys.
    if ((ev.target as HTMLElement).tagName !== 'TR') return;
    const a = listKey(ev.key, { ctrl: ev.ctrlKey || ev.metaKey, alt: ev.altKey }, activeIndex, entries.length);
    if (!a) return;
    ev.preventDefault();
    const e = entries[activeIndex];
    if (a.kind === 'move') {
      wantFocus.current = true;
      setActive(a.index);
    } else if (a.kind === 'toggle' && e) onToggle(e.path);
    else if (a.kind === 'open' && e) onOpen(e);
    else if (a.kind === 'all') onToggleAll();
    else if (a.kind === 'up') onUp?.();
  };
  const head = (key: SortKey, label: string, align?: 'right') => (
    <TableCell align={align} sortDirection={sort.key === key ? sort.dir : false}>
      <TableSortLabel active={sort.key === key} direction={sort.key === key ? sort.dir : 'asc'} onClick={() => onSort(key)}>
        {label}
      </TableSortLabel>
    </TableCell>
  );
  return (
    <Table size="small" aria-label="Files" stickyHeader data-testid="file-table" role="grid" aria-multiselectable="true">
      <TableHead>
        <TableRow>
          <TableCell padding="checkbox">
            <Checkbox checked={all} indeterminate={!all && selected.length > 0} onChange={onToggleAll} slotProps={{ input: { 'aria-label': 'Select all' } }} />
          </TableCell>
          {head('name', 'Name')}
          {head('size', 'Size', 'right')}
          {head('mtime', 'Modified')}
        </TableRow>
      </TableHead>
      <TableBody ref={body} onKeyDown={onKeyDown}>
        {entries.map((e, i) => {
          const isSel = selected.includes(e.path);
          return (
            <TableRow
              key={e.path}
              hover
              selected={isSel}
              aria-selected={isSel}
              tabIndex={i === activeIndex ? 0 : -1}
              onFocus={(ev) => ev.target === ev.currentTarget && i !== activeIndex && setActive(i)}
              data-index={i}
              data-testid="file-row"
              data-type={e.type}
              data-path={e.path}
              // double-click opens a folder (or previews a file), like Enter; not on the checkbox
              onDoubleClick={(ev) => (ev.target as HTMLElement).tagName !== 'INPUT' && onOpen(e)}
              sx={{ '&:focus-visible': { outline: 2, outlineColor: 'primary.main', outlineOffset: -2 } }}
            >
              <TableCell padding="checkbox">
                <Checkbox checked={isSel} tabIndex={-1} onChange={() => onToggle(e.path)} slotProps={{ input: { 'aria-label': `Select ${e.name}`, tabIndex: -1 } }} />
              </TableCell>
              <TableCell sx={{ wordBreak: 'break-all' }}>
                <Link component="button" tabIndex={-1} underline="hover" onClick={() => onOpen(e)} sx={{ display: 'inline-flex', alignItems: 'center', gap: 0.5, textAlign: 'left' }}>
                  {e.type === 'dir' ? <FolderIcon fontSize="small" color="primary" aria-hidden /> : <InsertDriveFileIcon fontSize="small" aria-hidden />}
                  {showPath ? e.path : e.name}
                  {e.fsType ? ` (${e.fsType}${e.supported === false ? ', cannot be browsed' : ''})` : ''}
                </Link>
              </TableCell>
              <TableCell align="right" sx={{ fontVariantNumeric: 'tabular-nums' }}>
                {e.type === 'dir' ? '' : formatBytes(e.size)}
              </TableCell>
              <TableCell>{formatDateTime(e.mtime)}</TableCell>
            </TableRow>
          );
        })}
      </TableBody>
    </Table>
  );
}
