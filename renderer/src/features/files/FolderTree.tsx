import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import Box from '@mui/material/Box';
import Typography from '@mui/material/Typography';
import ChevronRightIcon from '@mui/icons-material/ChevronRight';
import ExpandMoreIcon from '@mui/icons-material/ExpandMore';
import FolderIcon from '@mui/icons-material/Folder';
import StorageIcon from '@mui/icons-material/Storage';
import { friendlyError } from '../../app/error-messages.js';
import { useEngine } from '../../stores/hooks.js';
import { ancestors, isFolder, treeKey, visibleLines, type TreeChildren } from './folder-tree.js';

/** Props of FolderTree. */
export interface FolderTreeProps {
  snapshotId: string;
  /** The folder shown in the listing (highlighted; its ancestors are expanded). */
  current: string;
  onOpen(path: string): void;
}

/**
 * The folder tree beside the listing: disks → partitions → folders, loaded one level at a time
 * through files.list. ARIA tree with a roving tab stop (↑ ↓ → ← Home End, Enter opens).
 */
export function FolderTree({ snapshotId, current, onOpen }: FolderTreeProps) {
  const engine = useEngine();
  const [children, setChildren] = useState<Map<string, TreeChildren>>(() => new Map());
  const [expanded, setExpanded] = useState<Set<string>>(() => new Set());
  const [focused, setFocused] = useState<string>('');
  const asked = useRef(new Set<string>());
  const wantFocus = useRef(false);
  const ref = useRef<HTMLUListElement>(null);

  const load = (path: string) => {
    if (asked.current.has(path)) return;
    asked.current.add(path);
    setChildren((m) => new Map(m).set(path, { ...m.get(path), loading: true }));
    engine['files.list']({ snapshotId, path })
      .then((l) => setChildren((m) => new Map(m).set(path, { folders: l.entries.filter(isFolder).sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true })), loading: false })))
      .catch((e) => {
        asked.current.delete(path);
        setChildren((m) => new Map(m).set(path, { loading: false, error: friendlyError(e).title }));
      });
  };

  useEffect(() => {
    asked.current.clear();
    setChildren(new Map());
    setExpanded(new Set());
  }, [snapshotId]);

  // The root, and the way down to the folder the listing shows.
  useEffect(() => {
    load('');
    const up = ancestors(current);
    if (current) up.push(current);
    up.forEach(load);
    if (up.length) setExpanded((s) => (up.every((p) => s.has(p)) ? s : new Set([...s, ...up])));
    if (current) setFocused(current);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [current, snapshotId]);

  const lines = useMemo(() => visibleLines(children, expanded), [children, expanded]);
  const tabStop = lines.some((l) => l.path === focused) ? focused : lines[0]?.path;

  useEffect(() => {
    if (!wantFocus.current || !tabStop) return;
    wantFocus.current = false;
    const items = ref.current?.querySelectorAll<HTMLElement>('[data-tree-path]') ?? [];
    Array.from(items)
      .find((el) => el.dataset.treePath === tabStop)
      ?.focus();
  });

  const toggle = (path: string, open: boolean) => {
    if (open) load(path);
    setExpanded((s) => {
      const n = new Set(s);
      if (open) n.add(path);
      else n.delete(path);
      return n;
    });
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const a = treeKey(lines, tabStop ?? '', e.key);
    if (!a) return;
    e.preventDefault();
    e.stopPropagation();
    if (a.kind === 'focus') {
      wantFocus.current = true;
      setFocused(a.path);
    } else if (a.kind === 'expand') toggle(a.path, true);
    else if (a.kind === 'collapse') toggle(a.path, false);
    else onOpen(a.path);
  };

  const root = children.get('');
  return (
    <Box sx={{ overflow: 'auto', maxHeight: 'calc(100vh - 330px)', py: 0.5 }}>
      {root?.error && (
        <Typography role="alert" sx={{ p: 1 }} color="error">
          {root.error}
        </Typography>
      )}
      <Box component="ul" ref={ref} role="tree" aria-label="Folders" onKeyDown={onKeyDown} sx={{ listStyle: 'none', m: 0, p: 0 }} data-testid="folder-tree">
        {lines.map((l) => {
          const kids = children.get(l.path);
          return (
            <Box
              component="li"
              key={l.path}
              role="treeitem"
              aria-level={l.level}
              aria-expanded={l.expandable ? l.expanded : undefined}
              aria-selected={l.path === current}
              aria-busy={kids?.loading || undefined}
              tabIndex={l.path === tabStop ? 0 : -1}
              data-tree-path={l.path}
              onFocus={() => l.path !== focused && setFocused(l.path)}
              onClick={() => {
                setFocused(l.path);
                onOpen(l.path);
              }}
              sx={{
                display: 'flex',
                alignItems: 'center',
                gap: 0.5,
                pl: `${(l.level - 1) * 14 + 2}px`,
                pr: 1,
                py: 0.25,
                cursor: 'pointer',
                whiteSpace: 'nowrap',
                borderRadius: 1,
                bgcolor: l.path === current ? 'action.selected' : undefined,
                '&:hover': { bgcolor: 'action.hover' },
                '&:focus-visible': { outline: 2, outlineColor: 'primary.main', outlineOffset: -2 },
              }}
            >
              <Box
                component="span"
                aria-hidden
                onClick={(e) => {
                  e.stopPropagation();
                  if (l.expandable) toggle(l.path, !l.expanded);
                }}
                sx={{ display: 'inline-flex', width: 20, visibility: l.expandable ? 'visible' : 'hidden' }}
              >
                {l.expanded ? <ExpandMoreIcon fontSize="small" /> : <ChevronRightIcon fontSize="small" />}
              </Box>
              {l.level === 1 ? <StorageIcon fontSize="small" color="action" aria-hidden /> : <FolderIcon fontSize="small" color="primary" aria-hidden />}
              <Box component="span" sx={{ overflow: 'hidden', textOverflow: 'ellipsis' }}>
                {l.name}
                {kids?.error ? ` (${kids.error})` : ''}
              </Box>
            </Box>
          );
        })}
      </Box>
    </Box>
  );
}
