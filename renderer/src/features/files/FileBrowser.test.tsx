import { describe, expect, it } from 'vitest';
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import type { FileEntry, FileListing } from '../../../../shared/domain/files.js';
import { fakeEngine } from '../../test/fakes.js';
import { renderWithServices } from '../../test/render.js';
import { FileBrowser } from './FileBrowser.js';
import { listKey } from './file-utils.js';
import { ancestors, treeKey, visibleLines, type TreeChildren } from './folder-tree.js';

// A small guest filesystem: disk0 → part1 (ext4) → etc/{hosts, app/config.ini}, readme.txt.
const dir = (path: string, extra: Partial<FileEntry> = {}): FileEntry => ({ name: path.split('/').pop()!, path, type: 'dir', size: 0, ...extra });
const file = (path: string, size = 10): FileEntry => ({ name: path.split('/').pop()!, path, type: 'file', size });
const FS: Record<string, FileEntry[]> = {
  '': [dir('disk0')],
  disk0: [dir('disk0/part1', { fsType: 'ext4' }), dir('disk0/part2', { fsType: 'bitlocker', supported: false })],
  'disk0/part1': [dir('disk0/part1/etc'), file('disk0/part1/readme.txt')],
  'disk0/part1/etc': [dir('disk0/part1/etc/app'), file('disk0/part1/etc/hosts')],
  'disk0/part1/etc/app': [file('disk0/part1/etc/app/config.ini')],
};

function setup() {
  const engine = fakeEngine({
    'files.list': async ({ path }): Promise<FileListing> => ({ path, entries: FS[path] ?? [], warnings: [] }),
    'files.restore': async ({ paths, to, existing }) => ({
      to,
      existing: existing ?? 'keep-both',
      restored: paths.length,
      bytes: 10 * paths.length,
      keptBoth: existing === 'keep-both' ? 1 : 0,
      overwritten: existing === 'overwrite' ? 1 : 0,
      skippedExisting: existing === 'skip' ? 1 : 0,
      skipped: [],
      failed: existing === 'overwrite' ? [{ path: 'disk0/part1/etc/hosts', reason: 'permission denied' }] : [],
    }),
  });
  renderWithServices(<FileBrowser snapshotId="s1" point={{ guest: 'Accounting', time: '2026-12-07T14:30:00Z', consistency: 'clean-twin' }} />, engine);
  return engine;
}
const key = (el: Element, k: string, init: object = {}) => act(() => void fireEvent.keyDown(el, { key: k, ...init }));

describe('folder tree model', () => {
  const kids = new Map<string, TreeChildren>([
    ['', { folders: [dir('disk0')], loading: false }],
    ['disk0', { folders: [dir('disk0/p1')], loading: false }],
    ['disk0/p1', { folders: [], loading: false }],
  ]);
  it('flattens expanded folders depth first and knows leaves', () => {
    expect(visibleLines(kids, new Set()).map((l) => l.path)).toEqual(['disk0']);
    const lines = visibleLines(kids, new Set(['disk0']));
    expect(lines.map((l) => [l.path, l.level, l.expandable])).toEqual([
      ['disk0', 1, true],
      ['disk0/p1', 2, false],
    ]);
    expect(ancestors('a/b/c')).toEqual(['a', 'a/b']);
  });
  it('maps keys like the WAI-ARIA tree pattern', () => {
    const closed = visibleLines(kids, new Set());
    const open = visibleLines(kids, new Set(['disk0']));
    expect(treeKey(closed, 'disk0', 'ArrowRight')).toEqual({ kind: 'expand', path: 'disk0' });
    expect(treeKey(open, 'disk0', 'ArrowRight')).toEqual({ kind: 'focus', path: 'disk0/p1' });
    expect(treeKey(open, 'disk0/p1', 'ArrowRight')).toBeNull();
    expect(treeKey(open, 'disk0/p1', 'ArrowLeft')).toEqual({ kind: 'focus', path: 'disk0' });
    expect(treeKey(open, 'disk0', 'ArrowLeft')).toEqual({ kind: 'collapse', path: 'disk0' });
    expect(treeKey(open, 'disk0', 'Enter')).toEqual({ kind: 'open', path: 'disk0' });
    expect(treeKey(open, 'disk0', 'End')).toEqual({ kind: 'focus', path: 'disk0/p1' });
  });
  it('maps list keys: move, select, open, select all, up', () => {
    expect(listKey('ArrowDown', { ctrl: false, alt: false }, 2, 3)).toEqual({ kind: 'move', index: 2 });
    expect(listKey(' ', { ctrl: false, alt: false }, 0, 3)).toEqual({ kind: 'toggle' });
    expect(listKey('a', { ctrl: true, alt: false }, 0, 3)).toEqual({ kind: 'all' });
    expect(listKey('a', { ctrl: false, alt: false }, 0, 3)).toBeNull();
    expect(listKey('Backspace', { ctrl: false, alt: false }, 0, 0)).toEqual({ kind: 'up' });
  });
});

describe('FileBrowser', () => {
  it('walks into a folder, selects a file and restores it with the keyboard alone', async () => {
    const engine = setup();
    const grid = await screen.findByRole('grid', { name: 'Files' });
    let row = within(grid).getAllByRole('row')[1]!;
    await waitFor(() => expect(document.activeElement === row || row.tabIndex === 0).toBe(true));
    // disk0 → part1 (Enter), the unsupported partition is listed but not browsable
    await key(row, 'Enter');
    await waitFor(() => expect(screen.getByRole('grid', { name: 'Files' }).textContent).toContain('part2'));
    row = document.activeElement as HTMLElement;
    expect(row.dataset.path).toBe('disk0/part1');
    await key(row, 'Enter');
    await waitFor(() => expect(screen.getByRole('grid', { name: 'Files' }).textContent).toContain('readme.txt'));
    row = document.activeElement as HTMLElement;
    await key(row, 'ArrowDown');
    row = document.activeElement as HTMLElement;
    expect(row.dataset.path).toBe('disk0/part1/readme.txt');
    await key(row, ' ');
    expect(row.getAttribute('aria-selected')).toBe('true');
    const restore = screen.getByRole('button', { name: /Restore to folder… \(1\)/ });
    expect(restore).toHaveProperty('disabled', false);
    await act(async () => void restore.click());
    const field = await screen.findByLabelText('Destination folder');
    fireEvent.change(field, { target: { value: '/tmp/out' } });
    await act(async () => void fireEvent.submit(field.closest('form')!));
    await screen.findByTestId('files-restored');
    // keep both is the default the user sees, and what is sent
    expect(engine.calls.find((c) => c.method === 'files.restore')?.req).toEqual({ snapshotId: 's1', paths: ['disk0/part1/readme.txt'], to: '/tmp/out', existing: 'keep-both' });
    expect(screen.getByTestId('files-restored').textContent).toMatch(/Restored 1 file .*1 file already existed: the restored copy was saved beside it under a “\(restored …\)” name\./);
  });

  it('says which guest and restore point it browses; a double-click opens a folder', async () => {
    setup();
    expect((await screen.findByTestId('browsing-point')).textContent).toMatch(/^Browsing Accounting as of .*2026.*\(clean-twin\)$/);
    const grid = await screen.findByRole('grid', { name: 'Files' });
    const disk = within(grid).getAllByRole('row')[1]!;
    await act(async () => void fireEvent.doubleClick(within(disk).getByText('disk0')));
    await waitFor(() => expect(screen.getByRole('grid', { name: 'Files' }).textContent).toContain('part2'));
    expect(screen.getByRole('navigation', { name: 'Folder path' }).textContent).toContain('disk0');
  });

  it('lets the user choose what happens to existing files, refuses a relative destination, and reports each outcome', async () => {
    const engine = setup();
    const grid = await screen.findByRole('grid', { name: 'Files' });
    await act(async () => void fireEvent.click(within(grid).getByRole('checkbox', { name: 'Select disk0' })));
    await act(async () => void screen.getByRole('button', { name: /Restore to folder… \(1\)/ }).click());
    const field = await screen.findByLabelText('Destination folder');
    const restore = screen.getByRole('button', { name: 'Restore' });
    expect(screen.getByRole('radio', { name: /Keep both \(default\)/ })).toHaveProperty('checked', true);
    fireEvent.change(field, { target: { value: 'restored/here' } });
    expect(restore).toHaveProperty('disabled', true);
    expect(screen.getByText(/Enter a full path/)).toBeTruthy();
    await act(async () => void fireEvent.submit(field.closest('form')!));
    expect(engine.calls.some((c) => c.method === 'files.restore')).toBe(false);
    fireEvent.change(field, { target: { value: 'C:\\Restore' } });
    expect(restore).toHaveProperty('disabled', false);
    await act(async () => void fireEvent.click(screen.getByRole('radio', { name: /Overwrite/ })));
    await act(async () => void fireEvent.submit(field.closest('form')!));
    const summary = await screen.findByTestId('files-restored');
    expect(engine.calls.find((c) => c.method === 'files.restore')?.req).toMatchObject({ to: 'C:\\Restore', existing: 'overwrite' });
    expect(summary.textContent).toContain('1 existing file was overwritten.');
    expect(summary.textContent).toContain('1 item failed: disk0/part1/etc/hosts (permission denied).');
  });

  it('shows a lazily loaded folder tree that follows the listing and opens folders by key', async () => {
    const engine = setup();
    const tree = await screen.findByRole('tree', { name: 'Folders' });
    await waitFor(() =>
      expect(
        within(tree)
          .getAllByRole('treeitem')
          .map((t) => t.textContent),
      ).toEqual(['disk0']),
    );
    const disk = within(tree).getByRole('treeitem');
    expect(disk.getAttribute('aria-expanded')).toBe('false');
    await key(disk, 'ArrowRight');
    await waitFor(() =>
      expect(
        within(tree)
          .getAllByRole('treeitem')
          .map((t) => t.textContent),
      ).toEqual(['disk0', 'part1']),
    );
    expect(engine.calls.filter((c) => c.method === 'files.list').map((c) => (c.req as { path: string }).path)).toContain('disk0');
    await key(disk, 'ArrowDown');
    const part = document.activeElement as HTMLElement;
    expect(part.dataset.treePath).toBe('disk0/part1');
    await key(part, 'Enter');
    await waitFor(() => expect(screen.getByRole('grid', { name: 'Files' }).textContent).toContain('readme.txt'));
    expect(within(tree).getByRole('treeitem', { selected: true }).dataset.treePath).toBe('disk0/part1');
    // Breadcrumbs follow; Backspace in the list goes up one level.
    expect(screen.getByRole('navigation', { name: 'Folder path' }).textContent).toContain('part1');
    const first = within(screen.getByRole('grid', { name: 'Files' })).getAllByRole('row')[1]!;
    await key(first, 'Backspace');
    await waitFor(() => expect(screen.getByRole('grid', { name: 'Files' }).textContent).toContain('part2'));
  });
});
