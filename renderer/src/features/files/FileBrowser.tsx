import { useEffect, useMemo, useState } from 'react';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Breadcrumbs from '@mui/material/Breadcrumbs';
import Button from '@mui/material/Button';
import Link from '@mui/material/Link';
import Paper from '@mui/material/Paper';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import DownloadIcon from '@mui/icons-material/Download';
import RestoreIcon from '@mui/icons-material/SettingsBackupRestore';
import type { FileEntry, FileListing } from '../../../../shared/domain/files.js';
import type { SnapshotSummary } from '../../../../shared/domain/snapshot.js';
import { formatDateTime } from '../../lib/format.js';
import { friendlyError, type FriendlyError } from '../../app/error-messages.js';
import { ErrorNotice } from '../../components/LoadState.js';
import { useGuestLabel } from '../../hooks/use-guest-label.js';
import { useApp, useEngine } from '../../stores/hooks.js';
import { readWholeFile, saveAs } from './download.js';
import { crumbs, sortEntries, type SortKey } from './file-utils.js';
import { parentPath } from './folder-tree.js';
import { FolderTree } from './FolderTree.js';
import { FilePreview } from './FilePreview.js';
import { FileTable } from './FileTable.js';
import { RestoreFilesDialog } from './RestoreFilesDialog.js';

/**
 * Browses one restore point: disks → partitions → folders, with breadcrumbs, sorting, search,
 * previews, filesystem warnings, multi-select restore to a folder and (in a browser) download.
 */
export function FileBrowser({ snapshotId, point }: { snapshotId: string; point?: Pick<SnapshotSummary, 'guest' | 'time' | 'consistency'> & { guestId?: string } }) {
  const engine = useEngine();
  const known = useApp((s) => s.snapshots.data?.find((x) => x.id === snapshotId));
  const shownPoint = point ?? known;
  const label = useGuestLabel();
  const notifyError = useApp((s) => s.notifyError);
  const [path, setPath] = useState('');
  const [listing, setListing] = useState<FileListing | null>(null);
  const [error, setError] = useState<FriendlyError | null>(null);
  const [search, setSearch] = useState('');
  const [results, setResults] = useState<FileEntry[] | null>(null);
  const [selected, setSelected] = useState<string[]>([]);
  const [sort, setSort] = useState<{ key: SortKey; dir: 'asc' | 'desc' }>({ key: 'name', dir: 'asc' });
  const [preview, setPreview] = useState<FileEntry | null>(null);
  const [restoreOpen, setRestoreOpen] = useState(false);
  const [downloading, setDownloading] = useState(false);
  const [focusList, setFocusList] = useState(false);

  useEffect(() => {
    let live = true;
    setListing(null);
    setError(null);
    engine['files.list']({ snapshotId, path })
      .then((l) => live && setListing(l))
      .catch((e) => live && setError(friendlyError(e)));
    return () => {
      live = false;
    };
  }, [engine, snapshotId, path]);

  const shown = useMemo(() => sortEntries(results ?? listing?.entries ?? [], sort.key, sort.dir), [results, listing, sort]);
  const goTo = (p: string, fromList = false) => {
    setResults(null);
    setSelected([]);
    setPreview(null);
    setFocusList(fromList);
    setPath(p);
  };
  const open = (e: FileEntry) => {
    if (e.type === 'dir' || e.fsType !== undefined) {
      if (e.supported === false) return;
      goTo(e.path, true);
    } else setPreview(e);
  };
  const runSearch = async () => {
    if (!search.trim()) {
      setResults(null);
      return;
    }
    try {
      setResults(await engine['files.find']({ snapshotId, pattern: search.trim(), limit: 1000 }));
    } catch (e) {
      notifyError(e, 'Search');
    }
  };
  const download = async () => {
    const files = shown.filter((e) => selected.includes(e.path) && e.type === 'file');
    setDownloading(true);
    try {
      for (const f of files) saveAs(f.name, await readWholeFile(engine, snapshotId, f.path));
    } catch (e) {
      notifyError(e, 'Download');
    } finally {
      setDownloading(false);
    }
  };
  const selectedFiles = shown.filter((e) => selected.includes(e.path) && e.type === 'file').length;

  return (
    <Box data-testid="file-browser">
      <Typography variant="subtitle1" component="h2" sx={{ mb: 1 }} data-testid="browsing-point">
        {shownPoint ? (
          <>
            Browsing <strong>{label(shownPoint.guestId ?? known?.guestId, shownPoint.guest)}</strong> as of <strong>{formatDateTime(shownPoint.time)}</strong>
            {shownPoint.consistency ? ` (${shownPoint.consistency})` : ''}
          </>
        ) : (
          <>Browsing restore point {snapshotId}</>
        )}
      </Typography>
      <Box sx={{ display: 'flex', gap: 1, alignItems: 'center', flexWrap: 'wrap', mb: 1 }}>
        <Breadcrumbs aria-label="Folder path" sx={{ flex: 1 }}>
          <Link component="button" underline="hover" onClick={() => goTo('')}>
            Disks
          </Link>
          {crumbs(path).map((c, i, all) =>
            i === all.length - 1 ? (
              <Typography key={c.path} color="text.primary" aria-current="location">
                {c.label}
              </Typography>
            ) : (
              <Link key={c.path} component="button" underline="hover" onClick={() => goTo(c.path)}>
                {c.label}
              </Link>
            ),
          )}
        </Breadcrumbs>
        <Box component="form" onSubmit={(e) => (e.preventDefault(), void runSearch())} sx={{ display: 'flex', gap: 1 }} role="search">
          <TextField size="small" label="Search this restore point" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="*.docx" />
          <Button type="submit">Search</Button>
        </Box>
      </Box>
      {listing?.warnings.map((w) => (
        <Alert key={w} severity="warning" sx={{ mb: 1 }} data-testid="fs-warning">
          {w}
        </Alert>
      ))}
      {error && <ErrorNotice error={error} what="Files" onRetry={() => setPath((p) => p)} />}
      {results && (
        <Alert severity="info" sx={{ mb: 1 }} action={<Button onClick={() => setResults(null)}>Back to folder</Button>}>
          {results.length} match{results.length === 1 ? '' : 'es'} for “{search}”
        </Alert>
      )}
      <Box sx={{ display: 'flex', gap: 1, mb: 1 }}>
        <Button variant="contained" startIcon={<RestoreIcon />} disabled={selected.length === 0} onClick={() => setRestoreOpen(true)}>
          Restore to folder… ({selected.length})
        </Button>
        <Button startIcon={<DownloadIcon />} disabled={selectedFiles === 0 || downloading} onClick={() => void download()}>
          Download ({selectedFiles})
        </Button>
      </Box>
      <Box sx={{ display: 'grid', gridTemplateColumns: { xs: '1fr', md: preview ? '240px 1fr' : '240px 1fr', lg: preview ? '260px 1fr 380px' : '260px 1fr' }, gap: 2 }}>
        <Paper variant="outlined" component="nav" aria-label="Folder tree">
          <FolderTree snapshotId={snapshotId} current={path} onOpen={(p) => goTo(p)} />
        </Paper>
        <Paper variant="outlined" sx={{ maxHeight: 'calc(100vh - 330px)', overflow: 'auto' }}>
          {!listing && !error && !results && <Typography sx={{ p: 2 }}>Loading…</Typography>}
          {(listing || results) && shown.length === 0 && <Typography sx={{ p: 2 }}>This folder is empty.</Typography>}
          {shown.length > 0 && (
            <FileTable
              entries={shown}
              selected={selected}
              sort={sort}
              showPath={!!results}
              onSort={(key) => setSort((s) => ({ key, dir: s.key === key && s.dir === 'asc' ? 'desc' : 'asc' }))}
              onToggle={(p) => setSelected((s) => (s.includes(p) ? s.filter((x) => x !== p) : [...s, p]))}
              onToggleAll={() => setSelected((s) => (shown.every((e) => s.includes(e.path)) ? [] : shown.map((e) => e.path)))}
              onOpen={open}
              onUp={() => path && goTo(parentPath(path), true)}
              autoFocus={focusList}
            />
          )}
        </Paper>
        {preview && (
          <Paper variant="outlined" sx={{ p: 2 }}>
            <FilePreview snapshotId={snapshotId} entry={preview} />
          </Paper>
        )}
      </Box>
      <RestoreFilesDialog open={restoreOpen} snapshotId={snapshotId} paths={selected} onClose={() => setRestoreOpen(false)} />
    </Box>
  );
}
