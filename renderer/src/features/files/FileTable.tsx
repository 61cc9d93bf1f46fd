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
import type { SortKey } from './file-utils.js';

/** Props of FileTable. */
export interface FileTableProps {
  entries: FileEntry[];
  selected: string[];
  sort: { key: SortKey; dir: 'asc' | 'desc' };
  onSort(key: SortKey): void;
  onToggle(path: string): void;
  onToggleAll(): void;
  onOpen(e: FileEntry): void;
  /** Show the full path (search results). */
  showPath?: boolean;
}

/** The sortable, multi-select list of a folder (or of search results). */
export function FileTable({ entries, selected, sort, onSort, onToggle, onToggleAll, onOpen, showPath }: FileTableProps) {
  const all = entries.length > 0 && entries.every((e) => selected.includes(e.path));
  const head = (key: SortKey, label: string, align?: 'right') => (
    <TableCell align={align} sortDirection={sort.key === key ? sort.dir : false}>
      <TableSortLabel active={sort.key === key} direction={sort.key === key ? sort.dir : 'asc'} onClick={() => onSort(key)}>
        {label}
      </TableSortLabel>
    </TableCell>
  );
  return (
    <Table size="small" aria-label="Files" stickyHeader data-testid="file-table">
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
      <TableBody>
        {entries.map((e) => (
          <TableRow key={e.path} hover selected={selected.includes(e.path)} data-testid="file-row" data-type={e.type} data-path={e.path}>
            <TableCell padding="checkbox">
              <Checkbox checked={selected.includes(e.path)} onChange={() => onToggle(e.path)} slotProps={{ input: { 'aria-label': `Select ${e.name}` } }} />
            </TableCell>
            <TableCell sx={{ wordBreak: 'break-all' }}>
              <Link component="button" underline="hover" onClick={() => onOpen(e)} sx={{ display: 'inline-flex', alignItems: 'center', gap: 0.5, textAlign: 'left' }}>
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
        ))}
      </TableBody>
    </Table>
  );
}
